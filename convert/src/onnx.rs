//! ONNX import: a ModelProto (parsed with the `onnx-protobuf` crate) to the
//! ANN IR of [`crate::ann`].
//!
//! Supported: a chain of Gemm, MatMul (+ Add), Conv, BatchNormalization,
//! Relu, Clip(0, max), AveragePool, GlobalAveragePool, Flatten, Reshape,
//! Dropout/Identity, and a final Softmax/LogSoftmax (argmax-invariant, so
//! dropped). Constants may be initializers or Constant nodes. Everything else
//! is refused with the node, its operator and what to do instead.

use crate::ann::{Act, Ann, Layer};
use crate::onnx_fold::{
    broadcast_to, check_shape, fold, is_int_type, permutation, type_name, work, Tensor, FOLDABLE, MAX_RANK,
    MAX_TOTAL_FOLDED, MAX_TOTAL_FOLD_WORK,
};
use onnx_protobuf::{attribute_proto::AttributeType, AttributeProto, Message, ModelProto, NodeProto, TensorProto};
use std::collections::HashMap;
use std::path::Path;

/// Why a model could not be imported. Messages carry their fix inline
/// (`; export one with ...`), so there is no separate help line.
#[derive(Debug, thiserror::Error, miette::Diagnostic, PartialEq)]
pub enum OnnxError {
    #[error("{file}: cannot read: {detail}")]
    Io { file: String, detail: String },
    /// Refused before reading: not a regular file, or larger than the input
    /// limit (spikeforge_net::input); `msg` says how to fix it.
    #[error("{file}: {msg}")]
    Refused { file: String, msg: String },
    #[error("{file}: not an ONNX model ({detail}); export one with torch.onnx.export or onnx.save")]
    Parse { file: String, detail: String },
    #[error("{file}: {msg}")]
    Model { file: String, msg: String },
    #[error("{file}: node {index} \"{node}\" ({op}): {msg}")]
    Node { file: String, index: usize, node: String, op: String, msg: String },
}

/// Reads and imports an ONNX file (cut automatically at the logits).
pub fn import(path: &Path) -> Result<Ann, OnnxError> {
    import_with(path, &ImportOptions::default()).map(|i| i.ann)
}

/// The file's bytes, refused when it is not a regular file or too large.
fn read(path: &Path) -> Result<Vec<u8>, OnnxError> {
    let file = path.display().to_string();
    spikeforge_net::input::read_input(path, "ONNX model").map_err(|e| match e {
        spikeforge_net::input::InputError::Io { detail, .. } => OnnxError::Io { file: file.clone(), detail },
        e => {
            OnnxError::Refused { file: file.clone(), msg: format!("{}; {}", e.message(), e.help().unwrap_or_default()) }
        }
    })
}

const SUPPORTED: &str = "Gemm, MatMul, Add, Sub, Mul, Div, Conv, BatchNormalization, Relu, Clip, AveragePool, \
                         GlobalAveragePool, Flatten, Reshape, Squeeze, Unsqueeze, Transpose, Cast, Dropout, \
                         Identity, Constant, shape arithmetic on constants, and a Softmax/LogSoftmax/ArgMax head \
                         (cut off)";

/// How a model is imported.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Convert up to this node (its first output) or tensor, instead of
    /// the automatic cut at the logits.
    pub output: Option<String>,
}

/// An imported model, with what the import did to the graph (for the
/// user: where it was cut, what was dropped).
#[derive(Debug, Clone)]
pub struct Imported {
    pub ann: Ann,
    pub notes: Vec<String>,
}

/// Imports a model from bytes; `file` names it in messages.
pub fn import_bytes(file: &str, bytes: &[u8]) -> Result<Ann, OnnxError> {
    import_bytes_with(file, bytes, &ImportOptions::default()).map(|i| i.ann)
}

/// Reads and imports an ONNX file with options.
pub fn import_with(path: &Path, opts: &ImportOptions) -> Result<Imported, OnnxError> {
    let file = path.display().to_string();
    let bytes = read(path)?;
    import_bytes_with(&file, &bytes, opts)
}

/// Operators whose output is a probability or a label: the automatic cut
/// is made at the input of the first of them (a final Sigmoid counts too).
const HEAD_OPS: &[&str] = &["Softmax", "LogSoftmax", "ArgMax", "ArgMin", "ZipMap", "ArrayFeatureExtractor", "TopK"];

/// Operators that may follow the cut: they derive labels or probabilities
/// (skl2onnx's ArgMax / ArrayFeatureExtractor / ZipMap / Cast branch, a
/// binary classifier's 1 - p and Concat), never a further layer.
const LABEL_OPS: &[&str] = &[
    "Softmax",
    "LogSoftmax",
    "Sigmoid",
    "ArgMax",
    "ArgMin",
    "ZipMap",
    "ArrayFeatureExtractor",
    "TopK",
    "Cast",
    "CastLike",
    "Identity",
    "Reshape",
    "Flatten",
    "Squeeze",
    "Unsqueeze",
    "Concat",
    "Sub",
    "Add",
    "Mul",
    "Div",
    "Neg",
    "Exp",
    "Log",
    "Normalizer",
    "Gather",
    "Shape",
    "Constant",
    "LabelEncoder",
    "ReduceMax",
    "ReduceSum",
    "Max",
    "Min",
    "Greater",
    "Less",
    "Equal",
    "Where",
    "Not",
    "Slice",
    "Binarizer",
];

/// The graph's edges: which node makes each tensor, which nodes read it.
struct Edges {
    producer: HashMap<String, usize>,
    consumers: HashMap<String, Vec<usize>>,
}

impl Edges {
    fn new(nodes: &[NodeProto]) -> Edges {
        let mut producer = HashMap::new();
        let mut consumers: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, n) in nodes.iter().enumerate() {
            for o in n.output.iter().filter(|o| !o.is_empty()) {
                producer.insert(o.clone(), i);
            }
            for x in n.input.iter().filter(|x| !x.is_empty()) {
                consumers.entry(x.clone()).or_default().push(i);
            }
        }
        Edges { producer, consumers }
    }

    /// Nodes that `tensor` is computed from (transitively), itself's
    /// producer included.
    fn ancestors(&self, nodes: &[NodeProto], tensor: &str) -> Vec<bool> {
        let mut keep = vec![false; nodes.len()];
        let mut stack: Vec<&str> = vec![tensor];
        while let Some(t) = stack.pop() {
            if let Some(&p) = self.producer.get(t) {
                if !keep[p] {
                    keep[p] = true;
                    stack.extend(nodes[p].input.iter().filter(|x| !x.is_empty()).map(|x| x.as_str()));
                }
            }
        }
        keep
    }

    /// Nodes that read `tensor` (transitively).
    fn descendants(&self, nodes: &[NodeProto], tensor: &str) -> Vec<usize> {
        let mut seen = vec![false; nodes.len()];
        let mut stack: Vec<&str> = vec![tensor];
        while let Some(t) = stack.pop() {
            for &c in self.consumers.get(t).map_or(&[][..], |v| v.as_slice()) {
                if !seen[c] {
                    seen[c] = true;
                    stack.extend(nodes[c].output.iter().map(|o| o.as_str()));
                }
            }
        }
        (0..nodes.len()).filter(|&i| seen[i]).collect()
    }
}

/// A node's name for messages: its own, or `Op_index` when it has none.
fn node_name(node: &NodeProto, index: usize) -> String {
    if node.name.is_empty() {
        format!("{}_{index}", node.op_type)
    } else {
        node.name.clone()
    }
}

/// Where the conversion ends.
struct Cut {
    /// The tensor whose values become the SNN's outputs.
    tensor: String,
    /// The cut was made at a final Sigmoid (a binary or multi-label head).
    sigmoid: bool,
    /// What was cut off, for the notes.
    dropped: Vec<String>,
    /// The nodes `tensor` is computed from: the ones converted.
    keep: Vec<bool>,
}

/// Finds the logits: the tensor named by `--output`, or the input of the
/// first probability/label operator, or the graph's only output.
fn find_cut(
    file: &str,
    graph: &onnx_protobuf::GraphProto,
    edges: &Edges,
    opts: &ImportOptions,
) -> Result<Cut, OnnxError> {
    let model_err = |msg: String| OnnxError::Model { file: file.into(), msg };
    let nodes = &graph.node;
    // The cut at `t`: the nodes it keeps, and what it leaves out.
    let cut = |t: String, sigmoid: bool| -> Cut {
        let keep = edges.ancestors(nodes, &t);
        let dropped = edges
            .descendants(nodes, &t)
            .into_iter()
            .filter(|&i| !keep[i])
            .map(|i| format!("{} \"{}\"", nodes[i].op_type, node_name(&nodes[i], i)))
            .collect();
        Cut { tensor: t, sigmoid, dropped, keep }
    };
    if let Some(name) = &opts.output {
        let tensor = match nodes.iter().enumerate().find(|(i, n)| &node_name(n, *i) == name) {
            Some((_, n)) => n.output.first().cloned().unwrap_or_default(),
            None if edges.producer.contains_key(name) => name.clone(),
            None => {
                let known: Vec<String> = nodes.iter().enumerate().map(|(i, n)| node_name(n, i)).collect();
                return Err(model_err(format!(
                    "--output {name}: no node or tensor has this name; the nodes are {}",
                    list(&known, 30)
                )));
            }
        };
        return Ok(cut(tensor, false));
    }
    let is_layer = |i: usize| !LABEL_OPS.contains(&nodes[i].op_type.as_str());
    let head = nodes.iter().enumerate().find(|(_, n)| {
        HEAD_OPS.contains(&n.op_type.as_str())
            || (n.op_type == "Sigmoid"
                && n.output.first().is_some_and(|o| !edges.descendants(nodes, o).into_iter().any(is_layer)))
    });
    if let Some((i, n)) = head {
        let c = cut(n.input.first().cloned().unwrap_or_default(), n.op_type == "Sigmoid");
        // Everything after the cut must only derive labels or probabilities:
        // dropping a layer would change what the network computes.
        if let Some(j) = edges.descendants(nodes, &c.tensor).into_iter().find(|&j| !c.keep[j] && is_layer(j)) {
            return Err(OnnxError::Node {
                file: file.into(),
                index: j,
                node: node_name(&nodes[j], j),
                op: nodes[j].op_type.clone(),
                msg: format!(
                    "it comes after {} \"{}\", where spikeforge cuts the graph at the logits, but it is more than \
                     a label or probability computation; name the tensor to convert up to with --output NAME",
                    n.op_type,
                    node_name(n, i)
                ),
            });
        }
        return Ok(c);
    }
    let outs: Vec<&String> = graph.output.iter().map(|o| &o.name).collect();
    match outs.as_slice() {
        [one] => Ok(cut((*one).clone(), false)),
        [] => Err(model_err("the graph declares no output".into())),
        many => Err(model_err(format!(
            "the graph has {} outputs ({}); name the one to convert with --output NAME",
            many.len(),
            list(&many.iter().map(|s| s.to_string()).collect::<Vec<_>>(), 10)
        ))),
    }
}

/// At most `max` names, then how many more.
fn list(names: &[String], max: usize) -> String {
    let mut s = names.iter().take(max).map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(", ");
    if names.len() > max {
        s.push_str(&format!(" and {} more", names.len() - max));
    }
    s
}

/// A shape for messages, batch first: `[N, 64]`, or `[64]` for a model
/// whose input has no batch dimension.
fn show_shape(shape: &[usize], batched: bool) -> String {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    if batched {
        format!("[N{}{}]", if dims.is_empty() { "" } else { ", " }, dims.join(", "))
    } else {
        format!("[{}]", dims.join(", "))
    }
}

/// Imports a model from bytes with options; `file` names it in messages.
pub fn import_bytes_with(file: &str, bytes: &[u8], opts: &ImportOptions) -> Result<Imported, OnnxError> {
    let model_err = |msg: String| OnnxError::Model { file: file.into(), msg };
    let model = ModelProto::parse_from_bytes(bytes)
        .map_err(|e| OnnxError::Parse { file: file.into(), detail: e.to_string() })?;
    let Some(graph) = model.graph.as_ref() else {
        return Err(OnnxError::Parse { file: file.into(), detail: "it has no graph".into() });
    };
    if graph.node.is_empty() {
        return Err(OnnxError::Parse { file: file.into(), detail: "its graph has no nodes".into() });
    }
    // Initializers of a type that holds no numbers (the string class
    // labels of a classifier's label branch) matter only if the cut keeps
    // them; a numeric one that cannot be read is a broken file.
    let mut consts: HashMap<String, Tensor> = HashMap::new();
    let mut unreadable: HashMap<String, String> = HashMap::new();
    for t in &graph.initializer {
        match tensor(t) {
            Ok(v) => {
                consts.insert(t.name.clone(), v);
            }
            Err(m) if matches!(t.data_type, 8 | 14 | 15) => {
                unreadable.insert(t.name.clone(), m);
            }
            Err(m) => return Err(model_err(format!("initializer \"{}\": {m}", t.name))),
        }
    }
    let dynamic: Vec<_> =
        graph.input.iter().filter(|i| !consts.contains_key(&i.name) && !unreadable.contains_key(&i.name)).collect();
    let [input] = dynamic.as_slice() else {
        return Err(model_err(format!(
            "the graph has {} inputs besides its weights; spikeforge converts models with exactly one input",
            dynamic.len()
        )));
    };
    let (dims, batched) = input_dims(input).map_err(|m| model_err(format!("input \"{}\": {m}", input.name)))?;
    if dims.is_empty() || dims.contains(&0) {
        return Err(model_err(format!(
            "input \"{}\" has shape {}; give it a fixed shape such as [N, 64] or [N, 1, 28, 28]",
            input.name,
            show_shape(&dims, batched)
        )));
    }
    let edges = Edges::new(&graph.node);
    let cut = find_cut(file, graph, &edges, opts)?;
    if cut.tensor == input.name {
        return Err(model_err(format!(
            "the cut at \"{}\" is the model's input: there is nothing to convert",
            cut.tensor
        )));
    }
    let mut b = Builder { shape: dims.clone(), batched, layers: Vec::new(), work: 0 };
    let mut cur = input.name.clone();
    // Shapes (batch excluded) of the chain's tensors, for Shape nodes.
    let mut shapes: HashMap<String, Vec<usize>> = [(cur.clone(), dims.clone())].into();
    let mut notes = Vec::new();
    // The values and the work (onnx_fold::work) of every fold so far.
    let mut folded = (0usize, 0usize);
    for (index, node) in graph.node.iter().enumerate().filter(|(i, _)| cut.keep[*i]) {
        let name = node_name(node, index);
        let err = |msg: String| OnnxError::Node {
            file: file.into(),
            index,
            node: name.clone(),
            op: node.op_type.clone(),
            msg,
        };
        if let Some((i, m)) = node.input.iter().find_map(|i| unreadable.get(i).map(|m| (i, m))) {
            return Err(model_err(format!("initializer \"{i}\": {m}")));
        }
        if node.op_type == "Constant" {
            let t = const_node(node).map_err(err)?;
            if let Some(out) = node.output.first() {
                consts.insert(out.clone(), t);
            }
            continue;
        }
        let dyn_inputs: Vec<&String> =
            node.input.iter().filter(|i| !i.is_empty() && !consts.contains_key(*i)).collect();
        if let Some(undefined) = dyn_inputs.iter().find(|i| !shapes.contains_key(i.as_str())) {
            return Err(err(format!(
                "its input \"{undefined}\" is neither an initializer nor the output of an earlier node; weights \
                 must be stored in the model (initializers)"
            )));
        }
        // Shape arithmetic and constant expressions are evaluated now.
        let shape_query = matches!(node.op_type.as_str(), "Shape" | "Size") && dyn_inputs.len() == 1;
        if dyn_inputs.is_empty() || shape_query {
            let ins: Vec<Option<&Tensor>> =
                node.input.iter().map(|i| if i.is_empty() { None } else { consts.get(i) }).collect();
            let shape_of = shape_query.then(|| {
                let s = &shapes[dyn_inputs[0].as_str()];
                if batched {
                    std::iter::once(1).chain(s.iter().copied()).collect()
                } else {
                    s.clone()
                }
            });
            if !FOLDABLE.contains(&node.op_type.as_str()) {
                return Err(err(format!(
                    "all its inputs are constants and spikeforge does not evaluate {} ({} are); fold constants \
                     before export (onnxsim, or torch.onnx.export with do_constant_folding=True)",
                    node.op_type,
                    FOLDABLE.join(", ")
                )));
            }
            let t = fold(node, &ins, shape_of).map_err(err)?;
            folded.0 = folded.0.saturating_add(t.data.len());
            folded.1 = folded.1.saturating_add(work(&t));
            let over = if folded.0 > MAX_TOTAL_FOLDED {
                Some(format!("hold more than {MAX_TOTAL_FOLDED} values"))
            } else if folded.1 > MAX_TOTAL_FOLD_WORK {
                Some(format!("take more than {MAX_TOTAL_FOLD_WORK} steps (values times dimensions)"))
            } else {
                None
            };
            if let Some(over) = over {
                return Err(err(format!(
                    "the constants folded up to here {over}; fold constants before export (onnxsim, or \
                     torch.onnx.export with do_constant_folding=True)"
                )));
            }
            if let Some(out) = node.output.first() {
                consts.insert(out.clone(), t);
            }
            continue;
        }
        if dyn_inputs.len() > 1 || dyn_inputs[0] != &cur {
            return Err(err(format!(
                "it reads {:?}, but the chain's current tensor is \"{cur}\"; spikeforge imports a chain of layers \
                 (no branches or skip connections)",
                dyn_inputs
            )));
        }
        let c = |i: usize| node.input.get(i).filter(|s| !s.is_empty()).and_then(|s| consts.get(s));
        let data_at = node.input.iter().position(|i| i == &cur).unwrap_or(0);
        b.charge(b.size()).map_err(err)?;
        b.node(&name, node, data_at, &c).map_err(err)?;
        b.check_shape().map_err(err)?;
        cur = node.output.first().cloned().unwrap_or_default();
        shapes.insert(cur.clone(), b.shape.clone());
    }
    if b.layers.is_empty() {
        return Err(model_err(format!(
            "the graph up to \"{}\" has no Gemm, MatMul, Conv or pooling layer",
            cut.tensor
        )));
    }
    if cur != cut.tensor {
        return Err(model_err(format!(
            "the chain of layers ends at \"{cur}\", not at \"{}\" where the graph is cut; spikeforge imports a \
             chain of layers",
            cut.tensor
        )));
    }
    if !cut.dropped.is_empty() {
        let mut left = cut.dropped.iter().take(8).cloned().collect::<Vec<_>>().join(", ");
        if cut.dropped.len() > 8 {
            left.push_str(&format!(" and {} more", cut.dropped.len() - 8));
        }
        notes.push(format!("converted up to \"{}\"; left out: {left}", cut.tensor));
    } else if let Some(name) = &opts.output {
        notes.push(format!("converted up to \"{}\" (--output {name})", cut.tensor));
    }
    if cut.sigmoid && b.size() == 1 {
        // A binary classifier's one logit z: softmax([-z/2, z/2]) is exactly
        // [1 - sigmoid(z), sigmoid(z)], the two classes' probabilities.
        let name = "binary";
        b.push_affine(Layer::from_dense(name, 1, &[vec![-0.5], vec![0.5]], vec![0.0, 0.0])).map_err(model_err)?;
        notes.push(format!(
            "the one logit \"{}\" before the final Sigmoid became two outputs [-z/2, z/2] (class 0, class 1), \
             whose softmax is the Sigmoid's [1 - p, p]",
            cut.tensor
        ));
    }
    Ok(Imported { ann: Ann { input_shape: dims, layers: b.layers }, notes })
}

/// The input's shape without the batch dimension, and whether it has one
/// (a rank-1 input is one sample's vector).
fn input_dims(v: &onnx_protobuf::ValueInfoProto) -> Result<(Vec<usize>, bool), String> {
    use onnx_protobuf::tensor_shape_proto::dimension::Value;
    use onnx_protobuf::type_proto::Value as TV;
    let Some(TV::TensorType(t)) = v.type_.as_ref().and_then(|t| t.value.as_ref()) else {
        return Err("it is not a tensor".into());
    };
    if t.elem_type != 0 && is_int_type(t.elem_type as i64) {
        return Err(format!(
            "its element type is {}; spikeforge converts networks on float inputs",
            type_name(t.elem_type as i64)
        ));
    }
    let Some(shape) = t.shape.as_ref() else { return Err("it has no shape".into()) };
    if shape.dim.is_empty() {
        return Err("it has rank 0; expected [N, features] or [N, C, H, W]".into());
    }
    let batched = shape.dim.len() > 1;
    let mut out = Vec::new();
    for (k, d) in shape.dim.iter().enumerate().skip(usize::from(batched)) {
        match &d.value {
            Some(Value::DimValue(n)) if *n > 0 => out.push(*n as usize),
            other => return Err(format!("dimension {k} is {other:?}, not a fixed size")),
        }
    }
    // It becomes the input population, so the same bound applies; checked
    // here so that no later shape computation can overflow.
    let max = MAX_VALUES;
    if elements(&out).is_none_or(|n| n > max) {
        return Err(format!(
            "its shape {} has more than {max} values per sample (the most an input population holds)",
            show_shape(&out, batched)
        ));
    }
    Ok((out, batched))
}

/// Most values of a layer's input or output: each becomes a population.
const MAX_VALUES: usize = spikeforge_net::network::MAX_POPULATION_SIZE as usize;

/// Most synapses one imported layer may have, and most multiply-adds that
/// composing two layers without an activation between may take: 2^25, over
/// three times the largest network the mapper is measured on (10M
/// synapses), and a bound on the importer's time and memory (0.5 GB).
pub(crate) const MAX_LAYER_SYNAPSES: usize = 1 << 25;

/// Most synapses the importer's layers may hold together (about 0.8 GB).
const MAX_HELD_SYNAPSES: usize = 1 << 26;

/// Most work the importer's layers may take together, counted as the
/// values each node handles plus each layer's synapses and composition
/// multiply-adds: a file of a few kilobytes must not keep it busy for
/// minutes with hundreds of nodes on the largest input.
pub(crate) const MAX_BUILD_WORK: usize = 1 << 28;

/// Refuses a layer output larger than a population before it is built.
fn layer_values(shape: &[usize]) -> Result<usize, String> {
    elements(shape).filter(|&n| n <= MAX_VALUES).ok_or_else(|| {
        format!("its output {shape:?} would have more than {MAX_VALUES} values (the most a population holds)")
    })
}

/// Number of values of a shape; `None` when that overflows (a corrupt or
/// hostile file can declare any dimensions).
fn elements(dims: &[usize]) -> Option<usize> {
    dims.iter().try_fold(1usize, |n, &d| n.checked_mul(d))
}

pub(crate) fn tensor(t: &TensorProto) -> Result<Tensor, String> {
    if t.data_location.value() == 1 {
        return Err("its data is stored in an external file; save the model with \
                    onnx.save(model, path, save_as_external_data=False)"
            .into());
    }
    let dims: Vec<usize> = t.dims.iter().map(|&d| d.max(0) as usize).collect();
    let Some(n) = elements(&dims) else {
        return Err(format!("its shape {dims:?} has more values than any file can hold"));
    };
    let raw = &t.raw_data;
    // Raw little-endian bytes when present, else the typed field.
    fn le<const W: usize>(raw: &[u8], f: impl Fn([u8; W]) -> f64) -> Vec<f64> {
        raw.chunks_exact(W).map(|c| f(c.try_into().unwrap_or([0; W]))).collect()
    }
    let ints32 = || t.int32_data.iter().map(|&v| v as f64).collect::<Vec<f64>>();
    let data: Vec<f64> = match t.data_type {
        1 if !raw.is_empty() => le(raw, |b| f32::from_le_bytes(b) as f64),
        1 => t.float_data.iter().map(|&v| v as f64).collect(),
        11 if !raw.is_empty() => le(raw, f64::from_le_bytes),
        11 => t.double_data.clone(),
        10 if !raw.is_empty() => le(raw, |b| f16_to_f64(u16::from_le_bytes(b))),
        10 => t.int32_data.iter().map(|&v| f16_to_f64(v as u16)).collect(),
        7 if !raw.is_empty() => le(raw, |b| i64::from_le_bytes(b) as f64),
        7 => t.int64_data.iter().map(|&v| v as f64).collect(),
        6 if !raw.is_empty() => le(raw, |b| i32::from_le_bytes(b) as f64),
        2 | 9 if !raw.is_empty() => le(raw, |b: [u8; 1]| b[0] as f64),
        3 if !raw.is_empty() => le(raw, |b: [u8; 1]| b[0] as i8 as f64),
        4 if !raw.is_empty() => le(raw, |b| u16::from_le_bytes(b) as f64),
        5 if !raw.is_empty() => le(raw, |b| i16::from_le_bytes(b) as f64),
        12 if !raw.is_empty() => le(raw, |b| u32::from_le_bytes(b) as f64),
        13 if !raw.is_empty() => le(raw, |b| u64::from_le_bytes(b) as f64),
        2..=6 | 9 => ints32(),
        12 | 13 => t.uint64_data.iter().map(|&v| v as f64).collect(),
        other => {
            return Err(format!(
                "element type {} is not supported (float16/32/64 and integers are); export the weights as float32",
                type_name(other as i64)
            ))
        }
    };
    if data.len() != n {
        return Err(format!("it holds {} values but its shape {dims:?} needs {n}", data.len()));
    }
    check_shape(&dims, n, "its shape")?;
    Ok(Tensor { dims, data, int: is_int_type(t.data_type as i64) })
}

/// An IEEE half-precision value.
fn f16_to_f64(h: u16) -> f64 {
    let sign = if h >> 15 == 1 { -1.0 } else { 1.0 };
    let (e, m) = ((h >> 10) & 0x1f, (h & 0x3ff) as f64);
    sign * match e {
        0 => m * 2f64.powi(-24),
        31 if m == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        e => (1.0 + m / 1024.0) * 2f64.powi(e as i32 - 15),
    }
}

fn const_node(node: &NodeProto) -> Result<Tensor, String> {
    for a in &node.attribute {
        match a.name.as_str() {
            "value" => return a.t.as_ref().ok_or_else(|| "its value has no tensor".to_string()).and_then(tensor),
            "value_float" => return Ok(Tensor::float(vec![], vec![a.f as f64])),
            "value_int" => return Ok(Tensor::ints(vec![], vec![a.i as f64])),
            "value_ints" => return Ok(Tensor::ints(vec![a.ints.len()], a.ints.iter().map(|&v| v as f64).collect())),
            "value_floats" => {
                return Ok(Tensor::float(vec![a.floats.len()], a.floats.iter().map(|&v| v as f64).collect()))
            }
            _ => {}
        }
    }
    Err("it has no value attribute spikeforge can read (value, value_float(s), value_int(s))".into())
}

fn attr<'a>(node: &'a NodeProto, name: &str) -> Option<&'a AttributeProto> {
    node.attribute.iter().find(|a| a.name == name)
}

fn attr_i(node: &NodeProto, name: &str, default: i64) -> i64 {
    attr(node, name).map_or(default, |a| a.i)
}

fn attr_f(node: &NodeProto, name: &str, default: f64) -> f64 {
    attr(node, name).map_or(default, |a| a.f as f64)
}

fn attr_ints(node: &NodeProto, name: &str) -> Option<Vec<i64>> {
    attr(node, name)
        .filter(|a| a.type_.enum_value() == Ok(AttributeType::INTS) || !a.ints.is_empty())
        .map(|a| a.ints.clone())
}

fn attr_s(node: &NodeProto, name: &str) -> Option<String> {
    attr(node, name).map(|a| String::from_utf8_lossy(&a.s).into_owned())
}

struct Builder {
    /// Shape of the chain's current tensor (without the batch dimension).
    shape: Vec<usize>,
    /// The model's tensors have a batch dimension first (fixed at 1).
    batched: bool,
    layers: Vec<Layer>,
    /// The work so far, as [`MAX_BUILD_WORK`] counts it.
    work: usize,
}

type Consts<'a> = dyn Fn(usize) -> Option<&'a Tensor> + 'a;

impl Builder {
    fn size(&self) -> usize {
        self.shape.iter().product()
    }

    /// What every node must leave: a shape of at most [`MAX_RANK`]
    /// dimensions, none 0, of at most [`MAX_VALUES`] values, so that no
    /// later shape arithmetic divides by zero or overflows (a weight of
    /// shape `[4, 0]` holds no values and would make a layer of none).
    fn check_shape(&self) -> Result<(), String> {
        if self.shape.len() > MAX_RANK {
            return Err(format!(
                "its output has rank {}; at most {MAX_RANK} dimensions are supported",
                self.shape.len()
            ));
        }
        if self.shape.contains(&0) {
            return Err(format!(
                "its output {} has no values (a weight or shape with a 0 dimension); export the model with its \
                 trained shapes",
                self.show()
            ));
        }
        layer_values(&self.shape).map(|_| ())
    }

    /// The current shape with the batch dimension, as the model sees it.
    fn full_shape(&self) -> Vec<usize> {
        if self.batched {
            std::iter::once(1).chain(self.shape.iter().copied()).collect()
        } else {
            self.shape.clone()
        }
    }

    fn show(&self) -> String {
        show_shape(&self.shape, self.batched)
    }

    fn push_affine(&mut self, layer: Layer) -> Result<(), String> {
        self.shape = layer.shape.clone();
        self.charge(layer.cols.len())?;
        if layer.cols.len() > MAX_LAYER_SYNAPSES {
            return Err(format!(
                "its layer has {} synapses, more than {MAX_LAYER_SYNAPSES} (2^25), three times the largest network \
                 spikeforge maps; use a smaller layer",
                layer.cols.len()
            ));
        }
        let linear = self.layers.last().filter(|last| last.act == Act::Linear);
        if let Some(madds) = linear.map(|last| Layer::compose_cost(last, &layer)) {
            if madds > MAX_LAYER_SYNAPSES {
                return Err(format!(
                    "it follows the layer before without an activation between, and composing the two into one \
                     takes {madds} multiply-adds, more than {MAX_LAYER_SYNAPSES} (2^25); multiply the two weight \
                     matrices into one before export"
                ));
            }
            self.charge(madds)?;
            let last = self.layers.last_mut().expect("a linear layer");
            *last = Layer::compose(last, &layer);
        } else {
            self.layers.push(layer);
        }
        let held: usize = self.layers.iter().map(|l| l.cols.len()).sum();
        if held > MAX_HELD_SYNAPSES {
            return Err(format!(
                "the layers up to here have {held} synapses, more than {MAX_HELD_SYNAPSES} (2^26), six times the \
                 largest network spikeforge maps; convert a smaller network, or cut it earlier with --output"
            ));
        }
        Ok(())
    }

    /// Adds `n` to the work and checks it against [`MAX_BUILD_WORK`].
    fn charge(&mut self, n: usize) -> Result<(), String> {
        self.work = self.work.saturating_add(n);
        if self.work > MAX_BUILD_WORK {
            return Err(format!(
                "the layers up to here take more than {MAX_BUILD_WORK} steps to build (values handled, synapses \
                 and compositions), far more than a network that fits neuron cores; convert a smaller network, or \
                 cut it earlier with --output"
            ));
        }
        Ok(())
    }

    fn flat(&self, what: &str) -> Result<usize, String> {
        if self.shape.len() != 1 {
            return Err(format!(
                "{what} needs a flat input but the tensor has shape {}; add a Flatten before it",
                self.show()
            ));
        }
        Ok(self.shape[0])
    }

    fn image(&self) -> Result<(usize, usize, usize), String> {
        match self.shape.as_slice() {
            &[c, h, w] => Ok((c, h, w)),
            _ => Err(format!("it needs an [N, C, H, W] input but the tensor has shape {}", self.show())),
        }
    }

    /// Lowers one node onto the chain: one arm per operator (family), each
    /// refusing with its own message what it cannot convert.
    fn node<'a>(&mut self, name: &str, node: &NodeProto, data_at: usize, c: &Consts<'a>) -> Result<(), String> {
        let op = node.op_type.as_str();
        match op {
            "Gemm" => self.gemm(name, node, c),
            "MatMul" => self.matmul(name, c),
            "Add" | "Sub" | "Mul" | "Div" => self.elementwise(name, op, data_at, c),
            "BatchNormalization" => self.batch_norm(name, node, c),
            "Relu" | "Clip" => self.relu_clip(name, node, c),
            "Conv" => self.conv(name, node, c),
            "AveragePool" => self.average_pool(name, node),
            "GlobalAveragePool" => self.global_average_pool(name),
            "Flatten" => self.flatten(node),
            "Reshape" => self.reshape(c),
            "Squeeze" | "Unsqueeze" => self.squeeze(node, c),
            "Transpose" => self.transpose(name, node),
            "Cast" | "CastLike" => cast(node, c),
            "Dropout" | "Identity" => Ok(()),
            // A final Sigmoid is cut off with the head; one met here is hidden.
            "Sigmoid" | "Tanh" => Err(format!(
                "a {} hidden activation has no IF-neuron equivalent; train the network with ReLU \
                     (scikit-learn: MLPClassifier(activation='relu'))",
                if op == "Sigmoid" { "logistic (Sigmoid)" } else { "tanh" }
            )),
            other => Err(unsupported(other)),
        }
    }

    /// `alpha · x·B + beta · C`, B (and C, if present) constant.
    fn gemm<'a>(&mut self, name: &str, node: &NodeProto, c: &Consts<'a>) -> Result<(), String> {
        let k = self.flat("Gemm")?;
        if attr_i(node, "transA", 0) != 0 {
            return Err("transA = 1 is not supported; export with the batch as the first dimension".into());
        }
        let bt = c(1).ok_or("its weight B must be a constant (an initializer)")?;
        let trans = attr_i(node, "transB", 0) != 0;
        let (alpha, beta) = (attr_f(node, "alpha", 1.0), attr_f(node, "beta", 1.0));
        let n = gemm_outputs(bt, k, trans)?;
        let rows: Vec<Vec<f64>> = (0..n)
            .map(|o| (0..k).map(|i| alpha * if trans { bt.data[o * k + i] } else { bt.data[i * n + o] }).collect())
            .collect();
        let bias = match c(2) {
            Some(t) => broadcast(t, n)?.into_iter().map(|v| beta * v).collect(),
            None if node.input.len() > 2 && !node.input[2].is_empty() => {
                return Err("its bias C must be a constant (an initializer)".into())
            }
            None => vec![0.0; n],
        };
        self.push_affine(Layer::from_dense(name, k, &rows, bias))?;
        Ok(())
    }

    /// `x @ W` with a constant W; a following Add supplies the bias.
    fn matmul<'a>(&mut self, name: &str, c: &Consts<'a>) -> Result<(), String> {
        let k = self.flat("MatMul")?;
        let bt = c(1).ok_or("its second operand must be a constant weight matrix (x @ W)")?;
        let n = gemm_outputs(bt, k, false)?;
        let rows: Vec<Vec<f64>> = (0..n).map(|o| (0..k).map(|i| bt.data[i * n + o]).collect()).collect();
        self.push_affine(Layer::from_dense(name, k, &rows, vec![0.0; n]))?;
        Ok(())
    }

    /// Add, Sub, Mul or Div by a constant: a diagonal affine layer, which
    /// [`Builder::push_affine`] composes exactly into the affine layer before
    /// it (a bias, a scale) or, before the first layer or after an
    /// activation, into the next one (input normalization folds into the
    /// first layer; padding cells of a following Conv stay zero, as in the
    /// model, because composition runs over each row's in-range cells).
    fn elementwise<'a>(&mut self, name: &str, op: &str, data_at: usize, c: &Consts<'a>) -> Result<(), String> {
        let k = c(1 - data_at.min(1)).ok_or("one operand must be a constant")?;
        let full = self.full_shape();
        let n = self.size();
        let v = match broadcast_to(k, &full) {
            Ok(v) => v,
            // A per-channel vector on an image (some exporters write [C] for [C, 1, 1]).
            Err(_) if self.shape.len() == 3 && k.data.len() == self.shape[0] => expand(&k.data, n / self.shape[0]),
            Err(e) => return Err(e),
        };
        // y = a * x + b per element.
        let (a, b): (Vec<f64>, Vec<f64>) = match (op, data_at) {
            ("Add", _) => (vec![1.0; n], v),
            ("Sub", 0) => (vec![1.0; n], v.iter().map(|x| -x).collect()),
            ("Sub", _) => (vec![-1.0; n], v),
            ("Mul", _) => (v, vec![0.0; n]),
            ("Div", 0) => {
                if v.contains(&0.0) {
                    return Err("it divides by zero".into());
                }
                (v.iter().map(|x| 1.0 / x).collect(), vec![0.0; n])
            }
            _ => {
                return Err(
                    "only tensor / constant is supported (a constant divided by the tensor is not affine)".into()
                )
            }
        };
        self.push_diagonal(name, a, b)
    }

    /// Pushes `y = a ⊙ x + b` over the current tensor (shape unchanged).
    fn push_diagonal(&mut self, name: &str, a: Vec<f64>, b: Vec<f64>) -> Result<(), String> {
        let rows: Vec<Vec<(usize, f64)>> = a.iter().enumerate().map(|(i, &w)| vec![(i, w)]).collect();
        let layer = sparse_layer(name, a.len(), self.shape.clone(), rows, b);
        self.push_affine(layer)
    }

    /// BatchNormalization (inference): a per-channel affine map, folded into
    /// the affine layer before it, or after an activation into the next one.
    fn batch_norm<'a>(&mut self, name: &str, node: &NodeProto, c: &Consts<'a>) -> Result<(), String> {
        // Training mode normalizes with each batch's own statistics: one
        // sample at a time, that is not the network that was trained.
        if attr_i(node, "training_mode", 0) != 0 || node.output.len() > 1 {
            return Err("it is in training mode (training_mode = 1 or running-statistics outputs): it normalizes \
                        with each batch's statistics; export the model in inference mode (model.eval() before \
                        torch.onnx.export)"
                .into());
        }
        let get = |i: usize, what: &str| c(i).ok_or(format!("its {what} must be a constant"));
        let (scale, beta, mean, var) = (get(1, "scale")?, get(2, "bias")?, get(3, "mean")?, get(4, "variance")?);
        let eps = attr_f(node, "epsilon", 1e-5);
        let channels = *self.shape.first().ok_or("it needs a channel dimension")?;
        let per = self.size() / channels.max(1);
        let (s, bb, m, v) = (
            broadcast(scale, channels)?,
            broadcast(beta, channels)?,
            broadcast(mean, channels)?,
            broadcast(var, channels)?,
        );
        let g: Vec<f64> = (0..channels).map(|ch| s[ch] / (v[ch] + eps).sqrt()).collect();
        let off: Vec<f64> = (0..channels).map(|ch| bb[ch] - m[ch] * g[ch]).collect();
        self.push_diagonal(name, expand(&g, per), expand(&off, per))
    }

    /// Relu or Clip(0, max) as the activation of the last layer.
    fn relu_clip<'a>(&mut self, name: &str, node: &NodeProto, c: &Consts<'a>) -> Result<(), String> {
        let act = if node.op_type == "Relu" { Act::Relu } else { clip_act(node, c)? };
        match self.layers.last_mut() {
            None => return Err("an activation on the model input is not supported".into()),
            Some(l) if l.act == Act::Linear => {
                l.act = act;
                l.name = format!("{}+{name}", l.name);
            }
            Some(l) => {
                // Relu after Relu/Clip changes nothing; a Clip narrows a Relu.
                if let (Act::Clip(m), Act::Relu) = (act, l.act) {
                    l.act = Act::Clip(m);
                }
            }
        }
        Ok(())
    }

    /// 2-D convolution (group 1) with constant weight and bias, as a sparse layer.
    fn conv<'a>(&mut self, name: &str, node: &NodeProto, c: &Consts<'a>) -> Result<(), String> {
        let (ch, h, w) = self.image()?;
        let wt = c(1).ok_or("its weight must be a constant (an initializer)")?;
        if attr_i(node, "group", 1) != 1 {
            return Err("grouped or depthwise convolution (group != 1) is not supported".into());
        }
        let [m, wc, kh, kw] = wt.dims[..] else {
            return Err(format!("its weight has shape {:?}; expected [M, C, kH, kW] (2-D convolution)", wt.dims));
        };
        if wc != ch {
            return Err(format!("its weight expects {wc} input channels but the input has {ch}"));
        }
        let g = Geometry::new(node, (h, w), (kh, kw))?;
        let bias = match c(2) {
            Some(t) => broadcast(t, m)?,
            None => vec![0.0; m],
        };
        layer_values(&[m, g.oh, g.ow])?;
        g.check_cells(m * ch)?;
        let rows = conv_rows(wt, ch, &g);
        let b = expand(&bias, g.oh * g.ow);
        self.push_affine(sparse_layer(name, ch * h * w, vec![m, g.oh, g.ow], rows, b))?;
        Ok(())
    }

    /// AveragePool (floor mode) over a [C, H, W] tensor.
    fn average_pool(&mut self, name: &str, node: &NodeProto) -> Result<(), String> {
        let (ch, h, w) = self.image()?;
        if attr_i(node, "ceil_mode", 0) != 0 {
            return Err("ceil_mode = 1 is not supported; export with ceil_mode=False".into());
        }
        let k = attr_ints(node, "kernel_shape").ok_or("it has no kernel_shape")?;
        let [kh, kw] = k[..] else { return Err(format!("kernel_shape {k:?} is not 2-D")) };
        let g = Geometry::new(node, (h, w), (kh as usize, kw as usize))?;
        self.pool(name, ch, &g, attr_i(node, "count_include_pad", 0) != 0)
    }

    /// GlobalAveragePool: one window covering each channel.
    fn global_average_pool(&mut self, name: &str) -> Result<(), String> {
        let (ch, h, w) = self.image()?;
        let g = Geometry { oh: 1, ow: 1, k: (h, w), s: (1, 1), p: (0, 0), d: (1, 1), hw: (h, w) };
        self.pool(name, ch, &g, true)
    }

    /// The averaging layer of a pool over `ch` channels; `include` counts
    /// padding cells in the divisor (count_include_pad).
    fn pool(&mut self, name: &str, ch: usize, g: &Geometry, include: bool) -> Result<(), String> {
        let (h, w) = g.hw;
        layer_values(&[ch, g.oh, g.ow])?;
        g.check_cells(ch)?;
        let div = if include { Divisor::Window } else { Divisor::Cells };
        let rows = pool_rows(ch, g, div);
        let n = rows.len();
        self.push_affine(sparse_layer(name, ch * h * w, vec![ch, g.oh, g.ow], rows, vec![0.0; n]))?;
        Ok(())
    }

    /// Flatten: only the tracked shape changes. Any axis that keeps the
    /// batch (fixed at 1) apart from the values is equivalent to axis 1.
    fn flatten(&mut self, node: &NodeProto) -> Result<(), String> {
        let full = self.full_shape();
        let k = crate::onnx_fold::flatten_axis(attr_i(node, "axis", 1), full.len())?;
        // The output is [prod(full[..k]), prod(full[k..])]: one sample's
        // values in one row exactly when the leading product is 1.
        if full[..k].iter().product::<usize>() != 1 {
            return Err(format!(
                "Flatten with axis {} on {} would fold values into the batch dimension; use axis 1",
                attr_i(node, "axis", 1),
                self.show()
            ));
        }
        self.batched = true;
        self.shape = vec![self.size()];
        Ok(())
    }

    /// Reshape to a constant shape that keeps every sample's values; only
    /// the tracked shape changes.
    fn reshape<'a>(&mut self, c: &Consts<'a>) -> Result<(), String> {
        let t = c(1).ok_or("its target shape must be a constant (or shape arithmetic on constants)")?;
        let mut dims: Vec<i64> = t.data.iter().map(|&v| v as i64).collect();
        if dims.is_empty() {
            return Err("its target shape is empty".into());
        }
        if self.batched {
            // The batch (1) stays first: a leading 1, -1 or 0 is the batch.
            match dims.remove(0) {
                -1..=1 => {}
                d => {
                    return Err(format!(
                        "its target shape {:?} puts {d} first, where the batch dimension belongs; only reshapes \
                         that keep every sample's values are supported",
                        t.data
                    ))
                }
            }
        }
        let mut out = Vec::new();
        let mut infer = None;
        for (k, &d) in dims.iter().enumerate() {
            match d {
                -1 if infer.is_none() => infer = Some(k),
                -1 => return Err(format!("its target shape {:?} has more than one -1", t.data)),
                0 => out.push(*self.shape.get(k).ok_or("a 0 in its shape copies a missing dimension")?),
                d if d > 0 => out.push(d as usize),
                d => return Err(format!("dimension {d} in its target shape is invalid")),
            }
        }
        let Some(known) = elements(&out) else {
            return Err(format!("its target shape {dims:?} has more values than any file can hold"));
        };
        if let Some(k) = infer {
            if known == 0 || !self.size().is_multiple_of(known) {
                return Err(format!("cannot reshape {} to {dims:?}", self.show()));
            }
            out.insert(k, self.size() / known);
        }
        if elements(&out) != Some(self.size()) {
            return Err(format!(
                "it reshapes {} ({} values) to {out:?}; only reshapes that keep every sample's values are \
                 supported (the batch dimension must stay first)",
                self.show(),
                self.size()
            ));
        }
        self.shape = out;
        Ok(())
    }

    /// Squeeze/Unsqueeze: only the tracked shape changes; the batch stays.
    fn squeeze<'a>(&mut self, node: &NodeProto, c: &Consts<'a>) -> Result<(), String> {
        let full = self.full_shape();
        let t = Tensor::float(full.clone(), vec![0.0; self.size()]);
        let axes = c(1).cloned();
        let out = fold(node, &[Some(&t), axes.as_ref()], None)?;
        if self.batched && out.dims.first() != Some(&1) {
            return Err(format!("it moves the batch dimension of {}", self.show()));
        }
        self.shape = if self.batched { out.dims[1..].to_vec() } else { out.dims };
        Ok(())
    }

    /// Transpose of the data: a permutation of the values, as a layer that
    /// composes into the affine layers around it (an NHWC input feeding a
    /// Conv, a channels-last feature map before a Gemm).
    fn transpose(&mut self, name: &str, node: &NodeProto) -> Result<(), String> {
        let full = self.full_shape();
        let perm = permutation(node, full.len())?;
        if self.batched && perm[0] != 0 {
            return Err(format!("perm {perm:?} moves the batch dimension; only the values may be permuted"));
        }
        // Where each output value comes from: transpose the indices (a
        // step per value and dimension).
        let n = self.size();
        self.charge(n.saturating_mul(full.len()))?;
        let idx = Tensor::float(full.clone(), (0..n).map(|i| i as f64).collect());
        let moved = fold(node, &[Some(&idx)], None)?;
        let shape = if self.batched { moved.dims[1..].to_vec() } else { moved.dims.clone() };
        let rows: Vec<Vec<(usize, f64)>> = moved.data.iter().map(|&i| vec![(i as usize, 1.0)]).collect();
        self.push_affine(sparse_layer(name, n, shape, rows, vec![0.0; n]))?;
        Ok(())
    }
}

/// Cast of the data: a float type keeps the values (f64 here); an integer
/// type would truncate them.
fn cast<'a>(node: &NodeProto, c: &Consts<'a>) -> Result<(), String> {
    let to = match node.op_type.as_str() {
        "Cast" => attr_i(node, "to", 1),
        _ => match c(1) {
            Some(t) if t.int => 7,
            _ => 1,
        },
    };
    if is_int_type(to) {
        return Err(format!(
            "it casts the data to {}, which truncates it; spikeforge converts float networks",
            type_name(to)
        ));
    }
    Ok(())
}

/// The activation of a Clip node: min must be 0 (from input 1 or the
/// attribute of opset < 11); no max is a Relu.
fn clip_act<'a>(node: &NodeProto, c: &Consts<'a>) -> Result<Act, String> {
    let lo = c(1).map(|t| t.data.first().copied().unwrap_or(0.0)).or_else(|| attr(node, "min").map(|a| a.f as f64));
    let hi = c(2).map(|t| t.data.first().copied().unwrap_or(0.0)).or_else(|| attr(node, "max").map(|a| a.f as f64));
    if lo != Some(0.0) {
        return Err(format!("only Clip(min = 0, max) is an activation spikeforge converts; this one has min {lo:?}"));
    }
    match hi {
        Some(m) if m > 0.0 => Ok(Act::Clip(m)),
        Some(m) => Err(format!("Clip max {m} must be positive")),
        None => Ok(Act::Relu),
    }
}

/// What a pooling window's cells are divided by.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Divisor {
    /// The whole kernel (padding cells count: count_include_pad).
    Window,
    /// The in-range cells only.
    Cells,
    /// Nothing: a sum pool.
    One,
}

/// Rows of a pooling layer over `ch` channels, one per output `(c, oy, ox)`.
pub(crate) fn pool_rows(ch: usize, g: &Geometry, div: Divisor) -> Vec<Vec<(usize, f64)>> {
    let (h, w) = g.hw;
    let mut rows = Vec::with_capacity(ch * g.oh * g.ow);
    for ci in 0..ch {
        for oy in 0..g.oh {
            for ox in 0..g.ow {
                let cells: Vec<usize> = g.window(oy, ox).map(|(_, _, iy, ix)| (ci * h + iy) * w + ix).collect();
                let d = match div {
                    Divisor::Window => (g.k.0 * g.k.1) as f64,
                    Divisor::Cells => cells.len().max(1) as f64,
                    Divisor::One => 1.0,
                };
                rows.push(cells.into_iter().map(|i| (i, 1.0 / d)).collect());
            }
        }
    }
    rows
}

/// Rows of a convolution's sparse matrix, one per output `(m, oy, ox)`:
/// `(input index, weight)` of each in-range cell of its window.
fn conv_rows(wt: &Tensor, ch: usize, g: &Geometry) -> Vec<Vec<(usize, f64)>> {
    conv_rows_raw(&wt.data, (wt.dims[0], wt.dims[2], wt.dims[3]), ch, g)
}

/// [`conv_rows`] of a weight `[m, ch, kh, kw]` in C order.
pub(crate) fn conv_rows_raw(
    data: &[f64],
    (m, kh, kw): (usize, usize, usize),
    ch: usize,
    g: &Geometry,
) -> Vec<Vec<(usize, f64)>> {
    let (h, w) = g.hw;
    let mut rows = Vec::with_capacity(m * g.oh * g.ow);
    for mo in 0..m {
        for oy in 0..g.oh {
            for ox in 0..g.ow {
                let mut row = Vec::new();
                for ci in 0..ch {
                    for (ky, kx, iy, ix) in g.window(oy, ox) {
                        let v = data[((mo * ch + ci) * kh + ky) * kw + kx];
                        row.push(((ci * h + iy) * w + ix, v));
                    }
                }
                rows.push(row);
            }
        }
    }
    rows
}

/// The refusal of an operator no arm handles, with a hint for the usual ones.
fn unsupported(op: &str) -> String {
    let hint = match op {
        "MaxPool" => " (use AveragePool: max pooling has no rate-coded equivalent here)",
        "Sigmoid" | "Tanh" | "LeakyRelu" | "Gelu" | "Elu" => " (only ReLU-type activations convert to IF neurons)",
        _ => "",
    };
    format!("operator {op} is not supported{hint}; supported: {SUPPORTED}")
}

fn gemm_outputs(b: &Tensor, k: usize, trans: bool) -> Result<usize, String> {
    match b.dims[..] {
        [r, c] if !trans && r == k => Ok(c),
        [r, c] if trans && c == k => Ok(r),
        _ => Err(format!(
            "its weight has shape {:?}, which does not match {k} inputs{}",
            b.dims,
            if trans { " (transB = 1: expected [outputs, inputs])" } else { " (expected [inputs, outputs])" }
        )),
    }
}

/// A constant as `n` values: it has `n` values or one.
fn broadcast(t: &Tensor, n: usize) -> Result<Vec<f64>, String> {
    match t.data.len() {
        1 => Ok(vec![t.data[0]; n]),
        len if len == n => Ok(t.data.clone()),
        len => Err(format!("a constant with {len} values (shape {:?}) does not broadcast to {n} values", t.dims)),
    }
}

/// Per-channel values repeated over each channel's `per` positions.
pub(crate) fn expand(v: &[f64], per: usize) -> Vec<f64> {
    v.iter().flat_map(|&x| std::iter::repeat_n(x, per)).collect()
}

pub(crate) fn sparse_layer(
    name: &str,
    inputs: usize,
    shape: Vec<usize>,
    rows: Vec<Vec<(usize, f64)>>,
    bias: Vec<f64>,
) -> Layer {
    let mut starts = vec![0];
    let (mut cols, mut vals) = (Vec::new(), Vec::new());
    for mut r in rows {
        r.sort_by_key(|e| e.0);
        for (i, v) in r {
            if v != 0.0 {
                cols.push(i as u32);
                vals.push(v);
            }
        }
        starts.push(cols.len());
    }
    Layer { name: name.into(), shape, inputs, starts, cols, vals, bias, act: Act::Linear }
}

/// Window geometry of Conv/AveragePool (ONNX) and Conv2d/SumPool2d/AvgPool2d (NIR).
pub(crate) struct Geometry {
    pub(crate) oh: usize,
    pub(crate) ow: usize,
    k: (usize, usize),
    s: (usize, usize),
    /// Top and left padding.
    p: (usize, usize),
    d: (usize, usize),
    hw: (usize, usize),
}

/// Padding of a window: explicit (top, left, bottom, right), or "same"
/// (output size = ceil(input / stride)) with the odd cell at the end or
/// at the start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Pads {
    Explicit(usize, usize, usize, usize),
    SameUpper,
    SameLower,
}

impl Geometry {
    fn new(node: &NodeProto, (h, w): (usize, usize), k: (usize, usize)) -> Result<Geometry, String> {
        let pair = |name: &str, default: usize| -> Result<(usize, usize), String> {
            match attr_ints(node, name).as_deref() {
                None => Ok((default, default)),
                Some(&[a, b]) if a >= 1 && b >= 1 => Ok((a as usize, b as usize)),
                Some(v) => Err(format!("{name} {v:?} is not two positive values")),
            }
        };
        let s = pair("strides", 1)?;
        let d = pair("dilations", 1)?;
        let max = MAX_VALUES;
        let pads = match attr_s(node, "auto_pad").as_deref() {
            None | Some("NOTSET") | Some("") => match attr_ints(node, "pads").as_deref() {
                None => Pads::Explicit(0, 0, 0, 0),
                Some(&[t, l, b, r]) if [t, l, b, r].iter().all(|&p| (0..=max as i64).contains(&p)) => {
                    Pads::Explicit(t as usize, l as usize, b as usize, r as usize)
                }
                Some(v) => Err(format!("pads {v:?} are not four values in 0..={max}"))?,
            },
            Some("VALID") => Pads::Explicit(0, 0, 0, 0),
            Some("SAME_UPPER") => Pads::SameUpper,
            Some("SAME_LOWER") => Pads::SameLower,
            Some(m) => return Err(format!("auto_pad {m} is not supported")),
        };
        Geometry::from_parts((h, w), k, s, d, pads)
    }

    /// The geometry of a `k` window with strides `s`, dilations `d` and
    /// padding `pads` over an `h`×`w` input.
    pub(crate) fn from_parts(
        (h, w): (usize, usize),
        k: (usize, usize),
        s: (usize, usize),
        d: (usize, usize),
        pads: Pads,
    ) -> Result<Geometry, String> {
        // Attributes of a hostile file can be any integer: bounded here, all
        // arithmetic below stays far from overflow.
        let max = MAX_VALUES;
        if h == 0 || w == 0 {
            return Err(format!("its input is {h}x{w}, without values"));
        }
        if [k.0, k.1, s.0, s.1, d.0, d.1].iter().any(|&v| v == 0 || v > max) {
            return Err(format!("its kernel {k:?}, strides {s:?} or dilations {d:?} are outside 1..={max}"));
        }
        let ext = ((k.0 - 1) * d.0 + 1, (k.1 - 1) * d.1 + 1);
        let pads: (usize, usize, usize, usize) = match pads {
            Pads::Explicit(t, l, b, r) => {
                if [t, l, b, r].iter().any(|&p| p > max) {
                    return Err(format!("pads {:?} are not in 0..={max}", [t, l, b, r]));
                }
                (t, l, b, r)
            }
            mode @ (Pads::SameUpper | Pads::SameLower) => {
                let total = |n: usize, s: usize, e: usize| ((n.div_ceil(s) - 1) * s + e).saturating_sub(n);
                let (th, tw) = (total(h, s.0, ext.0), total(w, s.1, ext.1));
                if mode == Pads::SameUpper {
                    (th / 2, tw / 2, th - th / 2, tw - tw / 2)
                } else {
                    (th - th / 2, tw - tw / 2, th / 2, tw / 2)
                }
            }
        };
        let (hp, wp) = (h + pads.0 + pads.2, w + pads.1 + pads.3);
        if hp < ext.0 || wp < ext.1 {
            return Err(format!("its {}x{} window does not fit the {h}x{w} input", k.0, k.1));
        }
        let (oh, ow) = ((hp - ext.0) / s.0 + 1, (wp - ext.1) / s.1 + 1);
        if oh * ow > max {
            return Err(format!("its output would be {oh}x{ow}, more than {max} values"));
        }
        Ok(Geometry { oh, ow, k, s, p: (pads.0, pads.1), d, hw: (h, w) })
    }

    /// Checks the window cells a layer of this geometry walks, `per_cell`
    /// times each (its input channels, times its output channels for a
    /// convolution), against [`MAX_LAYER_SYNAPSES`]: each parameter may be
    /// in range while their product asks for hours or terabytes.
    pub(crate) fn check_cells(&self, per_cell: usize) -> Result<(), String> {
        let cells = [self.ow, self.k.0, self.k.1, per_cell].iter().try_fold(self.oh, |n, &f| n.checked_mul(f));
        match cells {
            Some(c) if c <= MAX_LAYER_SYNAPSES => Ok(()),
            _ => Err(format!(
                "its {}x{} window over a {}x{} output ({per_cell} channel pairs) makes more than \
                 {MAX_LAYER_SYNAPSES} (2^25) synapses in one layer, three times the largest network spikeforge \
                 maps; use fewer channels, a smaller kernel or a smaller input",
                self.k.0, self.k.1, self.oh, self.ow
            )),
        }
    }

    /// `(ky, kx, iy, ix)` of the in-range input cells under output `(oy, ox)`.
    fn window(&self, oy: usize, ox: usize) -> impl Iterator<Item = (usize, usize, usize, usize)> + '_ {
        (0..self.k.0).flat_map(move |ky| {
            (0..self.k.1).filter_map(move |kx| {
                let iy = (oy * self.s.0 + ky * self.d.0) as isize - self.p.0 as isize;
                let ix = (ox * self.s.1 + kx * self.d.1) as isize - self.p.1 as isize;
                (iy >= 0 && ix >= 0 && (iy as usize) < self.hw.0 && (ix as usize) < self.hw.1).then_some((
                    ky,
                    kx,
                    iy as usize,
                    ix as usize,
                ))
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_build_work_is_bounded() {
        let mut b = Builder { shape: vec![4], batched: true, layers: Vec::new(), work: MAX_BUILD_WORK - 5 };
        assert!(b.charge(5).is_ok());
        let e = b.charge(1).unwrap_err();
        assert!(e.contains("more than 268435456 steps to build"), "{e}");
        // A layer over the per-layer bound is refused before it is kept.
        let mut b = Builder { shape: vec![4], batched: true, layers: Vec::new(), work: 0 };
        let big = Layer {
            name: "big".into(),
            shape: vec![1],
            inputs: 1,
            starts: vec![0, MAX_LAYER_SYNAPSES + 1],
            cols: vec![0; MAX_LAYER_SYNAPSES + 1],
            vals: vec![0.0; MAX_LAYER_SYNAPSES + 1],
            bias: vec![0.0],
            act: Act::Relu,
        };
        assert!(b.push_affine(big).unwrap_err().contains("more than 33554432 (2^25)"));
        assert!(b.layers.is_empty());
    }
}
