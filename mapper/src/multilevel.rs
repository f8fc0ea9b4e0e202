//! Multilevel partitioning of the neurons (the METIS and KaHyPar scheme).
//!
//! 1. **Graph and nets**: each net of the fan-out hypergraph (a source and
//!    its targets) becomes edges of weight rate/(pins−1): a star from a
//!    computed source to its targets and a path through the targets in id
//!    order (a linear-size stand-in for the clique). The nets themselves
//!    (`Hyper`) are kept beside the graph while rating on them is
//!    affordable (`RATING_BUDGET_PER_PIN`).
//! 2. **Coarsening**: pairs of vertices, each vertex taking the partner it
//!    shares the most net weight with (or, without nets, the heaviest
//!    edge), never making a vertex heavier than a quarter core (neurons and
//!    synapse entries); graph and nets contracted together, repeated until
//!    the graph is small or stops shrinking.
//! 3. **Initial partition** of the coarsest graph into `k` parts by greedy
//!    graph growing under balanced capacities, `INITIAL_RUNS` times from
//!    different seeds, each refined; the least traffic is kept. Large
//!    locally connected networks instead split a finer level (160 vertices
//!    a part) by recursive multilevel bisection, as KaHyPar does.
//! 4. **Uncoarsening** with boundary refinement at every level: move a
//!    vertex to the part it is most connected to (graph), then to the part
//!    that lowers the nets' Σ w·λ most, while the balanced capacities hold;
//!    then a k-way Fiduccia–Mattheyses search on the nets (negative-gain
//!    moves, rollback to the best prefix), with a work limit per level.
//!
//! When the network has more parameter sets than a core's table holds,
//! coarsening merges only neurons of the same set, so every vertex has one
//! set, and the initial partition and refinement keep every part within
//! the table (neurons per set per part). Otherwise sets are ignored here
//! (they cannot bind).
//!
//! The result is projected to neurons; the caller then repairs any exact
//! capacity (axons, routing) and refines the exact (λ−1) objective.

use crate::conn::Conn;
use crate::partition::{add, get};

/// Vertex weights: (neurons, synapse entries).
type W = (u32, u32);

struct Graph {
    vw: Vec<W>,
    /// Parameter set of each vertex; empty when sets are not tracked.
    set: Vec<u32>,
    start: Vec<u32>,
    adj: Vec<u32>,
    ew: Vec<f32>,
}

impl Graph {
    fn n(&self) -> usize {
        self.vw.len()
    }
    fn neighbors(&self, v: usize) -> impl Iterator<Item = (usize, f32)> + '_ {
        let (a, b) = (self.start[v] as usize, self.start[v + 1] as usize);
        self.adj[a..b].iter().zip(&self.ew[a..b]).map(|(&u, &w)| (u as usize, w))
    }
    /// The graph of undirected `edges` (each listed once, self-loops
    /// ignored): both directions in CSR, parallel edges merged (weights
    /// summed in neighbour-then-weight order, so the sums are
    /// deterministic). Built by counting, without a doubled edge list: at
    /// a million synapses the doubled, sorted list was most of the
    /// mapper's peak memory.
    fn from_edges(vw: Vec<W>, set: Vec<u32>, edges: Vec<(u32, u32, f32)>) -> Graph {
        let n = vw.len();
        let mut start = vec![0u32; n + 1];
        for &(a, b, _) in &edges {
            if a != b {
                start[a as usize + 1] += 1;
                start[b as usize + 1] += 1;
            }
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        let total = start[n] as usize;
        let mut adj = vec![0u32; total];
        let mut ew = vec![0f32; total];
        let mut pos: Vec<u32> = start[..n].to_vec();
        for (a, b, w) in edges {
            if a != b {
                for (x, y) in [(a, b), (b, a)] {
                    let p = pos[x as usize] as usize;
                    adj[p] = y;
                    ew[p] = w;
                    pos[x as usize] += 1;
                }
            }
        }
        drop(pos);
        // Sort each row, merge parallel edges, compact in place.
        let mut row: Vec<(u32, f32)> = Vec::new();
        let mut write = 0usize;
        let mut new_start = vec![0u32; n + 1];
        for v in 0..n {
            let (a, b) = (start[v] as usize, start[v + 1] as usize);
            row.clear();
            row.extend(adj[a..b].iter().copied().zip(ew[a..b].iter().copied()));
            row.sort_unstable_by(|x, y| x.0.cmp(&y.0).then(x.1.total_cmp(&y.1)));
            let mut last = u32::MAX;
            for &(u, w) in &row {
                if u == last {
                    ew[write - 1] += w;
                } else {
                    adj[write] = u;
                    ew[write] = w;
                    write += 1;
                    last = u;
                }
            }
            new_start[v + 1] = write as u32;
        }
        adj.truncate(write);
        ew.truncate(write);
        adj.shrink_to_fit();
        ew.shrink_to_fit();
        Graph { vw, set, start: new_start, adj, ew }
    }
}

/// The fan-out hypergraph at one level: a net per source (its targets'
/// vertices, and its own when it is a computed neuron), weighted by the
/// source's rate. Coarsening rates pairs of vertices on it: two neurons
/// that share many small nets (the channels of one position of a lowered
/// convolution share every source) belong together, which the graph's
/// path through the targets in id order does not see.
struct Hyper {
    /// `pins[start[e]..start[e + 1]]`: the distinct vertices of net `e`.
    start: Vec<u32>,
    pins: Vec<u32>,
    w: Vec<f32>,
    /// `nets[vstart[v]..vstart[v + 1]]`: the nets vertex `v` is a pin of.
    vstart: Vec<u32>,
    nets: Vec<u32>,
}

/// Nets with more pins than this are left out of the ratings (their
/// contribution per pair is small and their cost quadratic), as KaHyPar does.
const RATING_MAX_PINS: usize = 512;

/// Rating a level on its nets costs Σ|e|² (every pair of pins of a net);
/// it is used while that is at most this many times the pins, or small in
/// absolute terms ([`RATING_BUDGET_MIN`]). Locally connected networks and
/// converted CNNs (small nets, which shrink as they contract) stay within
/// it; large random networks (nets of a hundred pins, which barely shrink)
/// use the graph's heavy edges instead, where the nets gain nothing
/// measurable (`cargo bench -p spikeforge-mapper`: random 1M synapses took
/// 2.5x as long with the nets for 0.2% fewer packets).
const RATING_BUDGET_PER_PIN: u64 = 32;
/// See [`RATING_BUDGET_PER_PIN`].
const RATING_BUDGET_MIN: u64 = 1 << 24;

/// Whether nets of these sizes are worth rating and refining on.
fn within_budget(sizes: impl Iterator<Item = usize>) -> bool {
    let (mut pins, mut cost) = (0u64, 0u64);
    for p in sizes.filter(|&p| p >= 2) {
        pins += p as u64;
        if p <= RATING_MAX_PINS {
            cost += (p * p) as u64;
        }
    }
    cost <= RATING_BUDGET_MIN.max(RATING_BUDGET_PER_PIN * pins)
}

/// The nets of every vertex of a hypergraph of `n` vertices whose net `e`
/// is `pins[start[e]..start[e + 1]]`: `(vstart, nets)`, vertex `v`'s nets
/// being `nets[vstart[v]..vstart[v + 1]]`, in net order.
pub(crate) fn incidence(start: &[u32], pins: &[u32], n: usize) -> (Vec<u32>, Vec<u32>) {
    let mut vstart = vec![0u32; n + 1];
    for &p in pins {
        vstart[p as usize + 1] += 1;
    }
    for i in 0..n {
        vstart[i + 1] += vstart[i];
    }
    let mut pos: Vec<u32> = vstart[..n].to_vec();
    let mut nets = vec![0u32; pins.len()];
    for (e, w) in start.windows(2).enumerate() {
        for &p in &pins[w[0] as usize..w[1] as usize] {
            nets[pos[p as usize] as usize] = e as u32;
            pos[p as usize] += 1;
        }
    }
    (vstart, nets)
}

/// Ends the net whose pins are `pins[before..]`: sorted, duplicates
/// removed; a net left with fewer than two pins is dropped (false).
pub(crate) fn close_net(pins: &mut Vec<u32>, before: usize) -> bool {
    pins[before..].sort_unstable();
    let mut k = before;
    for i in before..pins.len() {
        if k == before || pins[i] != pins[k - 1] {
            pins[k] = pins[i];
            k += 1;
        }
    }
    pins.truncate(if k - before < 2 { before } else { k });
    pins.len() > before
}

impl Hyper {
    /// Locally connected: nets of at most [`FM_LOCAL_PINS_PER_NET`] pins on
    /// average and none over twice that (no hubs, no dense layers).
    fn local(&self) -> bool {
        let nets = self.w.len();
        nets > 0
            && self.pins.len() <= FM_LOCAL_PINS_PER_NET * nets
            && (0..nets).all(|e| self.pins(e).len() <= 2 * FM_LOCAL_PINS_PER_NET)
    }

    /// Every vertex a pin of at most 2 × [`FM_LOCAL_PINS_PER_NET`] nets: no
    /// hub that many sources reach (a scale-free network's nets are all
    /// small, [`Hyper::local`], but its hubs are in hundreds of them).
    fn hubless(&self) -> bool {
        self.vstart.windows(2).all(|w| w[1] - w[0] <= 2 * FM_LOCAL_PINS_PER_NET as u32)
    }

    /// Nets of `conn` on the vertices `vid` (global id → vertex).
    fn of(conn: &Conn, rate: &[f64], vid: &[u32], n: usize) -> Hyper {
        let mut start = vec![0u32];
        let mut pins: Vec<u32> = Vec::new();
        let mut w = Vec::new();
        for s in 0..conn.n as u32 {
            let t = conn.targets(s);
            let before = pins.len();
            pins.extend(t.iter().map(|&x| vid[x as usize]));
            if !conn.is_input[s as usize] {
                pins.push(vid[s as usize]);
            }
            // A source that targets itself is one pin.
            if !close_net(&mut pins, before) {
                continue;
            }
            start.push(pins.len() as u32);
            w.push(rate[s as usize].max(1e-3) as f32);
        }
        Hyper::with_incidence(start, pins, w, n)
    }

    fn with_incidence(start: Vec<u32>, pins: Vec<u32>, w: Vec<f32>, n: usize) -> Hyper {
        let (vstart, nets) = incidence(&start, &pins, n);
        Hyper { start, pins, w, vstart, nets }
    }

    fn pins(&self, e: usize) -> &[u32] {
        &self.pins[self.start[e] as usize..self.start[e + 1] as usize]
    }

    fn affordable(&self) -> bool {
        within_budget(self.start.windows(2).map(|w| (w[1] - w[0]) as usize))
    }

    /// The same hypergraph with identical nets merged into one of their
    /// summed weight (in net order): every (λ−1) gain and cost is the same
    /// sum, with fewer pins. Used for the initial partitions at the
    /// coarsest level, where sources whose targets contracted into the same
    /// vertices leave copies (the converted CNN: 0.80 -> 0.73 s mapping;
    /// most of its nets there still differ).
    fn merged(&self) -> Hyper {
        let mut first: std::collections::HashMap<&[u32], usize> = std::collections::HashMap::new();
        let mut start = vec![0u32];
        let mut pins: Vec<u32> = Vec::new();
        let mut w: Vec<f32> = Vec::new();
        for e in 0..self.w.len() {
            let p = self.pins(e);
            match first.get(p) {
                Some(&m) => w[m] += self.w[e],
                None => {
                    first.insert(p, w.len());
                    pins.extend_from_slice(p);
                    start.push(pins.len() as u32);
                    w.push(self.w[e]);
                }
            }
        }
        Hyper::with_incidence(start, pins, w, self.vstart.len() - 1)
    }

    /// The hypergraph on the coarse vertices `cmap` (`cn` of them): pins
    /// mapped and deduplicated, nets left with one pin dropped.
    fn contract(&self, cmap: &[u32], cn: usize) -> Hyper {
        let mut start = vec![0u32];
        let mut pins: Vec<u32> = Vec::with_capacity(self.pins.len());
        let mut w = Vec::with_capacity(self.w.len());
        for e in 0..self.w.len() {
            let before = pins.len();
            pins.extend(self.pins(e).iter().map(|&p| cmap[p as usize]));
            if !close_net(&mut pins, before) {
                continue;
            }
            start.push(pins.len() as u32);
            w.push(self.w[e]);
        }
        Hyper::with_incidence(start, pins, w, cn)
    }
}

/// The neuron graph; vertex i is the i-th computed neuron of `verts`.
fn build(conn: &Conn, rate: &[f64], verts: &[u32], vid: &[u32], sets: bool) -> Graph {
    let vw: Vec<W> = verts.iter().map(|&g| (1, conn.fanin[g as usize])).collect();
    let set = if sets { verts.iter().map(|&g| conn.set[g as usize]).collect() } else { Vec::new() };
    // Exact capacity: the list is as long as the network has synapses, twice.
    let count: usize = (0..conn.n as u32)
        .map(|s| {
            let t = conn.targets(s).len();
            let src = !conn.is_input[s as usize];
            if t + src as usize >= 2 {
                t.saturating_sub(1) + if src { t } else { 0 }
            } else {
                0
            }
        })
        .sum();
    let mut edges = Vec::with_capacity(count);
    for s in 0..conn.n as u32 {
        let t = conn.targets(s);
        if t.is_empty() {
            continue;
        }
        let src = !conn.is_input[s as usize];
        let pins = t.len() + src as usize;
        if pins < 2 {
            continue;
        }
        let w = (rate[s as usize].max(1e-3) / (pins - 1) as f64) as f32;
        for win in t.windows(2) {
            edges.push((vid[win[0] as usize], vid[win[1] as usize], w));
        }
        if src {
            for &x in t {
                edges.push((vid[s as usize], vid[x as usize], w));
            }
        }
    }
    Graph::from_edges(vw, set, edges)
}

/// A deterministic shuffle of `0..n`, so matching does not follow id order only.
fn shuffled(n: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut x = seed;
    for i in (1..n).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        order.swap(i, (x % (i as u64 + 1)) as usize);
    }
    order
}

/// Whether `u` may join `v`: one parameter set, and the pair no heavier than `max_w`.
/// Whether `u` and `v` may become one coarse vertex: same parameter set,
/// the pair within `max_w`, and (in a V-cycle) the same part of `within`.
fn joinable(g: &Graph, v: usize, u: usize, max_w: W, within: Option<&[u32]>) -> bool {
    let (a, b) = (g.vw[v], g.vw[u]);
    u != v
        && (g.set.is_empty() || g.set[u] == g.set[v])
        && a.0 + b.0 <= max_w.0
        && a.1 + b.1 <= max_w.1
        && within.is_none_or(|p| p[u] == p[v])
}

/// Heavy-edge matching on the graph: each vertex in `order` takes the
/// unmatched neighbour with the heaviest edge, preferring light partners.
fn match_graph(g: &Graph, max_w: W, within: Option<&[u32]>, mate: &mut [usize], v: usize) {
    let mut best: Option<(f32, usize)> = None;
    for (u, w) in g.neighbors(v) {
        if mate[u] != usize::MAX || !joinable(g, v, u, max_w, within) {
            continue;
        }
        let score = w / (g.vw[u].0 as f32).sqrt();
        if best.is_none_or(|(bs, _)| score > bs) {
            best = Some((score, u));
        }
    }
    match best {
        Some((_, u)) => {
            mate[v] = u;
            mate[u] = v;
        }
        None => mate[v] = v,
    }
}

/// The pairs of one coarsening step: with the hypergraph `h`, each
/// unmatched vertex takes the unmatched partner it shares the most net
/// weight with (Σ w(e)/(|e|−1) over shared nets, KaHyPar's heavy-edge
/// rating; no penalty for heavy partners, as in KaHyPar's configuration:
/// the weight limit of [`joinable`] bounds them, and dividing by the
/// pair's neurons cost 1.5–2.5% more packets on local networks); vertices with
/// no rated partner fall back to the graph's heavy edge. `mate[v] == v`:
/// unmatched.
fn mates(g: &Graph, h: Option<&Hyper>, max_w: W, within: Option<&[u32]>, seed: u64) -> Vec<usize> {
    let n = g.n();
    let order = shuffled(n, seed);
    let mut mate = vec![usize::MAX; n];
    let mut score = vec![0f32; n];
    let mut touched: Vec<usize> = Vec::new();
    for &v in &order {
        if mate[v] != usize::MAX {
            continue;
        }
        let mut best: Option<(f32, usize)> = None;
        if let Some(h) = h {
            for &e in &h.nets[h.vstart[v] as usize..h.vstart[v + 1] as usize] {
                let p = h.pins(e as usize);
                if p.len() > RATING_MAX_PINS {
                    continue;
                }
                let r = h.w[e as usize] / (p.len() - 1) as f32;
                for &u in p {
                    let u = u as usize;
                    if u != v && mate[u] == usize::MAX {
                        if score[u] == 0.0 {
                            touched.push(u);
                        }
                        score[u] += r;
                    }
                }
            }
            for &u in &touched {
                if joinable(g, v, u, max_w, within) {
                    let s = score[u];
                    if best.is_none_or(|(bs, bu)| s > bs || (s == bs && u < bu)) {
                        best = Some((s, u));
                    }
                }
                score[u] = 0.0;
            }
            touched.clear();
        }
        match best {
            Some((_, u)) => {
                mate[v] = u;
                mate[u] = v;
            }
            None => match_graph(g, max_w, within, &mut mate, v),
        }
    }
    mate
}

/// One coarsening step: returns the coarse graph and the fine→coarse map.
fn coarsen(g: &Graph, h: Option<&Hyper>, max_w: W, within: Option<&[u32]>, seed: u64) -> (Graph, Vec<u32>) {
    let n = g.n();
    let mate = mates(g, h, max_w, within, seed);
    let mut cmap = vec![u32::MAX; n];
    let mut cw: Vec<W> = Vec::new();
    let mut cset: Vec<u32> = Vec::new();
    for v in 0..n {
        if cmap[v] == u32::MAX {
            let u = mate[v];
            let id = cw.len() as u32;
            cmap[v] = id;
            if !g.set.is_empty() {
                cset.push(g.set[v]);
            }
            let mut w = g.vw[v];
            if u != v {
                cmap[u] = id;
                w = (w.0 + g.vw[u].0, w.1 + g.vw[u].1);
            }
            cw.push(w);
        }
    }
    // The coarse rows straight from the fine ones (no edge list: on random
    // graphs every level keeps most of the edges, and the list was a third
    // of the memory of a level): the members' neighbours through `cmap`,
    // sorted, parallel edges merged, the edge inside a pair dropped.
    let cn = cw.len();
    let mut members = vec![(u32::MAX, u32::MAX); cn];
    for (v, &c) in cmap.iter().enumerate() {
        let c = c as usize;
        if members[c].0 == u32::MAX {
            members[c].0 = v as u32;
        } else {
            members[c].1 = v as u32;
        }
    }
    let mut start = vec![0u32; cn + 1];
    let mut adj: Vec<u32> = Vec::with_capacity(g.adj.len());
    let mut ew: Vec<f32> = Vec::with_capacity(g.adj.len());
    let mut row: Vec<(u32, f32)> = Vec::new();
    for (c, &(a, b)) in members.iter().enumerate() {
        row.clear();
        for m in [a, b] {
            if m != u32::MAX {
                row.extend(g.neighbors(m as usize).map(|(u, w)| (cmap[u], w)).filter(|&(cu, _)| cu as usize != c));
            }
        }
        row.sort_unstable_by(|x, y| x.0.cmp(&y.0).then(x.1.total_cmp(&y.1)));
        let mut last = u32::MAX;
        for &(u, w) in &row {
            if u == last {
                *ew.last_mut().expect("merged edge follows its first") += w;
            } else {
                adj.push(u);
                ew.push(w);
                last = u;
            }
        }
        start[c + 1] = adj.len() as u32;
    }
    adj.shrink_to_fit();
    ew.shrink_to_fit();
    (Graph { vw: cw, set: cset, start, adj, ew }, cmap)
}

#[allow(clippy::needless_range_loop)] // parts and vertices index several arrays at once
/// Greedy graph growing into at most `k` parts under `cap` and at most
/// `cap_sets` parameter sets per part, each part started at the first
/// unassigned vertex of `seeds`; vertices that fit nowhere go to the part
/// with the most room (repaired later).
fn initial(g: &Graph, k: usize, cap: W, cap_sets: u32, by_weight: &[usize]) -> Vec<u32> {
    let n = g.n();
    let mut part = vec![u32::MAX; n];
    let mut used: Vec<W> = vec![(0, 0); k];
    let mut sets = PartSets::new(g, k, cap_sets);
    let mut conn_to = vec![0.0f32; n];
    let mut next_seed = 0;
    for p in 0..k {
        while next_seed < n && part[by_weight[next_seed]] != u32::MAX {
            next_seed += 1;
        }
        if next_seed >= n {
            break;
        }
        let mut frontier: Vec<usize> = vec![by_weight[next_seed]];
        let mut touched: Vec<usize> = Vec::new();
        loop {
            // Pick the frontier vertex most connected to p that fits.
            let mut best: Option<(f32, usize, usize)> = None;
            for (i, &v) in frontier.iter().enumerate() {
                if part[v] != u32::MAX {
                    continue;
                }
                let w = g.vw[v];
                if used[p].0 + w.0 > cap.0 || used[p].1 + w.1 > cap.1 || !sets.room(p, v) {
                    continue;
                }
                if best.is_none_or(|(c, _, bv)| conn_to[v] > c || (conn_to[v] == c && v < bv)) {
                    best = Some((conn_to[v], i, v));
                }
            }
            let Some((_, i, v)) = best else { break };
            frontier.swap_remove(i);
            part[v] = p as u32;
            used[p] = (used[p].0 + g.vw[v].0, used[p].1 + g.vw[v].1);
            sets.add(p, v, 1);
            for (u, w) in g.neighbors(v) {
                if part[u] == u32::MAX {
                    if conn_to[u] == 0.0 {
                        frontier.push(u);
                        touched.push(u);
                    }
                    conn_to[u] += w;
                }
            }
            if frontier.is_empty() {
                // Disconnected: continue from any unassigned vertex.
                if let Some(v) = (0..n).find(|&v| part[v] == u32::MAX) {
                    frontier.push(v);
                }
            }
            frontier.retain(|&u| part[u] == u32::MAX);
        }
        for &u in &touched {
            conn_to[u] = 0.0;
        }
    }
    for v in 0..n {
        if part[v] == u32::MAX {
            // Parts with room for its parameter set first.
            let p = (0..k)
                .max_by_key(|&p| (sets.room(p, v), cap.1 as i64 - used[p].1 as i64, std::cmp::Reverse(p)))
                .unwrap_or(0);
            part[v] = p as u32;
            used[p] = (used[p].0 + g.vw[v].0, used[p].1 + g.vw[v].1);
            sets.add(p, v, 1);
        }
    }
    part
}

/// Several initial partitions of a coarsest graph (it is small): the first
/// seeded heaviest vertex first (more even parts), the others in shuffled
/// orders; each refined (on the nets `h` when given), the least traffic kept.
fn initial_search(top: &Graph, h: Option<&Hyper>, k: usize, cap: W, cap_sets: u32, runs: usize, seed: u64) -> Vec<u32> {
    let mut by_weight: Vec<usize> = (0..top.n()).collect();
    by_weight.sort_by_key(|&v| (std::cmp::Reverse(top.vw[v].1), v));
    let (mut part, mut best) = (Vec::new(), f64::INFINITY);
    for run in 0..runs {
        let seeds = if run == 0 { by_weight.clone() } else { shuffled(top.n(), seed ^ run as u64) };
        let mut p = initial(top, k, cap, cap_sets, &seeds);
        refine(top, &mut p, k, cap, cap_sets, 8);
        let cost = match h {
            Some(h) => refine_hyper(top, h, &mut p, k, cap, cap_sets, 8),
            None => cut(top, &p),
        };
        if cost < best {
            (best, part) = (cost, p);
        }
    }
    part
}

/// The subgraph and sub-hypergraph induced by `verts` (vertex i of the
/// result is `verts[i]`), with an isolated `dummy` vertex appended when
/// given. Nets keep their pins inside `verts` and are dropped below two
/// (cut-net splitting: the pins outside are already in other parts, so
/// the (λ−1) of the whole is the sum over the bisections).
fn induced(g: &Graph, h: &Hyper, verts: &[u32], dummy: Option<W>) -> (Graph, Hyper) {
    let mut local = vec![u32::MAX; g.n()];
    for (i, &v) in verts.iter().enumerate() {
        local[v as usize] = i as u32;
    }
    let n = verts.len() + dummy.is_some() as usize;
    let mut vw: Vec<W> = verts.iter().map(|&v| g.vw[v as usize]).collect();
    vw.extend(dummy);
    let mut edges = Vec::new();
    for (i, &v) in verts.iter().enumerate() {
        for (u, w) in g.neighbors(v as usize) {
            let j = local[u];
            if j != u32::MAX && (i as u32) < j {
                edges.push((i as u32, j, w));
            }
        }
    }
    let sub = Graph::from_edges(vw, Vec::new(), edges);
    let (mut start, mut pins, mut w) = (vec![0u32], Vec::new(), Vec::new());
    let mut seen = vec![false; h.w.len()];
    for &v in verts {
        for &e in &h.nets[h.vstart[v as usize] as usize..h.vstart[v as usize + 1] as usize] {
            if std::mem::replace(&mut seen[e as usize], true) {
                continue;
            }
            let before = pins.len();
            pins.extend(h.pins(e as usize).iter().map(|&p| local[p as usize]).filter(|&p| p != u32::MAX));
            if pins.len() - before >= 2 {
                start.push(pins.len() as u32);
                w.push(h.w[e as usize]);
            } else {
                pins.truncate(before);
            }
        }
    }
    (sub, Hyper::with_incidence(start, pins, w, n))
}

/// A multilevel bisection of `g` into two parts of at most `cap` each:
/// coarsened to 64 vertices, `INITIAL_RUNS` starts there, refined with FM
/// on the way up (the k-way scheme at k = 2).
fn bisect(g: Graph, h: Hyper, cap: W, seed: u64) -> Vec<u32> {
    let n = g.n();
    let fine = Fine { g, h: Some(h), verts: (0..n as u32).collect(), hierarchies: Default::default() };
    let mut seed = seed;
    let max_w = ((cap.0 / 4).max(1), (cap.1 / 4).max(1));
    let levels = Levels::build(&fine, max_w, 64, None, &mut seed);
    let top = levels.coarse.last().unwrap_or(&fine.g);
    let top_h = levels.hypers.last().unwrap_or(&fine.h).as_ref();
    let mut part = initial_search(top, top_h, 2, cap, u32::MAX, INITIAL_RUNS, seed);
    if let (Some(h), true) = (top_h, levels.maps.is_empty()) {
        fm_hyper(top, h, &mut part, 2, cap, u32::MAX, FM_PASSES, FM_PATIENCE);
    }
    levels.uncoarsen(&fine, part, 2, cap, u32::MAX, false)
}

/// Recursive bisection of `verts` (vertices of `g`) into parts
/// `first..first + k`: each bisection multilevel ([`bisect`]), each side
/// within `share` of its even split (so that `share` to the power of the
/// depth stays within a part's capacity). An odd split balances against
/// an isolated dummy vertex as heavy as the smaller side's missing share,
/// so both sides keep one capacity; the dummy's side gets the fewer parts.
#[allow(clippy::too_many_arguments)]
fn bisect_rec(g: &Graph, h: &Hyper, verts: &[u32], k: usize, first: u32, share: f64, part: &mut [u32], seed: u64) {
    if k <= 1 || verts.len() <= 1 {
        for &v in verts {
            part[v as usize] = first;
        }
        return;
    }
    let (k1, k2) = (k / 2, k - k / 2);
    let total =
        verts.iter().fold((0f64, 0f64), |(a, b), &v| (a + g.vw[v as usize].0 as f64, b + g.vw[v as usize].1 as f64));
    let unit = (total.0 / k as f64, total.1 / k as f64);
    let extra = (k2 - k1) as f64;
    let dummy = (k1 != k2).then(|| ((unit.0 * extra).round() as u32, (unit.1 * extra).round() as u32));
    let cap = ((unit.0 * k2 as f64 * share).ceil() as u32, (unit.1 * k2 as f64 * share).ceil() as u32);
    let (sub, sh) = induced(g, h, verts, dummy);
    let side = bisect(sub, sh, cap, seed);
    let small = if dummy.is_some() { side[verts.len()] } else { 0 };
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for (i, &v) in verts.iter().enumerate() {
        if side[i] == small {
            a.push(v);
        } else {
            b.push(v);
        }
    }
    let next = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    bisect_rec(g, h, &a, k1, first, share, part, next);
    bisect_rec(g, h, &b, k2, first + k1 as u32, share, part, next ^ 0x9E37_79B9_7F4A_7C15);
}

/// The k-way partition of level `l` (0 the finest) by recursive bisection,
/// the best of [`BISECTION_TRIES`] (each refined k-way at that level, the
/// least traffic kept).
fn bisection_start(g: &Graph, h: &Hyper, k: usize, cap: W, param_sets: u32, seed: u64) -> Vec<u32> {
    // Each bisection within the same share of its even split, so that the
    // k parts end within `cap`: share^depth = cap / even split.
    let (tn, ts) = g.vw.iter().fold((0f64, 0f64), |(a, b), w| (a + w.0 as f64, b + w.1 as f64));
    let room = (cap.0 as f64 / (tn / k as f64)).min(cap.1 as f64 / (ts / k as f64)).max(1.0);
    let share = room.powf(1.0 / (k as f64).log2().ceil().max(1.0));
    let all: Vec<u32> = (0..g.n() as u32).collect();
    // The tries on rayon's threads (a core left idle by the other
    // partitions of the mapping takes one); the first of the least traffic
    // kept, so the answer does not depend on timing.
    use rayon::prelude::*;
    let tries: Vec<(f64, Vec<u32>)> = (0..BISECTION_TRIES)
        .into_par_iter()
        .map(|t| {
            let mut p = vec![0u32; g.n()];
            bisect_rec(g, h, &all, k, 0, share, &mut p, seed ^ (t as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            refine(g, &mut p, k, cap, param_sets, 4);
            refine_then_fm(g, h, &mut p, k, cap, param_sets, 4);
            (lambda(h, &p), p)
        })
        .collect();
    tries.into_iter().fold((f64::INFINITY, Vec::new()), |b, t| if t.0 < b.0 { t } else { b }).1
}

/// What a greedy refinement optimizes: the gain of each move.
trait Gains {
    /// Pushes (part, gain) for the parts `v` could move to (not its own),
    /// given the current `part` of every vertex.
    fn gains(&mut self, v: usize, part: &[u32], out: &mut Vec<(usize, f32)>);
    /// `v` moved from part `a` to part `b` (`part` already says b).
    fn moved(&mut self, v: usize, a: usize, b: usize, part: &[u32]);
    /// Marks the vertices whose gains a move of `v` can change (`v` too).
    fn mark(&self, v: usize, dirty: &mut [bool]);
}

/// The parts' loads (neurons, synapse entries) and parameter sets.
fn loads<'g>(g: &'g Graph, part: &[u32], k: usize, cap_sets: u32) -> (Vec<W>, PartSets<'g>) {
    let mut used: Vec<W> = vec![(0, 0); k];
    let mut sets = PartSets::new(g, k, cap_sets);
    for (v, &p) in part.iter().enumerate() {
        let p = p as usize;
        used[p] = (used[p].0 + g.vw[v].0, used[p].1 + g.vw[v].1);
        sets.add(p, v, 1);
    }
    (used, sets)
}

/// Moves vertex `v` to part `b`, keeping the parts' loads, sets and gains.
fn shift(
    g: &Graph,
    part: &mut [u32],
    used: &mut [W],
    sets: &mut PartSets<'_>,
    gains: &mut dyn Gains,
    v: usize,
    b: usize,
) {
    let (a, w) = (part[v] as usize, g.vw[v]);
    used[a] = (used[a].0 - w.0, used[a].1 - w.1);
    used[b] = (used[b].0 + w.0, used[b].1 + w.1);
    sets.add(a, v, -1);
    sets.add(b, v, 1);
    part[v] = b as u32;
    gains.moved(v, a, b, part);
}

/// Greedy boundary refinement: each vertex in turn moves to the part with
/// the highest positive gain (ties to the lower part) while the capacities
/// `cap` and `cap_sets` hold; up to `passes` passes, fewer once one moves
/// nothing.
fn greedy_refine(g: &Graph, part: &mut [u32], k: usize, cap: W, cap_sets: u32, passes: usize, gains: &mut dyn Gains) {
    let (mut used, mut sets) = loads(g, part, k, cap_sets);
    let mut candidates: Vec<(usize, f32)> = Vec::new();
    // A vertex is evaluated again only when a move may have changed its
    // gains (a neighbour or a net of it moved) or when a gaining move was
    // blocked by a capacity (room may have opened): the others would find
    // no gaining move, so the moves are those of evaluating every vertex
    // every pass, at a fraction of the gain computations.
    let mut dirty = vec![true; g.n()];
    for _ in 0..passes {
        let mut moved = 0;
        for v in 0..g.n() {
            if !dirty[v] {
                continue;
            }
            dirty[v] = false;
            candidates.clear();
            gains.gains(v, part, &mut candidates);
            let w = g.vw[v];
            let mut best: Option<(f32, usize)> = None;
            for &(p, gain) in &candidates {
                if used[p].0 + w.0 > cap.0 || used[p].1 + w.1 > cap.1 || !sets.room(p, v) {
                    dirty[v] |= gain > 1e-6;
                    continue;
                }
                if gain > 1e-6 && best.is_none_or(|(bg, bp)| gain > bg || (gain == bg && p < bp)) {
                    best = Some((gain, p));
                }
            }
            if let Some((_, b)) = best {
                shift(g, part, &mut used, &mut sets, gains, v, b);
                gains.mark(v, &mut dirty);
                moved += 1;
            }
        }
        if moved == 0 {
            break;
        }
    }
}

/// Gains on the graph: the edge weight to the new part less that to the own.
struct GraphGains<'g> {
    g: &'g Graph,
    to: Vec<f32>,
    touched: Vec<usize>,
}

impl Gains for GraphGains<'_> {
    fn gains(&mut self, v: usize, part: &[u32], out: &mut Vec<(usize, f32)>) {
        for (u, w) in self.g.neighbors(v) {
            let p = part[u] as usize;
            if self.to[p] == 0.0 {
                self.touched.push(p);
            }
            self.to[p] += w;
        }
        let a = part[v] as usize;
        let own = self.to[a];
        out.extend(self.touched.iter().filter(|&&p| p != a).map(|&p| (p, self.to[p] - own)));
        for &p in &self.touched {
            self.to[p] = 0.0;
        }
        self.touched.clear();
    }

    fn moved(&mut self, _: usize, _: usize, _: usize, _: &[u32]) {}

    fn mark(&self, v: usize, dirty: &mut [bool]) {
        dirty[v] = true;
        for (u, _) in self.g.neighbors(v) {
            dirty[u] = true;
        }
    }
}

/// Boundary refinement on the graph: move vertices to the part they are
/// most connected to when that gains and the capacities hold.
fn refine(g: &Graph, part: &mut [u32], k: usize, cap: W, cap_sets: u32, passes: usize) {
    let mut gains = GraphGains { g, to: vec![0.0; k], touched: Vec::new() };
    greedy_refine(g, part, k, cap, cap_sets, passes, &mut gains);
}

/// Exact (λ−1) gains on the nets, with the pins of every net per part,
/// kept per vertex as moves happen (a gain cache): an evaluation costs the
/// parts, not the vertex's nets times their parts, which on a hub of a
/// scale-free network or a dense layer's neuron is thousands of times more.
struct HyperGains<'h> {
    h: &'h Hyper,
    k: usize,
    /// Per net: (part, pins in it), sorted by part.
    phi: Vec<Vec<(u32, u32)>>,
    /// `to[v * k + p]`: the weight of v's nets with a pin in p.
    to: Vec<f64>,
    /// The weight of v's nets where v is the only pin in its part (what
    /// leaving the part saves).
    leave: Vec<f64>,
    /// The weight of all of v's nets.
    total: Vec<f64>,
}

/// A net's weight is at least 1e-3 ([`Hyper::of`]): a cached weight below
/// half of that is a sum that cancelled to zero, up to rounding.
const PRESENT: f64 = 5e-4;

impl<'h> HyperGains<'h> {
    fn new(h: &'h Hyper, part: &[u32], k: usize) -> HyperGains<'h> {
        let n = part.len();
        let phi = phi_of(h, part, k);
        let (mut to, mut leave, mut total) = (vec![0.0f64; n * k], vec![0.0f64; n], vec![0.0f64; n]);
        for (e, c) in phi.iter().enumerate() {
            let w = h.w[e] as f64;
            for &u in h.pins(e) {
                let u = u as usize;
                total[u] += w;
                for &(p, cnt) in c {
                    to[u * k + p as usize] += w;
                    if cnt == 1 && p == part[u] {
                        leave[u] += w;
                    }
                }
            }
        }
        HyperGains { h, k, phi, to, leave, total }
    }

    /// Σ over nets of weight × parts spanned, read off the nets' part lists
    /// (each holds the parts with pins of the net; emptied entries are
    /// removed).
    fn traffic(&self) -> f64 {
        self.phi.iter().zip(&self.h.w).map(|(c, &w)| w as f64 * c.len() as f64).sum()
    }

    /// The pin of net `e` in part `p` other than `v` (the net has exactly one).
    fn other_pin(&self, e: usize, p: u32, v: usize, part: &[u32]) -> usize {
        self.h.pins(e).iter().map(|&u| u as usize).find(|&u| u != v && part[u] == p).expect("the net has a pin there")
    }
}

impl Gains for HyperGains<'_> {
    fn gains(&mut self, v: usize, part: &[u32], out: &mut Vec<(usize, f32)>) {
        // Joining p costs every net of v without a pin in p; leaving saves
        // the nets where v is alone.
        let (a, k) = (part[v] as usize, self.k);
        let (leave, total) = (self.leave[v], self.total[v]);
        let to = &self.to[v * k..(v + 1) * k];
        out.extend((0..k).filter(|&p| p != a && to[p] > PRESENT).map(|p| (p, (leave - (total - to[p])) as f32)));
    }

    fn moved(&mut self, v: usize, a: usize, b: usize, part: &[u32]) {
        let (h, k) = (self.h, self.k);
        let (a32, b32) = (a as u32, b as u32);
        for &e in &h.nets[h.vstart[v] as usize..h.vstart[v + 1] as usize] {
            let e = e as usize;
            let w = h.w[e] as f64;
            let (ca, cb) = (get(&self.phi[e], a32), get(&self.phi[e], b32));
            add(&mut self.phi[e], a32, -1);
            add(&mut self.phi[e], b32, 1);
            match ca {
                // The net left part a.
                1 => h.pins(e).iter().for_each(|&u| self.to[u as usize * k + a] -= w),
                // Its last pin in a is now alone there.
                2 => {
                    let u = self.other_pin(e, a32, v, part);
                    self.leave[u] += w;
                }
                _ => {}
            }
            match cb {
                // The net reached part b.
                0 => h.pins(e).iter().for_each(|&u| self.to[u as usize * k + b] += w),
                // Its pin in b is no longer alone.
                1 => {
                    let u = self.other_pin(e, b32, v, part);
                    self.leave[u] -= w;
                }
                _ => {}
            }
        }
        self.leave[v] = h.nets[h.vstart[v] as usize..h.vstart[v + 1] as usize]
            .iter()
            .filter(|&&e| get(&self.phi[e as usize], b32) == 1)
            .map(|&e| h.w[e as usize] as f64)
            .sum();
    }

    fn mark(&self, v: usize, dirty: &mut [bool]) {
        dirty[v] = true;
        let h = self.h;
        for &e in &h.nets[h.vstart[v] as usize..h.vstart[v + 1] as usize] {
            for &u in h.pins(e as usize) {
                dirty[u as usize] = true;
            }
        }
    }
}

/// Boundary refinement on the hypergraph with the exact (λ−1) gain: move a
/// vertex to the part that lowers Σ w(e)·λ(e) most, while the capacities
/// hold. The graph's edges only stand in for the nets (a path through a
/// net's targets in id order), so refining on them alone can undo what the
/// nets favour, e.g. every channel of one position of a convolution on one core.
/// Returns Σ over nets of weight × parts spanned (the (λ−1) objective up
/// to a constant), read off the nets' part lists.
fn refine_hyper(g: &Graph, h: &Hyper, part: &mut [u32], k: usize, cap: W, cap_sets: u32, passes: usize) -> f64 {
    refine_hyper_gains(g, h, part, k, cap, cap_sets, passes).traffic()
}

/// [`refine_hyper`], returning its gain cache (up to date with `part`).
fn refine_hyper_gains<'h>(
    g: &Graph,
    h: &'h Hyper,
    part: &mut [u32],
    k: usize,
    cap: W,
    cap_sets: u32,
    passes: usize,
) -> HyperGains<'h> {
    let mut gains = HyperGains::new(h, part, k);
    greedy_refine(g, part, k, cap, cap_sets, passes, &mut gains);
    gains
}

/// [`refine_hyper`] then [`fm_hyper`] on one gain cache (building it is
/// a pass over every pin and its net's parts: once, not twice).
fn refine_then_fm(g: &Graph, h: &Hyper, part: &mut [u32], k: usize, cap: W, cap_sets: u32, passes: usize) {
    let mut gains = refine_hyper_gains(g, h, part, k, cap, cap_sets, passes);
    fm_hyper_with(g, h, part, k, cap, cap_sets, FM_PASSES, FM_PATIENCE, &mut gains);
}

/// Per net: (part, pins in it), sorted by part. Counted in a dense
/// array per net (a sorted insert per pin was a fifth of the converted
/// CNN's mapping time).
fn phi_of(h: &Hyper, part: &[u32], k: usize) -> Vec<Vec<(u32, u32)>> {
    let (mut cnt, mut seen) = (vec![0u32; k], Vec::new());
    (0..h.w.len())
        .map(|e| {
            for &u in h.pins(e) {
                let p = part[u as usize];
                if cnt[p as usize] == 0 {
                    seen.push(p);
                }
                cnt[p as usize] += 1;
            }
            seen.sort_unstable();
            let c = seen.iter().map(|&p| (p, std::mem::take(&mut cnt[p as usize]))).collect();
            seen.clear();
            c
        })
        .collect()
}

/// Nets larger than this do not update their pins' queue entries after a
/// move in [`fm_hyper`] (a dense layer's net would cost thousands of gain
/// computations per move); their pins' gains are checked when popped.
const FM_UPDATE_MAX_PINS: usize = 64;

/// The best move of `v` that keeps the capacities: (gain, part).
#[allow(clippy::too_many_arguments)]
fn best_move(
    g: &Graph,
    v: usize,
    part: &[u32],
    gains: &mut HyperGains<'_>,
    used: &[W],
    sets: &PartSets<'_>,
    cap: W,
    out: &mut Vec<(usize, f32)>,
    work: &mut u64,
) -> Option<(f32, usize)> {
    *work += (gains.h.vstart[v + 1] - gains.h.vstart[v]) as u64;
    out.clear();
    gains.gains(v, part, out);
    let w = g.vw[v];
    let mut best: Option<(f32, usize)> = None;
    for &(p, gain) in out.iter() {
        if used[p].0 + w.0 > cap.0 || used[p].1 + w.1 > cap.1 || !sets.room(p, v) {
            continue;
        }
        if best.is_none_or(|(bg, bp)| gain > bg || (gain == bg && p < bp)) {
            best = Some((gain, p));
        }
    }
    best
}

/// k-way Fiduccia–Mattheyses on the nets: in each pass the boundary
/// vertices are queued by their best feasible (λ−1) gain; the best is
/// moved even when the gain is negative, then locked, and the vertices
/// sharing a small net with it are queued again with their new gains; a
/// pass stops `patience` moves after its best prefix and is rolled back to
/// it. This climbs out of the local minima where every single move costs,
/// which greedy refinement cannot.
#[allow(clippy::too_many_arguments)]
fn fm_hyper(g: &Graph, h: &Hyper, part: &mut [u32], k: usize, cap: W, cap_sets: u32, passes: usize, patience: usize) {
    let mut gains = HyperGains::new(h, part, k);
    fm_hyper_with(g, h, part, k, cap, cap_sets, passes, patience, &mut gains);
}

/// [`fm_hyper`] with a gain cache that is up to date with `part`.
#[allow(clippy::too_many_arguments)]
fn fm_hyper_with(
    g: &Graph,
    h: &Hyper,
    part: &mut [u32],
    k: usize,
    cap: W,
    cap_sets: u32,
    passes: usize,
    patience: usize,
    gains: &mut HyperGains<'_>,
) {
    use std::collections::BinaryHeap;
    let key = |gain: f32| (gain as f64 * 65536.0).round() as i64;
    let (mut used, mut sets) = loads(g, part, k, cap_sets);
    let n = g.n();
    let mut buf = Vec::new();
    let mut locked = vec![false; n];
    let (mut seen, mut update) = (vec![false; n], Vec::new());
    // Net visits of the gain computations, bounded by the pins: on random
    // networks, where most moves touch nets that change their gains, an
    // unbounded search costs seconds for a percent.
    let local = h.pins.len() <= FM_LOCAL_PINS_PER_NET * h.w.len().max(1);
    let per_pin = if local {
        FM_WORK_PER_PIN_LOCAL
    } else if h.pins.len() > FM_LARGE_PINS {
        FM_WORK_PER_PIN_LARGE
    } else {
        FM_WORK_PER_PIN
    };
    let (mut work, budget) = (0u64, per_pin * h.pins.len() as u64);
    for _ in 0..passes {
        if work > budget {
            break;
        }
        locked.fill(false);
        let mut heap: BinaryHeap<(i64, std::cmp::Reverse<usize>)> = BinaryHeap::new();
        for v in 0..n {
            let nets = &h.nets[h.vstart[v] as usize..h.vstart[v + 1] as usize];
            if nets.iter().any(|&e| gains.phi[e as usize].len() > 1) {
                if let Some((gain, _)) = best_move(g, v, part, gains, &used, &sets, cap, &mut buf, &mut work) {
                    heap.push((key(gain), std::cmp::Reverse(v)));
                }
            }
        }
        let mut log: Vec<(usize, usize, usize)> = Vec::new();
        let (mut sum, mut best_sum, mut best_len) = (0i64, 0i64, 0usize);
        while let Some((queued, std::cmp::Reverse(v))) = heap.pop() {
            if locked[v] {
                continue;
            }
            if work > budget {
                break;
            }
            let Some((gain, b)) = best_move(g, v, part, gains, &used, &sets, cap, &mut buf, &mut work) else {
                continue;
            };
            if key(gain) < queued {
                // Its gain fell since it was queued: queue it at the new one.
                heap.push((key(gain), std::cmp::Reverse(v)));
                continue;
            }
            let a = part[v] as usize;
            shift(g, part, &mut used, &mut sets, gains, v, b);
            locked[v] = true;
            log.push((v, a, b));
            sum += key(gain);
            if sum > best_sum {
                (best_sum, best_len) = (sum, log.len());
            } else if log.len() - best_len > patience {
                break;
            }
            // The pins whose gains the move may have changed, each
            // recomputed once even if it is in several of v's changed nets.
            // The work budget is still charged per net and pin, as when
            // each was recomputed per net: the budget was tuned that way.
            for &e in &h.nets[h.vstart[v] as usize..h.vstart[v + 1] as usize] {
                let pins = h.pins(e as usize);
                // A pin's gain on e changes only if e just left a (now 0 or
                // 1 pins there) or just entered b (1 or 2), as in KaHyPar.
                let phi = &gains.phi[e as usize];
                if pins.len() > FM_UPDATE_MAX_PINS || (get(phi, a as u32) > 1 && get(phi, b as u32) > 2) {
                    continue;
                }
                for &u in pins {
                    let u = u as usize;
                    if locked[u] {
                        continue;
                    }
                    if seen[u] {
                        work += (h.vstart[u + 1] - h.vstart[u]) as u64;
                    } else {
                        seen[u] = true;
                        update.push(u);
                    }
                }
            }
            for &u in &update {
                seen[u] = false;
                if let Some((gu, _)) = best_move(g, u, part, gains, &used, &sets, cap, &mut buf, &mut work) {
                    heap.push((key(gu), std::cmp::Reverse(u)));
                }
            }
            update.clear();
        }
        for &(v, a, _) in log[best_len..].iter().rev() {
            shift(g, part, &mut used, &mut sets, gains, v, a);
        }
        if best_sum <= 0 {
            break;
        }
    }
}

/// Neurons per parameter set of every part, when sets are tracked.
struct PartSets<'g> {
    g: &'g Graph,
    /// Per part: (set, neurons), sorted by set.
    count: Vec<Vec<(u32, u32)>>,
    cap: u32,
}

impl<'g> PartSets<'g> {
    fn new(g: &'g Graph, k: usize, cap: u32) -> PartSets<'g> {
        let k = if g.set.is_empty() { 0 } else { k };
        PartSets { g, count: vec![Vec::new(); k], cap }
    }

    /// Whether part `p` can take vertex `v` without a new set over the cap.
    fn room(&self, p: usize, v: usize) -> bool {
        let Some(c) = self.count.get(p) else { return true };
        (c.len() as u32) < self.cap || get(c, self.g.set[v]) > 0
    }

    /// Adds (`d` = 1) or removes (-1) vertex `v` to or from part `p`.
    fn add(&mut self, p: usize, v: usize, d: i32) {
        if let Some(c) = self.count.get_mut(p) {
            add(c, self.g.set[v], d * self.g.vw[v].0 as i32);
        }
    }
}

/// The finest graph of a network, built once and shared by the
/// partitions at several capacities and part counts.
pub struct Fine {
    g: Graph,
    /// The nets, when rating on them is affordable ([`within_budget`]).
    h: Option<Hyper>,
    verts: Vec<u32>,
    /// The hierarchies built so far, by part count and seed; each built
    /// once, also when two partitions ask for it at the same time.
    hierarchies: std::sync::Mutex<Vec<((usize, u64), Shared)>>,
}

/// A hierarchy cell that several partitions may wait on.
type Shared = std::sync::Arc<std::sync::OnceLock<Hierarchy>>;

/// A coarsening hierarchy with what the partitions take from it.
struct Hierarchy {
    levels: Levels,
    /// The coarsest level's nets with identical ones merged.
    merged: Option<Hyper>,
    /// The seed after the coarsening's draws.
    seed: u64,
}

impl Fine {
    /// The hierarchy's shape for `k` parts: the largest vertex (a quarter
    /// of an even share, at least the widest neuron's synapses) and the
    /// coarsest size (20 vertices a part).
    fn shape(&self, conn: &Conn, k: usize) -> (W, usize) {
        let parts = k.max(1) as u64;
        let (total_n, total_s) = self.g.vw.iter().fold((0u64, 0u64), |(n, s), w| (n + w.0 as u64, s + w.1 as u64));
        let max_fanin = conn.fanin.iter().copied().max().unwrap_or(1);
        let max_w =
            ((total_n.div_ceil(parts) / 4).max(1) as u32, ((total_s.div_ceil(parts) / 4) as u32).max(max_fanin));
        (max_w, (20 * k).max(64))
    }

    /// The coarsening hierarchy for `k` parts and `seed` (built on first
    /// use). The cluster weight limit is a quarter of an even split's
    /// share, whatever the balance: the partitions at one k and several
    /// balances share it.
    fn hierarchy(&self, conn: &Conn, k: usize, seed: u64) -> Shared {
        let cell = {
            let mut all = self.hierarchies.lock().unwrap_or_else(|e| e.into_inner());
            match all.iter().find(|(key, _)| *key == (k, seed)) {
                Some((_, c)) => c.clone(),
                None => {
                    // Two at most (the two partitions that run at once):
                    // the search for fewer cores moves on to other counts,
                    // and a million synapses' hierarchy is tens of MB.
                    if all.len() >= 2 {
                        all.remove(0);
                    }
                    let c = std::sync::Arc::new(std::sync::OnceLock::new());
                    all.push(((k, seed), c.clone()));
                    c
                }
            }
        };
        cell.get_or_init(|| {
            let (max_w, target) = self.shape(conn, k);
            let mut seed = seed;
            let levels = Levels::build(self, max_w, target, None, &mut seed);
            let merged = levels.hypers.last().unwrap_or(&self.h).as_ref().map(Hyper::merged);
            Hierarchy { levels, merged, seed }
        });
        cell
    }
}

/// The neuron graph of `conn` ([`Fine`]); `sets`: track parameter sets
/// (the network has more than a core's table holds).
pub fn prepare(conn: &Conn, rate: &[f64], sets: bool) -> Fine {
    let verts: Vec<u32> = conn.computed().collect();
    let mut vid = vec![u32::MAX; conn.n];
    for (i, &g) in verts.iter().enumerate() {
        vid[g as usize] = i as u32;
    }
    let g = build(conn, rate, &verts, &vid, sets);
    let sizes = (0..conn.n as u32).map(|s| conn.targets(s).len() + !conn.is_input[s as usize] as usize);
    let h = within_budget(sizes).then(|| Hyper::of(conn, rate, &vid, verts.len()));
    Fine { g, h, verts, hierarchies: std::sync::Mutex::new(Vec::new()) }
}

/// Partitions the computed neurons into `k` parts with per-part capacity
/// `cap` = (neurons, synapse entries) and at most `param_sets` parameter
/// sets per part. Returns a part per global id (`u32::MAX` for inputs).
pub fn partition(conn: &Conn, rate: &[f64], k: usize, cap: (u32, u32), param_sets: u32) -> Vec<u32> {
    let fine = prepare(conn, rate, conn.sets > param_sets);
    partition_seeded(&fine, conn, k, cap, param_sets, Effort::Traffic { kicks: KICKS, flows: false }, SEED)
}

/// Whether a partition that competes on traffic starts from a recursive
/// bisection ([`bisection_start`]) rather than a k-way growth at the
/// coarsest level: locally connected networks without hubs and beyond the
/// small ones, whose parameter sets are not tracked.
pub fn starts_by_bisection(fine: &Fine, conn: &Conn) -> bool {
    conn.in_src.len() > V_CYCLE_MAX_SYNAPSES
        && fine.g.set.is_empty()
        && fine.h.as_ref().is_some_and(|h| h.local() && h.hubless())
}

/// How hard a partition searches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effort {
    /// Only whether it fits at its part count matters (the search for
    /// fewer cores): `INITIAL_RUNS_FIT` initial partitions, no kicks.
    Fit,
    /// It competes on traffic: every initial partition and `kicks` rounds
    /// of kicks (`kick_and_search`).
    Traffic {
        /// Rounds of kicks ([`KICKS`] by default).
        kicks: usize,
        /// Minimum-cut refinement between pairs of parts on the finest
        /// levels ([`flow_refine`], [`FLOW_LEVELS`]) of locally connected
        /// networks: on the 3-D grid 2% fewer packets (mean of 5 seeds)
        /// for about 1.9x the time.
        flows: bool,
    },
}

/// The default seed of [`partition_seeded`]'s random choices (matching
/// orders, initial partitions, kicks).
pub const SEED: u64 = 0x2545_F491_4F6C_DD1D;

/// [`partition`] on a prepared graph (made with `sets` = the network has
/// more parameter sets than `param_sets`), searching with `effort` and
/// drawing from `seed` ([`SEED`] by default; the bench measures the spread
/// of the traffic over seeds): [`partition_pending`] and its V-cycles.
pub fn partition_seeded(
    fine: &Fine,
    conn: &Conn,
    k: usize,
    cap: (u32, u32),
    param_sets: u32,
    effort: Effort,
    seed: u64,
) -> Vec<u32> {
    let p = partition_pending(fine, conn, k, cap, param_sets, effort, seed);
    v_cycles_by_id(fine, conn, &p.part, k, cap, param_sets, p.cycles, p.seed)
}

/// A partition whose V-cycles are still to run ([`partition_pending`]):
/// the caller may refine it first, or run the V-cycles of several
/// candidates at once ([`v_cycles_by_id`] with `cycles` and `seed`).
#[derive(Debug, Clone)]
pub struct Pending {
    /// A part per global id (`u32::MAX` for inputs).
    pub part: Vec<u32>,
    /// The V-cycles it is due: by effort and size; none without coarse levels.
    pub cycles: usize,
    /// The seed they draw from.
    pub seed: u64,
}

/// [`partition_seeded`] up to its V-cycles.
pub fn partition_pending(
    fine: &Fine,
    conn: &Conn,
    k: usize,
    cap: (u32, u32),
    param_sets: u32,
    effort: Effort,
    seed: u64,
) -> Pending {
    let mut out = vec![u32::MAX; conn.n];
    if fine.verts.is_empty() || k == 0 {
        return Pending { part: out, cycles: 0, seed };
    }
    let cell = fine.hierarchy(conn, k, seed);
    let Hierarchy { levels, merged, seed } = cell.get().expect("built by Fine::hierarchy");
    let seed = *seed;
    let top = levels.coarse.last().unwrap_or(&fine.g);
    let top_h = levels.hypers.last().unwrap_or(&fine.h).as_ref();
    let small = conn.in_src.len() <= V_CYCLE_MAX_SYNAPSES;
    let local = local(fine);
    let flows = matches!(effort, Effort::Traffic { flows: true, .. }) && local;
    // Locally connected networks beyond the small ones start from a
    // recursive bisection of a finer level ([`BISECTION_LEVEL_SIZE`]): on
    // the 3-D grid its parts are the compact blocks a k-way growth at the
    // coarsest level misses (docs/benchmarks.md). Small networks keep the
    // coarsest-level search with kicks, which does better there.
    let size = |i: usize| if i == 0 { fine.g.n() } else { levels.coarse[i - 1].n() };
    let bisection = match effort {
        Effort::Traffic { .. } if starts_by_bisection(fine, conn) => {
            let l = (0..=levels.maps.len()).rev().find(|&i| size(i) >= BISECTION_LEVEL_SIZE * k).unwrap_or(0);
            let (g, h) = if l == 0 {
                (&fine.g, fine.h.as_ref())
            } else {
                (&levels.coarse[l - 1], levels.hypers[l - 1].as_ref())
            };
            h.map(|h| (l, g, h))
        }
        _ => None,
    };
    let part = if let Some((l, g, h)) = bisection {
        let p = bisection_start(g, h, k, cap, param_sets, seed);
        levels.uncoarsen_from(fine, p, l, k, cap, param_sets, flows)
    } else {
        // Without coarse levels each run refines the whole network: fewer.
        let runs = if levels.maps.is_empty() { INITIAL_RUNS_UNCOARSENED } else { INITIAL_RUNS };
        let (runs, kicks) = match effort {
            Effort::Fit => (runs.min(INITIAL_RUNS_FIT), 0),
            Effort::Traffic { kicks, .. } => (runs, kicks),
        };
        let mut part = initial_search(top, merged.as_ref(), k, cap, param_sets, runs, seed);
        // Without coarse levels (a small network) the search below never runs:
        // run it on the chosen initial partition.
        if let (Some(h), true) = (top_h, levels.maps.is_empty()) {
            fm_hyper(top, h, &mut part, k, cap, param_sets, FM_PASSES, FM_PATIENCE);
        }
        // Small networks that are not locally connected get the tabu search
        // on the finished partition instead where it is affordable
        // (`tabu.rs`): with it, the kicks changed no mean of 5 seeds by
        // more than 0.1% there and cost a third of the 10k feedforward
        // network's mapping time.
        let tabu = crate::tabu::steps(fine.verts.len(), k).is_some();
        if let (Some(h), true) = (&merged, local || (small && !tabu)) {
            kick_and_search(top, h, &mut part, k, cap, param_sets, kicks, seed);
        }
        levels.uncoarsen(fine, part, k, cap, param_sets, flows)
    };
    // V-cycles ([`v_cycles`]), only for partitions that compete on traffic
    // (one that only has to fit gains nothing from them: the same packets
    // on every bench network, 0.01 s less on the 10k local one); larger
    // locally connected networks get fewer.
    let cycles = match effort {
        _ if levels.maps.is_empty() => 0,
        Effort::Traffic { .. } if small => V_CYCLES,
        Effort::Traffic { .. } if local && conn.in_src.len() <= V_CYCLE_LOCAL_MAX_SYNAPSES => V_CYCLES_LOCAL,
        _ => 0,
    };
    for (i, &gid) in fine.verts.iter().enumerate() {
        out[gid as usize] = part[i];
    }
    Pending { part: out, cycles, seed }
}

/// Whether the network is locally connected ([`Hyper::local`]): small ones
/// get the kicks at the coarsest level, the others the tabu search on the
/// finished partition (`tabu.rs`).
pub fn local(fine: &Fine) -> bool {
    fine.h.as_ref().is_some_and(Hyper::local)
}

/// `cycles` V-cycles on `part` (a part per vertex of `fine`): coarsen
/// again, joining only vertices of the same part, so the partition
/// carries over to every level exactly, and refine it on the way up;
/// coarse moves escape what single-vertex moves cannot. A cycle is kept
/// only if the nets' traffic drops. `shape`: the hierarchy's largest
/// vertex and coarsest size.
#[allow(clippy::too_many_arguments)]
fn v_cycles(
    fine: &Fine,
    mut part: Vec<u32>,
    k: usize,
    cap: W,
    param_sets: u32,
    shape: (W, usize),
    cycles: usize,
    seed: &mut u64,
) -> Vec<u32> {
    let Some(h) = &fine.h else { return part };
    let (max_w, target) = shape;
    let mut cost = lambda(h, &part);
    for _ in 0..cycles {
        let again = Levels::build(fine, max_w, target, Some(&part), seed);
        let mut p = part.clone();
        for m in &again.maps {
            let mut coarse = vec![0u32; m.iter().map(|&c| c as usize + 1).max().unwrap_or(0)];
            for (v, &c) in m.iter().enumerate() {
                coarse[c as usize] = p[v];
            }
            p = coarse;
        }
        let top = again.coarse.last().unwrap_or(&fine.g);
        refine(top, &mut p, k, cap, param_sets, 4);
        if let Some(h) = again.hypers.last().unwrap_or(&fine.h) {
            refine_then_fm(top, h, &mut p, k, cap, param_sets, 4);
        }
        let p = again.uncoarsen(fine, p, k, cap, param_sets, false);
        let c = lambda(h, &p);
        if c < cost {
            (part, cost) = (p, c);
        }
    }
    part
}

/// `cycles` V-cycles ([`v_cycles`]) on a part per global id (`k` parts;
/// inputs keep theirs), within `cap` = (neurons, synapse entries) a part,
/// with the hierarchy's shape for `k` parts ([`Fine::shape`]), drawing
/// from `seed`: a [`Pending`] partition's, or a packing's
/// ([`V_CYCLES_PACKED`]), which no multilevel run has refined. Without
/// the nets (too large to rate) it is returned as it is.
#[allow(clippy::too_many_arguments)]
pub fn v_cycles_by_id(
    fine: &Fine,
    conn: &Conn,
    part: &[u32],
    k: usize,
    cap: (u32, u32),
    param_sets: u32,
    cycles: usize,
    mut seed: u64,
) -> Vec<u32> {
    if fine.h.is_none() || fine.verts.is_empty() || k < 2 || cycles == 0 {
        return part.to_vec();
    }
    let (max_w, target) = fine.shape(conn, k);
    let mine: Vec<u32> = fine.verts.iter().map(|&g| part[g as usize]).collect();
    let mine = v_cycles(fine, mine, k, cap, param_sets, (max_w, target), cycles, &mut seed);
    let mut out = part.to_vec();
    for (i, &gid) in fine.verts.iter().enumerate() {
        out[gid as usize] = mine[i];
    }
    out
}

/// The size of [`flow_pair`]'s regions: each side's region may weigh the
/// other part's room plus this share of a part's capacity (KaHyPar-MF's
/// α·ε); the minimum cut is then pierced towards the capacities. Measured
/// on the 3-D grid with flows at every level (docs/benchmarks.md): 0.4
/// gave the fewest packets; 0.25 lost most of the gain, 0.6 took 1.6x
/// the time for the same packets; regions within the room alone (0.1, 0)
/// gained almost nothing (at 3% balance a part's room is a few neurons).
const FLOW_REGION_SHARE: f64 = 0.4;

/// Vertices [`flow_pair`] forces to a side, one at a time, before it gives
/// up on a pair whose minimum cuts do not fit (4 and 16 were no better on
/// the 3-D grid).
const FLOW_PIERCES: usize = 8;

/// [`flow_refine`] runs on this many of the finest levels of the first
/// multilevel pass (not in the V-cycles). On the 3-D grid, mean of 5 seeds:
/// the finest 2 levels 4,844 packets in 1.5 s a mapping; every level of
/// the first pass and of the V-cycles 4,839 in 3.8 s; every level of the
/// V-cycles only, 4,852 in 2.4 s; without flows 4,944 in 0.8 s.
const FLOW_LEVELS: usize = 2;

/// Rounds of [`flow_refine`]: the first over all pairs of parts, the next
/// over the pairs of parts that changed; a round that gains nothing ends
/// it. With flows at every level, default seed: one round gave 4,780
/// packets on the 3-D grid in 0.7x the time of two (4,766).
const FLOW_ROUNDS: usize = 2;

/// Nets with more pins than this are not searched through when a region
/// grows (the network's hubs would pull the whole part in).
const FLOW_GROW_MAX_PINS: usize = 2 * FM_LOCAL_PINS_PER_NET;

/// Integer capacity of a net of weight `w` in the flow network.
fn flow_cap(w: f32) -> i64 {
    ((w as f64 * (1u64 << 20) as f64).round() as i64).max(1)
}

/// Flow-based refinement (KaHyPar-MF, Heuer, Sanders and Schlag 2018):
/// for each pair of parts that share nets, heaviest first, grow a region
/// on both sides of their boundary, solve a minimum cut of the region's
/// nets (Lawler's network: a net is an edge of its weight between an in-
/// and an out-node, its pins joined to both by edges no cut pays), and
/// move the region's vertices to the side of that cut when it lowers the
/// traffic and keeps both parts within `cap`. For a net, the cut between
/// the two parts is exactly its (λ−1) share of them, so the cut is the
/// objective restricted to the pair. Moves of single vertices (FM) cannot
/// shift a whole stretch of boundary at once; a minimum cut can. When
/// the extreme minimum cuts overfill a part, vertices are forced to one
/// side and the flow augmented again (piercing, as in HyperFlowCutter,
/// Gottesbüren et al. 2019) until a cut fits or is no better than the
/// current one. Runs only where parameter sets are not tracked (they do
/// not bind). Returns the traffic removed (Σ w·λ).
fn flow_refine(g: &Graph, h: &Hyper, part: &mut [u32], k: usize, cap: W) -> f64 {
    if k < 2 || !g.set.is_empty() {
        return 0.0;
    }
    let (mut used, _) = loads(g, part, k, 0);
    let mut scratch = FlowScratch::new(g.n(), h.w.len());
    let mut gained = 0.0;
    let mut active = vec![true; k];
    for _ in 0..FLOW_ROUNDS {
        // The pairs of parts by the weight of the nets they share, with
        // those nets (where the pair's boundary starts).
        let mut pairs: std::collections::HashMap<(u32, u32), PairNets> = std::collections::HashMap::new();
        let mut ps: Vec<u32> = Vec::new();
        for e in 0..h.w.len() {
            ps.clear();
            ps.extend(h.pins(e).iter().map(|&v| part[v as usize]));
            ps.sort_unstable();
            ps.dedup();
            for i in 0..ps.len() {
                for j in i + 1..ps.len() {
                    let entry = pairs.entry((ps[i], ps[j])).or_default();
                    entry.0 += h.w[e] as f64;
                    entry.1.push(e as u32);
                }
            }
        }
        let mut pairs: Vec<((u32, u32), PairNets)> = pairs.into_iter().collect();
        pairs.sort_by(|x, y| y.1 .0.total_cmp(&x.1 .0).then(x.0.cmp(&y.0)));
        let mut round = 0.0;
        let mut changed = vec![false; k];
        for ((a, b), (_, nets)) in &pairs {
            if !active[*a as usize] && !active[*b as usize] {
                continue;
            }
            if let Some(d) = flow_pair(g, h, part, &mut used, cap, (*a, *b), nets, &mut scratch) {
                if d > 0.0 {
                    round += d;
                    changed[*a as usize] = true;
                    changed[*b as usize] = true;
                }
            }
        }
        gained += round;
        if round <= 0.0 {
            break;
        }
        // The next round only on pairs of which a part changed (KaHyPar's
        // active block scheduling).
        active = changed;
    }
    gained
}

/// The weight of the nets a pair of parts shares, and those nets.
type PairNets = (f64, Vec<u32>);

/// Buffers of [`flow_pair`], reused across pairs.
struct FlowScratch {
    flow: crate::flow::MaxFlow,
    /// Flow node of each vertex in the current region (u32::MAX if none).
    node: Vec<u32>,
    /// Nets already added to the current network.
    net_seen: Vec<bool>,
    region: Vec<u32>,
    nets: Vec<u32>,
    /// The network's nets (merged): `flow_pins[i..j]` for each (i, j).
    flow_nets: Vec<(u32, u32)>,
    flow_pins: Vec<u32>,
}

impl FlowScratch {
    fn new(n: usize, nets: usize) -> FlowScratch {
        FlowScratch {
            flow: crate::flow::MaxFlow::default(),
            node: vec![u32::MAX; n],
            net_seen: vec![false; nets],
            region: Vec::new(),
            nets: Vec::new(),
            flow_nets: Vec::new(),
            flow_pins: Vec::new(),
        }
    }
}

/// One minimum-cut step between parts `a` and `b` (see [`flow_refine`]),
/// starting from the nets `cut_nets` that they shared: `Some(gain)` when
/// vertices moved (gain > 0) or no cut was better (0); `None` when no
/// better cut kept both parts within `cap` after [`FLOW_PIERCES`] pierces.
#[allow(clippy::too_many_arguments)]
fn flow_pair(
    g: &Graph,
    h: &Hyper,
    part: &mut [u32],
    used: &mut [W],
    cap: W,
    (a, b): (u32, u32),
    cut_nets: &[u32],
    sc: &mut FlowScratch,
) -> Option<f64> {
    let (au, bu) = (a as usize, b as usize);
    let extra = ((cap.0 as f64 * FLOW_REGION_SHARE) as i64, (cap.1 as f64 * FLOW_REGION_SHARE) as i64);
    // Region of side x (moving into y) may weigh y's room plus the share.
    let bound = |y: usize| {
        ((cap.0 as i64 - used[y].0 as i64).max(0) + extra.0, (cap.1 as i64 - used[y].1 as i64).max(0) + extra.1)
    };
    let (bound_a, bound_b) = (bound(bu), bound(au));
    // Boundary vertices: pins of nets in both parts, in net order.
    sc.region.clear();
    let mut seeds: [Vec<u32>; 2] = [Vec::new(), Vec::new()];
    for &e in cut_nets {
        let pins = h.pins(e as usize);
        let (mut in_a, mut in_b) = (false, false);
        for &v in pins {
            in_a |= part[v as usize] == a;
            in_b |= part[v as usize] == b;
        }
        if in_a && in_b {
            for &v in pins {
                let p = part[v as usize];
                if p == a || p == b {
                    seeds[(p == b) as usize].push(v);
                }
            }
        }
    }
    if seeds[0].is_empty() {
        return Some(0.0);
    }
    // Grow both regions breadth first through small nets.
    const IN_REGION: u32 = u32::MAX - 1;
    for (side, (p, lim)) in [(a, bound_a), (b, bound_b)].into_iter().enumerate() {
        let mut w = (0i64, 0i64);
        let first = sc.region.len();
        let mut queue = std::mem::take(&mut seeds[side]);
        let mut i = 0;
        let try_add = |v: u32, region: &mut Vec<u32>, node: &mut [u32], w: &mut (i64, i64)| -> bool {
            let vw = g.vw[v as usize];
            if node[v as usize] != u32::MAX || w.0 + vw.0 as i64 > lim.0 || w.1 + vw.1 as i64 > lim.1 {
                return false;
            }
            *w = (w.0 + vw.0 as i64, w.1 + vw.1 as i64);
            node[v as usize] = IN_REGION;
            region.push(v);
            true
        };
        // Seeds first (the boundary), then their neighbourhoods.
        for &v in &queue {
            try_add(v, &mut sc.region, &mut sc.node, &mut w);
        }
        queue.clear();
        queue.extend_from_slice(&sc.region[first..]);
        while i < queue.len() {
            let v = queue[i] as usize;
            i += 1;
            for &e in &h.nets[h.vstart[v] as usize..h.vstart[v + 1] as usize] {
                let pins = h.pins(e as usize);
                if pins.len() > FLOW_GROW_MAX_PINS {
                    continue;
                }
                for &u in pins {
                    if part[u as usize] == p && try_add(u, &mut sc.region, &mut sc.node, &mut w) {
                        queue.push(u);
                    }
                }
            }
        }
    }
    // The flow network: s = 0 (part a outside the region), t = 1 (part b
    // outside), then one node per region vertex, then two per net.
    let f = &mut sc.flow;
    f.reset(2);
    for &v in &sc.region {
        sc.node[v as usize] = f.node();
    }
    let (mut old_cut, mut old_real) = (0i64, 0.0f64);
    sc.nets.clear();
    for &v in &sc.region {
        for &e in &h.nets[h.vstart[v as usize] as usize..h.vstart[v as usize + 1] as usize] {
            if !sc.net_seen[e as usize] {
                sc.net_seen[e as usize] = true;
                sc.nets.push(e);
            }
        }
    }
    // Each net as its flow nodes (0 and 1 for pins fixed in a or b, then
    // the region's), sorted; nets with the same nodes are one net of their
    // summed weight (coarse vertices share many nets).
    let mut merged: std::collections::HashMap<Vec<u32>, i64> = std::collections::HashMap::new();
    let mut key: Vec<u32> = Vec::new();
    for &e in &sc.nets {
        sc.net_seen[e as usize] = false;
        let (mut to_s, mut to_t, mut in_a, mut in_b) = (false, false, false, false);
        key.clear();
        for &u in h.pins(e as usize) {
            let p = part[u as usize];
            if p != a && p != b {
                continue;
            }
            in_a |= p == a;
            in_b |= p == b;
            match sc.node[u as usize] {
                u32::MAX if p == a => to_s = true,
                u32::MAX => to_t = true,
                x => key.push(x),
            }
        }
        // Cut whatever happens (pins fixed on both sides) or never cut.
        if (to_s && to_t) || key.len() + usize::from(to_s) + usize::from(to_t) < 2 {
            continue;
        }
        let c = flow_cap(h.w[e as usize]);
        if in_a && in_b {
            old_cut += c;
            old_real += h.w[e as usize] as f64;
        }
        if to_s {
            key.push(0);
        }
        if to_t {
            key.push(1);
        }
        key.sort_unstable();
        *merged.entry(key.clone()).or_default() += c;
    }
    // In a fixed order (the map's is random), so the result is repeatable.
    let mut merged: Vec<(Vec<u32>, i64)> = merged.into_iter().collect();
    merged.sort_unstable();
    sc.flow_nets.clear();
    sc.flow_pins.clear();
    for (pins, c) in merged {
        let first = sc.flow_pins.len() as u32;
        sc.flow_pins.extend_from_slice(&pins);
        sc.flow_nets.push((first, sc.flow_pins.len() as u32));
        match pins[..] {
            // Two pins: an edge each way (one way from s, one way to t).
            [0, x] => f.edge(0, x, c),
            [1, x] => f.edge(x, 1, c),
            [x, y] => {
                f.edge(x, y, c);
                f.edge(y, x, c);
            }
            _ => {
                let (ein, eout) = (f.node(), f.node());
                f.edge(ein, eout, c);
                for &x in &pins {
                    match x {
                        0 => f.edge(0, ein, crate::flow::INF),
                        1 => f.edge(eout, 1, crate::flow::INF),
                        _ => {
                            f.edge(x, ein, crate::flow::INF);
                            f.edge(eout, x, crate::flow::INF);
                        }
                    }
                }
            }
        }
    }
    let done = |sc: &mut FlowScratch| {
        for &v in &sc.region {
            sc.node[v as usize] = u32::MAX;
        }
    };
    // Minimum cuts, pierced towards balance (HyperFlowCutter's scheme):
    // while neither extreme minimum cut fits, force one more vertex to a
    // side and augment again; give up once the cut is no better than now.
    let n_nodes = f.nodes();
    let mut term = vec![0u8; n_nodes];
    let mut choice: Option<Vec<bool>> = None;
    let mut value = 0i64;
    for _ in 0..FLOW_PIERCES {
        value += f.run_until(0, 1, old_cut - value);
        if value >= old_cut {
            break;
        }
        let near_s = f.source_side(0);
        let near_t = f.sink_side(1);
        let a_max: Vec<bool> = near_t.iter().map(|&x| !x).collect();
        let load = |on_a: &[bool]| {
            let (mut la, mut lb) = (used[au], used[bu]);
            for &v in &sc.region {
                let (was_a, is_a) = (part[v as usize] == a, on_a[sc.node[v as usize] as usize]);
                let w = g.vw[v as usize];
                if was_a && !is_a {
                    (la, lb) = ((la.0 - w.0, la.1 - w.1), (lb.0 + w.0, lb.1 + w.1));
                } else if !was_a && is_a {
                    (la, lb) = ((la.0 + w.0, la.1 + w.1), (lb.0 - w.0, lb.1 - w.1));
                }
            }
            (la, lb)
        };
        let over = |l: W| l.0 > cap.0 || l.1 > cap.1;
        let (min_a, max_a) = (load(&near_s), load(&a_max));
        let fits = |l: (W, W)| !over(l.0) && !over(l.1);
        let spread = |l: (W, W)| (l.0 .1 as i64 - l.1 .1 as i64).abs();
        match (fits(min_a), fits(max_a)) {
            (true, true) if spread(max_a) < spread(min_a) => {
                choice = Some(a_max);
                break;
            }
            (true, _) => {
                choice = Some(near_s);
                break;
            }
            (false, true) => {
                choice = Some(a_max);
                break;
            }
            (false, false) => {}
        }
        // Which vertex to force, and where: a vertex on the a-side of the
        // smallest a-side when even that overfills a; one on the b-side
        // of the largest when even that overfills b; otherwise one between
        // the two (no flow added: it only picks another minimum cut).
        let cut_pin = |on_a: &[bool], want_a: bool| -> Option<u32> {
            sc.flow_nets.iter().find_map(|&(i, j)| {
                let pins = &sc.flow_pins[i as usize..j as usize];
                let (sa, sb) = (pins.iter().any(|&x| on_a[x as usize]), pins.iter().any(|&x| !on_a[x as usize]));
                if !(sa && sb) {
                    return None;
                }
                pins.iter().copied().find(|&x| x > 1 && term[x as usize] == 0 && on_a[x as usize] == want_a)
            })
        };
        let (x, to_s) = if over(min_a.0) {
            match cut_pin(&near_s, true) {
                Some(x) => (x, false),
                None => break,
            }
        } else if over(max_a.1) {
            match cut_pin(&a_max, false) {
                Some(x) => (x, true),
                None => break,
            }
        } else {
            match (2..2 + sc.region.len() as u32)
                .find(|&x| a_max[x as usize] && !near_s[x as usize] && term[x as usize] == 0)
            {
                Some(x) => (x, true),
                None => break,
            }
        };
        if to_s {
            term[x as usize] = 1;
            f.edge(0, x, crate::flow::INF);
        } else {
            term[x as usize] = 2;
            f.edge(x, 1, crate::flow::INF);
        }
    }
    let Some(on_a) = choice else {
        done(sc);
        return None;
    };
    let moves: Vec<(u32, u32)> =
        sc.region.iter().map(|&v| (v, if on_a[sc.node[v as usize] as usize] { a } else { b })).collect();
    done(sc);
    // The real (unscaled) cut after the moves, from the same nets.
    let mut new_real = 0.0f64;
    for &(v, to) in &moves {
        sc.node[v as usize] = to;
    }
    for &e in &sc.nets {
        let (mut in_a, mut in_b, mut fixed) = (false, false, (false, false));
        for &u in h.pins(e as usize) {
            let p = part[u as usize];
            if p != a && p != b {
                continue;
            }
            let q = if sc.node[u as usize] != u32::MAX {
                sc.node[u as usize]
            } else {
                if p == a {
                    fixed.0 = true;
                } else {
                    fixed.1 = true;
                }
                p
            };
            in_a |= q == a;
            in_b |= q == b;
        }
        // Nets fixed on both sides were left out of `old_real` too.
        if in_a && in_b && !(fixed.0 && fixed.1) {
            new_real += h.w[e as usize] as f64;
        }
    }
    for &(v, _) in &moves {
        sc.node[v as usize] = u32::MAX;
    }
    if new_real >= old_real {
        return Some(0.0);
    }
    for (v, to) in moves {
        let (from, w) = (part[v as usize] as usize, g.vw[v as usize]);
        if from != to as usize {
            used[from] = (used[from].0 - w.0, used[from].1 - w.1);
            used[to as usize] = (used[to as usize].0 + w.0, used[to as usize].1 + w.1);
            part[v as usize] = to;
        }
    }
    Some(old_real - new_real)
}

/// Iterated local search on the coarsest level (or on a network too small
/// to coarsen): `rounds` times, swap a twentieth of the vertices at random
/// between parts (each swap only where both capacities still hold), refine
/// and run [`fm_hyper`]; keep the result when it carries less traffic.
/// The rounds run as two chains of half of them each, on two threads,
/// drawing from `seed`; the better chain wins (the first on a tie), so the
/// result does not depend on the threads' timing.
/// FM ends in a local minimum that single moves cannot leave; the kicks
/// move many vertices at once, and the coarse level is small, so a round
/// is cheap (docs/benchmarks.md, "Mapper: kicks at the coarsest level").
#[allow(clippy::too_many_arguments)]
fn kick_and_search(
    g: &Graph,
    h: &Hyper,
    part: &mut Vec<u32>,
    k: usize,
    cap: W,
    cap_sets: u32,
    rounds: usize,
    seed: u64,
) {
    let n = g.n();
    if n < 2 || k < 2 || rounds == 0 {
        return;
    }
    let start = lambda(h, part);
    let chain = |seed: u64, rounds: usize| -> (Vec<u32>, f64) {
        let mut rng = spikeforge_net::rng::SplitMix64(seed);
        let (mut best, mut cost) = (part.clone(), start);
        for _ in 0..rounds {
            let mut p = best.clone();
            kick(g, &mut p, k, cap, cap_sets, n / KICK_SHARE, &mut rng);
            let mut gains = refine_hyper_gains(g, h, &mut p, k, cap, cap_sets, 8);
            fm_hyper_with(g, h, &mut p, k, cap, cap_sets, FM_PASSES, FM_PATIENCE, &mut gains);
            let c = gains.traffic();
            if c < cost {
                (best, cost) = (p, c);
            }
        }
        (best, cost)
    };
    // Two chains of half the rounds each, on two threads: the kicks were
    // the longest sequential stretch of the 10k local network's mapping.
    let ((pa, ca), (pb, cb)) =
        rayon::join(|| chain(seed, rounds.div_ceil(2)), || chain(seed ^ 0x9E37_79B9_7F4A_7C15, rounds / 2));
    *part = if cb < ca { pb } else { pa };
}

/// Up to `swaps` random swaps of two vertices of different parts, each
/// made only where both parts stay within `cap` and `cap_sets`; returns
/// how many were made.
fn kick(
    g: &Graph,
    p: &mut [u32],
    k: usize,
    cap: W,
    cap_sets: u32,
    swaps: usize,
    rng: &mut spikeforge_net::rng::SplitMix64,
) -> usize {
    let n = g.n() as u64;
    let (mut used, mut sets) = loads(g, p, k, cap_sets);
    let mut made = 0;
    for _ in 0..swaps {
        let (v, u) = (rng.below(n) as usize, rng.below(n) as usize);
        let (a, b) = (p[v] as usize, p[u] as usize);
        if a == b || !sets.room(b, v) || !sets.room(a, u) {
            continue;
        }
        let (wv, wu) = (g.vw[v], g.vw[u]);
        let na = (used[a].0 - wv.0 + wu.0, used[a].1 - wv.1 + wu.1);
        let nb = (used[b].0 - wu.0 + wv.0, used[b].1 - wu.1 + wv.1);
        if na.0 > cap.0 || na.1 > cap.1 || nb.0 > cap.0 || nb.1 > cap.1 {
            continue;
        }
        (used[a], used[b]) = (na, nb);
        sets.add(a, v, -1);
        sets.add(b, v, 1);
        sets.add(b, u, -1);
        sets.add(a, u, 1);
        (p[v], p[u]) = (b as u32, a as u32);
        made += 1;
    }
    made
}

/// Rounds of `kick_and_search` for the partitions that compete on
/// traffic, on networks of at most `V_CYCLE_MAX_SYNAPSES` synapses and
/// on locally connected ones (`Hyper::local`). Measured over 5 seeds on
/// the bench networks (docs/benchmarks.md, "Mapper: kicks at the coarsest
/// level"): the 3-D grid's mean 5,123 -> 4,978 packets, the 2-D local
/// networks' -5.4% and -1.5%, the random recurrent 10k network's -1.8%;
/// on the larger random, scale-free and converted CNN networks they gained
/// nothing or lost up to 0.5%, for up to 40% more time, so they do not run
/// there. 32 and 64 rounds were not better on every network.
pub const KICKS: usize = 16;

/// One vertex in this many is swapped by a kick. Of 1/4, 1/10, 1/20 and
/// 1/40, a twentieth was best or near it on the bench networks.
const KICK_SHARE: usize = 20;

/// V-cycles after the first multilevel pass. Each costs about a tenth of
/// the first pass on the 10k local network: 1, 2, 4, 8 cycles gave 974,
/// 958, 948, 919 packets there before the kicks (docs/benchmarks.md); with
/// the kicks, 4 cycles give the same mean over 5 seeds as 8 (916 packets)
/// in about 0.8x the time.
const V_CYCLES: usize = 4;

/// V-cycles run on networks up to this many synapses. Measured
/// (docs/benchmarks.md, "Mapper: a V-cycle on small networks"): the 10k
/// local network 1,002 → 974 packets for +0.05 s; from 100k synapses on
/// they changed no packet count by more than 0.1% and cost 20–90% more
/// time (recurrent 100k: 1.44 → 2.71 s). Networks this small that are not
/// locally connected get the tabu search (`tabu.rs`) instead of the kicks.
pub(crate) const V_CYCLE_MAX_SYNAPSES: usize = 20_000;

/// V-cycles on larger locally connected networks ([`Hyper::local`]), for
/// partitions that compete on traffic: their coarse levels stay sparse, so
/// a cycle is cheap, and boundaries between clusters move. Mean of 5 seeds:
/// the 3-D grid 4,978 → 4,934 packets, local2d 100k 4,435 → 4,394, for
/// 1.25x and 1.2x the time (docs/benchmarks.md, "Mapper: V-cycles on large
/// local networks"); 4 or 8 cycles gained at most 0.8% more for 1.4-2.1x the time.
const V_CYCLES_LOCAL: usize = 2;

/// V-cycles on a packing (`v_cycles_by_id`; `map` gives them to the best
/// packing when it leads, or when it wins without them): on the shuffled small
/// world, mean of 5 seeds, 1 / 2 / 3 cycles gave 17,317 / 17,305 / 17,300
/// packets against 17,349 without, for 0.9 / 1.0 / 1.1x the mapping time
/// (the final FM has less left to do) (docs/benchmarks.md).
pub const V_CYCLES_PACKED: usize = 2;

/// ... up to this many synapses: at a million (local2d) two cycles took the
/// mapping from 0.89 to 2.14 s and the mapper's peak from 58 to 87 MB.
const V_CYCLE_LOCAL_MAX_SYNAPSES: usize = 200_000;

/// A coarsening hierarchy of the finest graph.
struct Levels {
    /// `coarse[i]` is level i + 1.
    coarse: Vec<Graph>,
    /// `maps[i]` maps level i's vertices to level i + 1's.
    maps: Vec<Vec<u32>>,
    /// `hypers[i]` is the hypergraph of level i + 1, while affordable
    /// (then None for that level and all coarser ones).
    hypers: Vec<Option<Hyper>>,
}

impl Levels {
    /// Coarsens until `target` vertices or no progress; with `within`, only
    /// vertices of the same part join.
    fn build(fine: &Fine, max_w: W, target: usize, within: Option<&[u32]>, seed: &mut u64) -> Levels {
        let mut l = Levels { coarse: Vec::new(), maps: Vec::new(), hypers: Vec::new() };
        let mut within: Option<Vec<u32>> = within.map(|p| p.to_vec());
        loop {
            let g = l.coarse.last().unwrap_or(&fine.g);
            if g.n() <= target {
                break;
            }
            let h = l.hypers.last().unwrap_or(&fine.h).as_ref();
            let (cg, cmap) = coarsen(g, h, max_w, within.as_deref(), *seed);
            *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
            if cg.n() as f64 > 0.95 * g.n() as f64 {
                break;
            }
            if let Some(p) = &within {
                let mut cp = vec![0u32; cg.n()];
                for (v, &c) in cmap.iter().enumerate() {
                    cp[c as usize] = p[v];
                }
                within = Some(cp);
            }
            l.hypers.push(h.map(|h| h.contract(&cmap, cg.n())).filter(Hyper::affordable));
            l.coarse.push(cg);
            l.maps.push(cmap);
        }
        l
    }

    /// Projects the coarsest level's `part` back to the finest, refining at
    /// every level. With `flows`, [`flow_refine`] runs on the finest [`FLOW_LEVELS`]
    /// levels, and stops once a level gains nothing (the finer levels'
    /// boundaries are that level's, refined by FM).
    fn uncoarsen(&self, fine: &Fine, part: Vec<u32>, k: usize, cap: W, param_sets: u32, flows: bool) -> Vec<u32> {
        self.uncoarsen_from(fine, part, self.maps.len(), k, cap, param_sets, flows)
    }

    /// [`Levels::uncoarsen`] from level `from` (0 the finest) instead of
    /// the coarsest.
    #[allow(clippy::too_many_arguments)]
    fn uncoarsen_from(
        &self,
        fine: &Fine,
        mut part: Vec<u32>,
        from: usize,
        k: usize,
        cap: W,
        param_sets: u32,
        mut flows: bool,
    ) -> Vec<u32> {
        for i in (0..from).rev() {
            let (finer, fh) = if i == 0 { (&fine.g, &fine.h) } else { (&self.coarse[i - 1], &self.hypers[i - 1]) };
            let mut fp: Vec<u32> = self.maps[i].iter().map(|&c| part[c as usize]).collect();
            refine(finer, &mut fp, k, cap, param_sets, 4);
            if let Some(h) = fh {
                refine_then_fm(finer, h, &mut fp, k, cap, param_sets, 4);
                if flows && i < FLOW_LEVELS {
                    flows = flow_refine(finer, h, &mut fp, k, cap) > 0.0;
                }
            }
            part = fp;
        }
        part
    }
}

/// The level where recursive bisection starts ([`bisection_start`]): the
/// coarsest with at least this many vertices per part (KaHyPar's
/// contraction limit, 160·k). On the 3-D grid (mean of 8 seeds, one try):
/// 80 per part 4,910 packets, 160 4,850, 1,000 (the finest level) 4,892.
const BISECTION_LEVEL_SIZE: usize = 160;

/// Recursive bisections tried ([`bisection_start`]), on rayon's threads
/// (`map` leaves one core to them: one candidate balance there). On the
/// 3-D grid (mean of 8 seeds): 1 try 4,850 packets, 2 tries 4,783, 4
/// tries 4,780 for 1.5x the time of 2.
const BISECTION_TRIES: usize = 2;

/// Initial partitions tried at the coarsest level.
const INITIAL_RUNS: usize = 24;
/// Initial partitions of a partition that only has to fit ([`Effort::Fit`]):
/// on the converted CNN, whose search for fewer cores makes four such
/// partitions, 8 instead of 24 took the mapping from about 0.69 to 0.54 s
/// (medians of six runs) for the same packets on every bench network.
const INITIAL_RUNS_FIT: usize = 8;
/// Initial partitions of a network too small to coarsen (each refines the
/// whole network). With the kicks after them, fewer suffice: on the 10k
/// random bench networks (5 seeds) 16 / 8 / 4 runs gave a mean of 992 /
/// 992 / 989 packets (feedforward) and 2,386 / 2,388 / 2,383 (recurrent),
/// in 0.039 / 0.037 / 0.029 s and 0.080 / 0.057 / 0.061 s a mapping.
const INITIAL_RUNS_UNCOARSENED: usize = 4;
/// [`fm_hyper`]'s passes per level and moves past a pass's best.
const FM_PASSES: usize = 3;
/// See [`FM_PASSES`].
const FM_PATIENCE: usize = 100;
/// [`fm_hyper`]'s work limit per level: net visits per pin of the level.
const FM_WORK_PER_PIN: u64 = 40;
/// The limit on levels of more than [`FM_LARGE_PINS`] pins that are not
/// locally connected. On the random 100k bench network, 40 / 100 / 250 /
/// 500 / 1,000 visits per pin gave 24,526 / 24,553 / 23,922 / 23,866 /
/// 23,857 packets in 0.54 / 0.57 / 0.68 / 0.75 / 0.82 s (the mean of 4
/// seeds 24,582 -> 23,949 at 250); on the 10k networks the longer search
/// costs up to half the mapping time more, against a KaHyPar that takes
/// only tenths of a second there, so small levels keep
/// [`FM_WORK_PER_PIN`].
const FM_WORK_PER_PIN_LARGE: u64 = 250;
/// See [`FM_WORK_PER_PIN_LARGE`].
const FM_LARGE_PINS: usize = 20_000;
/// The limit on levels whose nets have at most [`FM_LOCAL_PINS_PER_NET`]
/// pins on average (locally connected networks), where a longer search
/// pays: `cargo bench -p spikeforge-mapper` (docs/benchmarks.md).
const FM_WORK_PER_PIN_LOCAL: u64 = 200;
/// See [`FM_WORK_PER_PIN_LOCAL`].
pub(crate) const FM_LOCAL_PINS_PER_NET: usize = 32;

/// Σ over nets of weight × parts spanned: the (λ−1) objective up to a
/// constant (the tests' independent count; [`refine_hyper`] reads it off
/// its part lists).
fn lambda(h: &Hyper, part: &[u32]) -> f64 {
    let mut seen: Vec<u32> = Vec::new();
    (0..h.w.len())
        .map(|e| {
            seen.clear();
            seen.extend(h.pins(e).iter().map(|&v| part[v as usize]));
            seen.sort_unstable();
            seen.dedup();
            h.w[e] as f64 * seen.len() as f64
        })
        .sum()
}

/// The weight of the graph's edges between parts (each counted twice).
fn cut(g: &Graph, part: &[u32]) -> f64 {
    (0..g.n()).flat_map(|v| g.neighbors(v).filter(move |&(u, _)| part[u] != part[v]).map(|(_, w)| w as f64)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use spikeforge_net::doc::{FixedPointDoc, PopulationDoc, ProjectionDoc};
    use spikeforge_net::{Network, NetworkDoc};

    /// A lowered 3×3 convolution, channel-major as converters emit it: a
    /// `side`×`side` input, `channels` output channels at every position,
    /// each output fed by the 3×3 input window around its position.
    fn conv(side: i64, channels: i64) -> Network {
        let mut syn = Vec::new();
        for c in 0..channels {
            for y in 0..side {
                for x in 0..side {
                    let post = c * side * side + y * side + x;
                    for dy in -1..=1 {
                        for dx in -1..=1 {
                            let (iy, ix) = (y + dy, x + dx);
                            if (0..side).contains(&iy) && (0..side).contains(&ix) {
                                syn.push([iy * side + ix, post, 1 + (c + dy + dx).rem_euclid(5)]);
                            }
                        }
                    }
                }
            }
        }
        let doc = NetworkDoc {
            format: 1,
            name: None,
            fixed_point: FixedPointDoc { weight_bits: 8, potential_bits: 16, accumulator_bits: 24 },
            populations: vec![
                PopulationDoc::input("in", side * side),
                PopulationDoc::neurons("conv", channels * side * side, 10),
            ],
            projections: vec![ProjectionDoc::sparse("in", "conv", syn)],
        };
        Network::from_doc(&doc).expect("valid network")
    }

    #[test]
    fn contraction_merges_pins_and_drops_nets_left_with_one() {
        // Nets {0,1,2}, {1,3}, {0,2}; vertices 0 and 2 merge, 1 and 3 merge.
        let h = Hyper::with_incidence(vec![0, 3, 5, 7], vec![0, 1, 2, 1, 3, 0, 2], vec![1.0, 2.0, 3.0], 4);
        let c = h.contract(&[0, 1, 0, 1], 2);
        assert_eq!(c.w, vec![1.0]);
        assert_eq!(c.pins(0), &[0, 1]);
        assert_eq!(&c.nets[c.vstart[0] as usize..c.vstart[1] as usize], &[0]);
    }

    #[test]
    fn cached_gains_equal_gains_computed_afresh_after_every_move() {
        // Random nets of 2-6 pins over 40 vertices, 5 parts, 300 random moves.
        let (n, k) = (40usize, 5usize);
        let mut rng = spikeforge_net::rng::SplitMix64(7);
        let (mut start, mut pins, mut w) = (vec![0u32], Vec::new(), Vec::new());
        for e in 0..60 {
            let before = pins.len();
            pins.extend((0..2 + rng.next_u64() % 5).map(|_| (rng.next_u64() % n as u64) as u32));
            if close_net(&mut pins, before) {
                start.push(pins.len() as u32);
                w.push(0.25 * (1 + e % 4) as f32);
            }
        }
        let h = Hyper::with_incidence(start, pins, w, n);
        let mut part: Vec<u32> = (0..n).map(|_| (rng.next_u64() % k as u64) as u32).collect();
        let mut cached = HyperGains::new(&h, &part, k);
        let sorted = |g: &mut HyperGains, v: usize, part: &[u32]| {
            let mut out = Vec::new();
            g.gains(v, part, &mut out);
            out.sort_by_key(|&(p, _)| p);
            out
        };
        for _ in 0..300 {
            let v = (rng.next_u64() % n as u64) as usize;
            let (a, b) = (part[v] as usize, (rng.next_u64() % k as u64) as usize);
            if a == b {
                continue;
            }
            part[v] = b as u32;
            cached.moved(v, a, b, &part);
            let mut fresh = HyperGains::new(&h, &part, k);
            for u in 0..n {
                let (c, f) = (sorted(&mut cached, u, &part), sorted(&mut fresh, u, &part));
                assert_eq!(c.len(), f.len(), "vertex {u}: {c:?} vs {f:?}");
                for ((pc, gc), (pf, gf)) in c.iter().zip(&f) {
                    assert!(pc == pf && (gc - gf).abs() < 1e-4, "vertex {u}: {c:?} vs {f:?}");
                }
            }
        }
    }

    #[test]
    fn merging_identical_nets_keeps_every_gain_and_cost() {
        // 80 nets drawn from 12 pin sets over 30 vertices: many copies.
        let (n, k) = (30usize, 4usize);
        let mut rng = spikeforge_net::rng::SplitMix64(11);
        let shapes: Vec<Vec<u32>> = (0..12)
            .map(|_| (0..2 + rng.next_u64() % 6).map(|_| (rng.next_u64() % n as u64) as u32).collect())
            .collect();
        let (mut start, mut pins, mut w) = (vec![0u32], Vec::new(), Vec::new());
        for e in 0..80 {
            let before = pins.len();
            pins.extend(&shapes[(rng.next_u64() % 12) as usize]);
            if close_net(&mut pins, before) {
                start.push(pins.len() as u32);
                w.push(0.5 * (1 + e % 3) as f32);
            }
        }
        let h = Hyper::with_incidence(start, pins, w, n);
        let m = h.merged();
        assert!(m.w.len() <= 12 && m.w.len() < h.w.len(), "{} nets from {}", m.w.len(), h.w.len());
        assert!((m.w.iter().sum::<f32>() - h.w.iter().sum::<f32>()).abs() < 1e-3);
        for _ in 0..20 {
            let part: Vec<u32> = (0..n).map(|_| (rng.next_u64() % k as u64) as u32).collect();
            assert!((lambda(&h, &part) - lambda(&m, &part)).abs() < 1e-3);
            let (mut a, mut b) = (HyperGains::new(&h, &part, k), HyperGains::new(&m, &part, k));
            for v in 0..n {
                let (mut ga, mut gb) = (Vec::new(), Vec::new());
                a.gains(v, &part, &mut ga);
                b.gains(v, &part, &mut gb);
                assert_eq!(ga.len(), gb.len(), "vertex {v}: {ga:?} vs {gb:?}");
                for ((pa, xa), (pb, xb)) in ga.iter().zip(&gb) {
                    assert!(pa == pb && (xa - xb).abs() < 1e-3, "vertex {v}: {ga:?} vs {gb:?}");
                }
            }
        }
    }

    /// A side³ grid, each vertex's net itself and its 26 neighbours, and
    /// the graph of the nets' stars.
    fn grid_hyper(side: usize) -> (Graph, Hyper) {
        let id = |x: usize, y: usize, z: usize| (z * side + y) * side + x;
        let n = side * side * side;
        let (mut start, mut pins, mut w, mut edges) = (vec![0u32], Vec::new(), Vec::new(), Vec::new());
        for v in 0..n {
            let (x, y, z) = (v % side, v / side % side, v / side / side);
            let before = pins.len();
            let near = |c: usize| c.saturating_sub(1)..=(c + 1).min(side - 1);
            for c in near(z) {
                for b in near(y) {
                    for a in near(x) {
                        pins.push(id(a, b, c) as u32);
                    }
                }
            }
            assert!(close_net(&mut pins, before));
            start.push(pins.len() as u32);
            w.push(1.0);
            let wt = 1.0 / (pins.len() - before - 1) as f32;
            edges.extend(pins[before..].iter().filter(|&&u| u as usize != v).map(|&u| (v as u32, u, wt)));
        }
        let vw = (0..n).map(|v| (1, 1 + (v % 3) as u32)).collect();
        (Graph::from_edges(vw, Vec::new(), edges), Hyper::with_incidence(start, pins, w, n))
    }

    #[test]
    fn induced_keeps_the_pins_inside_and_appends_the_dummy() {
        // Nets {0,1,2}, {1,3}, {0,2,3}; vertices 0, 2 and 3 kept.
        let h = Hyper::with_incidence(vec![0, 3, 5, 8], vec![0, 1, 2, 1, 3, 0, 2, 3], vec![1.0, 2.0, 3.0], 4);
        let g = Graph::from_edges(vec![(1, 1); 4], Vec::new(), vec![(0, 1, 1.0), (1, 3, 1.0), (2, 3, 1.0)]);
        let (sg, sh) = induced(&g, &h, &[0, 2, 3], Some((5, 7)));
        assert_eq!(sg.vw, vec![(1, 1), (1, 1), (1, 1), (5, 7)]);
        // Only the edge 2-3 has both ends inside: local 1-2.
        assert_eq!(sg.neighbors(1).collect::<Vec<_>>(), vec![(2, 1.0)]);
        assert_eq!(sg.neighbors(3).count(), 0, "the dummy is isolated");
        // {1,3} keeps one pin and goes; {0,1,2} -> {0,1}; {0,2,3} -> {0,1,2}.
        assert_eq!(
            (0..sh.w.len()).map(|e| (sh.pins(e).to_vec(), sh.w[e])).collect::<Vec<_>>(),
            vec![(vec![0, 1], 1.0), (vec![0, 1, 2], 3.0)]
        );
    }

    #[test]
    fn recursive_bisection_fills_every_part_within_capacity_and_beats_growing() {
        // 7 parts (odd splits: the dummy) with 5% room over an even split.
        let (g, h) = grid_hyper(12);
        let k = 7;
        let (tn, ts) = g.vw.iter().fold((0u32, 0u32), |(a, b), w| (a + w.0, b + w.1));
        let cap = (tn.div_ceil(k as u32) * 105 / 100, ts.div_ceil(k as u32) * 105 / 100);
        let part = bisection_start(&g, &h, k, cap, u32::MAX, SEED);
        for p in 0..k as u32 {
            let (a, b) = (0..g.n()).filter(|&v| part[v] == p).fold((0, 0), |(a, b), v| (a + g.vw[v].0, b + g.vw[v].1));
            assert!(a > 0 && a <= cap.0 && b <= cap.1, "part {p}: {a} neurons, {b} entries over {cap:?}");
        }
        // The k-way growth from the heaviest vertex, refined the same way.
        let order: Vec<usize> = (0..g.n()).collect();
        let mut grown = initial(&g, k, cap, u32::MAX, &order);
        refine(&g, &mut grown, k, cap, u32::MAX, 4);
        refine_then_fm(&g, &h, &mut grown, k, cap, u32::MAX, 4);
        let (rb, gr) = (lambda(&h, &part), lambda(&h, &grown));
        assert!(rb < gr, "recursive bisection {rb} against growth {gr}");
    }

    #[test]
    fn kicks_never_raise_traffic_and_keep_the_capacities() {
        // Random nets over 120 vertices of unequal synapse weights, 6 parts
        // with 2% room over an even split of the synapses: most swaps of
        // unequal vertices would overfill one.
        let (n, k) = (120usize, 6usize);
        for seed in 0..10 {
            let mut rng = spikeforge_net::rng::SplitMix64(seed);
            let (mut start, mut pins, mut w) = (vec![0u32], Vec::new(), Vec::new());
            for _ in 0..200 {
                let before = pins.len();
                pins.extend((0..2 + rng.below(8)).map(|_| rng.below(n as u64) as u32));
                if close_net(&mut pins, before) {
                    start.push(pins.len() as u32);
                    w.push(1.0);
                }
            }
            let h = Hyper::with_incidence(start, pins, w, n);
            let vw: Vec<W> = (0..n).map(|v| (1, 1 + (v * 7 % 20) as u32)).collect();
            let total: u32 = vw.iter().map(|w| w.1).sum();
            let g = Graph { vw, set: Vec::new(), start: vec![0; n + 1], adj: Vec::new(), ew: Vec::new() };
            let cap = (n as u32 / k as u32 + 4, total / k as u32 * 102 / 100);
            let fits = |part: &[u32]| {
                (0..k as u32).all(|p| {
                    let (a, b) =
                        (0..n).filter(|&v| part[v] == p).fold((0, 0), |(a, b), v| (a + g.vw[v].0, b + g.vw[v].1));
                    a <= cap.0 && b <= cap.1
                })
            };
            // Heaviest first onto the lightest part: a start that fits.
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by_key(|&v| (std::cmp::Reverse(g.vw[v].1), v));
            let (mut part, mut load) = (vec![0u32; n], vec![0u32; k]);
            for v in order {
                let p = (0..k).min_by_key(|&p| (load[p], p)).expect("parts");
                part[v] = p as u32;
                load[p] += g.vw[v].1;
            }
            assert!(fits(&part), "seed {seed}: the start fits");
            let mut kicked = part.clone();
            let made = kick(&g, &mut kicked, k, cap, 0, 200, &mut rng);
            assert!(made > 0 && fits(&kicked), "seed {seed}: {made} swaps");
            fm_hyper(&g, &h, &mut part, k, cap, 0, FM_PASSES, FM_PATIENCE);
            let before = lambda(&h, &part);
            // Few FM passes after each kick: a kick's result is often worse.
            let mut again = part.clone();
            kick_and_search(&g, &h, &mut part, k, cap, 0, 30, seed);
            // Two chains on two threads, and still one answer.
            kick_and_search(&g, &h, &mut again, k, cap, 0, 30, seed);
            assert_eq!(part, again, "seed {seed}: the kicks depend on the threads");
            let after = lambda(&h, &part);
            assert!(after <= before, "seed {seed}: λ {before} → {after}");
            assert!(fits(&part), "seed {seed}: a kick overfilled a part");
        }
    }

    /// The fine graph of an 8x8 convolution of 4 channels, the four
    /// quadrants of its image as parts (all channels of a position
    /// together), and the same with every `every`-th neuron displaced to
    /// the next part.
    fn conv_quadrants(every: usize) -> (Fine, Vec<u32>, Vec<u32>) {
        let conn = Conn::new(&conv(8, 4));
        let fine = prepare(&conn, &vec![1.0; conn.n], false);
        let n = fine.g.n();
        let quadrant = |v: usize| ((v % 64) / 8 / 4 * 2 + (v % 8) / 4) as u32;
        let clean: Vec<u32> = (0..n).map(quadrant).collect();
        let displaced = (0..n).map(|v| if v % every == 0 { (quadrant(v) + 1) % 4 } else { quadrant(v) }).collect();
        (fine, clean, displaced)
    }

    #[test]
    fn hypergraph_refinement_lowers_traffic_within_capacities() {
        let (fine, clean, mut part) = conv_quadrants(7);
        let h = fine.h.as_ref().expect("small nets are rated");
        let n = fine.g.n();
        let cap = ((n / 4 + 8) as u32, u32::MAX);
        let before = lambda(h, &part);
        refine_hyper(&fine.g, h, &mut part, 4, cap, 0, 8);
        let after = lambda(h, &part);
        assert!(after <= 1.25 * lambda(h, &clean), "λ {before} → {after}, clean {}", lambda(h, &clean));
        for p in 0..4 {
            assert!(part.iter().filter(|&&q| q == p).count() as u32 <= cap.0);
        }
    }

    #[test]
    fn flow_refinement_removes_the_traffic_it_reports_within_capacities() {
        // Every 5th neuron displaced: stretches of boundary that a minimum
        // cut straightens.
        let (fine, _, mut part) = conv_quadrants(5);
        let h = fine.h.as_ref().expect("small nets are rated");
        let (g, n) = (&fine.g, fine.g.n());
        let syn: u32 = g.vw.iter().map(|w| w.1).sum();
        let cap = ((n / 4 + 8) as u32, syn / 4 + syn / 10);
        let before = lambda(h, &part);
        let gain = flow_refine(g, h, &mut part, 4, cap);
        let after = lambda(h, &part);
        assert!(gain > 0.0, "no gain from λ {before}");
        assert!((before - after - gain).abs() < 1e-3 * before, "λ {before} → {after}, reported gain {gain}");
        let (used, _) = loads(g, &part, 4, 0);
        for u in used {
            assert!(u.0 <= cap.0 && u.1 <= cap.1, "{u:?} over {cap:?}");
        }
    }

    #[test]
    fn channels_of_one_position_share_a_core() {
        // Channel-major ids: the graph's path through a net's targets links
        // neighbours of one channel; the nets say that all channels at a
        // position have the same sources and belong together.
        let (side, channels, k) = (16i64, 8i64, 8usize);
        let net = conv(side, channels);
        let conn = Conn::new(&net);
        let rate = vec![1.0; conn.n];
        let n = (side * side * channels) as u32;
        let part = partition(&conn, &rate, k, (n / k as u32 + n / 50, u32::MAX), 1);
        let base = (side * side) as usize;
        let together =
            (0..base).filter(|&p| (0..channels as usize).all(|c| part[base + c * base + p] == part[base + p])).count();
        assert!(together * 10 >= base * 8, "{together} of {base} positions on one core");
    }
}
