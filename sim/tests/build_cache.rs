//! The Verilator build cache: two builders of the same spec at once get one
//! build between them, and the second call is a cache hit.

use spikeforge_mapper::HardwareSpec;

#[test]
fn concurrent_builds_of_one_spec_share_one_build() {
    let root = std::env::temp_dir().join(format!("sf-cache-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let spec = HardwareSpec {
        name: "cache-test".into(),
        mesh_width: 1,
        mesh_height: 1,
        neurons_per_core: 4,
        axons_per_core: 8,
        synapses_per_core: 16,
        routes_per_core: 8,
        param_sets_per_core: 16,
        input_neurons: 4,
        input_routes: 8,
        ..HardwareSpec::preset("tiny").unwrap()
    };
    let results: Vec<_> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..2).map(|_| s.spawn(|| spikeforge_sim::verilate::build_in(&spec, &root))).collect();
        hs.into_iter().map(|h| h.join().unwrap().unwrap_or_else(|e| panic!("{e}"))).collect()
    });
    assert_eq!(results.iter().filter(|b| b.fresh).count(), 1, "exactly one of the two built");
    assert_eq!(results[0].library, results[1].library);
    assert!(results[0].library.is_file());
    let again = spikeforge_sim::verilate::build_in(&spec, &root).unwrap();
    assert!(!again.fresh);
    // Nothing half-built is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(root.join("verilator"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // The model loads and runs a clock.
    let mut m = spikeforge_sim::Model::new(&again, spikeforge_sim::InitialState::Zeros).unwrap();
    m.cycle();
    assert_eq!(m.pins.busy, 0);
    let _ = std::fs::remove_dir_all(&root);
}
