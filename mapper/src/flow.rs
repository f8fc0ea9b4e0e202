//! Maximum flow and minimum cuts (Dinic's algorithm) for the flow-based
//! refinement of the multilevel partitioner (`map --flows`).
//!
//! Capacities are integers, so the flow is exact and every augmenting
//! phase ends; after [`MaxFlow::run`] the residual network gives the two
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

/// A flow network built edge by edge, then solved once.
#[derive(Debug, Default)]
pub struct MaxFlow {
    n: usize,
    /// Edge `i` goes `from[i] -> to[i]`; `i ^ 1` is its reverse.
    from: Vec<u32>,
    to: Vec<u32>,
    cap: Vec<i64>,
    /// The edges leaving node `v`: `order[start[v]..start[v + 1]]`.
    start: Vec<u32>,
    order: Vec<u32>,
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
        let n = self.n;
        self.start.clear();
        self.start.resize(n + 1, 0);
        for &u in &self.from {
            self.start[u as usize + 1] += 1;
        }
        for v in 0..n {
            self.start[v + 1] += self.start[v];
        }
        let mut pos: Vec<u32> = self.start[..n].to_vec();
        self.order.clear();
        self.order.resize(self.from.len(), 0);
        for (i, &u) in self.from.iter().enumerate() {
            self.order[pos[u as usize] as usize] = i as u32;
            pos[u as usize] += 1;
        }
        let (s, t) = (s as usize, t as usize);
        let mut total = 0i64;
        let mut path: Vec<u32> = Vec::new();
        let mut queue: Vec<u32> = Vec::new();
        while total < limit && self.levels(s, t, &mut queue) {
            self.next.clear();
            self.next.extend_from_slice(&self.start[..n]);
            // Blocking flow by iterative depth-first search along the levels.
            path.clear();
            let mut v = s;
            loop {
                if v == t {
                    let push = path.iter().map(|&e| self.cap[e as usize]).min().unwrap_or(0);
                    total += push;
                    if total >= limit {
                        for &e in &path {
                            self.cap[e as usize] -= push;
                            self.cap[e as usize ^ 1] += push;
                        }
                        return total;
                    }
                    let mut cut = path.len();
                    for (i, &e) in path.iter().enumerate() {
                        self.cap[e as usize] -= push;
                        self.cap[e as usize ^ 1] += push;
                        if self.cap[e as usize] == 0 && cut == path.len() {
                            cut = i;
                        }
                    }
                    // Back to the tail of the first saturated edge.
                    path.truncate(cut);
                    v = path.last().map_or(s, |&e| self.to[e as usize] as usize);
                    continue;
                }
                let mut advanced = false;
                while self.next[v] < self.start[v + 1] {
                    let e = self.order[self.next[v] as usize] as usize;
                    let u = self.to[e] as usize;
                    if self.cap[e] > 0 && self.level[u] == self.level[v] + 1 {
                        path.push(e as u32);
                        v = u;
                        advanced = true;
                        break;
                    }
                    self.next[v] += 1;
                }
                if advanced {
                    continue;
                }
                // A dead end: never visit it again in this phase.
                self.level[v] = -1;
                match path.pop() {
                    None => break,
                    Some(e) => {
                        v = self.from[e as usize] as usize;
                        self.next[v] += 1;
                    }
                }
            }
        }
        total
    }

    /// Breadth-first levels from `s` in the residual network; whether `t`
    /// is reached.
    fn levels(&mut self, s: usize, t: usize, queue: &mut Vec<u32>) -> bool {
        self.level.clear();
        self.level.resize(self.n, -1);
        self.level[s] = 0;
        queue.clear();
        queue.push(s as u32);
        let mut i = 0;
        while i < queue.len() {
            let v = queue[i] as usize;
            i += 1;
            for &e in &self.order[self.start[v] as usize..self.start[v + 1] as usize] {
                let u = self.to[e as usize] as usize;
                if self.cap[e as usize] > 0 && self.level[u] < 0 {
                    self.level[u] = self.level[v] + 1;
                    queue.push(u as u32);
                }
            }
        }
        self.level[t] >= 0
    }

    /// After [`MaxFlow::run`]: the nodes reachable from `s` in the residual
    /// network (the source side of the minimum cut nearest the source).
    pub fn source_side(&self, s: u32) -> Vec<bool> {
        self.search(s, false)
    }

    /// After [`MaxFlow::run`]: the nodes that reach `t` in the residual
    /// network (the sink side of the minimum cut nearest the sink).
    pub fn sink_side(&self, t: u32) -> Vec<bool> {
        self.search(t, true)
    }

    fn search(&self, root: u32, backward: bool) -> Vec<bool> {
        let mut seen = vec![false; self.n];
        seen[root as usize] = true;
        let mut stack = vec![root];
        while let Some(v) = stack.pop() {
            let v = v as usize;
            for &e in &self.order[self.start[v] as usize..self.start[v + 1] as usize] {
                let e = e as usize;
                let u = self.to[e] as usize;
                // Forward: residual v -> u. Backward: u reaches v when the
                // residual of u -> v (edge e ^ 1) is positive.
                let residual = if backward { self.cap[e ^ 1] } else { self.cap[e] };
                if residual > 0 && !seen[u] {
                    seen[u] = true;
                    stack.push(u as u32);
                }
            }
        }
        seen
    }
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
        }
    }
}
