//! Partitioning computed neurons onto cores under the per-core capacities.
//!
//! Two algorithms share one exact bookkeeping ([`State`]):
//! - **greedy** (the baseline): fill cores with neurons in network order,
//!   opening the next core when one of neurons, synapse entries or axons
//!   would overflow — the slicing of PACMAN-style tool flows;
//! - **multilevel**: size-constrained label propagation clusters neurons
//!   that share sources and synapses (one coarsening level), the clusters
//!   are packed greedily, then refinement moves single neurons between
//!   cores while the exact (λ−1) traffic drops and every capacity holds.
//!   Refinement also runs on the greedy packing; the better result wins, so
//!   the optimized mapping is never worse than the baseline.
//!
//! Parameter sets are a per-core capacity like axons: the distinct
//! parameter sets ([`Conn::set`]) of a core's neurons must not exceed
//! `param_sets_per_core`. Every packing counts them, and [`State`] keeps the
//! neurons per set of every part so that a move knows whether it adds or
//! frees a table entry.
//!
//! Routing entries depend on where a neuron's targets end up, so they are
//! checked on the finished partition and repaired by moving neurons out of
//! a core that overflows.

use crate::conn::Conn;

/// Marks input neurons in a partition vector.
pub const NONE: u32 = u32::MAX;

/// Per-core capacities (and the host's input routing table).
#[derive(Debug, Clone, Copy)]
pub struct Caps {
    /// Neurons per core.
    pub neurons: u32,
    /// Synapse entries per core.
    pub synapses: u32,
    /// Axons per core.
    pub axons: u32,
    /// Routing entries per core.
    pub routes: u32,
    /// Parameter-set table entries per core (distinct parameter sets).
    pub param_sets: u32,
    /// Input routing entries in the host interface.
    pub input_routes: u64,
    /// Cores available.
    pub cores: u32,
}

impl Caps {
    /// The capacities of a spec's cores and host interface.
    pub fn of(spec: &spikeforge_hw::HardwareSpec) -> Caps {
        Caps {
            neurons: spec.neurons_per_core,
            synapses: spec.synapses_per_core,
            axons: spec.axons_per_core,
            routes: spec.routes_per_core,
            param_sets: spec.param_sets_per_core,
            input_routes: spec.input_routes as u64,
            cores: spec.cores(),
        }
    }
}

/// A heap entry: highest score first, ties to the lower id, then the lower
/// part (deterministic).
#[derive(PartialEq)]
struct Scored(f64, u32, u32);

impl Eq for Scored {}

impl PartialOrd for Scored {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}

impl Ord for Scored {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&o.0).then(o.1.cmp(&self.1)).then(o.2.cmp(&self.2))
    }
}

/// Why a partition could not be made.
#[derive(Debug, Clone, PartialEq)]
pub enum PartitionError {
    /// One neuron alone exceeds a per-core capacity.
    NeuronTooBig {
        /// Global id.
        neuron: u32,
        /// "synapse entries", "axons" or "parameter sets".
        what: &'static str,
        /// What it needs.
        needs: u64,
    },
    /// More cores are needed than the spec has.
    TooManyCores {
        /// Cores needed by the packing.
        needed: u32,
    },
    /// Routing entries overflow and no move repairs it.
    Routes {
        /// A core that overflows.
        core: u32,
        /// Its routing entries.
        needs: u64,
    },
    /// The host's input routing table overflows.
    InputRoutes {
        /// Entries needed.
        needs: u64,
    },
}

/// A partition and its exact resource and traffic bookkeeping.
#[derive(Debug, Clone)]
pub struct State<'a> {
    conn: &'a Conn,
    rate: &'a [f64],
    caps: Caps,
    /// Part of each neuron ([`NONE`] for inputs).
    pub part: Vec<u32>,
    /// Number of parts.
    pub k: usize,
    /// Per source: (part, number of its distinct targets in that part), sorted by part.
    cnt: Vec<Vec<(u32, u32)>>,
    /// Neurons per part.
    pub use_n: Vec<u32>,
    /// Synapse entries per part.
    pub use_s: Vec<u32>,
    /// Axons per part.
    pub use_a: Vec<u32>,
    /// Routing entries per part.
    pub use_r: Vec<u32>,
    /// Distinct parameter sets per part.
    pub use_k: Vec<u32>,
    /// Per part: (parameter set, neurons of that set in the part), sorted by set.
    sets: Vec<Vec<(u32, u32)>>,
    /// Input routing entries.
    pub input_routes: u64,
    scratch: Delta,
}

/// Resources a move changes, by index into [`Delta::cores`]' arrays.
const RESOURCES: usize = 5;

/// The count of key `c` in a sorted (key, count) list (0 if absent).
pub(crate) fn get(v: &[(u32, u32)], c: u32) -> u32 {
    v.binary_search_by_key(&c, |e| e.0).map_or(0, |i| v[i].1)
}

/// Adds `d` to the count of key `c` in a sorted (key, count) list, removing
/// the key at 0.
pub(crate) fn add(v: &mut Vec<(u32, u32)>, c: u32, d: i32) {
    match v.binary_search_by_key(&c, |e| e.0) {
        Ok(i) => {
            let x = v[i].1 as i32 + d;
            if x == 0 {
                v.remove(i);
            } else {
                v[i].1 = x as u32;
            }
        }
        Err(i) => {
            debug_assert!(d > 0);
            v.insert(i, (c, d as u32));
        }
    }
}

/// Resource deltas of a move, per touched part.
#[derive(Debug, Clone, Default)]
struct Delta {
    /// Per touched part: neurons, synapse entries, axons, routes, parameter sets.
    cores: Vec<(u32, [i64; RESOURCES])>,
    input_routes: i64,
    cost: f64,
}

impl Delta {
    fn at(&mut self, c: u32, k: usize, d: i64) {
        match self.cores.iter_mut().find(|e| e.0 == c) {
            Some(e) => e.1[k] += d,
            None => {
                let mut a = [0; RESOURCES];
                a[k] = d;
                self.cores.push((c, a));
            }
        }
    }
}

impl<'a> State<'a> {
    /// Bookkeeping of a given partition with `k` parts.
    pub fn new(conn: &'a Conn, rate: &'a [f64], caps: Caps, part: Vec<u32>, k: usize) -> State<'a> {
        let mut st = State {
            conn,
            rate,
            caps,
            part,
            k,
            cnt: vec![Vec::new(); conn.n],
            use_n: vec![0; k],
            use_s: vec![0; k],
            use_a: vec![0; k],
            use_r: vec![0; k],
            use_k: vec![0; k],
            sets: vec![Vec::new(); k],
            input_routes: 0,
            scratch: Delta::default(),
        };
        for s in 0..conn.n as u32 {
            let mut v: Vec<(u32, u32)> = Vec::new();
            for &t in conn.targets(s) {
                add(&mut v, st.part[t as usize], 1);
            }
            for &(c, _) in &v {
                st.use_a[c as usize] += 1;
            }
            if conn.is_input[s as usize] {
                st.input_routes += v.len() as u64;
            } else {
                let p = st.part[s as usize] as usize;
                st.use_r[p] += v.len() as u32;
                st.use_n[p] += 1;
                st.use_s[p] += conn.fanin[s as usize];
                add(&mut st.sets[p], conn.set[s as usize], 1);
            }
            st.cnt[s as usize] = v;
        }
        for (u, sets) in st.use_k.iter_mut().zip(&st.sets) {
            *u = sets.len() as u32;
        }
        st
    }

    /// Cost of source `s`: packets per spike leaving its core, times its rate.
    fn cost_of(&self, s: u32, d_len: usize, own_in: bool) -> f64 {
        self.rate[s as usize] * (d_len - own_in as usize) as f64
    }

    /// The connectivity this partition is of.
    pub(crate) fn conn(&self) -> &'a Conn {
        self.conn
    }

    /// Spikes per step of every neuron.
    pub(crate) fn rate(&self) -> &'a [f64] {
        self.rate
    }

    /// The capacities this partition is held to.
    pub(crate) fn caps(&self) -> Caps {
        self.caps
    }

    /// Rate-weighted inter-core packets per step (the (λ−1) metric;
    /// input sources count one packet per target core).
    pub fn traffic(&self) -> f64 {
        let sum: f64 = (0..self.conn.n as u32)
            .map(|s| {
                let d = &self.cnt[s as usize];
                let own = self.part[s as usize];
                self.cost_of(s, d.len(), own != NONE && get(d, own) > 0)
            })
            .sum();
        // An empty f64 sum is -0.0, which reports would print as "-0.00".
        sum + 0.0
    }

    /// Distinct destination parts of source `s`, with target counts.
    pub fn destinations(&self, s: u32) -> &[(u32, u32)] {
        &self.cnt[s as usize]
    }

    /// Distinct (source, target) pairs of the network: its size.
    pub fn conn_pins(&self) -> usize {
        self.conn.in_src.len()
    }

    /// The number of computed (non-input) neurons.
    pub fn computed_neurons(&self) -> usize {
        self.conn.computed().count()
    }

    /// Whether every capacity holds.
    pub fn fits(&self) -> bool {
        self.k as u32 <= self.caps.cores
            && self.input_routes <= self.caps.input_routes
            && (0..self.k).all(|c| {
                self.use_n[c] <= self.caps.neurons
                    && self.use_s[c] <= self.caps.synapses
                    && self.use_a[c] <= self.caps.axons
                    && self.use_r[c] <= self.caps.routes
                    && self.use_k[c] <= self.caps.param_sets
            })
    }

    /// Resource and cost deltas of moving `v` to `b`, into a reused buffer
    /// (this runs millions of times during refinement).
    fn delta(&self, v: u32, b: u32, d: &mut Delta) {
        let a = self.part[v as usize];
        d.cores.clear();
        d.input_routes = 0;
        d.cost = 0.0;
        d.at(a, 0, -1);
        d.at(b, 0, 1);
        d.at(a, 1, -(self.conn.fanin[v as usize] as i64));
        d.at(b, 1, self.conn.fanin[v as usize] as i64);
        let set = self.conn.set[v as usize];
        if get(&self.sets[a as usize], set) == 1 {
            d.at(a, 4, -1);
        }
        if get(&self.sets[b as usize], set) == 0 {
            d.at(b, 4, 1);
        }
        let sources = self.conn.sources(v);
        let self_loop = sources.binary_search(&v).is_ok();
        let extra = if self_loop { None } else { Some(v) };
        for s in sources.iter().copied().chain(extra) {
            let cur = &self.cnt[s as usize];
            let targets_v = s != v || self_loop;
            let (ca, cb) = (get(cur, a), get(cur, b));
            let (ca2, cb2) = if targets_v { (ca - 1, cb + 1) } else { (ca, cb) };
            let len = cur.len() as i64;
            let len2 = len - (ca > 0 && ca2 == 0) as i64 + (cb == 0 && cb2 > 0) as i64;
            if ca > 0 && ca2 == 0 {
                d.at(a, 2, -1);
            }
            if cb == 0 && cb2 > 0 {
                d.at(b, 2, 1);
            }
            let own = self.part[s as usize];
            if own == NONE {
                d.input_routes += len2 - len;
                d.cost += self.rate[s as usize] * (len2 - len) as f64;
                continue;
            }
            let own2 = if s == v { b } else { own };
            // Whether part `x` holds a target of `s` after the move.
            let holds_after = |x: u32| -> bool {
                let base = get(cur, x) as i64;
                if targets_v {
                    base - (x == a) as i64 + (x == b) as i64 > 0
                } else {
                    base > 0
                }
            };
            let before = self.cost_of(s, len as usize, get(cur, own) > 0);
            let after = self.rate[s as usize] * (len2 - holds_after(own2) as i64) as f64;
            d.cost += after - before;
            d.at(own, 3, -len);
            d.at(own2, 3, len2);
        }
    }

    fn feasible(&self, d: &Delta) -> bool {
        if d.input_routes > 0 && self.input_routes as i64 + d.input_routes > self.caps.input_routes as i64 {
            return false;
        }
        let caps = [self.caps.neurons, self.caps.synapses, self.caps.axons, self.caps.routes, self.caps.param_sets];
        d.cores.iter().all(|(c, dd)| {
            let c = *c as usize;
            let cur = [self.use_n[c], self.use_s[c], self.use_a[c], self.use_r[c], self.use_k[c]];
            (0..RESOURCES).all(|i| dd[i] <= 0 || cur[i] as i64 + dd[i] <= caps[i] as i64)
        })
    }

    /// Traffic reduction of moving `v` to part `b`, if every capacity holds after it.
    pub fn gain(&mut self, v: u32, b: u32) -> Option<f64> {
        if self.part[v as usize] == b {
            return None;
        }
        // What `b` gains in neurons, synapse entries and parameter sets does
        // not need the full delta: refuse an over-full `b` cheaply.
        let bu = b as usize;
        if self.use_n[bu] >= self.caps.neurons
            || self.use_s[bu] + self.conn.fanin[v as usize] > self.caps.synapses
            || (self.use_k[bu] >= self.caps.param_sets && get(&self.sets[bu], self.conn.set[v as usize]) == 0)
        {
            return None;
        }
        let mut d = std::mem::take(&mut self.scratch);
        self.delta(v, b, &mut d);
        let r = self.feasible(&d).then_some(-d.cost);
        self.scratch = d;
        r
    }

    /// Moves `v` to part `b` (no capacity check).
    pub fn apply(&mut self, v: u32, b: u32) {
        let a = self.part[v as usize];
        if a == b {
            return;
        }
        let mut d = std::mem::take(&mut self.scratch);
        self.delta(v, b, &mut d);
        for (c, dd) in &d.cores {
            let c = *c as usize;
            self.use_n[c] = (self.use_n[c] as i64 + dd[0]) as u32;
            self.use_s[c] = (self.use_s[c] as i64 + dd[1]) as u32;
            self.use_a[c] = (self.use_a[c] as i64 + dd[2]) as u32;
            self.use_r[c] = (self.use_r[c] as i64 + dd[3]) as u32;
            self.use_k[c] = (self.use_k[c] as i64 + dd[4]) as u32;
        }
        let set = self.conn.set[v as usize];
        add(&mut self.sets[a as usize], set, -1);
        add(&mut self.sets[b as usize], set, 1);
        self.input_routes = (self.input_routes as i64 + d.input_routes) as u64;
        for i in 0..self.conn.sources(v).len() {
            let s = self.conn.sources(v)[i];
            add(&mut self.cnt[s as usize], a, -1);
            add(&mut self.cnt[s as usize], b, 1);
        }
        self.part[v as usize] = b;
        self.scratch = d;
    }

    /// Adds an empty part.
    fn open_part(&mut self) -> u32 {
        self.k += 1;
        self.use_n.push(0);
        self.use_s.push(0);
        self.use_a.push(0);
        self.use_r.push(0);
        self.use_k.push(0);
        self.sets.push(Vec::new());
        (self.k - 1) as u32
    }

    /// Candidate parts for `v`, best connected first (at most `limit`).
    fn candidates(&self, v: u32, limit: usize, score: &mut [f64], touched: &mut Vec<u32>) -> Vec<u32> {
        for &s in self.conn.sources(v) {
            for &(c, _) in &self.cnt[s as usize] {
                if score[c as usize] == 0.0 {
                    touched.push(c);
                }
                score[c as usize] += self.rate[s as usize].max(1e-6);
            }
            let own = self.part[s as usize];
            if own != NONE {
                if score[own as usize] == 0.0 {
                    touched.push(own);
                }
                score[own as usize] += self.rate[s as usize].max(1e-6);
            }
        }
        for &(c, _) in &self.cnt[v as usize] {
            if score[c as usize] == 0.0 {
                touched.push(c);
            }
            score[c as usize] += self.rate[v as usize].max(1e-6);
        }
        let a = self.part[v as usize];
        let mut cands: Vec<(f64, u32)> = touched.iter().filter(|&&c| c != a).map(|&c| (score[c as usize], c)).collect();
        for &c in touched.iter() {
            score[c as usize] = 0.0;
        }
        touched.clear();
        cands.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
        cands.into_iter().take(limit).map(|e| e.1).collect()
    }

    /// The best feasible move of `v` among its `limit` best-connected parts.
    fn best_move(&mut self, v: u32, limit: usize, score: &mut [f64], touched: &mut Vec<u32>) -> Option<(f64, u32)> {
        let mut best: Option<(f64, u32)> = None;
        for b in self.candidates(v, limit, score, touched) {
            if let Some(g) = self.gain(v, b) {
                if best.is_none_or(|(bg, bb)| g > bg + 1e-12 || (g > bg - 1e-12 && b < bb)) {
                    best = Some((g, b));
                }
            }
        }
        best
    }

    /// Fiduccia–Mattheyses passes on the exact (λ−1) traffic with every
    /// capacity checked per move: in each pass every neuron moves at most
    /// once, always the move with the highest gain at the time, negative
    /// gains included (they climb out of local minima greedy refinement
    /// stops in); after `patience` moves without a new best the pass stops
    /// and the moves after the best prefix are rolled back. Gains are kept
    /// in a heap and recomputed when popped (lazy updates); after a move
    /// the gains of its sources, targets and (for small nets) siblings are
    /// pushed anew. Stops when a pass gains nothing, or less than
    /// `min_gain` times the traffic.
    pub fn fm(&mut self, passes: usize, patience: usize, min_gain: f64) {
        use std::collections::BinaryHeap;
        if self.k < 2 {
            return;
        }
        let mut score = vec![0.0; self.k];
        let mut touched = Vec::new();
        let n = self.conn.n;
        let mut locked = vec![false; n];
        for _ in 0..passes {
            locked.iter_mut().for_each(|l| *l = false);
            let mut heap = BinaryHeap::new();
            for v in self.conn.computed() {
                let a = self.part[v as usize];
                // Boundary neurons only: a source or a target in another part.
                let boundary = self.cnt[v as usize].iter().any(|&(c, _)| c != a)
                    || self.conn.sources(v).iter().any(|&s| self.cnt[s as usize].len() > 1);
                if boundary {
                    if let Some((g, b)) = self.best_move(v, 4, &mut score, &mut touched) {
                        heap.push(Scored(g, v, b));
                    }
                }
            }
            let mut moves: Vec<(u32, u32)> = Vec::new();
            let (mut cum, mut best_cum, mut best_len) = (0.0f64, 0.0f64, 0usize);
            while let Some(Scored(g, v, _)) = heap.pop() {
                if locked[v as usize] {
                    continue;
                }
                let Some((g2, b2)) = self.best_move(v, 4, &mut score, &mut touched) else { continue };
                if g2 < g - 1e-9 {
                    heap.push(Scored(g2, v, b2)); // stale: its gain dropped
                    continue;
                }
                let a = self.part[v as usize];
                self.apply(v, b2);
                locked[v as usize] = true;
                moves.push((v, a));
                cum += g2;
                if cum > best_cum + 1e-9 {
                    best_cum = cum;
                    best_len = moves.len();
                } else if moves.len() - best_len > patience {
                    break;
                }
                // Neighbours whose gains changed, at most UPDATES of them (a
                // neuron with a thousand sources would otherwise cost a
                // thousand gain evaluations per move; the rest are
                // recomputed when popped).
                const UPDATES: usize = 16;
                let mut budget = UPDATES;
                let mut push = |u: u32, st: &mut Self, heap: &mut BinaryHeap<Scored>| {
                    if budget > 0
                        && !st.conn.is_input[u as usize]
                        && !locked[u as usize]
                        && st.conn.sources(u).len() <= 64
                    {
                        budget -= 1;
                        if let Some((g, b)) = st.best_move(u, 4, &mut score, &mut touched) {
                            heap.push(Scored(g, u, b));
                        }
                    }
                };
                for i in 0..self.conn.sources(v).len() {
                    let s = self.conn.sources(v)[i];
                    push(s, self, &mut heap);
                    let t = self.conn.targets(s);
                    if t.len() <= 16 {
                        for j in 0..t.len() {
                            push(self.conn.targets(s)[j], self, &mut heap);
                        }
                    }
                }
                for j in 0..self.conn.targets(v).len() {
                    push(self.conn.targets(v)[j], self, &mut heap);
                }
            }
            for &(v, a) in moves[best_len..].iter().rev() {
                self.apply(v, a);
            }
            if best_cum <= 1e-9 || best_cum < min_gain * self.traffic() {
                break;
            }
        }
    }

    /// Greedy positive-gain moves of single neurons, up to `passes` passes.
    pub fn refine(&mut self, passes: usize) {
        let mut score = vec![0.0; self.k];
        let mut touched = Vec::new();
        let order: Vec<u32> = self.conn.computed().collect();
        for _ in 0..passes {
            let mut gained = 0.0;
            for &v in &order {
                // A move can only gain if some source loses its last target in
                // v's part, or v's own spikes stop leaving their core: skip the rest.
                let a = self.part[v as usize];
                let may_gain = self.conn.sources(v).iter().any(|&s| get(&self.cnt[s as usize], a) <= 1)
                    || (!self.cnt[v as usize].is_empty() && get(&self.cnt[v as usize], a) == 0)
                    || self.conn.sources(v).iter().any(|&s| self.part[s as usize] == a);
                if !may_gain {
                    continue;
                }
                let mut best: Option<(f64, u32)> = None;
                for b in self.candidates(v, 6, &mut score, &mut touched) {
                    if let Some(g) = self.gain(v, b) {
                        if g > 1e-9 && best.is_none_or(|(bg, _)| g > bg) {
                            best = Some((g, b));
                        }
                    }
                }
                if let Some((g, b)) = best {
                    self.apply(v, b);
                    gained += g;
                }
            }
            // Stop when a pass gains less than 0.2% (the tail is slow and small).
            if gained <= 1e-9 || gained < 0.002 * self.traffic() {
                break;
            }
        }
    }

    /// Whether part `c` exceeds any per-core capacity.
    fn overfull(&self, c: usize) -> bool {
        self.use_n[c] > self.caps.neurons
            || self.use_s[c] > self.caps.synapses
            || self.use_a[c] > self.caps.axons
            || self.use_r[c] > self.caps.routes
            || self.use_k[c] > self.caps.param_sets
    }

    /// Moves neurons out of parts that exceed a capacity (routing entries
    /// after partitioning; anything after a partitioner that balanced only
    /// neurons and synapses), to the best part with room, opening new
    /// parts while the spec has cores.
    pub fn repair(&mut self) -> Result<(), PartitionError> {
        if self.input_routes > self.caps.input_routes {
            return Err(PartitionError::InputRoutes { needs: self.input_routes });
        }
        let mut guard = 0usize;
        // The first routing overflow met: when repairing it runs out of cores,
        // the routing table is the limit to name, not the number of cores
        // (which suffice for neurons, synapses and axons).
        let mut route_overflow: Option<(u32, u64)> = None;
        loop {
            let Some(c) = (0..self.k).find(|&c| self.overfull(c)) else { return Ok(()) };
            guard += 1;
            if route_overflow.is_none() && self.use_r[c] > self.caps.routes {
                route_overflow = Some((c as u32, self.use_r[c] as u64));
            }
            let fail = |st: &Self| {
                if st.use_r[c] > st.caps.routes {
                    PartitionError::Routes { core: c as u32, needs: st.use_r[c] as u64 }
                } else if let Some((core, needs)) = route_overflow {
                    PartitionError::Routes { core, needs }
                } else {
                    PartitionError::TooManyCores { needed: st.k as u32 + 1 }
                }
            };
            if guard > 4 * self.conn.n + 16 {
                return Err(fail(self));
            }
            let mut members: Vec<u32> = self.conn.computed().filter(|&v| self.part[v as usize] == c as u32).collect();
            if self.use_k[c] > self.caps.param_sets {
                // Too many parameter sets: empty the set with the fewest
                // neurons here (a move of any other neuron frees no entry).
                let fewest = self.sets[c].iter().min_by_key(|e| (e.1, e.0)).expect("a part with sets").0;
                members.retain(|&v| self.conn.set[v as usize] == fewest);
            }
            // Weigh only the members that free most of what overflows: every
            // candidate costs a full move evaluation per part, and a core
            // holds up to thousands of neurons (this keeps a failing repair
            // fast as well as a succeeding one).
            const CANDIDATES: usize = 48;
            if members.len() > CANDIDATES {
                let cu = c as u32;
                let frees = |v: u32| -> u64 {
                    if self.use_r[c] > self.caps.routes {
                        self.cnt[v as usize].len() as u64
                    } else if self.use_a[c] > self.caps.axons {
                        self.conn.sources(v).iter().filter(|&&s| get(&self.cnt[s as usize], cu) == 1).count() as u64
                    } else if self.use_s[c] > self.caps.synapses {
                        self.conn.fanin[v as usize] as u64
                    } else {
                        0
                    }
                };
                let mut keyed: Vec<(u64, u32)> = members.iter().map(|&v| (frees(v), v)).collect();
                keyed.sort_unstable_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(&y.1)));
                members = keyed.into_iter().take(CANDIDATES).map(|(_, v)| v).collect();
            }
            // Each member's best move, best first (ties: member order,
            // then the lower part, as a scan of all pairs would pick).
            let mut moves: Vec<(f64, u32, u32)> = Vec::new();
            for &v in &members {
                let mut best: Option<(f64, u32, u32)> = None;
                for b in 0..self.k as u32 {
                    if b as usize == c {
                        continue;
                    }
                    if let Some(g) = self.gain(v, b) {
                        if best.is_none_or(|(bg, _, _)| g > bg) {
                            best = Some((g, v, b));
                        }
                    }
                }
                moves.extend(best);
            }
            moves.sort_by(|x, y| y.0.total_cmp(&x.0));
            match moves.first().copied() {
                Some((_, v, b)) => {
                    self.apply(v, b);
                    // More moves from the same scan while the part is still
                    // overfull and each, evaluated again, still fits and
                    // gains at least the next one's estimate: a move changes
                    // only its neighbours' gains, and a scan costs a full
                    // evaluation per member and part (the converted CNN's
                    // repairs took 100-300 scans).
                    let mut batch = 1;
                    for i in 1..moves.len() {
                        if !self.overfull(c) {
                            break;
                        }
                        let (_, v, b) = moves[i];
                        let next = moves.get(i + 1).map_or(f64::NEG_INFINITY, |m| m.0);
                        match self.gain(v, b) {
                            Some(g) if g >= next => {
                                self.apply(v, b);
                                batch += 1;
                            }
                            _ => break,
                        }
                    }
                    guard += batch - 1;
                }
                None if (self.k as u32) < self.caps.cores => {
                    // Open a new part for the member that frees the most.
                    let v = *members
                        .iter()
                        .max_by_key(|&&v| {
                            (self.cnt[v as usize].len() as u32 + self.conn.fanin[v as usize], std::cmp::Reverse(v))
                        })
                        .expect("overfull part has members");
                    let b = self.open_part();
                    self.apply(v, b);
                }
                None => return Err(fail(self)),
            }
        }
    }
}

/// Whether neuron `v` fits an empty core at all.
pub(crate) fn fits_alone(conn: &Conn, caps: &Caps, v: u32) -> Result<(), PartitionError> {
    let fanin = conn.fanin[v as usize];
    if fanin > caps.synapses {
        return Err(PartitionError::NeuronTooBig { neuron: v, what: "synapse entries", needs: fanin as u64 });
    }
    let srcs = conn.sources(v).len() as u32;
    if srcs > caps.axons {
        return Err(PartitionError::NeuronTooBig { neuron: v, what: "axons", needs: srcs as u64 });
    }
    if caps.param_sets == 0 {
        return Err(PartitionError::NeuronTooBig { neuron: v, what: "parameter sets", needs: 1 });
    }
    Ok(())
}

/// Packs neurons into parts in the given order, opening a new part when
/// neurons, synapse entries, axons or parameter sets would overflow. When
/// the network has more parameter sets than a core holds, also packs in
/// that order grouped by set (stably) and returns the packing with fewer
/// parts (the given order on a tie): an order that interleaves sets, e.g.
/// per-neuron thresholds, would otherwise open a core every K neurons.
pub fn fill(conn: &Conn, caps: &Caps, order: &[u32]) -> Result<(Vec<u32>, usize), PartitionError> {
    let plain = fill_in_order(conn, caps, order);
    if conn.sets <= caps.param_sets || matches!(plain, Err(PartitionError::NeuronTooBig { .. })) {
        return plain;
    }
    let mut grouped = order.to_vec();
    grouped.sort_by_key(|&v| conn.set[v as usize]);
    match (plain, fill_in_order(conn, caps, &grouped)) {
        (Ok(p), Ok(g)) => Ok(if g.1 < p.1 { g } else { p }),
        (Err(_), Ok(g)) => Ok(g),
        (p, _) => p,
    }
}

fn fill_in_order(conn: &Conn, caps: &Caps, order: &[u32]) -> Result<(Vec<u32>, usize), PartitionError> {
    let mut part = vec![NONE; conn.n];
    let mut stamp = vec![0u32; conn.n];
    // Stamp per parameter set: c + 1 when part c holds one of its neurons.
    let mut set_stamp = vec![0u32; conn.sets as usize];
    let (mut c, mut n, mut s, mut a, mut k) = (0u32, 0u32, 0u32, 0u32, 0u32);
    let mut any = false;
    for &v in order {
        any = true;
        let srcs = conn.sources(v);
        let fanin = conn.fanin[v as usize];
        let set = conn.set[v as usize] as usize;
        fits_alone(conn, caps, v)?;
        let new_src = |c: u32| srcs.iter().filter(|&&x| stamp[x as usize] != c + 1).count() as u32;
        let new_set = |c: u32| (set_stamp[set] != c + 1) as u32;
        if n + 1 > caps.neurons
            || s + fanin > caps.synapses
            || a + new_src(c) > caps.axons
            || k + new_set(c) > caps.param_sets
        {
            c += 1;
            n = 0;
            s = 0;
            a = 0;
            k = 0;
        }
        a += new_src(c);
        k += new_set(c);
        for &x in srcs {
            stamp[x as usize] = c + 1;
        }
        set_stamp[set] = c + 1;
        n += 1;
        s += fanin;
        part[v as usize] = c;
    }
    let k = if any { c as usize + 1 } else { 0 };
    if k as u32 > caps.cores {
        return Err(PartitionError::TooManyCores { needed: k as u32 });
    }
    Ok((part, k))
}

/// Size-constrained label propagation: clusters of neurons that share
/// synapses and sources, each small enough that several fit in one core.
/// Returns a neuron order that keeps each cluster contiguous.
pub fn cluster_order(conn: &Conn, caps: &Caps, rate: &[f64]) -> Vec<u32> {
    let n = conn.n;
    let max_n = (caps.neurons / 2).max(1);
    let max_s = (caps.synapses / 2).max(1);
    let mut label: Vec<u32> = (0..n as u32).collect();
    let mut size_n = vec![1u32; n];
    let mut size_s: Vec<u32> = conn.fanin.clone();
    let mut score: Vec<f64> = vec![0.0; n];
    let mut touched: Vec<u32> = Vec::new();
    let w = |s: u32| rate[s as usize].max(1e-3);
    for _round in 0..4 {
        let mut moved = 0usize;
        for v in conn.computed() {
            let mut bump = |l: u32, x: f64, score: &mut Vec<f64>| {
                if score[l as usize] == 0.0 {
                    touched.push(l);
                }
                score[l as usize] += x;
            };
            for &s in conn.sources(v) {
                if !conn.is_input[s as usize] {
                    bump(label[s as usize], w(s), &mut score);
                }
                // Siblings: neurons fed by the same source want the same core.
                let t = conn.targets(s);
                if t.len() <= 64 {
                    let share = w(s) / t.len() as f64;
                    for &u in t {
                        if u != v {
                            bump(label[u as usize], share, &mut score);
                        }
                    }
                }
            }
            for &t in conn.targets(v) {
                bump(label[t as usize], w(v), &mut score);
            }
            let cur = label[v as usize];
            let (vn, vs) = (1u32, conn.fanin[v as usize]);
            let mut best = (score[cur as usize], cur);
            for &l in &touched {
                let fits = l == cur || (size_n[l as usize] + vn <= max_n && size_s[l as usize] + vs <= max_s);
                if fits && (score[l as usize] > best.0 || (score[l as usize] == best.0 && l < best.1)) {
                    best = (score[l as usize], l);
                }
            }
            for &l in &touched {
                score[l as usize] = 0.0;
            }
            touched.clear();
            if best.1 != cur {
                size_n[cur as usize] -= vn;
                size_s[cur as usize] -= vs;
                size_n[best.1 as usize] += vn;
                size_s[best.1 as usize] += vs;
                label[v as usize] = best.1;
                moved += 1;
            }
        }
        if moved == 0 {
            break;
        }
    }
    // Clusters in order of their smallest member; members in id order.
    let mut first = vec![u32::MAX; n];
    for v in conn.computed() {
        let l = label[v as usize] as usize;
        first[l] = first[l].min(v);
    }
    let mut order: Vec<u32> = conn.computed().collect();
    order.sort_by_key(|&v| (first[label[v as usize] as usize], v));
    order
}

/// Greedy graph growing (the initial-partitioning scheme of METIS, here on
/// the fan-out hypergraph): a core starts from the lowest-numbered free
/// neuron and repeatedly takes the free neuron with the strongest affinity
/// to it — shared sources, synapses in either direction — while its
/// capacities (neurons, synapse entries, axons, parameter sets) allow; then the next core
/// starts. Unlike order-based filling this keeps 2-D neighbourhoods and
/// layer-to-layer columns together.
pub fn grow(conn: &Conn, caps: &Caps, rate: &[f64]) -> Result<(Vec<u32>, usize), PartitionError> {
    use std::collections::BinaryHeap;
    let n = conn.n;
    let w = |s: u32| rate[s as usize].max(1e-3);
    let mut part = vec![NONE; n];
    let mut score = vec![0.0f64; n];
    // Stamp: source s already has a target in (or is in) the current core.
    let mut seen = vec![u32::MAX; n];
    // Stamp: parameter set already in the current core.
    let mut set_seen = vec![u32::MAX; conn.sets as usize];
    let mut free: Vec<u32> = conn.computed().collect();
    free.reverse(); // pop() gives the lowest id
    let mut k = 0u32;
    let mut touched: Vec<u32> = Vec::new();
    while let Some(&seed) = free.last() {
        if part[seed as usize] != NONE {
            free.pop();
            continue;
        }
        let c = k;
        k += 1;
        if k > caps.cores {
            return Err(PartitionError::TooManyCores { needed: k });
        }
        let (mut un, mut us, mut ua, mut uk) = (0u32, 0u32, 0u32, 0u32);
        let mut heap = BinaryHeap::new();
        heap.push(Scored(f64::INFINITY, seed, 0));
        let mut rejected: Vec<u32> = Vec::new();
        while let Some(Scored(sc, v, _)) = heap.pop() {
            if part[v as usize] != NONE || (sc.is_finite() && sc < score[v as usize]) {
                continue; // taken, or a stale entry
            }
            let srcs = conn.sources(v);
            let fanin = conn.fanin[v as usize];
            fits_alone(conn, caps, v)?;
            let new_src = srcs.iter().filter(|&&s| seen[s as usize] != c).count() as u32;
            let set = conn.set[v as usize] as usize;
            let new_set = (set_seen[set] != c) as u32;
            if un + 1 > caps.neurons
                || us + fanin > caps.synapses
                || ua + new_src > caps.axons
                || uk + new_set > caps.param_sets
            {
                rejected.push(v);
                if un + 1 > caps.neurons || rejected.len() > 64 {
                    break;
                }
                continue;
            }
            part[v as usize] = c;
            un += 1;
            us += fanin;
            ua += new_src;
            uk += new_set;
            set_seen[set] = c;
            let mut bump = |u: u32, x: f64, heap: &mut BinaryHeap<Scored>| {
                if part[u as usize] == NONE && !conn.is_input[u as usize] {
                    if score[u as usize] == 0.0 {
                        touched.push(u);
                    }
                    score[u as usize] += x;
                    heap.push(Scored(score[u as usize], u, 0));
                }
            };
            // Siblings (other targets of v's sources) only for a vertex of
            // moderate fan-in: a dense neuron's 1,568 sources would push
            // 100k heap entries per neuron placed (0.5 s on the converted
            // CNN for a candidate that is never the best there).
            let siblings = srcs.len() <= 256;
            for &s in srcs {
                bump(s, w(s), &mut heap);
                if seen[s as usize] != c {
                    seen[s as usize] = c;
                    let t = conn.targets(s);
                    if siblings && t.len() <= 256 {
                        for &u in t {
                            bump(u, w(s), &mut heap);
                        }
                    }
                }
            }
            for &t in conn.targets(v) {
                bump(t, w(v), &mut heap);
            }
        }
        for &u in &touched {
            score[u as usize] = 0.0;
        }
        touched.clear();
    }
    Ok((part, k as usize))
}
