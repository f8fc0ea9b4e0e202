//! The per-neuron parameters of a population, described once each.
//!
//! [`PARAMS`] is the one list validation walks: the check that input
//! populations carry no parameters and the check of a neuron population's
//! values both come from it. Adding an integer parameter is one [`Rule::Int`]
//! entry here, plus its fields in `PopulationDoc` and [`NeuronParams`] (and
//! the lines the compiler then asks for: `NeuronParams::unset`, `to_doc`).

use super::{FixedPoint, NeuronParams};
use crate::doc::{PerNeuron, PopulationDoc, Reset};

/// Help line for a value outside the potential width.
const POTENTIAL_FIX: &str =
    "the value must fit in fixed_point.potential_bits (signed); raise potential_bits or rescale";

/// One per-neuron parameter of a neuron population.
pub(super) struct ParamSpec {
    /// Its key in the document, also the name used in messages.
    pub(super) field: &'static str,
    /// How it is read, checked, defaulted and stored.
    pub(super) rule: Rule,
}

/// How a parameter is read, checked, defaulted and stored.
pub(super) enum Rule {
    /// An integer per neuron, stored as `i32`.
    Int {
        /// The value as written, if given.
        value: fn(&PopulationDoc) -> Option<&PerNeuron<i64>>,
        /// Inclusive range allowed for the widths in use.
        range: fn(&FixedPoint) -> (i64, i64),
        /// Value when absent; `None` means required, reported as a missing
        /// threshold (the only required parameter so far).
        default: Option<fn(&FixedPoint) -> i64>,
        /// Help line when a value is out of range.
        fix: &'static str,
        /// Where the validated value goes.
        slot: fn(&mut NeuronParams) -> &mut PerNeuron<i32>,
    },
    /// `leak_shift`: a shift in `range`, or "none" (also the default).
    Leak {
        /// Inclusive range of a shift for the widths in use.
        range: fn(&FixedPoint) -> (i64, i64),
        /// Help line when a shift is out of range.
        fix: &'static str,
    },
    /// `reset`: every value is valid; absent means subtract.
    Reset,
    /// `syn_shift`: a shift in `range`; absent means no synaptic current.
    Syn {
        /// Inclusive range of a shift for the widths in use.
        range: fn(&FixedPoint) -> (i64, i64),
        /// Help line when a shift is out of range.
        fix: &'static str,
    },
}

impl ParamSpec {
    /// Whether the population document gives this parameter at all.
    pub(super) fn given(&self, p: &PopulationDoc) -> bool {
        match &self.rule {
            Rule::Int { value, .. } => value(p).is_some(),
            Rule::Leak { .. } => p.leak_shift.is_some(),
            Rule::Reset => p.reset.is_some(),
            Rule::Syn { .. } => p.syn_shift.is_some(),
        }
    }

    /// Integer parameters are checked before the others; with [`PARAMS`] in
    /// document order this is the order messages have always come in.
    pub(super) fn checked_first(&self) -> bool {
        matches!(self.rule, Rule::Int { .. })
    }
}

/// Every per-neuron parameter, in document (and `PopulationDoc`) order.
pub(super) const PARAMS: &[ParamSpec] = &[
    ParamSpec {
        field: "threshold",
        rule: Rule::Int {
            value: |p| p.threshold.as_ref(),
            range: FixedPoint::threshold_range,
            default: None,
            fix: "a threshold is positive and fits in fixed_point.potential_bits - 1 bits",
            slot: |n| &mut n.threshold,
        },
    },
    ParamSpec {
        field: "bias",
        rule: Rule::Int {
            value: |p| p.bias.as_ref(),
            range: FixedPoint::potential_range,
            default: Some(|_| 0),
            fix: POTENTIAL_FIX,
            slot: |n| &mut n.bias,
        },
    },
    ParamSpec {
        field: "leak_shift",
        rule: Rule::Leak {
            range: |f| (0, f.potential_bits as i64 - 1),
            fix: "a leak shift is 0..potential_bits-1, or \"none\" for no leak",
        },
    },
    ParamSpec { field: "reset", rule: Rule::Reset },
    ParamSpec {
        field: "v_min",
        rule: Rule::Int {
            value: |p| p.v_min.as_ref(),
            range: FixedPoint::potential_range,
            // The lowest potential: no clamp.
            default: Some(|f| f.potential_range().0),
            fix: POTENTIAL_FIX,
            slot: |n| &mut n.v_min,
        },
    },
    ParamSpec {
        field: "v_init",
        rule: Rule::Int {
            value: |p| p.v_init.as_ref(),
            range: FixedPoint::potential_range,
            default: Some(|_| 0),
            fix: POTENTIAL_FIX,
            slot: |n| &mut n.v_init,
        },
    },
    ParamSpec {
        field: "syn_shift",
        rule: Rule::Syn {
            range: |f| (0, f.accumulator_bits as i64 - 1),
            fix: "a synaptic current decay shift is 0..accumulator_bits-1; remove `syn_shift` for a neuron without a synaptic current",
        },
    },
];

impl NeuronParams {
    /// Placeholder that checking overwrites field by field. A field left at
    /// its placeholder belongs to a rejected network, so its value is never
    /// seen.
    pub(super) fn unset() -> NeuronParams {
        NeuronParams {
            threshold: PerNeuron::Scalar(1),
            bias: PerNeuron::Scalar(0),
            leak: PerNeuron::Scalar(None),
            reset: PerNeuron::Scalar(Reset::Subtract),
            v_min: PerNeuron::Scalar(0),
            v_init: PerNeuron::Scalar(0),
            syn_shift: None,
        }
    }
}
