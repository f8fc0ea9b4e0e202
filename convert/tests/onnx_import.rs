//! ONNX import: hand-built models with known outputs, and bad files with
//! clear errors. The models are built here with the same protobuf types the
//! importer reads, so every case is self-contained.

use spikeforge_convert::onnx_build::{int_attr, ints_attr, model, node, tensor as init};
use spikeforge_convert::{data, import_bytes, snn, Act, OnnxError, Options};

/// Conv(2 filters, 3x3, pad 1, stride 1) + BatchNorm + Relu + AveragePool(2x2)
/// + Flatten + Gemm(transB) on a 1x4x4 input.
fn conv_model() -> Vec<u8> {
    let wconv: Vec<f32> = (0..18).map(|i| ((i * 7 % 11) as f32 - 5.5) / 10.0).collect();
    let wfc: Vec<f32> = (0..24).map(|i| ((i * 5 % 13) as f32 - 6.0) / 8.0).collect();
    model(
        ("x", &[1, 1, 4, 4]),
        vec![
            node(
                "Conv",
                "conv",
                &["x", "wc", "bc"],
                "c",
                vec![ints_attr("kernel_shape", &[3, 3]), ints_attr("pads", &[1, 1, 1, 1])],
            ),
            node("BatchNormalization", "bn", &["c", "g", "beta", "mu", "var"], "b", vec![]),
            node("Relu", "relu", &["b"], "r", vec![]),
            node(
                "AveragePool",
                "pool",
                &["r"],
                "p",
                vec![ints_attr("kernel_shape", &[2, 2]), ints_attr("strides", &[2, 2])],
            ),
            node("Flatten", "flat", &["p"], "f", vec![]),
            node("Gemm", "fc", &["f", "wf", "bf"], "y", vec![int_attr("transB", 1)]),
        ],
        vec![
            init("wc", &[2, 1, 3, 3], &wconv),
            init("bc", &[2], &[0.1, -0.2]),
            init("g", &[2], &[1.5, 0.5]),
            init("beta", &[2], &[0.2, 0.3]),
            init("mu", &[2], &[0.1, -0.1]),
            init("var", &[2], &[0.25, 4.0]),
            init("wf", &[3, 8], &wfc),
            init("bf", &[3], &[0.0, 0.5, -0.5]),
        ],
        "y",
    )
}

/// The same network computed directly from its definition.
fn conv_reference(x: &[f64]) -> Vec<f64> {
    let wconv: Vec<f64> = (0..18).map(|i| ((i * 7 % 11) as f64 - 5.5) / 10.0).collect();
    let wfc: Vec<f64> = (0..24).map(|i| ((i * 5 % 13) as f64 - 6.0) / 8.0).collect();
    let (bc, g, beta, mu, var) = ([0.1, -0.2], [1.5, 0.5], [0.2, 0.3], [0.1, -0.1], [0.25, 4.0]);
    let mut r = vec![0.0; 2 * 16];
    for m in 0..2 {
        for y in 0..4i32 {
            for xx in 0..4i32 {
                let mut s = bc[m];
                for ky in 0..3i32 {
                    for kx in 0..3i32 {
                        let (iy, ix) = (y + ky - 1, xx + kx - 1);
                        if (0..4).contains(&iy) && (0..4).contains(&ix) {
                            s += wconv[m * 9 + (ky * 3 + kx) as usize] * x[(iy * 4 + ix) as usize];
                        }
                    }
                }
                let bn = (s - mu[m]) / (var[m] + 1e-5f64).sqrt() * g[m] + beta[m];
                r[m * 16 + (y * 4 + xx) as usize] = bn.max(0.0);
            }
        }
    }
    let mut p = [0.0; 8];
    for m in 0..2 {
        for py in 0..2 {
            for px in 0..2 {
                let mut s = 0.0;
                for dy in 0..2 {
                    for dx in 0..2 {
                        s += r[m * 16 + (py * 2 + dy) * 4 + px * 2 + dx];
                    }
                }
                p[m * 4 + py * 2 + px] = s / 4.0;
            }
        }
    }
    let bf = [0.0, 0.5, -0.5];
    (0..3).map(|o| bf[o] + (0..8).map(|i| wfc[o * 8 + i] * p[i]).sum::<f64>()).collect()
}

fn input(seed: usize) -> Vec<f64> {
    (0..16).map(|i| ((i * 13 + seed * 7) % 17) as f64 / 16.0).collect()
}

#[test]
fn conv_bn_pool_gemm_imports_with_known_outputs() {
    let ann = import_bytes("conv.onnx", &conv_model()).unwrap();
    assert_eq!(ann.input_shape, vec![1, 4, 4]);
    // Conv+BN+Relu is one layer; AveragePool has no activation, so it is
    // composed into the Gemm after it.
    assert_eq!(ann.layers.len(), 2, "{:?}", ann.layers.iter().map(|l| &l.name).collect::<Vec<_>>());
    assert_eq!(ann.layers[0].name, "conv+bn+relu");
    assert_eq!(ann.layers[0].act, Act::Relu);
    assert_eq!(ann.layers[1].name, "pool+fc");
    assert_eq!(ann.layers[0].shape, vec![2, 4, 4]);
    // A 3x3 convolution with padding 1 on 4x4: corners see 4 cells, edges 6, inside 9.
    assert_eq!(ann.layers[0].vals.len(), 2 * (4 * 4 + 8 * 6 + 4 * 9));
    for seed in 0..5 {
        let x = input(seed);
        let got = ann.forward(&x).pop().unwrap();
        let want = conv_reference(&x);
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 1e-5, "{got:?} vs {want:?}");
        }
    }
}

#[test]
fn converted_conv_network_agrees_with_the_ann() {
    // Conv lowered to sparse synapses: the SNN classifies like the ANN on
    // inputs whose top logit is clear.
    let ann = import_bytes("conv.onnx", &conv_model()).unwrap();
    let mut split = data::Split { dim: 16, ..Default::default() };
    for seed in 0..40 {
        split.data.extend(input(seed).iter().map(|&v| v as f32));
        split.labels.push(ann.classify(&input(seed)) as u8);
    }
    let s = snn::convert(&ann, &split, &Options::new(64)).unwrap();
    assert_eq!(s.layers[0].size, 32);
    let acc = s.accuracy(&split);
    assert!(acc >= 0.9, "SNN agrees with the ANN on {:.0}% of inputs", 100.0 * acc);
}

#[test]
fn matmul_add_clip_and_reshape() {
    // x[1,2,2] -> Reshape [N,4] -> MatMul W[4,2] -> Add b -> Clip(0, 1) -> Gemm.
    let shape = init("shape", &[2], &[]);
    let mut shape = shape;
    shape.data_type = 7;
    shape.raw_data = [1i64, -1].iter().flat_map(|v| v.to_le_bytes()).collect();
    let mut lo = init("lo", &[], &[0.0]);
    lo.dims.clear();
    let hi = init("hi", &[], &[1.0]);
    let bytes = model(
        ("x", &[1, 2, 2]),
        vec![
            node("Reshape", "r", &["x", "shape"], "f", vec![]),
            node("MatMul", "mm", &["f", "w"], "m", vec![]),
            node("Add", "add", &["m", "b"], "a", vec![]),
            node("Clip", "clip", &["a", "lo", "hi"], "c", vec![]),
            node("Gemm", "out", &["c", "w2"], "y", vec![]),
            node("Softmax", "sm", &["y"], "z", vec![]),
        ],
        vec![
            shape,
            init("w", &[4, 2], &[1.0, 0.0, 0.0, 1.0, 1.0, 1.0, -1.0, 2.0]),
            init("b", &[2], &[0.5, -0.5]),
            lo,
            hi,
            init("w2", &[2, 2], &[1.0, 2.0, 3.0, 4.0]),
        ],
        "z",
    );
    let ann = import_bytes("mm.onnx", &bytes).unwrap();
    assert_eq!(ann.layers[0].act, Act::Clip(1.0));
    let out = ann.forward(&[0.2, 0.4, 0.1, 0.3]);
    // h = clip([0.2+0.1-0.3+0.5, 0.4+0.1+0.6-0.5], 0, 1) = [0.5, 0.6]
    assert!((out[0][0] - 0.5).abs() < 1e-6 && (out[0][1] - 0.6).abs() < 1e-6, "{out:?}");
    // y = h @ w2 = [0.5 + 1.8, 1.0 + 2.4]
    assert!((out[1][0] - 2.3).abs() < 1e-6 && (out[1][1] - 3.4).abs() < 1e-6, "{out:?}");
}

#[test]
fn shipped_digits_model_imports() {
    let ann = spikeforge_convert::import(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/models/digits_mlp.onnx"
    )))
    .unwrap();
    assert_eq!((ann.inputs(), ann.layers.len(), ann.outputs()), (64, 2, 10));
    let acc = snn::ann_accuracy(&ann, &data::digits().test);
    assert!((acc - 0.98).abs() < 1e-9, "the README says 98.0%, the import gives {acc}");
}

/// The shipped Fashion-MNIST models classify the 10,000 test images exactly
/// as the training scripts (numpy, and onnx's reference evaluator) report:
/// an end-to-end check of the importer, the Conv/AveragePool lowering and
/// the IDX reader on trained weights. Needs Debian's dataset-fashion-mnist
/// (`./dev test` installs it).
#[test]
fn shipped_fashion_models_match_their_training_scripts() {
    let d = data::fashion_mnist(std::path::Path::new(data::FASHION_DIR), 0)
        .unwrap_or_else(|e| panic!("{e} (./dev deps installs it)"));
    assert_eq!(d.test.len(), 10_000);
    for (file, correct) in [
        ("fashion_mlp.onnx", 8971),
        ("fashion_cnn.onnx", 9120),
        ("fashion_bn_cnn.onnx", 9157),
        ("fashion_qcfs_cnn.onnx", 9121),
    ] {
        let ann =
            spikeforge_convert::import(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models").join(file))
                .unwrap();
        let acc = snn::ann_accuracy(&ann, &d.test);
        assert_eq!((acc * 10_000.0).round() as usize, correct, "{file}");
    }
}

fn err(bytes: &[u8]) -> String {
    import_bytes("bad.onnx", bytes).unwrap_err().to_string()
}

#[test]
fn bad_files_get_clear_errors() {
    assert!(err(b"this is not a protobuf at all \xff\xff\xff").starts_with("bad.onnx: not an ONNX model"));
    assert_eq!(
        err(b""),
        "bad.onnx: not an ONNX model (it has no graph); export one with torch.onnx.export or onnx.save"
    );
    let missing = spikeforge_convert::import(std::path::Path::new("/nonexistent/m.onnx")).unwrap_err();
    assert!(matches!(missing, OnnxError::Io { .. }), "{missing}");

    // An unsupported operator names the node and the operator.
    let maxpool = model(
        ("x", &[1, 1, 4, 4]),
        vec![node("MaxPool", "pool1", &["x"], "y", vec![ints_attr("kernel_shape", &[2, 2])])],
        vec![],
        "y",
    );
    let e = err(&maxpool);
    assert!(
        e.starts_with("bad.onnx: node 0 \"pool1\" (MaxPool): operator MaxPool is not supported (use AveragePool"),
        "{e}"
    );

    // A branch (skip connection) is refused.
    let branch = model(
        ("x", &[1, 2]),
        vec![
            node("Gemm", "a", &["x", "w"], "h", vec![]),
            node("Relu", "r", &["h"], "hr", vec![]),
            node("Add", "skip", &["hr", "x"], "y", vec![]),
        ],
        vec![init("w", &[2, 2], &[1.0, 0.0, 0.0, 1.0])],
        "y",
    );
    assert!(err(&branch).contains("node 2 \"skip\" (Add): it reads [\"hr\", \"x\"]"), "{}", err(&branch));

    // A weight that is not a constant.
    let dynamic = model(("x", &[1, 2]), vec![node("Gemm", "g", &["x", "w"], "y", vec![])], vec![], "y");
    assert!(
        err(&dynamic).contains(
            "node 0 \"g\" (Gemm): its input \"w\" is neither an initializer nor the output of an earlier node"
        ),
        "{}",
        err(&dynamic)
    );

    // Shape mismatch between the weight and the input.
    let shape = model(
        ("x", &[1, 3]),
        vec![node("Gemm", "g", &["x", "w"], "y", vec![])],
        vec![init("w", &[2, 2], &[1.0; 4])],
        "y",
    );
    assert!(
        err(&shape).contains("(Gemm): its weight has shape [2, 2], which does not match 3 inputs"),
        "{}",
        err(&shape)
    );

    // Weights whose data is shorter than their shape.
    let mut short = init("w", &[2, 2], &[1.0; 3]);
    short.name = "w".into();
    let short = model(("x", &[1, 2]), vec![node("Gemm", "g", &["x", "w"], "y", vec![])], vec![short], "y");
    assert!(
        err(&short).contains("initializer \"w\": it holds 3 values but its shape [2, 2] needs 4"),
        "{}",
        err(&short)
    );

    // Gemm on an image needs a Flatten first.
    let noflat = model(
        ("x", &[1, 1, 2, 2]),
        vec![node("Gemm", "g", &["x", "w"], "y", vec![])],
        vec![init("w", &[4, 2], &[1.0; 8])],
        "y",
    );
    assert!(err(&noflat).contains("add a Flatten before it"), "{}", err(&noflat));

    // A hidden Sigmoid is not convertible (a final one is cut off with the head).
    let sig = model(
        ("x", &[1, 2]),
        vec![
            node("Gemm", "g", &["x", "w"], "h", vec![]),
            node("Sigmoid", "s", &["h"], "hs", vec![]),
            node("Gemm", "g2", &["hs", "w"], "y", vec![]),
        ],
        vec![init("w", &[2, 2], &[1.0; 4])],
        "y",
    );
    assert!(
        err(&sig).contains("node 1 \"s\" (Sigmoid): a logistic (Sigmoid) hidden activation has no IF-neuron"),
        "{}",
        err(&sig)
    );

    // An operator with no affine meaning on the data.
    let exp = model(
        ("x", &[1, 2]),
        vec![node("Gemm", "g", &["x", "w"], "h", vec![]), node("Exp", "e", &["h"], "y", vec![])],
        vec![init("w", &[2, 2], &[1.0; 4])],
        "y",
    );
    assert!(err(&exp).contains("node 1 \"e\" (Exp): operator Exp is not supported"), "{}", err(&exp));

    // Batch norm exported in training mode.
    let bn_train = model(
        ("x", &[1, 2]),
        vec![
            node("Gemm", "g", &["x", "w"], "h", vec![]),
            node("BatchNormalization", "bn", &["h", "s", "b", "m", "v"], "y", vec![int_attr("training_mode", 1)]),
        ],
        vec![
            init("w", &[2, 2], &[1.0; 4]),
            init("s", &[2], &[1.0; 2]),
            init("b", &[2], &[0.0; 2]),
            init("m", &[2], &[0.0; 2]),
            init("v", &[2], &[1.0; 2]),
        ],
        "y",
    );
    assert!(
        err(&bn_train).contains("node 1 \"bn\" (BatchNormalization): it is in training mode")
            && err(&bn_train).contains("model.eval()"),
        "{}",
        err(&bn_train)
    );
}

/// A BatchNormalization after the activation (Conv-ReLU-BN) is a
/// per-channel affine map: it folds into the next layer, or stays a layer
/// of its own at the end.
#[test]
fn batch_norm_after_an_activation_folds_forward() {
    let bn = |tail: bool| {
        let mut nodes = vec![
            node("Gemm", "g", &["x", "w"], "h", vec![]),
            node("Relu", "r", &["h"], "hr", vec![]),
            node("BatchNormalization", "bn", &["hr", "s", "b", "m", "v"], "n", vec![]),
        ];
        if tail {
            nodes.push(node("Gemm", "g2", &["n", "w"], "y", vec![]));
        }
        model(
            ("x", &[1, 2]),
            nodes,
            vec![
                init("w", &[2, 2], &[1.0, -1.0, 0.5, 2.0]),
                init("s", &[2], &[2.0, 1.0]),
                init("b", &[2], &[0.5, 0.0]),
                init("m", &[2], &[1.0, 0.0]),
                init("v", &[2], &[4.0, 1.0]),
            ],
            if tail { "y" } else { "n" },
        )
    };
    let x = [0.4, 0.8];
    // h = x @ w = [0.4 + 0.4, -0.4 + 1.6] = [0.8, 1.2]; BN: (h - m) * s / sqrt(v + eps) + b.
    let eps = 1e-5f64;
    let n = [(0.8 - 1.0) * 2.0 / (4.0 + eps).sqrt() + 0.5, 1.2 / (1.0 + eps).sqrt()];
    let a = import_bytes("bn.onnx", &bn(false)).unwrap();
    assert_eq!(a.layers.len(), 2);
    let got = a.forward(&x).pop().unwrap();
    assert!((got[0] - n[0]).abs() < 1e-9 && (got[1] - n[1]).abs() < 1e-9, "{got:?} vs {n:?}");
    let b = import_bytes("bn.onnx", &bn(true)).unwrap();
    assert_eq!(b.layers.len(), 2, "BN composed into the Gemm after it");
    let y = b.forward(&x).pop().unwrap();
    let want = [n[0] + 0.5 * n[1], -n[0] + 2.0 * n[1]];
    assert!((y[0] - want[0]).abs() < 1e-9 && (y[1] - want[1]).abs() < 1e-9, "{y:?} vs {want:?}");
}

#[test]
fn shapes_too_large_are_refused_not_overflowed() {
    // Found by the onnx fuzz target: an initializer whose dimensions
    // multiply past usize::MAX overflowed the element count.
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/corpus/fuzz/onnx/tensor_shape_overflow.onnx");
    let e = import_bytes("crash.onnx", &std::fs::read(path).unwrap()).unwrap_err();
    assert!(e.to_string().contains("more values than any file can hold"), "{e}");
    // An input larger than any input population is refused before a layer is built.
    let huge = model(("x", &[1, 1 << 20, 1 << 20]), vec![node("Flatten", "f", &["x"], "y", vec![])], vec![], "y");
    let e = import_bytes("huge.onnx", &huge).unwrap_err();
    assert!(e.to_string().contains("values per sample"), "{e}");
}

#[test]
fn window_attributes_out_of_range_are_refused() {
    // Found by the onnx fuzz target: a Conv weight with a kernel height of
    // 0 underflowed the window extent.
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/corpus/fuzz/onnx/empty_kernel.onnx");
    let e = import_bytes("crash.onnx", &std::fs::read(path).unwrap()).unwrap_err();
    assert!(e.to_string().contains("are outside 1..="), "{e}");
    // Padding that would make a huge output is refused before it is built.
    let pool = |pads: &[i64]| {
        model(
            ("x", &[1, 1, 2, 2]),
            vec![node(
                "AveragePool",
                "pool",
                &["x"],
                "y",
                vec![ints_attr("kernel_shape", &[1, 1]), ints_attr("pads", pads)],
            )],
            vec![],
            "y",
        )
    };
    let e = import_bytes("pads.onnx", &pool(&[1 << 20, 1 << 20, 1 << 20, 1 << 20])).unwrap_err();
    assert!(e.to_string().contains("more than 16777216 values"), "{e}");
    let e = import_bytes("pads.onnx", &pool(&[i64::MAX, 0, 0, 0])).unwrap_err();
    assert!(e.to_string().contains("are not four values in 0..="), "{e}");
    assert!(import_bytes("pads.onnx", &pool(&[1, 1, 1, 1])).is_ok());
}

#[test]
fn empty_constants_with_huge_dimensions_are_refused() {
    // Found by the onnx fuzz target: Concat of three empty initializers of
    // shape [0, 2^63 - 1] overflowed the summed axis while folding.
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/corpus/fuzz/onnx/empty_concat_overflow.onnx");
    let e = import_bytes("crash.onnx", &std::fs::read(path).unwrap()).unwrap_err().to_string();
    assert!(e.contains("is empty, but its other dimensions multiply past 16777216"), "{e}");
    // Folds whose results would hold such shapes are refused as well.
    let shape = |dims: &[f32]| {
        model(
            ("x", &[1, 4]),
            vec![node("ConstantOfShape", "fill", &["s"], "y", vec![])],
            vec![init("s", &[dims.len() as i64], dims)],
            "y",
        )
    };
    let e = err(&shape(&[0.0, 1e12, 1e12]));
    assert!(e.contains("is empty, but its other dimensions multiply past"), "{e}");
    // A short file cannot make the folds fill the memory: three constants of
    // 2^24 values each pass the bound on all folds together.
    let mut nodes: Vec<_> =
        (0..3).map(|k| node("ConstantOfShape", &format!("fill{k}"), &["s"], &format!("f{k}"), vec![])).collect();
    nodes.push(node("Concat", "cat", &["f0", "f1", "f2"], "c", vec![int_attr("axis", 0)]));
    nodes.push(node("Reshape", "r", &["x", "c"], "r", vec![]));
    nodes.push(node("Gemm", "fc", &["r", "w"], "y", vec![]));
    let inits = vec![init("s", &[1], &[16777216.0]), init("w", &[4, 2], &[0.5; 8])];
    let many = model(("x", &[1, 4]), nodes, inits, "y");
    let e = err(&many);
    assert!(e.contains("fill2") && e.contains("hold more than 33554432 values"), "{e}");
}

#[test]
fn shapes_without_values_and_runaway_layers_are_refused() {
    // A weight [4, 0] holds no values and would make a layer of none;
    // every later shape computation could then divide by zero.
    let empty =
        model(("x", &[1, 4]), vec![node("Gemm", "fc", &["x", "w"], "y", vec![])], vec![init("w", &[4, 0], &[])], "y");
    let e = err(&empty);
    assert!(e.contains("\"fc\"") && e.contains("has no values"), "{e}");
    // Two -1 in a Reshape's target shape.
    let twice = model(
        ("x", &[1, 4]),
        vec![node("Reshape", "r", &["x", "s"], "r", vec![]), node("Gemm", "fc", &["r", "w"], "y", vec![])],
        vec![init("s", &[3], &[1.0, -1.0, -1.0]), init("w", &[4, 2], &[0.5; 8])],
        "y",
    );
    assert!(err(&twice).contains("has more than one -1"), "{}", err(&twice));
    // Flatten's negative axis counts from the end: -1 on [N, 4] keeps it.
    let flat = model(
        ("x", &[1, 4]),
        vec![
            node("Flatten", "f", &["x"], "f", vec![int_attr("axis", -1)]),
            node("Gemm", "fc", &["f", "w"], "y", vec![]),
        ],
        vec![init("w", &[4, 2], &[0.5; 8])],
        "y",
    );
    assert_eq!(import_bytes("flat.onnx", &flat).unwrap().layers.len(), 1);
    // Every pooling parameter in range, their product far too large.
    let pool = model(
        ("x", &[1, 1, 2048, 2048]),
        vec![node("AveragePool", "pool", &["x"], "y", vec![ints_attr("kernel_shape", &[1024, 1024])])],
        vec![],
        "y",
    );
    let e = err(&pool);
    assert!(e.contains("1024x1024 window over a 1025x1025 output") && e.contains("more than 33554432"), "{e}");
    // Two layers without an activation between compose into one; a
    // composition past 2^25 multiply-adds is refused before it is done.
    let (a, b, c) = (1024, 4096, 16);
    let deep = model(
        ("x", &[1, a]),
        vec![node("Gemm", "fc1", &["x", "w1"], "h", vec![]), node("Gemm", "fc2", &["h", "w2"], "y", vec![])],
        vec![init("w1", &[a, b], &vec![0.5; (a * b) as usize]), init("w2", &[b, c], &vec![0.5; (b * c) as usize])],
        "y",
    );
    let e = err(&deep);
    assert!(e.contains("\"fc2\"") && e.contains("takes 67108864 multiply-adds, more than 33554432"), "{e}");
}
