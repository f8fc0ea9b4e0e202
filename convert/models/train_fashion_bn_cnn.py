#!/usr/bin/env python3
"""Trains a deeper CNN with batch normalization on Fashion-MNIST for
spikeforge's ANN-to-SNN conversion and exports it as ONNX the way framework
exporters write such a network: Conv without bias, BatchNormalization (the
running statistics), Relu, four times, then Flatten and Gemm.

    apt-get install dataset-fashion-mnist           # Debian: /usr/share/datasets/fashion-mnist/
    python3 -m pip install numpy onnx
    python3 convert/models/train_fashion_bn_cnn.py  # writes convert/models/fashion_bn_cnn.onnx

    python3 convert/models/train_fashion_bn_cnn.py [--no-check] [OUT.onnx [DATA_DIR]]

The network (input "x" float [N, 1, 28, 28], output "logits" float [N, 10]):

    Conv 1->8,   3x3, stride 2, pads 1, no bias; BatchNormalization; Relu   [N, 8, 14, 14]
    Conv 8->16,  3x3, stride 1, pads 1, no bias; BatchNormalization; Relu   [N, 16, 14, 14]
    Conv 16->16, 3x3, stride 2, pads 1, no bias; BatchNormalization; Relu   [N, 16, 7, 7]
    Conv 16->32, 3x3, stride 1, pads 1, no bias; BatchNormalization; Relu   [N, 32, 7, 7]
    Flatten (axis 1; C, H, W row-major)                                      [N, 1568]
    Gemm 1568->10 (transB = 1)

Why this network: batch normalization gives every channel its own scale
and offset, so after folding into the convolutions the channels of one
layer have very different activation ranges while a converted layer has one
threshold; four spiking layers then stack up the rate errors. Converted
without calibration it loses most of its accuracy at small T, which is
what calibration has to recover (docs/conversion.md).

Training: mini-batch statistics in batch normalization (eps 1e-5), He
initialization, Adam with a cosine learning-rate decay, softmax
cross-entropy, a random shift of each training image by -1..1 rows and
columns. The exported running statistics are not the exponential averages
of training but the exact mean and (biased) variance of every channel over
all 60,000 training images under the final weights, layer by layer
("precise BN"), so the exported graph is a deterministic function of the
weights. Tests on the 10,000 t10k images.

numpy only, NHWC inside (a convolution is an im2col view of the padded
input times the kernel matrix; its input gradient scatters the 9 taps back);
the exported weights are reordered to ONNX's [M, C, kH, kW] and Flatten's
order (channel, row, column) is reproduced by a transpose before the Gemm.

Deterministic: numpy seed 0 for initialization, batch order and shifts,
float32 throughout, single-threaded BLAS. Prints the test accuracy, then
(unless --no-check) runs the written file through onnx.reference's
ReferenceEvaluator on all 10,000 test images and fails unless it predicts
what the numpy forward pass does.
"""
import os
import sys
import time

import common  # first: pins BLAS to one thread before numpy loads
import numpy as np
import onnx
from onnx import helper, numpy_helper

# (in channels, out channels, stride) of the 3x3 convolutions, pads 1.
CONVS = [(1, 8, 2), (8, 16, 1), (16, 16, 2), (16, 32, 1)]
K = 3
PAD = 1
EPS = 1e-5
SIDE = 7                       # spatial side after the two stride-2 layers
FLAT = CONVS[-1][1] * SIDE * SIDE  # 1568
EPOCHS = 12
BATCH = 128
LR = 3e-3
SHIFT = 1


def im2col(x, stride):
    """NHWC [B, H, W, C] -> ([B * OH * OW, 9 C] with taps in (ky, kx, c)
    order, (OH, OW))."""
    b, h, w, c = x.shape
    oh, ow = (h + 2 * PAD - K) // stride + 1, (w + 2 * PAD - K) // stride + 1
    xp = np.pad(x, ((0, 0), (PAD, PAD), (PAD, PAD), (0, 0)))
    sb, sh, sw, sc = xp.strides
    v = np.lib.stride_tricks.as_strided(xp, (b, oh, ow, K, K, c), (sb, stride * sh, stride * sw, sh, sw, sc),
                                        writeable=False)
    return v.reshape(b * oh * ow, K * K * c), (oh, ow)


def col2im(g, shape, stride):
    """The input gradient [B, H, W, C] of im2col from its gradient
    [B * OH * OW, 9 C]."""
    b, h, w, c = shape
    oh, ow = (h + 2 * PAD - K) // stride + 1, (w + 2 * PAD - K) // stride + 1
    g = g.reshape(b, oh, ow, K, K, c)
    gp = np.zeros((b, h + 2 * PAD, w + 2 * PAD, c), np.float32)
    for ky in range(K):
        for kx in range(K):
            gp[:, ky:ky + stride * oh:stride, kx:kx + stride * ow:stride] += g[:, :, :, ky, kx]
    return gp[:, PAD:PAD + h, PAD:PAD + w]


def init(rng):
    """Conv kernels as (out, ky * kx * in) matrices, BN scale and shift per
    conv, the final Gemm as (out, in) over the NCHW-flattened features."""
    he = lambda shape, fan_in: (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)
    params = []
    for cin, cout, _ in CONVS:
        params += [he((cout, K * K * cin), K * K * cin), np.ones(cout, np.float32), np.zeros(cout, np.float32)]
    params += [he((10, FLAT), FLAT), np.zeros(10, np.float32)]
    return params


def forward(params, x, stats=None, keep=False):
    """Logits [B, 10] of images x [B, 28, 28, 1]. With `stats` (a list of
    (mean, var) per conv) batch normalization uses them; without, the batch's
    own. With keep, also what the backward pass needs."""
    tape, a = [], x
    batch = []
    for i, (_, cout, stride) in enumerate(CONVS):
        w, gamma, beta = params[3 * i:3 * i + 3]
        cols, (oh, ow) = im2col(a, stride)
        y = cols @ w.T                                               # [B * P, cout]
        if stats is None:
            mean, var = y.mean(0), y.var(0)
        else:
            mean, var = stats[i]
        batch.append((mean, var))
        inv = (1 / np.sqrt(var + EPS)).astype(np.float32)
        xhat = (y - mean) * inv
        out = np.maximum(xhat * gamma + beta, 0)
        if keep:
            tape.append((a.shape, cols, xhat, inv, out))
        a = out.reshape(len(x), oh, ow, cout)
    f = a.transpose(0, 3, 1, 2).reshape(len(x), FLAT)               # Flatten: C, H, W
    z = f @ params[-2].T + params[-1]
    return (z, tape, f, batch) if keep else z


def backward(params, g, tape, f):
    """Gradients of every parameter from d loss / d logits g [B, 10]."""
    grads = [None] * len(params)
    grads[-2], grads[-1] = g.T @ f, g.sum(0)
    n = len(g)
    gf = g @ params[-2]
    ga = gf.reshape(n, CONVS[-1][1], SIDE, SIDE).transpose(0, 2, 3, 1)
    for i in reversed(range(len(CONVS))):
        w, gamma, _ = params[3 * i:3 * i + 3]
        shape, cols, xhat, inv, out = tape[i]
        gout = ga.reshape(out.shape) * (out > 0)
        grads[3 * i + 1] = (gout * xhat).sum(0)
        grads[3 * i + 2] = gout.sum(0)
        gx = gout * gamma
        gy = inv * (gx - gx.mean(0) - xhat * (gx * xhat).mean(0))    # batch-norm backward
        grads[3 * i] = gy.T @ cols
        if i > 0:
            ga = col2im(gy @ w, shape, CONVS[i][2])
    return grads


def population_stats(params, xtr, batch=1000):
    """Every conv's exact channel mean and biased variance over all of xtr,
    layer by layer with the layers before already normalized by theirs."""
    stats = []
    for i in range(len(CONVS)):
        s1, s2, n = 0.0, 0.0, 0
        for j in range(0, len(xtr), batch):
            a = xtr[j:j + batch]
            for k, (_, cout, stride) in enumerate(CONVS[:i + 1]):
                w, gamma, beta = params[3 * k:3 * k + 3]
                cols, (oh, ow) = im2col(a, stride)
                y = (cols @ w.T).astype(np.float64)
                if k == i:
                    s1 = s1 + y.sum(0)
                    s2 = s2 + (y * y).sum(0)
                    n += len(y)
                    break
                mean, var = stats[k]
                y = ((y - mean) / np.sqrt(var + EPS)) * gamma + beta
                a = np.maximum(y, 0).astype(np.float32).reshape(len(a), oh, ow, cout)
        mean = s1 / n
        stats.append((mean.astype(np.float32), (s2 / n - mean * mean).astype(np.float32)))
    return stats


def predict(params, stats, x, batch=1000):
    return np.concatenate([np.argmax(forward(params, x[i:i + batch], stats), 1) for i in range(0, len(x), batch)])


def train(xtr, ytr, rng):
    params = init(rng)
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    total = EPOCHS * -(-len(xtr) // BATCH)
    t = 0
    for epoch in range(EPOCHS):
        start = time.time()
        order = rng.permutation(len(xtr))
        loss = 0.0
        for i in range(0, len(order), BATCH):
            idx = order[i:i + BATCH]
            xb, yb = xtr[idx], ytr[idx]
            n = len(yb)
            xb = common.shift_images(xb[..., 0], rng.integers(-SHIFT, SHIFT + 1, (2, n)), SHIFT)[..., None]
            z, tape, f, _ = forward(params, xb, keep=True)
            g = np.exp(z - z.max(1, keepdims=True))
            g /= g.sum(1, keepdims=True)
            loss -= float(np.log(g[np.arange(n), yb] + 1e-12).sum())
            g[np.arange(n), yb] -= 1
            g /= n
            grads = backward(params, g, tape, f)
            t += 1
            common.adam(params, grads, m, v, t, common.cosine(LR, t - 1, total))
        print(f"epoch {epoch + 1}/{EPOCHS}: loss {loss / len(xtr):.4f}, {time.time() - start:.0f} s", flush=True)
    assert all(p.dtype == np.float32 for p in params)
    return params


def export(params, stats, acc, correct, n):
    inits, nodes, prev = [], [], "x"
    for i, (cin, cout, stride) in enumerate(CONVS):
        w, gamma, beta = params[3 * i:3 * i + 3]
        mean, var = stats[i]
        c = f"conv{i + 1}"
        b = f"bn{i + 1}"
        inits += [
            numpy_helper.from_array(w.reshape(cout, K, K, cin).transpose(0, 3, 1, 2).copy(), f"{c}.weight"),
            numpy_helper.from_array(gamma, f"{b}.weight"),
            numpy_helper.from_array(beta, f"{b}.bias"),
            numpy_helper.from_array(mean, f"{b}.running_mean"),
            numpy_helper.from_array(var, f"{b}.running_var"),
        ]
        nodes += [
            helper.make_node("Conv", [prev, f"{c}.weight"], [f"{c}.out"], name=c, kernel_shape=[K, K],
                             strides=[stride, stride], pads=[PAD] * 4),
            helper.make_node("BatchNormalization",
                             [f"{c}.out", f"{b}.weight", f"{b}.bias", f"{b}.running_mean", f"{b}.running_var"],
                             [f"{b}.out"], name=b, epsilon=EPS),
            helper.make_node("Relu", [f"{b}.out"], [f"relu{i + 1}.out"], name=f"relu{i + 1}"),
        ]
        prev = f"relu{i + 1}.out"
    inits += [numpy_helper.from_array(params[-2], "fc.weight"), numpy_helper.from_array(params[-1], "fc.bias")]
    nodes += [
        helper.make_node("Flatten", [prev], ["flat"], name="flatten", axis=1),
        helper.make_node("Gemm", ["flat", "fc.weight", "fc.bias"], ["logits"], name="fc", transB=1),
    ]
    arch = "-".join(f"conv3x3s{s}({o})bn" for _, o, s in CONVS) + f"-{FLAT}-10"
    doc = f"Fashion-MNIST BN CNN {arch}, test accuracy {acc:.4f} ({correct}/{n} correct) on the {n}-image t10k set"
    # Opset 15, as current exporters write batch norm (training_mode = 0):
    # onnx.reference's BatchNormalization of opsets 9 to 13 mixes the batch's
    # statistics into the running ones (its momentum attribute defaults to
    # 0.9), which is not what those opsets specify for inference.
    return common.onnx_model("fashion_bn_cnn", [1, 28, 28], nodes, inits, "spikeforge train_fashion_bn_cnn.py", doc,
                             opset=15)


def check(path, params, stats, xte, yte):
    """The written file through the ONNX reference evaluator on every test
    image: its predictions must be the numpy forward pass's."""
    return common.check_onnx(path, xte, yte, lambda xb: forward(params, xb, stats),
                             lambda xb: xb.transpose(0, 3, 1, 2).copy())


def main():
    out, data_dir, do_check = common.cli_args(os.path.join(os.path.dirname(__file__), "fashion_bn_cnn.onnx"))
    start = time.time()
    xtr, ytr = common.fashion(data_dir, "train", (28, 28, 1))
    xte, yte = common.fashion(data_dir, "t10k", (28, 28, 1))
    params = train(xtr, ytr, np.random.default_rng(0))
    stats = population_stats(params, xtr)
    correct = int((predict(params, stats, xte) == yte).sum())
    acc = correct / len(yte)
    onnx.save(export(params, stats, acc, correct, len(yte)), out)
    print(f"Fashion-MNIST BN CNN: test accuracy {acc:.4f} ({correct}/{len(yte)} correct); "
          f"trained in {time.time() - start:.0f} s; wrote {out}")
    if do_check and check(out, params, stats, xte, yte) != correct:
        sys.exit("onnx.reference accuracy differs from numpy's")


if __name__ == "__main__":
    main()
