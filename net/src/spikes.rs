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
use crate::network::Network;
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

/// A spike set: `(step, global neuron id)`, sorted, no repeats.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpikeList(pub Vec<(u32, u32)>);

impl SpikeList {
    /// One past the last step with a spike (0 if empty; saturates at `u32::MAX`).
    pub fn step_span(&self) -> u32 {
        self.0.iter().map(|&(s, _)| s.saturating_add(1)).max().unwrap_or(0)
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
    /// Builds from a spike list (sorted by step if it is not already).
    pub fn from_list(list: &SpikeList) -> Stimulus {
        let mut spikes = std::borrow::Cow::Borrowed(&list.0);
        if !spikes.windows(2).all(|w| w[0].0 <= w[1].0) {
            spikes.to_mut().sort_by_key(|&(s, _)| s);
        }
        let mut st = Stimulus { steps: Vec::new(), starts: vec![0], ids: Vec::with_capacity(spikes.len()) };
        for &(s, n) in spikes.iter() {
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
pub fn load_spikes(net: &Network, path: &std::path::Path, kind: SpikeFileKind) -> Result<SpikeList, FileErrors> {
    let text = crate::input::read_text(path, what_file(kind))?;
    parse_spikes(net, &path.display().to_string(), text, kind)
}

/// Reads the stimulus of a run of `steps` steps: like [`load_spikes`], and
/// every spike at a step the run does not reach is an error at its row.
pub fn load_stimulus(net: &Network, path: &std::path::Path, steps: u32) -> Result<SpikeList, FileErrors> {
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
pub fn parse_spikes(net: &Network, file: &str, text: String, kind: SpikeFileKind) -> Result<SpikeList, FileErrors> {
    parse(net, file, text, kind, None)
}

/// Parses the stimulus of a run of `steps` steps (see [`load_stimulus`]).
pub fn parse_stimulus(net: &Network, file: &str, text: String, steps: u32) -> Result<SpikeList, FileErrors> {
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

fn parse(
    net: &Network,
    file: &str,
    text: String,
    kind: SpikeFileKind,
    steps: Option<u32>,
) -> Result<SpikeList, FileErrors> {
    let src = SourceFile::new(file, Arc::new(text));
    let text = src.text();
    let mut found = Found { diags: Vec::new(), more: 0 };
    let mut out = Vec::new();
    let err = |span: Range<usize>, msg: String, help: String| Diag::at(&src, Some(span), msg).with_help(help);
    let allowed: Vec<&str> = net
        .populations()
        .iter()
        .filter(|p| p.is_input() == (kind == SpikeFileKind::Stimulus))
        .map(|p| p.name())
        .collect();
    let allowed = name_list(&allowed);
    let what = match kind {
        SpikeFileKind::Stimulus => "input",
        SpikeFileKind::Spikes => "neuron",
    };

    let mut offset = 0usize;
    let mut header_seen = false;
    // (step, population id, index) of the previous row and its line number.
    let mut prev: Option<((u32, usize, u32), usize)> = None;
    // Rows past the run: the diagnostic of the first one (if kept), its
    // step, how many rows, the last step.
    let mut beyond: Option<(Option<usize>, u32, usize, u32)> = None;
    for (lineno, raw) in text.split_inclusive('\n').enumerate() {
        let line_start = offset;
        offset += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        if line.trim().is_empty() {
            continue;
        }
        // Fields with their byte ranges in the file.
        let mut fields: Vec<(&str, Range<usize>)> = Vec::with_capacity(3);
        let mut pos = line_start;
        for f in line.split(',') {
            let lead = f.len() - f.trim_start().len();
            let t = f.trim();
            fields.push((t, pos + lead..pos + lead + t.len().max(1)));
            pos += f.len() + 1;
        }
        let whole = line_start..line_start + line.len();
        if !header_seen {
            header_seen = true;
            let names: Vec<&str> = fields.iter().map(|f| f.0).collect();
            if names != ["step", "population", "index"] {
                found.push(|| {
                    err(
                        whole,
                        format!("the first line must be the header `{HEADER}`, found `{}`", shown(line.trim())),
                        format!("start the file with the line `{HEADER}`"),
                    )
                });
                break;
            }
            continue;
        }
        if fields.len() != 3 {
            found.push(|| {
                err(
                    whole,
                    format!("expected 3 fields (step,population,index), found {}", fields.len()),
                    "each row is `step,population,index`, e.g. `0,in,3`".into(),
                )
            });
            continue;
        }
        let (sf, pf, inf) = (&fields[0], &fields[1], &fields[2]);
        let step = match sf.0.parse::<u32>() {
            // A run has at most u32::MAX steps, numbered 0..u32::MAX.
            Ok(s) if s < u32::MAX => s,
            Ok(_) => {
                found.push(|| {
                    err(
                        sf.1.clone(),
                        format!("step {} is too large: steps are 0..={}", sf.0, u32::MAX - 1),
                        "steps count from 0; a run has at most 4294967295 steps".into(),
                    )
                });
                continue;
            }
            Err(e) => {
                let too_large = matches!(e.kind(), std::num::IntErrorKind::PosOverflow);
                found.push(|| {
                    err(
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
                continue;
            }
        };
        let Some((pid, pop)) = net.population(pf.0) else {
            found.push(|| {
                err(
                    pf.1.clone(),
                    format!("unknown population `{}`", shown(pf.0)),
                    format!("{what} populations of this network: {allowed}"),
                )
            });
            continue;
        };
        if pop.is_input() != (kind == SpikeFileKind::Stimulus) {
            let msg = match kind {
                SpikeFileKind::Stimulus => format!(
                    "population `{}` is not an input population; a stimulus gives spikes of input populations only",
                    pf.0
                ),
                SpikeFileKind::Spikes => format!(
                    "population `{}` is an input population; a spike file lists spikes of neuron populations only",
                    pf.0
                ),
            };
            found.push(|| err(pf.1.clone(), msg, format!("{what} populations of this network: {allowed}")));
            continue;
        }
        let parsed = match inf.0.parse::<u32>() {
            // An index too large for u32 is out of range like any other.
            Err(e) if matches!(e.kind(), std::num::IntErrorKind::PosOverflow) => Ok(None),
            r => r.map(Some),
        };
        let index = match parsed {
            Ok(Some(i)) if i < pop.size() => i,
            Ok(_) => {
                found.push(|| {
                    err(
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
                continue;
            }
            Err(_) => {
                found.push(|| {
                    err(
                        inf.1.clone(),
                        format!("index `{}` is not a non-negative integer", shown(inf.0)),
                        "neuron indices count from 0 within their population".into(),
                    )
                });
                continue;
            }
        };
        let key = (step, pid, index);
        if let Some((pk, pl)) = prev {
            if key == pk {
                found
                    .push(|| err(whole, format!("duplicate spike (same as line {pl})"), "list each spike once".into()));
                continue;
            }
            if key < pk {
                found.push(|| {
                    err(
                        whole,
                        format!("rows are not sorted: this row belongs before line {pl}"),
                        "sort rows by step, then population in network order, then index".into(),
                    )
                });
                continue;
            }
        }
        prev = Some((key, lineno + 1));
        if steps.is_some_and(|n| step >= n) {
            // One problem for all rows past the run, at the first of them.
            match &mut beyond {
                None => beyond = Some((found.push(|| err(sf.1.clone(), String::new(), String::new())), step, 1, step)),
                Some((_, _, count, last)) => {
                    *count += 1;
                    *last = (*last).max(step);
                }
            }
            continue;
        }
        out.push((step, pop.offset() + index));
    }
    if let (Some((Some(at), first, count, last)), Some(steps)) = (beyond, steps) {
        let d = &mut found.diags[at];
        let rows = if count > 1 { format!(" ({count} rows from this one on)") } else { String::new() };
        let run = match steps {
            0 => "a run of 0 steps".to_string(),
            n => format!("{n} steps: 0..={}", n - 1),
        };
        d.message =
            format!("step {first} is past the end of the run ({run}); the stimulus has spikes up to step {last}{rows}");
        d.help = Some(format!("use --steps {} or more, or remove the rows from step {steps} on", last as u64 + 1));
    }
    if !header_seen {
        found.push(|| {
            Diag::at(&src, Some(0..0), "the file is empty")
                .with_help(format!("a spike file starts with the header line `{HEADER}`"))
        });
    }
    if found.diags.is_empty() && found.more == 0 {
        Ok(SpikeList(out))
    } else {
        Err(FileErrors::with_more(file, found.diags, found.more))
    }
}

/// Writes spikes as CSV (header included).
pub fn spikes_to_csv(net: &Network, spikes: &[(u32, u32)]) -> String {
    let mut s = String::with_capacity(16 * spikes.len() + 32);
    s.push_str(HEADER);
    s.push('\n');
    for &(step, id) in spikes {
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
        let list = SpikeList(vec![(0, 1), (0, 2), (7, 0), (4_000_000_000, 3)]);
        let st = Stimulus::from_list(&list);
        assert_eq!((st.at(0), st.at(1), st.at(7), st.at(4_000_000_000)), (&[1, 2][..], &[][..], &[0][..], &[3][..]));
        assert_eq!((st.step_span(), st.len()), (4_000_000_001, 4));
        // Unsorted input is sorted by step (ids keep their order within a step).
        let st = Stimulus::from_list(&SpikeList(vec![(5, 1), (2, 0), (5, 0)]));
        assert_eq!((st.at(2), st.at(5), st.step_span()), (&[0][..], &[1, 0][..], 6));
        assert_eq!(Stimulus::from_list(&SpikeList::default()).step_span(), 0);
        assert_eq!(SpikeList(vec![(u32::MAX, 0)]).step_span(), u32::MAX);
    }
}
