//! The validated network IR and the validation that produces it.
//!
//! Guarantees of a [`Network`] (every later stage relies on them and does
//! not re-check):
//! - population names are unique and tool-safe; sizes are 1..=2^24;
//!   global neuron ids are `offset + index`, populations in file order;
//! - every parameter array has exactly one value per neuron and every value
//!   is inside its fixed-point range (θ in 1..=2^(P-1)-1, b, v_min, v_init in
//!   P bits, λ in 0..P, k_syn in 0..A, weights in W bits);
//! - every projection references existing populations, never targets an input
//!   population, and its indices and shapes match the population sizes;
//! - for every neuron, the sum of its positive incoming weights and the sum of
//!   its negative incoming weights both fit the accumulator width, so no
//!   order of delivery can overflow it.
//!
//! [`Network::from_doc`] is a short driver; the checks, one per section of
//! the document, are in `check`, and the per-neuron parameters are described
//! once each in `params`.

mod check;
mod params;

use crate::doc::*;
use crate::path::Path;
use check::Checker;
use thiserror::Error;

/// Largest population size accepted (keeps every global id well inside u32).
pub const MAX_POPULATION_SIZE: i64 = 1 << 24;

/// Bit widths of the arithmetic, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedPoint {
    /// W.
    pub weight_bits: u32,
    /// P.
    pub potential_bits: u32,
    /// Accumulator width.
    pub accumulator_bits: u32,
}

fn signed_range(bits: u32) -> (i64, i64) {
    (-(1i64 << (bits - 1)), (1i64 << (bits - 1)) - 1)
}

impl FixedPoint {
    /// Inclusive range of a weight.
    pub fn weight_range(&self) -> (i64, i64) {
        signed_range(self.weight_bits)
    }
    /// Inclusive range of a potential (and of bias, v_min, v_init).
    pub fn potential_range(&self) -> (i64, i64) {
        signed_range(self.potential_bits)
    }
    /// Inclusive range of the dendritic accumulator.
    pub fn accumulator_range(&self) -> (i64, i64) {
        signed_range(self.accumulator_bits)
    }
    /// Inclusive range of a threshold.
    pub fn threshold_range(&self) -> (i64, i64) {
        (1, self.potential_range().1)
    }
}

/// Neuron parameters of a computed population, validated and defaulted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeuronParams {
    /// θ.
    pub threshold: PerNeuron<i32>,
    /// b.
    pub bias: PerNeuron<i32>,
    /// λ, `None` = no leak.
    pub leak: PerNeuron<Option<u32>>,
    /// Reset mode.
    pub reset: PerNeuron<Reset>,
    /// Lower clamp.
    pub v_min: PerNeuron<i32>,
    /// Initial potential.
    pub v_init: PerNeuron<i32>,
    /// k_syn of a current-based population; `None`: the input goes
    /// straight into the potential.
    pub syn_shift: Option<PerNeuron<u32>>,
}

impl NeuronParams {
    /// Whether the population keeps a synaptic current.
    pub fn is_current_based(&self) -> bool {
        self.syn_shift.is_some()
    }
    /// k_syn of neuron `i`, if the population is current-based.
    pub fn syn(&self, i: usize) -> Option<u32> {
        self.syn_shift.as_ref().map(|s| s.get(i))
    }
}

/// A validated population.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Population {
    name: String,
    size: u32,
    offset: u32,
    output: bool,
    params: Option<NeuronParams>,
}

impl Population {
    /// Unique name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Number of neurons.
    pub fn size(&self) -> u32 {
        self.size
    }
    /// Global id of neuron 0 of this population.
    pub fn offset(&self) -> u32 {
        self.offset
    }
    /// Global ids of this population.
    pub fn ids(&self) -> std::ops::Range<u32> {
        self.offset..self.offset + self.size
    }
    /// Whether this is a readout population.
    pub fn is_output(&self) -> bool {
        self.output
    }
    /// Whether this is an input (stimulus-driven) population.
    pub fn is_input(&self) -> bool {
        self.params.is_none()
    }
    /// Neuron parameters; `None` for input populations.
    pub fn params(&self) -> Option<&NeuronParams> {
        self.params.as_ref()
    }
}

/// Index of a population in [`Network::populations`].
pub type PopId = usize;

/// The synapses of a projection, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connection {
    /// Row-major `pre.size × post.size` matrix; 0 = no synapse.
    Dense(Vec<i32>),
    /// `(pre index, post index, weight)`, in file order; repeats add up.
    Sparse(Vec<(u32, u32, i32)>),
    /// Weight of pre i → post i.
    OneToOne(PerNeuron<i32>),
}

/// A validated projection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Projection {
    /// Presynaptic population.
    pub pre: PopId,
    /// Postsynaptic population (never an input population).
    pub post: PopId,
    /// The synapses.
    pub conn: Connection,
}

/// A validated network (see the module docs for its guarantees).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Network {
    name: Option<String>,
    fixed: FixedPoint,
    populations: Vec<Population>,
    projections: Vec<Projection>,
    neurons: u32,
}

/// Summary figures of a network (what `spikeforge check` prints).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    /// All neurons, inputs included.
    pub neurons: u64,
    /// Input (stimulus-driven) neurons.
    pub input_neurons: u64,
    /// Synapses with a non-zero weight.
    pub synapses: u64,
    /// Largest number of incoming synapses of one neuron.
    pub max_fan_in: u64,
    /// Largest number of outgoing synapses of one neuron.
    pub max_fan_out: u64,
    /// Largest |accumulator| one step can reach (max over neurons of the
    /// larger of the positive and negative incoming weight sums).
    pub accumulator_bound: i64,
    /// Signed bits needed for `accumulator_bound`.
    pub accumulator_bits_needed: u32,
}

/// Something wrong in a network document. Displayed messages are complete
/// sentences without location; the location is the [`Issue`]'s path.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[allow(missing_docs)]
pub enum Problem {
    #[error("unsupported format version {found}")]
    FormatVersion { found: u32 },
    #[error("{field} = {value} is outside {min}..={max}")]
    BitWidth { field: &'static str, value: u32, min: u32, max: u32 },
    #[error("population name `{name}` is already used by populations[{first}]")]
    DuplicateName { name: String, first: usize },
    #[error("population name `{name}` is not allowed")]
    BadName { name: String },
    #[error("population size {size} is outside 1..={MAX_POPULATION_SIZE}")]
    BadSize { size: i64 },
    #[error("input population `{pop}` has a `{field}`, but input neurons have no neuron parameters")]
    InputWithParam { pop: String, field: &'static str },
    #[error("neuron population `{pop}` has no `threshold`")]
    MissingThreshold { pop: String },
    #[error("`{field}` has {len} values but population `{pop}` has {size} neurons")]
    ArrayLength { field: &'static str, pop: String, len: usize, size: u32 },
    #[error("{what} {value} is outside {min}..={max}{more}")]
    OutOfRange { what: String, value: i64, min: i64, max: i64, more: String, fix: &'static str },
    #[error("unknown population `{name}`")]
    UnknownPopulation { name: String, known: Vec<String> },
    #[error("projection targets input population `{name}`; input neurons only fire from the stimulus")]
    IntoInput { name: String },
    #[error("a {kind} projection needs `{field}`")]
    MissingField { kind: &'static str, field: &'static str },
    #[error("`{field}` does not belong in a {kind} projection")]
    ExtraField { kind: &'static str, field: &'static str },
    #[error("dense matrix has {rows} rows but pre population `{pre}` has {size} neurons")]
    DenseRows { rows: usize, pre: String, size: u32 },
    #[error("dense matrix row {row} has {cols} columns but post population `{post}` has {size} neurons")]
    DenseCols { row: usize, cols: usize, post: String, size: u32 },
    #[error("{which} index {index} is out of range for population `{pop}` of size {size}")]
    SparseIndex { which: &'static str, index: i64, pop: String, size: u32 },
    #[error(
        "one_to_one projection needs equal sizes, but `{pre}` has {pre_size} and `{post}` has {post_size} neurons"
    )]
    OneToOneSize { pre: String, pre_size: u32, post: String, post_size: u32 },
    #[error(
        "neuron {neuron} can accumulate {sum} in one step, outside the {bits}-bit accumulator range {min}..={max}"
    )]
    AccumulatorOverflow { neuron: String, sum: i64, bits: u32, min: i64, max: i64, needed: u32 },
    #[error("the network has {total} neurons; at most {max} are supported")]
    TooManyNeurons { total: i64, max: i64 },
}

impl Problem {
    /// How to fix it, in one line.
    pub fn help(&self) -> Option<String> {
        Some(match self {
            Problem::FormatVersion { .. } => format!("this spikeforge reads `format = {FORMAT_VERSION}`"),
            Problem::BitWidth { field, min, max, .. } => format!("set fixed_point.{field} to a value in {min}..={max}"),
            Problem::DuplicateName { .. } => "give every population its own name".into(),
            Problem::BadName { .. } => {
                "names start with a letter or `_` and contain only letters, digits, `_`, `-` and `.`".into()
            }
            Problem::BadSize { .. } => "a population has at least one neuron".into(),
            Problem::InputWithParam { field, .. } => {
                format!("remove `{field}`, or make the population `kind = \"neuron\"`")
            }
            Problem::MissingThreshold { .. } => "add e.g. `threshold = 64` (one value, or one per neuron)".into(),
            Problem::ArrayLength { size, .. } => format!("give a single value, or exactly {size} values"),
            Problem::OutOfRange { fix, .. } => (*fix).to_string(),
            Problem::UnknownPopulation { known, .. } => format!("known populations: {}", known.join(", ")),
            Problem::IntoInput { .. } => "make the target a `kind = \"neuron\"` population".into(),
            Problem::MissingField { field, .. } => format!("add `{field}`, or change `kind`"),
            Problem::ExtraField { field, .. } => format!("remove `{field}`, or change `kind`"),
            Problem::DenseRows { size, .. } => format!("give one row per presynaptic neuron ({size} rows)"),
            Problem::DenseCols { size, .. } => format!("give one column per postsynaptic neuron ({size} columns)"),
            Problem::SparseIndex { size, .. } => format!("indices run from 0 to {}", size - 1),
            Problem::OneToOneSize { .. } => {
                "use a dense or sparse projection between populations of different sizes".into()
            }
            Problem::AccumulatorOverflow { needed, .. } => format!(
                "set fixed_point.accumulator_bits = {needed} (at most 32), or reduce this neuron's fan-in or weights"
            ),
            Problem::TooManyNeurons { .. } => "split the network or reduce population sizes".into(),
        })
    }
}

/// A problem at a place in the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// Where.
    pub path: Path,
    /// What.
    pub problem: Problem,
}

/// Validation failed; every issue found is listed, in document order.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("the network has {} problem(s); the first: {}: {}", .0.len(), .0[0].path, .0[0].problem)]
pub struct Invalid(pub Vec<Issue>);

impl Network {
    /// Validates a document. On failure, every problem found is returned.
    ///
    /// Sections are checked in document order, each checker carrying on after
    /// a problem (`network/check.rs` says what each guarantees to the next).
    /// The accumulator bound needs a network whose every part is valid, so it
    /// is checked last and only then.
    pub fn from_doc(doc: &NetworkDoc) -> Result<Network, Invalid> {
        let mut ck = Checker::default();
        ck.check_format(doc.format);
        let fixed = ck.check_fixed_point(&doc.fixed_point);
        let pops = ck.check_populations(&doc.populations, &fixed);
        let projections = ck.check_projections(&doc.projections, &pops, &fixed);
        let net = Network { name: doc.name.clone(), fixed, populations: pops.list, projections, neurons: pops.neurons };
        if ck.is_clean() {
            ck.check_accumulator_bound(&net);
        }
        ck.finish(net)
    }

    /// Per global neuron: (sum of positive incoming weights, sum of negative ones).
    fn incoming_sums(&self) -> (Vec<i64>, Vec<i64>) {
        let n = self.neurons as usize;
        let (mut pos, mut neg) = (vec![0i64; n], vec![0i64; n]);
        self.for_each_synapse(|_, post, w| {
            if w > 0 {
                pos[post as usize] += w as i64;
            } else {
                neg[post as usize] += w as i64;
            }
        });
        (pos, neg)
    }

    /// Calls `f(pre, post, weight)` with global ids for every synapse with a
    /// non-zero weight, projection by projection in file order.
    pub fn for_each_synapse(&self, mut f: impl FnMut(u32, u32, i32)) {
        for pr in &self.projections {
            let (po, qo) = (self.populations[pr.pre].offset, self.populations[pr.post].offset);
            let qs = self.populations[pr.post].size as usize;
            match &pr.conn {
                Connection::Dense(w) => {
                    for (k, &x) in w.iter().enumerate() {
                        if x != 0 {
                            f(po + (k / qs) as u32, qo + (k % qs) as u32, x);
                        }
                    }
                }
                Connection::Sparse(s) => {
                    for &(a, b, x) in s {
                        if x != 0 {
                            f(po + a, qo + b, x);
                        }
                    }
                }
                Connection::OneToOne(w) => {
                    for i in 0..qs {
                        let x = w.get(i);
                        if x != 0 {
                            f(po + i as u32, qo + i as u32, x);
                        }
                    }
                }
            }
        }
    }

    /// Summary figures.
    pub fn stats(&self) -> Stats {
        let n = self.neurons as usize;
        let (mut fin, mut fout) = (vec![0u64; n], vec![0u64; n]);
        let mut synapses = 0;
        self.for_each_synapse(|a, b, _| {
            fout[a as usize] += 1;
            fin[b as usize] += 1;
            synapses += 1;
        });
        let (pos, neg) = self.incoming_sums();
        let bound = pos.iter().zip(&neg).map(|(p, q)| (*p).max(-*q)).max().unwrap_or(0);
        Stats {
            neurons: n as u64,
            input_neurons: self.populations.iter().filter(|p| p.is_input()).map(|p| p.size as u64).sum(),
            synapses,
            max_fan_in: fin.iter().copied().max().unwrap_or(0),
            max_fan_out: fout.iter().copied().max().unwrap_or(0),
            accumulator_bound: bound,
            accumulator_bits_needed: bits_for(bound).max(bits_for(-bound)),
        }
    }

    /// Converts back to the file form (defaults written out explicitly).
    pub fn to_doc(&self) -> NetworkDoc {
        let w = |p: &PerNeuron<i32>| Some(p.map(|x| x as i64));
        NetworkDoc {
            format: FORMAT_VERSION,
            name: self.name.clone(),
            fixed_point: FixedPointDoc {
                weight_bits: self.fixed.weight_bits,
                potential_bits: self.fixed.potential_bits,
                accumulator_bits: self.fixed.accumulator_bits,
            },
            populations: self
                .populations
                .iter()
                .map(|p| {
                    let np = p.params.as_ref();
                    PopulationDoc {
                        name: p.name.clone(),
                        size: p.size as i64,
                        kind: if p.is_input() { PopulationKind::Input } else { PopulationKind::Neuron },
                        output: p.output,
                        threshold: np.and_then(|n| w(&n.threshold)),
                        bias: np.and_then(|n| w(&n.bias)),
                        leak_shift: np.map(|n| n.leak.map(|l| l.map_or(Leak::None, |s| Leak::Shift(s as i64)))),
                        reset: np.map(|n| n.reset.clone()),
                        v_min: np.and_then(|n| w(&n.v_min)),
                        v_init: np.and_then(|n| w(&n.v_init)),
                        syn_shift: np.and_then(|n| n.syn_shift.as_ref().map(|s| s.map(|x| x as i64))),
                    }
                })
                .collect(),
            projections: self
                .projections
                .iter()
                .map(|pr| {
                    let (pre, post) = (self.populations[pr.pre].name.clone(), self.populations[pr.post].name.clone());
                    let qs = self.populations[pr.post].size as usize;
                    let mut d = ProjectionDoc {
                        pre,
                        post,
                        kind: ProjectionKind::Dense,
                        weights: None,
                        synapses: None,
                        weight: None,
                    };
                    match &pr.conn {
                        Connection::Dense(m) => {
                            d.weights = Some(m.chunks(qs).map(|r| r.iter().map(|&x| x as i64).collect()).collect());
                        }
                        Connection::Sparse(s) => {
                            d.kind = ProjectionKind::Sparse;
                            d.synapses = Some(s.iter().map(|&(a, b, x)| [a as i64, b as i64, x as i64]).collect());
                        }
                        Connection::OneToOne(x) => {
                            d.kind = ProjectionKind::OneToOne;
                            d.weight = w(x);
                        }
                    }
                    d
                })
                .collect(),
        }
    }

    /// Optional name.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
    /// Bit widths.
    pub fn fixed_point(&self) -> FixedPoint {
        self.fixed
    }
    /// Populations in file order.
    pub fn populations(&self) -> &[Population] {
        &self.populations
    }
    /// Projections in file order.
    pub fn projections(&self) -> &[Projection] {
        &self.projections
    }
    /// Total number of neurons, inputs included.
    pub fn neuron_count(&self) -> u32 {
        self.neurons
    }
    /// Population by name.
    pub fn population(&self, name: &str) -> Option<(PopId, &Population)> {
        self.populations.iter().enumerate().find(|(_, p)| p.name == name)
    }
    /// The population and local index of a global neuron id.
    pub fn locate(&self, id: u32) -> Option<(PopId, u32)> {
        let i = self.populations.partition_point(|p| p.offset + p.size <= id);
        let p = self.populations.get(i)?;
        (id >= p.offset).then(|| (i, id - p.offset))
    }
    /// `population[index]` of a global neuron id, for messages.
    pub fn neuron_name(&self, id: u32) -> String {
        match self.locate(id) {
            Some((p, i)) => format!("{}[{}]", self.populations[p].name, i),
            None => format!("#{id}"),
        }
    }
}

/// Signed bits needed to hold `v`.
pub fn bits_for(v: i64) -> u32 {
    if v >= 0 {
        65 - v.leading_zeros()
    } else {
        65 - (!v).leading_zeros()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits() {
        assert_eq!(bits_for(0), 1);
        assert_eq!(bits_for(127), 8);
        assert_eq!(bits_for(128), 9);
        assert_eq!(bits_for(-128), 8);
        assert_eq!(bits_for(-129), 9);
    }
}
