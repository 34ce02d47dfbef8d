//! Just enough HTTP/1.x: read a message head, parse a request line and headers,
//! write a small response.

use std::io::{self, Read, Write};
use std::net::TcpStream;

const MAX_HEAD: usize = 64 * 1024;

/// A request head. `target` is as sent: `host:port`, an absolute URL or a path.
#[derive(Debug)]
pub struct Request {
    pub method: String,
    pub target: String,
    pub version: String,
    pub headers: Vec<(String, String)>,
}

/// Reads up to and including the blank line. Returns the head and whatever
/// bytes came after it in the same reads (a tunnel's or a body's first bytes).
pub fn read_head(stream: &mut impl Read) -> io::Result<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = find(&buf, b"\r\n\r\n") {
            let rest = buf.split_off(end + 4);
            return Ok((String::from_utf8_lossy(&buf).into_owned(), rest));
        }
        if buf.len() > MAX_HEAD {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "head too large"));
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "closed before head",
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

pub fn parse_request(head: &str) -> Option<Request> {
    let mut lines = head.split("\r\n");
    let mut parts = lines.next()?.split(' ');
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let version = parts.next().unwrap_or("HTTP/1.0").to_string();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    (!method.is_empty() && !target.is_empty()).then_some(Request {
        method,
        target,
        version,
        headers,
    })
}

/// The status code of a response head (`HTTP/1.1 200 OK`).
pub fn status_code(head: &str) -> Option<u16> {
    head.split(' ').nth(1)?.parse().ok()
}

/// A complete response, then the connection is done.
pub fn respond(stream: &mut TcpStream, status: u16, content_type: &str, body: &str) {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        502 => "Bad Gateway",
        _ => "Error",
    };
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nX-Content-Type-Options: nosniff\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes());
    let _ = stream.flush();
}

/// Go's `http.Error`: plain text with a trailing newline.
pub fn respond_text(stream: &mut TcpStream, status: u16, text: &str) {
    respond(
        stream,
        status,
        "text/plain; charset=utf-8",
        &format!("{text}\n"),
    );
}

/// The host of `host[:port]` or `[v6][:port]`, and the port or `default_port`.
pub fn split_host_port(authority: &str, default_port: u16) -> Option<(String, u16)> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        (host, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) if !host.contains(':') => (host, Some(port)),
            _ => (authority, None),
        }
    };
    let port = match port {
        Some(p) => p.parse().ok()?,
        None => default_port,
    };
    (!host.is_empty()).then(|| (host.to_string(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines_and_authorities() {
        let r = parse_request("CONNECT a.test:443 HTTP/1.1\r\nHost: a.test:443").unwrap();
        assert_eq!(
            (r.method.as_str(), r.target.as_str()),
            ("CONNECT", "a.test:443")
        );
        assert_eq!(r.headers, [("Host".to_string(), "a.test:443".to_string())]);
        assert_eq!(
            split_host_port("a.test:8080", 80),
            Some(("a.test".into(), 8080))
        );
        assert_eq!(split_host_port("a.test", 443), Some(("a.test".into(), 443)));
        assert_eq!(split_host_port("[::1]:81", 80), Some(("::1".into(), 81)));
        assert_eq!(split_host_port("a:b", 80), None);
        assert_eq!(status_code("HTTP/1.0 404 Not Found"), Some(404));
    }
}
