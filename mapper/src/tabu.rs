//! Tabu search on a finished partition of a small network.
//!
//! FM (`State::fm`) stops in a local minimum of single moves; on a network
//! whose cores are nearly full (the 10k feedforward bench network: 192
//! neurons on 14 cores of 14) almost every improving step is a swap of two
//! neurons, which single moves reach only through a core with room. This
//! search takes the best move or swap at every step, even when it raises
//! the traffic, and forbids the neurons it moved from moving again for a
//! few steps (their tenure), so it walks out of local minima without
//! undoing its last steps (Glover's tabu search; for balanced graph
//! partitioning, Benlic and Hao, "An effective multilevel tabu search
//! approach for balanced graph partitioning", 2011). It keeps the best
//! partition it saw.
//!
//! Gains are kept per neuron and part, updated at every step from the pin
//! counts of the nets (the fan-out hypergraph of `conn.rs`, weighted by
//! rate): moving `v` from `a` to `b` gains `leave[v] - enter[v][b]`, where
//! `leave[v]` weighs the nets of which `v` is the only pin in `a` and
//! `enter[v][b]` those with no pin in `b`. A swap of `u` (in `a`) and `v`
//! (in `b`) gains the sum of both moves less, on every net holding both,
//! the net's weight once for each of the two that is alone in its part.
//! Swaps are looked for pair of parts by pair of parts, in order of the
//! best moves between them, among the neurons sorted by their move's gain,
//! only while they can beat the best step found.
//!
//! The neurons and synapse entries of a step are checked here. Every other
//! capacity (axons, routes, parameter sets, input routes) is checked on
//! the exact bookkeeping (the step is made on the `State` and undone if it
//! does not fit) unless bounds that hold for every partition show that it
//! cannot overflow. The result is rebuilt as a `State` and kept only if it
//! fits and carries less traffic.

use crate::multilevel::{close_net, incidence};
use crate::partition::State;
use spikeforge_net::rng::SplitMix64;

/// Gains closer than this are ties (rates are floats).
const EPS: f64 = 1e-9;

/// The fan-out hypergraph over the computed neurons, with pin counts per part.
struct Tabu<'s, 'a> {
    k: usize,
    /// Neuron id of each vertex.
    vert: Vec<u32>,
    part: Vec<u32>,
    /// `pins[pin_start[e]..pin_start[e + 1]]`: the vertices of net `e`.
    pin_start: Vec<u32>,
    pins: Vec<u32>,
    /// Rate of each net's source.
    w: Vec<f64>,
    /// `vnets[vnet_start[v]..vnet_start[v + 1]]`: the nets of vertex `v`.
    vnet_start: Vec<u32>,
    vnets: Vec<u32>,
    /// `phi[e * k + b]`: pins of net `e` in part `b`.
    phi: Vec<u32>,
    /// Weight of the nets of which `v` is the only pin in its part.
    leave: Vec<f64>,
    /// `enter[v * k + b]`: weight of `v`'s nets with no pin in `b`.
    enter: Vec<f64>,
    /// Weight of the nets of which `v` is one of two pins in its part.
    leave2: Vec<f64>,
    /// `enter1[v * k + b]`: weight of `v`'s nets with one pin in `b`.
    enter1: Vec<f64>,
    /// Synapse entries of each vertex.
    fan: Vec<u32>,
    load_n: Vec<u32>,
    load_s: Vec<u32>,
    /// A stamp per net, for the nets two vertices share.
    mark: Vec<u64>,
    stamp: u64,
    /// Whether a capacity other than neurons and synapse entries may bind
    /// (see [`others_may_bind`]): then every step is checked on `st`.
    check: bool,
    st: &'s mut State<'a>,
}

/// A step: a move of a vertex to a part, or a swap of two vertices.
#[derive(Clone, Copy)]
enum Step {
    Move(u32, u32),
    Swap(u32, u32),
}

impl<'s, 'a> Tabu<'s, 'a> {
    fn new(st: &'s mut State<'a>) -> Tabu<'s, 'a> {
        let conn = st.conn();
        let rate = st.rate();
        let k = st.k;
        let vert: Vec<u32> = conn.computed().collect();
        let mut vid = vec![u32::MAX; conn.n];
        for (i, &v) in vert.iter().enumerate() {
            vid[v as usize] = i as u32;
        }
        let part: Vec<u32> = vert.iter().map(|&v| st.part[v as usize]).collect();
        let (mut pin_start, mut pins, mut w) = (vec![0u32], Vec::new(), Vec::new());
        for s in 0..conn.n as u32 {
            let r = rate[s as usize];
            if r == 0.0 {
                continue;
            }
            let before = pins.len();
            pins.extend(conn.targets(s).iter().map(|&t| vid[t as usize]));
            // A computed source's own part is one of its net's: (λ−1) then
            // counts the other parts; an input's net is its targets (λ). A
            // net of one pin costs the same wherever it is: dropped.
            if !conn.is_input[s as usize] {
                pins.push(vid[s as usize]);
            }
            if !close_net(&mut pins, before) {
                continue;
            }
            pin_start.push(pins.len() as u32);
            w.push(r);
        }
        let n = vert.len();
        let (vnet_start, vnets) = incidence(&pin_start, &pins, n);
        let fan: Vec<u32> = vert.iter().map(|&v| conn.fanin[v as usize]).collect();
        let (mut load_n, mut load_s) = (vec![0u32; k], vec![0u32; k]);
        for (v, &p) in part.iter().enumerate() {
            load_n[p as usize] += 1;
            load_s[p as usize] += fan[v];
        }
        let e_count = w.len();
        let mut s = Tabu {
            k,
            vert,
            part,
            pin_start,
            pins,
            w,
            vnet_start,
            vnets,
            phi: vec![0; e_count * k],
            leave: vec![0.0; n],
            enter: vec![0.0; n * k],
            leave2: vec![0.0; n],
            enter1: vec![0.0; n * k],
            fan,
            load_n,
            load_s,
            mark: vec![0; e_count],
            stamp: 0,
            check: others_may_bind(st),
            st,
        };
        for e in 0..e_count {
            for i in s.pin_start[e]..s.pin_start[e + 1] {
                let p = s.part[s.pins[i as usize] as usize] as usize;
                s.phi[e * k + p] += 1;
            }
        }
        for v in 0..n {
            let a = s.part[v] as usize;
            for i in s.vnet_start[v]..s.vnet_start[v + 1] {
                let e = s.vnets[i as usize] as usize;
                let w = s.w[e];
                match s.phi[e * k + a] {
                    1 => s.leave[v] += w,
                    2 => s.leave2[v] += w,
                    _ => {}
                }
                for b in 0..k {
                    match s.phi[e * k + b] {
                        0 => s.enter[v * k + b] += w,
                        1 => s.enter1[v * k + b] += w,
                        _ => {}
                    }
                }
            }
        }
        s
    }

    fn nets_of(&self, v: usize) -> std::ops::Range<usize> {
        self.vnet_start[v] as usize..self.vnet_start[v + 1] as usize
    }

    /// The gain of moving `v` to `b`, and the second-level gain: the
    /// weight of the nets the move leaves with one pin of `v`'s part (one
    /// move from leaving it) less those it takes from one pin in `b` to two.
    fn gain(&self, v: usize, b: usize) -> (f64, f64) {
        let i = v * self.k + b;
        (self.leave[v] - self.enter[i], self.leave2[v] - self.enter1[i])
    }

    /// What a swap of `u` and `v` gains less than the sum of their moves:
    /// on every net holding both, its weight once for each of the two that
    /// is alone in its part (the moves count a net left, the swap does not).
    // Not inlined: inlined into the step's loop it cost the 10k
    // feedforward mapping 0.027 -> 0.030 s (register pressure in the scan).
    #[inline(never)]
    fn shared(&mut self, u: usize, v: usize) -> f64 {
        let k = self.k;
        let (a, b) = (self.part[u] as usize, self.part[v] as usize);
        self.stamp += 1;
        for i in self.nets_of(u) {
            self.mark[self.vnets[i] as usize] = self.stamp;
        }
        let mut c = 0.0;
        for i in self.nets_of(v) {
            let e = self.vnets[i] as usize;
            if self.mark[e] == self.stamp {
                let alone = (self.phi[e * k + a] == 1) as u32 + (self.phi[e * k + b] == 1) as u32;
                c += self.w[e] * alone as f64;
            }
        }
        c
    }

    /// Moves vertex `x` to part `b`, keeping pin counts and both levels
    /// of gains of every pin of its nets.
    fn shift(&mut self, x: usize, b: usize) {
        let k = self.k;
        let a = self.part[x] as usize;
        for i in self.nets_of(x) {
            let e = self.vnets[i] as usize;
            let w = self.w[e];
            let (ps, pe) = (self.pin_start[e] as usize, self.pin_start[e + 1] as usize);
            let (pa, pb) = (self.phi[e * k + a], self.phi[e * k + b]);
            self.phi[e * k + a] = pa - 1;
            self.phi[e * k + b] = pb + 1;
            // Every pin's view of parts `a` and `b` (none, one pin).
            let (ea, e1a) = match pa {
                1 => (w, -w),
                2 => (0.0, w),
                _ => (0.0, 0.0),
            };
            let (eb, e1b) = match pb {
                0 => (-w, w),
                1 => (0.0, -w),
                _ => (0.0, 0.0),
            };
            if ea != 0.0 || e1a != 0.0 || eb != 0.0 || e1b != 0.0 {
                for &y in &self.pins[ps..pe] {
                    let y = y as usize * k;
                    self.enter[y + a] += ea;
                    self.enter1[y + a] += e1a;
                    self.enter[y + b] += eb;
                    self.enter1[y + b] += e1b;
                }
            }
            // The pins left in `a` and those already in `b` (x's own
            // levels are recomputed below).
            let (la, l2a) = match pa {
                2 => (w, -w),
                3 => (0.0, w),
                _ => (0.0, 0.0),
            };
            let (lb, l2b) = match pb {
                1 => (-w, w),
                2 => (0.0, -w),
                _ => (0.0, 0.0),
            };
            if la != 0.0 || l2a != 0.0 || lb != 0.0 || l2b != 0.0 {
                for &y in &self.pins[ps..pe] {
                    let (yi, py) = (y as usize, self.part[y as usize] as usize);
                    if yi == x {
                        continue;
                    }
                    if py == a {
                        self.leave[yi] += la;
                        self.leave2[yi] += l2a;
                    } else if py == b {
                        self.leave[yi] += lb;
                        self.leave2[yi] += l2b;
                    }
                }
            }
        }
        self.part[x] = b as u32;
        let (mut l1, mut l2) = (0.0, 0.0);
        for i in self.nets_of(x) {
            let e = self.vnets[i] as usize;
            match self.phi[e * k + b] {
                1 => l1 += self.w[e],
                2 => l2 += self.w[e],
                _ => {}
            }
        }
        (self.leave[x], self.leave2[x]) = (l1, l2);
        self.load_n[a] -= 1;
        self.load_n[b] += 1;
        self.load_s[a] -= self.fan[x];
        self.load_s[b] += self.fan[x];
    }

    /// Makes `step` on the exact bookkeeping; undoes it and returns false
    /// when a capacity does not hold.
    fn fits_on_state(&mut self, step: Step) -> bool {
        if !self.check {
            return true;
        }
        // (neuron, from, to) of each move of the step.
        let (moves, len) = match step {
            Step::Move(v, b) => ([(self.vert[v as usize], self.part[v as usize], b); 2], 1),
            Step::Swap(u, v) => {
                let (a, b) = (self.part[u as usize], self.part[v as usize]);
                ([(self.vert[u as usize], a, b), (self.vert[v as usize], b, a)], 2)
            }
        };
        let moves = &moves[..len];
        for &(n, _, to) in moves {
            self.st.apply(n, to);
        }
        if self.st.fits() {
            return true;
        }
        for &(n, from, _) in moves.iter().rev() {
            self.st.apply(n, from);
        }
        false
    }
}

/// Whether axons, routes, parameter sets or input routes could overflow
/// in some partition into `st.k` parts of at most `caps.neurons` neurons
/// each, by bounds that hold for every partition: a core's axons are at
/// most the sources with targets, its routes at most its neurons times the
/// parts a source can reach, its parameter sets at most its neurons (and
/// the network's), the input routes at most the parts each input reaches.
fn others_may_bind(st: &State<'_>) -> bool {
    let (conn, caps, k) = (st.conn(), st.caps(), st.k as u64);
    let reach = |s: u32| (conn.targets(s).len() as u64).min(k);
    let sources = (0..conn.n as u32).filter(|&s| !conn.targets(s).is_empty()).count() as u64;
    let max_reach = conn.computed().map(reach).max().unwrap_or(0);
    let input_routes: u64 = (0..conn.n as u32).filter(|&s| conn.is_input[s as usize]).map(reach).sum();
    sources > caps.axons as u64
        || caps.neurons as u64 * max_reach > caps.routes as u64
        || (conn.sets as u64).min(caps.neurons as u64) > caps.param_sets as u64
        || input_routes > caps.input_routes
}

/// The best step offered by its score (gain plus the weighted
/// second-level gain), ties broken by a key that is random per step (a
/// multiplicative hash with a salt drawn each step: no division per tie);
/// with the step's gain, which is what the traffic changes by.
struct Pick {
    score: f64,
    gain: f64,
    key: u64,
    step: Option<Step>,
}

impl Pick {
    fn offer(&mut self, score: f64, gain: f64, key: u64, step: Step) {
        if self.step.is_none() || score > self.score + EPS || (score >= self.score - EPS && key > self.key) {
            *self = Pick { score, gain, key, step: Some(step) };
        }
    }

    /// The least score an offer must have to be taken.
    fn floor(&self) -> f64 {
        if self.step.is_none() {
            f64::NEG_INFINITY
        } else {
            self.score - EPS
        }
    }
}

/// One side of a swap: (score, gain, vertex).
type Side = (f64, f64, u32);

/// Steps per computed neuron (two chains of half each). Mean of 5 seeds
/// on the 10k bench networks (docs/benchmarks.md): 4, 16, 32 and 64 steps
/// per neuron gave 983, 980, 978 and 977 packets on the feedforward one
/// before the second-level gains; 16 with them gave 971.
const STEPS_PER_NEURON: usize = 16;

/// The work of all steps at most: a step reads every neuron's gain to
/// every part (n × k) and bounds and sorts the pairs of parts (counted as
/// 4k²). The 10k feedforward and recurrent bench networks need about
/// 1.1·10^7 for their 16 steps a neuron; a network of 300 neurons on 64
/// cores would get 1.4 steps a neuron, and so no search.
const WORK: u64 = 15_000_000;

/// Tenures are drawn from [n / TENURE_DIV, 3n / TENURE_DIV] for n neurons
/// (at least 2 and 4).
/// On the 10k networks (mean of 5 seeds) fixed tenures suited one network
/// each: 3–10 the recurrent (2,320, local2d 891), 10–30 the local (869,
/// recurrent 2,345); n/40 to 3n/40 gave 971 / 869 / 2,324 on feedforward,
/// local2d and recurrent, n/60 to 3n/60 972 / 878 / 2,321.
const TENURE_DIV: u64 = 40;

/// The steps of the search for `n` neurons in `k` parts within [`WORK`];
/// `None` below two a neuron, which is not a search (the kicks of
/// `multilevel.rs` then run instead).
pub(crate) fn steps(n: usize, k: usize) -> Option<usize> {
    let per_step = (n * k + 4 * k * k) as u64;
    let steps = (STEPS_PER_NEURON * n).min((WORK / per_step.max(1)) as usize);
    (steps >= 2 * n && n > 0).then_some(steps)
}

/// The tabu search on a partition of a small network (at most
/// `multilevel::V_CYCLE_MAX_SYNAPSES` synapses; `map` runs it where the
/// network is not locally connected, in place of the kicks of
/// `multilevel.rs`), within [`WORK`]; larger networks are returned as
/// they are. On the 10k local bench network it took the mean of 5 seeds
/// from 906 to 869 packets, but for 1.6x the mapping time, which KaHyPar's
/// time does not leave room for (docs/benchmarks.md).
pub fn on_small(st: State<'_>, seed: u64) -> State<'_> {
    let n = st.computed_neurons();
    if st.conn_pins() > crate::multilevel::V_CYCLE_MAX_SYNAPSES || n == 0 || !st.fits() {
        return st;
    }
    let Some(steps) = steps(n, st.k) else { return st };
    let n = n as u64;
    search(st, steps, ((n / TENURE_DIV).max(2), (3 * n / TENURE_DIV).max(4)), seed)
}

/// Runs `iterations` steps of tabu search on `st` (which fits) and leaves
/// it at the partition of least traffic seen; every capacity holds
/// throughout. Tenures are drawn from `tenure` (inclusive) with `seed`.
pub fn search<'a>(st: State<'a>, iterations: usize, tenure: (u64, u64), seed: u64) -> State<'a> {
    let (conn, rate, caps, k) = (st.conn(), st.rate(), st.caps(), st.k);
    if k < 2 || iterations == 0 {
        return st;
    }
    let start = st.traffic();
    // Two chains of half the steps each, on two threads, from two seeds;
    // the better wins (the first on a tie), so the result does not depend
    // on the threads' timing.
    let chain = |seed: u64, steps: usize| -> Option<(f64, Vec<u32>)> {
        let mut work = st.clone();
        let mut s = Tabu::new(&mut work);
        let part = run(&mut s, steps, tenure, start, seed)?;
        let found = State::new(conn, rate, caps, part, k);
        debug_assert!(found.fits());
        let traffic = found.traffic();
        (found.fits() && traffic < start).then_some((traffic, found.part))
    };
    let (a, b) =
        rayon::join(|| chain(seed, iterations.div_ceil(2)), || chain(seed ^ 0x9E37_79B9_7F4A_7C15, iterations / 2));
    let winner = match (a, b) {
        (Some(a), Some(b)) => Some(if b.0 < a.0 { b } else { a }),
        (a, b) => a.or(b),
    };
    match winner {
        Some((_, part)) => State::new(conn, rate, caps, part, k),
        None => st,
    }
}

/// The search proper; the neuron-indexed partition of least traffic, if
/// it is below `start`.
fn run(s: &mut Tabu<'_, '_>, iterations: usize, tenure: (u64, u64), start: f64, seed: u64) -> Option<Vec<u32>> {
    const HASH: u64 = 0x9E37_79B9_7F4A_7C15;
    let (n, k) = (s.vert.len(), s.k);
    let caps = s.st.caps();
    // The second-level gain breaks ties of the first: its weight keeps it
    // under half the lightest net for any vertex, so with equal rates it
    // decides only between equal gains (with unequal rates also between
    // gains closer than that).
    let heaviest: f64 = (0..n).map(|v| s.nets_of(v).map(|i| s.w[s.vnets[i] as usize]).sum::<f64>()).fold(0.0, f64::max);
    let lightest = s.w.iter().copied().fold(f64::INFINITY, f64::min);
    if heaviest == 0.0 {
        return None;
    }
    let d = lightest / (2.0 * heaviest + 1.0);
    let mut rng = SplitMix64(seed);
    let mut until = vec![0u64; n];
    let (mut cost, mut best, mut best_part) = (start, start, None);
    // `best_to[a * k + b]`: the best score of a free vertex of `a` moving to `b`.
    let mut best_to = vec![f64::NEG_INFINITY; k * k];
    let mut pairs: Vec<(f64, u64, u32)> = Vec::with_capacity(k * k / 2);
    let (mut open, mut free_s) = (Vec::with_capacity(k), vec![0u32; k]);
    // The free vertices of each part, `members[m_start[a]..m_start[a + 1]]`.
    let (mut m_start, mut members) = (vec![0usize; k + 1], vec![0u32; n]);
    // Per swap side: (score, gain, vertex).
    let (mut la, mut lb): (Vec<Side>, Vec<Side>) = (Vec::new(), Vec::new());
    let mut row = vec![0.0f64; k];
    for it in 1..=iterations as u64 {
        let mut pick = Pick { score: f64::NEG_INFINITY, gain: 0.0, key: 0, step: None };
        let salt = rng.next_u64() | 1;
        best_to.fill(f64::NEG_INFINITY);
        open.clear();
        for (b, (f, (&ln, &ls))) in free_s.iter_mut().zip(s.load_n.iter().zip(&s.load_s)).enumerate() {
            *f = caps.synapses - ls;
            if ln < caps.neurons {
                open.push(b);
            }
        }
        // A tabu vertex may move only to a new best (aspiration).
        let aspire = cost - best + EPS;
        for (v, &u) in until.iter().enumerate() {
            let a = s.part[v] as usize;
            let free = u < it;
            let (leave, fv) = (s.leave[v] + d * s.leave2[v], s.fan[v]);
            for ((r, &en), &en1) in row.iter_mut().zip(&s.enter[v * k..(v + 1) * k]).zip(&s.enter1[v * k..(v + 1) * k])
            {
                *r = leave - (en + d * en1);
            }
            if free {
                for (m, &r) in best_to[a * k..(a + 1) * k].iter_mut().zip(&row) {
                    *m = m.max(r);
                }
            }
            // This vertex's best move to a part with room (the first on a tie).
            let (mut c, mut to) = (f64::NEG_INFINITY, usize::MAX);
            for &b in &open {
                if b != a && fv <= free_s[b] && row[b] > c {
                    (c, to) = (row[b], b);
                }
            }
            if to == usize::MAX || c < pick.floor() {
                continue;
            }
            let g = s.gain(v, to).0;
            if free || g > aspire {
                pick.offer(c, g, (v as u64 ^ salt).wrapping_mul(HASH), Step::Move(v as u32, to as u32));
            }
        }
        // Swaps of free vertices: pairs of parts by their bound (the sum of
        // the best moves each way); within a pair, every swap whose two
        // moves could beat the best step so far (at most `n` swaps scored a
        // step). A swap's score is its gain plus the weighted sum of both
        // moves' second-level gains.
        pairs.clear();
        for a in 0..k {
            for b in a + 1..k {
                let bound = best_to[a * k + b] + best_to[b * k + a];
                if bound > pick.floor() + 2.0 * EPS {
                    pairs.push((bound, ((a * k + b) as u64 ^ salt).wrapping_mul(HASH), (a * k + b) as u32));
                }
            }
        }
        if !pairs.is_empty() {
            pairs.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
            m_start.fill(0);
            for (&u, &a) in until.iter().zip(&s.part) {
                if u < it {
                    m_start[a as usize + 1] += 1;
                }
            }
            for a in 0..k {
                m_start[a + 1] += m_start[a];
            }
            let mut fill = m_start.clone();
            for (v, (&u, &a)) in until.iter().zip(&s.part).enumerate() {
                if u < it {
                    members[fill[a as usize]] = v as u32;
                    fill[a as usize] += 1;
                }
            }
        }
        let mut scored = 0;
        'pairs: for &(bound, _, ab) in &pairs {
            let (a, b) = (ab as usize / k, ab as usize % k);
            if bound <= pick.floor() + 2.0 * EPS {
                break;
            }
            let list = |from: usize, to: usize, l: &mut Vec<Side>| {
                l.clear();
                l.extend(members[m_start[from]..m_start[from + 1]].iter().map(|&u| {
                    let (g, g2) = s.gain(u as usize, to);
                    (g + d * g2, g, u)
                }));
                l.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.2.cmp(&y.2)));
            };
            list(a, b, &mut la);
            list(b, a, &mut lb);
            for &(cu, gu, u) in &la {
                if cu + lb[0].0 <= pick.floor() + 2.0 * EPS {
                    break;
                }
                for &(cv, gv, v) in &lb {
                    if cu + cv <= pick.floor() + 2.0 * EPS {
                        break;
                    }
                    let (ui, vi) = (u as usize, v as usize);
                    let sa = s.load_s[a] - s.fan[ui] + s.fan[vi];
                    let sb = s.load_s[b] - s.fan[vi] + s.fan[ui];
                    if sa > caps.synapses || sb > caps.synapses {
                        continue;
                    }
                    let shared = s.shared(ui, vi);
                    let key = ((ui * n + vi) as u64 ^ salt).wrapping_mul(HASH);
                    pick.offer(cu + cv - shared, gu + gv - shared, key, Step::Swap(u, v));
                    scored += 1;
                    if scored >= n {
                        break 'pairs;
                    }
                }
            }
        }
        // Nothing free to move: wait for the tenures to run out.
        let Some(step) = pick.step else { continue };
        let fits = s.fits_on_state(step);
        let (first, second) = match step {
            Step::Move(v, b) => {
                if fits {
                    s.shift(v as usize, b as usize);
                }
                (v, None)
            }
            Step::Swap(u, v) => {
                if fits {
                    let (a, b) = (s.part[u as usize] as usize, s.part[v as usize] as usize);
                    s.shift(u as usize, b);
                    s.shift(v as usize, a);
                }
                (u, Some(v))
            }
        };
        // The step's neurons wait out a tenure, also when another capacity
        // (axons, routes, parameter sets) refused the step.
        for v in std::iter::once(first).chain(second) {
            until[v as usize] = it + tenure.0 + rng.below(tenure.1 - tenure.0 + 1);
        }
        if !fits {
            continue;
        }
        cost -= pick.gain;
        if cost < best - EPS {
            best = cost;
            best_part = Some(s.part.clone());
        }
    }
    // Neuron-indexed (`st` is not kept in step when no other capacity is checked).
    best_part.map(|bp| {
        let mut p = s.st.part.clone();
        for (&v, &a) in s.vert.iter().zip(&bp) {
            p[v as usize] = a;
        }
        p
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conn::Conn;
    use crate::partition::{fill, Caps};
    use spikeforge_net::doc::{FixedPointDoc, PopulationDoc, ProjectionDoc};
    use spikeforge_net::{Network, NetworkDoc};

    /// An input layer and three layers of `w` neurons, each fed by `d`
    /// random neurons of the layer below (the bench's feedforward family).
    fn layers(w: i64, d: usize, seed: u64) -> Network {
        let mut rng = SplitMix64(seed);
        let names = ["l0", "l1", "l2", "l3"];
        let mut populations = vec![PopulationDoc::input("l0", w)];
        populations.extend(names[1..].iter().map(|n| PopulationDoc::neurons(n, w, 10)));
        let projections = (0..3)
            .map(|l| {
                let syn = (0..w)
                    .flat_map(|post| (0..d).map(move |_| post))
                    .map(|post| [rng.below(w as u64) as i64, post, 1])
                    .collect();
                ProjectionDoc::sparse(names[l], names[l + 1], syn)
            })
            .collect();
        let doc = NetworkDoc {
            format: 1,
            name: None,
            fixed_point: FixedPointDoc { weight_bits: 8, potential_bits: 16, accumulator_bits: 24 },
            populations,
            projections,
        };
        Network::from_doc(&doc).expect("valid network")
    }

    fn caps(neurons: u32, axons: u32) -> Caps {
        Caps {
            neurons,
            synapses: 1 << 20,
            axons,
            routes: 1 << 20,
            param_sets: 16,
            input_routes: 1 << 20,
            cores: u32::MAX,
        }
    }

    /// Rates that differ by neuron, some zero: gains are weighted.
    fn rates(n: usize) -> Vec<f64> {
        (0..n).map(|i| if i % 11 == 3 { 0.0 } else { 0.25 + (i % 7) as f64 * 0.5 }).collect()
    }

    fn close(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-9)
    }

    #[test]
    fn gains_stay_exact_through_moves_and_swaps() {
        let net = layers(24, 6, 1);
        let conn = Conn::new(&net);
        let rate = rates(conn.n);
        let order: Vec<u32> = conn.computed().collect();
        let (part, k) = fill(&conn, &caps(10, 1 << 20), &order).unwrap();
        let mut exact = State::new(&conn, &rate, caps(10, 1 << 20), part, k);
        let mut work = exact.clone();
        let mut t = Tabu::new(&mut work);
        let n = t.vert.len();
        let mut rng = SplitMix64(7);
        for step in 0..300 {
            let before = exact.traffic();
            let v = rng.below(n as u64) as usize;
            let a = t.part[v] as usize;
            if step % 2 == 0 {
                let b = (a + 1 + rng.below(k as u64 - 1) as usize) % k;
                let g = t.gain(v, b).0;
                t.shift(v, b);
                exact.apply(t.vert[v], b as u32);
                assert!((before - exact.traffic() - g).abs() < 1e-9, "move {step}: gain {g}");
            } else {
                let Some(u) = (0..n).map(|i| (v + i) % n).find(|&u| t.part[u] as usize != a) else { continue };
                let b = t.part[u] as usize;
                let g = t.gain(v, b).0 + t.gain(u, a).0 - t.shared(v, u);
                t.shift(v, b);
                t.shift(u, a);
                exact.apply(t.vert[v], b as u32);
                exact.apply(t.vert[u], a as u32);
                assert!((before - exact.traffic() - g).abs() < 1e-9, "swap {step}: gain {g}");
            }
            // The kept counts and gains equal those built afresh.
            let mut again = exact.clone();
            let fresh = Tabu::new(&mut again);
            assert_eq!(t.phi, fresh.phi, "step {step}");
            assert!(close(&t.leave, &fresh.leave), "step {step}");
            assert!(close(&t.enter, &fresh.enter), "step {step}");
            assert!(close(&t.leave2, &fresh.leave2), "step {step}");
            assert!(close(&t.enter1, &fresh.enter1), "step {step}");
            assert_eq!((&t.load_n, &t.load_s), (&fresh.load_n, &fresh.load_s));
        }
    }

    #[test]
    fn the_search_lowers_the_traffic_of_full_cores_and_keeps_them_within_capacity() {
        // 96 neurons on 8 cores of 12 (no room: every step is a swap),
        // packed in network order.
        let net = layers(32, 12, 2);
        let conn = Conn::new(&net);
        let rate = vec![1.0; conn.n];
        let order: Vec<u32> = conn.computed().collect();
        let (part, k) = fill(&conn, &caps(12, 1 << 20), &order).unwrap();
        let st = State::new(&conn, &rate, caps(12, 1 << 20), part, k);
        let start = st.traffic();
        let found = search(st.clone(), 800, (3, 8), 5);
        assert!(found.fits());
        assert!(found.traffic() < start, "{} -> {}", start, found.traffic());
        assert_eq!(found.use_n, st.use_n, "full cores stay full");
        // Same seed, same partition.
        assert_eq!(search(st.clone(), 800, (3, 8), 5).part, found.part);
    }

    #[test]
    fn the_steps_stay_within_the_work() {
        // The 10k feedforward bench network: 192 neurons on 14 cores.
        assert_eq!(steps(192, 14), Some(16 * 192));
        // Many small cores: under two steps a neuron, so the kicks run.
        assert_eq!(steps(300, 64), None);
        assert_eq!(steps(0, 4), None);
        for (n, k) in [(100, 2), (500, 20), (2000, 16)] {
            if let Some(s) = steps(n, k) {
                assert!(s as u64 * (n * k + 4 * k * k) as u64 <= WORK && s >= 2 * n);
            }
        }
    }

    #[test]
    fn a_binding_axon_capacity_is_held() {
        // Cores of 16 neurons with axons for 24 sources: most steps the
        // gains choose overflow the axons and are refused on the exact
        // bookkeeping.
        let net = layers(32, 4, 3);
        let conn = Conn::new(&net);
        let rate = vec![1.0; conn.n];
        let c = caps(16, 24);
        let order: Vec<u32> = conn.computed().collect();
        let (part, k) = fill(&conn, &c, &order).unwrap();
        let mut st = State::new(&conn, &rate, c, part, k);
        st.repair().unwrap();
        assert!(others_may_bind(&st));
        let start = st.traffic();
        let found = search(st, 1000, (3, 8), 9);
        assert!(found.fits(), "axons {:?}", found.use_a);
        assert!(found.traffic() < start);
    }
}
