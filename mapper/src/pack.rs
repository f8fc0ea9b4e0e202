//! How many cores a network needs: a lower bound per resource, and
//! packings that try to reach it.
//!
//! **Lower bound.** Every computed neuron takes a neuron slot and its
//! synapse entries on exactly one core; every source with a target needs at
//! least one axon somewhere; every computed source with a target needs at
//! least one routing entry on its own core; every parameter set at least one
//! table entry. So no partition uses fewer cores than
//! max(⌈neurons/N⌉, ⌈entries/2S⌉, ⌈sources/A⌉, ⌈computed sources/R⌉,
//! ⌈sets/K⌉) ([`CoreBound`]): S counts words, and a dense row holds two
//! synapses a word. With sparse rows only (one word per synapse, what the
//! mapper uses whenever that fits), ⌈entries/S⌉ replaces ⌈entries/2S⌉.
//! The largest single neuron's needs are
//! reported with it: when one neuron alone exceeds a core, no number of
//! cores helps.
//!
//! **Packings.** Three orders, each packed with the same exact accounting
//! of neurons, synapse entries, axons (distinct sources per core) and
//! parameter sets; the one with the fewest cores wins:
//! - next fit in network order ([`crate::partition::fill`], the baseline):
//!   keeps populations and neighbourhoods together, which keeps axons low;
//! - first fit in network order with affinity: a neuron goes to the open
//!   core that already holds most of its sources (fewest new axons), else
//!   the first with room, so a core left half full by one large neuron is
//!   filled later;
//! - first fit *decreasing* by dominant resource (each neuron's largest
//!   share of a core: 1/N, fan-in/S, sources/A), with the same affinity
//!   rule: the classic bin-packing order, which places hubs with a large
//!   fan-in first and fills around them.
//!
//! Routing entries depend on where targets land; they are checked and
//! repaired on the finished partition ([`crate::partition::State::repair`]).

use crate::conn::Conn;
use crate::partition::{fill, Caps, PartitionError, NONE};

/// Lower bounds on the cores a network needs, one per resource.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CoreBound {
    /// ⌈computed neurons / neurons per core⌉.
    pub neurons: u32,
    /// ⌈synapse entries / synapse words per core⌉: the bound when every
    /// synapse takes a word of its own (sparse rows).
    pub synapses: u32,
    /// ⌈synapse entries / (synapse words per core × 2)⌉: the bound with
    /// dense rows, which hold two synapses a word.
    pub synapses_dense: u32,
    /// ⌈sources with a target / axons per core⌉.
    pub axons: u32,
    /// ⌈computed sources with a target / routing entries per core⌉.
    pub routes: u32,
    /// ⌈parameter sets / table entries per core⌉.
    pub param_sets: u32,
    /// The lower bound: the largest of neurons, synapses_dense, axons,
    /// routes and param_sets.
    pub cores: u32,
    /// The bound when every synapse takes a word: as `cores`, with
    /// synapses for synapses_dense (what a partition with sparse rows
    /// cannot beat).
    pub cores_sparse: u32,
    /// The largest fan-in of one neuron (synapse entries it needs on its core).
    pub max_synapses: u32,
    /// The most distinct sources of one neuron (axons it needs on its core).
    pub max_axons: u32,
}

impl CoreBound {
    /// The bound for `conn` under per-core capacities `caps`.
    pub fn new(conn: &Conn, caps: &Caps) -> CoreBound {
        let ceil = |total: u64, cap: u32| total.div_ceil(cap.max(1) as u64).min(u32::MAX as u64) as u32;
        let computed = conn.computed().count() as u64;
        let entries: u64 = conn.computed().map(|v| conn.fanin[v as usize] as u64).sum();
        let sources = (0..conn.n as u32).filter(|&s| !conn.targets(s).is_empty()).count() as u64;
        let computed_sources = conn.computed().filter(|&s| !conn.targets(s).is_empty()).count() as u64;
        let mut b = CoreBound {
            neurons: ceil(computed, caps.neurons),
            synapses: ceil(entries, caps.synapses),
            synapses_dense: ceil(entries, caps.synapses.saturating_mul(crate::image::DENSE_LANES)),
            axons: ceil(sources, caps.axons),
            routes: ceil(computed_sources, caps.routes),
            param_sets: ceil(conn.sets as u64, caps.param_sets),
            cores: 0,
            cores_sparse: 0,
            max_synapses: conn.computed().map(|v| conn.fanin[v as usize]).max().unwrap_or(0),
            max_axons: conn.computed().map(|v| conn.sources(v).len() as u32).max().unwrap_or(0),
        };
        let others = b.neurons.max(b.axons).max(b.routes).max(b.param_sets);
        b.cores = others.max(b.synapses_dense);
        b.cores_sparse = others.max(b.synapses);
        b
    }

    /// The resource that sets the bound (the first of neurons, synapse
    /// entries, axons, routing entries, parameter sets that reaches it).
    pub fn binding(&self) -> &'static str {
        if self.neurons == self.cores {
            "neurons"
        } else if self.synapses_dense == self.cores {
            "synapse words at two synapses a word"
        } else if self.axons == self.cores {
            "axons"
        } else if self.routes == self.cores {
            "routing entries"
        } else {
            "parameter sets"
        }
    }
}

/// The order of first fit decreasing: neurons by their dominant share of a
/// core (largest first; network order among equals).
pub fn decreasing_order(conn: &Conn, caps: &Caps) -> Vec<u32> {
    let share = |v: u32| -> f64 {
        let n = 1.0 / caps.neurons.max(1) as f64;
        let s = conn.fanin[v as usize] as f64 / caps.synapses.max(1) as f64;
        let a = conn.sources(v).len() as f64 / caps.axons.max(1) as f64;
        n.max(s).max(a)
    };
    let mut order: Vec<(f64, u32)> = conn.computed().map(|v| (share(v), v)).collect();
    order.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
    order.into_iter().map(|(_, v)| v).collect()
}

/// First fit with affinity in `order`: each neuron goes to the open core
/// holding most of its sources (fewest new axons; the lowest core on a
/// tie) among those with room for it, else to a new core. Exact for
/// neurons, synapse entries, axons and parameter sets.
pub fn first_fit(conn: &Conn, caps: &Caps, order: &[u32]) -> Result<(Vec<u32>, usize), PartitionError> {
    let mut part = vec![NONE; conn.n];
    // Cores that hold a target of each source (that have its axon), in opening order.
    let mut src_cores: Vec<Vec<u32>> = vec![Vec::new(); conn.n];
    let (mut use_n, mut use_s, mut use_a): (Vec<u32>, Vec<u32>, Vec<u32>) = (Vec::new(), Vec::new(), Vec::new());
    // Sorted parameter sets per core.
    let mut sets: Vec<Vec<u32>> = Vec::new();
    let mut shared: Vec<u32> = Vec::new();
    let mut touched: Vec<u32> = Vec::new();
    // Cores below this one are full in neurons: the scan starts here.
    let mut first_open = 0usize;
    for &v in order {
        crate::partition::fits_alone(conn, caps, v)?;
        let srcs = conn.sources(v);
        let fanin = conn.fanin[v as usize];
        let set = conn.set[v as usize];
        for &s in srcs {
            for &c in &src_cores[s as usize] {
                if shared[c as usize] == 0 {
                    touched.push(c);
                }
                shared[c as usize] += 1;
            }
        }
        let room = |c: usize, shared: u32| -> bool {
            use_n[c] < caps.neurons
                && use_s[c] + fanin <= caps.synapses
                && use_a[c] + (srcs.len() as u32 - shared) <= caps.axons
                && (sets[c].len() < caps.param_sets as usize || sets[c].binary_search(&set).is_ok())
        };
        let mut best: Option<(u32, usize)> = None;
        for &c in &touched {
            let (c, sh) = (c as usize, shared[c as usize]);
            if room(c, sh) && best.is_none_or(|(bs, bc)| sh > bs || (sh == bs && c < bc)) {
                best = Some((sh, c));
            }
        }
        if best.is_none() {
            best = (first_open..use_n.len()).find(|&c| room(c, shared[c])).map(|c| (shared[c], c));
        }
        for &c in &touched {
            shared[c as usize] = 0;
        }
        touched.clear();
        let c = match best {
            Some((_, c)) => c,
            None => {
                use_n.push(0);
                use_s.push(0);
                use_a.push(0);
                sets.push(Vec::new());
                shared.push(0);
                use_n.len() - 1
            }
        };
        part[v as usize] = c as u32;
        use_n[c] += 1;
        use_s[c] += fanin;
        for &s in srcs {
            let cs = &mut src_cores[s as usize];
            if !cs.contains(&(c as u32)) {
                cs.push(c as u32);
                use_a[c] += 1;
            }
        }
        if let Err(i) = sets[c].binary_search(&set) {
            sets[c].insert(i, set);
        }
        while first_open < use_n.len() && use_n[first_open] >= caps.neurons {
            first_open += 1;
        }
    }
    let k = use_n.len();
    if k as u32 > caps.cores {
        return Err(PartitionError::TooManyCores { needed: k as u32 });
    }
    Ok((part, k))
}

/// Which packing [`best`] chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Packing {
    /// Next fit in the given order.
    NextFit,
    /// First fit with affinity in the given order.
    FirstFit,
    /// First fit with affinity, decreasing by dominant resource.
    Decreasing,
}

/// The packing with the fewest cores among next fit and first fit in
/// `order` and first fit decreasing (the earlier on a tie), with no limit
/// on the number of cores. Errors only when one neuron exceeds a core.
pub fn best(conn: &Conn, caps: &Caps, order: &[u32]) -> Result<(Vec<u32>, usize, Packing), PartitionError> {
    let unlimited = Caps { cores: u32::MAX, ..*caps };
    let (part, k) = fill(conn, &unlimited, order)?;
    let mut best = (part, k, Packing::NextFit);
    let decreasing = decreasing_order(conn, caps);
    let tries: [(&[u32], Packing); 2] = [(order, Packing::FirstFit), (&decreasing, Packing::Decreasing)];
    for (o, which) in tries {
        let (part, k) = first_fit(conn, &unlimited, o)?;
        if k < best.1 {
            best = (part, k, which);
        }
    }
    Ok(best)
}
