#!/usr/bin/env python3
"""Trains the small ANN of spikeforge's ANN-to-SNN demo on the `digits` data
set (1797 8x8 images, scikit-learn's copy of the UCI set) and exports it as
ONNX (Gemm, Relu, Gemm).

    python3 -m pip install numpy scikit-learn onnx
    python3 convert/models/train_digits.py          # writes convert/models/digits_mlp.onnx

Deterministic: fixed split that needs no scikit-learn to reproduce (sample i,
in the order of `load_digits`, is a test image when i % 4 == 0: 450 test, 1347
train), fixed initialization and batch order (numpy seed 0), plain numpy Adam,
single-threaded BLAS. Inputs are pixel values divided by 16 (0..1), the form
the converter's rate coding expects. Prints the test accuracy.
"""
import os

# One BLAS thread: the same bytes on rerun.
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import sys

import numpy as np
from sklearn.datasets import load_digits
import onnx
from onnx import TensorProto, helper, numpy_helper

HIDDEN = 32
EPOCHS = 80
BATCH = 32
LR = 2e-3


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "digits_mlp.onnx")
    d = load_digits()
    x = (d.data / 16.0).astype(np.float32)
    y = d.target.astype(np.int64)
    test = np.arange(len(y)) % 4 == 0
    xtr, ytr, xte, yte = x[~test], y[~test], x[test], y[test]
    rng = np.random.default_rng(0)
    w1 = (rng.standard_normal((64, HIDDEN)) * np.sqrt(2.0 / 64)).astype(np.float32)
    b1 = np.zeros(HIDDEN, np.float32)
    w2 = (rng.standard_normal((HIDDEN, 10)) * np.sqrt(2.0 / HIDDEN)).astype(np.float32)
    b2 = np.zeros(10, np.float32)
    params = [w1, b1, w2, b2]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    t = 0
    for _ in range(EPOCHS):
        order = rng.permutation(len(xtr))
        for i in range(0, len(order), BATCH):
            idx = order[i:i + BATCH]
            xb, yb = xtr[idx], ytr[idx]
            h = np.maximum(xb @ w1 + b1, 0)
            z = h @ w2 + b2
            p = np.exp(z - z.max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
            g = p
            g[np.arange(len(yb)), yb] -= 1
            g /= len(yb)
            gw2 = h.T @ g
            gb2 = g.sum(0)
            gh = (g @ w2.T) * (h > 0)
            gw1 = xb.T @ gh
            gb1 = gh.sum(0)
            t += 1
            for k, gr in enumerate([gw1, gb1, gw2, gb2]):
                m[k] = 0.9 * m[k] + 0.1 * gr
                v[k] = 0.999 * v[k] + 0.001 * gr * gr
                mh = m[k] / (1 - 0.9 ** t)
                vh = v[k] / (1 - 0.999 ** t)
                params[k] -= (LR * mh / (np.sqrt(vh) + 1e-8)).astype(np.float32)
    w1, b1, w2, b2 = params
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
        "digits_mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 64])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])],
        inits,
    )
    model = helper.make_model(graph, producer_name="spikeforge train_digits.py", opset_imports=[helper.make_opsetid("", 13)])
    model.doc_string = f"digits MLP 64-{HIDDEN}-10, test accuracy {acc:.4f} on the 450-image split (index % 4 == 0)"
    onnx.checker.check_model(model)
    onnx.save(model, out)
    print(f"digits MLP 64-{HIDDEN}-10: test accuracy {acc:.4f} ({len(yte)} images); wrote {out}")


if __name__ == "__main__":
    main()
