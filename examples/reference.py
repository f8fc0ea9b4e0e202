#!/usr/bin/env python3
"""Independent reference implementation of spikeforge's neuron semantics.

This is deliberately naive and shares no code with the Rust golden model:
Python's unbounded integers, dictionaries instead of compressed rows, and the
rules of docs/format.md ("Semantics") written out one by one, including the
synaptic current of current-based neurons (`syn_shift`). It computes the
expected spike and potential files of the examples listed in examples.toml.

    python3 examples/reference.py --check   # recompute and compare (CI runs this)
    python3 examples/reference.py --write   # recompute and overwrite

Needs only the standard library (Python 3.11+ for tomllib).
"""

import json
import pathlib
import sys
import tomllib

HERE = pathlib.Path(__file__).resolve().parent


def load_net(path):
    text = path.read_text()
    return json.loads(text) if path.suffix == ".json" else tomllib.loads(text)


def per_neuron(value, size, default):
    if value is None:
        value = default
    return list(value) if isinstance(value, list) else [value] * size


def simulate(net, stimulus_rows, steps):
    fp = net.get("fixed_point", {})
    p_bits = fp.get("potential_bits", 16)
    p_min, p_max = -(2 ** (p_bits - 1)), 2 ** (p_bits - 1) - 1
    a_bits = fp.get("accumulator_bits", 24)
    a_min, a_max = -(2 ** (a_bits - 1)), 2 ** (a_bits - 1) - 1

    # Every neuron is named (population, index); order = file order.
    neurons = []
    params = {}
    inputs = set()
    for pop in net["populations"]:
        name, size = pop["name"], pop["size"]
        kind = pop.get("kind", "neuron")
        th = per_neuron(pop.get("threshold"), size, None)
        bias = per_neuron(pop.get("bias"), size, 0)
        leak = per_neuron(pop.get("leak_shift"), size, "none")
        reset = per_neuron(pop.get("reset"), size, "subtract")
        v_min = per_neuron(pop.get("v_min"), size, p_min)
        v_init = per_neuron(pop.get("v_init"), size, 0)
        syn = per_neuron(pop.get("syn_shift"), size, None)  # None: not current-based
        for i in range(size):
            n = (name, i)
            neurons.append(n)
            if kind == "input":
                inputs.add(n)
            else:
                params[n] = dict(th=th[i], b=bias[i], leak=leak[i], reset=reset[i], v_min=v_min[i], v=v_init[i], syn=syn[i])

    # Synapses as a plain list of (pre, post, weight); zero weights do nothing.
    synapses = []
    for pr in net.get("projections", []):
        a, b = pr["pre"], pr["post"]
        if pr["kind"] == "dense":
            for i, row in enumerate(pr["weights"]):
                for j, w in enumerate(row):
                    synapses.append(((a, i), (b, j), w))
        elif pr["kind"] == "sparse":
            for i, j, w in pr["synapses"]:
                synapses.append(((a, i), (b, j), w))
        elif pr["kind"] == "one_to_one":
            size = next(p["size"] for p in net["populations"] if p["name"] == a)
            for i, w in enumerate(per_neuron(pr["weight"], size, None)):
                synapses.append(((a, i), (b, i), w))

    v = {n: params[n]["v"] for n in params}
    cur = {n: 0 for n in params}  # synaptic current i (used by current-based neurons only)
    previous = set()  # neurons that spiked in step t-1 (computed or external)
    out = []
    for t in range(steps):
        # Rule 1: a_n = sum of weights from neurons that spiked in t-1.
        acc = {n: 0 for n in params}
        for pre, post, w in synapses:
            if pre in previous:
                acc[post] += w
        fired = set()
        for n in neurons:
            if n in inputs:
                continue
            p = params[n]
            # Rule 2: current-based neurons integrate a into i (saturating at A bits); x = i'.
            if p["syn"] is None:
                x = acc[n]
            else:
                cur[n] = max(a_min, min(a_max, cur[n] - (cur[n] >> p["syn"]) + acc[n]))
                x = cur[n]
            leak = 0 if p["leak"] == "none" else v[n] >> p["leak"]  # Python >> floors
            u = v[n] - leak + x + p["b"]
            y = max(p_min, min(p_max, u))
            if y >= p["th"]:
                fired.add(n)
                y = y - p["th"] if p["reset"] == "subtract" else 0
            v[n] = max(y, p["v_min"])
        external = {(pop, i) for (s, pop, i) in stimulus_rows if s == t}
        previous = fired | external
        out += [(t, n) for n in neurons if n in fired]
    return out, v, neurons, inputs


def read_stimulus(path):
    lines = path.read_text().splitlines()
    assert lines[0] == "step,population,index"
    rows = []
    for line in lines[1:]:
        if line.strip():
            s, pop, i = line.split(",")
            rows.append((int(s), pop, int(i)))
    return rows


def render(spikes, v, neurons, inputs):
    s = "step,population,index\n" + "".join(f"{t},{p},{i}\n" for t, (p, i) in spikes)
    pot = "population,index,v\n" + "".join(f"{p},{i},{v[(p, i)]}\n" for (p, i) in neurons if (p, i) not in inputs)
    return s, pot


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "--check"
    manifest = tomllib.loads((HERE / "examples.toml").read_text())
    bad = 0
    for ex in manifest["example"]:
        net = load_net(HERE / ex["net"])
        stim = read_stimulus(HERE / ex["stimulus"])
        spikes, pot = render(*simulate(net, stim, ex["steps"]))
        folder = (HERE / ex["net"]).parent
        for name, text in [("expected.csv", spikes), ("expected_potentials.csv", pot)]:
            f = folder / name
            if mode == "--write":
                f.write_text(text)
            elif not f.exists() or f.read_text() != text:
                print(f"MISMATCH {f.relative_to(HERE.parent)}")
                bad += 1
        print(f"{ex['name']}: {len(spikes.splitlines()) - 1} spikes in {ex['steps']} steps")
    if bad:
        print(f"{bad} expected file(s) differ from the reference; run with --write after checking why")
        sys.exit(1)


if __name__ == "__main__":
    main()
