//! Directed lockstep runs of the Verilator model against golden.

mod common;
use common::*;
use spikeforge_mapper::Algorithm;
use spikeforge_sim::{run, RunOptions, Verdict};

#[test]
fn ring_equals_golden_every_step() {
    let spec = ring_spec();
    let b = built(&spec);
    let net = network(RING);
    let stim = stimulus(&net, RING_STIM);
    let m = mapped(&net, &spec, Algorithm::Greedy);
    let mut o = RunOptions::verified(20);
    o.potentials_every_step = true;
    let r = run(&b, &net, &m, &stim, &o, &mut |_| {}).unwrap();
    assert_eq!(r.verdict, Verdict::Equal, "{:?}", r.verdict);
    let g = spikeforge_golden::run(&net, &stim, 20).unwrap();
    assert_eq!(r.spikes, g.spikes);
    assert!(!r.spikes.is_empty());
    assert_eq!(r.potentials, g.potentials);
    assert_eq!(r.errors, 0);
    eprintln!("cycles per step {:?}", r.cycles_per_step);
}
