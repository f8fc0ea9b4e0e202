#!/usr/bin/env python3
"""Trains the Fashion-MNIST CNN of train_fashion_cnn.py (same layers, same
data, same schedule) with quantization clip-floor-shift activations
("QCFS", Bu et al., "Optimal ANN-SNN conversion for high-accuracy and
ultra-low-latency spiking neural networks", ICLR 2022) in place of its two
Relu, and exports it as ONNX with each of them as Clip(0, lambda).

    apt-get install dataset-fashion-mnist           # Debian: /usr/share/datasets/fashion-mnist/
    python3 -m pip install numpy onnx
    python3 convert/models/train_fashion_qcfs_cnn.py  # writes convert/models/fashion_qcfs_cnn.onnx

    python3 convert/models/train_fashion_qcfs_cnn.py [--no-check] [OUT.onnx [DATA_DIR]]

Why: a converted layer fires at most T spikes per inference, so its rate is
the ANN activation rounded to a multiple of lambda / T. A Relu network
never saw that rounding; at T = 8 the CNN of train_fashion_cnn.py loses 3
to 5 points (docs/conversion.md). Training with the activation

    h(x) = lambda * clip(floor(x * L / lambda + 1/2) / L, 0, 1)

(L = 8 levels, lambda learned per layer) makes the network robust to it:
the "+ 1/2" is the half-threshold shift the converter adds (`--method
shift` and every method after it), lambda is the layer's threshold. The
exported graph has the Clip(0, lambda) the quantizer sits in, so the
converter's thresholds are at most lambda (`--threshold max` gives lambda
itself wherever the layer saturates) and the ANN figure spikeforge compares
against is the unquantized network's.

The network (input "x" float [N, 1, 28, 28], output "logits" float [N, 10]):

    Conv 1->8, 5x5, stride 2, pads 2 (+ bias)   [N, 8, 14, 14]
    Clip(0, lambda1)
    AveragePool 2x2, stride 2                    [N, 8, 7, 7]
    Flatten (axis 1; C, H, W row-major)          [N, 392]
    Gemm 392->64 (transB = 1), Clip(0, lambda2)
    Gemm 64->10 (transB = 1)

Gradients: straight through the floor (d h / d x = 1 on 0 < x < lambda);
d h / d lambda = 1 above the clip and q / L - x / lambda inside it, as in
the paper. lambda starts at 2 (conv) and 4 (fc1) and is trained with the
weights by the same Adam.

Deterministic (numpy seed 0, float32, one BLAS thread). Prints the test
accuracy of the quantized network (what the SNN approaches at T = L) and of
the exported Clip network, then (unless --no-check) runs the written file
through onnx.reference on all 10,000 test images and fails unless it
predicts what the numpy Clip network does.
"""
import os
import sys
import time

import common  # first: pins BLAS to one thread before numpy loads
import numpy as np
import onnx
from onnx import helper, numpy_helper

import train_fashion_cnn as base

L = 8               # quantization levels: the T the network is trained for
LAMBDA0 = (2.0, 4.0)  # initial lambda of the conv and fc1 activations
CH, K, STRIDE, PAD = base.CH, base.K, base.STRIDE, base.PAD
HIDDEN, FLAT, CONV_OUT, POOL_OUT = base.HIDDEN, base.FLAT, base.CONV_OUT, base.POOL_OUT


def qcfs(x, lam, quant):
    """h(x) above; without quant the Clip(0, lambda) that is exported."""
    if not quant:
        return np.clip(x, 0, lam)
    q = np.clip(np.floor(x * (L / lam) + 0.5), 0, L)
    return (q * (lam / L)).astype(np.float32)


def qcfs_grads(x, lam, g):
    """(d loss / d x, d loss / d lambda) of h(x) given g = d loss / d h."""
    q = np.clip(np.floor(x * (L / lam) + 0.5), 0, L)
    inside = (x > 0) & (x < lam)
    dlam = np.where(q >= L, 1.0, np.where(inside, q / L - x / lam, 0.0))
    return g * inside, np.float32((g * dlam).sum())


def forward(params, x, quant=True, keep=False):
    """Logits [B, 10] of images x [B, 1, 28, 28], as the ONNX graph computes
    them (quant=False) or with the quantized activations (training)."""
    wc, bc, w1, b1, w2, b2, lam = params
    cols = base.im2col(x)
    c = (cols @ wc.T).reshape(len(x), CONV_OUT * CONV_OUT, CH)
    c = c.transpose(0, 2, 1) + bc[:, None]                       # [B, 8, 196]: NCHW
    a = qcfs(c, lam[0], quant).reshape(len(x), CH, POOL_OUT, 2, POOL_OUT, 2)
    f = a.mean((3, 5)).reshape(len(x), FLAT)
    z1 = f @ w1.T + b1
    h = qcfs(z1, lam[1], quant)
    z = h @ w2.T + b2
    return (z, cols, c, f, z1, h) if keep else z


def predict(params, x, quant, batch=1000):
    return np.concatenate([np.argmax(forward(params, x[i:i + batch], quant), 1) for i in range(0, len(x), batch)])


def train(xtr, ytr, rng, epochs=base.EPOCHS, lr0=base.LR, batch=base.BATCH, shift=base.SHIFT):
    he = lambda shape, fan_in: (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)
    params = [
        he((CH, K * K), K * K), np.zeros(CH, np.float32),
        he((HIDDEN, FLAT), FLAT), np.zeros(HIDDEN, np.float32),
        he((10, HIDDEN), HIDDEN), np.zeros(10, np.float32),
        np.array(LAMBDA0, np.float32),
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
                xb = base.translate(xb, rng.integers(-shift, shift + 1, (2, n)), shift)
            z, cols, c, f, z1, h = forward(params, xb, keep=True)
            g = np.exp(z - z.max(1, keepdims=True))
            g /= g.sum(1, keepdims=True)
            g[np.arange(n), yb] -= 1
            g /= n
            gw2 = g.T @ h
            gb2 = g.sum(0)
            gz1, glam1 = qcfs_grads(z1, params[6][1], g @ params[4])
            gw1 = gz1.T @ f
            gb1 = gz1.sum(0)
            ga = np.broadcast_to((gz1 @ params[2]).reshape(n, CH, POOL_OUT, 1, POOL_OUT, 1) * np.float32(0.25),
                                 (n, CH, POOL_OUT, 2, POOL_OUT, 2)).reshape(n, CH, CONV_OUT * CONV_OUT)
            gc, glam0 = qcfs_grads(c, params[6][0], ga)
            gc = gc.transpose(1, 0, 2).reshape(CH, n * CONV_OUT * CONV_OUT).astype(np.float32)
            gwc = gc @ cols
            gbc = gc.sum(1)
            glam = np.array([glam0, glam1], np.float32)
            lr = common.cosine(lr0, t, total)
            t += 1
            common.adam(params, [gwc, gbc, gw1.astype(np.float32), gb1.astype(np.float32), gw2, gb2, glam],
                        m, v, t, lr)
            params[6] = np.maximum(params[6], np.float32(1e-2))
    assert all(p.dtype == np.float32 for p in params)
    return params


def export(params, acc, correct, qacc, n):
    wc, bc, w1, b1, w2, b2, lam = params
    scalar = lambda value, name: numpy_helper.from_array(np.array(value, np.float32), name)
    inits = [
        numpy_helper.from_array(wc.reshape(CH, 1, K, K).copy(), "conv.weight"),
        numpy_helper.from_array(bc, "conv.bias"),
        numpy_helper.from_array(w1, "fc1.weight"),
        numpy_helper.from_array(b1, "fc1.bias"),
        numpy_helper.from_array(w2, "fc2.weight"),
        numpy_helper.from_array(b2, "fc2.bias"),
        scalar(0.0, "zero"),
        scalar(lam[0], "lambda1"),
        scalar(lam[1], "lambda2"),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "conv.weight", "conv.bias"], ["c1"], name="conv",
                         kernel_shape=[K, K], strides=[STRIDE, STRIDE], pads=[PAD, PAD, PAD, PAD]),
        helper.make_node("Clip", ["c1", "zero", "lambda1"], ["r1"], name="clip1"),
        helper.make_node("AveragePool", ["r1"], ["p1"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["p1"], ["f1"], name="flatten", axis=1),
        helper.make_node("Gemm", ["f1", "fc1.weight", "fc1.bias"], ["h1"], name="fc1", transB=1),
        helper.make_node("Clip", ["h1", "zero", "lambda2"], ["a1"], name="clip2"),
        helper.make_node("Gemm", ["a1", "fc2.weight", "fc2.bias"], ["logits"], name="fc2", transB=1),
    ]
    doc = (f"Fashion-MNIST CNN conv5x5s2({CH})-avgpool2-{FLAT}-{HIDDEN}-10 trained with QCFS activations "
           f"(L = {L}, lambda {lam[0]:.4f}, {lam[1]:.4f}), exported with Clip(0, lambda): test accuracy "
           f"{acc:.4f} ({correct}/{n} correct; quantized {qacc:.4f}) on the {n}-image t10k set")
    return common.onnx_model("fashion_qcfs_cnn", [1, 28, 28], nodes, inits, "spikeforge train_fashion_qcfs_cnn.py", doc)


def main():
    out, data_dir, do_check = common.cli_args(os.path.join(os.path.dirname(__file__), "fashion_qcfs_cnn.onnx"))
    start = time.time()
    xtr, ytr = base.load(data_dir, "train")
    xte, yte = base.load(data_dir, "t10k")
    params = train(xtr, ytr, np.random.default_rng(0))
    correct = int((predict(params, xte, False) == yte).sum())
    qcorrect = int((predict(params, xte, True) == yte).sum())
    acc, qacc = correct / len(yte), qcorrect / len(yte)
    onnx.save(export(params, acc, correct, qacc, len(yte)), out)
    print(f"Fashion-MNIST QCFS CNN (L = {L}, lambda {params[6][0]:.4f}, {params[6][1]:.4f}): test accuracy "
          f"{acc:.4f} ({correct}/{len(yte)} correct) as exported (Clip), {qacc:.4f} ({qcorrect}) quantized; "
          f"trained in {time.time() - start:.0f} s; wrote {out}")
    if do_check and common.check_onnx(out, xte, yte, lambda xb: forward(params, xb, False)) != correct:
        sys.exit("onnx.reference accuracy differs from numpy's")


if __name__ == "__main__":
    main()
