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
import sys

import common  # first: pins BLAS to one thread before numpy loads
import onnx
from sklearn.datasets import load_digits
import numpy as np

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
    params = common.train_mlp(xtr, ytr, HIDDEN, EPOCHS, BATCH, LR, decay=False)
    acc = common.mlp_accuracy(params, xte, yte)
    doc = f"digits MLP 64-{HIDDEN}-10, test accuracy {acc:.4f} on the 450-image split (index % 4 == 0)"
    onnx.save(common.mlp_onnx(params, "digits_mlp", "spikeforge train_digits.py", doc), out)
    print(f"digits MLP 64-{HIDDEN}-10: test accuracy {acc:.4f} ({len(yte)} images); wrote {out}")


if __name__ == "__main__":
    main()
