//! Shared test support: networks, specs and a run helper.
#![allow(dead_code)]

use spikeforge_mapper::{map, Algorithm, HardwareSpec, MapOptions, Mapping};
use spikeforge_net::{parse_network, Format, Network, SpikeFileKind, Stimulus};
use spikeforge_sim::Built;

/// The model of `spec` (built once per spec and cached on disk).
pub fn built(spec: &HardwareSpec) -> Built {
    spikeforge_sim::build(spec).unwrap_or_else(|e| panic!("{e}"))
}

pub fn network(text: &str) -> Network {
    parse_network("t.toml", text.into(), Format::Toml).unwrap_or_else(|e| panic!("{e:?}"))
}

pub fn stimulus(net: &Network, csv: &str) -> Stimulus {
    Stimulus::from_train(
        &spikeforge_net::parse_spikes(net, "s.csv", csv.into(), SpikeFileKind::Stimulus)
            .unwrap_or_else(|e| panic!("{e:?}")),
    )
}

pub fn mapped(net: &Network, spec: &HardwareSpec, algo: Algorithm) -> Mapping {
    map(net, spec, &MapOptions::new(algo)).unwrap_or_else(|e| panic!("{e}"))
}

/// Three cores of three neurons on a bus (the ring network spans them).
pub fn ring_spec() -> HardwareSpec {
    HardwareSpec { name: "ring3".into(), neurons_per_core: 3, ..HardwareSpec::preset("tiny").unwrap() }
}

#[allow(unused_imports)]
pub use spikeforge_tests::{RING, RING_STIM};
