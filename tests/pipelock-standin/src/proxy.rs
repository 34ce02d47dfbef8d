//! One listener, three jobs, as in pipelock: CONNECT tunnels, absolute-URI
//! HTTP forwarding, and `GET /health`.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::events::{Val, emit};
use crate::http::{
    Request, parse_request, read_head, respond, respond_text, split_host_port, status_code,
};
use crate::intercept;
use crate::ssrf::{self, Refusal};
use crate::state::Shared;

const DIAL_TIMEOUT: Duration = Duration::from_secs(10);
const HEAD_TIMEOUT: Duration = Duration::from_secs(30);

pub fn serve(listener: &TcpListener, shared: &Arc<Shared>) {
    for stream in listener.incoming() {
        match stream {
            Ok(stream) => {
                let shared = Arc::clone(shared);
                thread::spawn(move || handle(stream, &shared));
            }
            Err(e) => eprintln!("pipelock: accept failed: {e}"),
        }
    }
}

/// Who asked, for the log line.
pub struct Caller {
    pub client_ip: String,
    pub request_id: String,
    pub agent: String,
}

fn handle(mut client: TcpStream, shared: &Shared) {
    let _ = client.set_read_timeout(Some(HEAD_TIMEOUT));
    let Ok((head, first_bytes)) = read_head(&mut client) else {
        return;
    };
    let _ = client.set_read_timeout(None);
    let Some(request) = parse_request(&head) else {
        respond_text(&mut client, 400, "bad request");
        return;
    };
    let caller = Caller {
        client_ip: client
            .peer_addr()
            .map(|a| a.ip().to_string())
            .unwrap_or_default(),
        request_id: shared.next_request_id(),
        agent: shared.config().identity,
    };
    if request.method == "CONNECT" {
        tunnel(client, &request, &first_bytes, &caller, shared);
    } else if request.target.contains("://") {
        forward(client, &request, &first_bytes, &caller, shared);
    } else if request.method == "GET" && request.target == "/health" {
        respond(&mut client, 200, "application/json", &shared.health_json());
    } else {
        respond_text(&mut client, 404, "404 page not found");
    }
}

fn tunnel(
    mut client: TcpStream,
    request: &Request,
    first_bytes: &[u8],
    caller: &Caller,
    shared: &Shared,
) {
    let config = shared.config();
    if !config.forward_enabled {
        respond_text(&mut client, 405, "CONNECT not supported");
        return;
    }
    let target = if split_host_port(&request.target, 0).is_some_and(|(_, port)| port != 0) {
        request.target.clone()
    } else {
        format!("{}:443", request.target)
    };
    let Some((host, port)) = split_host_port(&target, 443) else {
        respond_text(&mut client, 400, "bad CONNECT target");
        return;
    };
    let host = ssrf::canonical_host(&host);
    if let Err(refusal) = scan(&config, &host) {
        let reason = &refusal.reason;
        respond_text(&mut client, 403, &format!("CONNECT blocked: {reason}"));
        log_blocked("CONNECT", ("target", &target), &refusal, caller);
        return;
    }
    if let (Some(tls), Some(interceptor)) = (&config.tls, &shared.interceptor)
        && !tls.passes_through(&host)
    {
        let t = intercept::Tunnel {
            host: &host,
            port,
            target: &target,
            caller,
            config: &config,
            interceptor,
            dlp: shared.dlp.as_ref(),
        };
        intercept::run(client, first_bytes.to_vec(), &t);
        return;
    }
    let mut upstream = match dial(&config, &host, port) {
        Ok(upstream) => upstream,
        Err(e) => {
            respond_text(&mut client, 502, "tunnel dial failed");
            log_error("CONNECT", ("target", &target), &e.to_string(), caller);
            return;
        }
    };
    if client
        .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        .is_err()
    {
        return;
    }
    let ids = [
        ("target", Val::Str(&target)),
        ("client_ip", Val::Str(&caller.client_ip)),
        ("request_id", Val::Str(&caller.request_id)),
        ("agent", Val::Str(&caller.agent)),
    ];
    emit("info", "tunnel_open", &ids, "tunnel opened");
    let started = Instant::now();
    let limits = Limits::of(&config);
    let total = if upstream.write_all(first_bytes).is_ok() {
        relay(client, upstream, limits) + first_bytes.len() as u64
    } else {
        0
    };
    let mut fields = ids.into_iter().collect::<Vec<_>>();
    fields.push(("total_bytes", Val::Int(total)));
    fields.push(("duration_ms", Val::Float(millis(started))));
    emit("info", "tunnel_close", &fields, "tunnel closed");
}

fn forward(
    mut client: TcpStream,
    request: &Request,
    first_bytes: &[u8],
    caller: &Caller,
    shared: &Shared,
) {
    let config = shared.config();
    if !config.forward_enabled {
        respond_text(&mut client, 405, "forward proxy not enabled");
        return;
    }
    let url = request.target.as_str();
    let Some(rest) = url.strip_prefix("http://") else {
        respond_text(&mut client, 400, "only http:// URLs can be forwarded");
        return;
    };
    let split = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(split);
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    let Some((host, port)) = split_host_port(authority, 80) else {
        respond_text(&mut client, 400, "bad URL");
        return;
    };
    let host = ssrf::canonical_host(&host);
    if let Err(refusal) = scan(&config, &host) {
        respond_text(&mut client, 403, &format!("blocked: {}", refusal.reason));
        log_blocked(&request.method, ("url", url), &refusal, caller);
        return;
    }
    let mut body = first_bytes.to_vec();
    if intercept::read_body(&mut client, &request.headers, &mut body).is_err() {
        return;
    }
    if let Some(dlp) = &shared.dlp
        && refuse_secrets(&mut client, dlp, request, url, &body, caller)
    {
        return;
    }
    let started = Instant::now();
    let result = dial(&config, &host, port).and_then(|mut upstream| {
        let path = if path.starts_with('/') {
            path.to_string()
        } else {
            format!("/{path}")
        };
        upstream.write_all(origin_form(request, &path, authority, body.len()).as_bytes())?;
        upstream.write_all(&body)?;
        relay_response(&mut client, upstream)
    });
    match result {
        Ok(None) => {
            let reason = "compressed response cannot be scanned";
            respond_text(&mut client, 403, &format!("blocked: {reason}"));
            let redacted = format!("http://{authority}/[redacted]");
            let refusal = Refusal {
                scanner: "response_scan",
                reason: reason.to_string(),
            };
            log_blocked(&request.method, ("url", &redacted), &refusal, caller);
        }
        Ok(Some((status, size))) => {
            let fields = [
                ("method", Val::Str(&request.method)),
                ("url", Val::Str(url)),
                ("client_ip", Val::Str(&caller.client_ip)),
                ("request_id", Val::Str(&caller.request_id)),
                ("agent", Val::Str(&caller.agent)),
                ("status_code", Val::Int(u64::from(status))),
                ("size_bytes", Val::Int(size)),
                ("duration_ms", Val::Float(millis(started))),
            ];
            emit("info", "forward_http", &fields, "forward proxy request");
        }
        Err(e) => {
            respond_text(&mut client, 502, "forward proxy fetch failed");
            log_error(&request.method, ("url", url), &e.to_string(), caller);
        }
    }
    let _ = client.shutdown(Shutdown::Both);
}

/// Refuses a plain-HTTP request carrying a secret as pipelock does: in the
/// URL a `blocked` line; in a header or the body its own `header_dlp` or
/// `body_dlp` line with action block. Returns whether it refused.
fn refuse_secrets(
    client: &mut TcpStream,
    dlp: &crate::dlp::Dlp,
    request: &Request,
    url: &str,
    body: &[u8],
    caller: &Caller,
) -> bool {
    if let Some(hit) = dlp.url(url) {
        respond_text(client, 403, &format!("blocked: {}", hit.reason));
        let refusal = Refusal {
            scanner: hit.scanner,
            reason: hit.reason,
        };
        log_blocked(&request.method, ("url", url), &refusal, caller);
        return true;
    }
    let (event, header, pattern, answer, message) =
        if let Some((header, pattern)) = dlp.headers(&request.headers) {
            let answer = "blocked: request header contains secret".to_string();
            (
                "header_dlp",
                header,
                pattern,
                answer,
                "request header DLP scan hit",
            )
        } else if let Some(pattern) = dlp.body(body) {
            let answer = format!("blocked: request body contains secret: {pattern}");
            ("body_dlp", "", pattern, answer, "request body DLP scan hit")
        } else {
            return false;
        };
    respond_text(client, 403, &answer);
    let patterns = format!("[\"{pattern}\"]");
    let mut fields = vec![
        ("method", Val::Str(&request.method)),
        ("url", Val::Str(url)),
        ("header", Val::Str(header)),
        ("action", Val::Str("block")),
        ("client_ip", Val::Str(&caller.client_ip)),
        ("request_id", Val::Str(&caller.request_id)),
        ("agent", Val::Str(&caller.agent)),
    ];
    if event == "body_dlp" {
        fields.push(("match_count", Val::Int(1)));
    }
    fields.push(("patterns", Val::Raw(&patterns)));
    fields.push(("mitre_technique", Val::Str("T1048")));
    emit("warn", event, &fields, message);
    true
}

/// The request as the origin server expects it: path only, no hop-by-hop
/// headers, one request per connection, the body's length stated.
fn origin_form(request: &Request, path: &str, authority: &str, body_len: usize) -> String {
    let hop_by_hop = [
        "connection",
        "proxy-connection",
        "keep-alive",
        "proxy-authorization",
        "te",
        "upgrade",
        "content-length",
        "transfer-encoding",
    ];
    let mut head = format!("{} {path} {}\r\n", request.method, request.version);
    let mut has_host = false;
    for (name, value) in &request.headers {
        let lower = name.to_ascii_lowercase();
        has_host |= lower == "host";
        if !hop_by_hop.contains(&lower.as_str()) {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    if !has_host {
        head.push_str(&format!("Host: {authority}\r\n"));
    }
    if body_len > 0
        || request
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-length"))
    {
        head.push_str(&format!("Content-Length: {body_len}\r\n"));
    }
    head.push_str("Connection: close\r\n\r\n");
    head
}

/// Copies the response back; returns the status code and the response
/// body's size, or `None` for a compressed response (pipelock cannot scan
/// one and refuses it; its core response patterns are always on).
fn relay_response(
    client: &mut TcpStream,
    mut upstream: TcpStream,
) -> io::Result<Option<(u16, u64)>> {
    let (head, first_body) = read_head(&mut upstream)?;
    let compressed = head.lines().any(|l| {
        l.to_ascii_lowercase()
            .strip_prefix("content-encoding:")
            .is_some_and(|v| !v.trim().is_empty() && v.trim() != "identity")
    });
    if compressed {
        return Ok(None);
    }
    let status = status_code(&head).unwrap_or(0);
    client.write_all(head.as_bytes())?;
    client.write_all(&first_body)?;
    let copied = io::copy(&mut upstream, client)?;
    Ok(Some((status, first_body.len() as u64 + copied)))
}

/// A tunnel's time limits (`forward_proxy`).
#[derive(Clone, Copy)]
struct Limits {
    idle: Duration,
    deadline: Instant,
}

impl Limits {
    fn of(config: &Config) -> Self {
        Self {
            idle: Duration::from_secs(config.tunnel_idle_seconds),
            deadline: Instant::now() + Duration::from_secs(config.tunnel_max_seconds),
        }
    }
}

/// Relays both ways as pipelock's `bidirectionalCopy` does: each direction
/// ends when its reader is quiet for the idle limit, hits EOF, or the
/// tunnel's deadline passes, and then half-closes towards its writer; the
/// tunnel ends with the server-to-client direction. Returns the bytes moved.
fn relay(client: TcpStream, upstream: TcpStream, limits: Limits) -> u64 {
    let (Ok(from_client), Ok(to_upstream)) = (client.try_clone(), upstream.try_clone()) else {
        return 0;
    };
    let up = thread::spawn(move || {
        let n = copy_with_idle(from_client, &to_upstream, limits);
        let _ = to_upstream.shutdown(Shutdown::Write);
        n
    });
    let down = copy_with_idle(upstream.try_clone().unwrap_or(upstream), &client, limits);
    let _ = client.shutdown(Shutdown::Write);
    let total = down + up.join().unwrap_or(0);
    let _ = client.shutdown(Shutdown::Both);
    total
}

fn copy_with_idle(mut from: TcpStream, mut to: &TcpStream, limits: Limits) -> u64 {
    let mut buf = [0u8; 32 * 1024];
    let mut total = 0;
    loop {
        let left = limits.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return total;
        }
        let _ = from.set_read_timeout(Some(limits.idle.min(left)));
        match from.read(&mut buf) {
            Ok(0) | Err(_) => return total,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    return total;
                }
                total += n as u64;
            }
        }
    }
}

/// The URL checks pipelock runs before connecting, in its order (allowlist,
/// then SSRF; no blocklist, DLP, entropy or rate limit here).
fn scan(config: &Config, host: &str) -> Result<(), Refusal> {
    if !config.allows(host) {
        return Err(Refusal {
            scanner: "allowlist",
            reason: format!("domain not in allowlist: {host}"),
        });
    }
    ssrf::check(config, host)
}

/// Resolves again with pipelock's dial-time SSRF check, then connects to
/// the first address. Errors read like Go's (`dial tcp A: connect: ...`).
pub fn dial(config: &Config, host: &str, port: u16) -> io::Result<TcpStream> {
    let addr = ssrf::dial_addr(config, host, port)?;
    TcpStream::connect_timeout(&addr, DIAL_TIMEOUT).map_err(|e| {
        let what = match e.kind() {
            io::ErrorKind::ConnectionRefused => "connect: connection refused".to_string(),
            io::ErrorKind::TimedOut => "i/o timeout".to_string(),
            _ => format!("connect: {e}"),
        };
        io::Error::new(e.kind(), format!("dial tcp {addr}: {what}"))
    })
}

fn log_blocked(method: &str, what: (&str, &str), refusal: &Refusal, caller: &Caller) {
    // internal/audit/technique.go
    let technique = match refusal.scanner {
        "ssrf" | "core_ssrf" => "T1046",
        _ => "T1071.001",
    };
    let fields = [
        ("method", Val::Str(method)),
        (what.0, Val::Str(what.1)),
        ("client_ip", Val::Str(&caller.client_ip)),
        ("request_id", Val::Str(&caller.request_id)),
        ("scanner", Val::Str(refusal.scanner)),
        ("reason", Val::Str(&refusal.reason)),
        ("agent", Val::Str(&caller.agent)),
        ("mitre_technique", Val::Str(technique)),
    ];
    emit("warn", "blocked", &fields, "request blocked");
}

fn log_error(method: &str, what: (&str, &str), error: &str, caller: &Caller) {
    let fields = [
        ("method", Val::Str(method)),
        (what.0, Val::Str(what.1)),
        ("client_ip", Val::Str(&caller.client_ip)),
        ("request_id", Val::Str(&caller.request_id)),
        ("agent", Val::Str(&caller.agent)),
        ("error", Val::Str(error)),
    ];
    emit("error", "error", &fields, "request error");
}

fn millis(since: Instant) -> f64 {
    // Three decimals, like the durations pipelock prints.
    (since.elapsed().as_secs_f64() * 1_000_000.0).round() / 1000.0
}
