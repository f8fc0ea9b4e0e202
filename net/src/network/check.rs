//! The checkers behind [`Network::from_doc`], one per section of the document.
//!
//! Every checker reports to one [`Checker`] and carries on after a problem,
//! so a file gets all its problems in one run. Issues are pushed in the order
//! the document is read, and that order is kept: reports sort issues by
//! place, and issues at the same place (or with no place, for a network
//! built in memory) come out in push order.

use super::params::{ParamSpec, Rule, PARAMS};
use super::{
    bits_for, Connection, FixedPoint, Invalid, Issue, Network, NeuronParams, PopId, Population, Problem, Projection,
    MAX_POPULATION_SIZE,
};
use crate::doc::*;
use crate::path::Path;
use std::collections::HashMap;

/// Help line for a weight outside the weight width.
const WEIGHT_FIX: &str =
    "weights must fit in fixed_point.weight_bits (signed); raise weight_bits or rescale the weights";

/// Largest total of neurons accepted (global ids stay well inside u32).
const MAX_NEURONS: i64 = u32::MAX as i64 / 2;

/// Tool-safe population name: a letter or `_`, then letters, digits, `_`, `-`, `.`.
fn valid_name(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(ch) if ch.is_ascii_alphabetic() || ch == '_')
        && c.all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '_' | '-' | '.'))
}

/// What [`Checker::check_populations`] hands to the later sections.
pub(super) struct Populations<'a> {
    /// One per document population, in file order, each with a size in
    /// 1..=2^24 (1 in place of a bad size) and its offset; neuron populations
    /// have parameters (placeholders where a value was bad).
    pub(super) list: Vec<Population>,
    /// Index of each population with a valid name, first of its name only.
    by_name: HashMap<&'a str, PopId>,
    /// Every name as written, valid or not, for "known populations" help.
    known: Vec<String>,
    /// Total neurons, capped at [`MAX_NEURONS`].
    pub(super) neurons: u32,
}

/// Collects the issues of one document, in the order they are found.
#[derive(Default)]
pub(super) struct Checker {
    issues: Vec<Issue>,
}

impl Checker {
    fn push(&mut self, path: Path, problem: Problem) {
        self.issues.push(Issue { path, problem });
    }

    /// Whether nothing has been reported yet.
    pub(super) fn is_clean(&self) -> bool {
        self.issues.is_empty()
    }

    /// The network if nothing was reported, else every issue.
    pub(super) fn finish(self, net: Network) -> Result<Network, Invalid> {
        if self.issues.is_empty() {
            Ok(net)
        } else {
            Err(Invalid(self.issues))
        }
    }

    /// Reports a format version other than [`FORMAT_VERSION`]. Nothing later
    /// depends on it: the rest is checked as version 1.
    pub(super) fn check_format(&mut self, format: u32) {
        if format != FORMAT_VERSION {
            self.push(Path::root().key("format"), Problem::FormatVersion { found: format });
        }
    }

    /// Checks the three widths (the accumulator at least as wide as valid
    /// weight and potential widths). Returns the widths to check everything
    /// else against: each valid width, or 8/16/32 in place of a bad one, so
    /// the later range checks still run and report.
    pub(super) fn check_fixed_point(&mut self, fp: &FixedPointDoc) -> FixedPoint {
        let fpp = Path::root().key("fixed_point");
        let mut width = |field: &'static str, value: u32, min: u32, max: u32, fallback: u32| {
            if (min..=max).contains(&value) {
                (true, value)
            } else {
                self.push(fpp.key(field), Problem::BitWidth { field, value, min, max });
                (false, fallback)
            }
        };
        let (w_ok, weight_bits) = width("weight_bits", fp.weight_bits, 1, 16, 8);
        let (p_ok, potential_bits) = width("potential_bits", fp.potential_bits, 2, 32, 16);
        let a_min = if w_ok && p_ok { fp.weight_bits.max(fp.potential_bits) } else { 2 };
        let (_, accumulator_bits) = width("accumulator_bits", fp.accumulator_bits, a_min, 32, 32);
        FixedPoint { weight_bits, potential_bits, accumulator_bits }
    }

    /// Checks every population: name, size, parameters, and the total count.
    /// Guarantees to the projections: every population is in the list with a
    /// usable size and offset, and names resolve only to valid, first-of-
    /// their-name populations.
    pub(super) fn check_populations<'a>(&mut self, docs: &'a [PopulationDoc], fixed: &FixedPoint) -> Populations<'a> {
        let mut by_name = HashMap::new();
        let mut list = Vec::with_capacity(docs.len());
        let mut offset: i64 = 0;
        for (i, p) in docs.iter().enumerate() {
            let pp = Path::root().key("populations").index(i);
            self.check_name(&pp, i, &p.name, &mut by_name);
            let size = self.check_size(&pp, p.size);
            let params = match p.kind {
                PopulationKind::Input => {
                    self.check_no_params(&pp, p);
                    None
                }
                PopulationKind::Neuron => Some(self.check_neuron_params(&pp, p, size, fixed)),
            };
            list.push(Population { name: p.name.clone(), size, offset: offset as u32, output: p.output, params });
            offset += size as i64;
        }
        if offset > MAX_NEURONS {
            self.push(Path::root().key("populations"), Problem::TooManyNeurons { total: offset, max: MAX_NEURONS });
        }
        let known = docs.iter().map(|p| p.name.clone()).collect();
        Populations { list, by_name, known, neurons: offset.min(MAX_NEURONS) as u32 }
    }

    /// Reports a bad or repeated name; records a good new one in `by_name`.
    fn check_name<'a>(&mut self, pp: &Path, i: usize, name: &'a str, by_name: &mut HashMap<&'a str, PopId>) {
        if !valid_name(name) {
            self.push(pp.key("name"), Problem::BadName { name: name.into() });
        } else if let Some(&first) = by_name.get(name) {
            self.push(pp.key("name"), Problem::DuplicateName { name: name.into(), first });
        } else {
            by_name.insert(name, i);
        }
    }

    /// The size if in 1..=2^24; otherwise reports it and returns 1, so the
    /// population still gets ids and its arrays are checked against 1.
    fn check_size(&mut self, pp: &Path, size: i64) -> u32 {
        if (1..=MAX_POPULATION_SIZE).contains(&size) {
            size as u32
        } else {
            self.push(pp.key("size"), Problem::BadSize { size });
            1
        }
    }

    /// Reports every neuron parameter given to an input population.
    fn check_no_params(&mut self, pp: &Path, p: &PopulationDoc) {
        for spec in PARAMS.iter().filter(|s| s.given(p)) {
            self.push(pp.key(spec.field), Problem::InputWithParam { pop: p.name.clone(), field: spec.field });
        }
    }

    /// Checks and defaults every parameter of [`PARAMS`]. The result is
    /// complete and in range if nothing was reported; otherwise some fields
    /// are placeholders (the network is rejected anyway).
    fn check_neuron_params(&mut self, pp: &Path, p: &PopulationDoc, size: u32, fixed: &FixedPoint) -> NeuronParams {
        let mut np = NeuronParams::unset();
        let order = PARAMS.iter().filter(|s| s.checked_first()).chain(PARAMS.iter().filter(|s| !s.checked_first()));
        for spec in order {
            self.check_param(pp, spec, p, size, fixed, &mut np);
        }
        np
    }

    /// Checks one parameter of a neuron population and stores it in `np`.
    fn check_param(
        &mut self,
        pp: &Path,
        spec: &ParamSpec,
        p: &PopulationDoc,
        size: u32,
        fixed: &FixedPoint,
        np: &mut NeuronParams,
    ) {
        let field = spec.field;
        match &spec.rule {
            Rule::Int { value, range, default, fix, slot } => {
                let checked = match (value(p), default) {
                    (None, Some(default)) => Some(PerNeuron::Scalar(default(fixed) as i32)),
                    (None, None) => {
                        self.push(pp.clone(), Problem::MissingThreshold { pop: p.name.clone() });
                        None
                    }
                    (Some(v), _) => self.per_neuron(pp.key(field), field, &p.name, size, v, range(fixed), fix),
                };
                if let Some(v) = checked {
                    *slot(np) = v;
                }
            }
            Rule::Leak { range, fix } => match &p.leak_shift {
                None => np.leak = PerNeuron::Scalar(None),
                Some(l) => {
                    // Reuse the integer checker with "none" mapped to 0 (always valid).
                    let as_int = l.map(|x| match x {
                        Leak::None => 0,
                        Leak::Shift(s) => s,
                    });
                    if self.per_neuron(pp.key(field), field, &p.name, size, &as_int, range(fixed), fix).is_some() {
                        np.leak = l.map(|x| match x {
                            Leak::None => None,
                            Leak::Shift(s) => Some(s as u32),
                        });
                    }
                }
            },
            Rule::Syn { range, fix } => {
                if let Some(k) = &p.syn_shift {
                    if let Some(v) = self.per_neuron(pp.key(field), field, &p.name, size, k, range(fixed), fix) {
                        np.syn_shift = Some(v.map(|x| x as u32));
                    }
                }
            }
            Rule::Reset => match &p.reset {
                None => np.reset = PerNeuron::Scalar(Reset::Subtract),
                Some(PerNeuron::Array(a)) if a.len() != size as usize => {
                    let problem = Problem::ArrayLength { field, pop: p.name.clone(), len: a.len(), size };
                    self.push(pp.key(field), problem);
                }
                Some(r) => np.reset = r.clone(),
            },
        }
    }

    /// Checks a per-neuron integer parameter; reports the first bad value of
    /// an array and how many more there are (a 1M-entry array with a bad
    /// scale should give one message, not a million).
    #[allow(clippy::too_many_arguments)]
    fn per_neuron(
        &mut self,
        path: Path,
        field: &'static str,
        pop: &str,
        size: u32,
        v: &PerNeuron<i64>,
        range: (i64, i64),
        fix: &'static str,
    ) -> Option<PerNeuron<i32>> {
        if let PerNeuron::Array(a) = v {
            if a.len() != size as usize {
                self.push(path, Problem::ArrayLength { field, pop: pop.into(), len: a.len(), size });
                return None;
            }
        }
        let (min, max) = range;
        let bad: Vec<usize> = match v {
            PerNeuron::Scalar(x) => (!(min..=max).contains(x)).then_some(0).into_iter().collect(),
            PerNeuron::Array(a) => {
                a.iter().enumerate().filter(|(_, x)| !(min..=max).contains(*x)).map(|(i, _)| i).collect()
            }
        };
        if let Some(&first) = bad.first() {
            let (p, value) = match v {
                PerNeuron::Scalar(x) => (path, *x),
                PerNeuron::Array(a) => (path.index(first), a[first]),
            };
            self.out_of_range(p, field, value, range, bad.len(), "array", fix);
            return None;
        }
        Some(v.map(|x| x as i32))
    }

    /// Reports the first of `count` out-of-range values of one array, matrix
    /// or list, saying how many more it holds.
    #[allow(clippy::too_many_arguments)]
    fn out_of_range(
        &mut self,
        path: Path,
        what: &str,
        value: i64,
        (min, max): (i64, i64),
        count: usize,
        container: &str,
        fix: &'static str,
    ) {
        let more = if count > 1 { format!(" (and {} more in this {container})", count - 1) } else { String::new() };
        self.push(path, Problem::OutOfRange { what: what.to_string(), value, min, max, more, fix });
    }

    /// Checks every projection. Returns those whose references, kind fields,
    /// shapes and weights are all valid (complete if nothing was reported):
    /// indices inside the populations, weights inside the weight width.
    pub(super) fn check_projections(
        &mut self,
        docs: &[ProjectionDoc],
        pops: &Populations,
        fixed: &FixedPoint,
    ) -> Vec<Projection> {
        let wr = fixed.weight_range();
        let mut projections = Vec::with_capacity(docs.len());
        for (j, pr) in docs.iter().enumerate() {
            let jp = Path::root().key("projections").index(j);
            if let Some(p) = self.check_projection(&jp, pr, pops, wr) {
                projections.push(p);
            }
        }
        projections
    }

    /// Checks one projection: its two references, then the fields its kind
    /// needs, then (only if both references resolve) its synapses.
    fn check_projection(
        &mut self,
        jp: &Path,
        pr: &ProjectionDoc,
        pops: &Populations,
        wr: (i64, i64),
    ) -> Option<Projection> {
        let pre = self.lookup(jp, "pre", &pr.pre, pops);
        let post = self.lookup(jp, "post", &pr.post, pops);
        if let Some(post) = post {
            if pops.list[post].is_input() {
                self.push(jp.key("post"), Problem::IntoInput { name: pr.post.clone() });
            }
        }
        self.check_kind_fields(jp, pr);
        let (pre, post) = (pre?, post?);
        let (a, b) = (&pops.list[pre], &pops.list[post]);
        let conn = match pr.kind {
            ProjectionKind::Dense => self.check_dense(&jp.key("weights"), pr.weights.as_ref()?, a, b, wr)?,
            ProjectionKind::Sparse => self.check_sparse(&jp.key("synapses"), pr.synapses.as_ref()?, a, b, wr)?,
            ProjectionKind::OneToOne => self.check_one_to_one(jp, pr.weight.as_ref()?, a, b, wr)?,
        };
        Some(Projection { pre, post, conn })
    }

    /// The population a projection's `pre` or `post` names, or reports it.
    fn lookup(&mut self, jp: &Path, field: &'static str, name: &str, pops: &Populations) -> Option<PopId> {
        let found = pops.by_name.get(name).copied();
        if found.is_none() {
            self.push(jp.key(field), Problem::UnknownPopulation { name: name.into(), known: pops.known.clone() });
        }
        found
    }

    /// Reports the synapse field a kind needs but lacks, and those it has but
    /// does not use.
    fn check_kind_fields(&mut self, jp: &Path, pr: &ProjectionDoc) {
        let (kind, wanted) = match pr.kind {
            ProjectionKind::Dense => ("dense", "weights"),
            ProjectionKind::Sparse => ("sparse", "synapses"),
            ProjectionKind::OneToOne => ("one_to_one", "weight"),
        };
        for (field, present) in
            [("weights", pr.weights.is_some()), ("synapses", pr.synapses.is_some()), ("weight", pr.weight.is_some())]
        {
            if field == wanted && !present {
                self.push(jp.clone(), Problem::MissingField { kind, field });
            } else if field != wanted && present {
                self.push(jp.key(field), Problem::ExtraField { kind, field });
            }
        }
    }

    /// A dense matrix of `pre.size` rows of `post.size` weights in range.
    /// A shape error stops at the first bad row; weights are then not judged.
    fn check_dense(
        &mut self,
        wp: &Path,
        w: &[Vec<i64>],
        pre: &Population,
        post: &Population,
        wr: (i64, i64),
    ) -> Option<Connection> {
        let (ps, qs) = (pre.size, post.size);
        if w.len() != ps as usize {
            self.push(wp.clone(), Problem::DenseRows { rows: w.len(), pre: pre.name.clone(), size: ps });
            return None;
        }
        let mut flat = Vec::with_capacity(ps as usize * qs as usize);
        let mut bad = Vec::new();
        for (r, row) in w.iter().enumerate() {
            if row.len() != qs as usize {
                let problem = Problem::DenseCols { row: r, cols: row.len(), post: post.name.clone(), size: qs };
                self.push(wp.index(r), problem);
                return None;
            }
            for (c, &x) in row.iter().enumerate() {
                if !(wr.0..=wr.1).contains(&x) {
                    bad.push((r, c, x));
                }
                flat.push(x as i32);
            }
        }
        if let Some(&(r, c, x)) = bad.first() {
            self.out_of_range(wp.index(r).index(c), "weight", x, wr, bad.len(), "matrix", WEIGHT_FIX);
            return None;
        }
        Some(Connection::Dense(flat))
    }

    /// `[pre, post, weight]` triples with indices inside the populations and
    /// weights in range. An index error stops at the first bad triple;
    /// weights are then not judged.
    fn check_sparse(
        &mut self,
        sp: &Path,
        s: &[[i64; 3]],
        pre: &Population,
        post: &Population,
        wr: (i64, i64),
    ) -> Option<Connection> {
        let (ps, qs) = (pre.size, post.size);
        let mut out = Vec::with_capacity(s.len());
        let mut nbad_w = 0usize;
        let mut first_bad_w = None;
        for (k, &[a, b, w]) in s.iter().enumerate() {
            if !(0..ps as i64).contains(&a) {
                let problem = Problem::SparseIndex { which: "pre", index: a, pop: pre.name.clone(), size: ps };
                self.push(sp.index(k).index(0), problem);
                return None;
            }
            if !(0..qs as i64).contains(&b) {
                let problem = Problem::SparseIndex { which: "post", index: b, pop: post.name.clone(), size: qs };
                self.push(sp.index(k).index(1), problem);
                return None;
            }
            if !(wr.0..=wr.1).contains(&w) {
                nbad_w += 1;
                first_bad_w.get_or_insert((k, w));
            }
            out.push((a as u32, b as u32, w as i32));
        }
        if let Some((k, w)) = first_bad_w {
            self.out_of_range(sp.index(k).index(2), "weight", w, wr, nbad_w, "list", WEIGHT_FIX);
            return None;
        }
        Some(Connection::Sparse(out))
    }

    /// Equal population sizes and one weight (or one per pair) in range.
    fn check_one_to_one(
        &mut self,
        jp: &Path,
        w: &PerNeuron<i64>,
        pre: &Population,
        post: &Population,
        wr: (i64, i64),
    ) -> Option<Connection> {
        if pre.size != post.size {
            let problem = Problem::OneToOneSize {
                pre: pre.name.clone(),
                pre_size: pre.size,
                post: post.name.clone(),
                post_size: post.size,
            };
            self.push(jp.clone(), problem);
            return None;
        }
        let w = self.per_neuron(jp.key("weight"), "weight", &post.name, post.size, w, wr, WEIGHT_FIX)?;
        Some(Connection::OneToOne(w))
    }

    /// Reports, per population, the neuron with the worst accumulator bound
    /// if it exceeds the accumulator range. Run only on a network that passed
    /// every other check: it needs all projections and valid widths.
    pub(super) fn check_accumulator_bound(&mut self, net: &Network) {
        let (pos, neg) = net.incoming_sums();
        let (min, max) = net.fixed.accumulator_range();
        for (i, p) in net.populations.iter().enumerate() {
            let mut worst: Option<(u32, i64)> = None;
            for id in p.ids() {
                let (hi, lo) = (pos[id as usize], neg[id as usize]);
                let sum = if hi > max {
                    hi
                } else if lo < min {
                    lo
                } else {
                    continue;
                };
                if worst.is_none_or(|(_, w)| sum.abs() > w.abs()) {
                    worst = Some((id, sum));
                }
            }
            if let Some((id, sum)) = worst {
                self.push(
                    Path::root().key("populations").index(i).key("name"),
                    Problem::AccumulatorOverflow {
                        neuron: format!("{}[{}]", p.name, id - p.offset),
                        sum,
                        bits: net.fixed.accumulator_bits,
                        min,
                        max,
                        needed: bits_for(sum),
                    },
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(valid_name("in_1.a-b"));
        assert!(!valid_name("1a"));
        assert!(!valid_name(""));
        assert!(!valid_name("a,b"));
    }
}
