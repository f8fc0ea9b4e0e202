//! Connectivity of a network as the mapper sees it: the fan-out hypergraph.
//!
//! Every presynaptic neuron `s` (input or computed) defines a net: the
//! distinct computed neurons it targets. The mapper's traffic metric is the
//! (λ−1) connectivity of these nets: a computed source costs one packet per
//! spike for every core other than its own that holds one of its targets;
//! an input source (driven by the host) costs one packet per target core.

use spikeforge_net::Network;

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
}

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
        Conn { n, is_input, out_start, out_tgt, in_start, in_src, fanin }
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
