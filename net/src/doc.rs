//! The network file format, exactly as written in JSON or TOML (`format = 1`).
//!
//! These types are the *unvalidated* form: integers are `i64` so that an
//! out-of-range value parses and is then reported by validation with its
//! location, instead of failing inside serde with a vaguer message.
//! [`crate::Network::from_doc`] turns a [`NetworkDoc`] into the validated IR;
//! [`crate::Network::to_doc`] goes back. The JSON Schema printed by
//! `spikeforge schema` is derived from these types.

use schemars::JsonSchema;
use serde::de::{self, Deserializer, IntoDeserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;
use std::marker::PhantomData;

/// The only file format version this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// A whole network file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "spikeforge network", description = "A spiking neural network for spikeforge (docs/format.md).")]
pub struct NetworkDoc {
    /// File format version; must be 1.
    pub format: u32,
    /// Free-form name of the network, used in reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Fixed-point settings shared by every population.
    #[serde(default)]
    pub fixed_point: FixedPointDoc,
    /// Populations in order; this order defines global neuron numbering and
    /// the order of rows in spike files.
    pub populations: Vec<PopulationDoc>,
    /// Projections (groups of synapses) between populations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub projections: Vec<ProjectionDoc>,
}

/// Bit widths of the integer arithmetic (docs/format.md, "Semantics").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct FixedPointDoc {
    /// W: signed weight width in bits (1..=16). Default 8.
    pub weight_bits: u32,
    /// P: signed membrane potential width in bits (2..=32). Default 16.
    pub potential_bits: u32,
    /// Signed width of the per-step dendritic accumulator (max(W,P)..=32).
    /// Default 24. Validation rejects networks whose fan-in could overflow it.
    pub accumulator_bits: u32,
}

impl Default for FixedPointDoc {
    fn default() -> Self {
        FixedPointDoc { weight_bits: 8, potential_bits: 16, accumulator_bits: 24 }
    }
}

/// What a population is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PopulationKind {
    /// Computed neurons (docs/format.md, "Semantics").
    #[default]
    Neuron,
    /// Source neurons whose spikes come from a stimulus file.
    Input,
}

/// One population of identical-kind neurons.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PopulationDoc {
    /// Unique name: letters, digits, `_`, `-`, `.`; starts with a letter or `_`.
    pub name: String,
    /// Number of neurons (at least 1).
    pub size: i64,
    /// `neuron` (default) or `input`.
    #[serde(default, skip_serializing_if = "is_default")]
    pub kind: PopulationKind,
    /// Whether the population's spikes are a result of the network (readout).
    #[serde(default, skip_serializing_if = "is_default")]
    pub output: bool,
    /// θ: firing threshold, 1..=2^(P-1)-1. Required for neuron populations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<PerNeuron<i64>>,
    /// b: bias added every step (P-bit signed). Default 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bias: Option<PerNeuron<i64>>,
    /// λ: leak shift 0..=P-1, or "none" for no leak (IF). Default "none".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leak_shift: Option<PerNeuron<Leak>>,
    /// Reset after a spike: "subtract" (default, soft reset) or "zero".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reset: Option<PerNeuron<Reset>>,
    /// Lower clamp of the potential (P-bit signed). Default -2^(P-1) (no clamp).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub v_min: Option<PerNeuron<i64>>,
    /// Initial potential (P-bit signed). Default 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub v_init: Option<PerNeuron<i64>>,
    /// k_syn: makes the population current-based. Each neuron keeps a
    /// synaptic current i (accumulator-width signed) that decays by
    /// `i >> syn_shift` each step and takes the step's input; the potential
    /// integrates i instead of the input (docs/format.md). 0..=A-1.
    /// Absent: the input goes straight into the potential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub syn_shift: Option<PerNeuron<i64>>,
}

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

impl PopulationDoc {
    /// An input population.
    pub fn input(name: &str, size: i64) -> PopulationDoc {
        PopulationDoc {
            name: name.into(),
            size,
            kind: PopulationKind::Input,
            output: false,
            threshold: None,
            bias: None,
            leak_shift: None,
            reset: None,
            v_min: None,
            v_init: None,
            syn_shift: None,
        }
    }

    /// A neuron population with one threshold and every other parameter at its default.
    pub fn neurons(name: &str, size: i64, threshold: i64) -> PopulationDoc {
        PopulationDoc {
            kind: PopulationKind::Neuron,
            threshold: Some(PerNeuron::Scalar(threshold)),
            ..PopulationDoc::input(name, size)
        }
    }
}

/// How a projection's synapses are given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProjectionKind {
    /// `weights`: a matrix with one row per presynaptic neuron and one column
    /// per postsynaptic neuron; 0 means "no synapse".
    Dense,
    /// `synapses`: a list of `[pre, post, weight]` triples; repeats add up.
    Sparse,
    /// `weight`: pre neuron i connects to post neuron i; a scalar or one per pair.
    OneToOne,
}

/// A group of synapses from one population to another.
///
/// Which of `weights`, `synapses` and `weight` must be present depends on
/// `kind`; validation reports a missing or superfluous one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectionDoc {
    /// Presynaptic population name.
    pub pre: String,
    /// Postsynaptic population name (must not be an input population).
    pub post: String,
    /// How the synapses are given.
    pub kind: ProjectionKind,
    /// Dense matrix `[pre][post]` (kind = "dense").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights: Option<Vec<Vec<i64>>>,
    /// Sparse list of `[pre, post, weight]` (kind = "sparse"); a row with
    /// another number of elements is an error, never truncated.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "synapse_rows")]
    pub synapses: Option<Vec<[i64; 3]>>,
    /// One-to-one weight, scalar or per pair (kind = "one_to_one").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<PerNeuron<i64>>,
}

impl ProjectionDoc {
    /// A sparse projection from `[pre, post, weight]` triples.
    pub fn sparse(pre: &str, post: &str, synapses: Vec<[i64; 3]>) -> ProjectionDoc {
        ProjectionDoc {
            pre: pre.into(),
            post: post.into(),
            kind: ProjectionKind::Sparse,
            weights: None,
            synapses: Some(synapses),
            weight: None,
        }
    }
}

/// Leak of a neuron: `v -= v >> shift` every step, or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Leak {
    /// No leak: an integrate-and-fire neuron.
    None,
    /// Arithmetic right shift amount λ.
    Shift(i64),
}

/// What happens to the potential after a spike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reset {
    /// `v -= θ` (soft reset; the one ANN-to-SNN conversion needs).
    #[default]
    Subtract,
    /// `v = 0`.
    Zero,
}

/// A neuron parameter given once for the whole population or once per neuron.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PerNeuron<T> {
    /// Same value for every neuron.
    Scalar(T),
    /// One value per neuron, in index order.
    Array(Vec<T>),
}

impl<T: Copy> PerNeuron<T> {
    /// The value for neuron `i` (the array must be long enough; validation checks).
    pub fn get(&self, i: usize) -> T {
        match self {
            PerNeuron::Scalar(v) => *v,
            PerNeuron::Array(a) => a[i],
        }
    }

    /// Applies `f` to every value, keeping the shape.
    pub fn map<U>(&self, mut f: impl FnMut(T) -> U) -> PerNeuron<U> {
        match self {
            PerNeuron::Scalar(v) => PerNeuron::Scalar(f(*v)),
            PerNeuron::Array(a) => PerNeuron::Array(a.iter().map(|v| f(*v)).collect()),
        }
    }
}

// ---- serde for the hand-shaped types -------------------------------------
//
// `#[serde(untagged)]` would buffer the value and report "data did not match
// any variant"; these visitors say what was expected and keep serde_json's
// and toml's positions exact.

impl<T: Serialize> Serialize for PerNeuron<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            PerNeuron::Scalar(v) => v.serialize(s),
            PerNeuron::Array(a) => a.serialize(s),
        }
    }
}

struct PerNeuronVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for PerNeuronVisitor<T> {
    type Value = PerNeuron<T>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a single value for all neurons or an array with one value per neuron")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        T::deserialize(v.into_deserializer()).map(PerNeuron::Scalar)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        T::deserialize(v.into_deserializer()).map(PerNeuron::Scalar)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        T::deserialize(v.into_deserializer()).map(PerNeuron::Scalar)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Err(E::invalid_type(de::Unexpected::Float(v), &"an integer"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(v) = seq.next_element()? {
            out.push(v);
        }
        Ok(PerNeuron::Array(out))
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for PerNeuron<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(PerNeuronVisitor(PhantomData))
    }
}

impl<T: JsonSchema> JsonSchema for PerNeuron<T> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        format!("PerNeuron_{}", T::schema_name()).into()
    }
    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let one = g.subschema_for::<T>();
        schemars::json_schema!({
            "description": "One value for every neuron, or an array with one value per neuron.",
            "anyOf": [one, {"type": "array", "items": one}]
        })
    }
}

/// Start of the message for a synapse row that is not three elements long.
pub const SYNAPSE_SHAPE: &str = "a synapse is [source, target, weight]";

/// Reads `synapses`. serde's `[i64; 3]` reads three elements and then
/// either ignores the rest (toml) or fails with "trailing characters"
/// (serde_json, which reads as if the JSON were invalid); here every row
/// is counted and a row of any other length is an error naming its length.
fn synapse_rows<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<[i64; 3]>>, D::Error> {
    struct Rows;
    impl<'de> Visitor<'de> for Rows {
        type Value = Vec<[i64; 3]>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list of synapses [source, target, weight]")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 20));
            while let Some(Row(r)) = seq.next_element()? {
                out.push(r);
            }
            Ok(out)
        }
    }
    struct Row([i64; 3]);
    impl<'de> Deserialize<'de> for Row {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_seq(RowVisitor)
        }
    }
    struct RowVisitor;
    impl<'de> Visitor<'de> for RowVisitor {
        type Value = Row;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a synapse [source, target, weight]")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Row, A::Error> {
            let mut row = [0i64; 3];
            let mut n = 0usize;
            while n < 3 {
                match seq.next_element()? {
                    Some(v) => row[n] = v,
                    None => break,
                }
                n += 1;
            }
            if n == 3 {
                while seq.next_element::<de::IgnoredAny>()?.is_some() {
                    n += 1;
                }
            }
            if n != 3 {
                let s = if n == 1 { "" } else { "s" };
                return Err(de::Error::custom(format!("{SYNAPSE_SHAPE}; this row has {n} element{s}")));
            }
            Ok(Row(row))
        }
    }
    d.deserialize_seq(Rows).map(Some)
}

impl Serialize for Leak {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Leak::None => s.serialize_str("none"),
            Leak::Shift(n) => s.serialize_i64(*n),
        }
    }
}

struct LeakVisitor;

impl Visitor<'_> for LeakVisitor {
    type Value = Leak;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a leak shift (integer 0..P-1) or \"none\"")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Leak, E> {
        Ok(Leak::Shift(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Leak, E> {
        Ok(Leak::Shift(i64::try_from(v).unwrap_or(i64::MAX)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Leak, E> {
        if v == "none" {
            Ok(Leak::None)
        } else {
            Err(E::invalid_value(de::Unexpected::Str(v), &self))
        }
    }
}

impl<'de> Deserialize<'de> for Leak {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LeakVisitor)
    }
}

impl JsonSchema for Leak {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Leak".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "Leak shift λ (v -= v >> λ each step), or \"none\" for no leak.",
            "anyOf": [{"type": "integer", "minimum": 0, "maximum": 31}, {"const": "none"}]
        })
    }
}
