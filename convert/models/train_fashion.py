#!/usr/bin/env python3
"""Trains an MLP on Fashion-MNIST (70,000 28x28 grey images of clothing, 10
classes; Zalando Research, MIT licence) for spikeforge's ANN-to-SNN demo and
exports it as ONNX (Gemm, Relu, Gemm).

    apt-get install dataset-fashion-mnist           # Debian: /usr/share/datasets/fashion-mnist/
    python3 -m pip install numpy onnx
    python3 convert/models/train_fashion.py         # writes convert/models/fashion_mlp.onnx

    python3 convert/models/train_fashion.py OUT.onnx [DATA_DIR]

Reads the four gzipped IDX files (train-images-idx3-ubyte.gz,
train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz,
t10k-labels-idx1-ubyte.gz) directly with gzip + struct + numpy. Trains on the
60,000 training images, tests on the 10,000 t10k images (the data set's own
split). Inputs are pixel values divided by 255 (0..1), the form the converter's
rate coding expects, flattened row-major to 784.

Deterministic: fixed initialization and batch order (numpy seed 0), plain numpy
Adam with a cosine learning-rate decay, float32 throughout, single-threaded
BLAS. Takes about half a minute on one core. Prints the test accuracy.
"""
import os

# One BLAS thread: the budget this is tuned for, and the same bytes on rerun.
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import gzip
import math
import struct
import sys
import time

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

DATA_DIR = "/usr/share/datasets/fashion-mnist"
HIDDEN = 128
EPOCHS = 40
BATCH = 128
LR = 1e-3


def read_idx(path):
    """An IDX file (optionally gzipped) as a numpy uint8 array of its shape."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file (magic {data[:4].hex()})")
    dims = struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])
    arr = np.frombuffer(data, np.uint8, offset=4 + 4 * ndim)
    if arr.size != math.prod(dims):
        raise ValueError(f"{path}: {arr.size} bytes of data for shape {dims}")
    return arr.reshape(dims)


def load(data_dir, prefix):
    x = read_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz"))
    assert x.shape[0] == y.shape[0] and x.shape[1:] == (28, 28)
    return (x.reshape(len(x), 784) / np.float32(255)).astype(np.float32), y.astype(np.int64)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "fashion_mlp.onnx")
    data_dir = sys.argv[2] if len(sys.argv) > 2 else DATA_DIR
    start = time.time()
    xtr, ytr = load(data_dir, "train")
    xte, yte = load(data_dir, "t10k")
    rng = np.random.default_rng(0)
    w1 = (rng.standard_normal((784, HIDDEN)) * np.sqrt(2.0 / 784)).astype(np.float32)
    b1 = np.zeros(HIDDEN, np.float32)
    w2 = (rng.standard_normal((HIDDEN, 10)) * np.sqrt(2.0 / HIDDEN)).astype(np.float32)
    b2 = np.zeros(10, np.float32)
    params = [w1, b1, w2, b2]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    total = EPOCHS * -(-len(xtr) // BATCH)
    t = 0
    for _ in range(EPOCHS):
        order = rng.permutation(len(xtr))
        for i in range(0, len(order), BATCH):
            idx = order[i:i + BATCH]
            xb, yb = xtr[idx], ytr[idx]
            h = np.maximum(xb @ params[0] + params[1], 0)
            z = h @ params[2] + params[3]
            p = np.exp(z - z.max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
            g = p
            g[np.arange(len(yb)), yb] -= 1
            g /= len(yb)
            gw2 = h.T @ g
            gb2 = g.sum(0)
            gh = (g @ params[2].T) * (h > 0)
            gw1 = xb.T @ gh
            gb1 = gh.sum(0)
            lr = LR * 0.5 * (1 + math.cos(math.pi * t / total))
            t += 1
            for k, gr in enumerate([gw1, gb1, gw2, gb2]):
                m[k] = 0.9 * m[k] + 0.1 * gr
                v[k] = 0.999 * v[k] + 0.001 * gr * gr
                mh = m[k] / (1 - 0.9 ** t)
                vh = v[k] / (1 - 0.999 ** t)
                params[k] -= (lr * mh / (np.sqrt(vh) + 1e-8)).astype(np.float32)
    w1, b1, w2, b2 = params
    assert all(p.dtype == np.float32 for p in params)
    acc = (np.argmax(np.maximum(xte @ w1 + b1, 0) @ w2 + b2, 1) == yte).mean()
    # ONNX Gemm computes A @ B^T with transB = 1: store weights as (out, in).
    inits = [
        numpy_helper.from_array(w1.T.copy(), "fc1.weight"),
        numpy_helper.from_array(b1, "fc1.bias"),
        numpy_helper.from_array(w2.T.copy(), "fc2.weight"),
        numpy_helper.from_array(b2, "fc2.bias"),
    ]
    nodes = [
        helper.make_node("Gemm", ["x", "fc1.weight", "fc1.bias"], ["h1"], name="fc1", transB=1),
        helper.make_node("Relu", ["h1"], ["a1"], name="relu1"),
        helper.make_node("Gemm", ["a1", "fc2.weight", "fc2.bias"], ["logits"], name="fc2", transB=1),
    ]
    graph = helper.make_graph(
        nodes,
        "fashion_mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 784])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])],
        inits,
    )
    model = helper.make_model(graph, producer_name="spikeforge train_fashion.py", opset_imports=[helper.make_opsetid("", 13)])
    model.doc_string = f"Fashion-MNIST MLP 784-{HIDDEN}-10, test accuracy {acc:.4f} on the 10000-image t10k set"
    onnx.checker.check_model(model)
    onnx.save(model, out)
    print(f"Fashion-MNIST MLP 784-{HIDDEN}-10: test accuracy {acc:.4f} ({len(yte)} images); "
          f"{time.time() - start:.0f} s; wrote {out}")


if __name__ == "__main__":
    main()
