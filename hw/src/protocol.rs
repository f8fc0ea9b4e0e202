//! The host side of the UART protocol (docs/host-protocol.md), over any byte
//! link: a serial port to a board (`spikeforge-fpga`'s `SerialLink`), or the
//! simulated UART of the board top under Verilator (`spikeforge-sim`'s
//! `SimLink`). Same code for both, so the simulation tests what a board will
//! see. [`BoardModel`] puts a client behind the [`crate::HardwareModel`]
//! interface, so a board is checked against golden by the same lockstep
//! comparator as the simulators.
//!
//! Request: `0x55, command, length, payload, crc8(command, length, payload)`.
//! Reply: `0xAA, type, length, payload, crc8(type, length, payload)`.
//! Multi-byte fields are big-endian. CRC-8: polynomial 0x07, initial 0.

use crate::config::{config_writes, reset_writes, ConfigWrite};
use crate::memory::NetworkImage;
use crate::model::{HardwareModel, Place, StepReport};
use crate::ports::error_flag_text;
use std::time::Duration;

/// UART baud rate of every board project.
pub const BAUD: u32 = 115_200;

/// Bit times after which the bridge drops a request cut short and waits
/// for a new one (docs/host-protocol.md); the board top passes it to the
/// bridge, whose parameter default is the same number.
pub const FRAME_TIMEOUT_BITS: u32 = 1024;

/// Start of a request frame.
pub const REQUEST_SYNC: u8 = 0x55;
/// Start of a reply frame.
pub const REPLY_SYNC: u8 = 0xAA;
/// Longest request payload.
pub const MAX_PAYLOAD: usize = 24;

/// Request commands.
pub mod cmd {
    /// Configuration write: core (2), memory code (1), address (3), data (18).
    pub const WRITE: u8 = 0x01;
    /// Input spikes of the coming step: 1..12 input indices (2 bytes each).
    pub const INPUT: u8 = 0x02;
    /// Run one step: replies are its spikes, then DONE.
    pub const STEP: u8 = 0x03;
    /// Potential read: core (2), slot (2).
    pub const PEEK: u8 = 0x04;
    /// Status: error flags, busy, step count.
    pub const STATUS: u8 = 0x05;
    /// Network reset (`clear`).
    pub const CLEAR: u8 = 0x06;
    /// Clear the error flags.
    pub const ERR_CLEAR: u8 = 0x07;
    /// Spike-out mode: 1 every spike, 0 output neurons only.
    pub const MONITOR: u8 = 0x08;
}

/// Reply types.
pub mod reply {
    /// Done; payload: the command.
    pub const ACK: u8 = 0x81;
    /// A spike of the running step: core (2), slot (2).
    pub const SPIKE: u8 = 0x83;
    /// The step is complete: step count (4), clock cycles of the step (4).
    pub const DONE: u8 = 0x84;
    /// A potential (4, two's complement).
    pub const VALUE: u8 = 0x85;
    /// Status: error flags (1), busy (1), step count (4).
    pub const STATUS: u8 = 0x86;
    /// Refused; payload: reason code (1).
    pub const NAK: u8 = 0x8F;
}

/// CRC-8, polynomial 0x07, initial value 0.
pub fn crc8(bytes: &[u8]) -> u8 {
    let mut c = 0u8;
    for &b in bytes {
        c ^= b;
        for _ in 0..8 {
            c = if c & 0x80 != 0 { (c << 1) ^ 0x07 } else { c << 1 };
        }
    }
    c
}

/// A request frame.
pub fn request(command: u8, payload: &[u8]) -> Vec<u8> {
    assert!(payload.len() <= MAX_PAYLOAD, "request payload over {MAX_PAYLOAD} bytes");
    let mut f = vec![REQUEST_SYNC, command, payload.len() as u8];
    f.extend_from_slice(payload);
    f.push(crc8(&f[1..]));
    f
}

/// A reply frame (what the board sends; used by tests and the decoder's tests).
pub fn reply_frame(kind: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![REPLY_SYNC, kind, payload.len() as u8];
    f.extend_from_slice(payload);
    f.push(crc8(&f[1..]));
    f
}

/// What a NAK code means.
pub fn nak_meaning(code: u8) -> &'static str {
    match code {
        1 => "the board received a frame with a wrong CRC (line noise, wrong baud rate?)",
        2 => "the board does not know the command (host and bitstream from different spikeforge versions?)",
        3 => "the request had a wrong length for its command",
        4 => "the board is busy (a step or clear is running)",
        _ => "unknown reason code",
    }
}

/// A decoded reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Reply type ([`reply`]).
    pub kind: u8,
    /// Payload.
    pub payload: Vec<u8>,
}

/// Errors of the protocol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, miette::Diagnostic)]
pub enum ProtocolError {
    /// No complete reply in time.
    #[error("no reply from the board within {ms} ms while waiting for {what}")]
    #[diagnostic(
        code(spikeforge::board::timeout),
        help("check the port, that the board runs a spikeforge bitstream, and the baud rate ({baud} is built in)")
    )]
    Timeout {
        /// What was expected.
        what: String,
        /// The timeout.
        ms: u64,
        /// The protocol's baud rate.
        baud: u32,
    },
    /// A reply frame was malformed.
    #[error("bad reply frame from the board: length {len} (replies carry at most 8 bytes)")]
    #[diagnostic(help("line noise or a wrong baud rate; check the cable and --baud"))]
    ReplyTooLong {
        /// The length byte received.
        len: usize,
    },
    /// A reply frame's CRC is wrong.
    #[error("bad reply frame from the board: CRC {got:#04x}, expected {expected:#04x} (type {kind:#04x})")]
    #[diagnostic(help("line noise or a wrong baud rate; check the cable and --baud"))]
    BadCrc {
        /// The reply type byte.
        kind: u8,
        /// The CRC received.
        got: u8,
        /// The CRC of the bytes received.
        expected: u8,
    },
    /// A reply of the right type with a payload of the wrong length.
    #[error("bad reply frame from the board: {what} with {len} bytes")]
    #[diagnostic(help("host and bitstream from different spikeforge versions? rebuild the bitstream"))]
    PayloadLength {
        /// The reply type.
        what: &'static str,
        /// Its payload length.
        len: usize,
    },
    /// The bridge's count of applied configuration words disagrees with
    /// the words sent: a word was lost or applied twice.
    #[error("the board applied {applied} configuration words (mod 65536) for {sent} writes sent")]
    #[diagnostic(help("reload the network; if it repeats, check the cable and --baud"))]
    ConfigCount {
        /// Words the bridge counted (mod 2^16).
        applied: u16,
        /// Words sent.
        sent: usize,
    },
    /// A reset or step before the network was loaded (a bug in the caller).
    #[error("internal error (a bug in spikeforge, please report it): the board model was used before loading")]
    NotLoaded,
    /// The board refused a request.
    #[error("the board refused command {command:#04x} with code {code}: {meaning}")]
    Nak {
        /// The command.
        command: u8,
        /// The reason code.
        code: u8,
        /// What it means.
        meaning: &'static str,
    },
    /// A reply of the wrong type.
    #[error("unexpected reply type {got:#04x} while waiting for {what}")]
    Unexpected {
        /// Received type.
        got: u8,
        /// What was expected.
        what: String,
    },
    /// The design raised error flags.
    #[error("the board reports error flags {flags:#06b}: {}", error_flag_text(*flags as u32))]
    #[diagnostic(help(
        "the loaded network does not fit the bitstream's spec, or the bitstream is from another spikeforge version"
    ))]
    BoardError {
        /// The flags.
        flags: u8,
    },
    /// The link (a serial port) failed.
    #[error("{action}: {detail}")]
    #[diagnostic(help(
        "check the device name (ls /dev/ttyUSB* /dev/ttyACM*), that you may use it (group dialout) and that the board is connected"
    ))]
    Link {
        /// What failed, e.g. `cannot open serial port /dev/ttyUSB1`.
        action: String,
        /// The operating system's words.
        detail: String,
    },
}

/// Assembles reply frames from a byte stream, resynchronizing on garbage.
#[derive(Debug, Default)]
pub struct Decoder {
    buf: Vec<u8>,
}

impl Decoder {
    /// Feeds one byte; returns a reply or a frame error when one completes.
    pub fn push(&mut self, b: u8) -> Option<Result<Reply, ProtocolError>> {
        if self.buf.is_empty() && b != REPLY_SYNC {
            return None; // between frames: skip noise
        }
        self.buf.push(b);
        if self.buf.len() < 3 {
            return None;
        }
        let len = self.buf[2] as usize;
        if len > 8 {
            self.buf.clear();
            return Some(Err(ProtocolError::ReplyTooLong { len }));
        }
        if self.buf.len() < len + 4 {
            return None;
        }
        let frame = std::mem::take(&mut self.buf);
        let crc = crc8(&frame[1..3 + len]);
        if crc != frame[3 + len] {
            return Some(Err(ProtocolError::BadCrc { kind: frame[1], got: frame[3 + len], expected: crc }));
        }
        Some(Ok(Reply { kind: frame[1], payload: frame[3..3 + len].to_vec() }))
    }
}

/// A byte link to a board.
pub trait Link {
    /// Sends bytes.
    fn send(&mut self, bytes: &[u8]) -> Result<(), ProtocolError>;
    /// The next received byte, or `None` after `timeout` (for a simulated
    /// link, simulated time).
    fn recv(&mut self, timeout: Duration) -> Result<Option<u8>, ProtocolError>;
}

/// Result of a step on the board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardStep {
    /// Spikes as (core, slot), in arrival order.
    pub spikes: Vec<(u32, u32)>,
    /// The board's step count after the step.
    pub step_count: u32,
    /// Clock cycles the step took on the board.
    pub cycles: u32,
}

/// Board status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    /// Error flags.
    pub errors: u8,
    /// A step or clear is running.
    pub busy: bool,
    /// Completed steps.
    pub step_count: u32,
    /// Configuration words the bridge applied since reset, modulo 2^16
    /// (`None` from bridges that predate the counter: 6-byte STATUS).
    pub config_writes: Option<u16>,
}

/// The protocol over a link.
pub struct Client<L: Link> {
    /// The link.
    pub link: L,
    /// Reply timeout.
    pub timeout: Duration,
    /// Baud rate (for messages).
    pub baud: u32,
    dec: Decoder,
}

impl<L: Link> Client<L> {
    /// A client on `link`.
    pub fn new(link: L, baud: u32) -> Client<L> {
        Client { link, timeout: Duration::from_secs(2), baud, dec: Decoder::default() }
    }

    /// The next reply frame.
    pub fn next_reply(&mut self, what: &str) -> Result<Reply, ProtocolError> {
        loop {
            let Some(b) = self.link.recv(self.timeout)? else {
                return Err(ProtocolError::Timeout {
                    what: what.into(),
                    ms: self.timeout.as_millis() as u64,
                    baud: self.baud,
                });
            };
            if let Some(r) = self.dec.push(b) {
                return r;
            }
        }
    }

    fn expect(&mut self, command: u8, kind: u8, what: &str) -> Result<Reply, ProtocolError> {
        let r = self.next_reply(what)?;
        if r.kind == reply::NAK {
            let code = r.payload.first().copied().unwrap_or(0);
            return Err(ProtocolError::Nak { command, code, meaning: nak_meaning(code) });
        }
        if r.kind != kind {
            return Err(ProtocolError::Unexpected { got: r.kind, what: what.into() });
        }
        Ok(r)
    }

    fn transact(&mut self, command: u8, payload: &[u8], kind: u8, what: &str) -> Result<Reply, ProtocolError> {
        self.link.send(&request(command, payload))?;
        self.expect(command, kind, what)
    }

    /// One configuration word.
    pub fn write(&mut self, w: ConfigWrite) -> Result<(), ProtocolError> {
        let mut p = Vec::with_capacity(24);
        p.extend_from_slice(&(w.core as u16).to_be_bytes());
        p.push(w.target.code());
        p.extend_from_slice(&w.addr.to_be_bytes()[1..]);
        p.extend_from_slice(&[0, 0]);
        p.extend_from_slice(&w.data.to_be_bytes());
        self.transact(cmd::WRITE, &p, reply::ACK, "the ACK of a configuration write").map(|_| ())
    }

    /// Loads every memory word of `image` and the neuron counts
    /// ([`config_writes`]), then resets the network state.
    /// `progress(done, total)` after each word.
    pub fn load(&mut self, image: &NetworkImage, progress: &mut dyn FnMut(usize, usize)) -> Result<(), ProtocolError> {
        let writes = config_writes(image);
        let n = writes.len();
        let before = self.status()?.config_writes;
        for (i, w) in writes.into_iter().enumerate() {
            self.write(w)?;
            progress(i + 1, n);
        }
        // Every ACK came back; the bridge's own count confirms that each
        // word was applied exactly once.
        if let (Some(b), Some(a)) = (before, self.status()?.config_writes) {
            let applied = a.wrapping_sub(b);
            if applied != n as u16 {
                return Err(ProtocolError::ConfigCount { applied, sent: n });
            }
        }
        self.clear()
    }

    /// Network reset.
    pub fn clear(&mut self) -> Result<(), ProtocolError> {
        self.transact(cmd::CLEAR, &[], reply::ACK, "the ACK of a clear").map(|_| ())
    }

    /// Clears the error flags.
    pub fn clear_errors(&mut self) -> Result<(), ProtocolError> {
        self.transact(cmd::ERR_CLEAR, &[], reply::ACK, "the ACK of an error clear").map(|_| ())
    }

    /// Spike-out mode.
    pub fn monitor(&mut self, every_spike: bool) -> Result<(), ProtocolError> {
        self.transact(cmd::MONITOR, &[u8::from(every_spike)], reply::ACK, "the ACK of a monitor switch").map(|_| ())
    }

    /// Input spikes of the coming step (host input indices).
    pub fn inputs(&mut self, indices: &[u32]) -> Result<(), ProtocolError> {
        for chunk in indices.chunks(MAX_PAYLOAD / 2) {
            let p: Vec<u8> = chunk.iter().flat_map(|&i| (i as u16).to_be_bytes()).collect();
            self.transact(cmd::INPUT, &p, reply::ACK, "the ACK of input spikes")?;
        }
        Ok(())
    }

    /// Runs one step and collects its spikes.
    pub fn step(&mut self) -> Result<BoardStep, ProtocolError> {
        self.link.send(&request(cmd::STEP, &[]))?;
        let mut spikes = Vec::new();
        loop {
            let r = self.next_reply("the spikes and DONE of a step")?;
            match r.kind {
                reply::SPIKE if r.payload.len() == 4 => spikes.push((
                    u16::from_be_bytes([r.payload[0], r.payload[1]]) as u32,
                    u16::from_be_bytes([r.payload[2], r.payload[3]]) as u32,
                )),
                reply::DONE if r.payload.len() == 8 => {
                    let w = |i: usize| {
                        u32::from_be_bytes([r.payload[i], r.payload[i + 1], r.payload[i + 2], r.payload[i + 3]])
                    };
                    return Ok(BoardStep { spikes, step_count: w(0), cycles: w(4) });
                }
                reply::NAK => {
                    let code = r.payload.first().copied().unwrap_or(0);
                    return Err(ProtocolError::Nak { command: cmd::STEP, code, meaning: nak_meaning(code) });
                }
                k => return Err(ProtocolError::Unexpected { got: k, what: "a SPIKE or DONE reply".into() }),
            }
        }
    }

    /// The potential of (core, slot).
    pub fn peek(&mut self, core: u32, slot: u32) -> Result<i32, ProtocolError> {
        let mut p = (core as u16).to_be_bytes().to_vec();
        p.extend_from_slice(&(slot as u16).to_be_bytes());
        let r = self.transact(cmd::PEEK, &p, reply::VALUE, "a potential")?;
        if r.payload.len() != 4 {
            return Err(ProtocolError::PayloadLength { what: "VALUE", len: r.payload.len() });
        }
        Ok(i32::from_be_bytes([r.payload[0], r.payload[1], r.payload[2], r.payload[3]]))
    }

    /// Error flags, busy, step count.
    pub fn status(&mut self) -> Result<Status, ProtocolError> {
        let r = self.transact(cmd::STATUS, &[], reply::STATUS, "the status")?;
        if r.payload.len() != 6 && r.payload.len() != 8 {
            return Err(ProtocolError::PayloadLength { what: "STATUS", len: r.payload.len() });
        }
        Ok(Status {
            errors: r.payload[0],
            busy: r.payload[1] != 0,
            step_count: u32::from_be_bytes([r.payload[2], r.payload[3], r.payload[4], r.payload[5]]),
            config_writes: (r.payload.len() == 8).then(|| u16::from_be_bytes([r.payload[6], r.payload[7]])),
        })
    }
}

/// A board (any [`Link`]) as a [`HardwareModel`]: loading is the
/// configuration sequence over the UART, a step is INPUT requests then
/// STEP, potentials are PEEKs, error flags come from STATUS. Spikes are
/// taken with the monitor on (every spike, not only output neurons').
pub struct BoardModel<L: Link> {
    /// The protocol client.
    pub client: Client<L>,
    name: String,
    image: Option<NetworkImage>,
    preloaded: bool,
    progress: Box<dyn FnMut(usize, usize)>,
}

impl<L: Link> BoardModel<L> {
    /// A board on `client`, named `name` in reports. With `preloaded`, the
    /// bitstream already holds the network: loading only returns it to
    /// step 0 (potentials rewritten, `clear`).
    pub fn new(client: Client<L>, name: impl Into<String>, preloaded: bool) -> BoardModel<L> {
        BoardModel { client, name: name.into(), image: None, preloaded, progress: Box::new(|_, _| {}) }
    }

    /// Calls `progress(done, total)` after each configuration word a load sends.
    pub fn with_progress(mut self, progress: impl FnMut(usize, usize) + 'static) -> BoardModel<L> {
        self.progress = Box::new(progress);
        self
    }
}

impl<L: Link> HardwareModel for BoardModel<L> {
    type Error = ProtocolError;

    fn describe(&self) -> String {
        self.name.clone()
    }

    fn load(&mut self, image: &NetworkImage) -> Result<(), ProtocolError> {
        self.image = Some(image.clone());
        if self.preloaded {
            self.reset()?;
        } else {
            self.client.load(image, &mut *self.progress)?;
        }
        self.client.monitor(true)
    }

    fn configure(&mut self, writes: &[ConfigWrite]) -> Result<(), ProtocolError> {
        writes.iter().try_for_each(|&w| self.client.write(w))
    }

    fn reset(&mut self) -> Result<(), ProtocolError> {
        let image = self.image.as_ref().ok_or(ProtocolError::NotLoaded)?;
        for w in reset_writes(image) {
            self.client.write(w)?;
        }
        self.client.clear()
    }

    fn step(&mut self, inputs: &[u32]) -> Result<StepReport, ProtocolError> {
        if !inputs.is_empty() {
            self.client.inputs(inputs)?;
        }
        let s = self.client.step()?;
        Ok(StepReport {
            spikes: s.spikes.into_iter().map(|(core, slot)| Place { core, slot }).collect(),
            cycles: Some(s.cycles as u64),
        })
    }

    fn potentials(&mut self, places: &[Place]) -> Result<Vec<i32>, ProtocolError> {
        places.iter().map(|p| self.client.peek(p.core, p.slot)).collect()
    }

    fn errors(&mut self) -> Result<u32, ProtocolError> {
        Ok(self.client.status()?.errors as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_and_frames() {
        // CRC-8/SMBUS check value.
        assert_eq!(crc8(b"123456789"), 0xF4);
        let f = request(cmd::PEEK, &[0, 1, 0, 2]);
        assert_eq!(f[..3], [0x55, 0x04, 4]);
        assert_eq!(*f.last().unwrap(), crc8(&f[1..f.len() - 1]));
        let mut d = Decoder::default();
        let mut got = None;
        for b in [0x00, 0x13].into_iter().chain(reply_frame(reply::VALUE, &[0, 0, 0, 7])) {
            if let Some(r) = d.push(b) {
                got = Some(r);
            }
        }
        assert_eq!(got, Some(Ok(Reply { kind: reply::VALUE, payload: vec![0, 0, 0, 7] })));
        let mut bad = reply_frame(reply::ACK, &[1]);
        *bad.last_mut().unwrap() ^= 0xff;
        let r: Vec<_> = bad.into_iter().filter_map(|b| d.push(b)).collect();
        assert!(matches!(r.as_slice(), [Err(ProtocolError::BadCrc { kind: reply::ACK, .. })]));
    }
}
