//! Generators of the committed seeds (`fuzz/seeds/protocol`,
//! `fuzz/seeds/onnx`, `fuzz/seeds/spec`), so no seed is an opaque blob: the unit test
//! `seeds_are_generated` checks the files equal what these functions make,
//! and `SPIKEFORGE_WRITE_SEEDS=1 cargo test --manifest-path fuzz/Cargo.toml`
//! rewrites them.
//!
//! Networks and CSV files are not copied here: `./dev fuzz` takes them
//! from `examples/` and `tests/corpus/`.

use onnx_protobuf::{NodeProto, TensorProto};
use spikeforge_convert::onnx_build::{self, const_node, int_attr, ints_attr, node, tensor};
use spikeforge_fpga::protocol::{cmd, reply, reply_frame, request};

/// Host-protocol byte streams, by file name: a reply of every type, a
/// request of every command, a whole step's replies, and a stream with
/// noise and a broken frame before a good one.
pub fn protocol() -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    let mut add = |name: &str, bytes: Vec<u8>| out.push((format!("{name}.bin"), bytes));
    for (name, c) in [
        ("write", cmd::WRITE),
        ("input", cmd::INPUT),
        ("step", cmd::STEP),
        ("peek", cmd::PEEK),
        ("status", cmd::STATUS),
        ("clear", cmd::CLEAR),
        ("err_clear", cmd::ERR_CLEAR),
        ("monitor", cmd::MONITOR),
    ] {
        add(&format!("ack_{name}"), reply_frame(reply::ACK, &[c]));
    }
    add("spike", reply_frame(reply::SPIKE, &[0, 1, 0, 5]));
    add("done", reply_frame(reply::DONE, &[0, 0, 0, 3, 0, 0, 1, 0x2c]));
    add("value", reply_frame(reply::VALUE, &(-1234i32).to_be_bytes()));
    add("status", reply_frame(reply::STATUS, &[0b0101, 1, 0, 0, 0, 9]));
    for code in 1..=4 {
        add(&format!("nak_{code}"), reply_frame(reply::NAK, &[code]));
    }
    // What the client reads for step, peek and status, in that order.
    let mut session = Vec::new();
    session.extend(reply_frame(reply::SPIKE, &[0, 0, 0, 2]));
    session.extend(reply_frame(reply::SPIKE, &[0, 1, 0, 0]));
    session.extend(reply_frame(reply::DONE, &[0, 0, 0, 1, 0, 0, 0, 40]));
    session.extend(reply_frame(reply::VALUE, &[0, 0, 0, 17]));
    session.extend(reply_frame(reply::STATUS, &[0, 0, 0, 0, 0, 1]));
    add("session", session);
    // Noise, a frame cut short and one with a wrong CRC, then a good one.
    let mut noisy = vec![0x00, 0x13, 0x55, 0xAA, 0x81];
    let mut bad = reply_frame(reply::VALUE, &[0, 0, 0, 1]);
    *bad.last_mut().expect("frames are not empty") ^= 0x5a;
    noisy.extend(bad);
    noisy.extend(reply_frame(reply::ACK, &[cmd::CLEAR]));
    add("noisy", noisy);
    let requests = [
        ("write", cmd::WRITE, vec![0, 1, 2, 0, 0, 7, 0, 0].into_iter().chain([0xA5; 16]).collect::<Vec<u8>>()),
        ("input", cmd::INPUT, vec![0, 0, 0, 3, 0, 63]),
        ("step", cmd::STEP, vec![]),
        ("peek", cmd::PEEK, vec![0, 1, 0, 2]),
        ("status", cmd::STATUS, vec![]),
        ("clear", cmd::CLEAR, vec![]),
        ("err_clear", cmd::ERR_CLEAR, vec![]),
        ("monitor", cmd::MONITOR, vec![1]),
    ];
    for (name, c, payload) in requests {
        add(&format!("request_{name}"), request(c, &payload));
    }
    out
}

/// Spec files: every preset as `spikeforge spec NAME` prints it.
pub fn spec() -> Vec<(String, Vec<u8>)> {
    use spikeforge_mapper::spec::{to_toml, HardwareSpec, PRESETS};
    PRESETS
        .iter()
        .filter_map(|name| HardwareSpec::preset(name).map(|s| (format!("{name}.toml"), to_toml(&s).into_bytes())))
        .collect()
}

/// Small ONNX models covering every supported operator, by file name.
pub fn onnx() -> Vec<(String, Vec<u8>)> {
    let w = |n: usize, k: usize| -> Vec<f32> { (0..n).map(|i| ((i * k % 13) as f32 - 6.0) / 8.0).collect() };
    let mlp = model(
        ("x", &[1, 4]),
        vec![
            node("Gemm", "fc1", &["x", "w1", "b1"], "h", vec![int_attr("transB", 1)]),
            node("Relu", "relu", &["h"], "r", vec![]),
            node("Dropout", "drop", &["r"], "d", vec![]),
            node("Gemm", "fc2", &["d", "w2", "b2"], "y", vec![int_attr("transB", 1)]),
            node("Softmax", "sm", &["y"], "z", vec![]),
        ],
        vec![init("w1", &[3, 4], &w(12, 5)), init("b1", &[3], &[0.1, 0.0, -0.1]), init("w2", &[2, 3], &w(6, 7))],
        vec![init("b2", &[2], &[0.0, 0.2])],
    );
    let mut shape = init("shape", &[2], &[]);
    shape.data_type = 7; // INT64
    shape.raw_data = [1i64, -1].iter().flat_map(|v| v.to_le_bytes()).collect();
    let mut lo = init("lo", &[], &[0.0]);
    lo.dims.clear();
    let matmul = model(
        ("x", &[1, 2, 2]),
        vec![
            node("Reshape", "reshape", &["x", "shape"], "f", vec![]),
            node("MatMul", "mm", &["f", "w"], "m", vec![]),
            node("Add", "add", &["m", "b"], "a", vec![]),
            node("Clip", "clip", &["a", "lo", "hi"], "c", vec![]),
            node("Identity", "id", &["c"], "i", vec![]),
            node("Gemm", "out", &["i", "w2"], "y", vec![]),
            node("LogSoftmax", "lsm", &["y"], "z", vec![]),
        ],
        vec![shape, init("w", &[4, 2], &w(8, 3)), init("b", &[2], &[0.5, -0.5]), lo, init("hi", &[], &[1.0])],
        vec![init("w2", &[2, 2], &[1.0, 2.0, 3.0, 4.0])],
    );
    let conv = model(
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
            node("Conv", "conv2", &["p", "wc2"], "c2", vec![ints_attr("strides", &[1, 1])]),
            node("Relu", "relu2", &["c2"], "r2", vec![]),
            node("GlobalAveragePool", "gap", &["r2"], "g2", vec![]),
            node("Flatten", "flat", &["g2"], "f", vec![]),
            node("Gemm", "fc", &["f", "wf", "bf"], "y", vec![int_attr("transB", 1)]),
        ],
        vec![
            init("wc", &[2, 1, 3, 3], &w(18, 7)),
            init("bc", &[2], &[0.1, -0.2]),
            init("g", &[2], &[1.5, 0.5]),
            init("beta", &[2], &[0.2, 0.3]),
            init("mu", &[2], &[0.1, -0.1]),
            init("var", &[2], &[0.25, 4.0]),
            init("wc2", &[2, 2, 1, 1], &[1.0, -0.5, 0.25, 2.0]),
            init("wf", &[3, 2], &w(6, 5)),
            init("bf", &[3], &[0.0, 0.5, -0.5]),
        ],
        vec![],
    );
    // Constants given as Constant nodes instead of initializers.
    let constants = model(
        ("x", &[1, 3]),
        vec![
            const_node("w", tensor("w", &[2, 3], &w(6, 11))),
            const_node("b", tensor("b", &[2], &[0.25, -0.25])),
            node("Gemm", "fc", &["x", "w", "b"], "h", vec![int_attr("transB", 1)]),
            node("Relu", "relu", &["h"], "r", vec![]),
            const_node("w2", tensor("w2", &[2, 1], &[1.0, -1.0])),
            node("MatMul", "out", &["r", "w2"], "y", vec![]),
        ],
        vec![],
        vec![],
    );
    vec![
        ("mlp.onnx".into(), mlp),
        ("matmul_clip.onnx".into(), matmul),
        ("conv.onnx".into(), conv),
        ("constants.onnx".into(), constants),
    ]
}

/// An initializer; the same float tensor, but in `float_data` when `dims`
/// is empty so both storage forms appear in the seeds.
fn init(name: &str, dims: &[i64], data: &[f32]) -> TensorProto {
    let mut t = tensor(name, dims, data);
    if dims.is_empty() {
        t.raw_data.clear();
        t.float_data = data.to_vec();
    }
    t
}

/// A model whose graph input is `input` (batch dimension first, symbolic),
/// whose weights are `inits` plus `more`, and whose output is the last node's.
fn model(input: (&str, &[i64]), nodes: Vec<NodeProto>, inits: Vec<TensorProto>, more: Vec<TensorProto>) -> Vec<u8> {
    let output = nodes.last().and_then(|n| n.output.first()).cloned().unwrap_or_default();
    onnx_build::model(input, nodes, inits.into_iter().chain(more).collect(), &output)
}
