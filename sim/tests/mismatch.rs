//! The mismatch report is itself tested: a corrupted memory word must be
//! reported at the right step, core, slot and neuron, with a VCD window.

mod common;
use common::*;
use spikeforge_hw::config::ConfigWrite;
use spikeforge_hw::memory::Memory;
use spikeforge_mapper::Algorithm;
use spikeforge_sim::{run, Divergence, RunOptions, Verdict};

#[test]
fn corrupted_threshold_is_reported_at_the_first_divergent_step() {
    let spec = ring_spec();
    let b = built(&spec);
    let net = network(RING);
    let stim = stimulus(&net, RING_STIM);
    let m = mapped(&net, &spec, Algorithm::Greedy);
    let g = spikeforge_golden::run(&net, &stim, 20).unwrap();
    // The first spike golden expects, and the neuron that makes it.
    let spikeforge_net::Spike { step: t0, neuron: n0 } = g.spikes.as_slice()[0];
    let (core, slot) = m.placement[n0 as usize].unwrap();
    // Moved to a parameter set whose threshold is the largest potential:
    // it cannot fire at t0 any more.
    let writes = spikeforge_tests::unable_to_fire(&m, core, slot);
    let dir = std::env::temp_dir().join(format!("sf-mismatch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let vcd = dir.join("window.vcd");
    let mut o = RunOptions::verified(20);
    o.extra_writes = writes;
    o.mismatch_vcd = Some(vcd.clone());
    let r = run(&b, &net, &m, &stim, &o, &mut |_| {}).unwrap();
    let Verdict::Mismatch(mm) = &r.verdict else { panic!("the corruption was not detected: {:?}", r.verdict) };
    assert_eq!(mm.step, t0);
    assert_eq!(mm.neuron, Some(n0));
    assert_eq!(mm.place, Some((core, slot)));
    assert_eq!(mm.name, net.neuron_name(n0));
    assert_eq!(mm.divergence, Divergence::Spike { expected: true, got: false });
    let text = mm.to_string();
    assert!(text.contains(&format!("step {t0}")), "{text}");
    assert!(text.contains(&format!("core {core} slot {slot}")), "{text}");
    assert!(text.contains(&net.neuron_name(n0)), "{text}");
    assert!(text.contains("expected a spike, got no spike"), "{text}");
    // The window ends at the divergent step and was written.
    let w = mm.vcd.as_ref().expect("a VCD window");
    assert_eq!((w.first, w.last), (t0.saturating_sub(2), t0));
    let v = std::fs::read_to_string(&w.path).unwrap();
    assert!(v.contains("$enddefinitions"), "not a VCD file");
    assert!(v.contains(" step_count "), "top-level signals are traced");
    // The hardware stopped at the divergence: nothing after t0 was kept.
    assert!(r.spikes.iter().all(|s| s.step <= t0));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn corrupted_initial_potential_is_reported_as_a_potential() {
    let spec = ring_spec();
    let b = built(&spec);
    let net = network(RING);
    let stim = stimulus(&net, "step,population,index\n");
    let m = mapped(&net, &spec, Algorithm::Greedy);
    // Neuron ring[1] (no leak, no bias) starts at 5 instead of 0: with no
    // input it keeps that value, so step 0's read-back differs.
    let n = net.neuron_count() - 7 + 1;
    let (core, slot) = m.placement[n as usize].unwrap();
    let mut o = RunOptions::verified(3);
    o.potentials_every_step = true;
    o.extra_writes = vec![ConfigWrite::word(core, Memory::Potentials, slot, 5)];
    let r = run(&b, &net, &m, &stim, &o, &mut |_| {}).unwrap();
    let Verdict::Mismatch(mm) = &r.verdict else { panic!("not detected") };
    assert_eq!(mm.step, 0);
    assert_eq!(mm.neuron, Some(n));
    assert_eq!(mm.divergence, Divergence::Potential { expected: 0, got: 5 });
    assert!(mm.vcd.is_none(), "no VCD was asked for");
}
