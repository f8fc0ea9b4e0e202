//! The whole board top, UART bridge included, under Verilator, with the
//! host protocol client (the code `spikeforge run` uses on a serial port)
//! talking bytes to it: load, run, compare with golden; then a corrupted
//! frame, a time-out and a raised error flag; random bytes; and the cost
//! of the old and the compact input and load paths, counted on the wire.

mod common;
use common::*;
use spikeforge_hw::config::{config_writes, ConfigWrite};
use spikeforge_hw::memory::{ConfigTarget, Memory};
use spikeforge_hw::protocol::{
    self, cmd, config_frames, input_frames, reply, BoardModel, Client, ConfigFrame, InputFrame, Link, ProtocolError,
    BAUD, FRAME_TIMEOUT_BITS,
};
use spikeforge_mapper::{Algorithm, HardwareSpec};
use spikeforge_sim::uart::{build_board, SimLink};
use spikeforge_sim::{lockstep, RunOptions, Verdict};
use std::collections::BTreeMap;
use std::time::Duration;

fn small_spec() -> HardwareSpec {
    HardwareSpec {
        name: "uart-sim".into(),
        mesh_width: 2,
        mesh_height: 2,
        neurons_per_core: 3,
        axons_per_core: 16,
        synapses_per_core: 32,
        routes_per_core: 16,
        param_sets_per_core: 16,
        input_neurons: 8,
        input_routes: 16,
        ..HardwareSpec::preset("tiny").unwrap()
    }
}

#[test]
fn board_over_uart_equals_golden_and_reports_errors() {
    let spec = small_spec();
    let built = build_board(&spec).unwrap_or_else(|e| panic!("{e}"));
    let net = network(RING);
    let stim = stimulus(&net, RING_STIM);
    let m = mapped(&net, &spec, Algorithm::Multilevel);
    let steps = 16;
    // The board client behind the common interface, in lockstep with
    // golden through the same comparator as the simulators (what
    // `spikeforge run` does on a serial port): spikes, error flags and
    // every potential after every step.
    let mut board = BoardModel::new(Client::new(SimLink::new(&built).unwrap(), BAUD), "simulated board", false);
    let mut o = RunOptions::verified(steps);
    o.potentials_every_step = true;
    let r = lockstep(&mut board, &net, &m, &stim, &o, None, &mut |_| {}).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.verdict, Verdict::Equal, "{:?}", r.verdict);
    let g = spikeforge_golden::run(&net, &stim, steps).unwrap();
    assert!(!g.spikes.is_empty());
    assert_eq!(r.spikes, g.spikes, "spikes over the UART differ from golden");
    assert_eq!(r.cycles_per_step.len(), steps as usize);
    assert!(r.cycles_per_step.iter().all(|&c| c > 0), "the board counts the clocks of each step");
    let mut c = board.client;
    for (n, p) in m.placement.iter().enumerate() {
        if let Some((core, slot)) = *p {
            assert_eq!(c.peek(core, slot).unwrap(), g.potentials[n], "potential of {}", net.neuron_name(n as u32));
        }
    }
    let st = c.status().unwrap();
    assert_eq!((st.errors, st.busy, st.step_count), (0, false, steps));

    // A corrupted frame (one payload byte changed in transit) is refused
    // with the CRC code, and the next good request works.
    let mut f = protocol::request(cmd::PEEK, &[0, 0, 0, 1]);
    f[4] ^= 0x40;
    c.link.send(&f).unwrap();
    let r = c.next_reply("the NAK").unwrap();
    assert_eq!((r.kind, r.payload.as_slice()), (reply::NAK, &[1u8][..]));
    assert_eq!(c.status().unwrap().errors, 0);
    // An unknown command and a wrong length get their own codes.
    let e = {
        c.link.send(&protocol::request(0x42, &[])).unwrap();
        c.next_reply("the NAK").unwrap()
    };
    assert_eq!(e.payload, vec![2]);
    c.link.send(&protocol::request(cmd::PEEK, &[1])).unwrap();
    assert_eq!(c.next_reply("the NAK").unwrap().payload, vec![3]);

    // A frame cut short gets no reply: the client times out with a message.
    c.timeout = std::time::Duration::from_millis(20);
    c.link.send(&[protocol::REQUEST_SYNC, cmd::STATUS]).unwrap();
    let e = c.next_reply("the status").unwrap_err();
    assert!(matches!(e, ProtocolError::Timeout { .. }), "{e}");
    assert!(e.to_string().contains("no reply from the board within 20 ms"), "{e}");
    // 20 ms is more than the bridge's frame time-out (1024 bit times): it
    // has dropped the broken frame and answers the next request.
    c.timeout = std::time::Duration::from_secs(2);
    assert_eq!(c.status().unwrap().errors, 0);

    // The compact commands refuse what they cannot carry out, before doing
    // any of it: a bitmap that could run past input 65535 or has no bytes,
    // a burst with 0 or over 17 bytes per word, no words, or a remainder.
    let applied = c.status().unwrap().config_writes;
    for (command, payload) in [
        (cmd::INPUT_BITMAP, vec![0xff, 0x51, 0xff]),
        (cmd::INPUT_BITMAP, vec![0, 0]),
        (cmd::WRITE_BURST, vec![0, 0, 3, 0, 0, 0, 0, 1]),
        (cmd::WRITE_BURST, vec![0, 0, 3, 0, 0, 0, 18, 1]),
        (cmd::WRITE_BURST, vec![0, 0, 3, 0, 0, 0, 2]),
        (cmd::WRITE_BURST, vec![0, 0, 3, 0, 0, 0, 2, 1, 2, 3]),
    ] {
        c.link.send(&protocol::request(command, &payload)).unwrap();
        let r = c.next_reply("the NAK").unwrap();
        assert_eq!((r.kind, r.payload.as_slice()), (reply::NAK, &[3u8][..]), "{command:#04x} {payload:?}");
    }
    let st = c.status().unwrap();
    assert_eq!((st.config_writes, st.errors), (applied, 0), "a refused request changed something");

    // An input index beyond the host table raises error flag 1, from an
    // index list and from a bitmap alike (the last bit of the highest
    // bitmap there can be is input 65535); a lockstep run (the network
    // already loaded) reports it as the first divergence.
    let (cb, pb) = InputFrame::Bitmap { first: 65360, bits: [vec![0; 21], vec![0x80]].concat() }.command();
    c.link.send(&protocol::request(cb, &pb)).unwrap();
    assert_eq!(c.next_reply("the ACK").unwrap().kind, reply::ACK);
    assert_eq!(c.status().unwrap().errors, 0b10);
    c.clear_errors().unwrap();
    c.inputs(&[60000]).unwrap();
    assert_eq!(c.status().unwrap().errors, 0b10);
    let mut board = BoardModel::new(c, "simulated board", true);
    let quiet = spikeforge_net::Stimulus::default();
    let r = lockstep(&mut board, &net, &m, &quiet, &RunOptions::verified(1), None, &mut |_| {}).unwrap();
    let Verdict::Mismatch(mm) = &r.verdict else { panic!("the error flag was not reported: {:?}", r.verdict) };
    assert_eq!((mm.step, &mm.divergence), (0, &spikeforge_sim::Divergence::ErrorFlags(0b10)));
    assert!(mm.to_string().contains("input index out of range"), "{mm}");
    let mut c = board.client;
    c.clear_errors().unwrap();
    assert_eq!(c.status().unwrap().errors, 0);
}

/// splitmix64: deterministic test bytes without a random-number crate.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// Breaks every well-formed request (sync, command, length <= 24, payload,
/// good CRC) that starts anywhere in `bytes`, so that the bridge, whatever
/// byte it synchronizes on, can only see frames with a bad CRC.
fn break_valid_frames(bytes: &mut [u8]) -> usize {
    let mut broken = 0;
    for i in 0..bytes.len() {
        if bytes[i] != protocol::REQUEST_SYNC || i + 3 >= bytes.len() {
            continue;
        }
        let len = bytes[i + 2] as usize;
        if len > protocol::MAX_PAYLOAD || i + 3 + len >= bytes.len() {
            continue;
        }
        if protocol::crc8(&bytes[i + 1..i + 3 + len]) == bytes[i + 3 + len] {
            bytes[i + 3 + len] ^= 1;
            broken += 1;
        }
    }
    broken
}

/// A WRITE or WRITE_BURST request with random words (it would change the
/// network if the bridge ever applied it), or an INPUT_BITMAP request with
/// random bits from an input past the host table (a spike from it would
/// raise error flag 1).
fn random_request(rng: &mut Rng) -> Vec<u8> {
    let header = |rng: &mut Rng| vec![0, rng.below(4) as u8, rng.below(9) as u8, 0, 0, rng.below(16) as u8];
    match rng.below(3) {
        0 => {
            let mut p = header(rng);
            p.extend(rng.bytes(protocol::MAX_PAYLOAD - 6));
            protocol::request(cmd::WRITE, &p)
        }
        1 => {
            let mut p = header(rng);
            let b = 1 + rng.below(4) as usize;
            p.push(b as u8);
            let words = 1 + rng.below((protocol::BURST_DATA / b) as u64) as usize;
            p.extend(rng.bytes(b * words));
            protocol::request(cmd::WRITE_BURST, &p)
        }
        _ => {
            let first = 8 + rng.below(65353) as u16;
            let mut p = first.to_be_bytes().to_vec();
            let n = 1 + rng.below(protocol::BITMAP_BYTES as u64) as usize;
            p.extend(rng.bytes(n));
            protocol::request(cmd::INPUT_BITMAP, &p)
        }
    }
}

#[test]
fn bridge_survives_garbage() {
    let spec = small_spec();
    let built = build_board(&spec).unwrap_or_else(|e| panic!("{e}"));
    let net = network(RING);
    let stim = stimulus(&net, RING_STIM);
    let m = mapped(&net, &spec, Algorithm::Multilevel);
    let mut c = Client::new(SimLink::new(&built).unwrap(), BAUD);
    // `load` checks that the bridge applied exactly the words it sent.
    c.load(&m.packed(), &mut |_, _| {}).unwrap_or_else(|e| panic!("{e}"));
    let applied = c.status().unwrap().config_writes.expect("the bridge counts configuration words");
    let quiet = FRAME_TIMEOUT_BITS + 16;
    let mut rng = Rng(0x5eed_b41d);

    // After each episode: drop the replies until the line is quiet for a
    // frame time-out, then a request must be answered, no word may have
    // been applied and no input spike taken (error flags stay clear).
    let check = |c: &mut Client<SimLink>, what: &str| {
        c.link.drain(quiet);
        let st = c.status().unwrap_or_else(|e| panic!("after {what}: no answer to STATUS: {e}"));
        assert_eq!(st.config_writes, Some(applied), "after {what}: a configuration word was applied");
        assert_eq!(st.errors, 0, "after {what}: an error flag (an input spike taken?)");
        assert!(!st.busy, "after {what}: busy");
    };

    // 1. 100,000 random bytes at the right baud rate, in bursts.
    let mut sent = 0;
    let mut broken = 0;
    while sent < 100_000 {
        let n = 1 + rng.below(4000) as usize;
        let mut burst = rng.bytes(n);
        broken += break_valid_frames(&mut burst);
        c.link.send(&burst).unwrap();
        sent += n;
        check(&mut c, "random bytes");
    }
    // 2. Requests cut short (the CRC byte never comes), then silence.
    for _ in 0..100 {
        let f = random_request(&mut rng);
        let cut = 1 + rng.below(f.len() as u64 - 1) as usize;
        c.link.send(&f[..cut]).unwrap();
        check(&mut c, "a truncated frame");
    }
    // 3. Requests with one bit flipped after the sync byte: CRC-8 detects
    // every single-bit error, so each is refused.
    for _ in 0..300 {
        let mut f = random_request(&mut rng);
        let bit = 8 + rng.below(8 * (f.len() as u64 - 1)) as usize;
        f[bit / 8] ^= 1 << (bit % 8);
        break_valid_frames(&mut f);
        c.link.send(&f).unwrap();
        check(&mut c, "a frame with a bad CRC");
    }
    // 4. Bursts at wrong baud rates, glitches and breaks.
    for i in 0..60 {
        let cpb = [1, 2, 3, 5, 6, 7, 8, 12][i % 8];
        let n = 1 + rng.below(200) as usize;
        let mut burst = rng.bytes(n);
        broken += break_valid_frames(&mut burst);
        c.link.send_at(&burst, cpb);
        c.link.send_level(0, 1 + rng.below(3) as u32);
        c.link.send_level(1, rng.below(40) as u32);
        if i % 10 == 0 {
            c.link.send_level(0, 100 * c.link.clocks_per_bit());
        }
        check(&mut c, "a burst at a wrong baud rate");
    }
    // 5. Requests sent without waiting for the replies (harmless kinds):
    // some are dropped, none is mangled into something else.
    for _ in 0..20 {
        let mut burst = Vec::new();
        for _ in 0..1 + rng.below(5) {
            burst.extend(protocol::request(cmd::STATUS, &[]));
            burst.extend(protocol::request(cmd::PEEK, &[0, 0, 0, rng.below(3) as u8]));
        }
        c.link.send(&burst).unwrap();
        check(&mut c, "requests without waiting");
    }
    assert!(broken < 10, "the random bursts held {broken} accidental valid frames");

    // No configuration word was applied by the storm.
    assert_eq!(c.status().unwrap().config_writes, Some(applied));
    // The network loaded before the storm still runs exactly as golden (the
    // run starts by rewriting the potentials: the reset writes).
    let steps = 16;
    let mut board = BoardModel::new(c, "simulated board", true);
    let r = lockstep(&mut board, &net, &m, &stim, &RunOptions::verified(steps), None, &mut |_| {})
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.verdict, Verdict::Equal, "{:?}", r.verdict);
    let mut c = board.client;
    let g = spikeforge_golden::run(&net, &stim, steps).unwrap();
    assert_eq!(r.spikes, g.spikes, "spikes after the garbage differ from golden");
    for (n, p) in m.placement.iter().enumerate() {
        if let Some((core, slot)) = *p {
            assert_eq!(c.peek(core, slot).unwrap(), g.potentials[n], "potential of {}", net.neuron_name(n as u32));
        }
    }
    let resets = spikeforge_hw::config::reset_writes(&m.packed()).len() as u16;
    assert_eq!(c.status().unwrap().config_writes, Some(applied.wrapping_add(resets)));
}

/// Bytes and clocks on the simulated wire for one kind of request.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    frames: u64,
    bytes: u64,
    clocks: u64,
}

/// A [`SimLink`] that books every byte (both ways) and every clock to the
/// command of the request in flight.
struct Counting {
    link: SimLink,
    by_cmd: BTreeMap<u8, Tally>,
    current: u8,
}

impl Counting {
    fn sum(&self, cmds: &[u8]) -> Tally {
        cmds.iter().filter_map(|c| self.by_cmd.get(c)).fold(Tally::default(), |a, t| Tally {
            frames: a.frames + t.frames,
            bytes: a.bytes + t.bytes,
            clocks: a.clocks + t.clocks,
        })
    }
}

impl Link for Counting {
    fn send(&mut self, bytes: &[u8]) -> Result<(), ProtocolError> {
        if bytes.len() > 1 && bytes[0] == protocol::REQUEST_SYNC {
            self.current = bytes[1];
            self.by_cmd.entry(self.current).or_default().frames += 1;
        }
        self.by_cmd.entry(self.current).or_default().bytes += bytes.len() as u64;
        self.link.send(bytes)
    }

    fn recv(&mut self, timeout: Duration) -> Result<Option<u8>, ProtocolError> {
        let c0 = self.link.cycles;
        let r = self.link.recv(timeout)?;
        let t = self.by_cmd.entry(self.current).or_default();
        t.clocks += self.link.cycles - c0;
        t.bytes += r.is_some() as u64;
        Ok(r)
    }
}

/// 256 inputs, densely connected to 6 hidden neurons, 4 outputs: the
/// shape of the MLP (many inputs, synapse words dominating the load) on a
/// spec small enough to build and load fast under Verilator.
fn wide_spec() -> HardwareSpec {
    HardwareSpec {
        name: "uart-wide".into(),
        mesh_width: 1,
        mesh_height: 1,
        neurons_per_core: 16,
        axons_per_core: 512,
        synapses_per_core: 1024,
        routes_per_core: 16,
        param_sets_per_core: 4,
        input_neurons: 256,
        input_routes: 256,
        ..HardwareSpec::preset("tiny").unwrap()
    }
}

const WIDE_INPUTS: u32 = 256;

fn wide_network(rng: &mut Rng) -> String {
    let mut w = |rows: u32, cols: u32, lo: i64, span: u64| {
        let rows: Vec<String> = (0..rows)
            .map(|_| {
                let r: Vec<String> = (0..cols).map(|_| (lo + rng.below(span) as i64).to_string()).collect();
                format!("[{}]", r.join(", "))
            })
            .collect();
        rows.join(", ")
    };
    let (hidden, out) = (w(WIDE_INPUTS, 6, -6, 16), w(6, 4, -10, 40));
    format!(
        "format = 1\nname = \"wide\"\n\
         [[populations]]\nname = \"in\"\nsize = {WIDE_INPUTS}\nkind = \"input\"\n\
         [[populations]]\nname = \"hidden\"\nsize = 6\nthreshold = 120\n\
         [[populations]]\nname = \"out\"\nsize = 4\nthreshold = 30\noutput = true\n\
         [[projections]]\npre = \"in\"\npost = \"hidden\"\nkind = \"dense\"\nweights = [{hidden}]\n\
         [[projections]]\npre = \"hidden\"\npost = \"out\"\nkind = \"dense\"\nweights = [{out}]\n"
    )
}

/// One run over the simulated UART: the load and `steps` steps in lockstep
/// with golden (every spike, potentials after the last step).
struct PathRun {
    load: Tally,
    input: Tally,
    step: Tally,
    verdict: Verdict,
}

fn run_path(
    built: &spikeforge_sim::Built,
    net: &spikeforge_net::Network,
    m: &spikeforge_mapper::Mapping,
    stim: &spikeforge_net::Stimulus,
    steps: u32,
    compact: bool,
) -> PathRun {
    let link = Counting { link: SimLink::new(built).unwrap(), by_cmd: BTreeMap::new(), current: 0 };
    let mut client = Client::new(link, BAUD);
    client.compact = compact;
    let mut board = BoardModel::new(client, "simulated board", false);
    let r = lockstep(&mut board, net, m, stim, &RunOptions::verified(steps), None, &mut |_| {})
        .unwrap_or_else(|e| panic!("{e}"));
    let c = &board.client;
    assert_eq!(c.compact, compact, "the bridge knows the compact commands");
    let l = &c.link;
    PathRun {
        load: l.sum(&[cmd::WRITE, cmd::WRITE_BURST]),
        input: l.sum(&[cmd::INPUT, cmd::INPUT_BITMAP]),
        step: l.sum(&[cmd::STEP]),
        verdict: r.verdict,
    }
}

fn wire_bytes_inputs(steps: &[Vec<u32>], compact: bool) -> u64 {
    steps.iter().flat_map(|ix| input_frames(ix, compact).unwrap()).map(|f| f.wire_bytes() as u64).sum()
}

fn wire_bytes_config(writes: &[ConfigWrite], spec: &HardwareSpec, compact: bool) -> (u64, u64) {
    let f = config_frames(writes, spec, compact);
    (f.iter().map(|f| f.wire_bytes() as u64).sum(), f.len() as u64)
}

/// Seconds on a UART at `baud`, 8N1 (10 bit times a byte).
fn secs(bytes: u64, baud: u32) -> f64 {
    bytes as f64 * 10.0 / baud as f64
}

/// The old path (index frames, single WRITEs) against the compact one
/// (bitmaps, bursts) on the same board and network: both equal to golden,
/// the compact one at most a third of the input bytes per step and a
/// quarter of the load's bytes. The frame model of the protocol module
/// must predict the bytes counted on the wire exactly; it then gives the
/// Fashion-MNIST MLP's figures on the iCEBreaker.
#[test]
fn compact_paths_cut_the_bytes_on_the_wire() {
    let spec = wide_spec();
    let built = build_board(&spec).unwrap_or_else(|e| panic!("{e}"));
    let mut rng = Rng(0x00c0_ffee);
    let net = network(&wide_network(&mut rng));
    let steps = 4u32;
    // About 28% of the inputs fire each step.
    let mut csv = String::from("step,population,index\n");
    for t in 0..steps {
        for i in 0..WIDE_INPUTS {
            if rng.below(100) < 28 {
                csv.push_str(&format!("{t},in,{i}\n"));
            }
        }
    }
    let stim = stimulus(&net, &csv);
    let m = mapped(&net, &spec, Algorithm::Multilevel);
    let host: Vec<Vec<u32>> =
        (0..steps).map(|t| stim.at(t).iter().map(|&g| m.input_index[g as usize].unwrap()).collect()).collect();
    let spikes_in: usize = host.iter().map(Vec::len).sum();
    let g = spikeforge_golden::run(&net, &stim, steps).unwrap();
    assert!(!g.spikes.is_empty(), "the network fires");

    let old = run_path(&built, &net, &m, &stim, steps, false);
    let new = run_path(&built, &net, &m, &stim, steps, true);
    assert_eq!(old.verdict, Verdict::Equal, "old path: {:?}", old.verdict);
    assert_eq!(new.verdict, Verdict::Equal, "compact path: {:?}", new.verdict);

    // The frame model is exact: what it predicts is what went over the wire.
    let writes = config_writes(&m.packed());
    for (run, compact) in [(&old, false), (&new, true)] {
        assert_eq!(run.input.bytes, wire_bytes_inputs(&host, compact), "input bytes, compact {compact}");
        assert_eq!(run.load.bytes, wire_bytes_config(&writes, &spec, compact).0, "load bytes, compact {compact}");
    }
    let per_step = |t: &Tally| t.bytes as f64 / steps as f64;
    let per_step_clk = |t: &Tally| t.clocks as f64 / steps as f64;
    eprintln!(
        "wide network ({WIDE_INPUTS} inputs, {:.0} spikes/step = {:.0}%), {} configuration words, {} clocks per bit:",
        spikes_in as f64 / steps as f64,
        100.0 * spikes_in as f64 / (steps * WIDE_INPUTS) as f64,
        writes.len(),
        spikeforge_sim::uart::SIM_CLOCKS_PER_BIT
    );
    for (name, r) in [("old (INPUT, WRITE)", &old), ("compact (INPUT_BITMAP, WRITE_BURST)", &new)] {
        eprintln!(
            "  {name:<36} input/step {:>6.1} B {:>4.1} frames {:>8.0} clocks | step/step {:>6.1} B {:>8.0} clocks | load {:>6} B {:>5} frames {:>9} clocks",
            per_step(&r.input),
            r.input.frames as f64 / steps as f64,
            per_step_clk(&r.input),
            per_step(&r.step),
            per_step_clk(&r.step),
            r.load.bytes,
            r.load.frames,
            r.load.clocks
        );
    }
    eprintln!(
        "  compact/old: input bytes {:.3}, input clocks {:.3}, load bytes {:.3}, load clocks {:.3}",
        new.input.bytes as f64 / old.input.bytes as f64,
        new.input.clocks as f64 / old.input.clocks as f64,
        new.load.bytes as f64 / old.load.bytes as f64,
        new.load.clocks as f64 / old.load.clocks as f64
    );
    assert!(3 * new.input.bytes <= old.input.bytes, "input: {} B against {} B", new.input.bytes, old.input.bytes);
    assert!(4 * new.load.bytes <= old.load.bytes, "load: {} B against {} B", new.load.bytes, old.load.bytes);
    // Clocks follow the bytes: the bridge's work on a frame is short
    // against its bytes' time on the wire.
    assert!(3 * new.input.clocks <= old.input.clocks && 4 * new.load.clocks <= old.load.clocks);

    mlp_figures();
}

/// The Fashion-MNIST MLP on the iCEBreaker (`up5k`, one core): per image 32
/// steps of 230 spikes among 784 inputs (random, as rate coding makes
/// them; also 131, the 4,193 spikes of the first test image that
/// docs/benchmarks.md counts), STEP (4 bytes) and DONE (12) each step,
/// then the potentials rewritten (256 words), CLEAR and the 10 outputs
/// read (PEEK and VALUE, 16 bytes each); output SPIKE frames (8 bytes
/// each) are not counted. The load: 50,815 synapse words of 16 bits and
/// the other memories of `up5k` at full depth (and the whole synapse
/// memory, what `config_writes` sends). Wire time only, 10 bit times a
/// byte; a USB UART's turnaround per request comes on top (requests are
/// counted).
fn mlp_figures() {
    let spec = HardwareSpec::preset("up5k").unwrap();
    let (inputs, steps, outputs) = (784u32, 32, 10u64);
    let mut rng = Rng(0x0f45_4a10);
    let mut image = |spikes: usize| -> Vec<Vec<u32>> {
        (0..steps)
            .map(|_| {
                let mut all: Vec<u32> = (0..inputs).collect();
                for i in 0..spikes {
                    let j = i + rng.below((inputs as usize - i) as u64) as usize;
                    all.swap(i, j);
                }
                all.truncate(spikes);
                all
            })
            .collect()
    };
    let images = [(230, image(230)), (131, image(131))];
    let potentials: Vec<ConfigWrite> =
        (0..spec.neurons_per_core).map(|a| ConfigWrite::word(0, Memory::Potentials, a, 0)).collect();
    let mut load: Vec<ConfigWrite> = (0..50_815).map(|a| ConfigWrite::word(0, Memory::Synapses, a, 0)).collect();
    for mem in Memory::CORE.into_iter().chain(Memory::HOST).filter(|&m| m != Memory::Synapses) {
        load.extend((0..mem.depth(&spec)).map(|a| ConfigWrite::word(0, mem, a, 0)));
    }
    load.push(ConfigWrite { core: 0, target: ConfigTarget::NeuronCount, addr: 0, data: 0 });
    let mut full = load.clone();
    full.extend((50_815..spec.synapses_per_core).map(|a| ConfigWrite::word(0, Memory::Synapses, a, 0)));
    eprintln!(
        "Fashion-MNIST MLP on the iCEBreaker, from these frame sizes: {inputs} inputs, {steps} steps per image; load {} words ({} at full depth)",
        load.len(),
        full.len()
    );
    for compact in [false, true] {
        let path = if compact { "compact" } else { "old" };
        for (spikes, image) in &images {
            let frames: Vec<InputFrame> = image.iter().flat_map(|ix| input_frames(ix, compact).unwrap()).collect();
            let input: u64 = frames.iter().map(|f| f.wire_bytes() as u64).sum();
            let (reset, reset_n) = wire_bytes_config(&potentials, &spec, compact);
            let per_image = input + steps as u64 * (4 + 12) + reset + 9 + outputs * 16;
            let requests = frames.len() as u64 + steps as u64 + reset_n + 1 + outputs;
            eprintln!(
                "  {path:<8} {spikes} spikes/step: per image {:>6} B in {:>4} requests (inputs {:>5.0} B/step): {:>6.3} s at 115200, {:>6.3} s at {BAUD}",
                per_image,
                requests,
                input as f64 / steps as f64,
                secs(per_image, 115_200),
                secs(per_image, BAUD),
            );
        }
        let (lb, ln) = wire_bytes_config(&load, &spec, compact);
        let (fb, fnn) = wire_bytes_config(&full, &spec, compact);
        eprintln!(
            "  {path:<8} load {:>8} B in {:>5} requests: {:>6.1} s at 115200, {:>5.1} s at {BAUD}; full depth {:>8} B in {:>5} requests: {:>6.1} s, {:>5.1} s",
            lb,
            ln,
            secs(lb, 115_200),
            secs(lb, BAUD),
            fb,
            fnn,
            secs(fb, 115_200),
            secs(fb, BAUD)
        );
    }
    // The old path is one request per word; the compact one packs 16-bit
    // words 8 to a frame and a step's inputs into bitmaps.
    assert!(config_frames(&load, &spec, true).iter().map(ConfigFrame::words).max() == Some(8));
    assert!(input_frames(&images[0].1[0], true).unwrap().iter().all(|f| matches!(f, InputFrame::Bitmap { .. })));
}
