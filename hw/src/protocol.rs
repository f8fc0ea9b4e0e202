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
//!
//! The client sends input spikes and configuration words in whatever
//! takes the fewest bytes on the wire ([`input_frames`], [`config_frames`]):
//! a step's inputs as index lists or bitmaps, a network as bursts of
//! consecutive words; the bit rate is the other factor ([`BAUD`]).

use crate::config::{config_writes, reset_writes, ConfigWrite};
use crate::memory::{ConfigTarget, Layout, NetworkImage};
use crate::model::{HardwareModel, Place, StepReport};
use crate::ports::error_flag_text;
use crate::spec::HardwareSpec;
use std::time::Duration;

/// UART baud rate of the board projects: 1 Mbaud. The boards' USB UARTs
/// (FT2232H, FT231X) make it exactly and a 12, 24 or 25 MHz design clock
/// divides it exactly. The board table (`spikeforge-fpga`) gives each
/// board its rate: one whose design clock cannot divide this within 2%
/// runs slower. Bitstreams from before it ran at 115200.
pub const BAUD: u32 = 1_000_000;

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
    /// Input spikes of the coming step as a bitmap: first input index (2),
    /// then 1..=22 bytes; bit k (LSB first) of byte j is input `first + 8j + k`.
    pub const INPUT_BITMAP: u8 = 0x09;
    /// Configuration words for consecutive addresses: core (2), memory code
    /// (1), first address (3), bytes per word b (1, 1..=17), then one or
    /// more whole words of b bytes (at most 17 bytes of words).
    pub const WRITE_BURST: u8 = 0x0A;
}

/// Most bitmap bytes of an INPUT_BITMAP request (176 inputs).
pub const BITMAP_BYTES: usize = MAX_PAYLOAD - 2;
/// Largest first index of an INPUT_BITMAP request: the longest bitmap then
/// ends at input 65535, so the bridge needs no adder to refuse one that
/// would run past it.
pub const BITMAP_FIRST_MAX: u16 = (65536 - 8 * BITMAP_BYTES) as u16;
/// Header of a WRITE_BURST request: core, memory code, address, bytes per word.
pub const BURST_HEADER: usize = 7;
/// Most bytes of words in a WRITE_BURST request.
pub const BURST_DATA: usize = MAX_PAYLOAD - BURST_HEADER;
/// Bytes of a request frame besides its payload: sync, command, length, CRC.
pub const FRAME_OVERHEAD: usize = 4;
/// Bytes of an ACK frame.
pub const ACK_BYTES: usize = 5;

/// Bytes on the wire, both ways, of a request with `payload` bytes and its ACK.
pub const fn acked_bytes(payload: usize) -> usize {
    FRAME_OVERHEAD + payload + ACK_BYTES
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
        3 => "the request had a wrong length for its command (or a bitmap start or burst word size out of range)",
        4 => "the board is busy (a step or clear is running)",
        _ => "unknown reason code",
    }
}

/// One request carrying input spikes of a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputFrame {
    /// INPUT: 1..=12 input indices.
    Indices(Vec<u16>),
    /// INPUT_BITMAP: bit k of `bits[j]` is input `first + 8j + k`.
    Bitmap {
        /// Input of bit 0 of the first byte.
        first: u16,
        /// 1..=22 bytes.
        bits: Vec<u8>,
    },
}

impl InputFrame {
    /// The command and payload.
    pub fn command(&self) -> (u8, Vec<u8>) {
        match self {
            InputFrame::Indices(ix) => (cmd::INPUT, ix.iter().flat_map(|i| i.to_be_bytes()).collect()),
            InputFrame::Bitmap { first, bits } => {
                let mut p = first.to_be_bytes().to_vec();
                p.extend_from_slice(bits);
                (cmd::INPUT_BITMAP, p)
            }
        }
    }

    /// Bytes on the wire, request and ACK.
    pub fn wire_bytes(&self) -> usize {
        acked_bytes(match self {
            InputFrame::Indices(ix) => 2 * ix.len(),
            InputFrame::Bitmap { bits, .. } => 2 + bits.len(),
        })
    }

    /// The input indices it carries.
    pub fn indices(&self) -> Vec<u32> {
        match self {
            InputFrame::Indices(ix) => ix.iter().map(|&i| i as u32).collect(),
            InputFrame::Bitmap { first, bits } => (0..bits.len() * 8)
                .filter(|&b| bits[b / 8] >> (b % 8) & 1 == 1)
                .map(|b| *first as u32 + b as u32)
                .collect(),
        }
    }
}

/// INPUT frames of 12 indices each.
fn index_frames(ix: &[u16]) -> Vec<InputFrame> {
    ix.chunks(MAX_PAYLOAD / 2).map(|c| InputFrame::Indices(c.to_vec())).collect()
}

/// The requests that send one step's input spikes with the fewest bytes on
/// the wire, requests and ACKs counted. Over the sorted indices, each run
/// goes as one bitmap frame (11 bytes plus one per 8 inputs spanned) or
/// its indices join the index frames (9 bytes a frame plus 2 an index);
/// a dynamic program over (index, indices in the open index frame) finds
/// the cheapest such plan exactly, so it is never longer than index frames
/// alone. An index given twice is two spikes: the repeat goes in an index
/// frame. With `compact` false, index frames only (bridges before
/// INPUT_BITMAP). Indices above 65535 cannot be sent.
pub fn input_frames(indices: &[u32], compact: bool) -> Result<Vec<InputFrame>, ProtocolError> {
    if let Some(&i) = indices.iter().find(|&&i| i > u16::MAX as u32) {
        return Err(ProtocolError::Unencodable { what: format!("input index {i}"), max: u16::MAX as u64 });
    }
    let ix: Vec<u16> = indices.iter().map(|&i| i as u16).collect();
    if !compact {
        return Ok(index_frames(&ix));
    }
    let mut sorted = ix;
    sorted.sort_unstable();
    let repeats: Vec<u16> = sorted.windows(2).filter(|w| w[0] == w[1]).map(|w| w[1]).collect();
    let mut d = sorted;
    d.dedup();
    // The bitmap frame of d[j..=last]: its first index (shifted down where
    // it would pass BITMAP_FIRST_MAX) and bytes, if it fits.
    let bitmap = |j: usize, last: u16| {
        let first = d[j].min(BITMAP_FIRST_MAX);
        let bytes = (last - first) as usize / 8 + 1;
        (bytes <= BITMAP_BYTES).then_some((first, bytes))
    };
    const PER: usize = MAX_PAYLOAD / 2;
    let n = d.len();
    // best[i][r]: bytes of the repeats and the first i indices with r (mod
    // 12) of them in index frames; the choice: None a loose index, Some(j)
    // a bitmap d[j..i].
    let mut best = vec![[u64::MAX; PER]; n + 1];
    let mut choice = vec![[None; PER]; n + 1];
    let k = repeats.len();
    best[0][k % PER] = (2 * k + acked_bytes(0) * k.div_ceil(PER)) as u64;
    for i in 1..=n {
        for r in 0..PER {
            let prev = (r + PER - 1) % PER;
            if best[i - 1][prev] < u64::MAX {
                let c = best[i - 1][prev] + 2 + if prev == 0 { acked_bytes(0) as u64 } else { 0 };
                if c < best[i][r] {
                    best[i][r] = c;
                    choice[i][r] = None;
                }
            }
        }
        for j in (0..i).rev() {
            let Some((_, bytes)) = bitmap(j, d[i - 1]) else { break };
            let cost = acked_bytes(2 + bytes) as u64;
            for r in 0..PER {
                if best[j][r] < u64::MAX && best[j][r] + cost < best[i][r] {
                    best[i][r] = best[j][r] + cost;
                    choice[i][r] = Some(j);
                }
            }
        }
    }
    let mut r = (0..PER).min_by_key(|&r| best[n][r]).unwrap_or(0);
    let (mut frames, mut loose) = (Vec::new(), repeats);
    let mut i = n;
    while i > 0 {
        match choice[i][r] {
            Some(j) => {
                let (first, bytes) = bitmap(j, d[i - 1]).expect("a bitmap the plan chose");
                let mut bits = vec![0u8; bytes];
                for &x in &d[j..i] {
                    let b = (x - first) as usize;
                    bits[b / 8] |= 1 << (b % 8);
                }
                frames.push(InputFrame::Bitmap { first, bits });
                i = j;
            }
            None => {
                loose.push(d[i - 1]);
                r = (r + PER - 1) % PER;
                i -= 1;
            }
        }
    }
    frames.reverse();
    loose.sort_unstable();
    frames.extend(index_frames(&loose));
    Ok(frames)
}

/// One request carrying configuration words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigFrame {
    /// WRITE: one word.
    Write(ConfigWrite),
    /// WRITE_BURST: `words` for addresses `addr`, `addr + 1`, ...
    Burst {
        /// Core.
        core: u32,
        /// Memory.
        target: ConfigTarget,
        /// Address of the first word.
        addr: u32,
        /// Bytes per word.
        word_bytes: usize,
        /// The words.
        words: Vec<u128>,
    },
}

impl ConfigFrame {
    /// The command and payload.
    pub fn command(&self) -> (u8, Vec<u8>) {
        let head = |core: u32, target: ConfigTarget, addr: u32| {
            let mut p = Vec::with_capacity(MAX_PAYLOAD);
            p.extend_from_slice(&(core as u16).to_be_bytes());
            p.push(target.code());
            p.extend_from_slice(&addr.to_be_bytes()[1..]);
            p
        };
        match self {
            ConfigFrame::Write(w) => {
                let mut p = head(w.core, w.target, w.addr);
                p.extend_from_slice(&[0, 0]);
                p.extend_from_slice(&w.data.to_be_bytes());
                (cmd::WRITE, p)
            }
            ConfigFrame::Burst { core, target, addr, word_bytes, words } => {
                let mut p = head(*core, *target, *addr);
                p.push(*word_bytes as u8);
                // A word is at most 128 bits: a 17th byte is zero.
                let pad = word_bytes.saturating_sub(16);
                for w in words {
                    p.extend(std::iter::repeat_n(0, pad));
                    p.extend_from_slice(&w.to_be_bytes()[16 - (word_bytes - pad)..]);
                }
                (cmd::WRITE_BURST, p)
            }
        }
    }

    /// The writes it makes, in order.
    pub fn writes(&self) -> Vec<ConfigWrite> {
        match self {
            ConfigFrame::Write(w) => vec![*w],
            ConfigFrame::Burst { core, target, addr, words, .. } => words
                .iter()
                .enumerate()
                .map(|(i, &data)| ConfigWrite { core: *core, target: *target, addr: addr + i as u32, data })
                .collect(),
        }
    }

    /// Configuration words it carries.
    pub fn words(&self) -> usize {
        match self {
            ConfigFrame::Write(_) => 1,
            ConfigFrame::Burst { words, .. } => words.len(),
        }
    }

    /// Bytes on the wire, request and ACK.
    pub fn wire_bytes(&self) -> usize {
        acked_bytes(match self {
            ConfigFrame::Write(_) => MAX_PAYLOAD,
            ConfigFrame::Burst { word_bytes, words, .. } => BURST_HEADER + word_bytes * words.len(),
        })
    }
}

/// Bytes a word of `target` takes in a WRITE_BURST: its layout width
/// rounded up to whole bytes. `None` for `neuron_count` (one register per
/// core, sent with WRITE) and for words wider than a burst holds.
pub fn burst_word_bytes(target: ConfigTarget, layout: &Layout) -> Option<usize> {
    let ConfigTarget::Memory(m) = target else { return None };
    let b = (m.width(layout).div_ceil(8) as usize).max(1);
    (b <= BURST_DATA).then_some(b)
}

/// The requests that send `writes`, in order: each run of consecutive
/// addresses of one memory of one core as WRITE_BURST frames, each word in
/// its layout width rounded up to bytes ([`burst_word_bytes`]; 17 / b words
/// a frame), the rest (`neuron_count`, a word wider than its layout) as
/// WRITE. A single word is a burst too: 16 + b bytes against WRITE's 33.
/// With `compact` false, WRITE only (bridges before WRITE_BURST).
pub fn config_frames(writes: &[ConfigWrite], spec: &HardwareSpec, compact: bool) -> Vec<ConfigFrame> {
    if !compact {
        return writes.iter().map(|&w| ConfigFrame::Write(w)).collect();
    }
    let layout = Layout::new(spec);
    let mut out: Vec<ConfigFrame> = Vec::new();
    for &w in writes {
        let Some(b) = burst_word_bytes(w.target, &layout).filter(|&b| b >= 16 || w.data >> (8 * b) == 0) else {
            out.push(ConfigFrame::Write(w));
            continue;
        };
        if let Some(ConfigFrame::Burst { core, target, addr, word_bytes, words }) = out.last_mut() {
            if (*core, *target, *word_bytes) == (w.core, w.target, b)
                && *addr as u64 + words.len() as u64 == w.addr as u64
                && (words.len() + 1) * b <= BURST_DATA
            {
                words.push(w.data);
                continue;
            }
        }
        out.push(ConfigFrame::Burst {
            core: w.core,
            target: w.target,
            addr: w.addr,
            word_bytes: b,
            words: vec![w.data],
        });
    }
    out
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
        help(
            "check the port, that the board runs a spikeforge bitstream, and the baud rate (the client used {baud}; \
             the project's README.md states the board's; bitstreams from before 1 Mbaud use 115200)"
        )
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
    /// A value that a request's field cannot hold.
    #[error("cannot send {what} to the board: the protocol's field holds at most {max}")]
    #[diagnostic(help("the network or spec is larger than the UART protocol can address"))]
    Unencodable {
        /// What, e.g. `input index 70000`.
        what: String,
        /// The field's largest value.
        max: u64,
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
    /// Send input spikes and configuration words with INPUT_BITMAP and
    /// WRITE_BURST where they take fewer bytes (the default). Off: INPUT
    /// and WRITE only, all that bridges before those commands know. A
    /// bridge that answers one of them with NAK 2 (unknown command) turns
    /// this off, and the request goes again the old way.
    pub compact: bool,
    dec: Decoder,
}

impl<L: Link> Client<L> {
    /// A client on `link`.
    pub fn new(link: L, baud: u32) -> Client<L> {
        Client { link, timeout: Duration::from_secs(2), baud, compact: true, dec: Decoder::default() }
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

    /// One configuration word (WRITE).
    pub fn write(&mut self, w: ConfigWrite) -> Result<(), ProtocolError> {
        let (c, p) = ConfigFrame::Write(w).command();
        self.transact(c, &p, reply::ACK, "the ACK of a configuration write").map(|_| ())
    }

    /// Configuration words of a design of `spec`, in order, in the fewest
    /// bytes ([`config_frames`]; WRITE only without [`Client::compact`]).
    /// `progress(done, total)` after each request, in words.
    pub fn write_words(
        &mut self,
        writes: &[ConfigWrite],
        spec: &HardwareSpec,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<(), ProtocolError> {
        let frames = config_frames(writes, spec, self.compact);
        let (total, mut done) = (writes.len(), 0);
        for (k, f) in frames.iter().enumerate() {
            let (c, p) = f.command();
            match self.transact(c, &p, reply::ACK, "the ACK of a configuration write") {
                Err(ProtocolError::Nak { code: 2, .. }) if c == cmd::WRITE_BURST => {
                    // A bridge from before WRITE_BURST: the rest word by word.
                    self.compact = false;
                    for w in frames[k..].iter().flat_map(ConfigFrame::writes) {
                        self.write(w)?;
                        done += 1;
                        progress(done, total);
                    }
                    return Ok(());
                }
                r => r.map(|_| ())?,
            }
            done += f.words();
            progress(done, total);
        }
        Ok(())
    }

    /// Loads every memory word of `image` and the neuron counts
    /// ([`config_writes`], sent by [`Client::write_words`]), then resets
    /// the network state. `progress(done, total)` after each request, in words.
    pub fn load(&mut self, image: &NetworkImage, progress: &mut dyn FnMut(usize, usize)) -> Result<(), ProtocolError> {
        let writes = config_writes(image);
        let n = writes.len();
        let before = self.status()?.config_writes;
        self.write_words(&writes, &image.spec, progress)?;
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

    /// Input spikes of the coming step (host input indices), as index
    /// lists or bitmaps, whichever takes fewer bytes ([`input_frames`];
    /// index lists only without [`Client::compact`]).
    pub fn inputs(&mut self, indices: &[u32]) -> Result<(), ProtocolError> {
        let frames = input_frames(indices, self.compact)?;
        for (k, f) in frames.iter().enumerate() {
            let (c, p) = f.command();
            match self.transact(c, &p, reply::ACK, "the ACK of input spikes") {
                Err(ProtocolError::Nak { code: 2, .. }) if c == cmd::INPUT_BITMAP => {
                    // A bridge from before INPUT_BITMAP: the rest as indices.
                    self.compact = false;
                    let rest: Vec<u32> = frames[k..].iter().flat_map(InputFrame::indices).collect();
                    return self.inputs(&rest);
                }
                r => r.map(|_| ())?,
            }
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
/// configuration sequence over the UART, a step is input requests then
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

    /// Calls `progress(done, total)` after each configuration request a
    /// load sends (counted in words).
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
        match &self.image {
            Some(image) => self.client.write_words(writes, &image.spec, &mut |_, _| {}),
            None => writes.iter().try_for_each(|&w| self.client.write(w)),
        }
    }

    fn reset(&mut self) -> Result<(), ProtocolError> {
        let image = self.image.as_ref().ok_or(ProtocolError::NotLoaded)?;
        self.client.write_words(&reset_writes(image), &image.spec, &mut |_, _| {})?;
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

    /// The examples of docs/host-protocol.md, byte for byte.
    #[test]
    fn documented_examples() {
        let f = InputFrame::Bitmap { first: 0, bits: vec![0x08, 0x06] };
        assert_eq!(f.indices(), [3, 9, 10]);
        let (c, p) = f.command();
        assert_eq!(request(c, &p), [0x55, 0x09, 0x04, 0x00, 0x00, 0x08, 0x06, 0x53]);
        let syn = ConfigTarget::Memory(crate::memory::Memory::Synapses);
        let b = ConfigFrame::Burst { core: 1, target: syn, addr: 0x10, word_bytes: 2, words: vec![0x1234, 0x56] };
        let (c, p) = b.command();
        let want = [0x55, 0x0A, 0x0B, 0x00, 0x01, 0x03, 0x00, 0x00, 0x10, 0x02, 0x12, 0x34, 0x00, 0x56, 0x8F];
        assert_eq!(request(c, &p), want);
    }
    /// A bridge from before INPUT_BITMAP and WRITE_BURST: those get NAK 2,
    /// everything else an ACK. Records the commands it received.
    #[derive(Default)]
    struct OldBridge {
        out: std::collections::VecDeque<u8>,
        got: Vec<(u8, Vec<u8>)>,
    }

    impl Link for OldBridge {
        fn send(&mut self, bytes: &[u8]) -> Result<(), ProtocolError> {
            let (c, p) = (bytes[1], bytes[3..bytes.len() - 1].to_vec());
            self.got.push((c, p));
            let r = if c == cmd::INPUT_BITMAP || c == cmd::WRITE_BURST {
                reply_frame(reply::NAK, &[2])
            } else {
                reply_frame(reply::ACK, &[c])
            };
            self.out.extend(r);
            Ok(())
        }
        fn recv(&mut self, _: Duration) -> Result<Option<u8>, ProtocolError> {
            Ok(self.out.pop_front())
        }
    }

    fn spread(n: u32, every: u32, offset: u32) -> Vec<u32> {
        (0..n).filter(|i| (i * 7 + offset).is_multiple_of(every)).collect()
    }

    #[test]
    fn input_plans_carry_every_spike_in_the_fewest_bytes() {
        let cases: Vec<Vec<u32>> = vec![
            vec![],
            vec![5],
            vec![3, 3, 9],
            spread(784, 3, 0),
            spread(784, 4, 1),
            spread(300, 40, 2),
            vec![0, 65535],
            vec![65530, 65535, 65534],
            (0..176).collect(),
            (1000..1400).step_by(2).collect(),
        ];
        for ix in cases {
            let plain = input_frames(&ix, false).unwrap();
            let plan = input_frames(&ix, true).unwrap();
            assert!(plain.iter().all(|f| matches!(f, InputFrame::Indices(_))));
            for frames in [&plain, &plan] {
                let mut got: Vec<u32> = frames.iter().flat_map(InputFrame::indices).collect();
                let mut want = ix.clone();
                got.sort_unstable();
                want.sort_unstable();
                assert_eq!(got, want, "{frames:?}");
                for f in frames.iter() {
                    let (_, p) = f.command();
                    assert!(!p.is_empty() && p.len() <= MAX_PAYLOAD, "{f:?}");
                    if let InputFrame::Bitmap { first, bits } = f {
                        assert!((1..=BITMAP_BYTES).contains(&bits.len()), "{f:?}");
                        assert!(*first <= BITMAP_FIRST_MAX, "the bridge refuses {f:?}");
                    }
                    assert_eq!(f.wire_bytes(), request(cmd::INPUT, &p).len() + ACK_BYTES);
                }
            }
            let bytes = |f: &[InputFrame]| f.iter().map(InputFrame::wire_bytes).sum::<usize>();
            assert!(bytes(&plan) <= bytes(&plain), "{ix:?}");
            // Nor longer than bitmaps alone, each from the lowest index left.
            let mut left: Vec<u32> = ix.clone();
            left.sort_unstable();
            left.dedup();
            let mut greedy = (ix.len() - left.len()).div_ceil(12) * 9 + 2 * (ix.len() - left.len());
            while let Some(&f) = left.first() {
                let f = f.min(BITMAP_FIRST_MAX as u32);
                let covered = left.iter().take_while(|&&x| x < f + 176).count();
                greedy += acked_bytes(2 + (left[covered - 1] - f) as usize / 8 + 1);
                left.drain(..covered);
            }
            assert!(bytes(&plan) <= greedy, "{ix:?}: {} against {greedy}", bytes(&plan));
        }
        // A third of 784 inputs fire: five bitmap frames (at most 11 bytes
        // each and one per 8 inputs) instead of 22 index frames (720 bytes).
        let dense = spread(784, 3, 0);
        let plan = input_frames(&dense, true).unwrap();
        assert!(plan.iter().all(|f| matches!(f, InputFrame::Bitmap { .. })), "{plan:?}");
        assert_eq!(plan.len(), 5);
        assert!(plan.iter().map(InputFrame::wire_bytes).sum::<usize>() <= 5 * 11 + 98);
        // Beyond the protocol's 16-bit index: an error, not a wrapped index.
        let e = input_frames(&[70000], true).unwrap_err();
        assert!(e.to_string().contains("input index 70000"), "{e}");
    }

    #[test]
    fn config_plans_burst_consecutive_words() {
        let spec = HardwareSpec::preset("tiny").unwrap();
        let l = Layout::new(&spec);
        let syn = ConfigTarget::Memory(crate::memory::Memory::Synapses);
        let b = burst_word_bytes(syn, &l).unwrap();
        assert_eq!(b, crate::memory::Memory::Synapses.width(&l).div_ceil(8) as usize);
        assert_eq!(burst_word_bytes(ConfigTarget::NeuronCount, &l), None);
        let mut writes: Vec<ConfigWrite> =
            (0..40).map(|a| ConfigWrite { core: 1, target: syn, addr: a, data: a as u128 }).collect();
        writes.push(ConfigWrite { core: 1, target: ConfigTarget::NeuronCount, addr: 0, data: 3 });
        writes.push(ConfigWrite { core: 2, target: syn, addr: 7, data: 1 });
        writes.push(ConfigWrite { core: 2, target: syn, addr: 9, data: 2 });
        // Wider than its layout: the bridge would cut it, so a WRITE.
        writes.push(ConfigWrite { core: 2, target: syn, addr: 10, data: 1 << (8 * b) });
        let frames = config_frames(&writes, &spec, true);
        assert_eq!(frames.iter().flat_map(ConfigFrame::writes).collect::<Vec<_>>(), writes);
        let per = BURST_DATA / b;
        assert_eq!(frames.len(), 40usize.div_ceil(per) + 4, "{frames:?}");
        assert!(matches!(frames[frames.len() - 1], ConfigFrame::Write(_)));
        for f in &frames {
            let (c, p) = f.command();
            assert!(p.len() <= MAX_PAYLOAD);
            assert_eq!(f.wire_bytes(), request(c, &p).len() + ACK_BYTES);
            if let ConfigFrame::Burst { word_bytes, words, .. } = f {
                assert_eq!(p.len(), BURST_HEADER + word_bytes * words.len());
                assert_eq!(p[6] as usize, *word_bytes);
            }
        }
        assert!(config_frames(&writes, &spec, false).iter().all(|f| matches!(f, ConfigFrame::Write(_))));
    }

    #[test]
    fn an_old_bridge_gets_the_old_commands() {
        let spec = HardwareSpec::preset("tiny").unwrap();
        let syn = ConfigTarget::Memory(crate::memory::Memory::Synapses);
        let writes: Vec<ConfigWrite> = (0..5).map(|a| ConfigWrite { core: 0, target: syn, addr: a, data: 1 }).collect();
        let mut c = Client::new(OldBridge::default(), BAUD);
        let mut seen = Vec::new();
        c.write_words(&writes, &spec, &mut |d, n| seen.push((d, n))).unwrap();
        assert!(!c.compact);
        assert_eq!(seen.last(), Some(&(5, 5)));
        let cmds: Vec<u8> = c.link.got.iter().map(|(c, _)| *c).collect();
        assert_eq!(cmds, [cmd::WRITE_BURST, cmd::WRITE, cmd::WRITE, cmd::WRITE, cmd::WRITE, cmd::WRITE]);
        // Inputs: straight to INPUT now that the client knows.
        c.inputs(&spread(100, 2, 0)).unwrap();
        assert!(c.link.got[6..].iter().all(|(c, _)| *c == cmd::INPUT));
        // A fresh client finds out from its first bitmap.
        let mut c = Client::new(OldBridge::default(), BAUD);
        let ix = spread(300, 2, 0);
        c.inputs(&ix).unwrap();
        assert_eq!(c.link.got[0].0, cmd::INPUT_BITMAP);
        let mut sent: Vec<u32> = c.link.got[1..]
            .iter()
            .flat_map(|(cm, p)| {
                assert_eq!(*cm, cmd::INPUT);
                p.chunks(2).map(|x| u16::from_be_bytes([x[0], x[1]]) as u32).collect::<Vec<_>>()
            })
            .collect();
        sent.sort_unstable();
        assert_eq!(sent, ix);
    }
}
