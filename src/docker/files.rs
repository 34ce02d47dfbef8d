//! Files granted to a container, packed as a tar archive for the engine's
//! archive API. Nothing is bind-mounted from the host, so a remote engine
//! works the same and the host's own files are never exposed.

use std::path::Path;

/// One file or directory to create in a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileGrant {
    /// Path inside the container, relative to `/` (e.g. `home/agent/.ssh/config`).
    pub path: String,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    /// `None` for a directory.
    pub contents: Option<Vec<u8>>,
}

impl FileGrant {
    pub fn file(path: impl Into<String>, mode: u32, owner: (u64, u64), contents: Vec<u8>) -> Self {
        Self {
            path: path.into(),
            mode,
            uid: owner.0,
            gid: owner.1,
            contents: Some(contents),
        }
    }

    pub fn dir(path: impl Into<String>, mode: u32, owner: (u64, u64)) -> Self {
        Self {
            path: path.into(),
            mode,
            uid: owner.0,
            gid: owner.1,
            contents: None,
        }
    }
}

/// Packs the grants into an uncompressed tar, in order (list a directory
/// before the files in it).
pub fn tar_archive(grants: &[FileGrant]) -> std::io::Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    for grant in grants {
        let mut header = tar::Header::new_gnu();
        header.set_mode(grant.mode);
        header.set_uid(grant.uid);
        header.set_gid(grant.gid);
        header.set_mtime(0);
        let path = grant.path.trim_start_matches('/');
        if let Some(bytes) = &grant.contents {
            header.set_entry_type(tar::EntryType::Regular);
            header.set_size(bytes.len() as u64);
            builder.append_data(&mut header, path, bytes.as_slice())?;
        } else {
            header.set_entry_type(tar::EntryType::Directory);
            header.set_size(0);
            builder.append_data(&mut header, format!("{path}/"), std::io::empty())?;
        }
    }
    builder.into_inner()
}

/// The contents of the first regular file in a tar archive (what the
/// engine's archive API returns for one file); `None` if it holds none.
pub fn first_regular_file(archive: &[u8]) -> Option<Vec<u8>> {
    use std::io::Read as _;
    let mut archive = tar::Archive::new(archive);
    let entries = archive.entries().ok()?;
    for entry in entries {
        let mut entry = entry.ok()?;
        if entry.header().entry_type() == tar::EntryType::Regular {
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).ok()?;
            return Some(bytes);
        }
    }
    None
}

/// Writes the first regular file of the tar archive in `archive` (read from
/// its start) to `dest`; `false` if it holds none.
pub fn extract_first_file(mut archive: std::fs::File, dest: &Path) -> std::io::Result<bool> {
    use std::io::Seek as _;
    archive.seek(std::io::SeekFrom::Start(0))?;
    let mut archive = tar::Archive::new(archive);
    for entry in archive.entries()? {
        let mut entry = entry?;
        if entry.header().entry_type() == tar::EntryType::Regular {
            let mut out = std::fs::File::create(dest)?;
            std::io::copy(&mut entry, &mut out)?;
            return Ok(true);
        }
    }
    Ok(false)
}

/// Grants for a directory tree on the host, copied under `dest` (files keep
/// their executable bit; everything else gets `0644`/`0755`). Symlinks are
/// skipped: following them could copy files from outside the tree.
pub fn tree_grants(src: &Path, dest: &str, owner: (u64, u64)) -> std::io::Result<Vec<FileGrant>> {
    let mut grants = vec![FileGrant::dir(dest, 0o755, owner)];
    let mut entries: Vec<_> = std::fs::read_dir(src)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let kind = entry.file_type()?;
        let name = entry.file_name();
        let dest_path = format!("{dest}/{}", name.to_string_lossy());
        if kind.is_dir() {
            grants.extend(tree_grants(&entry.path(), &dest_path, owner)?);
        } else if kind.is_file() {
            use std::os::unix::fs::PermissionsExt as _;
            let executable = entry.metadata()?.permissions().mode() & 0o111 != 0;
            let mode = if executable { 0o755 } else { 0o644 };
            grants.push(FileGrant::file(
                dest_path,
                mode,
                owner,
                std::fs::read(entry.path())?,
            ));
        }
    }
    Ok(grants)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    #[test]
    fn archive_keeps_modes_owners_and_order() {
        let grants = vec![
            FileGrant::dir("home/agent/.ssh", 0o700, (1000, 1000)),
            FileGrant::file(
                "/home/agent/.ssh/id_x",
                0o600,
                (1000, 1000),
                b"key".to_vec(),
            ),
        ];
        let bytes = tar_archive(&grants).unwrap();
        let mut archive = tar::Archive::new(bytes.as_slice());
        let entries: Vec<_> = archive
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let h = e.header();
                (
                    e.path().unwrap().display().to_string(),
                    h.mode().unwrap(),
                    h.uid().unwrap(),
                    h.size().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            entries,
            vec![
                ("home/agent/.ssh/".into(), 0o700, 1000, 0),
                ("home/agent/.ssh/id_x".into(), 0o600, 1000, 3),
            ]
        );
    }

    #[test]
    fn tree_grants_copy_files_and_skip_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("SKILL.md"), "# skill").unwrap();
        std::fs::create_dir(dir.path().join("scripts")).unwrap();
        let script = dir.path().join("scripts/run.sh");
        std::fs::write(&script, "#!/bin/sh").unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o700)).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", dir.path().join("leak")).unwrap();

        let grants = tree_grants(dir.path(), "home/agent/.claude/skills/s", (1000, 1000)).unwrap();
        let paths: Vec<_> = grants.iter().map(|g| (g.path.as_str(), g.mode)).collect();
        assert_eq!(
            paths,
            vec![
                ("home/agent/.claude/skills/s", 0o755),
                ("home/agent/.claude/skills/s/SKILL.md", 0o644),
                ("home/agent/.claude/skills/s/scripts", 0o755),
                ("home/agent/.claude/skills/s/scripts/run.sh", 0o755),
            ]
        );
    }
}
