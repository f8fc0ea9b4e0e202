//! Reading and writing network files (JSON, TOML) with located errors.
//!
//! Parsing goes text → [`NetworkDoc`] (serde; syntax and type errors carry
//! their position) → [`Network`] (validation; issues carry a [`Path`]). Only
//! when validation fails is the text parsed a second time into a
//! span-preserving tree (toml's `DeTable`, jsonc-parser's AST) to turn each
//! path into a byte span, so the happy path pays nothing for diagnostics.

use crate::diag::{Diag, FileErrors};
use crate::doc::NetworkDoc;
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

/// Reads and validates a network file.
pub fn load_network(path: &std::path::Path) -> Result<Network, FileErrors> {
    let name = path.display().to_string();
    let Some(format) = Format::from_path(&name) else {
        return Err(FileErrors::whole_file(
            &name,
            "unknown network file type",
            Some("network files end in .json or .toml".into()),
        ));
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| FileErrors::whole_file(&name, format!("cannot read the file: {e}"), None))?;
    parse_network(&name, text, format)
}

/// Parses and validates network text; `file` is only used in messages.
pub fn parse_network(file: &str, text: String, format: Format) -> Result<Network, FileErrors> {
    let src = Arc::new(text);
    let doc = parse_doc(file, &src, format)?;
    Network::from_doc(&doc).map_err(|inv| locate_issues(file, &src, format, &inv))
}

/// Parses text into the unvalidated document (syntax and type errors only).
pub fn parse_doc(file: &str, src: &Arc<String>, format: Format) -> Result<NetworkDoc, FileErrors> {
    let one = |span: Option<Range<usize>>, msg: String, path: String, help: &str| {
        let mut d = Diag::new(file, src, span, friendly(&msg)).with_help(help);
        if !path.is_empty() && path != "." {
            d = d.with_label(path);
        }
        FileErrors { file: file.to_string(), diags: vec![d] }
    };
    match format {
        Format::Json => {
            let mut de = serde_json::Deserializer::from_str(src);
            let res = serde_path_to_error::deserialize(&mut de)
                .map_err(|e| (e.path().to_string(), e.into_inner()))
                .and_then(|doc| de.end().map(|_| doc).map_err(|e| (String::new(), e)));
            res.map_err(|(path, e)| {
                let offset = offset_of(src, e.line(), e.column());
                let mut msg = e.to_string();
                if let Some(at) = msg.rfind(" at line ") {
                    msg.truncate(at);
                }
                one(Some(offset..offset + 1), msg, path, json_help(&e))
            })
        }
        Format::Toml => {
            let help = "see docs/format.md for the fields and their types";
            let de = toml::Deserializer::parse(src).map_err(|e| {
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

fn json_help(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            "the file is not valid JSON here (missing comma, bracket or quote?)"
        }
        _ => "see docs/format.md for the fields and their types",
    }
}

/// Byte offset of a 1-based line and column (serde_json counts columns in
/// bytes, 1-based; column 0 means "before the first character").
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut off = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return (off + column.saturating_sub(1)).min(text.len().saturating_sub(1));
        }
        off += l.len();
    }
    text.len().saturating_sub(1)
}

/// Finds the byte span of a document path.
type Locator<'a> = Box<dyn Fn(&Path) -> Option<Range<usize>> + 'a>;

/// Turns validation issues into located diagnostics.
pub fn locate_issues(file: &str, src: &Arc<String>, format: Format, inv: &Invalid) -> FileErrors {
    let locator: Locator = match format {
        Format::Toml => match toml::de::DeTable::parse(src) {
            Ok(root) => Box::new(move |p| toml_span(&root, p)),
            Err(_) => Box::new(|_| None),
        },
        Format::Json => match jsonc_parser::parse_to_ast(src, &Default::default(), &Default::default()) {
            Ok(res) => match res.value {
                Some(v) => Box::new(move |p| json_span(&v, p)),
                None => Box::new(|_| None),
            },
            Err(_) => Box::new(|_| None),
        },
    };
    let mut diags: Vec<Diag> = inv
        .0
        .iter()
        .map(|issue| {
            let mut d = Diag::new(file, src, locator(&issue.path), issue.problem.to_string())
                .with_label(issue.path.to_string());
            d.help = issue.problem.help();
            d
        })
        .collect();
    diags.sort_by_key(|d| d.span.as_ref().map_or(0, |s| s.start));
    FileErrors { file: file.to_string(), diags }
}

/// Span of the deepest existing prefix of `path` in a TOML document.
fn toml_span(root: &toml::Spanned<toml::de::DeTable<'_>>, path: &Path) -> Option<Range<usize>> {
    use toml::de::DeValue;
    enum Cur<'a, 'i> {
        Table(&'a toml::de::DeTable<'i>, Range<usize>),
        Value(&'a toml::Spanned<DeValue<'i>>),
    }
    let mut cur = Cur::Table(root.get_ref(), 0..0);
    for seg in &path.0 {
        let next = match (&cur, seg) {
            (Cur::Table(t, _), Seg::Key(k)) => t.iter().find(|(key, _)| key.get_ref() == k).map(|(_, v)| v),
            (Cur::Value(v), Seg::Key(k)) => match v.get_ref() {
                DeValue::Table(t) => t.iter().find(|(key, _)| key.get_ref() == k).map(|(_, v)| v),
                _ => None,
            },
            (Cur::Value(v), Seg::Index(i)) => match v.get_ref() {
                DeValue::Array(a) => a.get(*i),
                _ => None,
            },
            (Cur::Table(..), Seg::Index(_)) => None,
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

/// Span of the deepest existing prefix of `path` in a JSON document.
fn json_span(root: &jsonc_parser::ast::Value<'_>, path: &Path) -> Option<Range<usize>> {
    use jsonc_parser::ast::Value;
    use jsonc_parser::common::Ranged;
    let mut cur = root;
    for seg in &path.0 {
        let next = match (cur, seg) {
            (Value::Object(o), Seg::Key(k)) => o.get(k).map(|p| &p.value),
            (Value::Array(a), Seg::Index(i)) => a.elements.get(*i),
            _ => None,
        };
        match next {
            Some(v) => cur = v,
            None => break,
        }
    }
    let r = cur.range();
    Some(r.start..r.end)
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
