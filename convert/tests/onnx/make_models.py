#!/usr/bin/env python3
"""Writes the ONNX files of convert/tests/onnx_exporters.rs: models in the
styles exporters write them, each with the outputs its own runtime computes.

  scikit-learn MLPClassifier through skl2onnx (ReLU with the ZipMap label
  branch, ReLU without ZipMap, a binary classifier with its Sigmoid head,
  and the logistic and tanh activations, which spikeforge refuses), and
  graphs written with onnx.helper in torch's and TensorFlow's export styles
  (x.view(x.size(0), -1) as Shape/Gather/Unsqueeze/Concat/Reshape, weights
  behind a Transpose, input normalization by Sub/Div, NHWC input, Flatten on
  another axis, a 1-D input, a double-precision Cast).

expected.json holds, per model, a few inputs and the values at the tensor
spikeforge converts up to (the logits), computed by onnx's reference
evaluator (onnx.reference) on the model cut there, and the label and
probabilities the whole model gives (scikit-learn's own predict_proba for
its models). Deterministic: fixed seeds, fixed data (scikit-learn's digits).

  .venv/bin/python3 convert/tests/onnx/make_models.py   (./dev deps makes .venv)
"""
import json
import os
import warnings

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from skl2onnx import to_onnx

HERE = os.path.dirname(os.path.abspath(__file__))
warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, Y = load_digits(return_X_y=True)
X = (X / 16.0).astype(np.float32)
SAMPLES = X[:8]


def save(model, name):
    onnx.checker.check_model(model)
    path = os.path.join(HERE, name + ".onnx")
    # Deterministic bytes: no producer version that changes with the tools.
    model.producer_version = ""
    with open(path, "wb") as f:
        f.write(model.SerializeToString())
    return model


def values_at(model, tensor, inputs):
    """Runs the model cut at `tensor` (onnx's reference evaluator)."""
    name = model.graph.input[0].name
    producer = {o: n for n in model.graph.node for o in n.output}
    needed, stack = set(), [tensor]
    while stack:
        n = producer.get(stack.pop())
        if n is not None and id(n) not in needed:
            needed.add(id(n))
            stack.extend(n.input)
    m = onnx.ModelProto()
    m.CopyFrom(model)
    keep = [n for n in model.graph.node if id(n) in needed]
    del m.graph.node[:]
    m.graph.node.extend(keep)
    del m.graph.output[:]
    m.graph.output.append(helper.make_empty_tensor_value_info(tensor))
    sess = ReferenceEvaluator(m)
    return np.asarray(sess.run(None, {name: inputs})[0], dtype=np.float64)


def run_all(model, inputs):
    sess = ReferenceEvaluator(model)
    return sess.run(None, {model.graph.input[0].name: inputs})


expected = {}


def record(name, model, logits_tensor, inputs, **extra):
    logits = values_at(model, logits_tensor, inputs)
    entry = {
        "inputs": inputs.reshape(len(inputs), -1).astype(np.float64).tolist(),
        "logits": logits.reshape(len(inputs), -1).tolist(),
    }
    entry.update(extra)
    expected[name] = entry


def sklearn_models():
    for name, hidden, act, classes in [
        ("skl_mlp_relu", (24, 16), "relu", None),
        ("skl_mlp_nozipmap", (16,), "relu", None),
        ("skl_mlp_binary", (16,), "relu", 2),
        ("skl_mlp_logistic", (8,), "logistic", None),
        ("skl_mlp_tanh", (8,), "tanh", None),
    ]:
        y = Y if classes is None else (Y >= 5).astype(np.int64)
        clf = MLPClassifier(hidden_layer_sizes=hidden, activation=act, max_iter=200, random_state=0).fit(X, y)
        options = {id(clf): {"zipmap": False}} if name in ("skl_mlp_nozipmap", "skl_mlp_binary") else None
        model = to_onnx(clf, X[:1], options=options, target_opset={"": 17, "ai.onnx.ml": 3})
        save(model, name)
        if act != "relu":
            continue
        # The logits: the input of the final Softmax or Sigmoid.
        head = next(n for n in model.graph.node if n.op_type in ("Softmax", "Sigmoid"))
        record(
            name,
            model,
            head.input[0],
            SAMPLES,
            label=clf.predict(SAMPLES).tolist(),
            proba=clf.predict_proba(SAMPLES).tolist(),
            accuracy=float(clf.score(X, y)),
        )


def init(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def rng_weights(seed, *shape):
    return np.random.default_rng(seed).normal(0, 0.5, size=shape).astype(np.float32)


def legacy_view():
    """torch: (x - mean) / std, Conv, Relu, x.view(x.size(0), -1), x @ W.t() + b, LogSoftmax."""
    wc, bc = rng_weights(1, 4, 1, 3, 3), rng_weights(2, 4)
    wf, bf = rng_weights(3, 10, 4 * 8 * 8) / 8, rng_weights(4, 10)
    nodes = [
        helper.make_node("Sub", ["input", "mean"], ["centred"], name="/Sub"),
        helper.make_node("Div", ["centred", "std"], ["normed"], name="/Div"),
        helper.make_node("Conv", ["normed", "conv.weight", "conv.bias"], ["c"], name="/conv/Conv",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"], name="/Relu"),
        helper.make_node("Shape", ["r"], ["shape"], name="/Shape"),
        helper.make_node("Constant", [], ["zero"], name="/Constant", value=init("zero_value", np.int64(0))),
        helper.make_node("Gather", ["shape", "zero"], ["batch"], name="/Gather", axis=0),
        helper.make_node("Constant", [], ["axes"], name="/Constant_1", value=init("axes_value", np.array([0], np.int64))),
        helper.make_node("Unsqueeze", ["batch", "axes"], ["batch1"], name="/Unsqueeze"),
        helper.make_node("Constant", [], ["minus1"], name="/Constant_2",
                         value=init("minus1_value", np.array([-1], np.int64))),
        helper.make_node("Concat", ["batch1", "minus1"], ["target"], name="/Concat", axis=0),
        helper.make_node("Reshape", ["r", "target"], ["flat"], name="/Reshape"),
        helper.make_node("Transpose", ["fc.weight"], ["wt"], name="/fc/Transpose", perm=[1, 0]),
        helper.make_node("MatMul", ["flat", "wt"], ["mm"], name="/fc/MatMul"),
        helper.make_node("Add", ["mm", "fc.bias"], ["logits"], name="/fc/Add"),
        helper.make_node("LogSoftmax", ["logits"], ["output"], name="/LogSoftmax", axis=1),
    ]
    graph = helper.make_graph(
        nodes, "legacy_view",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 1, 8, 8])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", 10])],
        [init("mean", np.float32(0.3)), init("std", np.float32(0.4)), init("conv.weight", wc), init("conv.bias", bc),
         init("fc.weight", wf), init("fc.bias", bf)],
    )
    model = save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), "legacy_view")
    x = SAMPLES.reshape(-1, 1, 8, 8)
    record("legacy_view", model, "logits", x, label=np.argmax(run_all(model, x)[0], axis=1).tolist())


def nhwc():
    """TensorFlow style: NHWC input, per-channel normalization, Transpose to NCHW, Conv, a channels-last
    Transpose before Flatten, Gemm, Softmax."""
    wc, bc = rng_weights(5, 3, 2, 3, 3), rng_weights(6, 3)
    wf, bf = rng_weights(7, 4 * 4 * 3, 5) / 4, rng_weights(8, 5)
    nodes = [
        helper.make_node("Mul", ["x", "scale"], ["scaled"], name="scale"),
        helper.make_node("Add", ["scaled", "offset"], ["shifted"], name="offset"),
        helper.make_node("Transpose", ["shifted"], ["nchw"], name="to_nchw", perm=[0, 3, 1, 2]),
        helper.make_node("Conv", ["nchw", "w", "b"], ["c"], name="conv", kernel_shape=[3, 3], strides=[2, 2],
                         auto_pad="SAME_UPPER"),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("Transpose", ["r"], ["nhwc"], name="to_nhwc", perm=[0, 2, 3, 1]),
        helper.make_node("Flatten", ["nhwc"], ["flat"], name="flatten", axis=1),
        helper.make_node("Gemm", ["flat", "wf", "bf"], ["logits"], name="dense"),
        helper.make_node("Softmax", ["logits"], ["probs"], name="softmax"),
    ]
    graph = helper.make_graph(
        nodes, "nhwc",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 8, 8, 2])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["N", 5])],
        [init("scale", np.array([2.0, 0.5], np.float32)), init("offset", np.array([-1.0, 0.25], np.float32)),
         init("w", wc), init("b", bc), init("wf", wf), init("bf", bf)],
    )
    model = save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), "nhwc")
    x = np.random.default_rng(9).random((6, 8, 8, 2)).astype(np.float32)
    record("nhwc", model, "logits", x)


def flatten_axis():
    """Flatten on axis 3 of [N, 1, 1, 64] (the same as axis 1), a scale after the first layer, Cast to
    double and back, and two graph outputs: the converted one is named by --output."""
    w1, b1 = rng_weights(10, 64, 12), rng_weights(11, 12)
    w2, b2 = rng_weights(12, 12, 10), rng_weights(13, 10)
    nodes = [
        helper.make_node("Flatten", ["x"], ["f"], name="flat", axis=3),
        helper.make_node("Cast", ["f"], ["fd"], name="to_double", to=TensorProto.DOUBLE),
        helper.make_node("Cast", ["fd"], ["ff"], name="to_float", to=TensorProto.FLOAT),
        helper.make_node("Cast", ["ff"], ["ff2"], name="same_type", to=TensorProto.FLOAT),
        helper.make_node("MatMul", ["ff2", "w1"], ["h"], name="fc1"),
        helper.make_node("Add", ["h", "b1"], ["hb"], name="fc1_bias"),
        helper.make_node("Mul", ["hb", "half"], ["hs"], name="half"),
        helper.make_node("Relu", ["hs"], ["hr"], name="relu1"),
        helper.make_node("MatMul", ["hr", "w2"], ["o"], name="fc2"),
        helper.make_node("Add", ["o", "b2"], ["logits"], name="fc2_bias"),
    ]
    graph = helper.make_graph(
        nodes, "flatten_axis",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 1, 64])],
        [helper.make_tensor_value_info("hr", TensorProto.FLOAT, ["N", 12]),
         helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])],
        [init("w1", w1), init("b1", b1), init("half", np.float32(0.5)), init("w2", w2), init("b2", b2)],
    )
    model = save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), "flatten_axis")
    x = SAMPLES.reshape(-1, 1, 1, 64)
    record("flatten_axis", model, "logits", x, output="fc2_bias")


def vector_input():
    """A 1-D input (one sample, no batch dimension): MatMul, Add, Relu, MatMul."""
    w1, b1 = rng_weights(14, 64, 8), rng_weights(15, 8)
    w2 = rng_weights(16, 8, 3)
    nodes = [
        helper.make_node("MatMul", ["v", "w1"], ["h"], name="mm1"),
        helper.make_node("Add", ["h", "b1"], ["hb"], name="add1"),
        helper.make_node("Relu", ["hb"], ["hr"], name="relu"),
        helper.make_node("MatMul", ["hr", "w2"], ["y"], name="mm2"),
    ]
    graph = helper.make_graph(
        nodes, "vector_input",
        [helper.make_tensor_value_info("v", TensorProto.FLOAT, [64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3])],
        [init("w1", w1), init("b1", b1), init("w2", w2)],
    )
    model = save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), "vector_input")
    logits = np.stack([values_at(model, "y", s) for s in SAMPLES])
    expected["vector_input"] = {"inputs": SAMPLES.astype(np.float64).tolist(), "logits": logits.tolist()}


def layer_after_softmax():
    """A Gemm after the Softmax: the automatic cut would drop a layer, so it is refused."""
    nodes = [
        helper.make_node("Gemm", ["x", "w"], ["h"], name="g1"),
        helper.make_node("Softmax", ["h"], ["p"], name="sm"),
        helper.make_node("Gemm", ["p", "w2"], ["y"], name="g2"),
    ]
    graph = helper.make_graph(
        nodes, "layer_after_softmax",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2])],
        [init("w", rng_weights(17, 4, 3)), init("w2", rng_weights(18, 3, 2))],
    )
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), "layer_after_softmax")


sklearn_models()
legacy_view()
nhwc()
flatten_axis()
vector_input()
layer_after_softmax()
with open(os.path.join(HERE, "expected.json"), "w") as f:
    json.dump(expected, f, sort_keys=True)
    f.write("\n")
print("wrote", ", ".join(sorted(n for n in os.listdir(HERE) if n.endswith(".onnx"))), "and expected.json")
