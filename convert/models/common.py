"""What the training scripts share: one BLAS thread (set here, before numpy is
imported, so reruns give the same bytes), the IDX reader for Fashion-MNIST,
the Adam step, the MLP training loop and the ONNX model header.
"""
import os

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

FASHION_DIR = "/usr/share/datasets/fashion-mnist"


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


def fashion(data_dir, prefix, shape):
    """Fashion-MNIST split `prefix` (train or t10k): images / 255 as float32
    reshaped to [N, *shape], labels as int64."""
    x = read_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz"))
    assert x.shape[0] == y.shape[0] and x.shape[1:] == (28, 28)
    return (x.reshape(len(x), *shape) / np.float32(255)).astype(np.float32), y.astype(np.int64)


def shift_images(x, d, s):
    """Images x [B, 28, 28] moved by d[0][b] rows and d[1][b] columns
    (|d| <= s), zeros shifted in: the training scripts' augmentation."""
    xp = np.pad(x, ((0, 0), (s, s), (s, s)))
    b, sh, sw = xp.strides
    v = np.lib.stride_tricks.as_strided(xp, (len(x), 2 * s + 1, 2 * s + 1, 28, 28), (b, sh, sw, sh, sw),
                                        writeable=False)
    return v[np.arange(len(x)), s - d[0], s - d[1]]


def cosine(lr0, t, total):
    """The learning rate of step t of a cosine decay over `total` steps."""
    return lr0 * 0.5 * (1 + math.cos(math.pi * t / total))


def adam(params, grads, m, v, t, lr):
    """One Adam step (t counts from 1), in place."""
    for k, gr in enumerate(grads):
        m[k] = 0.9 * m[k] + 0.1 * gr
        v[k] = 0.999 * v[k] + 0.001 * gr * gr
        mh = m[k] / (1 - 0.9 ** t)
        vh = v[k] / (1 - 0.999 ** t)
        params[k] -= (lr * mh / (np.sqrt(vh) + 1e-8)).astype(np.float32)


def train_mlp(xtr, ytr, hidden, epochs, batch, lr0, decay):
    """An MLP in-hidden-10 with ReLU, trained with Adam on softmax cross-entropy
    (He initialization and batch order from numpy seed 0; a cosine decay of the
    learning rate if `decay`). Returns [w1 (in, hidden), b1, w2 (hidden, 10), b2]."""
    n_in = xtr.shape[1]
    rng = np.random.default_rng(0)
    w1 = (rng.standard_normal((n_in, hidden)) * np.sqrt(2.0 / n_in)).astype(np.float32)
    b1 = np.zeros(hidden, np.float32)
    w2 = (rng.standard_normal((hidden, 10)) * np.sqrt(2.0 / hidden)).astype(np.float32)
    b2 = np.zeros(10, np.float32)
    params = [w1, b1, w2, b2]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    total = epochs * -(-len(xtr) // batch)
    t = 0
    for _ in range(epochs):
        order = rng.permutation(len(xtr))
        for i in range(0, len(order), batch):
            idx = order[i:i + batch]
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
            lr = cosine(lr0, t, total) if decay else lr0
            t += 1
            adam(params, [gw1, gb1, gw2, gb2], m, v, t, lr)
    assert all(p.dtype == np.float32 for p in params)
    return params


def mlp_accuracy(params, x, y):
    w1, b1, w2, b2 = params
    return (np.argmax(np.maximum(x @ w1 + b1, 0) @ w2 + b2, 1) == y).mean()


def onnx_model(name, in_dims, nodes, inits, producer, doc, opset=13):
    """A checked model of the given opset with input "x" [N, *in_dims] and
    output "logits" [N, 10]."""
    graph = helper.make_graph(
        nodes,
        name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", *in_dims])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])],
        inits,
    )
    model = helper.make_model(graph, producer_name=producer, opset_imports=[helper.make_opsetid("", opset)])
    model.doc_string = doc
    onnx.checker.check_model(model)
    return model


def mlp_onnx(params, name, producer, doc):
    """The MLP as Gemm, Relu, Gemm; Gemm computes A @ B^T with transB = 1, so
    the weights are stored as (out, in)."""
    w1, b1, w2, b2 = params
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
    return onnx_model(name, [w1.shape[0]], nodes, inits, producer, doc)


def check_onnx(path, xte, yte, numpy_logits, onnx_input=lambda xb: xb):
    """Runs the written ONNX file through onnx's reference evaluator on every
    test image (in batches of 1000; `onnx_input` turns a batch of xte into
    the model's input) and exits unless it predicts what `numpy_logits` of
    the same batch does. Returns the number of test images it classifies
    correctly."""
    from onnx.reference import ReferenceEvaluator
    start = time.time()
    sess = ReferenceEvaluator(path)
    diff, agree, correct = 0.0, 0, 0
    for i in range(0, len(xte), 1000):
        xb = xte[i:i + 1000]
        got = sess.run(None, {"x": onnx_input(xb)})[0]
        want = numpy_logits(xb)
        diff = max(diff, float(np.abs(got - want).max()))
        agree += int((np.argmax(got, 1) == np.argmax(want, 1)).sum())
        correct += int((np.argmax(got, 1) == yte[i:i + 1000]).sum())
    print(f"onnx.reference on {path}: test accuracy {correct / len(yte):.4f} ({correct}/{len(yte)} correct); "
          f"{len(yte) - agree} predictions differ from numpy's, logits differ by at most {diff:.3g}; "
          f"{time.time() - start:.0f} s")
    if agree != len(yte):
        sys.exit("onnx.reference disagrees with the numpy forward pass")
    return correct


def cli_args(default_out):
    """The CNN scripts' command line, `[--no-check] [OUT.onnx [DATA_DIR]]`:
    (output path, Fashion-MNIST directory, whether to run the check)."""
    args = sys.argv[1:]
    do_check = "--no-check" not in args
    args = [a for a in args if a != "--no-check"]
    out = args[0] if args else default_out
    return out, (args[1] if len(args) > 1 else FASHION_DIR), do_check
