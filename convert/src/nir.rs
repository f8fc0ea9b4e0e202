//! NIR (Neuromorphic Intermediate Representation) import and export.
//!
//! A NIR file is an HDF5 file that Python's `nir` package writes:
//! `version` (a string), and a group `node` holding a graph with `type` =
//! `NIRGraph`, `edges` (pairs of node names), and `nodes`, one group per
//! node with its `type` and parameters as arrays. HDF5 is read and written
//! with the pure-Rust `rust-hdf5` crate (ARCHITECTURE.md says why).
//!
//! **Import** turns the graph into a [`Network`]. Nodes that hold state or
//! spike (Input, IF, LIF, LI, CubaLIF, CubaLI, Threshold) become populations; the linear
//! nodes between them (Affine, Linear, Scale, Conv1d, Conv2d, SumPool2d,
//! AvgPool2d, Flatten) are composed into one affine map per pair of
//! populations and become projections (convolutions and pools lowered as
//! the ONNX path lowers them, with the same code). Recurrent edges are
//! allowed through populations. Nested NIRGraph nodes (snnTorch writes its
//! recurrent layers so) are flattened first: their nodes are named
//! `graph.node` and their Input and Output nodes joined through. Every
//! other node type is refused with its name, type and the reason.
//!
//! Discretization, with time step `dt` (from the graph's metadata `dt`,
//! else the option): IF integrates `v += r·I` each step; LIF and LI follow
//! `τ dv/dt = (v_leak − v) + r·I` by the Euler step `v += α(v_leak − v) +
//! α·r·I` with α = dt/τ (snnTorch, Norse and Lava export this form).
//! spikeforge's leak is `v − (v >> λ)`, a decay by 2^−λ per step, so α is
//! rounded to the nearest power of two (exact when it is one; the error is
//! reported per population). CubaLIF and CubaLI become current-based
//! populations: `τ_syn dI/dt = −I + w_in·x` by the Euler step
//! `I += β(w_in·x − I)` (β = dt/τ_syn), then the LIF step with r·I as the
//! input; β is rounded to 2^−k_syn like α. Potentials are measured from `v_reset`, so a
//! spike resets to zero (spikeforge's `reset = "zero"`) and the potential
//! starts at `−v_reset`. NIR fires when `v > v_threshold`, spikeforge when
//! `v ≥ θ`: in integers that is θ = floor(v_threshold·s) + 1. Each
//! population gets one scale s, the largest that keeps its weights in W
//! bits and its threshold, bias and start in P bits; a graph whose values
//! are already integers (as `export` writes them) keeps s = 1 and imports
//! exactly.
//!
//! Latency: NIR's edges have no delay, spikeforge's synapses one step. A
//! population d synapse hops from the input (its `latency`) spikes d steps
//! after the NIR graph would; read an output population's spikes from step
//! `latency` on. In its first d steps it integrates only its bias, so its
//! start potential is set d bias steps back (exact for IF neurons unless
//! that would make it spike or saturate, which the report flags).
//! LI populations never spike: read their potentials.
//!
//! **Export** writes a [`Network`] whose neurons reset to zero as a NIR
//! graph of Input, IF, LIF or CubaLIF, Affine and Output nodes that
//! `nir.read` loads; importing it gives the same network.

use crate::ann::Layer;
use crate::onnx::{
    conv_rows_raw, expand, pool_rows, sparse_layer, Divisor, Geometry, Pads, MAX_BUILD_WORK, MAX_LAYER_SYNAPSES,
};
use spikeforge_net::doc::{
    FixedPointDoc, Leak, PerNeuron, PopulationDoc, PopulationKind, ProjectionDoc, ProjectionKind,
};
use spikeforge_net::{Network, NetworkDoc, Reset};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::Path;

/// The NIR version `export` writes.
pub const NIR_VERSION: &str = "1.0.0";

/// Node types import handles.
pub const SUPPORTED: &str =
    "Input, Output, Affine, Linear, Scale, Conv1d, Conv2d, SumPool2d, AvgPool2d, Flatten, IF, LIF, LI, CubaLIF, CubaLI, Threshold, NIRGraph (nested graphs are flattened)";

/// Why a NIR file could not be imported or written.
#[derive(Debug, thiserror::Error, miette::Diagnostic, PartialEq)]
pub enum NirError {
    #[error("{file}: cannot read: {detail}")]
    Io { file: String, detail: String },
    /// Refused before reading (not a regular file, over the input limit).
    #[error("{file}: {msg}")]
    Refused { file: String, msg: String },
    #[error("{file}: not an HDF5 file ({detail}); NIR files are HDF5, written by nir.write(path, graph)")]
    NotHdf5 { file: String, detail: String },
    #[error("{file}: {place}: {msg}")]
    Format { file: String, place: String, msg: String },
    #[error("{file}: node \"{node}\" ({kind}): {msg}")]
    Node { file: String, node: String, kind: String, msg: String },
    #[error("{file}: {msg}")]
    Graph { file: String, msg: String },
    #[error("{file}: {msg}")]
    Export { file: String, msg: String },
}

/// Import settings.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportOptions {
    /// Bit widths of the network written.
    pub fixed_point: FixedPointDoc,
    /// Time step in seconds, when the graph's metadata has none.
    pub dt: f64,
}

impl Default for ImportOptions {
    fn default() -> ImportOptions {
        ImportOptions { fixed_point: FixedPointDoc::default(), dt: 1e-4 }
    }
}

/// What import made of one NIR neuron node.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Population {
    /// Population (= NIR node) name.
    pub name: String,
    /// NIR node type.
    pub kind: String,
    pub neurons: usize,
    /// Synapses into it (non-zero integer weights).
    pub synapses: usize,
    /// Float weights that rounded to 0 and were dropped.
    pub dropped: usize,
    /// Scale s: integer potential = s × NIR potential.
    pub scale: f64,
    /// Largest |integer weight / s − NIR weight| over the largest |NIR weight|.
    pub weight_error: f64,
    /// λ per neuron when all are equal (None: integrate and fire or mixed).
    pub leak_shift: Option<u32>,
    /// Largest relative error of the per-step decay α = dt/τ against 2^−λ.
    pub leak_error: f64,
    /// k_syn per neuron of a current-based population when all are equal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub syn_shift: Option<u32>,
    /// Largest relative error of the current's decay β = dt/τ_syn against
    /// 2^−k_syn (0 for other populations).
    pub syn_error: f64,
    /// Synapse hops from the nearest input: spikes come this many steps
    /// after the zero-delay NIR graph's.
    pub latency: u32,
    /// Whether its sources lie at different hop counts (then the timing of
    /// their contributions relative to each other differs from NIR's).
    pub mixed_latency: bool,
    /// Whether the start potential exactly cancels the bias the population
    /// integrates before its first input arrives (always true without a
    /// bias or at latency 0).
    pub warmup_exact: bool,
    pub output: bool,
}

/// The result of an import.
#[derive(Debug, Clone)]
pub struct Imported {
    pub net: Network,
    pub version: String,
    pub dt: f64,
    /// Every population, inputs included (inputs have scale 1 and no synapses).
    pub populations: Vec<Population>,
    /// The graph in floating point, for [`Imported::fidelity`].
    reference: Vec<RefPop>,
}

/// One population of the floating-point reference: NIR's own equations
/// (Euler step, exact α, v > threshold, reset to v_reset, zero-delay edges).
#[derive(Debug, Clone)]
struct RefPop {
    cells: Option<Cells>,
    size: usize,
    /// Source population (index into the reference) and weights, rows = this population.
    terms: Vec<(usize, Layer)>,
    bias: Vec<f64>,
}

/// Agreement between the imported network (golden) and the NIR graph in
/// floating point on random input spikes.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Fidelity {
    pub trials: usize,
    pub steps: u32,
    /// Fraction of (step, neuron) bins of the output populations where both
    /// spike or both stay silent (LI outputs excluded: they do not spike).
    pub spike_agreement: f64,
    /// Fraction of trials where the output class agrees: the most spikes
    /// (lowest index on ties), or the highest potential for LI outputs.
    pub class_agreement: f64,
    /// Output spikes per trial, golden and floating point (agreement on
    /// silent outputs means little).
    pub golden_spikes: f64,
    pub float_spikes: f64,
}

// ---------------------------------------------------------------- HDF5 tree

/// An HDF5 object as NIR uses it.
#[derive(Debug, Clone, PartialEq)]
enum H5 {
    Group(BTreeMap<String, H5>),
    Num { shape: Vec<usize>, data: Vec<f64> },
    Str { shape: Vec<usize>, data: Vec<String> },
}

const HDF5_SIGNATURE: &[u8] = b"\x89HDF\r\n\x1a\n";

/// Reads the whole file as a tree. The HDF5 reader runs behind
/// `catch_unwind`: a malformed file is an error, never a crash.
fn read_tree(path: &Path, file: &str) -> Result<H5, NirError> {
    // Read through the bounded reader first (regular files only, the size
    // limit) and for the signature check; the HDF5 crate opens by path.
    let bytes = spikeforge_net::input::read_input(path, "NIR file").map_err(|e| match e {
        spikeforge_net::input::InputError::Io { detail, .. } => NirError::Io { file: file.into(), detail },
        e => NirError::Refused { file: file.into(), msg: format!("{}; {}", e.message(), e.help().unwrap_or_default()) },
    })?;
    // The superblock is at 0, 512, 1024, 2048, ... (after a user block).
    let mut at = 0usize;
    let found = loop {
        if bytes.len() >= at + 8 && &bytes[at..at + 8] == HDF5_SIGNATURE {
            break true;
        }
        at = if at == 0 { 512 } else { at * 2 };
        if at >= bytes.len() {
            break false;
        }
    };
    if !found {
        let head: String = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ");
        return Err(NirError::NotHdf5 {
            file: file.into(),
            detail: format!("no HDF5 signature; it starts with {head}"),
        });
    }
    let path = path.to_path_buf();
    // Outer error: the file does not open as HDF5; inner: its content is malformed.
    let result = std::panic::catch_unwind(move || -> Result<Result<H5, String>, String> {
        let f = rust_hdf5::H5File::open(&path).map_err(|e| e.to_string())?;
        Ok(walk(&f, &f.root_group(), "", 0))
    });
    match result {
        Ok(Ok(Ok(t))) => Ok(t),
        Ok(Ok(Err(msg))) => Err(NirError::Graph { file: file.into(), msg: format!("malformed HDF5 content: {msg}") }),
        Ok(Err(detail)) => Err(NirError::NotHdf5 { file: file.into(), detail }),
        Err(_) => {
            Err(NirError::NotHdf5 { file: file.into(), detail: "the HDF5 reader failed on its structure".into() })
        }
    }
}

/// Groups nest at most this deep: each nested graph adds two levels
/// (`nodes/NAME`) and a node's `metadata` one more, so 4 per graph level
/// leaves room; deeper is refused rather than recursed into.
const MAX_GROUP_DEPTH: usize = 4 * MAX_NESTING + 8;

fn walk(f: &rust_hdf5::H5File, g: &rust_hdf5::H5Group, path: &str, depth: usize) -> Result<H5, String> {
    use rust_hdf5::format::messages::datatype::DatatypeMessage as Dt;
    if depth > MAX_GROUP_DEPTH {
        return Err(format!("{path}: groups nest more than {MAX_GROUP_DEPTH} deep, deeper than a NIR graph"));
    }
    let mut out = BTreeMap::new();
    let err = |p: &str, e: rust_hdf5::Hdf5Error| format!("{p}: {e}");
    for name in g.group_names().map_err(|e| err(path, e))? {
        let sub = g.group(&name).map_err(|e| err(&name, e))?;
        let p = format!("{path}{name}/");
        let t = walk(f, &sub, &p, depth + 1)?;
        out.insert(name, t);
    }
    for name in g.dataset_names().map_err(|e| err(path, e))? {
        let p = format!("{path}{name}");
        let ds = f.dataset(&p).map_err(|e| err(&p, e))?;
        let shape = ds.shape();
        let t = match ds.datatype().map_err(|e| err(&p, e))? {
            Dt::VarLenString { .. } | Dt::FixedString { .. } => {
                H5::Str { shape, data: ds.read_strings().map_err(|e| err(&p, e))? }
            }
            Dt::FixedPoint { .. } => H5::Num {
                shape,
                data: ds.read_numeric_as::<i64>().map_err(|e| err(&p, e))?.into_iter().map(|x| x as f64).collect(),
            },
            Dt::FloatingPoint { .. } => H5::Num { shape, data: ds.read_numeric_as::<f64>().map_err(|e| err(&p, e))? },
            other => return Err(format!("{p}: datatype {other} is not used by NIR")),
        };
        // The reader stops at the data actually stored; a dataset that holds
        // fewer or more values than its shape says is malformed, and code
        // that indexes by the shape must never see one.
        let (shape, held) = match &t {
            H5::Num { shape, data } => (shape, data.len()),
            H5::Str { shape, data } => (shape, data.len()),
            H5::Group(_) => unreachable!("datasets only"),
        };
        let declared = shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
        if declared != Some(held) {
            return Err(format!(
                "{p}: the dataset's shape {shape:?} does not match the {held} values it holds; write the file again \
                 with nir.write"
            ));
        }
        out.insert(name, t);
    }
    Ok(H5::Group(out))
}

/// An HDF5 path: `node/nodes/fc1`.
fn join(place: &str, key: &str) -> String {
    match (place.is_empty(), key.is_empty()) {
        (true, _) => key.to_string(),
        (_, true) => place.to_string(),
        _ => format!("{place}/{key}"),
    }
}

/// Typed access to a group, with the place for messages.
struct Obj<'a> {
    file: &'a str,
    place: String,
    map: &'a BTreeMap<String, H5>,
}

impl<'a> Obj<'a> {
    fn err(&self, key: &str, msg: impl Into<String>) -> NirError {
        let place = join(&self.place, key);
        NirError::Format { file: self.file.into(), place, msg: msg.into() }
    }
    fn has(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }
    fn group(&self, key: &str) -> Result<Obj<'a>, NirError> {
        match self.map.get(key) {
            Some(H5::Group(m)) => Ok(Obj { file: self.file, place: join(&self.place, key), map: m }),
            Some(_) => Err(self.err(key, "expected a group, found a dataset")),
            None => Err(self.err(key, "missing")),
        }
    }
    fn string(&self, key: &str) -> Result<String, NirError> {
        match self.map.get(key) {
            Some(H5::Str { data, .. }) if data.len() == 1 => Ok(data[0].clone()),
            Some(_) => Err(self.err(key, "expected one string")),
            None => Err(self.err(key, "missing")),
        }
    }
    fn array(&self, key: &str) -> Result<(Vec<usize>, Vec<f64>), NirError> {
        match self.map.get(key) {
            Some(H5::Num { shape, data }) => {
                if let Some(i) = data.iter().position(|x| !x.is_finite()) {
                    return Err(self.err(key, format!("value {i} is {}; parameters must be finite", data[i])));
                }
                Ok((shape.clone(), data.clone()))
            }
            Some(H5::Str { .. }) => Err(self.err(key, "expected numbers, found strings")),
            Some(H5::Group(_)) => Err(self.err(key, "expected numbers, found a group")),
            None => Err(self.err(key, "missing")),
        }
    }
    fn values(&self, key: &str) -> Result<Vec<f64>, NirError> {
        self.array(key).map(|a| a.1)
    }
    /// A shape-like array of positive integers.
    fn dims(&self, key: &str) -> Result<Vec<usize>, NirError> {
        let v = self.values(key)?;
        if v.iter().any(|&x| x < 1.0 || x.fract() != 0.0 || x > 1e8) {
            return Err(self.err(key, format!("{v:?} is not a list of positive integers")));
        }
        Ok(v.into_iter().map(|x| x as usize).collect())
    }
    /// One or two non-negative integers as a pair (`3` or `[3, 3]`).
    fn pair(&self, key: &str, min: f64) -> Result<(usize, usize), NirError> {
        let v = self.values(key)?;
        let ok = |x: f64| x >= min && x.fract() == 0.0 && x <= 1e6;
        match v[..] {
            [a] if ok(a) => Ok((a as usize, a as usize)),
            [a, b] if ok(a) && ok(b) => Ok((a as usize, b as usize)),
            _ => Err(self.err(key, format!("{v:?} is not one or two integers >= {min}"))),
        }
    }
}

// ---------------------------------------------------------------- the graph

#[derive(Debug, Clone, Copy, PartialEq)]
enum Cell {
    If,
    Lif,
    Li,
    /// Current-based LIF (NIR's CubaLIF): a synaptic current between the
    /// input and the potential.
    CubaLif,
    /// CubaLIF without spikes (NIR's CubaLI), read by its potentials.
    CubaLi,
    Threshold,
}

impl Cell {
    /// Whether the potential leaks (τ_mem).
    fn leaky(self) -> bool {
        matches!(self, Cell::Lif | Cell::Li | Cell::CubaLif | Cell::CubaLi)
    }
    /// Whether it keeps a synaptic current (τ_syn).
    fn current(self) -> bool {
        matches!(self, Cell::CubaLif | Cell::CubaLi)
    }
    /// Whether it never spikes (read by potentials).
    fn readout(self) -> bool {
        matches!(self, Cell::Li | Cell::CubaLi)
    }
}

/// Per-neuron parameters of a neuron node.
#[derive(Debug, Clone)]
struct Cells {
    cell: Cell,
    shape: Vec<usize>,
    /// τ (τ_mem of current-based cells).
    tau: Vec<f64>,
    /// τ_syn of current-based cells (else unused).
    tau_syn: Vec<f64>,
    /// Input weight of the current (NIR's `w_in`; 1 for other cells).
    w_in: Vec<f64>,
    r: Vec<f64>,
    v_leak: Vec<f64>,
    v_threshold: Vec<f64>,
    v_reset: Vec<f64>,
}

#[derive(Debug, Clone)]
enum Op {
    Input(Vec<usize>),
    Output,
    Neurons(Cells),
    /// weight [out, in] row-major, bias per output (zeros for Linear).
    Affine {
        out: usize,
        inp: usize,
        w: Vec<f64>,
        b: Vec<f64>,
    },
    Scale(Vec<f64>),
    /// Conv2d, or Conv1d as a 2-D convolution of height 1 (`one_d`: input
    /// [C, L], output [M, L']).
    Conv2d {
        w: Vec<f64>,
        dims: [usize; 4],
        stride: (usize, usize),
        pads: Pads,
        dil: (usize, usize),
        b: Vec<f64>,
        one_d: bool,
    },
    Pool {
        k: (usize, usize),
        stride: (usize, usize),
        pads: Pads,
        div: Divisor,
    },
    Flatten,
}

struct Node {
    name: String,
    kind: String,
    op: Op,
}

fn node_err(file: &str, n: &Node, msg: impl Into<String>) -> NirError {
    NirError::Node { file: file.into(), node: n.name.clone(), kind: n.kind.clone(), msg: msg.into() }
}

/// Parses one node group.
fn parse_node(file: &str, name: &str, g: &Obj) -> Result<Node, NirError> {
    let kind = g.string("type")?;
    let refuse =
        |msg: &str| NirError::Node { file: file.into(), node: name.into(), kind: kind.clone(), msg: msg.into() };
    let per = |key: &str, n: usize, default: Option<f64>| -> Result<Vec<f64>, NirError> {
        if !g.has(key) {
            if let Some(d) = default {
                return Ok(vec![d; n]);
            }
        }
        let (_, v) = g.array(key)?;
        match v.len() {
            1 => Ok(vec![v[0]; n]),
            l if l == n => Ok(v),
            l => Err(g.err(key, format!("has {l} values; the node has {n} neurons"))),
        }
    };
    let cells = |cell: Cell, size_key: &str| -> Result<Op, NirError> {
        let (shape, v) = g.array(size_key)?;
        let n = v.len();
        if n == 0 {
            return Err(g.err(size_key, "is empty; a population has at least one neuron"));
        }
        let shape = if shape.is_empty() { vec![1] } else { shape };
        let tau_key = if cell.current() { "tau_mem" } else { "tau" };
        let tau = if cell.leaky() { per(tau_key, n, None)? } else { vec![0.0; n] };
        let tau_syn = if cell.current() { per("tau_syn", n, None)? } else { vec![0.0; n] };
        for (key, t) in [(tau_key, &tau), ("tau_syn", &tau_syn)] {
            if let Some(i) = t.iter().position(|&t| t <= 0.0 || !t.is_finite()) {
                if cell.leaky() && (key != "tau_syn" || cell.current()) {
                    return Err(g.err(key, format!("value {i} is {}; a time constant is a finite number > 0", t[i])));
                }
            }
        }
        Ok(Op::Neurons(Cells {
            cell,
            shape,
            tau,
            tau_syn,
            w_in: if cell.current() { per("w_in", n, Some(1.0))? } else { vec![1.0; n] },
            r: per("r", n, Some(1.0))?,
            v_leak: per("v_leak", n, Some(0.0))?,
            v_threshold: match cell {
                Cell::Li | Cell::CubaLi => vec![f64::INFINITY; n],
                Cell::Threshold => v,
                _ => per("v_threshold", n, None)?,
            },
            v_reset: per("v_reset", n, Some(0.0))?,
        }))
    };
    let pads = |key: &str| -> Result<Pads, NirError> {
        match g.map.get(key) {
            None => Ok(Pads::Explicit(0, 0, 0, 0)),
            Some(H5::Str { data, .. }) => match data.first().map(String::as_str) {
                Some("valid") => Ok(Pads::Explicit(0, 0, 0, 0)),
                Some("same") => Ok(Pads::SameUpper),
                other => Err(g.err(key, format!("padding {other:?} is not \"valid\", \"same\" or integers"))),
            },
            Some(_) => {
                let (a, b) = g.pair(key, 0.0)?;
                Ok(Pads::Explicit(a, b, a, b))
            }
        }
    };
    let op = match kind.as_str() {
        "Input" => {
            let shape = g.dims("shape")?;
            let max = spikeforge_net::network::MAX_POPULATION_SIZE as usize;
            if shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d)).is_none_or(|n| n > max) {
                return Err(
                    g.err("shape", format!("{shape:?} has more than {max} values (the most a population holds)"))
                );
            }
            Op::Input(shape)
        }
        "Output" => Op::Output,
        "IF" => cells(Cell::If, "v_threshold")?,
        "LIF" => cells(Cell::Lif, "v_threshold")?,
        "LI" => cells(Cell::Li, "tau")?,
        "CubaLIF" => cells(Cell::CubaLif, "v_threshold")?,
        "CubaLI" => cells(Cell::CubaLi, "tau_mem")?,
        "Threshold" => cells(Cell::Threshold, "threshold")?,
        "Affine" | "Linear" => {
            let (shape, w) = g.array("weight")?;
            let [out, inp] = shape[..] else {
                return Err(g.err("weight", format!("has shape {shape:?}; expected [outputs, inputs]")));
            };
            let b = if kind == "Affine" { per("bias", out, None)? } else { vec![0.0; out] };
            Op::Affine { out, inp, w, b }
        }
        "Scale" => Op::Scale(g.values("scale")?),
        "Flatten" => Op::Flatten,
        "Conv2d" => {
            let (shape, w) = g.array("weight")?;
            let [m, c, kh, kw] = shape[..] else {
                return Err(
                    g.err("weight", format!("has shape {shape:?}; expected [out channels, in channels, kH, kW]"))
                );
            };
            if g.has("groups") && g.values("groups")? != [1.0] {
                return Err(refuse("grouped or depthwise convolution (groups != 1) is not supported"));
            }
            let b = if g.has("bias") { per("bias", m, None)? } else { vec![0.0; m] };
            Op::Conv2d {
                w,
                dims: [m, c, kh, kw],
                stride: if g.has("stride") { g.pair("stride", 1.0)? } else { (1, 1) },
                pads: pads("padding")?,
                dil: if g.has("dilation") { g.pair("dilation", 1.0)? } else { (1, 1) },
                b,
                one_d: false,
            }
        }
        "SumPool2d" | "AvgPool2d" => Op::Pool {
            k: g.pair("kernel_size", 1.0)?,
            stride: if g.has("stride") { g.pair("stride", 1.0)? } else { g.pair("kernel_size", 1.0)? },
            pads: pads("padding")?,
            div: if kind == "SumPool2d" { Divisor::One } else { Divisor::Window },
        },
        "Delay" => {
            return Err(refuse("delays are not supported: every spikeforge synapse has a delay of exactly one step"))
        }
        "Conv1d" => {
            let (shape, w) = g.array("weight")?;
            let [m, c, k] = shape[..] else {
                return Err(
                    g.err("weight", format!("has shape {shape:?}; expected [out channels, in channels, kernel]"))
                );
            };
            if g.has("groups") && g.values("groups")? != [1.0] {
                return Err(refuse("grouped or depthwise convolution (groups != 1) is not supported"));
            }
            let b = if g.has("bias") { per("bias", m, None)? } else { vec![0.0; m] };
            let one = |key: &str| -> Result<usize, NirError> {
                if !g.has(key) {
                    return Ok(if key == "padding" { 0 } else { 1 });
                }
                let (a, _) = g.pair(key, if key == "padding" { 0.0 } else { 1.0 })?;
                Ok(a)
            };
            let pads = match g.map.get("padding") {
                Some(H5::Str { .. }) => pads("padding")?,
                _ => {
                    let p = one("padding")?;
                    Pads::Explicit(0, p, 0, p)
                }
            };
            // A 1-D convolution is a 2-D one of height 1.
            Op::Conv2d {
                w,
                dims: [m, c, 1, k],
                stride: (1, one("stride")?),
                pads,
                dil: (1, one("dilation")?),
                b,
                one_d: true,
            }
        }
        "I" => return Err(refuse("the integrator (I) is not supported; use LI or IF")),
        "NIRGraph" => unreachable!("read_graph flattens nested graphs before parsing nodes"),
        _ => return Err(refuse(&format!("unknown node type; supported: {SUPPORTED}"))),
    };
    Ok(Node { name: name.into(), kind, op })
}

/// A population name from a node name (network names allow letters,
/// digits, `_`, `-`, `.`, and start with a letter or `_`).
fn population_name(node: &str, taken: &BTreeSet<String>) -> String {
    let mut s: String =
        node.chars().map(|c| if c.is_ascii_alphanumeric() || "_-.".contains(c) { c } else { '_' }).collect();
    if !s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        s.insert(0, '_');
    }
    let mut name = s.clone();
    let mut k = 2;
    while taken.contains(&name) {
        name = format!("{s}_{k}");
        k += 1;
    }
    name
}

/// The affine map from populations to a node's output values.
#[derive(Debug, Clone)]
struct Expr {
    shape: Vec<usize>,
    /// Per source population (node index): rows = this node's values.
    terms: BTreeMap<usize, Layer>,
    bias: Vec<f64>,
}

impl Expr {
    fn size(&self) -> usize {
        self.bias.len()
    }
    fn identity(src: usize, shape: Vec<usize>) -> Expr {
        let n: usize = shape.iter().product();
        let rows = (0..n).map(|i| vec![(i, 1.0)]).collect();
        let mut terms = BTreeMap::new();
        terms.insert(src, sparse_layer("", n, vec![n], rows, vec![0.0; n]));
        Expr { shape, terms, bias: vec![0.0; n] }
    }
    /// `self` then `op` (an affine layer over this expression's values).
    fn then(self, op: &Layer) -> Expr {
        let zero = Layer { bias: vec![0.0; op.outputs()], ..op.clone() };
        let terms = self.terms.iter().map(|(&s, t)| (s, Layer::compose(t, &zero))).collect();
        Expr { shape: op.shape.clone(), terms, bias: op.affine(&self.bias) }
    }
    fn add(mut self, other: Expr) -> Expr {
        for (s, t) in other.terms {
            let merged = match self.terms.remove(&s) {
                None => t,
                Some(a) => add_layers(&a, &t),
            };
            self.terms.insert(s, merged);
        }
        for (a, b) in self.bias.iter_mut().zip(&other.bias) {
            *a += b;
        }
        self
    }
}

fn add_layers(a: &Layer, b: &Layer) -> Layer {
    let rows = (0..a.outputs())
        .map(|o| {
            let mut m: BTreeMap<usize, f64> = BTreeMap::new();
            for (i, w) in a.row(o).chain(b.row(o)) {
                *m.entry(i).or_default() += w;
            }
            m.into_iter().collect()
        })
        .collect();
    sparse_layer("", a.inputs, a.shape.clone(), rows, vec![0.0; a.outputs()])
}

/// The layer of a linear node on an input of `shape`.
fn op_layer(file: &str, n: &Node, shape: &[usize]) -> Result<Layer, NirError> {
    let size: usize = shape.iter().product();
    let image = || -> Result<(usize, usize, usize), NirError> {
        match shape {
            [c, h, w] => Ok((*c, *h, *w)),
            [h, w] => Ok((1, *h, *w)),
            _ => Err(node_err(file, n, format!("its input has shape {shape:?}; expected [channels, height, width]"))),
        }
    };
    Ok(match &n.op {
        Op::Affine { out, inp, w, b } => {
            if *inp != size {
                return Err(node_err(
                    file,
                    n,
                    format!("its weight expects {inp} inputs but its input has {size} values (shape {shape:?})"),
                ));
            }
            let rows = (0..*out).map(|o| (0..*inp).map(|i| (i, w[o * inp + i])).collect()).collect();
            sparse_layer(&n.name, size, vec![*out], rows, b.clone())
        }
        Op::Scale(s) => {
            let s = match s.len() {
                1 => vec![s[0]; size],
                l if l == size => s.clone(),
                l => return Err(node_err(file, n, format!("it has {l} scales for an input of {size} values"))),
            };
            let rows = (0..size).map(|i| vec![(i, s[i])]).collect();
            sparse_layer(&n.name, size, shape.to_vec(), rows, vec![0.0; size])
        }
        Op::Flatten => {
            let rows = (0..size).map(|i| vec![(i, 1.0)]).collect();
            sparse_layer(&n.name, size, vec![size], rows, vec![0.0; size])
        }
        Op::Conv2d { w, dims: [m, c, kh, kw], stride, pads, dil, b, one_d } => {
            let (ch, h, wd) = if *one_d {
                match shape {
                    [c, l] => (*c, 1, *l),
                    [l] => (1, 1, *l),
                    _ => {
                        return Err(node_err(
                            file,
                            n,
                            format!("its input has shape {shape:?}; expected [channels, length]"),
                        ))
                    }
                }
            } else {
                image()?
            };
            if ch != *c {
                return Err(node_err(file, n, format!("its weight expects {c} input channels but the input has {ch}")));
            }
            let g =
                Geometry::from_parts((h, wd), (*kh, *kw), *stride, *dil, *pads).map_err(|e| node_err(file, n, e))?;
            g.check_cells(m * ch).map_err(|e| node_err(file, n, e))?;
            let rows = conv_rows_raw(w, (*m, *kh, *kw), ch, &g);
            let bias = expand(b, g.oh * g.ow);
            let out = if *one_d { vec![*m, g.ow] } else { vec![*m, g.oh, g.ow] };
            sparse_layer(&n.name, size, out, rows, bias)
        }
        Op::Pool { k, stride, pads, div } => {
            let (ch, h, wd) = image()?;
            let g = Geometry::from_parts((h, wd), *k, *stride, (1, 1), *pads).map_err(|e| node_err(file, n, e))?;
            g.check_cells(ch).map_err(|e| node_err(file, n, e))?;
            let rows = pool_rows(ch, &g, *div);
            let out = rows.len();
            sparse_layer(&n.name, size, vec![ch, g.oh, g.ow], rows, vec![0.0; out])
        }
        Op::Input(_) | Op::Output | Op::Neurons(_) => unreachable!("not a linear node"),
    })
}

/// Reads and imports a NIR file.
pub fn import(path: &Path, opts: &ImportOptions) -> Result<Imported, NirError> {
    let file = path.display().to_string();
    let tree = read_tree(path, &file)?;
    let H5::Group(root) = &tree else { unreachable!("the root is a group") };
    let root = Obj { file: &file, place: String::new(), map: root };
    let version = root.string("version")?;
    let major = version.split('.').next().and_then(|m| m.trim().parse::<u32>().ok());
    if !matches!(major, Some(0) | Some(1)) {
        return Err(root.err(
            "version",
            format!("NIR version \"{version}\" is not supported; spikeforge reads NIR 0.x and 1.x files"),
        ));
    }
    let g = root.group("node")?;
    let gtype = g.string("type")?;
    if gtype != "NIRGraph" {
        return Err(g.err("type", format!("is \"{gtype}\"; the top node of a NIR file must be a NIRGraph")));
    }
    let dt = match g.group("metadata") {
        Ok(m) if m.has("dt") => {
            let v = m.values("dt")?;
            match v[..] {
                [d] if d > 0.0 => d,
                _ => return Err(m.err("dt", format!("{v:?} is not one positive time step"))),
            }
        }
        _ => opts.dt,
    };
    if !(dt > 0.0 && dt.is_finite()) {
        return Err(NirError::Graph { file, msg: format!("time step {dt} must be positive") });
    }
    let mut flat = Flat::default();
    read_graph(&file, &g, "", 0, &mut flat)?;
    let Flat { nodes, edges, declared, .. } = flat.contract(&file)?;
    lower(&file, nodes, &edges, &declared, dt, opts, version)
}

// ---------------------------------------------------------------- nested graphs

/// How deep NIRGraph nodes may nest.
const MAX_NESTING: usize = 16;
/// Edges of a graph, nested graphs' included, before and after their Input
/// and Output nodes are joined through: far more than any network that
/// fits neuron cores has.
const MAX_EDGES: usize = 1 << 16;
/// Node names, dotted paths included, are at most this long (bytes).
const MAX_NAME: usize = 256;
/// Steps of that joining (each edge followed once per path through Inputs
/// and Outputs of nested graphs): bounds a file whose pass-throughs fan out.
const MAX_JOIN_STEPS: usize = 1 << 22;

/// What a node name of one graph level refers to.
enum Entry {
    Node(usize),
    /// A nested graph: its own names, and its Input and Output nodes (at
    /// its top level), which the edges naming the graph lead to and from.
    Graph {
        names: BTreeMap<String, Entry>,
        inputs: Vec<usize>,
        outputs: Vec<usize>,
    },
}

/// The nodes and edges of a graph with its nested graphs read in: their
/// nodes are named `graph.node`, and their Input and Output nodes pass
/// their input on (`through`) until [`Flat::contract`] joins their sources
/// to their targets. snnTorch writes its recurrent layers (RLeaky,
/// RSynaptic) as such nested graphs.
#[derive(Default)]
struct Flat {
    nodes: Vec<Node>,
    through: Vec<bool>,
    edges: Vec<(usize, usize)>,
    /// The HDF5 place of each flattened name (nested graphs' too).
    places: BTreeMap<String, String>,
    /// Shapes the Input nodes of nested graphs declare, to check against
    /// the values that pass them: (the node whose value enters, the Input's
    /// name, its shape). Filled by [`Flat::contract`].
    declared: Vec<(usize, String, Vec<usize>)>,
}

/// Reads the nodes and edges of the NIRGraph group `g` into `flat` (its
/// nested graphs recursively) and returns its names. `prefix` is the dotted
/// path of the graph, empty at the top.
fn read_graph(
    file: &str,
    g: &Obj,
    prefix: &str,
    depth: usize,
    flat: &mut Flat,
) -> Result<BTreeMap<String, Entry>, NirError> {
    let nodes_g = g.group("nodes")?;
    let mut names = BTreeMap::new();
    for (name, obj) in nodes_g.map {
        let H5::Group(m) = obj else {
            return Err(nodes_g.err(name, "expected a node group, found a dataset"));
        };
        let o = Obj { file, place: join(&nodes_g.place, name), map: m };
        let full = if prefix.is_empty() { name.clone() } else { format!("{prefix}.{name}") };
        if full.len() > MAX_NAME {
            return Err(nodes_g.err(
                "",
                format!("the node name \"{full}\" is longer than {MAX_NAME} bytes (with its nested graphs' names); rename it"),
            ));
        }
        if let Some(other) = flat.places.insert(full.clone(), o.place.clone()) {
            return Err(o.err("", format!("flattens to the name \"{full}\", as {other} does; rename one of them")));
        }
        if o.string("type")? == "NIRGraph" {
            if depth >= MAX_NESTING {
                return Err(o.err(
                    "type",
                    format!("graphs nest more than {MAX_NESTING} deep; flatten the graph before writing it"),
                ));
            }
            let sub = read_graph(file, &o, &full, depth + 1, flat)?;
            let ports = |input: bool| -> Vec<usize> {
                sub.values()
                    .filter_map(|e| match e {
                        Entry::Node(i) => Some(*i),
                        Entry::Graph { .. } => None,
                    })
                    .filter(|&i| match flat.nodes[i].op {
                        Op::Input(_) => input,
                        Op::Output => !input,
                        _ => false,
                    })
                    .collect()
            };
            let (inputs, outputs) = (ports(true), ports(false));
            names.insert(name.clone(), Entry::Graph { names: sub, inputs, outputs });
        } else {
            let node = parse_node(file, &full, &o)?;
            flat.through.push(depth > 0 && matches!(node.op, Op::Input(_) | Op::Output));
            names.insert(name.clone(), Entry::Node(flat.nodes.len()));
            flat.nodes.push(node);
        }
    }
    // Edges: N x 2 strings.
    match g.map.get("edges") {
        // `nir.write` writes an empty edge list as an empty float array.
        None => {}
        Some(H5::Num { data, .. }) if data.is_empty() => {}
        Some(H5::Str { data, .. }) if data.is_empty() => {}
        Some(H5::Str { shape, data }) => {
            if shape.len() != 2 || shape[1] != 2 {
                return Err(g.err("edges", format!("has shape {shape:?}; expected [edges, 2]")));
            }
            if flat.edges.len() + data.len() / 2 > MAX_EDGES {
                return Err(g.err(
                    "edges",
                    format!(
                        "the graph has more than {MAX_EDGES} edges, far more than a network that fits neuron cores"
                    ),
                ));
            }
            let mut seen = BTreeMap::new();
            for (k, pair) in data.chunks_exact(2).enumerate() {
                let find = |s: &str, target: bool| {
                    if s.len() > MAX_NAME {
                        return Err(g.err("edges", format!("edge {k} names a node of more than {MAX_NAME} bytes")));
                    }
                    resolve(&names, s, target)
                        .map_err(|msg| g.err("edges", format!("edge {k} ({} -> {}) {msg}", pair[0], pair[1])))
                };
                let edge = (find(&pair[0], false)?, find(&pair[1], true)?);
                // NIR refuses a repeated edge; here it would add the weights twice.
                if let Some(first) = seen.insert(edge, k) {
                    return Err(g.err(
                        "edges",
                        format!(
                            "edges {first} and {k} both connect \"{}\" to \"{}\"; remove one",
                            flat.nodes[edge.0].name, flat.nodes[edge.1].name
                        ),
                    ));
                }
                flat.edges.push(edge);
            }
        }
        Some(_) => return Err(g.err("edges", "expected pairs of node names (strings)")),
    }
    Ok(names)
}

/// The node an edge's end names: a node of this level; a nested graph
/// (its one Input as a target, its one Output as a source); or
/// `graph.node`, a node inside a nested graph.
fn resolve(names: &BTreeMap<String, Entry>, name: &str, target: bool) -> Result<usize, String> {
    match names.get(name) {
        Some(Entry::Node(i)) => return Ok(*i),
        Some(Entry::Graph { inputs, outputs, .. }) => {
            let (ports, what) = if target { (inputs, "Input") } else { (outputs, "Output") };
            let dir = if target { "into" } else { "out of" };
            return match ports[..] {
                [i] => Ok(i),
                [] => Err(format!(
                    "names the nested graph \"{name}\", which has no {what} node; an edge {dir} a nested graph goes \
                     through its {what} node: add one, or name a node inside it as \"{name}.<node>\""
                )),
                _ => Err(format!(
                    "names the nested graph \"{name}\", which has {} {what} nodes; an edge {dir} a nested graph \
                     needs exactly one, or names one of them as \"{name}.<node>\"",
                    ports.len()
                )),
            };
        }
        None => {}
    }
    // `graph.node`: every split at a dot whose left side is a nested graph.
    let mut inner = None;
    for (k, _) in name.match_indices('.') {
        if let Some(Entry::Graph { names: sub, .. }) = names.get(&name[..k]) {
            match resolve(sub, &name[k + 1..], target) {
                Ok(i) => return Ok(i),
                Err(e) => inner = Some(format!("{e} inside the nested graph \"{}\"", &name[..k])),
            }
        }
    }
    Err(inner.unwrap_or_else(|| {
        let mut known: Vec<&str> = names.keys().map(String::as_str).take(12).collect();
        if names.len() > known.len() {
            known.push("...");
        }
        format!("names \"{name}\", which is not a node (the nodes here: {})", known.join(", "))
    }))
}

impl Flat {
    /// Removes the nested graphs' Input and Output nodes: every path from
    /// a node through them to a node becomes one edge (parallel paths stay
    /// parallel edges, which add, as NIR's edges into one node do).
    fn contract(self, file: &str) -> Result<Flat, NirError> {
        let n = self.nodes.len();
        if !self.through.contains(&true) {
            return Ok(self);
        }
        let mut succs = vec![Vec::new(); n];
        for &(a, b) in &self.edges {
            succs[a].push(b);
        }
        let graph_err = |msg: String| NirError::Graph { file: file.into(), msg };
        let mut steps = 0usize;
        let mut on_path = vec![false; n];
        let mut edges = Vec::new();
        let mut declared = BTreeSet::new();
        for a in (0..n).filter(|&a| !self.through[a]) {
            // Depth-first through pass-throughs: (node, next successor).
            let mut stack = vec![(a, 0usize)];
            while let Some(top) = stack.last_mut() {
                let (x, i) = *top;
                if i == succs[x].len() {
                    on_path[x] = false;
                    stack.pop();
                    continue;
                }
                top.1 += 1;
                let s = succs[x][i];
                steps += 1;
                if steps > MAX_JOIN_STEPS {
                    return Err(graph_err(format!(
                        "the Input and Output nodes of its nested graphs join more than {MAX_JOIN_STEPS} paths; \
                         flatten the graph before writing it"
                    )));
                }
                if !self.through[s] {
                    edges.push((a, s));
                    if edges.len() > MAX_EDGES {
                        return Err(graph_err(format!(
                            "its nested graphs' Input and Output nodes join into more than {MAX_EDGES} edges; \
                             flatten the graph before writing it"
                        )));
                    }
                } else if on_path[s] {
                    return Err(graph_err(format!(
                        "a cycle runs through \"{}\" without a neuron node; recurrent edges must pass a neuron",
                        self.nodes[s].name
                    )));
                } else {
                    if matches!(self.nodes[s].op, Op::Input(_)) {
                        declared.insert((a, s));
                    }
                    on_path[s] = true;
                    stack.push((s, 0));
                }
            }
        }
        let declared = declared
            .into_iter()
            .map(|(a, t)| match &self.nodes[t].op {
                Op::Input(shape) => (a, self.nodes[t].name.clone(), shape.clone()),
                _ => unreachable!("only Input nodes are recorded"),
            })
            .collect::<Vec<_>>();
        let mut new = vec![usize::MAX; n];
        let mut nodes = Vec::new();
        for (v, node) in self.nodes.into_iter().enumerate() {
            if !self.through[v] {
                new[v] = nodes.len();
                nodes.push(node);
            }
        }
        Ok(Flat {
            through: vec![false; nodes.len()],
            nodes,
            edges: edges.into_iter().map(|(a, b)| (new[a], new[b])).collect(),
            places: self.places,
            declared: declared.into_iter().map(|(a, name, shape)| (new[a], name, shape)).collect(),
        })
    }
}

/// Gives each neuron node whose parameters are all scalars (one neuron as
/// written) the shape of its input, its parameters repeated. snnTorch
/// exports `Leaky(beta=0.9)` so: a LIF node of 0-d `tau`, `r` and `v_leak`
/// behind an Affine of 500 outputs (`nir.read`'s type check refuses such
/// a file; the intent is one value for every neuron). Shapes are followed from the inputs through
/// the linear nodes until nothing changes; a recurrent edge takes the
/// shape of the population's other inputs. Costs nothing for graphs
/// without such nodes.
fn broadcast_scalar_populations(
    file: &str,
    nodes: &mut [Node],
    preds: &[Vec<usize>],
    order: &[usize],
) -> Result<(), NirError> {
    let scalar = |op: &Op| matches!(op, Op::Neurons(c) if c.v_threshold.len() == 1);
    if !nodes.iter().any(|x| scalar(&x.op)) {
        return Ok(());
    }
    let n = nodes.len();
    let mut shape: Vec<Option<Vec<usize>>> = nodes
        .iter()
        .map(|x| match &x.op {
            Op::Input(s) => Some(s.clone()),
            Op::Neurons(c) if !scalar(&x.op) => Some(c.shape.clone()),
            _ => None,
        })
        .collect();
    let known_input = |v: usize, shape: &[Option<Vec<usize>>]| preds[v].iter().find_map(|&p| shape[p].clone());
    let pops: Vec<usize> = (0..n).filter(|&v| scalar(&nodes[v].op)).collect();
    loop {
        let mut changed = false;
        for &v in order {
            if shape[v].is_some() || is_population(&nodes[v].op) || matches!(nodes[v].op, Op::Output) {
                continue;
            }
            if let Some(s) = known_input(v, &shape) {
                shape[v] = Some(op_layer(file, &nodes[v], &s)?.shape);
                changed = true;
            }
        }
        for &v in &pops {
            if shape[v].is_none() {
                if let Some(s) = known_input(v, &shape) {
                    shape[v] = Some(s);
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    for v in pops {
        let (Some(s), Op::Neurons(c)) = (shape[v].take(), &mut nodes[v].op) else { continue };
        let size: usize = s.iter().product();
        for p in [&mut c.tau, &mut c.tau_syn, &mut c.w_in, &mut c.r, &mut c.v_leak, &mut c.v_threshold, &mut c.v_reset]
        {
            *p = vec![p[0]; size];
        }
        c.shape = s;
    }
    Ok(())
}

fn is_population(op: &Op) -> bool {
    matches!(op, Op::Input(_) | Op::Neurons(_))
}

fn lower(
    file: &str,
    mut nodes: Vec<Node>,
    edges: &[(usize, usize)],
    declared: &[(usize, String, Vec<usize>)],
    dt: f64,
    opts: &ImportOptions,
    version: String,
) -> Result<Imported, NirError> {
    let n = nodes.len();
    let mut preds: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut succs: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(a, b) in edges {
        if matches!(nodes[b].op, Op::Input(_)) {
            return Err(node_err(
                file,
                &nodes[b],
                format!("an edge from \"{}\" leads into an Input node", nodes[a].name),
            ));
        }
        if matches!(nodes[a].op, Op::Output) {
            return Err(node_err(
                file,
                &nodes[a],
                format!("an edge leads out of an Output node to \"{}\"", nodes[b].name),
            ));
        }
        preds[b].push(a);
        succs[a].push(b);
    }
    if !nodes.iter().any(|x| matches!(x.op, Op::Input(_))) {
        return Err(NirError::Graph {
            file: file.into(),
            msg: "the graph has no Input node (nested graphs' Inputs only pass edges through); add an Input node \
                  of the input's shape and an edge from it"
                .into(),
        });
    }
    // Linear nodes in topological order (edges into populations cut).
    let mut indeg: Vec<usize> = (0..n).map(|v| if is_population(&nodes[v].op) { 0 } else { preds[v].len() }).collect();
    let mut queue: VecDeque<usize> = (0..n).filter(|&v| indeg[v] == 0).collect();
    let mut order = Vec::new();
    while let Some(v) = queue.pop_front() {
        order.push(v);
        for &s in &succs[v] {
            if !is_population(&nodes[s].op) {
                indeg[s] -= 1;
                if indeg[s] == 0 {
                    queue.push_back(s);
                }
            }
        }
    }
    if order.len() < n {
        let stuck: Vec<&str> = (0..n).filter(|&v| indeg[v] > 0).map(|v| nodes[v].name.as_str()).collect();
        return Err(NirError::Graph {
            file: file.into(),
            msg: format!(
                "a cycle runs through {} without a neuron node; recurrent edges must pass a neuron",
                stuck.join(", ")
            ),
        });
    }
    broadcast_scalar_populations(file, &mut nodes, &preds, &order)?;
    // Output value (expression) of each node; populations are identities.
    let mut value: Vec<Option<Expr>> = vec![None; n];
    let pop_shape = |v: usize| -> Vec<usize> {
        match &nodes[v].op {
            Op::Input(s) => s.clone(),
            Op::Neurons(c) => c.shape.clone(),
            _ => unreachable!(),
        }
    };
    for v in 0..n {
        if is_population(&nodes[v].op) {
            value[v] = Some(Expr::identity(v, pop_shape(v)));
        }
    }
    let input_of = |v: usize, value: &[Option<Expr>]| -> Result<Option<Expr>, NirError> {
        let mut acc: Option<Expr> = None;
        for &p in &preds[v] {
            let e = value[p].clone().expect("predecessors first");
            acc = Some(match acc {
                None => e,
                Some(a) => {
                    if a.size() != e.size() {
                        return Err(node_err(
                            file,
                            &nodes[v],
                            format!(
                                "its inputs disagree in size: {} values from one edge, {} from \"{}\"",
                                a.size(),
                                e.size(),
                                nodes[p].name
                            ),
                        ));
                    }
                    a.add(e)
                }
            });
        }
        Ok(acc)
    };
    // The work of the compositions so far (as the ONNX path counts it): a
    // short file must not compose for minutes or fill the memory.
    let mut work = 0usize;
    for &v in &order {
        if is_population(&nodes[v].op) || matches!(nodes[v].op, Op::Output) {
            continue;
        }
        let Some(inp) = input_of(v, &value)? else {
            return Err(node_err(file, &nodes[v], "it has no incoming edge"));
        };
        let layer = op_layer(file, &nodes[v], &inp.shape)?;
        let madds: usize = inp.terms.values().map(|t| Layer::compose_cost(t, &layer)).sum();
        if madds > MAX_LAYER_SYNAPSES {
            return Err(node_err(
                file,
                &nodes[v],
                format!(
                    "composing it with the linear nodes before it takes {madds} multiply-adds, more than \
                     {MAX_LAYER_SYNAPSES} (2^25); use smaller layers or put neurons between them"
                ),
            ));
        }
        work = work.saturating_add(madds).saturating_add(inp.terms.values().map(|t| t.cols.len()).sum());
        if work > MAX_BUILD_WORK {
            return Err(node_err(
                file,
                &nodes[v],
                format!(
                    "the linear nodes up to here take more than {MAX_BUILD_WORK} steps to compose, far more than a \
                     network that fits neuron cores; import a smaller graph"
                ),
            ));
        }
        value[v] = Some(inp.then(&layer));
    }
    // The nested graphs' Inputs that values passed through.
    for (a, name, shape) in declared {
        let want: usize = shape.iter().product();
        if let Some(got) = value[*a].as_ref().map(Expr::size).filter(|&got| got != want) {
            return Err(node_err(
                file,
                &nodes[*a],
                format!(
                    "it gives {got} values to the nested graph's Input \"{name}\", which declares shape {shape:?}; \
                     the shapes must agree"
                ),
            ));
        }
    }
    // Populations: inputs first, then neurons in breadth-first order from the inputs.
    let mut latency: Vec<Option<u32>> = vec![None; n];
    let mut bfs: VecDeque<usize> = VecDeque::new();
    for v in 0..n {
        if matches!(nodes[v].op, Op::Input(_)) {
            latency[v] = Some(0);
            bfs.push_back(v);
        }
    }
    // Population successors: through linear nodes.
    let reach = |v: usize| -> Vec<usize> {
        let mut seen = BTreeSet::new();
        let mut stack = succs[v].clone();
        let mut out = Vec::new();
        while let Some(x) = stack.pop() {
            if !seen.insert(x) {
                continue;
            }
            if is_population(&nodes[x].op) {
                out.push(x);
            } else {
                stack.extend(succs[x].iter().copied());
            }
        }
        out
    };
    let mut pop_order: Vec<usize> = (0..n).filter(|&v| matches!(nodes[v].op, Op::Input(_))).collect();
    while let Some(v) = bfs.pop_front() {
        let mut next = reach(v);
        next.sort_unstable();
        for x in next {
            if latency[x].is_none() {
                latency[x] = Some(latency[v].unwrap() + 1);
                pop_order.push(x);
                bfs.push_back(x);
            }
        }
    }
    if let Some(v) = (0..n).find(|&v| matches!(nodes[v].op, Op::Neurons(_)) && latency[v].is_none()) {
        return Err(node_err(file, &nodes[v], "no path leads to it from an Input node"));
    }
    // Outputs.
    let mut output = vec![false; n];
    for v in 0..n {
        if matches!(nodes[v].op, Op::Output) {
            for &p in &preds[v] {
                if !matches!(nodes[p].op, Op::Neurons(_)) {
                    return Err(node_err(
                        file,
                        &nodes[v],
                        format!(
                            "it is fed by \"{}\" ({}); spikeforge reads its results from neuron populations, so an \
                             Output must follow a neuron node",
                            nodes[p].name, nodes[p].kind
                        ),
                    ));
                }
                output[p] = true;
            }
        }
    }
    // Names.
    let mut taken = BTreeSet::new();
    let mut pname: BTreeMap<usize, String> = BTreeMap::new();
    for &v in &pop_order {
        let name = population_name(&nodes[v].name, &taken);
        taken.insert(name.clone());
        pname.insert(v, name);
    }
    let fp = opts.fixed_point;
    let wmax = ((1i64 << (fp.weight_bits - 1)) - 1) as f64;
    let pmax = ((1i64 << (fp.potential_bits - 1)) - 1) as f64;
    let mut pops_doc = Vec::new();
    let mut projs = Vec::new();
    let mut report = Vec::new();
    let mut reference = Vec::new();
    let ref_index: BTreeMap<usize, usize> = pop_order.iter().enumerate().map(|(k, &v)| (v, k)).collect();
    for &v in &pop_order {
        let node = &nodes[v];
        let name = pname[&v].clone();
        let size: usize = pop_shape(v).iter().product();
        let lat = latency[v].unwrap();
        let Op::Neurons(c) = &node.op else {
            reference.push(RefPop { cells: None, size, terms: Vec::new(), bias: Vec::new() });
            pops_doc.push(PopulationDoc::input(&name, size as i64));
            report.push(Population {
                name,
                kind: node.kind.clone(),
                neurons: size,
                synapses: 0,
                dropped: 0,
                scale: 1.0,
                weight_error: 0.0,
                leak_shift: None,
                leak_error: 0.0,
                syn_shift: None,
                syn_error: 0.0,
                latency: 0,
                mixed_latency: false,
                warmup_exact: true,
                output: output[v],
            });
            continue;
        };
        let inp = input_of(v, &value)?;
        let inp = match inp {
            Some(e) => e,
            None => Expr { shape: c.shape.clone(), terms: BTreeMap::new(), bias: vec![0.0; size] },
        };
        if inp.size() != size {
            return Err(node_err(
                file,
                node,
                format!("it has {size} neurons but its input has {} values (shape {:?})", inp.size(), inp.shape),
            ));
        }
        reference.push(RefPop {
            cells: Some(c.clone()),
            size,
            terms: inp.terms.iter().map(|(s, t)| (ref_index[s], t.clone())).collect(),
            bias: inp.bias.clone(),
        });
        // Per-neuron gain, decay and the shifted parameters.
        // `gain` scales the weights into the neuron, `bias_gain` its
        // constant input (they differ for a current, see below).
        let mut gain = vec![1.0; size];
        let mut bias_gain = vec![1.0; size];
        let mut lambda: Vec<Option<u32>> = vec![None; size];
        let mut ksyn: Vec<u32> = vec![0; size];
        let mut leak_bias = vec![0.0; size];
        let (mut leak_error, mut syn_error): (f64, f64) = (0.0, 0.0);
        let maxl = fp.potential_bits - 1;
        // The nearest power-of-two decay 2^-l to `x` for l in 0..=max, and its relative error.
        let pow2 = |x: f64, max: u32| -> (u32, f64) {
            let l = if x >= 1.0 { 0 } else { ((-x.log2()).round() as u32).min(max) };
            (l, (0.5f64.powi(l as i32) - x.min(1.0)).abs() / x.min(1.0))
        };
        for i in 0..size {
            match c.cell {
                Cell::If => gain[i] = c.r[i],
                Cell::Threshold => lambda[i] = Some(0),
                Cell::Lif | Cell::Li | Cell::CubaLif | Cell::CubaLi => {
                    let alpha = dt / c.tau[i];
                    gain[i] = alpha * c.r[i];
                    let (l, err) = pow2(alpha, maxl);
                    leak_error = leak_error.max(err);
                    lambda[i] = Some(l);
                    leak_bias[i] = 0.5f64.powi(l as i32) * (c.v_leak[i] - c.v_reset[i]);
                }
            }
            bias_gain[i] = gain[i];
            if c.cell.current() {
                // The integer current is i = s·α·r·I, in potential units, so
                // `v − (v >> λ) + i'` is the Euler step of v. Its update
                // i' = i − (i >> k) + a takes a = s·α·r·2^−k·w_in·x, which
                // keeps the current's steady state w_in·x exact under the
                // rounded decay. A constant input x_b (a bias) has no
                // synapse: it enters the potential as its steady-state
                // current s·α·r·w_in·x_b, exact after the first τ_syn.
                let (k, err) = pow2(dt / c.tau_syn[i], fp.accumulator_bits - 1);
                syn_error = syn_error.max(err);
                ksyn[i] = k;
                bias_gain[i] = gain[i] * c.w_in[i];
                gain[i] = bias_gain[i] * 0.5f64.powi(k as i32);
            }
        }
        let theta: Vec<f64> = (0..size)
            .map(|i| if c.cell == Cell::Threshold { c.v_threshold[i] } else { c.v_threshold[i] - c.v_reset[i] })
            .collect();
        let v_init: Vec<f64> = (0..size).map(|i| if c.cell == Cell::Threshold { 0.0 } else { -c.v_reset[i] }).collect();
        let bias: Vec<f64> = (0..size).map(|i| bias_gain[i] * inp.bias[i] + leak_bias[i]).collect();
        // Scale: weights in W bits, thresholds, biases and starts in P bits.
        let mut wabs: f64 = 0.0;
        for t in inp.terms.values() {
            for (o, g) in gain.iter().enumerate() {
                for (_, w) in t.row(o) {
                    let x = g * w;
                    wabs = wabs.max(x.abs());
                }
            }
        }
        let finite_theta = theta.iter().filter(|t| t.is_finite()).fold(0.0f64, |m, t| m.max(t.abs()));
        let pabs = bias.iter().chain(&v_init).fold(finite_theta, |m, x| m.max(x.abs()));
        let s_w = if wabs > 0.0 { wmax / wabs } else { f64::INFINITY };
        let s_p = if pabs > 0.0 { (pmax - 1.0) / pabs } else { f64::INFINITY };
        let mut scale = s_w.min(s_p);
        if !scale.is_finite() {
            scale = 1.0;
        }
        // Values on a grid of 2^-k (integers as `export` writes them, or
        // weights such as 0.25) keep the smallest exact scale 2^k.
        let on_grid = |k: i32| {
            let m = 2f64.powi(k);
            let ok = |x: f64| (x * m).fract() == 0.0;
            inp.terms.values().all(|t| (0..size).all(|o| t.row(o).all(|(_, w)| ok(gain[o] * w))))
                && bias.iter().chain(&v_init).all(|&x| ok(x))
        };
        if let Some(k) = (0..=16).find(|&k| on_grid(k)) {
            let m = 2f64.powi(k);
            if wabs * m <= wmax && pabs * m < pmax {
                scale = m;
            }
        }
        // Integer parameters.
        let clamp_p = |x: f64| x.round().clamp(-pmax - 1.0, pmax) as i64;
        let th_int: Vec<i64> = theta
            .iter()
            .map(|&t| if t.is_finite() { ((t * scale).floor() + 1.0).clamp(1.0, pmax) as i64 } else { pmax as i64 })
            .collect();
        let b_int: Vec<i64> = bias.iter().map(|&b| clamp_p(b * scale)).collect();
        // The population integrates its bias `lat` times before the first
        // input reaches it; the start potential is moved back by those
        // steps (exact for IF neurons while no spike or clamp happens in
        // them, which is checked; the nearest integer for leaky ones).
        let mut warmup_exact = true;
        let vi_int: Vec<i64> = (0..size)
            .map(|i| {
                let start = clamp_p(v_init[i] * scale);
                if c.cell == Cell::Threshold || b_int[i] == 0 || lat == 0 {
                    return start;
                }
                let keep = match lambda[i] {
                    None => 1.0,
                    Some(l) => 1.0 - 0.5f64.powi(l as i32),
                };
                let mut v = start as f64;
                for _ in 0..lat {
                    v = if keep > 0.0 { (v - b_int[i] as f64) / keep } else { f64::NAN };
                }
                if !v.is_finite() || v.abs() > pmax {
                    warmup_exact = false;
                    return start;
                }
                let v0 = v.round() as i64;
                // Forward in integers, as golden runs it: no spike, no clamp,
                // and the start reached exactly.
                let mut x = v0;
                for _ in 0..lat {
                    let leak = lambda[i].map_or(0, |l| x >> l);
                    x = x - leak + b_int[i];
                    if x >= th_int[i] || x > pmax as i64 || x < -(pmax as i64) - 1 {
                        warmup_exact = false;
                        return start;
                    }
                }
                warmup_exact &= x == start;
                v0
            })
            .collect();
        let mut synapses = 0;
        let mut dropped = 0;
        let mut werr: f64 = 0.0;
        let mut depths = BTreeSet::new();
        for (&src, t) in &inp.terms {
            if src != v {
                depths.insert(latency[src].unwrap_or(0));
            }
            let mut syn = Vec::new();
            for (o, g) in gain.iter().enumerate() {
                for (i, w) in t.row(o) {
                    let x = g * w;
                    let q = (x * scale).round().clamp(-wmax, wmax);
                    werr = werr.max((q / scale - x).abs());
                    if q == 0.0 {
                        dropped += 1;
                    } else {
                        syn.push([i as i64, o as i64, q as i64]);
                    }
                }
            }
            synapses += syn.len();
            if !syn.is_empty() {
                projs.push(ProjectionDoc::sparse(&pname[&src], &name, syn));
            }
        }
        let per_i64 = |v: Vec<i64>| -> PerNeuron<i64> {
            if v.iter().all(|&x| x == v[0]) {
                PerNeuron::Scalar(v[0])
            } else {
                PerNeuron::Array(v)
            }
        };
        let leaks: Vec<Leak> = lambda.iter().map(|l| l.map_or(Leak::None, |l| Leak::Shift(l as i64))).collect();
        let mut doc = PopulationDoc::neurons(&name, size as i64, 1);
        doc.output = output[v];
        doc.threshold = Some(per_i64(th_int));
        doc.bias = b_int.iter().any(|&b| b != 0).then(|| per_i64(b_int));
        doc.v_init = vi_int.iter().any(|&b| b != 0).then(|| per_i64(vi_int));
        doc.reset = Some(PerNeuron::Scalar(Reset::Zero));
        doc.leak_shift = if leaks.iter().all(|&l| l == leaks[0]) {
            (leaks[0] != Leak::None).then_some(PerNeuron::Scalar(leaks[0]))
        } else {
            Some(PerNeuron::Array(leaks))
        };
        if c.cell.current() {
            doc.syn_shift = Some(per_i64(ksyn.iter().map(|&k| k as i64).collect()));
        }
        pops_doc.push(doc);
        report.push(Population {
            name,
            kind: node.kind.clone(),
            neurons: size,
            synapses,
            dropped,
            scale,
            weight_error: if wabs > 0.0 { werr / wabs } else { 0.0 },
            leak_shift: if lambda.iter().all(|&l| l == lambda[0]) { lambda[0] } else { None },
            leak_error,
            syn_shift: (c.cell.current() && ksyn.iter().all(|&k| k == ksyn[0])).then_some(ksyn[0]),
            syn_error,
            latency: lat,
            mixed_latency: depths.len() > 1,
            warmup_exact,
            output: output[v],
        });
    }
    let doc = NetworkDoc { format: 1, name: None, fixed_point: fp, populations: pops_doc, projections: projs };
    let net = Network::from_doc(&doc)
        .map_err(|e| NirError::Graph { file: file.into(), msg: format!("the imported network is not valid: {e}") })?;
    Ok(Imported { net, version, dt, populations: report, reference })
}

impl Imported {
    /// Runs `trials` random inputs (each input neuron spikes with
    /// probability `p` per step, seeded) for `steps` steps through golden
    /// and through the floating-point graph, and compares the output
    /// populations, golden shifted by each population's latency.
    pub fn fidelity(&self, trials: usize, steps: u32, p: f64, seed: u64) -> Result<Fidelity, String> {
        let pops = self.net.populations();
        let lat: Vec<u32> = self.populations.iter().map(|x| x.latency).collect();
        let extra = lat.iter().copied().max().unwrap_or(0);
        let total = steps + extra;
        let mut rng = spikeforge_net::rng::SplitMix64(seed);
        let outputs: Vec<usize> = (0..pops.len()).filter(|&k| self.populations[k].output).collect();
        let (mut agree, mut bins, mut classes, mut gs, mut fs) = (0u64, 0u64, 0usize, 0u64, 0u64);
        for _ in 0..trials {
            // Input spikes: per step, per input population.
            let mut pairs = Vec::new();
            let mut x: Vec<Vec<Vec<bool>>> = vec![Vec::new(); pops.len()];
            for t in 0..steps {
                for (k, pop) in pops.iter().enumerate() {
                    if !pop.is_input() {
                        continue;
                    }
                    let row: Vec<bool> =
                        (0..pop.size()).map(|_| (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p).collect();
                    for (i, &b) in row.iter().enumerate() {
                        if b {
                            pairs.push((t, pop.offset() + i as u32));
                        }
                    }
                    x[k].push(row);
                }
            }
            let train = spikeforge_net::SpikeTrain::from_pairs(pairs);
            let run = spikeforge_golden::run(&self.net, &spikeforge_net::Stimulus::from_train(&train), total)
                .map_err(|e| e.to_string())?;
            let (zf, vf) = self.float_run(&x, total);
            for &k in &outputs {
                let pop = &pops[k];
                let li = self.reference[k].cells.as_ref().is_some_and(|c| c.cell.readout());
                let n = pop.size() as usize;
                if li {
                    // Highest potential after the last step, golden shifted back.
                    let at = (total - 1 - (extra - lat[k])) as usize;
                    let g: Vec<f64> = (0..n).map(|i| run.potentials[pop.offset() as usize + i] as f64).collect();
                    classes += (crate::ann::argmax(&g) == crate::ann::argmax(&vf[at][k])) as usize;
                    continue;
                }
                let mut gz = vec![vec![false; n]; steps as usize];
                for sp in run.spikes.iter().filter(|s| pop.ids().contains(&s.neuron)) {
                    if sp.step >= lat[k] && sp.step - lat[k] < steps {
                        gz[(sp.step - lat[k]) as usize][(sp.neuron - pop.offset()) as usize] = true;
                    }
                }
                let (mut gc, mut fc) = (vec![0.0; n], vec![0.0; n]);
                for t in 0..steps as usize {
                    for i in 0..n {
                        agree += (gz[t][i] == zf[t][k][i]) as u64;
                        bins += 1;
                        gc[i] += gz[t][i] as u8 as f64;
                        fc[i] += zf[t][k][i] as u8 as f64;
                        gs += gz[t][i] as u64;
                        fs += zf[t][k][i] as u64;
                    }
                }
                classes += (crate::ann::argmax(&gc) == crate::ann::argmax(&fc)) as usize;
            }
        }
        let runs = (trials * outputs.len()).max(1);
        Ok(Fidelity {
            trials,
            steps,
            spike_agreement: if bins == 0 { 1.0 } else { agree as f64 / bins as f64 },
            class_agreement: classes as f64 / runs as f64,
            golden_spikes: gs as f64 / trials.max(1) as f64,
            float_spikes: fs as f64 / trials.max(1) as f64,
        })
    }

    /// The graph in floating point: spikes `[step][population][neuron]`
    /// and potentials, for `total` steps (inputs silent after `x` ends).
    #[allow(clippy::type_complexity)]
    fn float_run(&self, x: &[Vec<Vec<bool>>], total: u32) -> (Vec<Vec<Vec<bool>>>, Vec<Vec<Vec<f64>>>) {
        let np = self.reference.len();
        let mut v: Vec<Vec<f64>> = self.reference.iter().map(|r| vec![0.0; r.size]).collect();
        let mut cur: Vec<Vec<f64>> = v.clone();
        let mut z: Vec<Vec<bool>> = self.reference.iter().map(|r| vec![false; r.size]).collect();
        let (mut zs, mut vs) = (Vec::new(), Vec::new());
        for t in 0..total as usize {
            // Zero delay: populations in order, each reading this step's
            // spikes of the ones before it (its own and later ones: the
            // previous step's, as a recurrent edge must).
            for k in 0..np {
                let r = &self.reference[k];
                let Some(c) = &r.cells else {
                    z[k] = x[k].get(t).cloned().unwrap_or_else(|| vec![false; r.size]);
                    continue;
                };
                let mut input = r.bias.clone();
                for (src, layer) in &r.terms {
                    for (o, acc) in input.iter_mut().enumerate() {
                        *acc += layer.row(o).filter(|&(i, _)| z[*src][i]).map(|(_, w)| w).sum::<f64>();
                    }
                }
                for i in 0..r.size {
                    let vi = &mut v[k][i];
                    match c.cell {
                        Cell::If => *vi += c.r[i] * input[i],
                        Cell::Lif | Cell::Li => {
                            let a = self.dt / c.tau[i];
                            *vi += a * (c.v_leak[i] - *vi) + a * c.r[i] * input[i];
                        }
                        Cell::CubaLif | Cell::CubaLi => {
                            // τ_syn dI/dt = −I + w_in·x, then τ_mem dv/dt =
                            // (v_leak − v) + r·I, Euler steps, the current first.
                            let ci = &mut cur[k][i];
                            let b = self.dt / c.tau_syn[i];
                            *ci += b * (c.w_in[i] * input[i] - *ci);
                            let a = self.dt / c.tau[i];
                            *vi += a * (c.v_leak[i] - *vi) + a * c.r[i] * *ci;
                        }
                        Cell::Threshold => *vi = input[i],
                    }
                    let fire = !c.cell.readout() && *vi > c.v_threshold[i];
                    if fire && c.cell != Cell::Threshold {
                        *vi = c.v_reset[i];
                    }
                    z[k][i] = fire;
                }
            }
            zs.push(z.clone());
            vs.push(v.clone());
        }
        (zs, vs)
    }
}

// ---------------------------------------------------------------- export

/// Writes `net` as a NIR file at `path` with time step `dt` (LIF time
/// constants are dt·2^λ). Refused, with the population and the reason,
/// when a population cannot be expressed in NIR: a subtractive reset, a
/// lower clamp, a start potential, or integrate-and-fire and leaky neurons
/// mixed in one population.
pub fn export(net: &Network, path: &Path, dt: f64) -> Result<(), NirError> {
    let file = path.display().to_string();
    let fail = |msg: String| NirError::Export { file: file.clone(), msg };
    let doc = net.to_doc();
    let p_bits = doc.fixed_point.potential_bits;
    let vmin_default = -(1i64 << (p_bits - 1));
    let sizes: BTreeMap<&str, usize> = doc.populations.iter().map(|p| (p.name.as_str(), p.size as usize)).collect();
    let per_neuron = |v: &Option<PerNeuron<i64>>, n: usize, d: i64| -> Vec<i64> {
        match v {
            None => vec![d; n],
            Some(PerNeuron::Scalar(x)) => vec![*x; n],
            Some(PerNeuron::Array(a)) => a.clone(),
        }
    };
    // Dense weights per (pre, post).
    let mut weights: BTreeMap<(String, String), Vec<f64>> = BTreeMap::new();
    for pr in &doc.projections {
        let (np, nq) = (sizes[pr.pre.as_str()], sizes[pr.post.as_str()]);
        let w = weights.entry((pr.pre.clone(), pr.post.clone())).or_insert_with(|| vec![0.0; np * nq]);
        match pr.kind {
            ProjectionKind::Dense => {
                for (i, row) in pr.weights.iter().flatten().enumerate() {
                    for (j, &x) in row.iter().enumerate() {
                        w[j * np + i] += x as f64;
                    }
                }
            }
            ProjectionKind::Sparse => {
                for &[i, j, x] in pr.synapses.iter().flatten() {
                    w[j as usize * np + i as usize] += x as f64;
                }
            }
            ProjectionKind::OneToOne => {
                let ws = per_neuron(&pr.weight, np, 0);
                for (i, &x) in ws.iter().enumerate() {
                    w[i * np + i] += x as f64;
                }
            }
        }
    }
    // Synapse hops of each population from the inputs (as import counts them).
    let mut depth: BTreeMap<&str, u32> = BTreeMap::new();
    let mut queue: VecDeque<&str> = VecDeque::new();
    for p in doc.populations.iter().filter(|p| p.kind == PopulationKind::Input) {
        depth.insert(&p.name, 0);
        queue.push_back(&p.name);
    }
    while let Some(a) = queue.pop_front() {
        for (pre, post) in weights.keys() {
            if pre == a && !depth.contains_key(post.as_str()) {
                depth.insert(post, depth[a] + 1);
                queue.push_back(post);
            }
        }
    }
    // Written beside the target and renamed when complete: a refused or
    // failed export leaves any earlier file in place.
    let partial = path.with_file_name(format!(
        ".{}.partial",
        path.file_name().map_or("export.nir".into(), |n| n.to_string_lossy().into_owned())
    ));
    let h5 = rust_hdf5::H5File::create(&partial).map_err(|e| fail(format!("cannot create: {e}")))?;
    let res = (|| -> Result<(), String> {
        let e = |x: rust_hdf5::Hdf5Error| x.to_string();
        let root = h5.root_group();
        write_str(&root, "version", &[NIR_VERSION.to_string()], &[]).map_err(e)?;
        let g = root.create_group("node").map_err(e)?;
        write_str(&g, "type", &["NIRGraph".to_string()], &[]).map_err(e)?;
        let nodes = g.create_group("nodes").map_err(e)?;
        let mut edges: Vec<String> = Vec::new();
        let first_input = doc.populations.iter().find(|p| p.kind == PopulationKind::Input).map(|p| p.name.clone());
        for p in &doc.populations {
            let n = p.size as usize;
            let ng = nodes.create_group(&p.name).map_err(e)?;
            if p.kind == PopulationKind::Input {
                write_str(&ng, "type", &["Input".to_string()], &[]).map_err(e)?;
                write_num::<i64>(&ng, "shape", &[n as i64], &[1]).map_err(e)?;
                continue;
            }
            let resets: Vec<Reset> = match &p.reset {
                None => vec![Reset::Subtract],
                Some(PerNeuron::Scalar(r)) => vec![*r],
                Some(PerNeuron::Array(a)) => a.clone(),
            };
            if resets.contains(&Reset::Subtract) {
                return Err(format!(
                    "population \"{}\" resets by subtracting the threshold; NIR neurons reset to v_reset, so only \
                     reset = \"zero\" can be exported",
                    p.name
                ));
            }
            if per_neuron(&p.v_min, n, vmin_default).iter().any(|&x| x != vmin_default) {
                return Err(format!(
                    "population \"{}\" has a v_min above the potential range; NIR neurons have no lower clamp",
                    p.name
                ));
            }
            // A start potential is exported only as what import makes of a
            // bias: it must reach 0 after `depth` bias steps (the steps
            // before the first input arrives).
            let d = depth.get(p.name.as_str()).copied().unwrap_or(0);
            let (vi, bs) = (per_neuron(&p.v_init, n, 0), per_neuron(&p.bias, n, 0));
            let leaks: Vec<Leak> = match &p.leak_shift {
                None => vec![Leak::None; n],
                Some(PerNeuron::Scalar(l)) => vec![*l; n],
                Some(PerNeuron::Array(a)) => a.clone(),
            };
            for i in 0..n {
                let mut x = vi[i];
                for _ in 0..d {
                    x = x - if let Leak::Shift(l) = leaks[i] { x >> l } else { 0 } + bs[i];
                }
                if x != 0 {
                    return Err(format!(
                        "population \"{}\" starts neuron {i} at potential {} (v_init); NIR has no initial state, so \
                         only the start that cancels the bias of the {d} steps before the first input is exported",
                        p.name, vi[i]
                    ));
                }
            }
            let th: Vec<f64> = per_neuron(&p.threshold, n, 1).iter().map(|&t| t as f64 - 0.5).collect();
            // A current-based population: CubaLIF with r = 2^λ and
            // w_in = 2^k_syn, so that import's weight gain α·r·2^−k·w_in is
            // 1; its bias then enters as an input of b / 2^k_syn.
            let syn: Option<Vec<i64>> = p.syn_shift.as_ref().map(|k| per_neuron(&Some(k.clone()), n, 0));
            let mut bias_div = vec![1.0; n];
            if let Some(ks) = &syn {
                if leaks.contains(&Leak::None) {
                    return Err(format!(
                        "population \"{}\" is current-based without a leak; NIR's current-based neuron (CubaLIF) \
                         always leaks, so give it a leak_shift",
                        p.name
                    ));
                }
                let shift = |l: &Leak| if let Leak::Shift(x) = l { *x as i32 } else { 0 };
                let tau: Vec<f64> = leaks.iter().map(|l| dt * 2f64.powi(shift(l))).collect();
                let r: Vec<f64> = leaks.iter().map(|l| 2f64.powi(shift(l))).collect();
                let tau_syn: Vec<f64> = ks.iter().map(|&k| dt * 2f64.powi(k as i32)).collect();
                let w_in: Vec<f64> = ks.iter().map(|&k| 2f64.powi(k as i32)).collect();
                bias_div = w_in.clone();
                write_str(&ng, "type", &["CubaLIF".to_string()], &[]).map_err(e)?;
                write_num::<f64>(&ng, "tau_mem", &tau, &[n]).map_err(e)?;
                write_num::<f64>(&ng, "tau_syn", &tau_syn, &[n]).map_err(e)?;
                write_num::<f64>(&ng, "r", &r, &[n]).map_err(e)?;
                write_num::<f64>(&ng, "w_in", &w_in, &[n]).map_err(e)?;
                write_num::<f64>(&ng, "v_leak", &vec![0.0; n], &[n]).map_err(e)?;
            } else if leaks.iter().all(|&l| l == Leak::None) {
                write_str(&ng, "type", &["IF".to_string()], &[]).map_err(e)?;
                write_num::<f64>(&ng, "r", &vec![1.0; n], &[n]).map_err(e)?;
            } else if leaks.iter().all(|&l| l != Leak::None) {
                let tau: Vec<f64> = leaks
                    .iter()
                    .map(|l| if let Leak::Shift(k) = l { dt * 2f64.powi(*k as i32) } else { 0.0 })
                    .collect();
                let r: Vec<f64> = tau.iter().map(|t| t / dt).collect();
                write_str(&ng, "type", &["LIF".to_string()], &[]).map_err(e)?;
                write_num::<f64>(&ng, "tau", &tau, &[n]).map_err(e)?;
                write_num::<f64>(&ng, "r", &r, &[n]).map_err(e)?;
                write_num::<f64>(&ng, "v_leak", &vec![0.0; n], &[n]).map_err(e)?;
            } else {
                return Err(format!(
                    "population \"{}\" mixes integrate-and-fire and leaky neurons; NIR needs one neuron type per node",
                    p.name
                ));
            }
            write_num::<f64>(&ng, "v_threshold", &th, &[n]).map_err(e)?;
            write_num::<f64>(&ng, "v_reset", &vec![0.0; n], &[n]).map_err(e)?;
            // Incoming weights; the bias goes with the first incoming edge.
            let bias: Vec<f64> = bs.iter().zip(&bias_div).map(|(&b, d)| b as f64 / d).collect();
            let mut incoming: Vec<(&String, &Vec<f64>)> =
                weights.iter().filter(|((_, q), _)| q == &p.name).map(|((pre, _), w)| (pre, w)).collect();
            let zero;
            if incoming.is_empty() && bias.iter().any(|&b| b != 0.0) {
                let Some(src) = &first_input else {
                    return Err(format!(
                        "population \"{}\" has a bias but the network has no input population",
                        p.name
                    ));
                };
                zero = (src.clone(), vec![0.0; sizes[src.as_str()] * n]);
                incoming.push((&zero.0, &zero.1));
            }
            for (k, (pre, w)) in incoming.iter().enumerate() {
                let name = format!("{pre}_to_{}", p.name);
                let ag = nodes.create_group(&name).map_err(e)?;
                let np = sizes[pre.as_str()];
                write_str(&ag, "type", &["Affine".to_string()], &[]).map_err(e)?;
                let wf: Vec<f32> = w.iter().map(|&x| x as f32).collect();
                write_num::<f32>(&ag, "weight", &wf, &[n, np]).map_err(e)?;
                let b: Vec<f32> = if k == 0 { bias.iter().map(|&x| x as f32).collect() } else { vec![0.0; n] };
                write_num::<f32>(&ag, "bias", &b, &[n]).map_err(e)?;
                edges.extend([pre.to_string(), name.clone(), name, p.name.clone()]);
            }
            if p.output {
                let on = format!("{}_output", p.name);
                let og = nodes.create_group(&on).map_err(e)?;
                write_str(&og, "type", &["Output".to_string()], &[]).map_err(e)?;
                write_num::<i64>(&og, "shape", &[n as i64], &[1]).map_err(e)?;
                edges.extend([p.name.clone(), on]);
            }
        }
        let k = edges.len() / 2;
        write_str(&g, "edges", &edges, &[k, 2]).map_err(e)?;
        Ok(())
    })();
    let closed = h5.close().map_err(|e| e.to_string());
    match res.and(closed) {
        Ok(()) => std::fs::rename(&partial, path).map_err(|e| {
            let _ = std::fs::remove_file(&partial);
            fail(format!("cannot write: {e}"))
        }),
        Err(msg) => {
            let _ = std::fs::remove_file(&partial);
            Err(fail(msg))
        }
    }
}

/// A string dataset (fixed-length UTF-8, which `nir.read` accepts).
fn write_str(g: &rust_hdf5::H5Group, name: &str, v: &[String], shape: &[usize]) -> rust_hdf5::Result<()> {
    use rust_hdf5::format::messages::datatype::DatatypeMessage as Dt;
    let w = v.iter().map(|s| s.len()).max().unwrap_or(1).max(1);
    let mut bytes = vec![0u8; w * v.len().max(1)];
    for (i, s) in v.iter().enumerate() {
        bytes[i * w..i * w + s.len()].copy_from_slice(s.as_bytes());
    }
    let shape = if v.is_empty() { vec![0, 2] } else { shape.to_vec() };
    let ds = g.new_dataset::<u8>().datatype(Dt::fixed_string_utf8(w as u32)).shape(&shape).create(name)?;
    if !v.is_empty() {
        ds.write_raw_bytes(&bytes)?;
    }
    Ok(())
}

/// A numeric dataset, gzip-compressed when it has at least one dimension.
fn write_num<T: rust_hdf5::H5Type + Copy>(
    g: &rust_hdf5::H5Group,
    name: &str,
    v: &[T],
    shape: &[usize],
) -> rust_hdf5::Result<()> {
    let mut b = g.new_dataset::<T>().shape(shape);
    if !shape.is_empty() && !v.is_empty() {
        b = b.chunk(shape).deflate(4);
    }
    b.create(name)?.write_raw(v)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(names: Vec<(&str, Entry)>, inputs: Vec<usize>, outputs: Vec<usize>) -> Entry {
        Entry::Graph { names: names.into_iter().map(|(k, e)| (k.to_string(), e)).collect(), inputs, outputs }
    }

    #[test]
    fn edge_names_resolve_into_nested_graphs() {
        // Graphs "a" (holding x) and "a.b" (holding c, one Input 3, one Output 4).
        let names: BTreeMap<String, Entry> = [
            ("a".to_string(), graph(vec![("x", Entry::Node(1))], vec![], vec![])),
            ("a.b".to_string(), graph(vec![("c", Entry::Node(2))], vec![3], vec![4])),
            ("n".to_string(), Entry::Node(0)),
        ]
        .into_iter()
        .collect();
        assert_eq!(resolve(&names, "n", true), Ok(0));
        assert_eq!(resolve(&names, "a.x", true), Ok(1));
        // "a.b.c" first tries "a" (no "b.c" there), then "a.b".
        assert_eq!(resolve(&names, "a.b.c", false), Ok(2));
        assert_eq!((resolve(&names, "a.b", true), resolve(&names, "a.b", false)), (Ok(3), Ok(4)));
        let e = resolve(&names, "a", true).unwrap_err();
        assert!(e.contains("which has no Input node") && e.contains("\"a.<node>\""), "{e}");
        let e = resolve(&names, "a.y", true).unwrap_err();
        assert!(
            e.contains("names \"y\", which is not a node (the nodes here: x) inside the nested graph \"a\""),
            "{e}"
        );
        let e = resolve(&names, "z", true).unwrap_err();
        assert!(e.contains("(the nodes here: a, a.b, n)"), "{e}");
    }
}
