//! The host configuration sequence: how a network image is loaded through
//! the configuration port. Every host (the Verilator driver, the Icarus
//! testbench program, the UART client of a board) sends exactly this
//! sequence, then pulses `clear`.

use crate::memory::{ConfigTarget, Memory, NetworkImage};

/// One configuration write: `cfg_core`, `cfg_mem`, `cfg_addr`, `cfg_data`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigWrite {
    /// Core id (ignored for host memories; 0 there).
    pub core: u32,
    /// What is written.
    pub target: ConfigTarget,
    /// Word address (0 for `neuron_count`).
    pub addr: u32,
    /// The word (at most 128 of the 144 `cfg_data` bits are used).
    pub data: u128,
}

impl ConfigWrite {
    /// A write of word `addr` of `memory` on `core`.
    pub fn word(core: u32, memory: Memory, addr: u32, data: u128) -> ConfigWrite {
        ConfigWrite { core, target: ConfigTarget::Memory(memory), addr, data }
    }
}

/// The writes that load `image`: every word of every memory at full depth
/// (so power-up contents never matter), each core's `neuron_count` after
/// its memories, then the host's memories. A core of the spec without an
/// image gets only `neuron_count` 0.
pub fn config_writes(image: &NetworkImage) -> Vec<ConfigWrite> {
    let mut w = Vec::new();
    for c in 0..image.spec.cores() {
        let Some(pc) = image.cores.get(c as usize) else {
            w.push(ConfigWrite { core: c, target: ConfigTarget::NeuronCount, addr: 0, data: 0 });
            continue;
        };
        for mem in &pc.memories {
            w.extend(mem.words.iter().enumerate().map(|(a, &x)| ConfigWrite::word(c, mem.memory, a as u32, x)));
        }
        w.push(ConfigWrite { core: c, target: ConfigTarget::NeuronCount, addr: 0, data: pc.neuron_count as u128 });
    }
    for mem in &image.host.memories {
        w.extend(mem.words.iter().enumerate().map(|(a, &x)| ConfigWrite::word(0, mem.memory, a as u32, x)));
    }
    w
}

/// The writes that return a loaded network to its initial state, before a
/// `clear`: every core's potentials rewritten from the image.
pub fn reset_writes(image: &NetworkImage) -> Vec<ConfigWrite> {
    let mut w = Vec::new();
    for (c, pc) in image.cores.iter().enumerate() {
        for (a, &x) in pc.words(Memory::Potentials).iter().enumerate() {
            w.push(ConfigWrite::word(c as u32, Memory::Potentials, a as u32, x));
        }
    }
    w
}
