#!/usr/bin/env python3
"""Compare spikeforge's partitions with METIS and KaHyPar on the same hypergraphs.

    SF_BENCH_EXPORT=/tmp/sfhg cargo bench -p spikeforge-mapper --bench mapping
    pip install pymetis kahypar
    python3 mapper/benches/compare_partitioners.py /tmp/sfhg

(`./dev bench-partitioners` does all three.) For every exported case the
same number of parts k as spikeforge's multilevel mapping is used, with the
per-core neuron capacity as the balance constraint:

- KaHyPar (direct k-way, objective km1 = the (λ−1) metric) on the hypergraph
  itself; the configuration below is written for this script.
- KaHyPar-w and KaHyPar-s: the same with one weight per vertex standing for
  both capacities (each neuron's larger share of a core) or for synapse
  memory alone (a core's synapse entries per block; neuron slots may then
  overflow by a few).
- KaHyPar-fit: the best partition that fits both capacities derived from
  those three: each as it is when it fits, else made to fit by one of two
  repairs written here (vertices moved one at a time out of overfull blocks
  at the least added (λ−1); or overfull blocks emptied of their cheapest
  vertices and those placed again, heaviest first), then polished by moves
  that lower (λ−1) and keep every block within both capacities: a feasible
  reference at the same k.
- METIS (pymetis, multilevel k-way) on the graph with the same star+path
  edges spikeforge coarsens, and with vertex weights = 1.

All partitions are scored with spikeforge's own metric: packets per step if
every neuron fires once = Σ over computed sources of (destination cores other
than their own) + Σ over input sources of (destination cores). Neither METIS
nor KaHyPar knows the synapse-entry capacity, so their partitions may not fit
the spec; the table says how many cores they overfill.
"""

import json
import pathlib
import sys
import tempfile
import time
import warnings

# pymetis deprecates the xadj/adjncy keywords in favour of a wrapper type; both work.
warnings.filterwarnings("ignore", category=DeprecationWarning)

KAHYPAR_KM1 = """\
mode=direct
objective=km1
seed=1
cmaxnet=-1
vcycles=0
p-use-sparsifier=false
p-detect-communities=true
p-detect-communities-in-ip=true
p-reuse-communities=false
p-max-louvain-pass-iterations=100
p-min-eps-improvement=0.0001
p-louvain-edge-weight=hybrid
p-large-he-threshold=1000
p-smallest-maxnet-threshold=50000
p-maxnet-removal-factor=0.01
c-type=ml_style
c-s=1
c-t=160
c-rating-score=heavy_edge
c-rating-use-communities=true
c-rating-heavy_node_penalty=no_penalty
c-rating-acceptance-criterion=best_prefer_unmatched
c-fixed-vertex-acceptance-criterion=fixed_vertex_allowed
i-mode=recursive
i-technique=multi
i-c-type=ml_style
i-c-s=1
i-c-t=150
i-c-rating-score=heavy_edge
i-c-rating-use-communities=true
i-c-rating-heavy_node_penalty=no_penalty
i-c-rating-acceptance-criterion=best_prefer_unmatched
i-c-fixed-vertex-acceptance-criterion=fixed_vertex_allowed
i-algo=pool
i-runs=20
i-bp-algorithm=worst_fit
i-bp-heuristic-prepacking=false
i-bp-early-restart=true
i-bp-late-restart=true
i-r-type=twoway_fm
i-r-runs=-1
i-r-fm-stop=simple
i-r-fm-stop-i=50
r-type=kway_fm_km1
r-runs=-1
r-fm-stop=adaptive_opt
r-fm-stop-alpha=1
r-fm-stop-i=350
"""


def read_case(hgr_path):
    lines = hgr_path.read_text().splitlines()
    n_nets, n_verts = map(int, lines[0].split())
    nets = [[int(x) - 1 for x in line.split()] for line in lines[1 : 1 + n_nets]]
    meta = json.loads(hgr_path.with_suffix(".json").read_text())
    return n_verts, nets, meta


def score(nets, input_nets, part, n_verts):
    """spikeforge's metric. For a computed source the net's last pin is the source
    unless it is also a target (then it appears among the pins anyway)."""
    inputs = set(input_nets)
    total = 0
    for i, pins in enumerate(nets):
        cores = {part[p] for p in pins}
        if i in inputs:
            total += len(cores)
        else:
            total += len(cores) - 1  # the source's own core is among the pins' cores
    return total


def overfull(part, meta, k):
    n = [0] * k
    s = [0] * k
    for v, p in enumerate(part):
        n[p] += 1
        s[p] += meta["fanin"][v]
    return sum(1 for i in range(k) if n[i] > meta["neurons_per_core"] or s[i] > meta["synapses_per_core"])


def run_kahypar(n_verts, nets, k, cap_n, weights=None):
    """KaHyPar km1 with at most cap_n (weighted: 1000) weight per block."""
    import kahypar

    index = [0]
    flat = []
    for pins in nets:
        flat.extend(pins)
        index.append(len(flat))
    if weights is None:
        hg = kahypar.Hypergraph(n_verts, len(nets), index, flat, k)
        total = n_verts
    else:
        hg = kahypar.Hypergraph(n_verts, len(nets), index, flat, k, [1] * len(nets), weights)
        total = sum(weights)
    ctx = kahypar.Context()
    with tempfile.NamedTemporaryFile("w", suffix=".ini", delete=False) as f:
        f.write(KAHYPAR_KM1)
        ini = f.name
    ctx.loadINIconfiguration(ini)
    ctx.setK(k)
    # Blocks may hold at most cap_n weight: (1 + eps) * ceil(total/k) = cap_n.
    ctx.setEpsilon(max(0.0, cap_n / -(-total // k) - 1.0))
    ctx.setSeed(1)
    ctx.suppressOutput(True)
    t = time.perf_counter()
    kahypar.partition(hg, ctx)
    dt = time.perf_counter() - t
    return [hg.blockID(v) for v in range(n_verts)], dt


class Loads:
    """A partition with its blocks' loads and each net's pin count per block,
    for the repairs and the polish."""

    def __init__(self, part, nets, meta, k):
        self.cap_n, self.cap_s, self.fanin = meta["neurons_per_core"], meta["synapses_per_core"], meta["fanin"]
        self.part, self.k = list(part), k
        self.vnets = [[] for _ in self.part]
        self.phi = []
        for e, pins in enumerate(nets):
            count = {}
            for p in set(pins):
                self.vnets[p].append(e)
                count[self.part[p]] = count.get(self.part[p], 0) + 1
            self.phi.append(count)
        self.n, self.s = [0] * k, [0] * k
        for v, b in enumerate(self.part):
            self.n[b] += 1
            self.s[b] += self.fanin[v]

    def overfull(self, b):
        return self.n[b] > self.cap_n or self.s[b] > self.cap_s

    def room(self, t, v):
        return self.n[t] + 1 <= self.cap_n and self.s[t] + self.fanin[v] <= self.cap_s

    def saved(self, v):
        """Nets that leave v's block when v does."""
        return sum(1 for e in self.vnets[v] if self.phi[e][self.part[v]] == 1)

    def added(self, v, t):
        """Nets that enter block t when v does."""
        return sum(1 for e in self.vnets[v] if self.phi[e].get(t, 0) == 0)

    def take(self, v):
        b = self.part[v]
        for e in self.vnets[v]:
            self.phi[e][b] -= 1
            if self.phi[e][b] == 0:
                del self.phi[e][b]
        self.n[b] -= 1
        self.s[b] -= self.fanin[v]
        self.part[v] = -1

    def put(self, v, t):
        for e in self.vnets[v]:
            self.phi[e][t] = self.phi[e].get(t, 0) + 1
        self.n[t] += 1
        self.s[t] += self.fanin[v]
        self.part[v] = t


def repair(part, nets, meta, k):
    """A partition made feasible: while a block holds more neurons or synapse
    entries than a core, move the vertex of the most overfull block whose
    move to a block with room adds the least (λ−1); None when no such move
    exists. Written here, independently of spikeforge's own repair."""
    L = Loads(part, nets, meta, k)
    while True:
        over = [b for b in range(k) if L.overfull(b)]
        if not over:
            return L.part
        b = max(over, key=lambda b: max(L.n[b] - L.cap_n, L.s[b] - L.cap_s))
        best = None
        for v in range(len(L.part)):
            if L.part[v] != b:
                continue
            leave = L.saved(v)
            for t in range(k):
                if t != b and L.room(t, v):
                    delta = L.added(v, t) - leave
                    if best is None or delta < best[0]:
                        best = (delta, v, t)
        if best is None:
            return None
        _, v, t = best
        L.take(v)
        L.put(v, t)


def evict_and_place(part, nets, meta, k):
    """A partition made feasible: each overfull block gives up the vertex
    whose leaving saves the most nets (among equals, the most synapse entries
    when those overflow) until it fits; then the evicted vertices, largest
    share of a core first, go where they add the least (λ−1) among blocks
    with room. None when one finds no room. Written here."""
    L = Loads(part, nets, meta, k)
    pool = []
    for b in range(k):
        while L.overfull(b):
            syn = L.s[b] > L.cap_s
            members = [v for v in range(len(L.part)) if L.part[v] == b and (L.n[b] > L.cap_n or L.fanin[v] > 0)]
            v = max(members, key=lambda v: (L.saved(v), L.fanin[v] if syn else 0))
            L.take(v)
            pool.append(v)
    pool.sort(key=lambda v: -max(1 / L.cap_n, L.fanin[v] / L.cap_s))
    for v in pool:
        fits = [t for t in range(k) if L.room(t, v)]
        if not fits:
            return None
        L.put(v, min(fits, key=lambda t: (L.added(v, t), L.s[t] / L.cap_s + L.n[t] / L.cap_n)))
    return L.part


def polish(part, nets, meta, k, passes=20):
    """Moves of single vertices that lower (λ−1) and keep every block within
    both capacities, in vertex order, until a pass moves none."""
    L = Loads(part, nets, meta, k)
    for _ in range(passes):
        moved = False
        for v in range(len(L.part)):
            b, saved = L.part[v], L.saved(v)
            gain, t = max(((saved - L.added(v, t), t) for t in range(k) if t != b and L.room(t, v)), default=(0, b))
            if gain > 0:
                L.take(v)
                L.put(v, t)
                moved = True
        if not moved:
            break
    return L.part


def kahypar_fit(n_verts, nets, meta, k, runs):
    """The best partition that fits both capacities derived from KaHyPar's:
    each of `runs` (partition, label) as it is when it fits, else repaired
    both ways; every feasible one polished."""
    best = None
    for part, label in runs:
        if overfull(part, meta, k) == 0:
            tries = [(part, label)]
        else:
            tries = [(repair(part, nets, meta, k), label + "+repair"), (evict_and_place(part, nets, meta, k), label + "+evict")]
        for fixed, how in tries:
            if fixed is None:
                continue
            fixed = polish(fixed, nets, meta, k)
            s = score(nets, meta["input_nets"], fixed, n_verts)
            if best is None or s < best[0]:
                best = (s, how + "+polish")
    return best or (float("nan"), "-")


def run_metis(n_verts, nets, input_nets, k, cap_n):
    import pymetis

    inputs = set(input_nets)
    adj = [dict() for _ in range(n_verts)]

    def edge(a, b, w):
        if a != b:
            adj[a][b] = adj[a].get(b, 0) + w
            adj[b][a] = adj[b].get(a, 0) + w

    for i, pins in enumerate(nets):
        if len(pins) < 2:
            continue
        w = max(1, round(1000 / (len(pins) - 1)))
        targets = pins if i in inputs else pins[:-1]
        for a, b in zip(targets, targets[1:]):
            edge(a, b, w)
        if i not in inputs:
            for t in targets:
                edge(pins[-1], t, w)
    xadj, adjncy, eweights = [0], [], []
    for v in range(n_verts):
        for u, w in sorted(adj[v].items()):
            adjncy.append(u)
            eweights.append(w)
        xadj.append(len(adjncy))
    ub = max(1.001, cap_n / -(-n_verts // k))
    opts = pymetis.Options(ufactor=int(round((ub - 1) * 1000)), seed=1)
    t = time.perf_counter()
    _, part = pymetis.part_graph(k, xadj=xadj, adjncy=adjncy, eweights=eweights, options=opts)
    return list(part), time.perf_counter() - t


def main():
    folder = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/sfhg")
    cases = sorted(folder.glob("*.hgr"))
    if not cases:
        sys.exit(f"no .hgr files in {folder}; run the mapping bench with SF_BENCH_EXPORT={folder} first")
    print(
        f"{'case':<22} {'k':>3} | {'greedy':>8} {'spikeforge':>10} {'KaHyPar':>8} {'KaHyPar-w':>9} {'METIS':>8} | "
        f"{'sf/KaHyPar':>10} {'sf/KaHyPar-w':>12} {'sf/METIS':>8} | {'KaHyPar s':>9} {'KaHyPar-w s':>10} {'METIS s':>7} | "
        f"overfull KaHyPar/KaHyPar-w/METIS | {'KaHyPar-s':>9} {'sf/KaHyPar-s':>12} overfull | "
        f"{'KaHyPar-fit':>11} {'sf/KaHyPar-fit':>14} from"
    )
    for hgr in cases:
        n_verts, nets, meta = read_case(hgr)
        k = meta["cores"]
        # Vertex ids in the export are 0..n in the same order as the partitions.
        remap = {c: i for i, c in enumerate(sorted(set(meta["multilevel"])))}
        ours = [remap[c] for c in meta["multilevel"]]
        g_remap = {c: i for i, c in enumerate(sorted(set(meta["greedy"])))}
        greedy = [g_remap[c] for c in meta["greedy"]]
        s_ours = score(nets, meta["input_nets"], ours, n_verts)
        s_greedy = score(nets, meta["input_nets"], greedy, n_verts)
        try:
            kp, kt = run_kahypar(n_verts, nets, k, meta["neurons_per_core"])
            s_k = score(nets, meta["input_nets"], kp, n_verts)
            of_k = overfull(kp, meta, k)
            # Both capacities as one vertex weight, each neuron's larger share
            # of a core (in thousandths): a block of weight <= 1000 fits.
            w = [
                max(-(-1000 // meta["neurons_per_core"]), -(-1000 * f // meta["synapses_per_core"]))
                for f in meta["fanin"]
            ]
            kwp, kwt = run_kahypar(n_verts, nets, k, 1000, w)
            s_kw = score(nets, meta["input_nets"], kwp, n_verts)
            of_kw = overfull(kwp, meta, k)
            # Synapse entries as the weight, at most a core's worth per block:
            # fits the binding resource of most cases; neuron slots may overflow.
            ksp, _ = run_kahypar(n_verts, nets, k, meta["synapses_per_core"], [max(1, f) for f in meta["fanin"]])
            s_ks = score(nets, meta["input_nets"], ksp, n_verts)
            of_ks = overfull(ksp, meta, k)
            s_kf, kf_from = kahypar_fit(n_verts, nets, meta, k, [(kp, "KaHyPar"), (kwp, "KaHyPar-w"), (ksp, "KaHyPar-s")])
        except ImportError:
            s_k, kt, of_k = float("nan"), float("nan"), "-"
            s_kw, kwt, of_kw = float("nan"), float("nan"), "-"
            s_ks, of_ks = float("nan"), "-"
            s_kf, kf_from = float("nan"), "-"
        try:
            mp, mt = run_metis(n_verts, nets, meta["input_nets"], k, meta["neurons_per_core"])
            s_m = score(nets, meta["input_nets"], mp, n_verts)
            of_m = overfull(mp, meta, k)
        except ImportError:
            s_m, mt, of_m = float("nan"), float("nan"), "-"
        feasible_kw = of_kw == 0
        print(
            f"{meta['name']:<22} {k:>3} | {s_greedy:>8} {s_ours:>10} {s_k:>8} {s_kw:>9} {s_m:>8} | "
            f"{s_ours / s_k:>10.3f} {(s_ours / s_kw if feasible_kw else float('nan')):>12.3f} {s_ours / s_m:>8.3f} | "
            f"{kt:>9.2f} {kwt:>10.2f} {mt:>7.2f} | {f'{of_k}/{of_kw}/{of_m}':>32} | "
            f"{s_ks:>9} {s_ours / s_ks:>12.3f} {of_ks:>8} | {s_kf:>11} {s_ours / s_kf:>14.3f} {kf_from}"
        )
    print("packets per step if every neuron fires once (lower is better); ratios < 1 mean spikeforge is better.")
    print("KaHyPar: neurons per core as the only balance (may overfill synapses); KaHyPar-w: each neuron weighs its")
    print("larger share of a core (neurons, synapse entries), so its blocks fit; sf/KaHyPar-w only where they all fit.")
    print("KaHyPar-s: synapse entries as the weight, a core's synapse memory per block (neuron slots may overflow).")
    print("KaHyPar-fit: the best partition that fits both capacities derived from the three KaHyPar ones, as it is or")
    print("repaired (one vertex at a time, or evict and place again), then polished (moves that lower (λ−1) and fit).")
    print("spikeforge's partitions always fit the spec (every capacity, axons and routes included).")


if __name__ == "__main__":
    main()
