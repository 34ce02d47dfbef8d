//! The copy as a tar stream for the engine's archive API: made on a thread
//! while the engine reads it, so a large repository is never held in memory.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use tokio::sync::mpsc;

/// Bytes handed to the engine at a time.
const CHUNK: usize = 256 * 1024;
/// Chunks made ahead of the engine's reading (so at most 2 MiB waits).
const AHEAD: usize = 8;

/// The files under `dir` as tar entries under `prefix` (no leading `/`),
/// owned by `owner`, as a stream of chunks. The folder itself is not an
/// entry: the image already has it. The stream ends with an error if the
/// folder cannot be read.
pub fn stream(
    dir: PathBuf,
    prefix: String,
    owner: (u64, u64),
) -> mpsc::Receiver<io::Result<Bytes>> {
    let (tx, rx) = mpsc::channel(AHEAD);
    std::thread::spawn(move || {
        let mut writer = ChannelWriter {
            tx: tx.clone(),
            buf: Vec::with_capacity(CHUNK),
        };
        let made = write(&dir, &prefix, owner, &mut writer).and_then(|()| writer.flush());
        if let Err(e) = made {
            let _ = tx.blocking_send(Err(e));
        }
    });
    rx
}

/// Writes the tar of `dir` (see [`stream`]) to `out`.
pub fn write(dir: &Path, prefix: &str, owner: (u64, u64), out: impl Write) -> io::Result<()> {
    let mut builder = tar::Builder::new(out);
    builder.mode(tar::HeaderMode::Deterministic);
    add_children(&mut builder, dir, Path::new(prefix), owner)?;
    builder.into_inner()?.flush()
}

fn add_children<W: Write>(
    builder: &mut tar::Builder<W>,
    dir: &Path,
    at: &Path,
    owner: (u64, u64),
) -> io::Result<()> {
    let mut entries: Vec<fs::DirEntry> = fs::read_dir(dir)?.collect::<io::Result<_>>()?;
    entries.sort_by_key(fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        let name = at.join(entry.file_name());
        let meta = fs::symlink_metadata(&path)?;
        let mut header = tar::Header::new_gnu();
        header.set_metadata_in_mode(&meta, tar::HeaderMode::Deterministic);
        header.set_uid(owner.0);
        header.set_gid(owner.1);
        if meta.file_type().is_symlink() {
            header.set_entry_type(tar::EntryType::Symlink);
            header.set_size(0);
            builder.append_link(&mut header, &name, fs::read_link(&path)?)?;
        } else if meta.is_dir() {
            header.set_entry_type(tar::EntryType::Directory);
            header.set_mode(0o755);
            header.set_size(0);
            builder.append_data(&mut header, &name, io::empty())?;
            add_children(builder, &path, &name, owner)?;
        } else if meta.is_file() {
            // Executable or not, never set-id: the bottle has no use for it.
            let exec = std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o111;
            header.set_mode(if exec == 0 { 0o644 } else { 0o755 });
            builder.append_data(&mut header, &name, fs::File::open(&path)?)?;
        }
    }
    Ok(())
}

/// A `Write` whose bytes go, in chunks, to the task that uploads them.
struct ChannelWriter {
    tx: mpsc::Sender<io::Result<Bytes>>,
    buf: Vec<u8>,
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the upload stopped"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_carry_the_owner_and_no_set_id_bits() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("sub")).unwrap();
        fs::write(dir.path().join("sub/a.txt"), "a").unwrap();
        fs::write(dir.path().join("run.sh"), "#!/bin/sh").unwrap();
        let mode = fs::Permissions::from_mode(0o4755);
        fs::set_permissions(dir.path().join("run.sh"), mode).unwrap();
        std::os::unix::fs::symlink("sub/a.txt", dir.path().join("link")).unwrap();
        let mut tar_bytes = Vec::new();
        write(dir.path(), "home/agent/work", (1000, 1000), &mut tar_bytes).unwrap();
        let mut archive = tar::Archive::new(tar_bytes.as_slice());
        let mut seen = Vec::new();
        for entry in archive.entries().unwrap() {
            let entry = entry.unwrap();
            let h = entry.header();
            assert_eq!((h.uid().unwrap(), h.gid().unwrap()), (1000, 1000));
            seen.push((
                entry.path().unwrap().display().to_string(),
                h.mode().unwrap(),
            ));
        }
        assert_eq!(
            seen,
            [
                ("home/agent/work/link".to_owned(), 0o755),
                ("home/agent/work/run.sh".to_owned(), 0o755),
                ("home/agent/work/sub".to_owned(), 0o755),
                ("home/agent/work/sub/a.txt".to_owned(), 0o644),
            ]
        );
    }

    use std::os::unix::fs::PermissionsExt as _;
}
