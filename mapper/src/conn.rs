//! Connectivity of a network as the mapper sees it: the fan-out hypergraph.
//!
//! Every presynaptic neuron `s` (input or computed) defines a net: the
//! distinct computed neurons it targets. The mapper's traffic metric is the
//! (λ−1) connectivity of these nets: a computed source costs one packet per
//! spike for every core other than its own that holds one of its targets;
//! an input source (driven by the host) costs one packet per target core.

use spikeforge_hw::memory::{ParamEntry, ParamSetEntry};
use spikeforge_net::Network;
use std::collections::HashMap;

/// Compressed rows of distinct targets and distinct sources.
#[derive(Debug, Clone)]
pub struct Conn {
    /// Neurons, inputs included.
    pub n: usize,
    /// Whether each neuron is an input neuron.
    pub is_input: Vec<bool>,
    /// `out_tgt[out_start[s]..out_start[s+1]]`: distinct targets of `s`, sorted.
    pub out_start: Vec<u32>,
    /// See `out_start`.
    pub out_tgt: Vec<u32>,
    /// `in_src[in_start[v]..in_start[v+1]]`: distinct sources of `v`, sorted.
    pub in_start: Vec<u32>,
    /// See `in_start`.
    pub in_src: Vec<u32>,
    /// Synapse entries (non-zero synapses, repeats counted) into each neuron.
    pub fanin: Vec<u32>,
    /// Parameter set of each computed neuron: a dense id (`0..sets`) of its
    /// (threshold, v_min, leak, reset, output) tuple, the part a core's
    /// parameter-set table holds; [`NO_SET`] for input neurons.
    pub set: Vec<u32>,
    /// Distinct parameter sets in the network.
    pub sets: u32,
}

/// [`Conn::set`] of an input neuron.
pub const NO_SET: u32 = u32::MAX;

impl Conn {
    /// Builds the rows of a network.
    pub fn new(net: &Network) -> Conn {
        let n = net.neuron_count() as usize;
        let mut is_input = vec![false; n];
        for p in net.populations().iter().filter(|p| p.is_input()) {
            for id in p.ids() {
                is_input[id as usize] = true;
            }
        }
        let mut pairs: Vec<(u32, u32)> = Vec::new();
        let mut fanin = vec![0u32; n];
        net.for_each_synapse(|a, b, _| {
            pairs.push((a, b));
            fanin[b as usize] += 1;
        });
        pairs.sort_unstable();
        pairs.dedup();
        let (out_start, out_tgt) = csr(n, pairs.iter().map(|&(a, b)| (a, b)));
        let mut rev: Vec<(u32, u32)> = pairs.iter().map(|&(a, b)| (b, a)).collect();
        rev.sort_unstable();
        let (in_start, in_src) = csr(n, rev.into_iter());
        let (set, sets) = param_sets(net);
        Conn { n, is_input, out_start, out_tgt, in_start, in_src, fanin, set, sets }
    }

    /// Distinct targets of `s`.
    pub fn targets(&self, s: u32) -> &[u32] {
        &self.out_tgt[self.out_start[s as usize] as usize..self.out_start[s as usize + 1] as usize]
    }

    /// Distinct sources of `v`.
    pub fn sources(&self, v: u32) -> &[u32] {
        &self.in_src[self.in_start[v as usize] as usize..self.in_start[v as usize + 1] as usize]
    }

    /// Computed (non-input) neurons, in id order.
    pub fn computed(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.n as u32).filter(|&v| !self.is_input[v as usize])
    }
}

/// Dense parameter-set ids of the computed neurons, numbered in order of
/// first appearance by global id, and their count.
fn param_sets(net: &Network) -> (Vec<u32>, u32) {
    let mut set = vec![NO_SET; net.neuron_count() as usize];
    let mut ids: HashMap<ParamSetEntry, u32> = HashMap::new();
    for p in net.populations() {
        let Some(np) = p.params() else { continue };
        for (i, g) in p.ids().enumerate() {
            let next = ids.len() as u32;
            set[g as usize] = *ids.entry(ParamEntry::of(np, i, p.is_output()).split().0).or_insert(next);
        }
    }
    (set, ids.len() as u32)
}

/// CSR from sorted (row, col) pairs.
fn csr(n: usize, pairs: impl Iterator<Item = (u32, u32)>) -> (Vec<u32>, Vec<u32>) {
    let mut start = vec![0u32; n + 1];
    let mut cols = Vec::new();
    for (r, c) in pairs {
        start[r as usize + 1] += 1;
        cols.push(c);
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    (start, cols)
}
