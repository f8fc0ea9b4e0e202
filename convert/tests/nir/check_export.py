"""Reads files that `spikeforge export --nir` wrote with the `nir` package
(`nir.read`, which checks node types) and checks each graph against what
the exporter promises: every edge joins two nodes, the node types are the
expected ones, and every neuron node has the same number of neurons in all
its parameters. `./dev test` runs it on exports of the test graphs.

    python3 convert/tests/nir/check_export.py FILE.nir TYPE,TYPE,... [FILE.nir TYPES ...]

TYPES: the node types the file must hold, e.g. Input,Affine,CubaLIF,Output.
Exits 1 naming the file and the problem.
"""
import sys

import nir
import numpy as np

NEURON_PARAMS = {
    "IF": ["r", "v_threshold", "v_reset"],
    "LIF": ["tau", "r", "v_leak", "v_threshold", "v_reset"],
    "CubaLIF": ["tau_mem", "tau_syn", "r", "v_leak", "v_threshold", "v_reset", "w_in"],
}


def check(path, want):
    g = nir.read(path)
    types = {}
    for name, node in g.nodes.items():
        types.setdefault(type(node).__name__, []).append(name)
    if sorted(types) != sorted(want):
        return f"node types {sorted(types)}, expected {sorted(want)}"
    for a, b in g.edges:
        if a not in g.nodes or b not in g.nodes:
            return f"edge {a} -> {b} names a missing node"
    for kind, params in NEURON_PARAMS.items():
        for name in types.get(kind, []):
            node = g.nodes[name]
            sizes = {p: np.asarray(getattr(node, p)).size for p in params}
            if len(set(sizes.values())) != 1:
                return f"node {name} ({kind}): parameter sizes differ: {sizes}"
            n = sizes[params[0]]
            if not any(b == name for _, b in g.edges):
                return f"node {name} ({kind}) has no incoming edge"
            for src, dst in g.edges:
                if dst == name and type(g.nodes[src]).__name__ == "Affine":
                    out = np.asarray(g.nodes[src].weight).shape[0]
                    if out != n:
                        return f"node {name} ({kind}) has {n} neurons, but {src} gives {out} values"
    return None


def main(args):
    if len(args) % 2 or not args:
        print(__doc__, file=sys.stderr)
        return 2
    bad = 0
    for path, want in zip(args[::2], args[1::2]):
        err = check(path, want.split(","))
        if err:
            print(f"{path}: {err}", file=sys.stderr)
            bad += 1
        else:
            print(f"{path}: nir.read loads it; {want}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
