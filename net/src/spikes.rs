//! Stimulus and spike files: CSV with the header `step,population,index`.
//!
//! Rows are sorted by step, then by population in network order, then by
//! index, with no repeats; so a file has exactly one spelling of a spike set
//! and two runs can be compared with `diff`. A stimulus names input
//! populations only; a spike file (what a run produced) names neuron
//! populations only. The parser is hand-written rather than the `csv` crate
//! because every error must point at the exact field (line and column), and
//! the format has no quoting.

use crate::diag::{Diag, FileErrors, SourceFile, MAX_DIAGS_PER_FILE};
use crate::network::{Network, PopId, Population};
use std::fmt::Write as _;
use std::ops::Range;
use std::sync::Arc;

/// The header line every spike CSV starts with.
pub const HEADER: &str = "step,population,index";

/// Most problems reported for one file; the rest are counted.
const MAX_DIAGS: usize = MAX_DIAGS_PER_FILE;

/// What a spike CSV is for; decides which populations it may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpikeFileKind {
    /// Spikes of input populations, fed to a run.
    Stimulus,
    /// Spikes of neuron populations, produced by a run.
    Spikes,
}

/// One spike: neuron `neuron` (global id) fired in step `step`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Spike {
    /// Time step (0-based).
    pub step: u32,
    /// Global neuron id.
    pub neuron: u32,
}

/// A spike train of a network: spikes sorted by (step, neuron), no
/// repeats. What a stimulus file holds, what every model of the network
/// (golden, the architectural model, the simulators, a board) produces,
/// and what a spike file holds; two runs agree exactly when their trains
/// are equal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpikeTrain(Vec<Spike>);

impl SpikeTrain {
    /// An empty train.
    pub fn new() -> SpikeTrain {
        SpikeTrain(Vec::new())
    }

    /// From `(step, neuron)` pairs in any order; repeats are merged.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (u32, u32)>) -> SpikeTrain {
        let mut v: Vec<Spike> = pairs.into_iter().map(|(step, neuron)| Spike { step, neuron }).collect();
        v.sort_unstable();
        v.dedup();
        SpikeTrain(v)
    }

    /// Appends the spikes of `step` (neurons in any order; repeats are merged).
    ///
    /// # Panics
    /// If `step` is before the last step in the train (a bug in the caller).
    pub fn push_step(&mut self, step: u32, neurons: &[u32]) {
        assert!(self.0.last().is_none_or(|l| l.step < step), "steps are appended in order");
        let start = self.0.len();
        self.0.extend(neurons.iter().map(|&neuron| Spike { step, neuron }));
        self.0[start..].sort_unstable();
        let mut k = start;
        for i in start..self.0.len() {
            if k == start || self.0[k - 1] != self.0[i] {
                self.0[k] = self.0[i];
                k += 1;
            }
        }
        self.0.truncate(k);
    }

    /// The spikes, sorted.
    pub fn as_slice(&self) -> &[Spike] {
        &self.0
    }

    /// Iterates over the spikes in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Spike> {
        self.0.iter()
    }

    /// `(step, neuron)` pairs in order.
    pub fn pairs(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.0.iter().map(|s| (s.step, s.neuron))
    }

    /// Number of spikes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no spikes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The neurons that fire in `step`, ascending.
    pub fn at(&self, step: u32) -> impl Iterator<Item = u32> + '_ {
        let lo = self.0.partition_point(|s| s.step < step);
        let hi = self.0.partition_point(|s| s.step <= step);
        self.0[lo..hi].iter().map(|s| s.neuron)
    }

    /// One past the last step with a spike (0 if empty; saturates at `u32::MAX`).
    pub fn step_span(&self) -> u32 {
        self.0.last().map_or(0, |s| s.step.saturating_add(1))
    }

    /// Spikes per neuron, for neurons `0..n` (ids at or above `n` are not counted).
    pub fn counts(&self, n: usize) -> Vec<u64> {
        let mut c = vec![0u64; n];
        for s in &self.0 {
            if let Some(x) = c.get_mut(s.neuron as usize) {
                *x += 1;
            }
        }
        c
    }

    /// Removes every spike.
    pub fn clear(&mut self) {
        self.0.clear();
    }
}

impl<'a> IntoIterator for &'a SpikeTrain {
    type Item = &'a Spike;
    type IntoIter = std::slice::Iter<'a, Spike>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// A stimulus indexed by step, for fast per-step access. Only steps with
/// spikes are stored, so memory follows the number of spikes, not the
/// largest step (a single spike at step 4,000,000,000 is 12 bytes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stimulus {
    /// Steps that have spikes, ascending.
    steps: Vec<u32>,
    /// `ids[starts[k]..starts[k + 1]]` spike at `steps[k]`.
    starts: Vec<u32>,
    ids: Vec<u32>,
}

impl Stimulus {
    /// Indexes a spike train by step.
    pub fn from_train(train: &SpikeTrain) -> Stimulus {
        let mut st = Stimulus { steps: Vec::new(), starts: vec![0], ids: Vec::with_capacity(train.len()) };
        for &Spike { step: s, neuron: n } in train {
            if st.steps.last() != Some(&s) {
                if !st.steps.is_empty() {
                    st.starts.push(st.ids.len() as u32);
                }
                st.steps.push(s);
            }
            st.ids.push(n);
        }
        if !st.steps.is_empty() {
            st.starts.push(st.ids.len() as u32);
        }
        st
    }

    /// Input neurons (global ids) that spike at `step`.
    pub fn at(&self, step: u32) -> &[u32] {
        match self.steps.binary_search(&step) {
            Ok(k) => &self.ids[self.starts[k] as usize..self.starts[k + 1] as usize],
            Err(_) => &[],
        }
    }

    /// One past the last step with a spike (saturates at `u32::MAX`).
    pub fn step_span(&self) -> u32 {
        self.steps.last().map_or(0, |s| s.saturating_add(1))
    }

    /// Number of spikes.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no spikes.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// Reads a spike CSV file (bounded: see [`crate::input`]).
pub fn load_spikes(net: &Network, path: &std::path::Path, kind: SpikeFileKind) -> Result<SpikeTrain, FileErrors> {
    let text = crate::input::read_text(path, what_file(kind))?;
    parse_spikes(net, &path.display().to_string(), text, kind)
}

/// Reads the stimulus of a run of `steps` steps: like [`load_spikes`], and
/// every spike at a step the run does not reach is an error at its row.
pub fn load_stimulus(net: &Network, path: &std::path::Path, steps: u32) -> Result<SpikeTrain, FileErrors> {
    let text = crate::input::read_text(path, what_file(SpikeFileKind::Stimulus))?;
    parse_stimulus(net, &path.display().to_string(), text, steps)
}

fn what_file(kind: SpikeFileKind) -> &'static str {
    match kind {
        SpikeFileKind::Stimulus => "stimulus",
        SpikeFileKind::Spikes => "spike file",
    }
}

/// Parses spike CSV text; `file` is only used in messages.
pub fn parse_spikes(net: &Network, file: &str, text: String, kind: SpikeFileKind) -> Result<SpikeTrain, FileErrors> {
    parse(net, file, text, kind, None)
}

/// Parses the stimulus of a run of `steps` steps (see [`load_stimulus`]).
pub fn parse_stimulus(net: &Network, file: &str, text: String, steps: u32) -> Result<SpikeTrain, FileErrors> {
    parse(net, file, text, SpikeFileKind::Stimulus, Some(steps))
}

/// A field for a message: user text, cut if long.
fn shown(s: &str) -> String {
    match s.char_indices().nth(40) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_string(),
    }
}

/// Names for a help line, at most 20 of them.
fn name_list(names: &[&str]) -> String {
    let mut s = names.iter().take(20).copied().collect::<Vec<_>>().join(", ");
    if names.len() > 20 {
        s.push_str(&format!(" and {} more", names.len() - 20));
    }
    s
}

/// Collects at most [`MAX_DIAGS`] diagnostics and counts the rest.
struct Found {
    diags: Vec<Diag>,
    more: usize,
}

impl Found {
    /// Keeps `d()` if there is room; returns its index if kept.
    fn push(&mut self, d: impl FnOnce() -> Diag) -> Option<usize> {
        if self.diags.len() < MAX_DIAGS {
            self.diags.push(d());
            Some(self.diags.len() - 1)
        } else {
            self.more += 1;
            None
        }
    }
}

/// The parser: header, then one checked row at a time, then the summary of
/// rows past the run. Stops at a wrong header (every row would be wrong).
fn parse(
    net: &Network,
    file: &str,
    text: String,
    kind: SpikeFileKind,
    steps: Option<u32>,
) -> Result<SpikeTrain, FileErrors> {
    let src = SourceFile::new(file, Arc::new(text));
    let rules = Rules::new(net, &src, kind);
    let mut state =
        ParseState { found: Found { diags: Vec::new(), more: 0 }, out: Vec::new(), prev: None, beyond: None };
    let mut offset = 0usize;
    let mut header_seen = false;
    for (lineno, raw) in src.text().split_inclusive('\n').enumerate() {
        let line_start = offset;
        offset += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        if line.trim().is_empty() {
            continue;
        }
        let fields = split_fields(line, line_start);
        let whole = line_start..line_start + line.len();
        if !header_seen {
            header_seen = true;
            if !rules.check_header(&mut state.found, line, &fields, whole) {
                break;
            }
            continue;
        }
        let Some(row) = rules.row(&mut state.found, &fields, &whole) else { continue };
        if !state.in_order(&rules, row.key, whole, lineno + 1) {
            continue;
        }
        if state.past_run(&rules, &row, steps) {
            continue;
        }
        state.out.push(Spike { step: row.key.0, neuron: row.neuron });
    }
    state.finish(&src, file, header_seen, steps)
}

/// A field of a row: its trimmed text and its byte range in the file.
type Field<'t> = (&'t str, Range<usize>);

/// Splits a line at commas. Each field is trimmed; its range points at the
/// trimmed text and is at least one byte wide, so an empty field still has
/// a place to underline.
fn split_fields(line: &str, line_start: usize) -> Vec<Field<'_>> {
    let mut fields = Vec::with_capacity(3);
    let mut pos = line_start;
    for f in line.split(',') {
        let lead = f.len() - f.trim_start().len();
        let t = f.trim();
        fields.push((t, pos + lead..pos + lead + t.len().max(1)));
        pos += f.len() + 1;
    }
    fields
}

/// (step, population id, index): the sort key of a row.
type RowKey = (u32, PopId, u32);

/// A row whose three fields are valid for the network and the file's kind.
struct Row {
    key: RowKey,
    /// Global id of the spiking neuron.
    neuron: u32,
    /// Where the step field is (the past-the-run problem points there).
    step_span: Range<usize>,
}

/// What every row is checked against; fixed for the whole file.
struct Rules<'a> {
    net: &'a Network,
    src: &'a Arc<SourceFile>,
    kind: SpikeFileKind,
    /// The populations the file may name, as a help line lists them.
    allowed: String,
    /// "input" or "neuron": the populations the file may name.
    what: &'static str,
}

impl<'a> Rules<'a> {
    /// The rules of a `kind` file for `net`; messages point into `src`.
    fn new(net: &'a Network, src: &'a Arc<SourceFile>, kind: SpikeFileKind) -> Rules<'a> {
        let allowed: Vec<&str> = net
            .populations()
            .iter()
            .filter(|p| p.is_input() == (kind == SpikeFileKind::Stimulus))
            .map(|p| p.name())
            .collect();
        let what = match kind {
            SpikeFileKind::Stimulus => "input",
            SpikeFileKind::Spikes => "neuron",
        };
        Rules { net, src, kind, allowed: name_list(&allowed), what }
    }

    /// A problem at `span` of the file, with a help line.
    fn err(&self, span: Range<usize>, msg: String, help: String) -> Diag {
        Diag::at(self.src, Some(span), msg).with_help(help)
    }

    /// Whether the first non-blank line is exactly the header (fields
    /// trimmed); if not, reports it at the whole line.
    fn check_header(&self, found: &mut Found, line: &str, fields: &[Field<'_>], whole: Range<usize>) -> bool {
        let names: Vec<&str> = fields.iter().map(|f| f.0).collect();
        if names == ["step", "population", "index"] {
            return true;
        }
        found.push(|| {
            self.err(
                whole,
                format!("the first line must be the header `{HEADER}`, found `{}`", shown(line.trim())),
                format!("start the file with the line `{HEADER}`"),
            )
        });
        false
    }

    /// The row if it has three valid fields; otherwise reports the first
    /// bad one (field count, then step, population, index) and returns `None`.
    fn row(&self, found: &mut Found, fields: &[Field<'_>], whole: &Range<usize>) -> Option<Row> {
        if fields.len() != 3 {
            found.push(|| {
                self.err(
                    whole.clone(),
                    format!("expected 3 fields (step,population,index), found {}", fields.len()),
                    "each row is `step,population,index`, e.g. `0,in,3`".into(),
                )
            });
            return None;
        }
        let (sf, pf, inf) = (&fields[0], &fields[1], &fields[2]);
        let step = self.step(found, sf)?;
        let (pid, pop) = self.population(found, pf)?;
        let index = self.index(found, inf, pop)?;
        Some(Row { key: (step, pid, index), neuron: pop.offset() + index, step_span: sf.1.clone() })
    }

    /// The step field as a step a run can reach (below `u32::MAX`), or a
    /// reported problem.
    fn step(&self, found: &mut Found, sf: &Field<'_>) -> Option<u32> {
        match sf.0.parse::<u32>() {
            // A run has at most u32::MAX steps, numbered 0..u32::MAX.
            Ok(s) if s < u32::MAX => Some(s),
            Ok(_) => {
                found.push(|| {
                    self.err(
                        sf.1.clone(),
                        format!("step {} is too large: steps are 0..={}", sf.0, u32::MAX - 1),
                        "steps count from 0; a run has at most 4294967295 steps".into(),
                    )
                });
                None
            }
            Err(e) => {
                let too_large = matches!(e.kind(), std::num::IntErrorKind::PosOverflow);
                found.push(|| {
                    self.err(
                        sf.1.clone(),
                        if too_large {
                            format!("step {} is too large: steps are 0..={}", shown(sf.0), u32::MAX - 1)
                        } else {
                            format!("step `{}` is not a non-negative integer", shown(sf.0))
                        },
                        if too_large {
                            "steps count from 0; a run has at most 4294967295 steps".into()
                        } else {
                            "steps count from 0".into()
                        },
                    )
                });
                None
            }
        }
    }

    /// The population field as a population of the network of the kind the
    /// file may name, or a reported problem.
    fn population(&self, found: &mut Found, pf: &Field<'_>) -> Option<(PopId, &'a Population)> {
        let what = self.what;
        let allowed = &self.allowed;
        let Some((pid, pop)) = self.net.population(pf.0) else {
            found.push(|| {
                self.err(
                    pf.1.clone(),
                    format!("unknown population `{}`", shown(pf.0)),
                    format!("{what} populations of this network: {allowed}"),
                )
            });
            return None;
        };
        if pop.is_input() != (self.kind == SpikeFileKind::Stimulus) {
            let msg = match self.kind {
                SpikeFileKind::Stimulus => format!(
                    "population `{}` is not an input population; a stimulus gives spikes of input populations only",
                    pf.0
                ),
                SpikeFileKind::Spikes => format!(
                    "population `{}` is an input population; a spike file lists spikes of neuron populations only",
                    pf.0
                ),
            };
            found.push(|| self.err(pf.1.clone(), msg, format!("{what} populations of this network: {allowed}")));
            return None;
        }
        Some((pid, pop))
    }

    /// The index field as an index inside `pop`, or a reported problem.
    fn index(&self, found: &mut Found, inf: &Field<'_>, pop: &Population) -> Option<u32> {
        let parsed = match inf.0.parse::<u32>() {
            // An index too large for u32 is out of range like any other.
            Err(e) if matches!(e.kind(), std::num::IntErrorKind::PosOverflow) => Ok(None),
            r => r.map(Some),
        };
        match parsed {
            Ok(Some(i)) if i < pop.size() => Some(i),
            Ok(_) => {
                found.push(|| {
                    self.err(
                        inf.1.clone(),
                        format!(
                            "index {} is out of range for population `{}` of size {}",
                            shown(inf.0),
                            pop.name(),
                            pop.size()
                        ),
                        format!("indices run from 0 to {}", pop.size() - 1),
                    )
                });
                None
            }
            Err(_) => {
                found.push(|| {
                    self.err(
                        inf.1.clone(),
                        format!("index `{}` is not a non-negative integer", shown(inf.0)),
                        "neuron indices count from 0 within their population".into(),
                    )
                });
                None
            }
        }
    }
}

/// Rows past the run, reported as one problem at the first of them.
struct PastRun {
    /// The first such row's diagnostic, if there was room to keep it.
    diag: Option<usize>,
    first: u32,
    count: usize,
    last: u32,
}

/// What the parse has gathered so far, row by row.
struct ParseState {
    found: Found,
    out: Vec<Spike>,
    /// The key and line number of the last row that passed the ordering checks.
    prev: Option<(RowKey, usize)>,
    beyond: Option<PastRun>,
}

impl ParseState {
    /// Whether the row `key` on line `line` comes strictly after the last
    /// accepted row; if so it becomes the last one, if not a duplicate or
    /// out-of-order problem is reported at the whole row.
    fn in_order(&mut self, rules: &Rules<'_>, key: RowKey, whole: Range<usize>, line: usize) -> bool {
        if let Some((pk, pl)) = self.prev {
            if key == pk {
                self.found.push(|| {
                    rules.err(whole, format!("duplicate spike (same as line {pl})"), "list each spike once".into())
                });
                return false;
            }
            if key < pk {
                self.found.push(|| {
                    rules.err(
                        whole,
                        format!("rows are not sorted: this row belongs before line {pl}"),
                        "sort rows by step, then population in network order, then index".into(),
                    )
                });
                return false;
            }
        }
        self.prev = Some((key, line));
        true
    }

    /// Whether the row is at a step a run of `steps` steps does not reach.
    /// The first such row reserves a diagnostic (worded in [`Self::finish`],
    /// once the last such step is known); later ones are only counted.
    fn past_run(&mut self, rules: &Rules<'_>, row: &Row, steps: Option<u32>) -> bool {
        let step = row.key.0;
        if steps.is_none_or(|n| step < n) {
            return false;
        }
        match &mut self.beyond {
            None => {
                let diag = self.found.push(|| rules.err(row.step_span.clone(), String::new(), String::new()));
                self.beyond = Some(PastRun { diag, first: step, count: 1, last: step });
            }
            Some(b) => {
                b.count += 1;
                b.last = b.last.max(step);
            }
        }
        true
    }

    /// The train if no problem was found, else every problem kept (the
    /// past-the-run one worded, an empty file reported) and the count of
    /// the rest.
    fn finish(
        mut self,
        src: &Arc<SourceFile>,
        file: &str,
        header_seen: bool,
        steps: Option<u32>,
    ) -> Result<SpikeTrain, FileErrors> {
        if let (Some(PastRun { diag: Some(at), first, count, last }), Some(steps)) = (self.beyond, steps) {
            let d = &mut self.found.diags[at];
            let rows = if count > 1 { format!(" ({count} rows from this one on)") } else { String::new() };
            let run = match steps {
                0 => "a run of 0 steps".to_string(),
                n => format!("{n} steps: 0..={}", n - 1),
            };
            d.message = format!(
                "step {first} is past the end of the run ({run}); the stimulus has spikes up to step {last}{rows}"
            );
            d.help = Some(format!("use --steps {} or more, or remove the rows from step {steps} on", last as u64 + 1));
        }
        if !header_seen {
            self.found.push(|| {
                Diag::at(src, Some(0..0), "the file is empty")
                    .with_help(format!("a spike file starts with the header line `{HEADER}`"))
            });
        }
        if self.found.diags.is_empty() && self.found.more == 0 {
            Ok(SpikeTrain(self.out))
        } else {
            Err(FileErrors::with_more(file, self.found.diags, self.found.more))
        }
    }
}

/// Writes spikes as CSV (header included).
pub fn spikes_to_csv(net: &Network, spikes: &SpikeTrain) -> String {
    let mut s = String::with_capacity(16 * spikes.len() + 32);
    s.push_str(HEADER);
    s.push('\n');
    for &Spike { step, neuron: id } in spikes {
        let (p, i) = net.locate(id).expect("spike of a neuron outside the network");
        let _ = writeln!(s, "{step},{},{i}", net.populations()[p].name());
    }
    s
}

/// Header of a potentials file.
pub const POTENTIALS_HEADER: &str = "population,index,v";

/// Writes the potentials of every neuron population as CSV;
/// `v` is indexed by global neuron id.
pub fn potentials_to_csv(net: &Network, v: &[i32]) -> String {
    let mut s = String::new();
    s.push_str(POTENTIALS_HEADER);
    s.push('\n');
    for p in net.populations().iter().filter(|p| !p.is_input()) {
        for (i, id) in p.ids().enumerate() {
            let _ = writeln!(s, "{},{i},{}", p.name(), v[id as usize]);
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stimulus_stores_only_steps_with_spikes() {
        let list = SpikeTrain::from_pairs([(0, 1), (0, 2), (7, 0), (4_000_000_000, 3)]);
        let st = Stimulus::from_train(&list);
        assert_eq!((st.at(0), st.at(1), st.at(7), st.at(4_000_000_000)), (&[1, 2][..], &[][..], &[0][..], &[3][..]));
        assert_eq!((st.step_span(), st.len()), (4_000_000_001, 4));
        // Pairs in any order become a sorted train without repeats.
        let train = SpikeTrain::from_pairs([(5, 1), (2, 0), (5, 0), (5, 1)]);
        assert_eq!(train.pairs().collect::<Vec<_>>(), [(2, 0), (5, 0), (5, 1)]);
        assert_eq!((train.at(5).collect::<Vec<_>>(), train.counts(2)), (vec![0, 1], vec![2, 1]));
        let st = Stimulus::from_train(&train);
        assert_eq!((st.at(2), st.at(5), st.step_span()), (&[0][..], &[0, 1][..], 6));
        assert_eq!(Stimulus::from_train(&SpikeTrain::default()).step_span(), 0);
        assert_eq!(SpikeTrain::from_pairs([(u32::MAX, 0)]).step_span(), u32::MAX);
    }
}
