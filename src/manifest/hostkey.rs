//! `KnownHostKey` checks: a `known_hosts` line of exactly `host keytype base64`,
//! whose key `ssh-key` parses as ssh would.

use super::fields::Problem;

/// Key types `ssh` accepts in `known_hosts`.
pub const KEY_TYPES: &[&str] = &[
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
];

/// The host field `ssh` looks up for this `Hostname` and `Port`.
pub fn expected_host_field(hostname: &str, port: Option<u16>) -> String {
    match port {
        Some(p) if p != 22 => format!("[{hostname}]:{p}"),
        _ => hostname.to_string(),
    }
}

/// Checks the line against the entry's `Hostname` and `Port`.
pub fn check_known_host_key(line: &str, hostname: &str, port: Option<u16>) -> Result<(), Problem> {
    let how =
        "copy the line for this host from `ssh-keyscan -p PORT HOST` or your `~/.ssh/known_hosts`";
    let fields: Vec<&str> = line.split(' ').collect();
    if fields.len() != 3 || fields.iter().any(|f| f.is_empty()) {
        if line.split_whitespace().count() == 3 {
            return Err(Problem::new(
                "fields must be separated by single spaces, `host keytype base64`; found extra spaces or tabs",
            )
            .hint(how));
        }
        return Err(Problem::new(format!(
            "expected 3 fields separated by single spaces, `host keytype base64`, found {} fields",
            line.split_whitespace().count()
        ))
        .hint(how));
    }
    let (hosts, key_type, blob) = (fields[0], fields[1], fields[2]);
    if !KEY_TYPES.contains(&key_type) {
        let p = Problem::new(format!(
            "`{}` is not an ssh key type; expected one of {}",
            super::fields::shown(key_type),
            super::keys::list(KEY_TYPES.iter().copied())
        ));
        return Err(
            match super::keys::closest(key_type, KEY_TYPES.iter().copied()) {
                Some(c) => p.hint(format!("did you mean `{c}`?")),
                None => p,
            },
        );
    }
    let Some(bytes) = decode_base64(blob) else {
        return Err(Problem::new("the key (third field) is not valid base64").hint(how));
    };
    // The blob is parsed as ssh would: its own algorithm name, then the key
    // itself (a point on the curve, a modulus), each checked.
    let key = ssh_key::PublicKey::from_bytes(&bytes).map_err(|e| {
        Problem::new(format!(
            "the key data is not a valid `{key_type}` key ({e})"
        ))
        .hint(how)
    })?;
    let inner = key.algorithm();
    if inner.as_str() != key_type {
        return Err(Problem::new(format!(
            "the key data is not an `{key_type}` key (it says `{}`)",
            super::fields::shown(inner.as_str())
        ))
        .hint(how));
    }
    let expected = expected_host_field(hostname, port);
    if hosts.starts_with('|') {
        return Err(Problem::new("hashed host names are not supported")
            .hint(format!("write the host field as `{expected}`")));
    }
    let matches = hosts.split(',').any(|h| {
        h.eq_ignore_ascii_case(&expected)
            || (port == Some(22) && h.eq_ignore_ascii_case(&format!("[{hostname}]:22")))
    });
    if !matches {
        return Err(Problem::new(format!(
            "the host field `{}` does not match this entry's Hostname and Port",
            super::fields::shown(hosts)
        ))
        .hint(format!("ssh will look up `{expected}`")));
    }
    Ok(())
}

/// Decodes padded standard base64 (RFC 4648), the form `known_hosts` uses.
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    fn sextet(c: u8) -> Option<u32> {
        Some(u32::from(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        }))
    }
    let bytes = text.as_bytes();
    if bytes.is_empty() || bytes.len() % 4 != 0 {
        return None;
    }
    let padding = bytes.iter().rev().take_while(|&&c| c == b'=').count();
    if padding > 2 {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for (i, chunk) in bytes.chunks(4).enumerate() {
        let last = i == bytes.len() / 4 - 1;
        let pad = if last { padding } else { 0 };
        let mut acc = 0u32;
        for &c in &chunk[..4 - pad] {
            acc = (acc << 6) | sextet(c)?;
        }
        acc <<= 6 * pad;
        let [_, a, b, c] = acc.to_be_bytes();
        out.extend_from_slice(&[a, b, c][..3 - pad]);
    }
    Some(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;

    /// A real ed25519 public key (from `ssh-keygen -t ed25519`).
    pub const ED25519: &str =
        "AAAAC3NzaC1lZDI1NTE5AAAAIFt5NmYWJAkKdKD/BslmhuYtKK8ir0DMLTGv2cdHR93k";

    #[test]
    fn base64_round_trips_known_values() {
        assert_eq!(decode_base64("TWFu").unwrap(), b"Man");
        assert_eq!(decode_base64("TWE=").unwrap(), b"Ma");
        assert_eq!(decode_base64("TQ==").unwrap(), b"M");
        assert!(decode_base64("TQ=").is_none());
        assert!(decode_base64("T===").is_none());
        assert!(decode_base64("TW=u").is_none());
        assert!(decode_base64("TW!u").is_none());
        assert!(decode_base64("").is_none());
    }

    #[test]
    fn accepts_a_matching_line() {
        let line = format!("git.example.com ssh-ed25519 {ED25519}");
        assert!(check_known_host_key(&line, "git.example.com", None).is_ok());
        assert!(check_known_host_key(&line, "git.example.com", Some(22)).is_ok());
        let with_port = format!("[git.example.com]:2222,10.0.0.1 ssh-ed25519 {ED25519}");
        assert!(check_known_host_key(&with_port, "git.example.com", Some(2222)).is_ok());
    }

    #[test]
    fn explains_what_is_wrong() {
        let msg =
            |line: &str, port| check_known_host_key(line, "git.example.com", port).unwrap_err();
        assert!(
            msg("git.example.com ssh-ed25519", None)
                .message
                .contains("3 fields")
        );
        let e = msg(&format!("git.example.com ssh-ed2519 {ED25519}"), None);
        assert_eq!(e.hint.as_deref(), Some("did you mean `ssh-ed25519`?"));
        assert!(
            msg("git.example.com ssh-ed25519 AAAA$$$$", None)
                .message
                .contains("base64")
        );
        assert!(
            msg(&format!("git.example.com ssh-rsa {ED25519}"), None)
                .message
                .contains("it says `ssh-ed25519`")
        );
        let e = msg(
            &format!("git.example.com ssh-ed25519 {ED25519}"),
            Some(2222),
        );
        assert_eq!(
            e.hint.as_deref(),
            Some("ssh will look up `[git.example.com]:2222`")
        );
        assert!(
            msg(&format!("|1|abc ssh-ed25519 {ED25519}"), None)
                .message
                .contains("hashed")
        );
    }

    #[test]
    fn a_key_whose_data_is_broken_is_refused() {
        let msg = |line: &str| check_known_host_key(line, "git.example.com", None).unwrap_err();
        // The right type name, but 31 bytes of key where ed25519 has 32.
        let mut blob = decode_base64(ED25519).unwrap();
        blob.pop();
        let short = base64(&blob);
        let e = msg(&format!("git.example.com ssh-ed25519 {short}"));
        assert!(e.message.contains("not a valid `ssh-ed25519` key"), "{e:?}");
        // A P-256 key whose point is not on the curve's encoding.
        let mut ecdsa = Vec::new();
        for part in [&b"ecdsa-sha2-nistp256"[..], b"nistp256", &[0x04; 65]] {
            ecdsa.extend_from_slice(&u32::try_from(part.len()).unwrap().to_be_bytes());
            ecdsa.extend_from_slice(part);
        }
        let point = ecdsa.len() - 65;
        ecdsa[point] = 0x09;
        let e = msg(&format!(
            "git.example.com ecdsa-sha2-nistp256 {}",
            base64(&ecdsa)
        ));
        assert!(
            e.message.contains("not a valid `ecdsa-sha2-nistp256` key"),
            "{e:?}"
        );
    }

    /// Standard padded base64, for building test keys.
    fn base64(bytes: &[u8]) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let mut n = [0u8; 3];
            n[..chunk.len()].copy_from_slice(chunk);
            let v = u32::from_be_bytes([0, n[0], n[1], n[2]]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(char::from(ALPHABET[((v >> (18 - 6 * i)) & 63) as usize]));
                } else {
                    out.push('=');
                }
            }
        }
        out
    }
}
