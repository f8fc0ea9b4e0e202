//! Maximum flow and minimum cuts (Boykov–Kolmogorov) for the flow-based
//! refinement of the multilevel partitioner (`map --flows`).
//!
//! Capacities are integers, so the flow is exact and every search ends;
//! after [`MaxFlow::run_until`] the residual network gives the two
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
    /// Scratch of [`MaxFlow::build`].
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
    ///
    /// Boykov and Kolmogorov's algorithm (2004): a search tree from each
    /// terminal, grown breadth first until they touch; the path through
    /// the touching arc is augmented, the nodes cut off by saturated arcs
    /// look for a new parent in their tree or leave it, and the trees are
    /// kept for the next path. With Dinic's algorithm, which scans the
    /// whole network in every phase, mappings with flows took 1.1-1.3x as
    /// long (docs/benchmarks.md).
    pub fn run_until(&mut self, s: u32, t: u32, limit: i64) -> i64 {
        const NONE: u32 = u32::MAX;
        const ROOT: u32 = u32::MAX - 1;
        const FREE: u8 = 0;
        const SRC: u8 = 1;
        const SNK: u8 = 2;
        self.build();
        let n = self.n;
        let (s, t) = (s as usize, t as usize);
        let MaxFlow { start, head, rcap, rev, .. } = self;
        let tail = |p: u32| head[rev[p as usize] as usize] as usize;
        let mut tree = vec![FREE; n];
        let mut parent = vec![NONE; n];
        let mut queued = vec![false; n];
        let mut active: std::collections::VecDeque<u32> = std::collections::VecDeque::new();
        let mut orphans: Vec<u32> = Vec::new();
        tree[s] = SRC;
        tree[t] = SNK;
        parent[s] = ROOT;
        parent[t] = ROOT;
        active.push_back(s as u32);
        active.push_back(t as u32);
        queued[s] = true;
        queued[t] = true;
        let mut total = 0i64;
        // Whether `v` still hangs from its tree's terminal; the nodes found
        // to hang from it are stamped with the augmentation's number, so a
        // later walk stops at them (BK's timestamps).
        let (mut stamp, mut time) = (vec![0u32; n], 1u32);
        let mut walk: Vec<u32> = Vec::new();
        let mut rooted = |v: usize, tree_of: u8, parent: &[u32], time: u32| -> bool {
            walk.clear();
            let mut u = v;
            let ok = loop {
                if stamp[u] == time {
                    break true;
                }
                walk.push(u as u32);
                match parent[u] {
                    ROOT => break true,
                    NONE => break false,
                    p => u = if tree_of == SRC { tail(p) } else { head[p as usize] as usize },
                }
            };
            if ok {
                for &w in &walk {
                    stamp[w as usize] = time;
                }
            }
            ok
        };
        'grow: while let Some(v) = active.pop_front() {
            let v = v as usize;
            queued[v] = false;
            if tree[v] == FREE {
                continue;
            }
            // Grow from v until its tree touches the other one.
            let mut bridge = NONE;
            for p in start[v]..start[v + 1] {
                let u = head[p as usize] as usize;
                let (residual, towards) = if tree[v] == SRC {
                    (rcap[p as usize], p)
                } else {
                    (rcap[rev[p as usize] as usize], rev[p as usize])
                };
                if residual <= 0 {
                    continue;
                }
                if tree[u] == FREE {
                    tree[u] = tree[v];
                    parent[u] = towards;
                    if !queued[u] {
                        queued[u] = true;
                        active.push_back(u as u32);
                    }
                } else if tree[u] != tree[v] {
                    bridge = towards;
                    break;
                }
            }
            if bridge == NONE {
                continue;
            }
            // v may touch the other tree again: look at it once more.
            if !queued[v] {
                queued[v] = true;
                active.push_front(v as u32);
            }
            // The path s .. x -> y .. t and its bottleneck.
            let (x, y) = (tail(bridge), head[bridge as usize] as usize);
            let mut push = rcap[bridge as usize];
            let mut u = x;
            while u != s {
                let p = parent[u];
                push = push.min(rcap[p as usize]);
                u = tail(p);
            }
            let mut u = y;
            while u != t {
                let p = parent[u];
                push = push.min(rcap[p as usize]);
                u = head[p as usize] as usize;
            }
            total += push;
            rcap[bridge as usize] -= push;
            rcap[rev[bridge as usize] as usize] += push;
            let mut u = x;
            while u != s {
                let p = parent[u];
                rcap[p as usize] -= push;
                rcap[rev[p as usize] as usize] += push;
                let up = tail(p);
                if rcap[p as usize] == 0 {
                    parent[u] = NONE;
                    orphans.push(u as u32);
                }
                u = up;
            }
            let mut u = y;
            while u != t {
                let p = parent[u];
                rcap[p as usize] -= push;
                rcap[rev[p as usize] as usize] += push;
                let up = head[p as usize] as usize;
                if rcap[p as usize] == 0 {
                    parent[u] = NONE;
                    orphans.push(u as u32);
                }
                u = up;
            }
            if total >= limit {
                break 'grow;
            }
            time += 1;
            // Adoption: each orphan finds a parent in its tree that still
            // hangs from the terminal, or leaves the tree (its children
            // become orphans, its tree neighbours active).
            while let Some(o) = orphans.pop() {
                let o = o as usize;
                let side = tree[o];
                let mut found = NONE;
                for p in start[o]..start[o + 1] {
                    let u = head[p as usize] as usize;
                    if tree[u] != side {
                        continue;
                    }
                    // The arc that would join o to u, and its residual.
                    let (arc, residual) = if side == SRC {
                        (rev[p as usize], rcap[rev[p as usize] as usize])
                    } else {
                        (p, rcap[p as usize])
                    };
                    if residual > 0 && rooted(u, side, &parent, time) {
                        found = arc;
                        break;
                    }
                }
                if found != NONE {
                    parent[o] = found;
                    continue;
                }
                for p in start[o]..start[o + 1] {
                    let u = head[p as usize] as usize;
                    if tree[u] != side {
                        continue;
                    }
                    let residual = if side == SRC { rcap[rev[p as usize] as usize] } else { rcap[p as usize] };
                    if residual > 0 && !queued[u] {
                        queued[u] = true;
                        active.push_back(u as u32);
                    }
                    let pu = parent[u];
                    if pu != NONE && pu != ROOT {
                        let up = if side == SRC { tail(pu) } else { head[pu as usize] as usize };
                        if up == o {
                            parent[u] = NONE;
                            orphans.push(u as u32);
                        }
                    }
                }
                tree[o] = FREE;
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
                let near_s = f.source_side(s);
                let cut2: i64 = more.iter().filter(|&&(u, v, _)| near_s[u as usize] && !near_s[v as usize]).map(|e| e.2).sum();
                prop_assert_eq!(cut2, value2);
            }
        }

        /// With a limit, the flow stops at or above it, or is the maximum.
        #[test]
        fn a_limited_flow_reaches_the_limit_or_the_maximum(
            n in 2usize..8,
            edges in proptest::collection::vec((0u32..8, 0u32..8, 0i64..20), 0..24),
            limit in 1i64..40,
        ) {
            let edges: Vec<_> = edges.into_iter().map(|(u, v, c)| (u % n as u32, v % n as u32, c)).filter(|e| e.0 != e.1).collect();
            let mut f = MaxFlow::default();
            f.reset(n);
            for &(u, v, c) in &edges {
                f.edge(u, v, c);
            }
            let max = brute_min_cut(n, &edges, 0, n as u32 - 1);
            let value = f.run_until(0, n as u32 - 1, limit);
            prop_assert!(value == max || (value >= limit && value <= max), "{value} of {max}, limit {limit}");
        }
    }
}
