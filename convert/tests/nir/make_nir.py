"""Writes the NIR test graphs of convert/tests/nir_import.rs with the `nir`
package (pip install nir), and for the IF chain the output spikes of its
zero-delay float semantics (numpy), so the import is checked against an
implementation that does not share its code. Deterministic: run it again
and the files are the same graphs and spikes.

    python3 convert/tests/nir/make_nir.py
"""
import pathlib

import h5py
import nir
import numpy as np

HERE = pathlib.Path(__file__).parent
rng = np.random.default_rng(7)


def q(a, step=0.25):
    """Values on a grid of `step`, so the graph is exact in integers."""
    return (np.round(np.asarray(a) / step) * step).astype(np.float32)


# --- IF chain: 4 inputs -> 6 IF -> 3 IF (output), weights on a 0.25 grid.
w1, b1 = q(rng.normal(0, 1.0, (6, 4))), q(rng.normal(0, 0.2, 6))
w2, b2 = q(rng.normal(0, 1.0, (3, 6))), q(rng.normal(0, 0.2, 3))
th1, th2 = np.full(6, 1.0), np.full(3, 1.5)
g = nir.NIRGraph(
    nodes={
        "input": nir.Input(np.array([4])),
        "fc1": nir.Affine(w1, b1),
        "if1": nir.IF(r=np.ones(6), v_threshold=th1, v_reset=np.zeros(6)),
        "fc2": nir.Affine(w2, b2),
        "if2": nir.IF(r=np.ones(3), v_threshold=th2, v_reset=np.zeros(3)),
        "output": nir.Output(np.array([3])),
    },
    edges=[("input", "fc1"), ("fc1", "if1"), ("if1", "fc2"), ("fc2", "if2"), ("if2", "output")],
)
nir.write(HERE / "if_chain.nir", g)

# Random input spikes, then the zero-delay semantics: every node of a
# step sees this step's spikes of the node before it.
steps = 40
x = (rng.random((steps, 4)) < 0.4).astype(np.float64)
v1, v2 = np.zeros(6), np.zeros(3)
out = []
for t in range(steps):
    v1 += w1 @ x[t] + b1
    z1 = v1 > th1
    v1[z1] = 0.0
    v2 += w2 @ z1.astype(np.float64) + b2
    z2 = v2 > th2
    v2[z2] = 0.0
    out += [(t, i) for i in np.flatnonzero(z2)]
with open(HERE / "if_chain_stimulus.csv", "w") as f:
    f.write("step,population,index\n")
    for t in range(steps):
        for i in np.flatnonzero(x[t]):
            f.write(f"{t},input,{i}\n")
with open(HERE / "if_chain_expected.csv", "w") as f:
    f.write("step,output_index\n")
    for t, i in out:
        f.write(f"{t},{i}\n")

# --- LIF layer with tau = dt * 2^3 (dt = 1e-3 in the metadata): exact decay.
lif_w = q(rng.normal(0.6, 1.0, (4, 5)))
g = nir.NIRGraph(
    nodes={
        "input": nir.Input(np.array([5])),
        "fc": nir.Linear(lif_w),
        "lif": nir.LIF(tau=np.full(4, 8e-3), r=np.full(4, 8.0), v_leak=np.zeros(4), v_threshold=np.full(4, 1.0)),
        "output": nir.Output(np.array([4])),
    },
    edges=[("input", "fc"), ("fc", "lif"), ("lif", "output")],
    metadata={"dt": 1e-3},
)
nir.write(HERE / "lif.nir", g)

# --- Recurrent LIF: the layer feeds itself through an Affine.
g = nir.NIRGraph(
    nodes={
        "input": nir.Input(np.array([3])),
        "fc_in": nir.Affine(q(rng.normal(0, 1.0, (5, 3))), np.zeros(5, np.float32)),
        "lif": nir.LIF(tau=np.full(5, 2e-3), r=np.full(5, 2.0), v_leak=np.zeros(5), v_threshold=np.full(5, 1.0)),
        "fc_rec": nir.Linear(q(rng.normal(0, 0.5, (5, 5)))),
        "output": nir.Output(np.array([5])),
    },
    edges=[("input", "fc_in"), ("fc_in", "lif"), ("lif", "fc_rec"), ("fc_rec", "lif"), ("lif", "output")],
    metadata={"dt": 1e-3},
)
nir.write(HERE / "recurrent_lif.nir", g)

# --- Recurrent CubaLIF: tau_mem = 8 dt and tau_syn = 4 dt (decays of 2^-3
# and 2^-2 per step, exact), r = 8 so that dt/tau_mem * r = 1.
cuba_in, cuba_rec = q(rng.normal(0, 1.0, (4, 3))), q(rng.normal(0, 0.5, (4, 4)))


def cuba():
    return nir.CubaLIF(
        tau_mem=np.full(4, 8e-3), tau_syn=np.full(4, 4e-3), r=np.full(4, 8.0), v_leak=np.zeros(4),
        v_threshold=np.ones(4), w_in=np.ones(4),
    )


g = nir.NIRGraph(
    nodes={
        "input": nir.Input(np.array([3])),
        "fc_in": nir.Linear(cuba_in),
        "cuba": cuba(),
        "fc_rec": nir.Linear(cuba_rec),
        "output": nir.Output(np.array([4])),
    },
    edges=[("input", "fc_in"), ("fc_in", "cuba"), ("cuba", "fc_rec"), ("fc_rec", "cuba"), ("cuba", "output")],
    metadata={"dt": 1e-3},
)
nir.write(HERE / "recurrent_cubalif.nir", g)


# --- Conv2d + SumPool2d + Flatten + Affine: a 1x6x6 image, 2 channels.
conv_w = q(rng.normal(0, 0.5, (2, 1, 3, 3)))
g = nir.NIRGraph(
    nodes={
        "input": nir.Input(np.array([1, 6, 6])),
        "conv": nir.Conv2d(input_shape=(6, 6), weight=conv_w, stride=1, padding=1, dilation=1, groups=1,
                           bias=np.zeros(2, np.float32)),
        "if_conv": nir.IF(r=np.ones((2, 6, 6)), v_threshold=np.ones((2, 6, 6)), v_reset=np.zeros((2, 6, 6))),
        "pool": nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0])),
        "flat": nir.Flatten(input_type={"input": np.array([2, 3, 3])}, start_dim=0, end_dim=-1),
        "fc": nir.Affine(q(rng.normal(0, 0.5, (4, 18))), np.zeros(4, np.float32)),
        "if_out": nir.IF(r=np.ones(4), v_threshold=np.ones(4), v_reset=np.zeros(4)),
        "output": nir.Output(np.array([4])),
    },
    edges=[("input", "conv"), ("conv", "if_conv"), ("if_conv", "pool"), ("pool", "flat"), ("flat", "fc"),
           ("fc", "if_out"), ("if_out", "output")],
)
nir.write(HERE / "conv.nir", g)

# --- Conv1d over a 2-channel signal of length 10.
g = nir.NIRGraph(
    nodes={
        "input": nir.Input(np.array([2, 10])),
        "conv1": nir.Conv1d(input_shape=10, weight=q(rng.normal(0.3, 0.5, (3, 2, 3))), stride=1, padding=1,
                            dilation=1, groups=1, bias=np.zeros(3, np.float32)),
        "if1": nir.IF(r=np.ones((3, 10)), v_threshold=np.ones((3, 10)), v_reset=np.zeros((3, 10))),
        "output": nir.Output(np.array([3, 10])),
    },
    edges=[("input", "conv1"), ("conv1", "if1"), ("if1", "output")],
)
nir.write(HERE / "conv1d.nir", g)

# --- Bad files.
(HERE / "bad_not_hdf5.nir").write_text("this is not an HDF5 file\n")


def edit(src, dst, fn):
    import shutil
    shutil.copy(HERE / src, HERE / dst)
    with h5py.File(HERE / dst, "r+") as f:
        fn(f)


def bad_version(f):
    del f["version"]
    f.create_dataset("version", data="7.0", dtype=h5py.string_dtype())


def unknown_node(f):
    del f["node/nodes/fc2/type"]
    f["node/nodes/fc2"].create_dataset("type", data="Mystery", dtype=h5py.string_dtype())


def shape_mismatch(f):
    del f["node/nodes/fc2/weight"]
    f["node/nodes/fc2"].create_dataset("weight", data=np.ones((3, 5), np.float32))


def dangling_edge(f):
    e = f["node/edges"][()]
    del f["node/edges"]
    e = np.concatenate([e, np.array([[b"if2", b"nowhere"]], dtype=object)])
    f["node"].create_dataset("edges", data=e, dtype=h5py.string_dtype())


edit("if_chain.nir", "bad_version.nir", bad_version)
edit("if_chain.nir", "bad_unknown_node.nir", unknown_node)
edit("if_chain.nir", "bad_shape_mismatch.nir", shape_mismatch)
edit("if_chain.nir", "bad_dangling_edge.nir", dangling_edge)


def input_too_large(f):
    del f["node/nodes/input/shape"]
    f["node/nodes/input"].create_dataset("shape", data=np.array([100_000_000] * 3, np.int64))


def empty_population(f):
    for key in ["r", "v_reset", "v_threshold"]:
        del f[f"node/nodes/if1/{key}"]
        f["node/nodes/if1"].create_dataset(key, data=np.zeros(0, np.float64))


edit("if_chain.nir", "bad_input_too_large.nir", input_too_large)
edit("if_chain.nir", "bad_empty_population.nir", empty_population)

# A pool whose window cells over its output make 2^28 synapses.
g = nir.NIRGraph(
    nodes={
        "input": nir.Input(np.array([1, 256, 256])),
        "pool": nir.SumPool2d(kernel_size=np.array([128, 128]), stride=np.array([1, 1]), padding=np.array([0, 0])),
        "if": nir.IF(r=np.ones((1, 129, 129)), v_threshold=np.ones((1, 129, 129)), v_reset=np.zeros((1, 129, 129))),
        "output": nir.Output(np.array([1, 129, 129])),
    },
    edges=[("input", "pool"), ("pool", "if"), ("if", "output")],
)
nir.write(HERE / "bad_pool_too_large.nir", g)

# --- CubaLI readout after IF neurons (read by potentials), taus not powers
# of two: tau_mem = 5 dt, tau_syn = 3 dt.
g = nir.NIRGraph(
    nodes={
        "input": nir.Input(np.array([3])),
        "fc1": nir.Affine(q(rng.normal(0, 1.0, (5, 3))), np.zeros(5, np.float32)),
        "if1": nir.IF(r=np.ones(5), v_threshold=np.ones(5), v_reset=np.zeros(5)),
        "fc2": nir.Linear(q(rng.normal(0, 1.0, (3, 5)))),
        "readout": nir.CubaLI(tau_mem=np.full(3, 5e-3), tau_syn=np.full(3, 3e-3), r=np.full(3, 5.0),
                              v_leak=np.zeros(3), w_in=np.full(3, 2.0)),
        "output": nir.Output(np.array([3])),
    },
    edges=[("input", "fc1"), ("fc1", "if1"), ("if1", "fc2"), ("fc2", "readout"), ("readout", "output")],
    metadata={"dt": 1e-3},
)
nir.write(HERE / "cubali_readout.nir", g)

# --- Nested graphs. snnTorch's export writes RSynaptic (and RLeaky) as a
# NIRGraph node of Input, CubaLIF, the recurrent Linear and Output, and the
# outer edges name that node. The same network as recurrent_cubalif.nir.


def rsynaptic():
    return nir.NIRGraph(
        nodes={
            "input": nir.Input(np.array([4])),
            "lif": cuba(),
            "w_rec": nir.Linear(cuba_rec),
            "output": nir.Output(np.array([4])),
        },
        edges=[("input", "lif"), ("lif", "w_rec"), ("w_rec", "lif"), ("lif", "output")],
        type_check=False,
    )


def around(name, graph, into, out_of):
    """Input(3) -> Linear -> `graph` (entered at `into`, left at `out_of`) -> Output(4)."""
    return nir.NIRGraph(
        nodes={"input": nir.Input(np.array([3])), "fc_in": nir.Linear(cuba_in), name: graph,
               "output": nir.Output(np.array([4]))},
        edges=[("input", "fc_in"), ("fc_in", into), (out_of, "output")],
        metadata={"dt": 1e-3},
        type_check=False,
    )


nir.write(HERE / "nested_rsynaptic.nir", around("rsyn", rsynaptic(), "rsyn", "rsyn"))

# The same, the outer edges naming nodes inside the nested graph
# (`graph.node`), two levels deep.
outer = nir.NIRGraph(nodes={"rsyn": rsynaptic(), "unused": nir.Input(np.array([4]))}, edges=[], type_check=False)
g = around("outer", outer, "outer.rsyn.lif", "outer.rsyn.output")
nir.write(HERE / "nested_dotted.nir", g)

# --- Scalar neuron parameters, as snnTorch exports Leaky(beta=0.9) and
# Synaptic: 0-d (or one-element) tau, r, v_leak, v_threshold, broadcast
# over the input. The same networks as lif.nir and recurrent_cubalif.nir.
g = nir.NIRGraph(
    nodes={
        "input": nir.Input(np.array([5])),
        "fc": nir.Linear(lif_w),
        "lif": nir.LIF(tau=np.array(8e-3), r=np.array(8.0), v_leak=np.array(0.0), v_threshold=np.array(1.0)),
        "output": nir.Output(np.array([4])),
    },
    edges=[("input", "fc"), ("fc", "lif"), ("lif", "output")],
    metadata={"dt": 1e-3},
    type_check=False,
)
# h5py cannot gzip a 0-d dataset (gzip is nir.write's default in nir
# 1.0.8); files written with compression=None hold them, as here.
nir.write(HERE / "scalar_lif.nir", g, compression=None)
g = nir.NIRGraph(
    nodes={
        "input": nir.Input(np.array([3])),
        "fc_in": nir.Linear(cuba_in),
        "cuba": nir.CubaLIF(tau_mem=np.array([8e-3]), tau_syn=np.array([4e-3]), r=np.array([8.0]),
                            v_leak=np.array([0.0]), v_threshold=np.array([1.0]), w_in=np.array([1.0])),
        "fc_rec": nir.Linear(cuba_rec),
        "output": nir.Output(np.array([4])),
    },
    edges=[("input", "fc_in"), ("fc_in", "cuba"), ("cuba", "fc_rec"), ("fc_rec", "cuba"), ("cuba", "output")],
    metadata={"dt": 1e-3},
    type_check=False,
)
nir.write(HERE / "scalar_recurrent_cubalif.nir", g)

# Bad: an edge names a nested graph of two Input nodes; a cycle through a
# nested graph's Input and Output alone.
two = rsynaptic()
two.nodes["input2"] = nir.Input(np.array([4]))
two.edges.append(("input2", "lif"))
nir.write(HERE / "bad_nested_two_inputs.nir", around("rsyn", two, "rsyn", "rsyn"))
g = nir.NIRGraph(
    nodes={
        "input": nir.Input(np.array([3])),
        "fc_in": nir.Linear(cuba_in),
        "wire": nir.NIRGraph(
            nodes={"input": nir.Input(np.array([4])), "output": nir.Output(np.array([4]))},
            edges=[("input", "output")],
            type_check=False,
        ),
        "lif": cuba(),
        "output": nir.Output(np.array([4])),
    },
    edges=[("input", "fc_in"), ("fc_in", "wire"), ("wire", "wire"), ("wire", "lif"), ("lif", "output")],
    type_check=False,
)
nir.write(HERE / "bad_nested_cycle.nir", g)

# Bad: a nested graph's Input declaring another shape than the values
# reaching it; a flattened name taken twice; a repeated edge.
wrong = rsynaptic()
wrong.nodes["input"] = nir.Input(np.array([5]))
nir.write(HERE / "bad_nested_shape.nir", around("rsyn", wrong, "rsyn", "rsyn"))
g = around("rsyn", rsynaptic(), "rsyn", "rsyn")
g.nodes["rsyn.lif"] = cuba()
nir.write(HERE / "bad_name_collision.nir", g)


def repeated_edge(f):
    e = f["node/edges"][()]
    del f["node/edges"]
    f["node"].create_dataset("edges", data=np.concatenate([e, e[1:2]]), dtype=h5py.string_dtype())


edit("if_chain.nir", "bad_repeated_edge.nir", repeated_edge)


def truncate_edges(path):
    """The edge dataset (contiguous, uncompressed) keeps its shape [2, 2]
    but its storage is cut to three of its four strings."""
    g = nir.NIRGraph(
        nodes={"input": nir.Input(np.array([2])), "if": nir.IF(r=np.ones(2), v_threshold=np.ones(2),
                                                               v_reset=np.zeros(2)),
               "output": nir.Output(np.array([2]))},
        edges=[("input", "if"), ("if", "output")], type_check=False)
    nir.write(path, g, compression=None)
    with h5py.File(path, "r") as f:
        d = f["node/edges"]
        addr, size = d.id.get_offset(), d.id.get_storage_size()
    import struct
    b = bytearray(path.read_bytes())
    at = b.find(struct.pack("<QQ", addr, size))
    assert at > 0 and b.count(struct.pack("<QQ", addr, size)) == 1
    b[at + 8:at + 16] = struct.pack("<Q", size * 3 // 4)
    path.write_bytes(bytes(b))


truncate_edges(HERE / "bad_truncated_edges.nir")

print("wrote", sorted(p.name for p in HERE.iterdir() if p.suffix in (".nir", ".csv")))
