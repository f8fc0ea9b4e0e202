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
    Stimulus::from_list(
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

/// A 3-input, 7-neuron recurrent ring with every neuron rule in use.
pub const RING: &str = r#"
format = 1
[[populations]]
name = "in"
size = 3
kind = "input"
[[populations]]
name = "ring"
size = 7
threshold = [20, 15, 30, 12, 25, 9, 14]
bias = [2, 0, 1, -1, 0, 1, 0]
leak_shift = [3, "none", 2, 1, "none", 2, 4]
reset = ["zero", "subtract", "subtract", "zero", "subtract", "zero", "subtract"]
[[projections]]
pre = "in"
post = "ring"
kind = "dense"
weights = [[22, 0, 9, 0, 3, 0, 4], [0, -30, 16, 5, 0, 8, 0], [7, 7, 7, 7, -128, 7, 7]]
[[projections]]
pre = "ring"
post = "ring"
kind = "sparse"
synapses = [[0, 1, 21], [1, 2, 21], [2, 3, 21], [3, 4, 21], [4, 5, 21], [5, 6, 21], [6, 0, 21], [0, 0, -4], [2, 2, 5], [2, 2, 6], [3, 1, -7], [6, 3, 9]]
"#;

pub const RING_STIM: &str =
    "step,population,index\n0,in,0\n0,in,2\n1,in,1\n2,in,0\n2,in,2\n4,in,2\n5,in,0\n5,in,1\n5,in,2\n9,in,0\n12,in,2\n";
