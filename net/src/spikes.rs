//! Stimulus and spike files: CSV with the header `step,population,index`.
//!
//! Rows are sorted by step, then by population in network order, then by
//! index, with no repeats; so a file has exactly one spelling of a spike set
//! and two runs can be compared with `diff`. A stimulus names input
//! populations only; a spike file (what a run produced) names neuron
//! populations only. The parser is hand-written rather than the `csv` crate
//! because every error must point at the exact field (line and column), and
//! the format has no quoting.

use crate::diag::{Diag, FileErrors};
use crate::network::Network;
use std::fmt::Write as _;
use std::ops::Range;
use std::sync::Arc;

/// The header line every spike CSV starts with.
pub const HEADER: &str = "step,population,index";

/// Most problems reported for one file before giving up.
const MAX_DIAGS: usize = 20;

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
    /// One past the last step with a spike (0 if empty).
    pub fn step_span(&self) -> u32 {
        self.0.last().map_or(0, |&(s, _)| s + 1)
    }
}

/// A stimulus indexed by step, for fast per-step access.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stimulus {
    starts: Vec<u32>,
    ids: Vec<u32>,
}

impl Stimulus {
    /// Builds from a sorted spike list.
    pub fn from_list(list: &SpikeList) -> Stimulus {
        let steps = list.step_span() as usize;
        let mut starts = vec![0u32; steps + 1];
        for &(s, _) in &list.0 {
            starts[s as usize + 1] += 1;
        }
        for i in 0..steps {
            starts[i + 1] += starts[i];
        }
        Stimulus { starts, ids: list.0.iter().map(|&(_, n)| n).collect() }
    }

    /// Input neurons (global ids) that spike at `step`.
    pub fn at(&self, step: u32) -> &[u32] {
        let s = step as usize;
        if s + 1 >= self.starts.len() {
            return &[];
        }
        &self.ids[self.starts[s] as usize..self.starts[s + 1] as usize]
    }

    /// One past the last step with a spike.
    pub fn step_span(&self) -> u32 {
        self.starts.len().saturating_sub(1) as u32
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

/// Reads a spike CSV file.
pub fn load_spikes(net: &Network, path: &std::path::Path, kind: SpikeFileKind) -> Result<SpikeList, FileErrors> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| FileErrors::whole_file(&name, format!("cannot read the file: {e}"), None))?;
    parse_spikes(net, &name, text, kind)
}

/// Parses spike CSV text; `file` is only used in messages.
pub fn parse_spikes(net: &Network, file: &str, text: String, kind: SpikeFileKind) -> Result<SpikeList, FileErrors> {
    let src = Arc::new(text);
    let mut diags: Vec<Diag> = Vec::new();
    let mut out = Vec::new();
    let err = |span: Range<usize>, msg: String, help: String| Diag::new(file, &src, Some(span), msg).with_help(help);
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

    let mut offset = 0usize;
    let mut header_seen = false;
    // (step, population id, index) of the previous row and its line number.
    let mut prev: Option<((u32, usize, u32), usize)> = None;
    for (lineno, raw) in src.split_inclusive('\n').enumerate() {
        let line_start = offset;
        offset += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        if line.trim().is_empty() {
            continue;
        }
        if diags.len() >= MAX_DIAGS {
            break;
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
                diags.push(err(
                    whole,
                    format!("the first line must be the header `{HEADER}`, found `{}`", line.trim()),
                    format!("start the file with the line `{HEADER}`"),
                ));
                break;
            }
            continue;
        }
        if fields.len() != 3 {
            diags.push(err(
                whole,
                format!("expected 3 fields (step,population,index), found {}", fields.len()),
                "each row is `step,population,index`, e.g. `0,in,3`".into(),
            ));
            continue;
        }
        let (sf, pf, inf) = (&fields[0], &fields[1], &fields[2]);
        let Ok(step) = sf.0.parse::<u32>() else {
            diags.push(err(
                sf.1.clone(),
                format!("step `{}` is not a non-negative integer", sf.0),
                "steps count from 0".into(),
            ));
            continue;
        };
        // A run has at most u32::MAX steps, so its last step is u32::MAX - 1;
        // u32::MAX itself would overflow `SpikeList::step_span`.
        if step == u32::MAX {
            diags.push(err(
                sf.1.clone(),
                format!("step {step} is past the last step any run can have"),
                format!("steps count from 0 to {}", u32::MAX - 1),
            ));
            continue;
        }
        let Some((pid, pop)) = net.population(pf.0) else {
            diags.push(err(
                pf.1.clone(),
                format!("unknown population `{}`", pf.0),
                format!("{what} populations of this network: {}", allowed.join(", ")),
            ));
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
            diags.push(err(pf.1.clone(), msg, format!("{what} populations of this network: {}", allowed.join(", "))));
            continue;
        }
        let index = match inf.0.parse::<u32>() {
            Ok(i) if i < pop.size() => i,
            Ok(i) => {
                diags.push(err(
                    inf.1.clone(),
                    format!("index {i} is out of range for population `{}` of size {}", pop.name(), pop.size()),
                    format!("indices run from 0 to {}", pop.size() - 1),
                ));
                continue;
            }
            Err(_) => {
                diags.push(err(
                    inf.1.clone(),
                    format!("index `{}` is not a non-negative integer", inf.0),
                    "neuron indices count from 0 within their population".into(),
                ));
                continue;
            }
        };
        let key = (step, pid, index);
        if let Some((pk, pl)) = prev {
            if key == pk {
                diags.push(err(whole, format!("duplicate spike (same as line {pl})"), "list each spike once".into()));
                continue;
            }
            if key < pk {
                diags.push(err(
                    whole,
                    format!("rows are not sorted: this row belongs before line {pl}"),
                    "sort rows by step, then population in network order, then index".into(),
                ));
                continue;
            }
        }
        prev = Some((key, lineno + 1));
        out.push((step, pop.offset() + index));
    }
    if !header_seen {
        diags.push(
            Diag::new(file, &src, Some(0..0), "the file is empty")
                .with_help(format!("a spike file starts with the header line `{HEADER}`")),
        );
    }
    if diags.is_empty() {
        Ok(SpikeList(out))
    } else {
        Err(FileErrors { file: file.to_string(), diags })
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
