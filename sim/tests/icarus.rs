//! Cross-simulator check: the same Verilog and host program under Icarus
//! Verilog gives the same spikes, potentials and cycle counts as Verilator
//! (and both equal golden).

mod common;
use common::*;
use spikeforge_mapper::Algorithm;
use spikeforge_sim::{icarus, run, RunOptions, Verdict};

#[test]
fn icarus_and_verilator_agree_on_the_ring() {
    cross_check(ring_spec(), "bus");
}

#[test]
fn icarus_and_verilator_agree_on_a_mesh() {
    // 3x2 mesh, two neurons per core: packets cross up to three hops.
    let spec = spikeforge_mapper::HardwareSpec {
        name: "ring-mesh".into(),
        neurons_per_core: 2,
        mesh_width: 3,
        mesh_height: 2,
        interconnect: spikeforge_mapper::Interconnect::Mesh,
        ..ring_spec()
    };
    cross_check(spec, "mesh");
}

fn cross_check(spec: spikeforge_mapper::HardwareSpec, tag: &str) {
    let b = built(&spec);
    let net = network(RING);
    let stim = stimulus(&net, RING_STIM);
    let m = mapped(&net, &spec, Algorithm::Multilevel);
    let steps = 16;
    let v = run(&b, &net, &m, &stim, &RunOptions::verified(steps), &mut |_| {}).unwrap();
    assert_eq!(v.verdict, Verdict::Equal);
    let dir = std::env::temp_dir().join(format!("sf-icarus-{tag}-{}", std::process::id()));
    // Icarus through the same lockstep comparator, against golden too.
    let i = icarus::run(&dir, &net, &m, &stim, &RunOptions::verified(steps)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(i.verdict, Verdict::Equal, "{:?}", i.verdict);
    assert_eq!(i.spikes, v.spikes, "Icarus spikes differ from Verilator's");
    assert_eq!(i.potentials, v.potentials);
    assert_eq!(i.cycles_per_step, v.cycles_per_step, "cycle counts differ between simulators");
    assert!(!i.spikes.is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}
