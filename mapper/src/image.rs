//! Memory images: the exact words every core memory holds (docs/hardware.md).
//!
//! [`CoreImage`] is the readable form (JSON, with the mapping information
//! of which neuron sits where); it is packed into the words of the hardware
//! contract (`spikeforge_hw::memory`: [`Layout`]'s fields, [`Memory`]'s
//! depths) as a [`NetworkImage`]. `.hex` files hold one word per line, full
//! memory depth, for `$readmemh`.

use serde::{Deserialize, Serialize};
pub use spikeforge_hw::memory::{
    addr_bits, AxonEntry, Layout, Memory, PackedCore, PackedHost, PackedMemory, ParamEntry, RouteEntry, SynapseEntry,
};
use spikeforge_hw::{HardwareSpec, NetworkImage};

/// Everything loaded into one core.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoreImage {
    /// Core id (row-major mesh position).
    pub core: u32,
    /// Global neuron id in each used slot (mapping information; the core
    /// sweeps slots `0..neurons.len()`, its `neuron_count` register).
    pub neurons: Vec<u32>,
    /// Global id of the source behind each axon key (mapping information).
    pub axon_sources: Vec<u32>,
    /// Axon table, by axon key.
    pub axons: Vec<AxonEntry>,
    /// Synapse memory.
    pub synapses: Vec<SynapseEntry>,
    /// Parameters, by slot.
    pub params: Vec<ParamEntry>,
    /// Initial potential, by slot.
    pub v_init: Vec<i32>,
    /// (first route, number of routes), by slot.
    pub route_index: Vec<(u32, u32)>,
    /// Routing memory.
    pub routes: Vec<RouteEntry>,
}

/// The host interface's input routing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostImage {
    /// Global id of each input index.
    pub inputs: Vec<u32>,
    /// (first route, number of routes), by input index.
    pub route_index: Vec<(u32, u32)>,
    /// Input routing memory.
    pub routes: Vec<RouteEntry>,
}

/// All images of a mapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Images {
    /// One per core of the spec (unused cores are empty).
    pub cores: Vec<CoreImage>,
    /// The host interface.
    pub host: HostImage,
}

impl Images {
    /// The images packed as the hardware holds them, for `spec`.
    pub fn packed(&self, spec: &HardwareSpec) -> NetworkImage {
        let l = Layout::new(spec);
        NetworkImage {
            spec: spec.clone(),
            cores: self
                .cores
                .iter()
                .map(|c| PackedCore { neuron_count: c.neurons.len() as u32, memories: core_memories(&l, spec, c) })
                .collect(),
            host: PackedHost { memories: host_memories(&l, spec, &self.host) },
        }
    }
}

/// The packed memories of a core, full depth, in [`Memory::CORE`] order.
pub fn core_memories(l: &Layout, spec: &HardwareSpec, c: &CoreImage) -> Vec<PackedMemory> {
    Memory::CORE
        .into_iter()
        .map(|m| {
            let words: Vec<u128> = match m {
                Memory::Axons => c.axons.iter().map(|&e| l.pack_axon(e)).collect(),
                Memory::Synapses => c.synapses.iter().map(|&e| l.pack_synapse(e)).collect(),
                Memory::Params => c.params.iter().map(|&e| l.pack_param(e)).collect(),
                Memory::Potentials => c.v_init.iter().map(|&v| l.pack_potential(v)).collect(),
                Memory::RouteIndex => c.route_index.iter().map(|&e| l.pack_index(l.route_index, e)).collect(),
                Memory::Routes => c.routes.iter().map(|&e| l.pack_route(e)).collect(),
                Memory::InputRouteIndex | Memory::InputRoutes => unreachable!("not a core memory"),
            };
            l.memory(m, m.depth(spec), words)
        })
        .collect()
}

/// The packed memories of the host interface, in [`Memory::HOST`] order.
pub fn host_memories(l: &Layout, spec: &HardwareSpec, h: &HostImage) -> Vec<PackedMemory> {
    let idx = h.route_index.iter().map(|&e| l.pack_index(l.input_route_index, e)).collect();
    let routes = h.routes.iter().map(|&e| l.pack_route(e)).collect();
    vec![
        l.memory(Memory::InputRouteIndex, Memory::InputRouteIndex.depth(spec), idx),
        l.memory(Memory::InputRoutes, Memory::InputRoutes.depth(spec), routes),
    ]
}
