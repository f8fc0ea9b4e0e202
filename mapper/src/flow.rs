//! Maximum flow and minimum cuts (Dinic's algorithm) for the flow-based
//! refinement of the multilevel partitioner (`map --flows`).
//!
//! Capacities are integers, so the flow is exact and every augmenting
//! phase ends; after [`MaxFlow::run_until`] the residual network gives the two
//! extreme minimum cuts: the vertices reachable from the source
//! ([`MaxFlow::source_side`]) and those that reach the sink
//! ([`MaxFlow::sink_side`]). The refinement picks whichever of them keeps
//! the parts within their capacities.
//!
//! Written here rather than taken from a graph crate: the refinement needs
//! both residual sides, reuses the buffers across thousands of small
//! networks, and its networks (a few thousand nodes) take microseconds to
//! milliseconds with the CSR layout below.

/// A capacity no cut pays (the Lawler network's pin edges).
pub const INF: i64 = i64::MAX / 4;

/// A flow network built edge by edge, then solved (and solved again after
/// more edges are added: the flow so far is kept).
#[derive(Debug, Default)]
pub struct MaxFlow {
    n: usize,
    /// Edge `i` goes `from[i] -> to[i]` with residual capacity `cap[i]`
    /// (as of the last solve); `i ^ 1` is its reverse.
    from: Vec<u32>,
    to: Vec<u32>,
    cap: Vec<i64>,
    /// The residual network in CSR order, rebuilt by each solve: the arcs
    /// leaving node `v` are `start[v]..start[v + 1]`; arc `p` goes to
    /// `head[p]` with residual `rcap[p]`; `rev[p]` is its reverse arc.
    /// Contiguous arcs: the solver's inner loops read no index array.
    start: Vec<u32>,
    head: Vec<u32>,
    rcap: Vec<i64>,
    rev: Vec<u32>,
    /// The arc of each edge.
    arc: Vec<u32>,
    level: Vec<i32>,
    next: Vec<u32>,
}

impl MaxFlow {
    /// Clears the network to `n` nodes and no edges, keeping the buffers.
    pub fn reset(&mut self, n: usize) {
        self.n = n;
        self.from.clear();
        self.to.clear();
        self.cap.clear();
    }

    /// The number of nodes.
    pub fn nodes(&self) -> usize {
        self.n
    }

    /// Adds a node and returns it.
    pub fn node(&mut self) -> u32 {
        self.n += 1;
        (self.n - 1) as u32
    }

    /// Adds the edge `u -> v` with capacity `c` (and its reverse with 0).
    pub fn edge(&mut self, u: u32, v: u32, c: i64) {
        self.from.extend([u, v]);
        self.to.extend([v, u]);
        self.cap.extend([c, 0]);
    }

    /// Pushes the maximum flow from `s` to `t`; returns its value.
    #[cfg(test)]
    pub fn run(&mut self, s: u32, t: u32) -> i64 {
        self.run_until(s, t, i64::MAX)
    }

    /// Pushes flow from `s` to `t` until it is maximum or at least
    /// `limit`; returns the value pushed. Above the limit the residual
    /// network is not a minimum cut's: the refinement stops there anyway
    /// (a cut that heavy gains nothing), and most pairs of parts do.
    pub fn run_until(&mut self, s: u32, t: u32, limit: i64) -> i64 {
        self.build();
        let (s, t) = (s as usize, t as usize);
        let MaxFlow { start, head, rcap, rev, level, next, .. } = self;
        let mut total = 0i64;
        let mut path: Vec<u32> = Vec::new();
        let mut queue: Vec<u32> = Vec::new();
        while total < limit && levels(start, head, rcap, level, s, t, &mut queue) {
            next.clear();
            next.extend_from_slice(&start[..start.len() - 1]);
            // Blocking flow by iterative depth-first search along the levels.
            path.clear();
            let mut v = s;
            loop {
                if v == t {
                    let push = path.iter().map(|&p| rcap[p as usize]).min().unwrap_or(0);
                    total += push;
                    let mut cut = path.len();
                    for (i, &p) in path.iter().enumerate() {
                        rcap[p as usize] -= push;
                        rcap[rev[p as usize] as usize] += push;
                        if rcap[p as usize] == 0 && cut == path.len() {
                            cut = i;
                        }
                    }
                    if total >= limit {
                        break;
                    }
                    // Back to the tail of the first saturated arc.
                    path.truncate(cut);
                    v = path.last().map_or(s, |&p| head[p as usize] as usize);
                    continue;
                }
                let (end, lv) = (start[v + 1], level[v] + 1);
                let mut p = next[v];
                while p < end && (rcap[p as usize] == 0 || level[head[p as usize] as usize] != lv) {
                    p += 1;
                }
                next[v] = p;
                if p < end {
                    path.push(p);
                    v = head[p as usize] as usize;
                    continue;
                }
                // A dead end: never visit it again in this phase.
                level[v] = -1;
                match path.pop() {
                    None => break,
                    Some(p) => {
                        v = head[rev[p as usize] as usize] as usize;
                        next[v] += 1;
                    }
                }
            }
        }
        for (e, &p) in self.arc.iter().enumerate() {
            self.cap[e] = self.rcap[p as usize];
        }
        total
    }

    /// The residual network in CSR order from the edge list.
    fn build(&mut self) {
        let n = self.n;
        self.start.clear();
        self.start.resize(n + 1, 0);
        for &u in &self.from {
            self.start[u as usize + 1] += 1;
        }
        for v in 0..n {
            self.start[v + 1] += self.start[v];
        }
        let m = self.from.len();
        self.next.clear();
        self.next.extend_from_slice(&self.start[..n]);
        self.arc.clear();
        self.arc.extend(self.from.iter().map(|&u| {
            let p = self.next[u as usize];
            self.next[u as usize] += 1;
            p
        }));
        self.head.clear();
        self.head.resize(m, 0);
        self.rcap.clear();
        self.rcap.resize(m, 0);
        self.rev.clear();
        self.rev.resize(m, 0);
        for e in 0..m {
            let p = self.arc[e] as usize;
            self.head[p] = self.to[e];
            self.rcap[p] = self.cap[e];
            self.rev[p] = self.arc[e ^ 1];
        }
    }

    /// After a solve: the nodes reachable from `s` in the residual
    /// network (the source side of the minimum cut nearest the source).
    pub fn source_side(&self, s: u32) -> Vec<bool> {
        self.search(s, false)
    }

    /// After a solve: the nodes that reach `t` in the residual network
    /// (the sink side of the minimum cut nearest the sink).
    pub fn sink_side(&self, t: u32) -> Vec<bool> {
        self.search(t, true)
    }

    fn search(&self, root: u32, backward: bool) -> Vec<bool> {
        let mut seen = vec![false; self.n];
        seen[root as usize] = true;
        let mut stack = vec![root];
        while let Some(v) = stack.pop() {
            let v = v as usize;
            for p in self.start[v] as usize..self.start[v + 1] as usize {
                let u = self.head[p] as usize;
                // Forward: residual v -> u. Backward: u reaches v when the
                // residual of u -> v (the reverse arc) is positive.
                let residual = if backward { self.rcap[self.rev[p] as usize] } else { self.rcap[p] };
                if residual > 0 && !seen[u] {
                    seen[u] = true;
                    stack.push(u as u32);
                }
            }
        }
        seen
    }
}

/// Breadth-first levels from `s` in the residual network, up to `t`'s
/// level (nodes beyond it are on no shortest path); whether `t` is reached.
fn levels(
    start: &[u32],
    head: &[u32],
    rcap: &[i64],
    level: &mut Vec<i32>,
    s: usize,
    t: usize,
    queue: &mut Vec<u32>,
) -> bool {
    level.clear();
    level.resize(start.len() - 1, -1);
    level[s] = 0;
    queue.clear();
    queue.push(s as u32);
    let mut i = 0;
    while i < queue.len() {
        let v = queue[i] as usize;
        i += 1;
        if level[t] >= 0 && level[v] >= level[t] {
            break;
        }
        for p in start[v] as usize..start[v + 1] as usize {
            let u = head[p] as usize;
            if rcap[p] > 0 && level[u] < 0 {
                level[u] = level[v] + 1;
                queue.push(u as u32);
            }
        }
    }
    level[t] >= 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The minimum cut by trying every side of every node set (tiny networks).
    fn brute_min_cut(n: usize, edges: &[(u32, u32, i64)], s: u32, t: u32) -> i64 {
        (0u32..1 << n)
            .filter(|m| m >> s & 1 == 1 && m >> t & 1 == 0)
            .map(|m| edges.iter().filter(|&&(u, v, _)| m >> u & 1 == 1 && m >> v & 1 == 0).map(|e| e.2).sum())
            .min()
            .unwrap_or(0)
    }

    proptest! {
        /// The flow equals the brute-force minimum cut, and both residual
        /// sides are cuts of that value.
        #[test]
        fn max_flow_equals_the_minimum_cut(
            n in 2usize..8,
            edges in proptest::collection::vec((0u32..8, 0u32..8, 0i64..20), 0..24),
        ) {
            let edges: Vec<_> = edges.into_iter().map(|(u, v, c)| (u % n as u32, v % n as u32, c)).filter(|e| e.0 != e.1).collect();
            let mut f = MaxFlow::default();
            f.reset(n);
            for &(u, v, c) in &edges {
                f.edge(u, v, c);
            }
            let (s, t) = (0, n as u32 - 1);
            let value = f.run(s, t);
            prop_assert_eq!(value, brute_min_cut(n, &edges, s, t));
            let near_s = f.source_side(s);
            let near_t = f.sink_side(t);
            prop_assert!(!near_s[t as usize] && !near_t[s as usize]);
            let cut = |inside: &dyn Fn(usize) -> bool| -> i64 {
                edges.iter().filter(|&&(u, v, _)| inside(u as usize) && !inside(v as usize)).map(|e| e.2).sum()
            };
            prop_assert_eq!(cut(&|v| near_s[v]), value);
            prop_assert_eq!(cut(&|v| !near_t[v]), value);
            // An edge added after a solve (a pierced vertex): solving again
            // adds to the flow so far, up to the new minimum cut.
            let extra = (s, (n as u32 - 1) / 2, 7);
            if extra.1 != s {
                let mut more = edges.clone();
                more.push(extra);
                f.edge(extra.0, extra.1, extra.2);
                let value2 = value + f.run(s, t);
                prop_assert_eq!(value2, brute_min_cut(n, &more, s, t));
            }
        }
    }
}
