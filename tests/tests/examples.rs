//! The golden model against the expected results of every example in
//! `examples/examples.toml` (computed by the independent Python reference
//! and, for `feedforward`, by hand). Adding an example is adding an entry.

use spikeforge_net::{load_network, load_spikes, spikes, SpikeFileKind, Stimulus};
use std::path::PathBuf;

fn examples_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples"))
}

#[test]
fn every_example_matches_its_expected_files() {
    let dir = examples_dir();
    let manifest: toml::Table = toml::from_str(&std::fs::read_to_string(dir.join("examples.toml")).unwrap()).unwrap();
    let list = manifest["example"].as_array().unwrap();
    assert!(list.len() >= 3);
    for ex in list {
        let name = ex["name"].as_str().unwrap();
        let net_path = dir.join(ex["net"].as_str().unwrap());
        let net = load_network(&net_path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let stim = load_spikes(&net, &dir.join(ex["stimulus"].as_str().unwrap()), SpikeFileKind::Stimulus).unwrap();
        let steps = ex["steps"].as_integer().unwrap() as u32;
        let r = spikeforge_golden::run(&net, &Stimulus::from_train(&stim), steps).unwrap();
        let folder = net_path.parent().unwrap();
        let expected = std::fs::read_to_string(folder.join("expected.csv")).unwrap();
        assert_eq!(spikes::spikes_to_csv(&net, &r.spikes), expected, "{name}: spikes");
        // The expected spike file is itself a valid spike file for the network.
        let parsed = spikeforge_net::parse_spikes(&net, "expected.csv", expected, SpikeFileKind::Spikes).unwrap();
        assert_eq!(parsed, r.spikes);
        let expected_v = std::fs::read_to_string(folder.join("expected_potentials.csv")).unwrap();
        assert_eq!(spikes::potentials_to_csv(&net, &r.potentials), expected_v, "{name}: potentials");
    }
}
