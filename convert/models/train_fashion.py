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
import sys
import time

import common  # first: pins BLAS to one thread before numpy loads
import onnx

HIDDEN = 128
EPOCHS = 40
BATCH = 128
LR = 1e-3


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "fashion_mlp.onnx")
    data_dir = sys.argv[2] if len(sys.argv) > 2 else common.FASHION_DIR
    start = time.time()
    xtr, ytr = common.fashion(data_dir, "train", (784,))
    xte, yte = common.fashion(data_dir, "t10k", (784,))
    params = common.train_mlp(xtr, ytr, HIDDEN, EPOCHS, BATCH, LR, decay=True)
    acc = common.mlp_accuracy(params, xte, yte)
    doc = f"Fashion-MNIST MLP 784-{HIDDEN}-10, test accuracy {acc:.4f} on the 10000-image t10k set"
    onnx.save(common.mlp_onnx(params, "fashion_mlp", "spikeforge train_fashion.py", doc), out)
    print(f"Fashion-MNIST MLP 784-{HIDDEN}-10: test accuracy {acc:.4f} ({len(yte)} images); "
          f"{time.time() - start:.0f} s; wrote {out}")


if __name__ == "__main__":
    main()
