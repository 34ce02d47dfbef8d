//! The build context sent to the engine: a plain tar of the Dockerfile and `bin/`.
//!
//! With a Claude Code binary the context is ~400 MB, so it is streamed: a blocking
//! thread writes the tar into a bounded channel that the HTTP request body reads,
//! and at most `CHUNK_BYTES * CHANNEL_CHUNKS` of it is in memory at once.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

use futures_util::Stream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

const CHUNK_BYTES: usize = 256 * 1024;
const CHANNEL_CHUNKS: usize = 4;

/// Writes the build context: `Dockerfile`, a `bin/` directory, and `bin/claude`
/// when a binary is given. Entries have fixed owners and times so that the same
/// inputs give the same bytes (and the builder's layer cache can match them).
pub fn write_build_context<W: Write>(
    out: W,
    dockerfile: &[u8],
    claude_binary: Option<&Path>,
) -> io::Result<W> {
    let mut tar = tar::Builder::new(out);
    tar.append_data(
        &mut header(tar::EntryType::Regular, 0o644, dockerfile.len() as u64),
        "Dockerfile",
        dockerfile,
    )?;
    tar.append_data(
        &mut header(tar::EntryType::Directory, 0o755, 0),
        "bin/",
        io::empty(),
    )?;
    if let Some(path) = claude_binary {
        let file = File::open(path)?;
        let size = file.metadata()?.len();
        tar.append_data(
            &mut header(tar::EntryType::Regular, 0o755, size),
            "bin/claude",
            file,
        )?;
    }
    tar.into_inner()
}

fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(kind);
    header.set_mode(mode);
    header.set_size(size);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(0);
    header
}

/// Starts writing the context on a blocking thread; returns the chunks to send as
/// the request body and the writer's handle, whose error explains a failed upload.
pub fn stream_build_context(
    dockerfile: &'static str,
    claude_binary: Option<&Path>,
) -> (
    impl Stream<Item = io::Result<Vec<u8>>> + Send + 'static,
    JoinHandle<io::Result<()>>,
) {
    let (tx, mut rx) = mpsc::channel::<io::Result<Vec<u8>>>(CHANNEL_CHUNKS);
    let binary = claude_binary.map(Path::to_owned);
    let writer = tokio::task::spawn_blocking(move || {
        let result = write_build_context(
            ChannelWriter::new(tx.clone()),
            dockerfile.as_bytes(),
            binary.as_deref(),
        )
        .and_then(ChannelWriter::finish);
        if let Err(error) = &result {
            // Fail the request body too, so the engine does not build a truncated context.
            let _ = tx.blocking_send(Err(io::Error::new(error.kind(), error.to_string())));
        }
        result
    });
    let chunks = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    (chunks, writer)
}

/// A `Write` that hands fixed-size chunks to the async side, blocking while the
/// channel is full: that is the backpressure that bounds memory.
struct ChannelWriter {
    tx: mpsc::Sender<io::Result<Vec<u8>>>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    fn new(tx: mpsc::Sender<io::Result<Vec<u8>>>) -> Self {
        Self {
            tx,
            buf: Vec::with_capacity(CHUNK_BYTES),
        }
    }

    fn send_buffer(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK_BYTES));
        self.tx.blocking_send(Ok(chunk)).map_err(|_| {
            io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the engine stopped reading the build context",
            )
        })
    }

    fn finish(mut self) -> io::Result<()> {
        self.send_buffer()
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = CHUNK_BYTES - self.buf.len();
        let taken = data.len().min(room);
        self.buf.extend_from_slice(&data[..taken]);
        if self.buf.len() == CHUNK_BYTES {
            self.send_buffer()?;
        }
        Ok(taken)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send_buffer()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn entries(tar_bytes: &[u8]) -> Vec<(String, u32, Vec<u8>)> {
        let mut archive = tar::Archive::new(tar_bytes);
        archive
            .entries()
            .unwrap()
            .map(|entry| {
                let mut entry = entry.unwrap();
                let path = entry.path().unwrap().display().to_string();
                let mode = entry.header().mode().unwrap();
                let mut data = Vec::new();
                entry.read_to_end(&mut data).unwrap();
                (path, mode, data)
            })
            .collect()
    }

    #[test]
    fn without_a_binary_the_context_is_the_dockerfile_and_an_empty_bin() {
        let tar_bytes = write_build_context(Vec::new(), b"FROM scratch\n", None).unwrap();
        assert_eq!(
            entries(&tar_bytes),
            vec![
                ("Dockerfile".to_owned(), 0o644, b"FROM scratch\n".to_vec()),
                ("bin/".to_owned(), 0o755, Vec::new()),
            ]
        );
    }

    #[test]
    fn a_binary_lands_executable_in_bin() {
        let dir = tempfile::tempdir().unwrap();
        let binary = dir.path().join("some-claude");
        std::fs::write(&binary, b"\x7fELF pretend").unwrap();
        let tar_bytes = write_build_context(Vec::new(), b"FROM x\n", Some(&binary)).unwrap();
        let found = entries(&tar_bytes);
        assert_eq!(found.len(), 3);
        assert_eq!(
            found[2],
            ("bin/claude".to_owned(), 0o755, b"\x7fELF pretend".to_vec())
        );
    }

    #[test]
    fn the_same_inputs_give_the_same_bytes() {
        let first = write_build_context(Vec::new(), b"FROM x\n", None).unwrap();
        let second = write_build_context(Vec::new(), b"FROM x\n", None).unwrap();
        assert_eq!(first, second);
    }

    #[tokio::test]
    async fn the_streamed_chunks_carry_the_whole_context() {
        use futures_util::StreamExt;
        let dir = tempfile::tempdir().unwrap();
        let binary = dir.path().join("claude");
        // Several chunks' worth, so the channel fills and the writer has to wait.
        let payload: Vec<u8> = (0..3 * CHUNK_BYTES * CHANNEL_CHUNKS)
            .map(|i| u8::try_from(i % 251).unwrap())
            .collect();
        std::fs::write(&binary, &payload).unwrap();
        let (chunks, writer) = stream_build_context("FROM x\n", Some(&binary));
        let chunks: Vec<Vec<u8>> = chunks.map(Result::unwrap).collect().await;
        writer.await.unwrap().unwrap();
        assert!(chunks.iter().all(|chunk| chunk.len() <= CHUNK_BYTES));
        let expected = write_build_context(Vec::new(), b"FROM x\n", Some(&binary)).unwrap();
        assert_eq!(chunks.concat(), expected);
    }
}
