//! Memory images: the exact words every core memory holds (docs/hardware.md).
//!
//! [`CoreImage`] is the readable form (JSON); [`Layout`] packs it into words
//! of the widths the RTL uses and unpacks them again. `.hex` files hold one
//! word per line, full memory depth, for `$readmemh`.

use crate::spec::HardwareSpec;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// Bits to address `n` entries (at least 1).
pub fn addr_bits(n: u32) -> u32 {
    if n <= 1 {
        1
    } else {
        32 - (n - 1).leading_zeros()
    }
}

/// Axon table entry: the row of synapses of one presynaptic source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AxonEntry {
    /// First synapse entry of the row.
    pub row_base: u32,
    /// Number of synapse entries in the row.
    pub row_len: u32,
}

/// Synapse memory entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SynapseEntry {
    /// Neuron slot in this core.
    pub target: u32,
    /// Weight (W-bit signed).
    pub weight: i32,
}

/// Neuron parameter entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamEntry {
    /// θ.
    pub threshold: i32,
    /// b.
    pub bias: i32,
    /// Lower clamp.
    pub v_min: i32,
    /// Leak shift, if any.
    pub leak: Option<u32>,
    /// Reset to zero (else subtract).
    pub reset_zero: bool,
    /// Spikes go to the output stream.
    pub output: bool,
}

/// Routing entry: one destination of a neuron's spikes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteEntry {
    /// Destination core id.
    pub core: u32,
    /// Axon key on that core.
    pub axon: u32,
}

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

/// One packed memory: name, word width, depth, words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Memory {
    /// File-name part, e.g. `synapses`.
    pub name: &'static str,
    /// Bits per word.
    pub width: u32,
    /// Words (full depth; unused words are 0).
    pub words: Vec<u128>,
}

impl Memory {
    /// `$readmemh` text: one zero-padded lowercase hex word per line.
    pub fn to_hex(&self) -> String {
        let digits = self.width.div_ceil(4) as usize;
        let mut s = String::with_capacity(self.words.len() * (digits + 1));
        for w in &self.words {
            let _ = writeln!(s, "{w:0digits$x}");
        }
        s
    }
}

/// Word widths and field positions of every memory, derived from a spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// Neuron slot address bits.
    pub nb: u32,
    /// Synapse address bits.
    pub sb: u32,
    /// Axon key bits.
    pub ab: u32,
    /// Route address bits.
    pub rb: u32,
    /// Core id bits.
    pub cb: u32,
    /// Input route address bits.
    pub ib: u32,
    /// W.
    pub w: u32,
    /// P.
    pub p: u32,
    /// Depths.
    pub n: u32,
    /// Synapse depth.
    pub s: u32,
    /// Axon depth.
    pub a: u32,
    /// Route depth.
    pub r: u32,
    /// Input count.
    pub inputs: u32,
    /// Input route depth.
    pub input_routes: u32,
}

fn mask(bits: u32) -> u128 {
    if bits >= 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    }
}

fn signed(word: u128, bits: u32) -> i32 {
    let v = (word & mask(bits)) as i64;
    (if v >= 1 << (bits - 1) { v - (1 << bits) } else { v }) as i32
}

impl Layout {
    /// The layout of a spec.
    pub fn new(spec: &HardwareSpec) -> Layout {
        Layout {
            nb: addr_bits(spec.neurons_per_core),
            sb: addr_bits(spec.synapses_per_core),
            ab: addr_bits(spec.axons_per_core),
            rb: addr_bits(spec.routes_per_core),
            cb: addr_bits(spec.cores()),
            ib: addr_bits(spec.input_routes.max(1)),
            w: spec.weight_bits,
            p: spec.potential_bits,
            n: spec.neurons_per_core,
            s: spec.synapses_per_core,
            a: spec.axons_per_core,
            r: spec.routes_per_core,
            inputs: spec.input_neurons,
            input_routes: spec.input_routes,
        }
    }

    /// Axon word: `row_base << (sb+1) | row_len`.
    pub fn pack_axon(&self, e: AxonEntry) -> u128 {
        (e.row_base as u128) << (self.sb + 1) | e.row_len as u128
    }
    /// Inverse of [`Layout::pack_axon`].
    pub fn unpack_axon(&self, w: u128) -> AxonEntry {
        AxonEntry { row_base: ((w >> (self.sb + 1)) & mask(self.sb)) as u32, row_len: (w & mask(self.sb + 1)) as u32 }
    }
    /// Synapse word: `target << W | weight (two's complement)`.
    pub fn pack_synapse(&self, e: SynapseEntry) -> u128 {
        (e.target as u128) << self.w | (e.weight as i64 as u128 & mask(self.w))
    }
    /// Inverse of [`Layout::pack_synapse`].
    pub fn unpack_synapse(&self, w: u128) -> SynapseEntry {
        SynapseEntry { target: ((w >> self.w) & mask(self.nb)) as u32, weight: signed(w, self.w) }
    }
    /// Parameter word, MSB first: threshold P | bias P | v_min P | leak_en 1 | leak_shift 5 | reset_zero 1 | output 1.
    pub fn pack_param(&self, e: ParamEntry) -> u128 {
        let p = self.p;
        let m = mask(p);
        let mut w = (e.threshold as i64 as u128 & m) << (2 * p + 8);
        w |= (e.bias as i64 as u128 & m) << (p + 8);
        w |= (e.v_min as i64 as u128 & m) << 8;
        if let Some(s) = e.leak {
            w |= 1 << 7 | (s as u128 & 0x1f) << 2;
        }
        w | (e.reset_zero as u128) << 1 | e.output as u128
    }
    /// Inverse of [`Layout::pack_param`].
    pub fn unpack_param(&self, w: u128) -> ParamEntry {
        let p = self.p;
        ParamEntry {
            threshold: signed(w >> (2 * p + 8), p),
            bias: signed(w >> (p + 8), p),
            v_min: signed(w >> 8, p),
            leak: (w >> 7 & 1 == 1).then_some(((w >> 2) & 0x1f) as u32),
            reset_zero: w >> 1 & 1 == 1,
            output: w & 1 == 1,
        }
    }
    /// Potential word (P-bit two's complement).
    pub fn pack_potential(&self, v: i32) -> u128 {
        v as i64 as u128 & mask(self.p)
    }
    /// Inverse of [`Layout::pack_potential`].
    pub fn unpack_potential(&self, w: u128) -> i32 {
        signed(w, self.p)
    }
    /// Index word: `base << (bits+1) | len`.
    pub fn pack_index(&self, bits: u32, (base, len): (u32, u32)) -> u128 {
        (base as u128) << (bits + 1) | len as u128
    }
    /// Inverse of [`Layout::pack_index`].
    pub fn unpack_index(&self, bits: u32, w: u128) -> (u32, u32) {
        (((w >> (bits + 1)) & mask(bits)) as u32, (w & mask(bits + 1)) as u32)
    }
    /// Route word: `core << ab | axon`.
    pub fn pack_route(&self, e: RouteEntry) -> u128 {
        (e.core as u128) << self.ab | e.axon as u128
    }
    /// Inverse of [`Layout::pack_route`].
    pub fn unpack_route(&self, w: u128) -> RouteEntry {
        RouteEntry { core: ((w >> self.ab) & mask(self.cb)) as u32, axon: (w & mask(self.ab)) as u32 }
    }

    /// The packed memories of a core, full depth, in a fixed order.
    pub fn core_memories(&self, c: &CoreImage) -> Vec<Memory> {
        fn full(depth: u32, mut words: Vec<u128>) -> Vec<u128> {
            words.resize(depth as usize, 0);
            words
        }
        vec![
            Memory {
                name: "axons",
                width: 2 * self.sb + 1,
                words: full(self.a, c.axons.iter().map(|&e| self.pack_axon(e)).collect()),
            },
            Memory {
                name: "synapses",
                width: self.nb + self.w,
                words: full(self.s, c.synapses.iter().map(|&e| self.pack_synapse(e)).collect()),
            },
            Memory {
                name: "params",
                width: 3 * self.p + 8,
                words: full(self.n, c.params.iter().map(|&e| self.pack_param(e)).collect()),
            },
            Memory {
                name: "v_init",
                width: self.p,
                words: full(self.n, c.v_init.iter().map(|&v| self.pack_potential(v)).collect()),
            },
            Memory {
                name: "route_index",
                width: 2 * self.rb + 1,
                words: full(self.n, c.route_index.iter().map(|&e| self.pack_index(self.rb, e)).collect()),
            },
            Memory {
                name: "routes",
                width: self.cb + self.ab,
                words: full(self.r, c.routes.iter().map(|&e| self.pack_route(e)).collect()),
            },
        ]
    }

    /// The packed memories of the host interface.
    pub fn host_memories(&self, h: &HostImage) -> Vec<Memory> {
        let mut idx: Vec<u128> = h.route_index.iter().map(|&e| self.pack_index(self.ib, e)).collect();
        idx.resize(self.inputs as usize, 0);
        let mut routes: Vec<u128> = h.routes.iter().map(|&e| self.pack_route(e)).collect();
        routes.resize(self.input_routes as usize, 0);
        vec![
            Memory { name: "input_route_index", width: 2 * self.ib + 1, words: idx },
            Memory { name: "input_routes", width: self.cb + self.ab, words: routes },
        ]
    }
}

/// A core as the hardware holds it: packed words plus the `neuron_count`
/// register. What the architectural model executes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackedCore {
    /// Slots swept each step.
    pub neuron_count: u32,
    /// axons, synapses, params, v_init, route_index, routes (in that order).
    pub memories: Vec<Memory>,
}

/// The host interface as the hardware holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackedHost {
    /// input_route_index, input_routes.
    pub memories: Vec<Memory>,
}
