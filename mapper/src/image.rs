//! Memory images: the exact words every core memory holds (docs/hardware.md).
//!
//! [`CoreImage`] is the readable form (JSON, with the mapping information
//! of which neuron sits where); it is packed into the words of the hardware
//! contract (`spikeforge_hw::memory`: [`Layout`]'s fields, [`Memory`]'s
//! depths) as a [`NetworkImage`]. `.hex` files hold one word per line, full
//! memory depth, for `$readmemh`.

use serde::{Deserialize, Serialize};
pub use spikeforge_hw::memory::{
    addr_bits, AxonEntry, Layout, Memory, NeuronEntry, PackedCore, PackedHost, PackedMemory, ParamEntry, ParamSetEntry,
    RouteEntry, RowFormat, SynapseEntry, SynapseWordEntry, DENSE_LANES,
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
    /// Synapse memory: sparse and dense words.
    pub synapses: Vec<SynapseWordEntry>,
    /// Parameter-set table.
    pub param_sets: Vec<ParamSetEntry>,
    /// Bias and parameter set, by slot.
    pub neuron_params: Vec<NeuronEntry>,
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

impl Images {
    /// Bits of network state the images hold: the words the mapping fills
    /// (every used entry of every memory, at its word width), for `spec`.
    /// The numerator of memory efficiency against
    /// [`spikeforge_hw::memory::MemoryBits`].
    pub fn state_bits(&self, spec: &HardwareSpec) -> u64 {
        let l = Layout::new(spec);
        let w = |m: Memory, n: usize| n as u64 * m.width(&l) as u64;
        let cores: u64 = self
            .cores
            .iter()
            .map(|c| {
                w(Memory::Axons, c.axons.len())
                    // The rows' words: padding between twin rows is not state.
                    + w(Memory::Synapses, c.axons.iter().map(|a| a.row_len as usize).sum())
                    + w(Memory::ParamSets, c.param_sets.len())
                    + w(Memory::Neurons, c.neuron_params.len())
                    + w(Memory::Potentials, c.v_init.len())
                    + w(Memory::RouteIndex, c.route_index.len())
                    + w(Memory::Routes, c.routes.len())
            })
            .sum();
        cores + w(Memory::InputRouteIndex, self.host.route_index.len()) + w(Memory::InputRoutes, self.host.routes.len())
    }
}

impl CoreImage {
    /// An empty core.
    pub fn empty(core: u32) -> CoreImage {
        CoreImage {
            core,
            neurons: Vec::new(),
            axon_sources: Vec::new(),
            axons: Vec::new(),
            synapses: Vec::new(),
            param_sets: Vec::new(),
            neuron_params: Vec::new(),
            v_init: Vec::new(),
            route_index: Vec::new(),
            routes: Vec::new(),
        }
    }

    /// Places a neuron with parameters `p` and initial potential `v` in the
    /// next slot; its parameter set is shared with earlier neurons of the
    /// core that have the same one (sets in order of first use). Returns the slot.
    pub fn push_neuron(&mut self, global: u32, p: ParamEntry, v: i32) -> u32 {
        let (set, bias) = p.split();
        let index = match self.param_sets.iter().position(|&s| s == set) {
            Some(i) => i,
            None => {
                self.param_sets.push(set);
                self.param_sets.len() - 1
            }
        };
        self.neuron_params.push(NeuronEntry { bias, set: index as u32 });
        self.neurons.push(global);
        self.v_init.push(v);
        self.neurons.len() as u32 - 1
    }

    /// Appends the row of source `source` (its synapses into this core,
    /// sorted by target slot, file order kept among equal targets) in the
    /// format [`RowFormat::choose`] picks for a core of `n` slots; returns
    /// its axon key.
    pub fn push_row(&mut self, source: u32, row: &[SynapseEntry], n: u32) -> u32 {
        let key = self.axons.len() as u32;
        let base = self.synapses.len() as u32;
        let slots: Vec<u32> = row.iter().map(|e| e.target).collect();
        let format = RowFormat::choose(&slots, n);
        match format {
            RowFormat::Sparse => self.synapses.extend(row.iter().map(|&e| SynapseWordEntry::Sparse(e))),
            RowFormat::Dense { start, words } => {
                let lanes = spikeforge_hw::memory::DENSE_LANES;
                let mut ws = vec![[0i32; spikeforge_hw::memory::DENSE_LANES as usize]; words as usize];
                for e in row {
                    let k = e.target - start;
                    ws[(k / lanes) as usize][(k % lanes) as usize] = e.weight;
                }
                self.synapses.extend(ws.into_iter().map(SynapseWordEntry::Dense));
            }
        }
        let dense_start = match format {
            RowFormat::Dense { start, .. } => Some(start),
            RowFormat::Sparse => None,
        };
        self.axons.push(AxonEntry { row_base: base, row_len: format.words(row.len()), dense_start });
        self.axon_sources.push(source);
        key
    }
}

impl CoreImage {
    /// Lays the rows out for a two-bank synapse memory
    /// (`HardwareSpec::synapse_banks`): the dense row of an even axon key
    /// starts at an even address and that of an odd key at an odd one, a
    /// zero word filling the gap where needed, so that dense rows of the
    /// same shape arriving from the two key FIFOs lie in different banks
    /// and are read as twins (docs/hardware.md). Only if the padded rows
    /// fit in `capacity` words; else the rows stay packed (they still run,
    /// one at a time). Returns the padding words added.
    pub fn align_twin_rows(&mut self, capacity: u32) -> u32 {
        let mut pads = 0u32;
        let mut at = 0u32;
        for (k, a) in self.axons.iter().enumerate() {
            if a.dense_start.is_some() && at % 2 != k as u32 % 2 {
                pads += 1;
                at += 1;
            }
            at += a.row_len;
        }
        if pads == 0 || at > capacity {
            return 0;
        }
        let old = std::mem::take(&mut self.synapses);
        for (k, a) in self.axons.iter_mut().enumerate() {
            let row = &old[a.row_base as usize..(a.row_base + a.row_len) as usize];
            if a.dense_start.is_some() && self.synapses.len() % 2 != k % 2 {
                self.synapses.push(SynapseWordEntry::Dense([0; DENSE_LANES as usize]));
            }
            a.row_base = self.synapses.len() as u32;
            self.synapses.extend_from_slice(row);
        }
        pads
    }
}

/// The packed memories of a core, full depth, in [`Memory::CORE`] order.
pub fn core_memories(l: &Layout, spec: &HardwareSpec, c: &CoreImage) -> Vec<PackedMemory> {
    Memory::CORE
        .into_iter()
        .map(|m| {
            let words: Vec<u128> = match m {
                Memory::Axons => c.axons.iter().map(|&e| l.pack_axon(e)).collect(),
                Memory::Synapses => c.synapses.iter().map(|&e| l.pack_synapse_word(e)).collect(),
                Memory::ParamSets => c.param_sets.iter().map(|&e| l.pack_param(e)).collect(),
                Memory::Neurons => c.neuron_params.iter().map(|&e| l.pack_neuron(e)).collect(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn dense_row(w: i32) -> Vec<SynapseEntry> {
        (0..8).map(|t| SynapseEntry { target: t, weight: w + t as i32 }).collect()
    }

    /// The words each key reaches, in row order.
    fn rows(c: &CoreImage) -> Vec<Vec<SynapseWordEntry>> {
        c.axons.iter().map(|a| c.synapses[a.row_base as usize..(a.row_base + a.row_len) as usize].to_vec()).collect()
    }

    #[test]
    fn twin_layout_gives_dense_rows_the_parity_of_their_key() {
        let mut c = CoreImage::empty(0);
        for k in 0..4 {
            c.push_row(k, &dense_row(10 * k as i32), 8);
        }
        c.push_row(4, &[SynapseEntry { target: 3, weight: 1 }], 8);
        c.push_row(5, &dense_row(-50), 8);
        let before = rows(&c);
        // Rows of 4 words: keys 1, 2, 3 and 5 each need one pad.
        assert_eq!(c.align_twin_rows(1000), 4);
        assert_eq!(rows(&c), before, "every key reaches the same words");
        for (k, a) in c.axons.iter().enumerate() {
            if a.dense_start.is_some() {
                assert_eq!(a.row_base % 2, k as u32 % 2, "key {k}");
            }
        }
        assert_eq!(c.synapses.len(), 4 * 5 + 1 + 4);
    }

    #[test]
    fn twin_layout_stays_packed_when_padding_does_not_fit() {
        let mut c = CoreImage::empty(0);
        for k in 0..3 {
            c.push_row(k, &dense_row(k as i32), 8);
        }
        let packed = c.clone();
        assert_eq!(c.align_twin_rows(12), 0, "12 words hold the rows only packed");
        assert_eq!(c, packed);
    }
}
