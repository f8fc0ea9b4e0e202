//! Directed lockstep runs of the Verilator model against golden.

mod common;
use common::*;
use spikeforge_mapper::{Algorithm, HardwareSpec};
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

/// Twin rows under Verilator: a dense 12 → 16 layer on one core with two
/// synapse banks (`single_port_synapses`) equals golden at every step and
/// takes well under the cycles of the same core with one bank, where each
/// 8-word input row runs alone (the pairs halve the integration).
#[test]
fn twin_rows_equal_golden_and_halve_a_dense_layer() {
    let weights: Vec<String> = (0..12)
        .map(|i| {
            let row: Vec<String> = (0..16).map(|j| (((i * 7 + j * 13) % 41) as i64 - 12).to_string()).collect();
            format!("[{}]", row.join(", "))
        })
        .collect();
    let text = format!(
        "format = 1\n[[populations]]\nname = \"in\"\nsize = 12\nkind = \"input\"\n\
         [[populations]]\nname = \"x\"\nsize = 16\nthreshold = 90\n\
         [[projections]]\npre = \"in\"\npost = \"x\"\nkind = \"dense\"\nweights = [{}]\n",
        weights.join(", ")
    );
    let net = network(&text);
    let csv: String = std::iter::once("step,population,index\n".to_string())
        .chain(
            (0..12u32).flat_map(|t| (0..12u32).filter(move |i| (i + t) % 5 != 0).map(move |i| format!("{t},in,{i}\n"))),
        )
        .collect();
    let stim = stimulus(&net, &csv);
    let steps = 12;
    let mut cycles = Vec::new();
    for two_banks in [true, false] {
        let spec = HardwareSpec {
            name: if two_banks { "twin2" } else { "twin1" }.into(),
            mesh_width: 1,
            mesh_height: 1,
            single_port_synapses: two_banks,
            ..HardwareSpec::preset("tiny").unwrap()
        };
        assert_eq!(spec.synapse_banks(), if two_banks { 2 } else { 1 });
        let b = built(&spec);
        let m = mapped(&net, &spec, Algorithm::Greedy);
        let mut o = RunOptions::verified(steps);
        o.potentials_every_step = true;
        let r = run(&b, &net, &m, &stim, &o, &mut |_| {}).unwrap();
        assert_eq!(r.verdict, Verdict::Equal, "{} bank(s): {:?}", spec.synapse_banks(), r.verdict);
        assert!(!r.spikes.is_empty());
        cycles.push(r.cycles_per_step.iter().sum::<u64>());
    }
    eprintln!("cycles of {steps} steps: two banks {}, one bank {}", cycles[0], cycles[1]);
    assert!(cycles[0] * 10 < cycles[1] * 7, "two banks {} against one {}", cycles[0], cycles[1]);
}

/// A 16-core 4x4 mesh under Verilator: 16 blocks of 8 neurons, one block
/// per core, each fed by its own inputs and linked to the next block and to
/// blocks 5 and 11 further on (so packets cross the mesh east, west, north
/// and south over several hops). Equal to golden, spikes and every
/// potential, after every step; every core holds neurons.
#[test]
fn a_16_core_mesh_equals_golden_every_step() {
    use spikeforge_net::doc::{FixedPointDoc, PopulationDoc, ProjectionDoc};
    use spikeforge_net::rng::SplitMix64;
    use spikeforge_net::{NetworkDoc, PerNeuron, Reset, SpikeTrain, Stimulus};
    let spec = HardwareSpec {
        name: "mesh16".into(),
        mesh_width: 4,
        mesh_height: 4,
        neurons_per_core: 8,
        axons_per_core: 32,
        synapses_per_core: 128,
        routes_per_core: 64,
        input_neurons: 64,
        input_routes: 128,
        interconnect: spikeforge_mapper::Interconnect::Mesh,
        ..HardwareSpec::preset("tiny").unwrap()
    };
    let (blocks, per) = (16i64, 8i64);
    let mut rng = SplitMix64(16);
    let (mut inp, mut rec) = (Vec::new(), Vec::new());
    for b in 0..blocks {
        for i in 0..per {
            let post = b * per + i;
            inp.push([b * 4 + rng.below(4) as i64, post, 30 + rng.below(20) as i64]);
            for hop in [1, 5, 11] {
                let pre = ((b + hop) % blocks) * per + rng.below(per as u64) as i64;
                rec.push([pre, post, rng.below(31) as i64 - 10]);
            }
        }
    }
    let mut x = PopulationDoc::neurons("x", blocks * per, 40);
    x.reset = Some(PerNeuron::Scalar(Reset::Subtract));
    let doc = NetworkDoc {
        format: 1,
        name: Some("mesh16".into()),
        fixed_point: FixedPointDoc { weight_bits: 8, potential_bits: 16, accumulator_bits: 24 },
        populations: vec![PopulationDoc::input("in", blocks * 4), x],
        projections: vec![ProjectionDoc::sparse("in", "x", inp), ProjectionDoc::sparse("x", "x", rec)],
    };
    let net = spikeforge_net::Network::from_doc(&doc).unwrap();
    let steps = 40;
    let mut pairs = Vec::new();
    for t in 0..steps {
        for i in 0..(blocks * 4) as u32 {
            if rng.below(100) < 25 {
                pairs.push((t, i));
            }
        }
    }
    let stim = Stimulus::from_train(&SpikeTrain::from_pairs(pairs));
    let m = mapped(&net, &spec, Algorithm::Greedy);
    assert_eq!(m.report.cores_used, 16, "one block per core");
    let b = built(&spec);
    let mut o = RunOptions::verified(steps);
    o.potentials_every_step = true;
    let r = run(&b, &net, &m, &stim, &o, &mut |_| {}).unwrap();
    assert_eq!(r.verdict, Verdict::Equal, "{:?}", r.verdict);
    assert_eq!(r.errors, 0);
    let g = spikeforge_golden::run(&net, &stim, steps).unwrap();
    assert_eq!(r.spikes, g.spikes);
    assert!(r.spikes.len() > 100, "the blocks fire ({} spikes)", r.spikes.len());
}

/// A recurrent CubaLIF graph written by the `nir` package, imported as a
/// current-based population, runs under Verilator on a core with
/// `current_state`: equal to golden, spikes and potentials after every
/// step.
#[test]
fn an_imported_cubalif_graph_equals_golden_on_hardware() {
    use spikeforge_convert::nir::{import, ImportOptions};
    use spikeforge_net::rng::SplitMix64;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../convert/tests/nir/recurrent_cubalif.nir");
    let imp = import(&path, &ImportOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let net = &imp.net;
    let spec = HardwareSpec {
        name: "cuba".into(),
        mesh_width: 1,
        mesh_height: 1,
        current_state: true,
        ..HardwareSpec::preset("tiny").unwrap()
    };
    let mut rng = SplitMix64(3);
    let steps = 40;
    // Each input spikes in half of the steps (silent for the last five).
    let mut csv = String::from("step,population,index\n");
    for t in 0..steps - 5 {
        for i in 0..3 {
            if rng.below(2) == 0 {
                csv.push_str(&format!("{t},input,{i}\n"));
            }
        }
    }
    let stim = stimulus(net, &csv);
    let b = built(&spec);
    let m = mapped(net, &spec, Algorithm::Greedy);
    let mut o = RunOptions::verified(steps);
    o.potentials_every_step = true;
    let r = run(&b, net, &m, &stim, &o, &mut |_| {}).unwrap();
    assert_eq!(r.verdict, Verdict::Equal, "{:?}", r.verdict);
    assert!(r.spikes.len() > 10, "the current-based neurons must spike: {}", r.spikes.len());
}
