//! Frames between a viewer and the holder: a kind byte, a big-endian u32
//! length, the payload. Small and explicit, so both ends read the same.

use std::io::{self, Read, Write};

/// Largest payload accepted: a viewer or holder that sends more is broken.
const MAX_PAYLOAD: u32 = 1 << 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    // Viewer to holder.
    /// The first frame of a viewer: its size, whether it takes over from a
    /// viewer attached now, who it is (shown to the one it displaces), and
    /// the process behind it (for others to tell whether it still lives).
    Hello {
        rows: u16,
        cols: u16,
        take_over: bool,
        who: String,
        owner: String,
    },
    Input(Vec<u8>),
    Resize {
        rows: u16,
        cols: u16,
    },
    /// Asks for the holder's [`Status`](super::server::Status) as JSON.
    StatusRequest,
    /// A new holder asks this one to leave (granted once claude ended).
    Leave,
    // Holder to viewer.
    Output(Vec<u8>),
    /// Claude ended with this code; the holder ends too.
    Exited(i32),
    /// Another viewer holds the session (who it is).
    Held(String),
    /// This viewer was displaced by another (who it is).
    TakenOver(String),
    Status(String),
    /// The answer to [`Frame::Leave`].
    Leaving,
}

mod kind {
    pub const HELLO: u8 = 1;
    pub const INPUT: u8 = 2;
    pub const RESIZE: u8 = 3;
    pub const STATUS_REQUEST: u8 = 4;
    pub const LEAVE: u8 = 5;
    pub const OUTPUT: u8 = 10;
    pub const EXITED: u8 = 11;
    pub const HELD: u8 = 12;
    pub const TAKEN_OVER: u8 = 13;
    pub const STATUS: u8 = 14;
    pub const LEAVING: u8 = 15;
}

fn size_bytes(rows: u16, cols: u16) -> Vec<u8> {
    let mut bytes = rows.to_be_bytes().to_vec();
    bytes.extend_from_slice(&cols.to_be_bytes());
    bytes
}

impl Frame {
    fn encode(&self) -> (u8, Vec<u8>) {
        match self {
            Frame::Hello {
                rows,
                cols,
                take_over,
                who,
                owner,
            } => {
                let mut payload = size_bytes(*rows, *cols);
                payload.push(u8::from(*take_over));
                payload.extend_from_slice(who.as_bytes());
                payload.push(0);
                payload.extend_from_slice(owner.as_bytes());
                (kind::HELLO, payload)
            }
            Frame::Input(bytes) => (kind::INPUT, bytes.clone()),
            Frame::Resize { rows, cols } => (kind::RESIZE, size_bytes(*rows, *cols)),
            Frame::StatusRequest => (kind::STATUS_REQUEST, Vec::new()),
            Frame::Output(bytes) => (kind::OUTPUT, bytes.clone()),
            Frame::Exited(code) => (kind::EXITED, code.to_be_bytes().to_vec()),
            Frame::Held(who) => (kind::HELD, who.as_bytes().to_vec()),
            Frame::TakenOver(who) => (kind::TAKEN_OVER, who.as_bytes().to_vec()),
            Frame::Status(json) => (kind::STATUS, json.as_bytes().to_vec()),
            Frame::Leave => (kind::LEAVE, Vec::new()),
            Frame::Leaving => (kind::LEAVING, Vec::new()),
        }
    }

    fn decode(kind: u8, payload: Vec<u8>) -> io::Result<Self> {
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        let size = |bytes: &[u8]| -> io::Result<(u16, u16)> {
            match bytes {
                [r0, r1, c0, c1, ..] => Ok((
                    u16::from_be_bytes([*r0, *r1]),
                    u16::from_be_bytes([*c0, *c1]),
                )),
                _ => Err(invalid("a size frame is too short")),
            }
        };
        Ok(match kind {
            kind::HELLO => {
                let (rows, cols) = size(&payload)?;
                let take_over = payload.get(4).is_some_and(|b| *b == 1);
                let names = payload.get(5..).unwrap_or_default();
                let (who, owner) = match names.iter().position(|b| *b == 0) {
                    Some(at) => (&names[..at], &names[at + 1..]),
                    None => (names, &[][..]),
                };
                Frame::Hello {
                    rows,
                    cols,
                    take_over,
                    who: text(who),
                    owner: text(owner),
                }
            }
            kind::INPUT => Frame::Input(payload),
            kind::RESIZE => {
                let (rows, cols) = size(&payload)?;
                Frame::Resize { rows, cols }
            }
            kind::STATUS_REQUEST => Frame::StatusRequest,
            kind::OUTPUT => Frame::Output(payload),
            kind::EXITED => {
                let bytes: [u8; 4] = payload
                    .get(..4)
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(|| invalid("an exit frame is too short"))?;
                Frame::Exited(i32::from_be_bytes(bytes))
            }
            kind::HELD => Frame::Held(text(&payload)),
            kind::TAKEN_OVER => Frame::TakenOver(text(&payload)),
            kind::STATUS => Frame::Status(text(&payload)),
            kind::LEAVE => Frame::Leave,
            kind::LEAVING => Frame::Leaving,
            other => return Err(invalid(&format!("unknown frame kind {other}"))),
        })
    }
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

/// Writes one frame, whole.
pub fn write_frame(out: &mut impl Write, frame: &Frame) -> io::Result<()> {
    let (kind, payload) = frame.encode();
    write_raw(out, kind, &payload)
}

/// Writes claude's output as one [`Frame::Output`], copied once (the
/// holder's hot path).
pub fn write_output(out: &mut impl Write, output: &[u8]) -> io::Result<()> {
    write_raw(out, kind::OUTPUT, output)
}

fn write_raw(out: &mut impl Write, kind: u8, payload: &[u8]) -> io::Result<()> {
    let len = u32::try_from(payload.len()).map_err(|_| invalid("frame too large"))?;
    let mut bytes = Vec::with_capacity(payload.len() + HEADER);
    bytes.push(kind);
    bytes.extend_from_slice(&len.to_be_bytes());
    bytes.extend_from_slice(payload);
    // One write: the frame is never interleaved, and it costs one syscall.
    out.write_all(&bytes)?;
    out.flush()
}

/// Whether `buffered` (bytes read ahead) begins with a whole frame, so the
/// next [`read_frame`] needs no read of its own.
pub fn whole_frame_in(buffered: &[u8]) -> bool {
    match buffered {
        [_, l0, l1, l2, l3, payload @ ..] => {
            let len = u32::from_be_bytes([*l0, *l1, *l2, *l3]);
            usize::try_from(len).is_ok_and(|len| payload.len() >= len)
        }
        _ => false,
    }
}

/// A frame's kind byte and length.
const HEADER: usize = 5;

/// Reads one frame; `None` at a clean end of stream.
pub fn read_frame(input: &mut impl Read) -> io::Result<Option<Frame>> {
    let mut header = [0u8; HEADER];
    match input.read_exact(&mut header[..1]) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    input.read_exact(&mut header[1..])?;
    let len = u32::from_be_bytes([header[1], header[2], header[3], header[4]]);
    if len > MAX_PAYLOAD {
        return Err(invalid(&format!("a frame of {len} bytes is too large")));
    }
    let mut payload = vec![0u8; len as usize];
    input.read_exact(&mut payload)?;
    Frame::decode(header[0], payload).map(Some)
}

/// Largest output frame the holder sends (a replay goes in several).
pub const OUTPUT_CHUNK: usize = 64 * 1024;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_frame_reads_back_as_written() {
        let frames = [
            Frame::Hello {
                rows: 30,
                cols: 100,
                take_over: true,
                who: "dashboard 42 on box".into(),
                owner: "42:7:box".into(),
            },
            Frame::Input(b"hi\r".to_vec()),
            Frame::Resize {
                rows: 1,
                cols: 65535,
            },
            Frame::StatusRequest,
            Frame::Output(vec![0x1b, b'[', b'm']),
            Frame::Exited(-3),
            Frame::Held("attach 7".into()),
            Frame::TakenOver("dashboard 9".into()),
            Frame::Status("{}".into()),
            Frame::Leave,
            Frame::Leaving,
        ];
        let mut wire = Vec::new();
        for frame in &frames {
            write_frame(&mut wire, frame).unwrap();
        }
        let mut reader = wire.as_slice();
        for frame in &frames {
            assert_eq!(read_frame(&mut reader).unwrap().as_ref(), Some(frame));
        }
        assert_eq!(read_frame(&mut reader).unwrap(), None);
    }

    #[test]
    fn output_is_one_frame_and_whole_frames_are_told_from_parts() {
        let mut wire = Vec::new();
        write_output(&mut wire, b"hello").unwrap();
        let one = wire.len();
        write_frame(&mut wire, &Frame::Exited(0)).unwrap();
        assert_eq!(
            read_frame(&mut wire.as_slice()).unwrap(),
            Some(Frame::Output(b"hello".to_vec()))
        );
        for cut in 0..one {
            assert!(!whole_frame_in(&wire[..cut]), "{cut} bytes");
        }
        assert!(whole_frame_in(&wire[..one]));
        assert!(whole_frame_in(&wire[one..]));
        assert!(!whole_frame_in(&wire[one..wire.len() - 1]));
        let mut empty = Vec::new();
        write_frame(&mut empty, &Frame::Leaving).unwrap();
        assert!(whole_frame_in(&empty));
    }

    #[test]
    fn a_broken_frame_is_an_error_not_a_panic() {
        // Unknown kind, oversized length, short payloads.
        assert!(read_frame(&mut [99u8, 0, 0, 0, 0].as_slice()).is_err());
        assert!(read_frame(&mut [2u8, 0xff, 0xff, 0xff, 0xff].as_slice()).is_err());
        assert!(read_frame(&mut [3u8, 0, 0, 0, 1, 7].as_slice()).is_err());
        assert!(read_frame(&mut [11u8, 0, 0, 0, 2, 0, 1].as_slice()).is_err());
        assert!(read_frame(&mut [2u8, 0, 0, 0, 9, 1].as_slice()).is_err());
    }
}
