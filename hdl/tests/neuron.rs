//! The neuron datapath in rust-hdl's own simulator against the semantics:
//! the pipelined, exact-width `NeuronPipe` the sweep uses (one case per
//! clock, results three clocks later). Their emitted Verilog goes through the tools in tests/tools.rs.

use rust_hdl::prelude::*;
use spikeforge_hdl::neuron::{NeuronPipe, PIPE_STAGES};

/// One case: (v, acc, threshold, bias, v_min, leak, reset_zero).
type Case = (i64, i64, i64, i64, i64, Option<u32>, bool);

/// The rule of docs/format.md, written out independently.
fn reference(p: u32, (v, a, th, b, vmin, leak, zero): Case) -> (i64, bool) {
    let (lo, hi) = (-(1i64 << (p - 1)), (1i64 << (p - 1)) - 1);
    let l = leak.map_or(0, |s| v >> s);
    let mut x = (v - l + a + b).clamp(lo, hi);
    let spike = x >= th;
    if spike {
        x = if zero { 0 } else { x - th };
    }
    (x.max(vmin), spike)
}

fn bits40(v: i64) -> Bits<40> {
    Bits::<40>::from((v as u64) & ((1 << 40) - 1))
}

fn signed40(b: Bits<40>) -> i64 {
    ((b.to_u64() << 24) as i64) >> 24
}

fn run_cases(p: u32, cases: Vec<Case>) {
    run_pipe(p, (p + 8).min(36), cases);
}

/// The same cases through the pipeline with A-bit accumulators, back to
/// back (one per clock, slot = case index), with a bubble every fifth clock.
fn run_pipe(p: u32, a: u32, cases: Vec<Case>) {
    let mut sim: Simulation<NeuronPipe> = Simulation::default();
    sim.add_clock(5, |x: &mut Box<NeuronPipe>| x.clock.next = !x.clock.val());
    let expected: Vec<(i64, bool)> = cases.iter().map(|&c| reference(p, c)).collect();
    let total = cases.len();
    sim.add_testbench(move |mut ep: Sim<NeuronPipe>| {
        let mut x = ep.init()?;
        let (mut i, mut got, mut clock) = (0usize, Vec::new(), 0u64);
        while got.len() < total {
            let issue = i < total && clock % 5 != 4;
            x.in_valid.next = issue;
            if issue {
                let (v, acc, th, b, vmin, leak, zero) = cases[i];
                x.in_slot.next = (i as u64).into();
                x.in_output.next = i % 3 == 0;
                x.v.next = bits40(v);
                x.acc.next = bits40(acc);
                x.threshold.next = bits40(th);
                x.bias.next = bits40(b);
                x.v_min.next = bits40(vmin);
                x.leak_en.next = leak.is_some();
                x.leak_shift.next = (leak.unwrap_or(0) as u64).into();
                x.reset_zero.next = zero;
                i += 1;
            }
            wait_clock_cycle!(ep, clock, x);
            clock += 1;
            if x.out_valid.val() {
                let k = x.out_slot.val().index();
                sim_assert!(ep, k == got.len() && x.out_output.val() == (k % 3 == 0), x);
                got.push((signed40(x.v_next.val()), x.out_spike.val()));
            } else {
                sim_assert!(ep, !x.out_spike.val(), x);
            }
            sim_assert!(ep, clock < 10 * (total as u64 + 10), x);
        }
        for (k, (g, e)) in got.iter().zip(&expected).enumerate() {
            if g != e {
                eprintln!("case {k} {:?}: got {g:?}, want {e:?}", cases[k]);
            }
            sim_assert!(ep, g == e, x);
        }
        // Drained: busy falls once the last result has left.
        wait_clock_cycle!(ep, clock, x);
        sim_assert!(ep, !x.busy.val() && !x.out_valid.val(), x);
        ep.done(x)
    });
    let mut uut = NeuronPipe::new(p, a, false);
    uut.connect_all();
    sim.run(Box::new(uut), 100_000_000).unwrap();
}

#[test]
fn pipe_latency_is_three_clocks() {
    assert_eq!(PIPE_STAGES, 3);
}

#[test]
fn pipe_most_negative_accumulator() {
    // a = -2^(A-1) with A = 16 at P = 8, and A = 36 at P = 32.
    run_pipe(8, 16, vec![(-128, -32768, 127, -128, -128, Some(7), false), (127, 32767, 1, 127, -128, None, true)]);
    run_pipe(
        32,
        36,
        vec![
            (i32::MIN as i64, -(1i64 << 35), 5, i32::MIN as i64, i32::MIN as i64, Some(31), false),
            (i32::MAX as i64, (1i64 << 35) - 1, i32::MAX as i64, i32::MAX as i64, i32::MIN as i64, Some(0), false),
        ],
    );
}

#[test]
fn hand_cases_p16() {
    run_cases(
        16,
        vec![
            (0, 0, 10, 7, -32768, None, false),               // 7, no spike
            (7, 0, 10, 7, -32768, None, false),               // 14 -> spike, 4
            (7, 0, 10, 7, -32768, None, true),                // 14 -> spike, 0
            (-5, 0, 100, 0, -32768, Some(2), false),          // leak floors: -3
            (5, 0, 100, 0, -32768, Some(2), false),           // 4
            (100, 32000, 32767, 1000, -32768, None, false),   // saturates high at 32767 -> spike -> 0
            (-32768, -128, 10, -100, -32768, Some(0), false), // leak 0 on the most negative value
            (-100, -128 * 200, 10, 0, -32768, None, false),   // saturates low
            (0, -100, 10, 0, -50, None, false),               // v_min clamp
            (0, 12, 10, 0, 3, None, true),                    // hard reset then clamp to 3
            (32767, 0, 32767, 0, -32768, Some(15), false),    // threshold exactly, max leak shift
        ],
    );
}

#[test]
fn most_negative_values_p8_and_p32() {
    run_cases(8, vec![(-128, -128, 127, -128, -128, Some(7), false), (-128, -128, 1, 127, -128, Some(1), true)]);
    run_cases(
        32,
        vec![
            (i32::MIN as i64, i32::MIN as i64, i32::MAX as i64, i32::MIN as i64, i32::MIN as i64, Some(31), false),
            (i32::MAX as i64, i32::MAX as i64, 1, i32::MAX as i64, i32::MIN as i64, None, false),
            (i32::MIN as i64, 0, 5, 0, i32::MIN as i64, Some(0), true),
        ],
    );
}

#[test]
fn random_cases_match_the_semantics() {
    let mut rng = spikeforge_net::rng::SplitMix64(99);
    for p in [4u32, 8, 12, 16, 24, 32] {
        let (lo, hi) = (-(1i64 << (p - 1)), (1i64 << (p - 1)) - 1);
        let span = (hi - lo + 1) as u64;
        let mut cases = Vec::new();
        for _ in 0..60 {
            let r = |rng: &mut spikeforge_net::rng::SplitMix64| lo + rng.below(span) as i64;
            let v = r(&mut rng);
            let a = r(&mut rng) * (1 + rng.below(4) as i64);
            let th = 1 + rng.below(hi as u64) as i64;
            let b = r(&mut rng);
            let vmin = if rng.below(2) == 0 { lo } else { r(&mut rng) };
            let leak = if rng.below(3) == 0 { None } else { Some(rng.below(p as u64) as u32) };
            cases.push((v, a, th, b, vmin, leak, rng.below(2) == 0));
        }
        run_cases(p, cases);
    }
}
