#!/usr/bin/env python3
"""Trains a small CNN on Fashion-MNIST (70,000 28x28 grey images of clothing,
10 classes; Zalando Research, MIT licence) for spikeforge's ANN-to-SNN demo and
exports it as ONNX (Conv, Relu, AveragePool, Flatten, Gemm, Relu, Gemm).

    apt-get install dataset-fashion-mnist           # Debian: /usr/share/datasets/fashion-mnist/
    python3 -m pip install numpy onnx
    python3 convert/models/train_fashion_cnn.py     # writes convert/models/fashion_cnn.onnx

    python3 convert/models/train_fashion_cnn.py [--no-check] [OUT.onnx [DATA_DIR]]

The network (input "x" float [N, 1, 28, 28], output "logits" float [N, 10]):

    Conv 1->8, 5x5, stride 2, pads 2 (+ bias)   [N, 8, 14, 14]
    Relu
    AveragePool 2x2, stride 2                    [N, 8, 7, 7]
    Flatten (axis 1; C, H, W row-major)          [N, 392]
    Gemm 392->64 (transB = 1), Relu
    Gemm 64->10 (transB = 1)

Reads the four gzipped IDX files (train-images-idx3-ubyte.gz,
train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz,
t10k-labels-idx1-ubyte.gz) directly with gzip + struct + numpy. Trains on the
60,000 training images, tests on the 10,000 t10k images (the data set's own
split). Inputs are pixel values divided by 255 (0..1), the form the converter's
rate coding expects.

numpy only: the convolution is im2col (a strided view of the zero-padded
images, 25 taps per output pixel) times the (8, 25) kernel matrix; the pool is
a reshape-mean. The forward pass keeps ONNX's NCHW layout so Flatten's order is
channel, row, column, as in the exported graph.

Deterministic: fixed initialization, batch order and augmentation (numpy seed
0), plain numpy Adam with a cosine learning-rate decay, float32 throughout,
single-threaded BLAS. The only augmentation is a random shift of each training
image by -1..1 rows and columns. Takes about three minutes on one core. Prints
the test accuracy and the number of correctly classified test images, then
(unless --no-check) runs the written file through onnx.reference's
ReferenceEvaluator on all 10,000 test images (under a minute) and fails unless
it predicts what the numpy forward pass does.
"""
import os
import sys
import time

import common  # first: pins BLAS to one thread before numpy loads
import numpy as np
import onnx
from onnx import helper, numpy_helper

CH = 8          # conv output channels
K = 5           # conv kernel size
STRIDE = 2      # conv stride
PAD = 2         # conv zero padding, each side
HIDDEN = 64
EPOCHS = 60
BATCH = 128
LR = 3e-3
SHIFT = 1       # augmentation: each training image moved by -1..1 rows and columns

CONV_OUT = (28 + 2 * PAD - K) // STRIDE + 1     # 14
POOL_OUT = CONV_OUT // 2                         # 7
FLAT = CH * POOL_OUT * POOL_OUT                  # 392


def load(data_dir, prefix):
    """Images as float32 [N, 1, 28, 28] in 0..1 (the ONNX input), labels int64."""
    return common.fashion(data_dir, prefix, (1, 28, 28))


def im2col(x):
    """[B, 1, 28, 28] -> [B * 196, 25]: row b * 196 + oy * 14 + ox holds the 5x5
    zero-padded window of image b at (2 oy - 2, 2 ox - 2), taps in (ky, kx)
    row-major order, the order of the ONNX Conv weight [8, 1, 5, 5] flattened to
    [8, 25]."""
    xp = np.pad(x[:, 0], ((0, 0), (PAD, PAD), (PAD, PAD)))
    b, sh, sw = xp.strides
    v = np.lib.stride_tricks.as_strided(
        xp, (len(x), CONV_OUT, CONV_OUT, K, K), (b, STRIDE * sh, STRIDE * sw, sh, sw), writeable=False)
    return v.reshape(len(x) * CONV_OUT * CONV_OUT, K * K)


def forward(params, x, keep=False):
    """Logits [B, 10] of images x [B, 1, 28, 28], computed as the ONNX graph does.
    With keep, also the intermediates the backward pass needs."""
    wc, bc, w1, b1, w2, b2 = params
    cols = im2col(x)                                             # [B * 196, 25]
    c = (cols @ wc.T).reshape(len(x), CONV_OUT * CONV_OUT, CH)   # [B, 196, 8]
    c = c.transpose(0, 2, 1) + bc[:, None]                       # [B, 8, 196]: NCHW
    c = np.maximum(c, 0).reshape(len(x), CH, POOL_OUT, 2, POOL_OUT, 2)
    p = c.mean((3, 5))                                           # [B, 8, 7, 7]
    f = p.reshape(len(x), FLAT)                                  # Flatten: C, H, W
    h = np.maximum(f @ w1.T + b1, 0)                             # Gemm transB = 1
    z = h @ w2.T + b2
    return (z, cols, c, f, h) if keep else z


def predict(params, x, batch=1000):
    return np.concatenate([np.argmax(forward(params, x[i:i + batch]), 1) for i in range(0, len(x), batch)])


def translate(x, d, s):
    """Images x [B, 1, 28, 28] moved by d[0][b] rows and d[1][b] columns
    (|d| <= s), zeros shifted in."""
    return common.shift_images(x[:, 0], d, s)[:, None]


def train(xtr, ytr, rng, epochs=EPOCHS, lr0=LR, batch=BATCH, shift=SHIFT):
    he = lambda shape, fan_in: (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)
    params = [
        he((CH, K * K), K * K), np.zeros(CH, np.float32),          # conv, as (out, taps)
        he((HIDDEN, FLAT), FLAT), np.zeros(HIDDEN, np.float32),    # fc1, as (out, in)
        he((10, HIDDEN), HIDDEN), np.zeros(10, np.float32),        # fc2, as (out, in)
    ]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    total = epochs * -(-len(xtr) // batch)
    t = 0
    for _ in range(epochs):
        order = rng.permutation(len(xtr))
        for i in range(0, len(order), batch):
            idx = order[i:i + batch]
            xb, yb = xtr[idx], ytr[idx]
            n = len(yb)
            if shift:
                xb = translate(xb, rng.integers(-shift, shift + 1, (2, n)), shift)
            z, cols, c, f, h = forward(params, xb, keep=True)
            g = np.exp(z - z.max(1, keepdims=True))
            g /= g.sum(1, keepdims=True)
            g[np.arange(n), yb] -= 1
            g /= n                                                  # d loss / d z (mean cross-entropy)
            gw2 = g.T @ h
            gb2 = g.sum(0)
            gh = (g @ params[4]) * (h > 0)
            gw1 = gh.T @ f
            gb1 = gh.sum(0)
            gp = (gh @ params[2]).reshape(n, CH, POOL_OUT, 1, POOL_OUT, 1) * np.float32(0.25)
            gc = (gp * (c > 0)).reshape(n, CH, CONV_OUT * CONV_OUT)
            gc = gc.transpose(1, 0, 2).reshape(CH, n * CONV_OUT * CONV_OUT)
            gwc = gc @ cols                                         # sum over images and positions
            gbc = gc.sum(1)
            lr = common.cosine(lr0, t, total)
            t += 1
            common.adam(params, [gwc, gbc, gw1, gb1, gw2, gb2], m, v, t, lr)
    assert all(p.dtype == np.float32 for p in params)
    return params


def export(params, acc, correct, n):
    wc, bc, w1, b1, w2, b2 = params
    inits = [
        numpy_helper.from_array(wc.reshape(CH, 1, K, K).copy(), "conv.weight"),
        numpy_helper.from_array(bc, "conv.bias"),
        numpy_helper.from_array(w1, "fc1.weight"),                 # (out, in): Gemm transB = 1
        numpy_helper.from_array(b1, "fc1.bias"),
        numpy_helper.from_array(w2, "fc2.weight"),
        numpy_helper.from_array(b2, "fc2.bias"),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "conv.weight", "conv.bias"], ["c1"], name="conv",
                         kernel_shape=[K, K], strides=[STRIDE, STRIDE], pads=[PAD, PAD, PAD, PAD]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("AveragePool", ["r1"], ["p1"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["p1"], ["f1"], name="flatten", axis=1),
        helper.make_node("Gemm", ["f1", "fc1.weight", "fc1.bias"], ["h1"], name="fc1", transB=1),
        helper.make_node("Relu", ["h1"], ["a1"], name="relu2"),
        helper.make_node("Gemm", ["a1", "fc2.weight", "fc2.bias"], ["logits"], name="fc2", transB=1),
    ]
    doc = (f"Fashion-MNIST CNN conv5x5s2({CH})-avgpool2-{FLAT}-{HIDDEN}-10, test accuracy "
           f"{acc:.4f} ({correct}/{n} correct) on the {n}-image t10k set")
    return common.onnx_model("fashion_cnn", [1, 28, 28], nodes, inits, "spikeforge train_fashion_cnn.py", doc)


def check(path, params, xte, yte):
    """Runs the written ONNX file through the ONNX reference evaluator on every
    test image; its predictions must be the numpy forward pass's."""
    return common.check_onnx(path, xte, yte, lambda xb: forward(params, xb))


def main():
    out, data_dir, do_check = common.cli_args(os.path.join(os.path.dirname(__file__), "fashion_cnn.onnx"))
    start = time.time()
    xtr, ytr = load(data_dir, "train")
    xte, yte = load(data_dir, "t10k")
    params = train(xtr, ytr, np.random.default_rng(0))
    correct = int((predict(params, xte) == yte).sum())
    acc = correct / len(yte)
    onnx.save(export(params, acc, correct, len(yte)), out)
    print(f"Fashion-MNIST CNN conv5x5s2({CH})-avgpool2-{FLAT}-{HIDDEN}-10: test accuracy {acc:.4f} "
          f"({correct}/{len(yte)} correct); trained in {time.time() - start:.0f} s; wrote {out}")
    if do_check and check(out, params, xte, yte) != correct:
        sys.exit("onnx.reference accuracy differs from numpy's")


if __name__ == "__main__":
    main()
