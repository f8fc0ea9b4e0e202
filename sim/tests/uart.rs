//! The whole board top, UART bridge included, under Verilator, with the
//! host protocol client (the code `spikeforge run` uses on a serial port)
//! talking bytes to it: load, run, compare with golden; then a corrupted
//! frame, a time-out and a raised error flag.

mod common;
use common::*;
use spikeforge_hw::protocol::{self, cmd, reply, BoardModel, Client, Link, ProtocolError, BAUD, FRAME_TIMEOUT_BITS};
use spikeforge_mapper::{Algorithm, HardwareSpec};
use spikeforge_sim::uart::{build_board, SimLink};
use spikeforge_sim::{lockstep, RunOptions, Verdict};

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

    // An input index beyond the host table raises error flag 1; a lockstep
    // run (the network already loaded) reports it as the first divergence.
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

/// A WRITE request with a random word (it would change the network if
/// the bridge ever applied it).
fn random_write(rng: &mut Rng) -> Vec<u8> {
    let mut p = rng.bytes(protocol::MAX_PAYLOAD);
    p[0] = 0;
    p[1] = rng.below(4) as u8;
    p[2] = rng.below(9) as u8;
    protocol::request(cmd::WRITE, &p)
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
    // frame time-out, then a request must be answered, and no word may
    // have been applied.
    let check = |c: &mut Client<SimLink>, what: &str| {
        c.link.drain(quiet);
        let st = c.status().unwrap_or_else(|e| panic!("after {what}: no answer to STATUS: {e}"));
        assert_eq!(st.config_writes, Some(applied), "after {what}: a configuration word was applied");
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
        let f = random_write(&mut rng);
        let cut = 1 + rng.below(f.len() as u64 - 1) as usize;
        c.link.send(&f[..cut]).unwrap();
        check(&mut c, "a truncated frame");
    }
    // 3. Requests with one bit flipped after the sync byte: CRC-8 detects
    // every single-bit error, so each is refused.
    for _ in 0..300 {
        let mut f = random_write(&mut rng);
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
