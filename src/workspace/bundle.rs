//! A git bundle's header, read without git: a bottle wrote it, so nothing in
//! it is trusted until checked.

/// The header of a v2 or v3 bundle and where its pack starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Commits the pack builds on (the receiver must have them).
    pub prerequisites: Vec<String>,
    /// `(object, ref name)` pairs, as the bundle lists them.
    pub refs: Vec<(String, String)>,
    /// Offset of the pack data.
    pub pack_offset: usize,
}

/// Longest header read: a bundle listing more than this is not ours.
const MAX_HEADER: usize = 64 * 1024;

/// Reads the header from the first bytes of a bundle.
pub fn parse(bytes: &[u8]) -> Result<Header, String> {
    let window = &bytes[..bytes.len().min(MAX_HEADER)];
    let end = window
        .windows(2)
        .position(|w| w == b"\n\n")
        .ok_or("no end to the bundle's header within 64 KiB")?;
    let text = std::str::from_utf8(&window[..end]).map_err(|_| "the header is not text")?;
    let mut lines = text.lines();
    match lines.next() {
        Some("# v2 git bundle" | "# v3 git bundle") => {}
        other => {
            return Err(format!(
                "not a git bundle (it starts {:?})",
                other.unwrap_or("")
            ));
        }
    }
    let mut header = Header {
        prerequisites: Vec::new(),
        refs: Vec::new(),
        pack_offset: end + 2,
    };
    for line in lines {
        if let Some(capability) = line.strip_prefix('@') {
            if capability != "object-format=sha1" {
                return Err(format!("unsupported bundle capability `{capability}`"));
            }
        } else if let Some(rest) = line.strip_prefix('-') {
            let object = rest.split(' ').next().unwrap_or("");
            header.prerequisites.push(checked_object(object)?);
        } else {
            let (object, name) = line
                .split_once(' ')
                .ok_or_else(|| format!("a header line is not `object ref`: {line:?}"))?;
            header.refs.push((checked_object(object)?, name.to_owned()));
        }
    }
    Ok(header)
}

fn checked_object(object: &str) -> Result<String, String> {
    if object.len() == 40 && object.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(object.to_ascii_lowercase())
    } else {
        Err(format!("`{object}` is not an object name"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "a1441246b0f4ca775752256ad2091d917f4a0d77";
    const B: &str = "cd578b9e0000000000000000000000000000beef";

    #[test]
    fn reads_refs_prerequisites_and_the_pack_offset() {
        let bundle = format!("# v2 git bundle\n-{B} base\n{A} refs/claude-bottle/out\n\nPACK..");
        let header = parse(bundle.as_bytes()).unwrap();
        assert_eq!(header.prerequisites, [B]);
        assert_eq!(
            header.refs,
            [(A.to_owned(), "refs/claude-bottle/out".into())]
        );
        assert_eq!(&bundle.as_bytes()[header.pack_offset..], b"PACK..");
    }

    #[test]
    fn refuses_what_is_not_a_bundle() {
        assert!(parse(b"PK\x03\x04 zip").is_err());
        assert!(parse(b"# v2 git bundle\nxyz refs/heads/main\n\n").is_err());
        assert!(parse(b"# v3 git bundle\n@object-format=sha256\n\n").is_err());
        let endless = format!("# v2 git bundle\n{}", format!("{A} refs/x\n").repeat(5000));
        assert!(parse(endless.as_bytes()).is_err());
    }
}
