//! Stress cases on the Verilator model, each checked against golden every
//! step: backpressure with bursts of input, saturation, all-negative
//! weights, every neuron firing every step, a reset in the middle of a run,
//! and random power-up state (`--x-initial unique`) with several seeds.

mod common;
use common::*;
use spikeforge_mapper::{Algorithm, HardwareSpec};
use spikeforge_net::{Network, Stimulus};
use spikeforge_sim::{run, Backpressure, InitialState, RunOptions, SimRun, Verdict};
use std::fmt::Write;

fn verified(spec: &HardwareSpec, net: &Network, stim: &Stimulus, steps: u32, f: impl Fn(&mut RunOptions)) -> SimRun {
    let b = built(spec);
    let m = mapped(net, spec, Algorithm::Multilevel);
    let mut o = RunOptions::verified(steps);
    o.potentials_every_step = true;
    f(&mut o);
    let r = run(&b, net, &m, stim, &o, &mut |_| {}).unwrap();
    if let Verdict::Mismatch(mm) = &r.verdict {
        panic!("{mm}");
    }
    assert_eq!(r.verdict, Verdict::Equal);
    assert_eq!(r.errors, 0);
    r
}

/// `n_in` inputs densely connected to `n` neurons, which are connected all to
/// all: `w_in`, `w_rec` weights; `extra` is appended to the neuron population.
fn dense_net(p: u32, w: u32, n_in: usize, n: usize, w_in: i64, w_rec: i64, extra: &str) -> Network {
    let mut s = format!(
        "format = 1\n[fixed_point]\nweight_bits = {w}\npotential_bits = {p}\naccumulator_bits = 24\n\
         [[populations]]\nname = \"in\"\nsize = {n_in}\nkind = \"input\"\n\
         [[populations]]\nname = \"x\"\nsize = {n}\n{extra}\n"
    );
    let row = |n: usize, v: i64| format!("[{}]", vec![v.to_string(); n].join(", "));
    let _ = write!(
        s,
        "[[projections]]\npre = \"in\"\npost = \"x\"\nkind = \"dense\"\nweights = [{}]\n",
        vec![row(n, w_in); n_in].join(", ")
    );
    let _ = write!(
        s,
        "[[projections]]\npre = \"x\"\npost = \"x\"\nkind = \"dense\"\nweights = [{}]\n",
        vec![row(n, w_rec); n].join(", ")
    );
    network(&s)
}

/// Every input spikes in every listed step.
fn all_inputs(net: &Network, n_in: usize, steps: impl Iterator<Item = u32>) -> Stimulus {
    let mut csv = String::from("step,population,index\n");
    for t in steps {
        for i in 0..n_in {
            let _ = writeln!(csv, "{t},in,{i}");
        }
    }
    stimulus(net, &csv)
}

/// Four cores of 16 neurons with room for dense all-to-all connectivity.
fn tiny() -> HardwareSpec {
    HardwareSpec {
        name: "stress".into(),
        axons_per_core: 128,
        synapses_per_core: 2048,
        routes_per_core: 128,
        param_sets_per_core: 16,
        ..HardwareSpec::preset("tiny").unwrap()
    }
}

#[test]
fn bursts_of_input_under_heavy_backpressure() {
    // 16 input spikes at once against a 4-entry input FIFO, 48 neurons over
    // 4 cores, spike-out taken in 7% of clocks: nothing may be lost.
    let net = dense_net(16, 8, 16, 48, 3, 1, "threshold = 40\nleak_shift = 2");
    let stim = all_inputs(&net, 16, (0..30).filter(|t| t % 3 != 1));
    let r = verified(&tiny(), &net, &stim, 30, |o| o.backpressure = Backpressure::Random { seed: 9, percent_ready: 7 });
    assert!(r.spikes.len() > 200, "the case must be busy: {} spikes", r.spikes.len());
}

#[test]
fn saturation_at_both_ends() {
    // P = 8: inputs push potentials far past +127; a strong negative
    // recurrent weight and v_min = -128 push them down past -128.
    let spec = HardwareSpec { name: "sat8".into(), potential_bits: 8, ..HardwareSpec::preset("tiny").unwrap() };
    let net = dense_net(
        8,
        8,
        4,
        10,
        127,
        -100,
        "threshold = 127\nreset = \"subtract\"\nv_min = -128\nbias = [-60, 60, -60, 60, -60, 60, -60, 60, -60, 60]",
    );
    let stim = all_inputs(&net, 4, 0..12);
    let r = verified(&spec, &net, &stim, 24, |_| {});
    assert!(r.potentials.contains(&-128), "negative saturation reached: {:?}", r.potentials);
}

#[test]
fn all_negative_weights() {
    let net = dense_net(16, 8, 6, 20, -77, -5, "threshold = 10\nbias = 7\nv_min = -30000\nleak_shift = 3");
    let stim = all_inputs(&net, 6, (0..20).step_by(2));
    let r = verified(&tiny(), &net, &stim, 20, |_| {});
    assert!(r.potentials.iter().any(|&v| v < -100));
}

#[test]
fn every_neuron_fires_every_step() {
    // bias >= threshold: all 60 neurons fire every step, and each spike
    // fans out to all 60 (3600 synaptic events per step over 4 cores).
    let net = dense_net(16, 8, 4, 60, 1, 1, "threshold = 5\nbias = 5\nreset = \"zero\"");
    let stim = all_inputs(&net, 4, 0..10);
    let r = verified(&tiny(), &net, &stim, 10, |_| {});
    assert_eq!(r.spikes.len(), 600);
}

#[test]
fn reset_in_the_middle_of_a_run() {
    // 7 steps, reset (potentials rewritten, accumulators cleared while
    // spikes of step 6 are pending), then the whole stimulus from step 0.
    let spec = ring_spec();
    let net = network(RING);
    let stim = stimulus(&net, RING_STIM);
    let r = verified(&spec, &net, &stim, 20, |o| o.reset_after = Some(7));
    let g = spikeforge_golden::run(&net, &stim, 20).unwrap();
    assert_eq!(r.spikes, g.spikes);
    assert_eq!(r.potentials, g.potentials);
}

#[test]
fn random_power_up_state_with_several_seeds() {
    // Every bit the design does not initialize starts random; loading and
    // the clear must make that invisible.
    let net = dense_net(16, 8, 8, 30, 9, 3, "threshold = 30\nleak_shift = 1");
    let stim = all_inputs(&net, 8, (0..16).step_by(3));
    let ring = network(RING);
    let ring_stim = stimulus(&ring, RING_STIM);
    for seed in [1, 2, 3, 0x5eed] {
        verified(&tiny(), &net, &stim, 16, |o| o.init = InitialState::Random(seed));
        verified(&ring_spec(), &ring, &ring_stim, 20, |o| o.init = InitialState::Random(seed));
    }
}
