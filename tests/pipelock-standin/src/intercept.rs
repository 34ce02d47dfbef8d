//! A CONNECT tunnel opened with the bottle's CA, as pipelock's
//! `internal/proxy/intercept.go` does it: the client's TLS ends here, each
//! request is scanned for secrets and, if clean, sent to the real server
//! over a TLS connection of the stand-in's own.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};

use rustls::pki_types::ServerName;
use rustls::{ClientConnection, ServerConnection, StreamOwned};

use crate::config::Config;
use crate::dlp::Dlp;
use crate::events::{Val, emit};
use crate::http::{parse_request, read_head};
use crate::proxy::Caller;
use crate::tls::Interceptor;

/// A request body larger than this is refused (pipelock: `max_body_bytes`,
/// fail-closed).
const MAX_BODY: usize = 128 << 20;

/// What a tunnel to `host:port` needs.
pub struct Tunnel<'a> {
    pub host: &'a str,
    pub port: u16,
    pub target: &'a str,
    pub caller: &'a Caller,
    pub config: &'a Config,
    pub interceptor: &'a Interceptor,
    pub dlp: Option<&'a Dlp>,
}

/// Bytes the client sent with its CONNECT, read again before the socket.
struct Prefixed {
    prefix: Vec<u8>,
    at: usize,
    inner: TcpStream,
}

impl Read for Prefixed {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.at < self.prefix.len() {
            let n = buf.len().min(self.prefix.len() - self.at);
            buf[..n].copy_from_slice(&self.prefix[self.at..self.at + n]);
            self.at += n;
            return Ok(n);
        }
        self.inner.read(buf)
    }
}

impl Write for Prefixed {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Answers the CONNECT, opens the client's TLS and serves one request.
pub fn run(mut client: TcpStream, first_bytes: Vec<u8>, t: &Tunnel<'_>) {
    if client
        .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        .is_err()
    {
        return;
    }
    let ids = caller_fields(t.caller);
    let mut fields = vec![
        ("method", Val::Str("CONNECT")),
        ("target", Val::Str(t.target)),
    ];
    fields.extend(ids.iter().take(3).cloned());
    fields.push(("scanner", Val::Str("tls_intercept")));
    fields.push(("mitre_technique", Val::Str("T1557")));
    fields.push(("reason", Val::Str("TLS MITM interception active")));
    fields.push(("score", Val::Int(0)));
    emit("warn", "anomaly", &fields, "anomaly detected");

    let server = match t.interceptor.server_for(t.host) {
        Ok(config) => config,
        Err(e) => return tls_failed(&client, t, &e),
    };
    let Ok(conn) = ServerConnection::new(server) else {
        return;
    };
    let socket = Prefixed {
        prefix: first_bytes,
        at: 0,
        inner: match client.try_clone() {
            Ok(s) => s,
            Err(_) => return,
        },
    };
    let mut tls = StreamOwned::new(conn, socket);
    while tls.conn.is_handshaking() {
        if let Err(e) = tls.conn.complete_io(&mut tls.sock) {
            return tls_failed(&client, t, &handshake_reason(&e));
        }
    }
    serve_one(&mut tls, t);
    tls.conn.send_close_notify();
    let _ = tls.flush();
    let _ = client.shutdown(Shutdown::Both);
}

/// Go's wording for the two failures tests meet: not TLS, or a client that
/// refused the certificate.
fn handshake_reason(e: &io::Error) -> String {
    let text = e.to_string();
    if text.contains("InvalidContentType")
        || text.contains("invalid content type")
        || text.contains("corrupt message")
    {
        "tls: first record does not look like a TLS handshake".to_string()
    } else {
        text
    }
}

fn tls_failed(client: &TcpStream, t: &Tunnel<'_>, reason: &str) {
    let ids = caller_fields(t.caller);
    let mut fields = vec![
        ("method", Val::Str("CONNECT")),
        ("target", Val::Str(t.target)),
    ];
    fields.extend(ids.iter().take(2).cloned());
    fields.push(("scanner", Val::Str("tls_handshake_error")));
    fields.push(("reason", Val::Str(reason)));
    fields.push(ids[2]);
    fields.push(("mitre_technique", Val::Str("T1573")));
    emit("warn", "blocked", &fields, "request blocked");
    let error = format!("client TLS handshake: {reason}");
    let mut fields = vec![
        ("method", Val::Str("CONNECT")),
        ("target", Val::Str(t.target)),
    ];
    fields.extend(ids.iter().cloned());
    fields.push(("error", Val::Str(&error)));
    emit("error", "error", &fields, "request error");
    let _ = client.shutdown(Shutdown::Both);
}

fn caller_fields(c: &Caller) -> [(&'static str, Val<'_>); 3] {
    [
        ("client_ip", Val::Str(&c.client_ip)),
        ("request_id", Val::Str(&c.request_id)),
        ("agent", Val::Str(&c.agent)),
    ]
}

/// Reads one request, refuses it if it carries a secret, else relays it.
fn serve_one(tls: &mut impl ReadWrite, t: &Tunnel<'_>) {
    let Ok((head, mut body)) = read_head(tls) else {
        return;
    };
    let Some(request) = parse_request(&head) else {
        return;
    };
    if read_body(tls, &request.headers, &mut body).is_err() {
        return;
    }
    let authority = if t.port == 443 {
        t.host.to_string()
    } else {
        format!("{}:{}", t.host, t.port)
    };
    let url = format!("https://{authority}{}", request.target);
    let redacted = format!("https://{authority}/[redacted]");
    if let Some(dlp) = t.dlp {
        let refusal = if let Some(hit) = dlp.url(&url) {
            let shown = if hit.redacted { &redacted } else { &url };
            Some((hit.scanner, hit.reason, shown.clone()))
        } else if dlp.headers(&request.headers).is_some() {
            Some((
                "header_dlp",
                "request header contains secret".to_string(),
                redacted.clone(),
            ))
        } else {
            dlp.body(&body).map(|name| {
                (
                    "body_dlp",
                    format!("request body contains secret: {name}"),
                    redacted.clone(),
                )
            })
        };
        if let Some((scanner, reason, shown)) = refusal {
            log_blocked(&request.method, &shown, scanner, &reason, t.caller);
            respond(tls, 403, &format!("blocked: {reason}\n"));
            return;
        }
    }
    match fetch(&request.method, &request.target, &request.headers, &body, t) {
        Ok(response) => {
            let _ = tls.write_all(&response);
        }
        Err(Fetch::Compressed) => {
            let reason = "compressed response cannot be scanned";
            log_blocked(
                &request.method,
                &redacted,
                "tls_response_blocked",
                reason,
                t.caller,
            );
            respond(tls, 403, &format!("blocked: {reason}\n"));
        }
        Err(Fetch::Failed(e)) => {
            let ids = caller_fields(t.caller);
            let mut fields = vec![
                ("method", Val::Str(&request.method)),
                ("url", Val::Str(&url)),
            ];
            fields.extend(ids.iter().cloned());
            fields.push(("error", Val::Str(&e)));
            emit("error", "error", &fields, "request error");
            respond(tls, 502, "upstream error\n");
        }
    }
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

/// The rest of the body after the head: by Content-Length, or chunked.
pub fn read_body(
    r: &mut impl Read,
    headers: &[(String, String)],
    body: &mut Vec<u8>,
) -> io::Result<()> {
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    if let Some(len) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        if len > MAX_BODY {
            return Err(io::Error::other("body too large"));
        }
        while body.len() < len {
            let mut chunk = vec![0u8; (len - body.len()).min(64 * 1024)];
            let n = r.read(&mut chunk)?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
        body.truncate(len);
    } else if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        let mut raw = std::mem::take(body);
        let mut buf = [0u8; 64 * 1024];
        while !raw.windows(5).any(|w| w == b"0\r\n\r\n") {
            let n = r.read(&mut buf)?;
            if n == 0 || raw.len() > MAX_BODY {
                break;
            }
            raw.extend_from_slice(&buf[..n]);
        }
        *body = dechunk(&raw);
    } else {
        body.clear();
    }
    Ok(())
}

fn dechunk(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(eol) = raw[at..].windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&raw[at..at + eol]).trim(), 16)
            .unwrap_or(0);
        at += eol + 2;
        if size == 0 || at + size > raw.len() {
            break;
        }
        out.extend_from_slice(&raw[at..at + size]);
        at += size + 2;
    }
    out
}

enum Fetch {
    Compressed,
    Failed(String),
}

/// The request sent to the real server over TLS (one request, no
/// compression asked for, as pipelock strips Accept-Encoding); its whole
/// response, up to `max_response_bytes`.
fn fetch(
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: &[u8],
    t: &Tunnel<'_>,
) -> Result<Vec<u8>, Fetch> {
    let failed = |e: String| Fetch::Failed(e);
    let socket = crate::proxy::dial(t.config, t.host, t.port).map_err(|e| failed(e.to_string()))?;
    let name = ServerName::try_from(t.host.to_string()).map_err(|e| failed(e.to_string()))?;
    let conn =
        ClientConnection::new(t.interceptor.client(), name).map_err(|e| failed(e.to_string()))?;
    let mut upstream = StreamOwned::new(conn, socket);
    let skip = [
        "connection",
        "proxy-connection",
        "keep-alive",
        "accept-encoding",
        "content-length",
        "transfer-encoding",
        "te",
        "upgrade",
    ];
    let mut head = format!("{method} {path} HTTP/1.1\r\n");
    for (k, v) in headers {
        if !skip.contains(&k.to_ascii_lowercase().as_str()) {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    if !body.is_empty() || method == "POST" || method == "PUT" {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("Connection: close\r\n\r\n");
    upstream
        .write_all(head.as_bytes())
        .map_err(|e| failed(e.to_string()))?;
    upstream
        .write_all(body)
        .map_err(|e| failed(e.to_string()))?;
    upstream.flush().map_err(|e| failed(e.to_string()))?;
    let limit = t
        .config
        .tls
        .as_ref()
        .map_or(5 << 20, |tls| tls.max_response_bytes);
    let mut response = Vec::new();
    let mut buf = [0u8; 64 * 1024];
    loop {
        match upstream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => response.extend_from_slice(&buf[..n]),
            // Servers often close without close_notify: the response is whole.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(failed(e.to_string())),
        }
        if response.len() as u64 > limit {
            return Err(failed("response too large".to_string()));
        }
    }
    let head_end = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(response.len());
    let head = String::from_utf8_lossy(&response[..head_end]).to_ascii_lowercase();
    let compressed = head.lines().any(|l| {
        l.strip_prefix("content-encoding:")
            .is_some_and(|v| !v.trim().is_empty() && v.trim() != "identity")
    });
    if compressed {
        return Err(Fetch::Compressed);
    }
    Ok(response)
}

fn respond(w: &mut impl Write, status: u16, text: &str) {
    let reason = if status == 403 {
        "Forbidden"
    } else {
        "Bad Gateway"
    };
    let _ = write!(
        w,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    );
    let _ = w.flush();
}

fn log_blocked(method: &str, url: &str, scanner: &str, reason: &str, caller: &Caller) {
    let fields = [
        ("method", Val::Str(method)),
        ("url", Val::Str(url)),
        ("client_ip", Val::Str(&caller.client_ip)),
        ("request_id", Val::Str(&caller.request_id)),
        ("scanner", Val::Str(scanner)),
        ("reason", Val::Str(reason)),
        ("agent", Val::Str(&caller.agent)),
        ("mitre_technique", Val::Str("T1048")),
    ];
    emit("warn", "blocked", &fields, "request blocked");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_bodies_are_joined() {
        assert_eq!(dechunk(b"4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n"), b"abcdefg");
        assert_eq!(dechunk(b"0\r\n\r\n"), b"");
    }

    #[test]
    fn a_body_is_read_by_its_length() {
        let headers = vec![("Content-Length".to_string(), "5".to_string())];
        let mut body = b"he".to_vec();
        read_body(&mut &b"llo and more"[..], &headers, &mut body).unwrap();
        assert_eq!(body, b"hello");
    }
}
