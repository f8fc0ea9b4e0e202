//! Reading and writing network files (JSON, TOML) with located errors.
//!
//! Parsing goes text → [`NetworkDoc`] (serde; syntax and type errors carry
//! their position) → [`Network`] (validation; issues carry a [`Path`]). Only
//! when validation fails is the text read a second time to turn every path
//! into a byte span, all paths at once (toml's span-preserving `DeTable`;
//! for JSON the one-pass scanner of [`crate::jsonspan`]), so the happy path
//! pays nothing for diagnostics.

use crate::diag::{Diag, FileErrors, SourceFile, MAX_DIAGS_PER_FILE};
use crate::doc::NetworkDoc;
use crate::jsonspan::{json_spans, SegRef};
use crate::network::{Invalid, Network};
use crate::path::{Path, Seg};
use std::ops::Range;
use std::sync::Arc;

/// A network file syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `.json`
    Json,
    /// `.toml`
    Toml,
}

impl Format {
    /// The format of a file name, by extension.
    pub fn from_path(path: &str) -> Option<Format> {
        let lower = path.to_ascii_lowercase();
        if lower.ends_with(".json") {
            Some(Format::Json)
        } else if lower.ends_with(".toml") {
            Some(Format::Toml)
        } else {
            None
        }
    }
}

/// Reads and validates a network file (bounded: see [`crate::input`]).
pub fn load_network(path: &std::path::Path) -> Result<Network, FileErrors> {
    let name = path.display().to_string();
    let Some(format) = Format::from_path(&name) else {
        return Err(FileErrors::whole_file(
            &name,
            "unknown network file type",
            Some("network files end in .json or .toml".into()),
        ));
    };
    let text = crate::input::read_text(path, "network file")?;
    parse_network(&name, text, format)
}

/// Parses and validates network text; `file` is only used in messages.
pub fn parse_network(file: &str, text: String, format: Format) -> Result<Network, FileErrors> {
    let src = SourceFile::new(file, Arc::new(text));
    let doc = parse_doc_in(&src, format)?;
    Network::from_doc(&doc).map_err(|inv| locate_in(&src, format, &inv))
}

/// Parses text into the unvalidated document (syntax and type errors only).
pub fn parse_doc(file: &str, src: &Arc<String>, format: Format) -> Result<NetworkDoc, FileErrors> {
    parse_doc_in(&SourceFile::new(file, src.clone()), format)
}

fn parse_doc_in(src: &Arc<SourceFile>, format: Format) -> Result<NetworkDoc, FileErrors> {
    let file = src.name();
    let text = src.text();
    let one = |span: Option<Range<usize>>, msg: String, path: String, help: &str| {
        let (msg, help, span) = match too_large(&msg, text, span.as_ref(), &path) {
            Some((m, at)) => (m, "write a number in the allowed range", at.or(span)),
            None if msg.starts_with(crate::doc::SYNAPSE_SHAPE) => {
                (msg, "write every synapse as [pre_index, post_index, weight]", span)
            }
            None => (friendly(&msg), help, span),
        };
        let mut d = Diag::at(src, span, msg).with_help(help);
        if !path.is_empty() && path != "." {
            d = d.with_label(path);
        }
        FileErrors::new(file, vec![d])
    };
    match format {
        Format::Json => {
            let mut de = serde_json::Deserializer::from_str(text);
            let res = serde_path_to_error::deserialize(&mut de)
                .map_err(|e| (e.path().to_string(), e.into_inner()))
                .and_then(|doc| de.end().map(|_| doc).map_err(|e| (String::new(), e)));
            res.map_err(|(path, e)| {
                let offset = offset_of(src, e.line(), e.column());
                let mut msg = e.to_string();
                if let Some(at) = msg.rfind(" at line ") {
                    msg.truncate(at);
                }
                // serde_json places errors raised after a value was read at
                // its end; a shape error is better shown on the whole value.
                let span = if msg.starts_with(crate::doc::SYNAPSE_SHAPE) {
                    json_spans(text, &[segments_of(&path)]).remove(0).unwrap_or(offset..offset + 1)
                } else {
                    offset..offset + 1
                };
                let help = json_help(&e, text, offset);
                if help.starts_with("the string escapes half") {
                    msg = "a string escape here is half of a UTF-16 surrogate pair".into();
                }
                one(Some(span), msg, path, help)
            })
        }
        Format::Toml => {
            let help = "see docs/format.md for the fields and their types";
            let de = toml::Deserializer::parse(text).map_err(|e| {
                one(e.span(), e.message().trim_end().to_string(), String::new(), "the file is not valid TOML here")
            })?;
            serde_path_to_error::deserialize(de).map_err(|e| {
                let path = e.path().to_string();
                let e = e.into_inner();
                one(e.span(), e.message().trim_end().to_string(), path, help)
            })
        }
    }
}

/// Serde names Rust types; users know integers.
fn friendly(msg: &str) -> String {
    msg.replace("expected i64", "expected an integer")
        .replace("expected u32", "expected a non-negative integer")
        .replace("expected a boolean", "expected true or false")
        .replace("struct NetworkDoc", "the network")
        .replace("struct PopulationDoc", "a population")
        .replace("struct ProjectionDoc", "a projection")
        .replace("struct FixedPointDoc", "fixed_point")
}

/// An integer literal that does not fit the type serde reads it into comes
/// back as "invalid type: integer `N` as i128" (toml), "invalid value:
/// integer `N`" (too large for i64/u32) or, from serde_json, as a floating
/// point number; say instead that the number is too large and what the
/// field allows. Returns the message and, for JSON, the number's span.
fn too_large(msg: &str, text: &str, span: Option<&Range<usize>>, path: &str) -> Option<(String, Option<Range<usize>>)> {
    let quoted = |prefix: &str| {
        let rest = msg.strip_prefix(prefix)?;
        Some(rest[..rest.find('`')?].to_string())
    };
    let mut at = None;
    let number = if let Some(n) = quoted("invalid type: integer `").or_else(|| quoted("invalid value: integer `")) {
        n
    } else if msg.starts_with("invalid type: floating point `") {
        // serde_json parses an integer beyond u64 as a float: look at what is written.
        let pos = span?.start.min(text.len());
        let b = text.as_bytes();
        let is_num = |c: u8| c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e' | b'E');
        let mut s = pos;
        while s > 0 && is_num(b[s - 1]) {
            s -= 1;
        }
        let mut e = pos;
        while e < b.len() && is_num(b[e]) {
            e += 1;
        }
        let tok = text.get(s..e)?;
        let digits = tok.strip_prefix('-').unwrap_or(tok);
        if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        at = Some(s..e);
        tok.to_string()
    } else {
        return None;
    };
    let digits = number.strip_prefix('-').unwrap_or(&number);
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let field = path.rsplit('.').next().unwrap_or("").split('[').next().unwrap_or("");
    let allowed = match field {
        "format" => "the only format version is 1".to_string(),
        "size" => format!("a population size is 1..={}", crate::network::MAX_POPULATION_SIZE),
        "weight_bits" => "weight_bits is 1..=16".into(),
        "potential_bits" => "potential_bits is 2..=32".into(),
        "accumulator_bits" => "accumulator_bits is at most 32".into(),
        "threshold" | "bias" | "v_min" | "v_init" => format!(
            "`{field}` is a potential_bits-bit signed value, at most {}..={} (potential_bits = 32)",
            i32::MIN,
            i32::MAX
        ),
        "leak_shift" => "a leak shift is 0..=potential_bits-1 (at most 31)".into(),
        "weights" | "weight" => "a weight is weight_bits-bit signed, at most -32768..=32767 (weight_bits = 16)".into(),
        "synapses" => format!(
            "a synapse is [pre_index, post_index, weight]: indices 0..{} at most, weights at most -32768..=32767",
            crate::network::MAX_POPULATION_SIZE
        ),
        _ => format!("integers in a network file are {}..={}", i64::MIN, i64::MAX),
    };
    let how = if number.starts_with('-') { "small" } else { "large" };
    let shown = if number.len() > 40 { format!("{}…", &number[..40]) } else { number.clone() };
    Some((format!("the number {shown} is too {how}: {allowed}"), at))
}

/// The help line of a serde_json error at byte `offset` of `text`. serde_json
/// classifies a few refusals of *valid* JSON as syntax errors; those get
/// their own help instead of "not valid JSON".
fn json_help(e: &serde_json::Error, text: &str, offset: usize) -> &'static str {
    let msg = e.to_string();
    if msg.starts_with("recursion limit exceeded") {
        return "the file nests arrays or objects more than 128 levels deep; a network file needs at most 4";
    }
    if msg.starts_with("number out of range") {
        return "the number is too large even for a 64-bit float; numbers in a network file are integers in their field's range";
    }
    // `"\ud800"` alone is valid JSON but not Unicode text.
    let before = &text.as_bytes()[offset.saturating_sub(12).min(text.len())..offset.min(text.len())];
    let surrogate = before
        .windows(4)
        .any(|w| w[0] == b'\\' && w[1] == b'u' && w[2].eq_ignore_ascii_case(&b'd') && b"89abAB".contains(&w[3]));
    if surrogate && (msg.starts_with("lone leading surrogate") || msg.starts_with("unexpected end of hex escape")) {
        return "the string escapes half of a UTF-16 surrogate pair, which is not a character; write the character itself";
    }
    match e.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            "the file is not valid JSON here (missing comma, bracket or quote?)"
        }
        _ => "see docs/format.md for the fields and their types",
    }
}

/// Byte offset of a 1-based line and column (serde_json counts columns in
/// bytes, 1-based; column 0 means "before the first character").
fn offset_of(src: &SourceFile, line: usize, column: usize) -> usize {
    let text = src.text();
    src.line_start(line.saturating_sub(1))
        .map_or(text.len(), |s| s + column.saturating_sub(1))
        .min(text.len().saturating_sub(1))
}

fn segments(path: &Path) -> Vec<SegRef<'_>> {
    path.0
        .iter()
        .map(|s| match s {
            Seg::Key(k) => SegRef::Key(k),
            Seg::Index(i) => SegRef::Index(*i),
        })
        .collect()
}

/// Splits `projections[1].synapses[4]` into keys and indices.
fn segments_of(path: &str) -> Vec<SegRef<'_>> {
    let mut out = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, rest) = part.split_at(part.find('[').unwrap_or(part.len()));
        if !key.is_empty() {
            out.push(SegRef::Key(key));
        }
        for ix in rest.split(['[', ']']).filter(|x| !x.is_empty()) {
            match ix.parse() {
                Ok(i) => out.push(SegRef::Index(i)),
                Err(_) => return out,
            }
        }
    }
    out
}

/// Turns validation issues into located diagnostics: every issue's path is
/// resolved against one span-preserving parse of the text, the issues are
/// put in file order, and the first [`crate::diag::MAX_DIAGS_PER_FILE`]
/// become diagnostics (the rest are counted).
pub fn locate_issues(file: &str, src: &Arc<String>, format: Format, inv: &Invalid) -> FileErrors {
    locate_in(&SourceFile::new(file, src.clone()), format, inv)
}

fn locate_in(src: &Arc<SourceFile>, format: Format, inv: &Invalid) -> FileErrors {
    let text = src.text();
    let paths: Vec<Vec<SegRef<'_>>> = inv.0.iter().map(|issue| segments(&issue.path)).collect();
    let spans = match format {
        Format::Toml => match toml::de::DeTable::parse(text) {
            Ok(root) => paths.iter().map(|p| toml_span(&root, p)).collect(),
            Err(_) => vec![None; paths.len()],
        },
        Format::Json => json_spans(text, &paths),
    };
    let mut placed: Vec<(Option<Range<usize>>, usize)> = spans.into_iter().zip(0..).collect();
    placed.sort_by_key(|(span, i)| (span.as_ref().map_or(0, |s| s.start), *i));
    let more = placed.len().saturating_sub(MAX_DIAGS_PER_FILE);
    placed.truncate(MAX_DIAGS_PER_FILE);
    let diags = placed
        .into_iter()
        .map(|(span, i)| {
            let issue = &inv.0[i];
            let mut d = Diag::at(src, span, issue.problem.to_string()).with_label(issue.path.to_string());
            if let Some(h) = issue.problem.help() {
                d = d.with_help(h);
            }
            d
        })
        .collect();
    FileErrors::with_more(src.name(), diags, more)
}

/// Span of the deepest existing prefix of `path` in a TOML document.
fn toml_span(root: &toml::Spanned<toml::de::DeTable<'_>>, path: &[SegRef<'_>]) -> Option<Range<usize>> {
    use toml::de::DeValue;
    enum Cur<'a, 'i> {
        Table(&'a toml::de::DeTable<'i>, Range<usize>),
        Value(&'a toml::Spanned<DeValue<'i>>),
    }
    let mut cur = Cur::Table(root.get_ref(), 0..0);
    for seg in path {
        let next = match (&cur, seg) {
            (Cur::Table(t, _), SegRef::Key(k)) => t.iter().find(|(key, _)| key.get_ref() == k).map(|(_, v)| v),
            (Cur::Value(v), SegRef::Key(k)) => match v.get_ref() {
                DeValue::Table(t) => t.iter().find(|(key, _)| key.get_ref() == k).map(|(_, v)| v),
                _ => None,
            },
            (Cur::Value(v), SegRef::Index(i)) => match v.get_ref() {
                DeValue::Array(a) => a.get(*i),
                _ => None,
            },
            (Cur::Table(..), SegRef::Index(_)) => None,
        };
        match next {
            Some(v) => cur = Cur::Value(v),
            None => break,
        }
    }
    match cur {
        Cur::Table(_, r) if r.is_empty() => Some(0..0),
        Cur::Table(_, r) => Some(r),
        Cur::Value(v) => Some(v.span()),
    }
}

/// Writes a network as pretty JSON.
pub fn to_json(net: &Network) -> String {
    let mut s = serde_json::to_string_pretty(&net.to_doc()).expect("a network document always serializes");
    s.push('\n');
    s
}

/// Writes a network as TOML.
pub fn to_toml(net: &Network) -> String {
    toml::to_string(&net.to_doc()).expect("a network document always serializes to TOML")
}
