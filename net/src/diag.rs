//! Diagnostics that point into an input file.
//!
//! Every file-reading stage of spikeforge (network, stimulus, spike files,
//! hardware specs) reports [`FileErrors`]: the file name and a list of
//! [`Diag`]s, each with a byte span, a one-line message and a help line.
//! They render through miette (snippet with `file:line:col`) and serialize
//! to JSON for `--json`.
//!
//! Reports stay small and linear in the input whatever the file looks like:
//! - at most [`MAX_DIAGS_PER_FILE`] problems are kept per file; the rest are
//!   counted and reported as one "and K more problems" line;
//! - a snippet is a window of about [`SNIPPET_COLUMNS`] columns of each
//!   shown line around the span, with `…` where a line was cut, so a 12 MB
//!   one-line JSON file is not quoted whole (short lines are shown as they
//!   are); a span over many lines is shown by its first line;
//! - line and column come from a line index built once per file
//!   ([`SourceFile`]), and columns of the diagnostics of one file are
//!   counted in one forward pass, never from the start of the text per error;
//! - messages and help lines that quote user text are cut at
//!   [`MAX_MESSAGE_CHARS`] characters.

use miette::{Diagnostic, LabeledSpan, MietteError, Severity, SourceCode, SourceSpan, SpanContents};
use std::fmt;
use std::ops::Range;
use std::sync::{Arc, OnceLock};

/// Most problems kept (and printed) per file; the rest are only counted.
pub const MAX_DIAGS_PER_FILE: usize = 50;

/// About how many columns of a long line a snippet shows.
pub const SNIPPET_COLUMNS: usize = 120;

/// Columns shown before the start of the span when a line is cut.
const LEAD_COLUMNS: usize = 40;

/// A span over more lines than this is shown by its first line only.
const MAX_SPAN_LINES: usize = 8;

/// Longest message or help line, in characters (they may quote user text).
pub const MAX_MESSAGE_CHARS: usize = 400;

/// An input text with its name and a line index built on first use; shared
/// by every diagnostic of one file so the index is built once.
#[derive(Debug)]
pub struct SourceFile {
    name: String,
    text: Arc<String>,
    /// Byte offset of the start of every line.
    starts: OnceLock<Vec<usize>>,
}

impl SourceFile {
    /// A named text.
    pub fn new(name: &str, text: Arc<String>) -> Arc<SourceFile> {
        Arc::new(SourceFile { name: name.to_string(), text, starts: OnceLock::new() })
    }

    /// The file name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The text.
    pub fn text(&self) -> &str {
        &self.text
    }

    fn starts(&self) -> &[usize] {
        self.starts.get_or_init(|| {
            let mut v = vec![0];
            v.extend(self.text.bytes().enumerate().filter(|&(_, b)| b == b'\n').map(|(i, _)| i + 1));
            v
        })
    }

    /// Number of lines (a final newline does not start another line).
    fn line_count(&self) -> usize {
        let n = self.starts().len();
        if self.text.is_empty() || self.text.ends_with('\n') {
            n - 1
        } else {
            n
        }
    }

    /// Byte offset where a 0-based line starts, if the text has that line.
    pub fn line_start(&self, line: usize) -> Option<usize> {
        self.starts().get(line).copied()
    }

    /// 0-based line of a byte offset.
    fn line_of(&self, offset: usize) -> usize {
        self.starts().partition_point(|&s| s <= offset) - 1
    }

    /// Byte range of a 0-based line, without its line end (`\n` or `\r\n`).
    fn line_range(&self, line: usize) -> Range<usize> {
        let starts = self.starts();
        let start = starts[line];
        let mut end = starts.get(line + 1).map_or(self.text.len(), |&s| s - 1);
        if end > start && self.text.as_bytes()[end - 1] == b'\r' {
            end -= 1;
        }
        start..end
    }

    /// The largest char boundary at or before `offset` (clamped to the text).
    fn floor(&self, offset: usize) -> usize {
        let mut o = offset.min(self.text.len());
        while !self.text.is_char_boundary(o) {
            o -= 1;
        }
        o
    }

    /// The smallest char boundary at or after `offset` (clamped to the text).
    fn ceil(&self, offset: usize) -> usize {
        let mut o = offset.min(self.text.len());
        while !self.text.is_char_boundary(o) {
            o += 1;
        }
        o
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let o = self.floor(offset);
        let line = self.line_of(o);
        (line + 1, self.text[self.starts()[line]..o].chars().count() + 1)
    }
}

/// Cuts user-quoting text to [`MAX_MESSAGE_CHARS`] characters.
fn clip(mut s: String) -> String {
    if let Some((cut, _)) = s.char_indices().nth(MAX_MESSAGE_CHARS) {
        s.truncate(cut);
        s.push('…');
    }
    s
}

/// One problem at one place of a file.
#[derive(Debug, Clone)]
pub struct Diag {
    /// What is wrong, as a sentence without location.
    pub message: String,
    /// Byte range in the file, if the problem has a place.
    pub span: Option<Range<usize>>,
    /// Short text shown under the marked source.
    pub label: Option<String>,
    /// How to fix it.
    pub help: Option<String>,
    src: Arc<SourceFile>,
    /// 1-based line and column of the span start, once computed.
    pos: OnceLock<(usize, usize)>,
    /// What miette renders, built on first use.
    snippet: OnceLock<Snippet>,
}

impl Diag {
    /// A diagnostic for `span` of `src` (named `file`). Diagnostics of one
    /// file should share a [`SourceFile`] ([`Diag::at`]) so its line index
    /// is built once; this constructor makes a new one.
    pub fn new(file: &str, src: &Arc<String>, span: Option<Range<usize>>, message: impl Into<String>) -> Diag {
        Diag::at(&SourceFile::new(file, src.clone()), span, message)
    }

    /// A diagnostic for `span` of a shared source file.
    pub fn at(src: &Arc<SourceFile>, span: Option<Range<usize>>, message: impl Into<String>) -> Diag {
        Diag {
            message: clip(message.into()),
            span,
            label: None,
            help: None,
            src: src.clone(),
            pos: OnceLock::new(),
            snippet: OnceLock::new(),
        }
    }

    /// Adds a help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Diag {
        self.help = Some(clip(help.into()));
        self
    }

    /// Adds a label under the marked source.
    pub fn with_label(mut self, label: impl Into<String>) -> Diag {
        self.label = Some(clip(label.into()));
        self
    }

    /// Name of the file.
    pub fn file(&self) -> &str {
        self.src.name()
    }

    /// 1-based line and column (in characters) of the start of the span.
    pub fn line_col(&self) -> Option<(usize, usize)> {
        let span = self.span.as_ref()?;
        Some(*self.pos.get_or_init(|| self.src.line_col(span.start)))
    }

    /// `file:line:col: message` on one line (for logs and plain errors).
    pub fn one_line(&self) -> String {
        match self.line_col() {
            Some((l, c)) => format!("{}:{l}:{c}: {}", self.file(), self.message),
            None => format!("{}: {}", self.file(), self.message),
        }
    }

    /// Machine-readable form.
    pub fn to_json(&self) -> serde_json::Value {
        let (line, column) = self.line_col().unzip();
        serde_json::json!({
            "file": self.file(),
            "line": line,
            "column": column,
            "message": self.message,
            "help": self.help,
        })
    }

    fn snippet(&self) -> Option<&Snippet> {
        let span = self.span.clone()?;
        let (line, col) = self.line_col()?;
        Some(self.snippet.get_or_init(|| Snippet::new(&self.src, span, line - 1, col - 1)))
    }
}

impl fmt::Display for Diag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Diag {}

impl Diagnostic for Diag {
    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.snippet().map(|s| s as &dyn SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let s = self.snippet()?;
        Some(Box::new(std::iter::once(LabeledSpan::new(
            self.label.clone(),
            s.label.start,
            s.label.end - s.label.start,
        ))))
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
}

/// The lines a diagnostic shows, each cut to a window around the span, as
/// a small text of its own; the label is in this text's coordinates.
#[derive(Debug, Clone)]
struct Snippet {
    name: String,
    text: String,
    /// 0-based line number of the first line of `text` in the file.
    first_line: usize,
    /// The marked span, in `text`.
    label: Range<usize>,
    /// 0-based column (characters) of the span start in the file.
    label_col: usize,
}

impl Snippet {
    fn new(src: &SourceFile, span: Range<usize>, line: usize, col: usize) -> Snippet {
        let name = src.name().to_string();
        let nlines = src.line_count();
        if nlines == 0 {
            return Snippet { name, text: String::new(), first_line: 0, label: 0..0, label_col: 0 };
        }
        let text = src.text();
        // A span at the very end (after a final newline) is shown at the end of the last line.
        let (line, start) = if line >= nlines {
            let r = src.line_range(nlines - 1);
            (nlines - 1, r.end)
        } else {
            (line, src.floor(span.start))
        };
        let start_range = src.line_range(line);
        let start = start.min(start_range.end);
        let mut end = src.ceil(span.end.max(start));
        let mut last = if end > start { src.line_of(end - 1).min(nlines - 1) } else { line };
        if last - line >= MAX_SPAN_LINES {
            last = line;
        }
        if last == line {
            end = end.min(start_range.end);
        }
        let end_range = src.line_range(last);
        end = end.clamp(end_range.start, end_range.end);
        // Columns (bytes into the line) the windows of other lines follow.
        let anchor_col = start - start_range.start;

        let first = line.saturating_sub(1);
        let final_line = (last + 1).min(nlines - 1);
        let mut out = String::new();
        let (mut label_start, mut label_end) = (0, 0);
        for l in first..=final_line {
            let r = src.line_range(l);
            let anchor = if l == line {
                start
            } else if l == last {
                end
            } else {
                (r.start + anchor_col).min(r.end)
            };
            let (ws, we) = if r.end - r.start <= SNIPPET_COLUMNS {
                (r.start, r.end)
            } else {
                let mut ws = anchor.saturating_sub(LEAD_COLUMNS).max(r.start);
                let we = (ws + SNIPPET_COLUMNS).min(r.end);
                if we == r.end {
                    ws = r.end.saturating_sub(SNIPPET_COLUMNS).max(r.start);
                }
                (src.floor(ws), src.ceil(we))
            };
            if ws > r.start {
                out.push('…');
            }
            let body = out.len();
            out.push_str(&text[ws..we]);
            if we < r.end {
                out.push('…');
            }
            let map = |o: usize| body + o.clamp(ws, we) - ws;
            if l == line {
                label_start = map(start);
                if last == line {
                    label_end = map(end).max(label_start);
                }
            }
            if l == last && last != line {
                label_end = map(end);
            }
            // Every line ends in a newline, so a final empty line is still a line to miette.
            out.push('\n');
        }
        Snippet { name, text: out, first_line: first, label: label_start..label_end, label_col: col }
    }
}

impl SourceCode for Snippet {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner = self.text.as_str().read_span(span, before, after)?;
        // The header's `file:line:col` is read with no context lines.
        let column = (before == 0 && span.offset() == self.label.start).then_some(self.label_col);
        Ok(Box::new(Shifted { inner, name: &self.name, line_shift: self.first_line, column }))
    }
}

/// Snippet contents with the file's name and line numbers.
struct Shifted<'a> {
    inner: Box<dyn SpanContents<'a> + 'a>,
    name: &'a str,
    line_shift: usize,
    column: Option<usize>,
}

impl<'a> SpanContents<'a> for Shifted<'a> {
    fn data(&self) -> &'a [u8] {
        self.inner.data()
    }
    fn span(&self) -> &SourceSpan {
        self.inner.span()
    }
    fn name(&self) -> Option<&str> {
        Some(self.name)
    }
    fn line(&self) -> usize {
        self.inner.line() + self.line_shift
    }
    fn column(&self) -> usize {
        self.column.unwrap_or_else(|| self.inner.column())
    }
    fn line_count(&self) -> usize {
        self.inner.line_count()
    }
}

/// The "and K more problems" line after the kept diagnostics.
#[derive(Debug, Clone)]
struct More(String);

impl fmt::Display for More {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for More {}

impl Diagnostic for More {
    fn severity(&self) -> Option<Severity> {
        Some(Severity::Advice)
    }
}

/// All problems found in one file (at most [`MAX_DIAGS_PER_FILE`] kept).
#[derive(Debug, Clone)]
pub struct FileErrors {
    /// The file.
    pub file: String,
    /// At least one problem, in file order.
    pub diags: Vec<Diag>,
    /// Problems found beyond the kept ones.
    pub more: usize,
    summary: Option<More>,
}

impl FileErrors {
    /// The problems of a file, in the order given (callers sort them);
    /// keeps the first [`MAX_DIAGS_PER_FILE`] and counts the rest.
    pub fn new(file: &str, diags: Vec<Diag>) -> FileErrors {
        FileErrors::with_more(file, diags, 0)
    }

    /// Like [`FileErrors::new`], with `more` problems that were counted but
    /// never turned into diagnostics.
    pub fn with_more(file: &str, mut diags: Vec<Diag>, more: usize) -> FileErrors {
        let more = more + diags.len().saturating_sub(MAX_DIAGS_PER_FILE);
        diags.truncate(MAX_DIAGS_PER_FILE);
        precompute_positions(&diags);
        let summary = (more > 0).then(|| {
            More(format!(
                "and {more} more problem{} (the first {} are shown; fix these and run again)",
                if more == 1 { "" } else { "s" },
                diags.len()
            ))
        });
        FileErrors { file: file.to_string(), diags, more, summary }
    }

    /// A single problem without a place (e.g. the file cannot be read).
    pub fn whole_file(file: &str, message: impl Into<String>, help: Option<String>) -> FileErrors {
        let mut d = Diag::new(file, &Arc::new(String::new()), None, message);
        d.help = help.map(clip);
        FileErrors::new(file, vec![d])
    }

    /// Every problem found, kept or not.
    pub fn total(&self) -> usize {
        self.diags.len() + self.more
    }

    /// Machine-readable form.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "file": self.file,
            "errors": self.diags.iter().map(Diag::to_json).collect::<Vec<_>>(),
            "more": self.more,
        })
    }

    fn single(&self) -> Option<&Diag> {
        (self.diags.len() == 1 && self.more == 0).then(|| &self.diags[0])
    }
}

/// Fills in line and column of every diagnostic with one forward pass per
/// file over the spans in order (columns are counted from the previous
/// span on the same line, not from the line start each time).
fn precompute_positions(diags: &[Diag]) {
    let mut order: Vec<usize> = (0..diags.len()).filter(|&i| diags[i].span.is_some()).collect();
    order.sort_by_key(|&i| (Arc::as_ptr(&diags[i].src) as usize, diags[i].span.as_ref().map_or(0, |s| s.start)));
    let mut prev: Option<(*const SourceFile, usize, usize, usize)> = None; // (file, offset, line, col)
    for i in order {
        let d = &diags[i];
        let src = &d.src;
        let o = src.floor(d.span.as_ref().map_or(0, |s| s.start));
        let line = src.line_of(o);
        let col = match prev {
            Some((p, po, pl, pc)) if std::ptr::eq(p, Arc::as_ptr(src)) && pl == line && po <= o => {
                pc + src.text()[po..o].chars().count()
            }
            _ => src.text()[src.starts()[line]..o].chars().count() + 1,
        };
        let _ = d.pos.set((line + 1, col));
        prev = Some((Arc::as_ptr(src), o, line, col));
    }
}

impl fmt::Display for FileErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.single() {
            Some(d) => write!(f, "{}", d.one_line()),
            None if self.more > 0 => {
                write!(f, "{}: {} problems (the first {} are shown)", self.file, self.total(), self.diags.len())
            }
            None => write!(f, "{}: {} problems", self.file, self.total()),
        }
    }
}

impl std::error::Error for FileErrors {}

impl Diagnostic for FileErrors {
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        if self.single().is_some() {
            return None;
        }
        let kept = self.diags.iter().map(|d| d as &dyn Diagnostic);
        Some(Box::new(kept.chain(self.summary.iter().map(|m| m as &dyn Diagnostic))))
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.single().and_then(|d| d.source_code())
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.single().and_then(|d| d.labels())
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.single().and_then(|d| d.help())
    }
}

/// Renders any diagnostic as plain text with source snippets and no colour
/// (what the CLI prints when stderr is not a terminal, and what snapshot
/// tests compare).
pub fn render_plain(d: &dyn Diagnostic) -> String {
    let mut out = String::new();
    let handler = miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
        .with_wrap_lines(false)
        .with_links(false);
    handler.render_report(&mut out, d).expect("writing to a String cannot fail");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render_one(text: &str, span: Range<usize>) -> String {
        let src = SourceFile::new("f.json", Arc::new(text.to_string()));
        let d = Diag::at(&src, Some(span), "bad").with_label("here");
        render_plain(&FileErrors::new("f.json", vec![d]))
    }

    #[test]
    fn long_lines_are_windowed() {
        let mut text = "0, ".repeat(100_000);
        let at = text.len() / 2;
        text.replace_range(at..at + 1, "9");
        let out = render_one(&text, at..at + 1);
        assert!(out.len() < 1500, "{out}");
        assert!(out.contains("f.json:1:150001"), "{out}");
        assert!(out.contains("1 │ … 0, 0, ") && out.contains(", 0,…\n"), "{out}");
        // The marker sits under the 9.
        let line = out.lines().find(|l| l.contains('9')).unwrap();
        let mark = out.lines().find(|l| l.contains('┬')).unwrap();
        let col = |s: &str, c: char| s.chars().position(|x| x == c).unwrap();
        assert_eq!(col(line, '9'), col(mark, '┬'), "{out}");
    }

    #[test]
    fn short_lines_are_whole() {
        let text = "a = 1\nb = 2\nc = 3\n";
        let out = render_one(text, 10..11);
        assert!(out.contains(" 1 │ a = 1\n 2 │ b = 2\n"), "{out}");
        assert!(out.contains(" 3 │ c = 3\n"), "{out}");
        assert!(out.contains("f.json:2:5"), "{out}");
    }

    #[test]
    fn many_problems_are_capped() {
        let src = SourceFile::new("f.csv", Arc::new("x\n".repeat(200)));
        let diags = (0..200).map(|i| Diag::at(&src, Some(2 * i..2 * i + 1), "bad").with_help("fix")).collect();
        let e = FileErrors::new("f.csv", diags);
        assert_eq!((e.diags.len(), e.more, e.total()), (MAX_DIAGS_PER_FILE, 150, 200));
        assert_eq!(e.diags[49].line_col(), Some((50, 1)));
        let out = render_plain(&e);
        assert!(out.contains("and 150 more problems"), "{out}");
        assert_eq!(out.matches("× bad").count(), MAX_DIAGS_PER_FILE);
        assert_eq!(e.to_json()["more"], 150);
    }

    #[test]
    fn columns_count_characters_in_one_pass() {
        let src = SourceFile::new("f", Arc::new("äöü x y\nz".to_string()));
        let d = |o: usize| Diag::at(&src, Some(o..o + 1), "m");
        let e = FileErrors::new("f", vec![d(9), d(7), d(11)]);
        let pos: Vec<_> = e.diags.iter().map(|d| d.line_col().unwrap()).collect();
        assert_eq!(pos, vec![(1, 7), (1, 5), (2, 1)]);
    }
}
