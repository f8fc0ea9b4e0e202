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

/// One comparator for every model: the architectural model, Verilator and
/// Icarus run the ring in lockstep with golden and agree; with the same
/// neuron moved to an unreachable threshold, all three report the same
/// first divergence.
#[test]
fn every_model_reports_through_one_comparator() {
    use spikeforge_sim::{icarus, lockstep, Divergence};
    let spec = ring_spec();
    let b = built(&spec);
    let net = network(RING);
    let stim = stimulus(&net, RING_STIM);
    let m = mapped(&net, &spec, Algorithm::Greedy);
    let steps = 16;
    let dir = std::env::temp_dir().join(format!("sf-one-comparator-{}", std::process::id()));
    let o = RunOptions::verified(steps);
    let arch = lockstep(&mut m.arch_model(), &net, &m, &stim, &o, None, &mut |_| {}).unwrap();
    let veri = run(&b, &net, &m, &stim, &o, &mut |_| {}).unwrap();
    let ica = icarus::run(&dir.join("equal"), &net, &m, &stim, &o).unwrap_or_else(|e| panic!("{e}"));
    for (name, r) in [("arch", &arch), ("Verilator", &veri), ("Icarus", &ica)] {
        assert_eq!(r.verdict, Verdict::Equal, "{name}: {:?}", r.verdict);
        assert_eq!(r.spikes, arch.spikes, "{name}");
        assert_eq!(r.potentials, arch.potentials, "{name}");
    }
    // The first neuron golden fires, made unable to fire.
    let g = spikeforge_golden::run(&net, &stim, steps).unwrap();
    let first = g.spikes.as_slice()[0];
    let (core, slot) = m.placement[first.neuron as usize].unwrap();
    let mut o = RunOptions::verified(steps);
    o.extra_writes = spikeforge_tests::unable_to_fire(&m, core, slot);
    let arch = lockstep(&mut m.arch_model(), &net, &m, &stim, &o, None, &mut |_| {}).unwrap();
    let veri = run(&b, &net, &m, &stim, &o, &mut |_| {}).unwrap();
    let ica = icarus::run(&dir.join("fault"), &net, &m, &stim, &o).unwrap_or_else(|e| panic!("{e}"));
    for (name, r) in [("arch", &arch), ("Verilator", &veri), ("Icarus", &ica)] {
        let Verdict::Mismatch(mm) = &r.verdict else { panic!("{name} missed the fault: {:?}", r.verdict) };
        assert_eq!((mm.step, mm.neuron, mm.place), (first.step, Some(first.neuron), Some((core, slot))), "{name}");
        assert_eq!(mm.divergence, Divergence::Spike { expected: true, got: false }, "{name}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
