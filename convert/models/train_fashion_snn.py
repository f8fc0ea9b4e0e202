#!/usr/bin/env python3
"""Trains a spiking MLP (784 inputs, 128 LIF neurons, 10 leaky integrators)
on Fashion-MNIST directly, with surrogate gradients, the temporal efficient
training (TET) loss and mixed time steps, and exports it as NIR.

    apt-get install dataset-fashion-mnist           # /usr/share/datasets/fashion-mnist/
    python3 -m pip install numpy onnx nir
    python3 convert/models/train_fashion_snn.py     # writes convert/models/fashion_snn.nir

    python3 convert/models/train_fashion_snn.py OUT.nir [DATA_DIR]

The network, step by step (t = 0 .. T-1), exactly what the NIR graph says
with dt = 1 ms:
- input: pixel p (0..255) spikes at step t when
  floor((2tp + 255) / 510) < floor((2(t+1)p + 255) / 510), a deterministic
  rate code (about p/255 spikes per step, integers only, so spikeforge's
  driver reproduces it bit for bit);
- hidden LIF: v = 0.75 v + W1 s + b1, spike when v > 1, then v = 0
  (NIR LIF with tau = 4 dt, r = 4, v_leak = 0, v_threshold = 1, v_reset = 0:
  a decay of 2^-2 per step, exact in spikeforge);
- output LI: u = (1 - 2^-15) u + W2 z + b2 (tau = 2^15 dt, r = 2^15), read
  as logits u / (t + 1), the running mean of the output current.

Training: backpropagation through time with the reset detached and an
arctan surrogate for the spike's derivative; TET loss (the mean over steps
of the cross-entropy of each step's logits); each batch draws its T from
{2, 4, 8} (mixed time steps), so one model serves every T. Adam with a
cosine decay. Deterministic (seed 0, single-threaded BLAS). Prints the test
accuracy in floating point at T = 2, 4 and 8; `cargo bench -p
spikeforge-sim --bench nir_snn` measures the imported network.
"""
import os
import sys
import time

import common  # first: pins BLAS to one thread before numpy loads
import nir
import numpy as np

HIDDEN = 128
EPOCHS = 12
BATCH = 128
LR = 2e-3
BETA = 0.75  # 1 - 2^-2
BETA_OUT = 1.0 - 2.0**-15
THRESHOLD = 1.0
STEPS = (2, 4, 8)
DT = 1e-3


def encode(pixels, steps):
    """[N, 784] uint8 pixels to [steps, N, 784] spikes (float32 0/1)."""
    p = pixels.astype(np.int64)
    n = [(2 * t * p + 255) // 510 for t in range(steps + 1)]
    return np.stack([(n[t + 1] > n[t]).astype(np.float32) for t in range(steps)])


def forward(params, s, keep=False):
    """Runs the network on spikes s [T, B, 784]; returns the logits per step
    (and the state for the backward pass)."""
    w1, b1, w2, b2 = params
    steps, batch = s.shape[0], s.shape[1]
    v = np.zeros((batch, HIDDEN), np.float32)
    u = np.zeros((batch, 10), np.float32)
    vs, zs, outs = [], [], []
    for t in range(steps):
        v = BETA * v + s[t] @ w1 + b1
        z = (v > THRESHOLD).astype(np.float32)
        if keep:
            vs.append(v.copy())
            zs.append(z)
        v = v * (1.0 - z)
        u = BETA_OUT * u + z @ w2 + b2
        outs.append(u / (t + 1))
    return outs, vs, zs


def surrogate(x):
    """d spike / d v: the derivative of arctan(pi x) / pi + 1/2, scaled by 2."""
    return 2.0 / (1.0 + (np.pi * x) ** 2)


def grads(params, s, y):
    w1, b1, w2, b2 = params
    steps, batch = s.shape[0], s.shape[1]
    outs, vs, zs = forward(params, s, keep=True)
    loss = 0.0
    dout = []
    for o in outs:
        p = np.exp(o - o.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        loss -= np.log(p[np.arange(batch), y] + 1e-12).mean() / steps
        g = p
        g[np.arange(batch), y] -= 1
        dout.append(g / (batch * steps))
    gw1, gb1 = np.zeros_like(w1), np.zeros_like(b1)
    gw2, gb2 = np.zeros_like(w2), np.zeros_like(b2)
    du = np.zeros((batch, 10), np.float32)
    dv_next = np.zeros((batch, HIDDEN), np.float32)
    for t in reversed(range(steps)):
        du = dout[t] / (t + 1) + BETA_OUT * du
        gw2 += zs[t].T @ du
        gb2 += du.sum(0)
        dz = du @ w2.T
        # v_t feeds the spike and, through the (detached) reset, v_{t+1}.
        dv = dz * surrogate(vs[t] - THRESHOLD) + BETA * dv_next * (1.0 - zs[t])
        gw1 += s[t].T @ dv
        gb1 += dv.sum(0)
        dv_next = dv
    return loss, [gw1, gb1, gw2, gb2]


def accuracy(params, pixels, y, steps):
    correct = 0
    for i in range(0, len(pixels), 1000):
        outs, _, _ = forward(params, encode(pixels[i:i + 1000], steps))
        correct += (np.argmax(outs[-1], 1) == y[i:i + 1000]).sum()
    return correct / len(pixels)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "fashion_snn.nir")
    data = sys.argv[2] if len(sys.argv) > 2 else common.FASHION_DIR
    xtr, ytr = common.fashion(data, "train", (784,))
    xte, yte = common.fashion(data, "t10k", (784,))
    # Back to the 0..255 pixels the encoder counts with.
    ptr = np.round(xtr * 255).astype(np.uint8)
    pte = np.round(xte * 255).astype(np.uint8)
    rng = np.random.default_rng(0)
    params = [
        (rng.standard_normal((784, HIDDEN)) * np.sqrt(2.0 / 784)).astype(np.float32),
        np.zeros(HIDDEN, np.float32),
        (rng.standard_normal((HIDDEN, 10)) * np.sqrt(2.0 / HIDDEN)).astype(np.float32),
        np.zeros(10, np.float32),
    ]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    total = EPOCHS * -(-len(ptr) // BATCH)
    t = 0
    start = time.time()
    for epoch in range(EPOCHS):
        order = rng.permutation(len(ptr))
        losses = []
        for i in range(0, len(order), BATCH):
            idx = order[i:i + BATCH]
            steps = STEPS[rng.integers(len(STEPS))]
            loss, g = grads(params, encode(ptr[idx], steps), ytr[idx])
            losses.append(loss)
            t += 1
            common.adam(params, g, m, v, t, common.cosine(LR, t, total))
        print(f"epoch {epoch + 1}: loss {np.mean(losses):.4f} ({time.time() - start:.0f} s)", flush=True)
    for steps in STEPS:
        print(f"test accuracy at T = {steps}: {100 * accuracy(params, pte, yte, steps):.2f}%")
    w1, b1, w2, b2 = params
    tau_h = DT / (1 - BETA)
    tau_o = DT / (1 - BETA_OUT)
    graph = nir.NIRGraph(
        nodes={
            "input": nir.Input(np.array([784])),
            "fc1": nir.Affine(w1.T.copy(), b1),
            "lif1": nir.LIF(
                tau=np.full(HIDDEN, tau_h), r=np.full(HIDDEN, tau_h / DT), v_leak=np.zeros(HIDDEN),
                v_threshold=np.full(HIDDEN, THRESHOLD), v_reset=np.zeros(HIDDEN),
            ),
            "fc2": nir.Affine(w2.T.copy(), b2),
            "li2": nir.LI(tau=np.full(10, tau_o), r=np.full(10, tau_o / DT), v_leak=np.zeros(10)),
            "output": nir.Output(np.array([10])),
        },
        edges=[("input", "fc1"), ("fc1", "lif1"), ("lif1", "fc2"), ("fc2", "li2"), ("li2", "output")],
        metadata={"dt": DT},
    )
    nir.write(out, graph)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
