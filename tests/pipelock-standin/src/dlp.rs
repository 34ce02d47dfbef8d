//! Secret scanning of outgoing requests, as pipelock 2.3.0 reports it: a few
//! of its built-in patterns (names and expressions copied from its
//! `internal/config/defaults.go`) and the values of its `secrets_file`.

use regex::Regex;

/// The built-in patterns the stand-in knows: name, expression.
const PATTERNS: &[(&str, &str)] = &[
    ("Anthropic API Key", r"sk-ant-[a-zA-Z0-9\-_]{10,}"),
    (
        "AWS Access ID",
        r"(AKIA|A3T|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ASIA)[A-Z0-9]{16,}",
    ),
    ("GitHub Token", r"gh[pousr]_[A-Za-z0-9_]{36,}"),
    ("GitHub Fine-Grained PAT", r"github_pat_[a-zA-Z0-9_]{36,}"),
    ("npm Token", r"npm_[A-Za-z0-9]{36,}"),
    ("Slack Token", r"xox[bpras]-[0-9a-zA-Z-]{15,}"),
    (
        "Private Key Header",
        r"-----BEGIN\s+(RSA\s+|EC\s+|DSA\s+|OPENSSH\s+)?PRIVATE\s+KEY-----",
    ),
];

/// Headers pipelock's `header_mode: all` leaves out.
const IGNORED_HEADERS: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    "content-type",
    "accept",
    "accept-encoding",
    "user-agent",
];

/// Lines of a secrets file shorter than this are not watched.
const MIN_SECRET_LEN: usize = 16;
/// What pipelock calls a match of a secrets-file value.
pub const KNOWN_SECRET: &str = "Known Secret Leak";

#[derive(Debug)]
pub struct Dlp {
    patterns: Vec<(&'static str, Regex)>,
    secrets: Vec<String>,
}

/// Where a URL's secret was found and what pipelock says about it.
#[derive(Debug, PartialEq)]
pub struct UrlHit {
    pub scanner: &'static str,
    pub reason: String,
    /// pipelock logs the URL as `scheme://host/[redacted]` for this scanner.
    pub redacted: bool,
}

impl Dlp {
    /// The built-in patterns, and the values in `secrets_file` (one a line,
    /// `#` comments and short lines skipped).
    pub fn new(secrets_file: &str) -> Result<Self, String> {
        let patterns = PATTERNS
            .iter()
            .map(|(name, re)| Regex::new(re).map(|re| (*name, re)))
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?;
        let mut secrets = Vec::new();
        if !secrets_file.is_empty() {
            let text = std::fs::read_to_string(secrets_file)
                .map_err(|e| format!("opening secrets file: {e}"))?;
            secrets = text
                .lines()
                .map(str::trim)
                .filter(|l| l.len() >= MIN_SECRET_LEN && !l.starts_with('#'))
                .map(String::from)
                .collect();
        }
        Ok(Self { patterns, secrets })
    }

    /// The first built-in pattern or watched value in `text`.
    fn find(&self, text: &str) -> Option<&str> {
        if let Some((name, _)) = self.patterns.iter().find(|(_, re)| re.is_match(text)) {
            return Some(name);
        }
        self.secrets
            .iter()
            .any(|s| text.contains(s.as_str()))
            .then_some(KNOWN_SECRET)
    }

    pub fn url(&self, url: &str) -> Option<UrlHit> {
        if let Some((name, _)) = self.patterns.iter().find(|(_, re)| re.is_match(url)) {
            return Some(UrlHit {
                scanner: "core_dlp",
                reason: format!("core DLP match: {name} (critical)"),
                redacted: false,
            });
        }
        self.secrets
            .iter()
            .any(|s| url.contains(s.as_str()))
            .then(|| UrlHit {
                scanner: "dlp",
                reason: "known secret leak detected".to_string(),
                redacted: true,
            })
    }

    /// The first header (name) holding a secret, and the pattern's name.
    pub fn headers<'h>(&self, headers: &'h [(String, String)]) -> Option<(&'h str, &str)> {
        headers
            .iter()
            .filter(|(name, _)| !IGNORED_HEADERS.contains(&name.to_ascii_lowercase().as_str()))
            .find_map(|(name, value)| self.find(value).map(|p| (name.as_str(), p)))
    }

    pub fn body(&self, body: &[u8]) -> Option<&str> {
        self.find(&String::from_utf8_lossy(body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dlp(secrets: &str) -> Dlp {
        let path = std::env::temp_dir().join(format!("standin-dlp-{}", std::process::id()));
        std::fs::write(&path, secrets).unwrap();
        let dlp = Dlp::new(path.to_str().unwrap()).unwrap();
        std::fs::remove_file(path).unwrap();
        dlp
    }

    #[test]
    fn patterns_and_watched_values_are_found_where_pipelock_finds_them() {
        let d = dlp("# comment\nshort\na-granted-secret-value-1234\n");
        assert_eq!(
            d.url("https://h/x?k=AKIAIOSFODNN7EXAMPLE"),
            Some(UrlHit {
                scanner: "core_dlp",
                reason: "core DLP match: AWS Access ID (critical)".into(),
                redacted: false
            })
        );
        assert_eq!(
            d.url("https://h/x?k=a-granted-secret-value-1234")
                .unwrap()
                .reason,
            "known secret leak detected"
        );
        assert_eq!(d.url("https://h/x?k=short"), None);
        let headers = vec![
            (
                "User-Agent".to_string(),
                "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789".to_string(),
            ),
            (
                "X-Debug".to_string(),
                "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789".to_string(),
            ),
        ];
        assert_eq!(d.headers(&headers), Some(("X-Debug", "GitHub Token")));
        assert_eq!(d.body(b"n=a-granted-secret-value-1234"), Some(KNOWN_SECRET));
        assert_eq!(d.body(b"key=AKIAIOSFODNN7EXAMPLE"), Some("AWS Access ID"));
        assert_eq!(d.body(b"nothing here"), None);
    }
}
