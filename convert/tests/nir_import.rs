//! NIR import and export on graphs written by the `nir` package
//! (`tests/nir/make_nir.py` writes them; adding a case is adding a file
//! there and an assertion here).

use spikeforge_convert::nir::{export, import, ImportOptions, NirError};
use spikeforge_net::spikes::load_stimulus;
use spikeforge_net::Stimulus;
use std::path::{Path, PathBuf};

fn case(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/nir").join(name)
}

fn imported(name: &str) -> spikeforge_convert::nir::Imported {
    import(&case(name), &ImportOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn error(name: &str) -> String {
    match import(&case(name), &ImportOptions::default()) {
        Ok(_) => panic!("{name} imported; expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn if_chain_spikes_as_the_float_graph_one_step_later_per_layer() {
    let imp = imported("if_chain.nir");
    let net = &imp.net;
    let out = imp.populations.iter().find(|p| p.output).expect("an output population");
    assert_eq!((out.name.as_str(), out.latency, out.weight_error), ("if2", 2, 0.0));
    let steps = 40;
    let stim = load_stimulus(net, &case("if_chain_stimulus.csv"), steps).expect("stimulus");
    // Run long enough for the last input to reach the output.
    let run = spikeforge_golden::run(net, &Stimulus::from_train(&stim), steps + out.latency).expect("golden");
    let (_, pop) = net.population("if2").expect("if2");
    let got: Vec<(u32, u32)> = run
        .spikes
        .iter()
        .filter(|s| pop.ids().contains(&s.neuron))
        .map(|s| (s.step - out.latency, s.neuron - pop.offset()))
        .filter(|&(t, _)| t < steps)
        .collect();
    let want: Vec<(u32, u32)> = std::fs::read_to_string(case("if_chain_expected.csv"))
        .expect("expected spikes")
        .lines()
        .skip(1)
        .map(|l| {
            let (t, i) = l.split_once(',').expect("step,index");
            (t.parse().expect("step"), i.parse().expect("index"))
        })
        .collect();
    assert!(!want.is_empty(), "the case must have output spikes");
    assert_eq!(got, want);
}

#[test]
fn lif_with_a_power_of_two_time_constant_is_exact() {
    let imp = imported("lif.nir");
    assert_eq!(imp.dt, 1e-3, "dt comes from the graph's metadata");
    let lif = imp.populations.iter().find(|p| p.name == "lif").expect("lif");
    // tau = 8 dt: a decay of 2^-3 per step, exactly.
    assert_eq!((lif.leak_shift, lif.leak_error, lif.weight_error), (Some(3), 0.0, 0.0));
}

#[test]
fn recurrent_edges_become_a_projection_of_a_population_onto_itself() {
    let imp = imported("recurrent_lif.nir");
    let doc = imp.net.to_doc();
    assert!(doc.projections.iter().any(|p| p.pre == "lif" && p.post == "lif"));
    assert!(doc.projections.iter().any(|p| p.pre == "input" && p.post == "lif"));
    assert!(!imp.populations.iter().any(|p| p.mixed_latency), "self-recurrence is not a mixed depth");
}

#[test]
fn convolution_pooling_and_flatten_are_lowered() {
    let imp = imported("conv.nir");
    let sizes: Vec<(&str, usize, usize)> =
        imp.populations.iter().map(|p| (p.name.as_str(), p.neurons, p.latency as usize)).collect();
    assert_eq!(sizes, [("input", 36, 0), ("if_conv", 72, 1), ("if_out", 4, 2)]);
    // The pool and the Affine compose into one projection from if_conv:
    // every output sees all 72 conv neurons (a 2x2 sum pool of 2x3x3).
    let doc = imp.net.to_doc();
    let fc = doc.projections.iter().find(|p| p.pre == "if_conv").expect("projection");
    let synapses = fc.synapses.as_ref().expect("sparse");
    assert_eq!(synapses.len(), imp.populations[2].synapses);
    assert!(synapses.len() <= 4 * 72);
}

#[test]
fn export_then_import_gives_the_same_network() {
    for name in ["if_chain.nir", "lif.nir", "recurrent_lif.nir", "recurrent_cubalif.nir", "conv.nir", "conv1d.nir"] {
        let first = imported(name);
        let dir = std::env::temp_dir().join(format!("sf-nir-{}-{name}", std::process::id()));
        export(&first.net, &dir, first.dt).unwrap_or_else(|e| panic!("{name}: {e}"));
        let again = import(&dir, &ImportOptions { dt: first.dt, ..ImportOptions::default() })
            .unwrap_or_else(|e| panic!("{name} re-imported: {e}"));
        let _ = std::fs::remove_file(&dir);
        let (a, b) = (first.net.to_doc(), again.net.to_doc());
        assert_eq!(a.populations, b.populations, "{name}");
        // Projections: the same synapses (one projection per pair either way).
        let syn = |d: &spikeforge_net::NetworkDoc| {
            let mut v: Vec<(String, String, [i64; 3])> = d
                .projections
                .iter()
                .flat_map(|p| p.synapses.iter().flatten().map(move |s| (p.pre.clone(), p.post.clone(), *s)))
                .collect();
            v.sort();
            v
        };
        assert_eq!(syn(&a), syn(&b), "{name}");
    }
}

#[test]
fn current_based_neurons_become_populations_with_a_synaptic_current() {
    let imp = imported("recurrent_cubalif.nir");
    let cuba = imp.populations.iter().find(|p| p.name == "cuba").expect("cuba");
    // tau_mem = 8 dt and tau_syn = 4 dt: decays of 2^-3 and 2^-2, exactly.
    assert_eq!((cuba.kind.as_str(), cuba.leak_shift, cuba.syn_shift), ("CubaLIF", Some(3), Some(2)));
    assert_eq!((cuba.leak_error, cuba.syn_error, cuba.weight_error), (0.0, 0.0, 0.0));
    let (_, pop) = imp.net.population("cuba").expect("cuba");
    let np = pop.params().expect("neurons");
    assert!(np.is_current_based() && np.syn(0) == Some(2));
    assert!(imp.net.to_doc().projections.iter().any(|p| p.pre == "cuba" && p.post == "cuba"), "recurrent");
    let f = imp.fidelity(20, 50, 0.3, 1).expect("fidelity");
    eprintln!("recurrent CubaLIF: {f:?}");
    // Both decays floor (v - (v >> 3), i - (i >> 2)) at the exact scale of
    // 16 per unit, so the integer neurons keep a little more charge than the
    // float ones and spike a little more: 0.892 of the spike bins and every
    // class agree (docs/nir.md).
    assert!(f.golden_spikes > 1.0 && f.spike_agreement > 0.85 && f.class_agreement >= 0.8, "{f:?}");
    // CubaLI: a readout by potentials; tau_syn = 3 dt rounds to 4 dt.
    let imp = imported("cubali_readout.nir");
    let ro = imp.populations.iter().find(|p| p.name == "readout").expect("readout");
    assert_eq!((ro.kind.as_str(), ro.syn_shift, ro.latency), ("CubaLI", Some(2), 2));
    assert!((ro.syn_error - 0.25).abs() < 1e-9, "|1/4 - 1/3| / (1/3): {}", ro.syn_error);
    let f = imp.fidelity(20, 50, 0.3, 1).expect("fidelity");
    eprintln!("CubaLI readout: {f:?}");
    assert!(f.class_agreement >= 0.8, "{f:?}");
}

#[test]
fn nested_graphs_import_as_their_flat_form() {
    // snnTorch writes RSynaptic as a nested NIRGraph; the outer edges name
    // it, or (second file) name the nodes inside it two levels down.
    let flat = imported("recurrent_cubalif.nir");
    // The network with the inner population renamed and the projections in
    // one order (the nested file lists its nodes in another order).
    let json = |imp: &spikeforge_convert::nir::Imported, inner: &str| {
        let mut doc = imp.net.to_doc();
        doc.projections.sort_by_key(|p| (p.pre.replace(inner, "cuba"), p.post.replace(inner, "cuba")));
        serde_json::to_string(&doc).expect("json").replace(&format!("\"{inner}\""), "\"cuba\"")
    };
    for (name, inner) in [("nested_rsynaptic.nir", "rsyn.lif"), ("nested_dotted.nir", "outer.rsyn.lif")] {
        let imp = imported(name);
        let pops: Vec<&str> = imp.populations.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(pops, ["input", inner], "{name}");
        assert_eq!(json(&imp, inner), json(&flat, "cuba"), "{name}");
        let (a, b) = (&imp.populations[1], &flat.populations[1]);
        assert_eq!(
            (a.kind.as_str(), a.latency, a.synapses, a.output),
            (b.kind.as_str(), b.latency, b.synapses, b.output)
        );
    }
}

#[test]
fn scalar_neuron_parameters_broadcast_over_the_input() {
    // snnTorch's Leaky(beta=0.9) exports a LIF of 0-d parameters.
    for (scalar, explicit) in [("scalar_lif.nir", "lif.nir"), ("scalar_recurrent_cubalif.nir", "recurrent_cubalif.nir")]
    {
        let (a, b) = (imported(scalar), imported(explicit));
        assert_eq!(a.net.to_doc(), b.net.to_doc(), "{scalar}");
        assert_eq!(a.populations, b.populations, "{scalar}");
    }
}

#[test]
fn bad_files_name_the_file_the_place_and_the_fix() {
    let cases = [
        ("bad_not_hdf5.nir", "not an HDF5 file"),
        ("bad_version.nir", "version: NIR version \"7.0\" is not supported"),
        ("bad_unknown_node.nir", "node \"fc2\" (Mystery): unknown node type; supported:"),
        ("bad_shape_mismatch.nir", "node \"fc2\" (Affine): its weight expects 5 inputs but its input has 6 values"),
        ("bad_dangling_edge.nir", "node/edges: edge 5 (if2 -> nowhere) names \"nowhere\", which is not a node"),
        // Shapes a hostile file can write: no overflow, no empty population.
        ("bad_input_too_large.nir", "has more than 16777216 values (the most a population holds)"),
        ("bad_empty_population.nir", "is empty; a population has at least one neuron"),
        ("bad_pool_too_large.nir", "128x128 window over a 129x129 output (1 channel pairs) makes more than 33554432"),
        (
            "bad_nested_two_inputs.nir",
            "node/edges: edge 1 (fc_in -> rsyn) names the nested graph \"rsyn\", which has 2 Input nodes",
        ),
        ("bad_nested_cycle.nir", "a cycle runs through \"wire.input\" without a neuron node"),
        (
            "bad_nested_shape.nir",
            "node \"fc_in\" (Linear): it gives 4 values to the nested graph's Input \"rsyn.input\", which declares \
             shape [5]",
        ),
        (
            "bad_name_collision.nir",
            "node/nodes/rsyn.lif: flattens to the name \"rsyn.lif\", as node/nodes/rsyn/nodes/lif does",
        ),
        ("bad_repeated_edge.nir", "node/edges: edges 1 and 5 both connect \"fc1\" to \"if1\"; remove one"),
        (
            "bad_truncated_edges.nir",
            "malformed HDF5 content: node/edges: the dataset's shape [2, 2] does not match the 3 values it holds",
        ),
    ];
    for (name, want) in cases {
        let e = error(name);
        assert!(e.starts_with(&case(name).display().to_string()), "{name}: {e}");
        assert!(e.contains(want), "{name}: {e}");
    }
    // A missing file is an I/O error, not a panic.
    assert!(matches!(
        import(&case("no_such_file.nir"), &ImportOptions::default()),
        Err(NirError::Io { .. } | NirError::Refused { .. })
    ));
}

#[test]
fn subtractive_reset_is_refused_on_export() {
    let doc: spikeforge_net::NetworkDoc = serde_json::from_str(
        r#"{"format": 1, "populations": [{"name": "in", "size": 2, "kind": "input"},
            {"name": "out", "size": 1, "threshold": 3, "output": true}],
            "projections": [{"pre": "in", "post": "out", "kind": "dense", "weights": [[2], [1]]}]}"#,
    )
    .expect("doc");
    let net = spikeforge_net::Network::from_doc(&doc).expect("valid");
    let path = std::env::temp_dir().join(format!("sf-nir-sub-{}.nir", std::process::id()));
    let e = export(&net, &path, 1e-4).expect_err("subtract reset");
    assert!(e.to_string().contains("population \"out\" resets by subtracting"), "{e}");
    assert!(!path.exists(), "a refused export leaves no file");
}

#[test]
fn fidelity_against_the_graph_in_floating_point() {
    // IF networks on an exact grid: every spike agrees.
    for name in ["if_chain.nir", "conv.nir", "conv1d.nir"] {
        let f = imported(name).fidelity(20, 50, 0.3, 1).expect("fidelity");
        assert!(f.golden_spikes > 1.0, "{name}: the outputs must spike ({f:?})");
        assert_eq!((f.spike_agreement, f.class_agreement), (1.0, 1.0), "{name}: {f:?}");
    }
    // LIF: spikeforge's leak floors (v - (v >> λ)); close, not identical.
    let f = imported("lif.nir").fidelity(20, 50, 0.3, 1).expect("fidelity");
    assert!(f.golden_spikes > 1.0 && f.spike_agreement > 0.9 && f.class_agreement >= 0.9, "{f:?}");
}
