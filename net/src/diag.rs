//! Diagnostics that point into an input file.
//!
//! Every file-reading stage of spikeforge (network, stimulus, spike files)
//! reports [`FileErrors`]: the file name and a list of [`Diag`]s, each with a
//! byte span, a one-line message and a help line. They render through miette
//! (snippet with `file:line:col`) and serialize to JSON for `--json`.

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceCode};
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

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
    src: NamedSource<Arc<String>>,
}

impl Diag {
    /// A diagnostic for `span` of `src` (named `file`).
    pub fn new(file: &str, src: &Arc<String>, span: Option<Range<usize>>, message: impl Into<String>) -> Diag {
        let span = span.map(|r| whole_chars(src, r));
        Diag { message: message.into(), span, label: None, help: None, src: NamedSource::new(file, src.clone()) }
    }

    /// Adds a help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Diag {
        self.help = Some(help.into());
        self
    }

    /// Adds a label under the marked source.
    pub fn with_label(mut self, label: impl Into<String>) -> Diag {
        self.label = Some(label.into());
        self
    }

    /// Name of the file.
    pub fn file(&self) -> &str {
        self.src.name()
    }

    /// 1-based line and column (in characters) of the start of the span.
    pub fn line_col(&self) -> Option<(usize, usize)> {
        let span = self.span.as_ref()?;
        let text = self.src.inner().as_str();
        let start = span.start.min(text.len());
        let before = &text[..start];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        Some((line, col))
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
}

impl fmt::Display for Diag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Diag {}

impl Diagnostic for Diag {
    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.span.as_ref().map(|_| &self.src as &dyn SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.span.clone()?;
        Some(Box::new(std::iter::once(LabeledSpan::new(
            self.label.clone(),
            span.start,
            span.end.saturating_sub(span.start),
        ))))
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
}

/// Widens a byte span to whole characters: parsers report some positions
/// inside a multi-byte character (serde_json at the end of a file), and
/// slicing the text there would panic.
fn whole_chars(text: &str, r: Range<usize>) -> Range<usize> {
    let mut start = r.start.min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = r.end.max(start);
    while end < text.len() && !text.is_char_boundary(end) {
        end += 1;
    }
    start..end
}

/// All problems found in one file.
#[derive(Debug, Clone)]
pub struct FileErrors {
    /// The file.
    pub file: String,
    /// At least one problem, in file order.
    pub diags: Vec<Diag>,
}

impl FileErrors {
    /// A single problem without a place (e.g. the file cannot be read).
    pub fn whole_file(file: &str, message: impl Into<String>, help: Option<String>) -> FileErrors {
        let mut d = Diag::new(file, &Arc::new(String::new()), None, message);
        d.help = help;
        FileErrors { file: file.to_string(), diags: vec![d] }
    }

    /// Machine-readable form.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "file": self.file,
            "errors": self.diags.iter().map(Diag::to_json).collect::<Vec<_>>(),
        })
    }
}

impl fmt::Display for FileErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.diags.len() {
            1 => write!(f, "{}", self.diags[0].one_line()),
            n => write!(f, "{}: {n} problems", self.file),
        }
    }
}

impl std::error::Error for FileErrors {}

impl Diagnostic for FileErrors {
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        if self.diags.len() == 1 {
            None
        } else {
            Some(Box::new(self.diags.iter().map(|d| d as &dyn Diagnostic)))
        }
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        (self.diags.len() == 1).then(|| self.diags[0].source_code()).flatten()
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        (self.diags.len() == 1).then(|| self.diags[0].labels()).flatten()
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        (self.diags.len() == 1).then(|| self.diags[0].help()).flatten()
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
