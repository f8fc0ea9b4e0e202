//! What every command shares: the outcome and failure types, the
//! [`Command`] trait main dispatches through, and small helpers that load
//! inputs, map and write files.

use miette::Diagnostic;
use spikeforge_net::{spikes, FileErrors, Network, SpikeTrain, Stimulus};
use std::fmt;
use std::path::Path;

/// Exit status of a run whose hardware (or board) differs from golden.
pub const EXIT_MISMATCH: u8 = 3;

/// How a command that ran to its end came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done (exit status 0).
    Done,
    /// The hardware, a board or a regression case differs from golden
    /// (exit status [`EXIT_MISMATCH`]); the report is already printed.
    Differs,
}

impl Outcome {
    /// `Done` if `equal`, else `Differs`.
    pub fn equal(equal: bool) -> Outcome {
        if equal {
            Outcome::Done
        } else {
            Outcome::Differs
        }
    }
}

/// A subcommand's arguments, runnable.
pub trait Command {
    /// Whether `--json` was given (the failure report goes to stdout too).
    fn json(&self) -> bool {
        false
    }
    /// Runs the command.
    fn run(&self) -> Result<Outcome, Failure>;
}

/// A failure the user can fix; printed, then exit code 1.
pub enum Failure {
    /// Located problems in an input file.
    File(FileErrors),
    /// A typed error of a stage (mapper, golden, convert, ...), rendered by miette.
    Diagnostic(Box<dyn Diagnostic + Send + Sync + 'static>),
    /// "Does not fit": a diagnostic whose JSON form also carries the bound,
    /// the checked spec change and the preset that fits.
    Mapping(Box<spikeforge_mapper::ExplainedMapError>),
    /// A problem the CLI itself found (arguments, file writes), or an
    /// error of a crate whose errors are not diagnostics yet.
    Other { message: String, help: Option<String> },
}

impl From<FileErrors> for Failure {
    fn from(e: FileErrors) -> Self {
        Failure::File(e)
    }
}

impl From<spikeforge_mapper::ExplainedMapError> for Failure {
    fn from(e: spikeforge_mapper::ExplainedMapError) -> Self {
        Failure::Mapping(Box::new(e))
    }
}

impl From<spikeforge_mapper::MapLoadError> for Failure {
    fn from(e: spikeforge_mapper::MapLoadError) -> Self {
        match e {
            // Keeps the located report and its JSON form.
            spikeforge_mapper::MapLoadError::Input(f) => Failure::File(f),
            e => Failure::Diagnostic(Box::new(e)),
        }
    }
}

/// `From` for stage errors that are plain diagnostics.
macro_rules! diagnostic_failures {
    ($($t:ty),* $(,)?) => {$(
        impl From<$t> for Failure {
            fn from(e: $t) -> Self {
                Failure::Diagnostic(Box::new(e))
            }
        }
    )*};
}

diagnostic_failures!(
    spikeforge_mapper::MapError,
    spikeforge_golden::GoldenError,
    spikeforge_convert::OnnxError,
    spikeforge_convert::nir::NirError,
    spikeforge_convert::ConvertError,
    spikeforge_convert::data::DataError,
    spikeforge_sim::SimError,
    spikeforge_fpga::protocol::ProtocolError,
    spikeforge_fpga::boards::UnknownBoard,
    spikeforge_fpga::flow::FlowError,
    spikeforge_hdl::tools::ToolError,
);

impl<E: Diagnostic + Send + Sync + 'static> From<InFile<E>> for Failure {
    fn from(e: InFile<E>) -> Self {
        Failure::Diagnostic(Box::new(e))
    }
}

impl<E: fmt::Debug + fmt::Display + Send + Sync + 'static> From<Internal<E>> for Failure {
    fn from(e: Internal<E>) -> Self {
        Failure::Diagnostic(Box::new(e))
    }
}

/// A failure with a message and an optional help line.
pub fn other(message: impl Into<String>, help: Option<&str>) -> Failure {
    Failure::Other { message: message.into(), help: help.map(str::to_string) }
}

/// A stage error about a file its type does not name (`FILE: error`).
#[derive(Debug)]
pub struct InFile<E> {
    /// The file.
    pub file: String,
    /// The error.
    pub error: E,
}

impl<E: fmt::Display> fmt::Display for InFile<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file, self.error)
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for InFile<E> {}

impl<E: Diagnostic> Diagnostic for InFile<E> {
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.error.help()
    }
}

/// A stage error that input cannot cause: a bug in spikeforge.
#[derive(Debug)]
pub struct Internal<E>(pub E);

impl<E: fmt::Display> fmt::Display for Internal<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "internal error (please report): {}", self.0)
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for Internal<E> {}

// No help: the stage's help is for input, and this was not the input's fault.
impl<E: fmt::Debug + fmt::Display> Diagnostic for Internal<E> {}

/// A message and its help, as a diagnostic: every error the CLI prints
/// has miette's one style.
#[derive(Debug)]
struct Plain {
    message: String,
    help: Option<String>,
}

impl fmt::Display for Plain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Plain {}

impl Diagnostic for Plain {
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
}

/// Prints an error (and its help) on stderr in miette's style.
pub fn print_error(message: &str, help: Option<&str>) {
    let d = Plain { message: message.into(), help: help.map(String::from) };
    eprintln!("{:?}", miette::Report::new(d));
}

/// Prints a failure on stderr and, with `--json`, its JSON report on stdout.
pub fn report_failure(f: Failure, json: bool) {
    match f {
        Failure::File(e) => {
            let report = json.then(|| serde_json::json!({"ok": false, "error": e.to_json()}));
            eprintln!("{:?}", miette::Report::new(e));
            if let Some(r) = report {
                println!("{r}");
            }
        }
        Failure::Diagnostic(d) => {
            let help = d.help().map(|h| h.to_string());
            let report =
                json.then(|| serde_json::json!({"ok": false, "error": {"message": d.to_string(), "help": help}}));
            eprintln!("{:?}", miette::Report::new_boxed(d));
            if let Some(r) = report {
                println!("{r}");
            }
        }
        Failure::Mapping(e) => {
            let report = json.then(|| {
                let core_bound = match &e.error {
                    spikeforge_mapper::MapError::Cores { needed, bound, binding, .. } => {
                        serde_json::json!({"needed": needed, "bound": bound, "binding": binding})
                    }
                    _ => serde_json::Value::Null,
                };
                serde_json::json!({"ok": false, "error": {
                    "message": e.to_string(),
                    "help": e.help,
                    "cores": core_bound,
                    "advice": e.advice,
                    "preset": e.preset,
                }})
            });
            eprintln!("{:?}", miette::Report::new(*e));
            if let Some(r) = report {
                println!("{r}");
            }
        }
        Failure::Other { message, help } => {
            print_error(&message, help.as_deref());
            if json {
                println!("{}", serde_json::json!({"ok": false, "error": {"message": message, "help": help}}));
            }
        }
    }
}

/// A progress bar of `len` units on stderr with `template` (indicatif's),
/// or none when `show` is false or stderr is not a terminal.
pub fn progress_bar(show: bool, len: u64, template: &str) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    (show && std::io::stderr().is_terminal()).then(|| {
        indicatif::ProgressBar::new(len)
            .with_style(indicatif::ProgressStyle::with_template(template).expect("a valid progress template"))
    })
}

/// Builds (or takes from the cache) the Verilator model of `spec`, traced
/// when `trace`. A fresh build takes from seconds to minutes, so with
/// `show` (and stderr a terminal) its stages and the C++ files compiled so
/// far are shown as it goes.
pub fn build_model(
    spec: &spikeforge_hw::HardwareSpec,
    trace: bool,
    show: bool,
) -> Result<spikeforge_sim::Built, Failure> {
    use spikeforge_sim::verilate::{BuildOptions, BuildStage};
    let bar = progress_bar(show, 0, "{spinner} {msg} {wide_bar} {pos}/{len} files {elapsed}");
    let what = format!("Verilator model of `{}`", spec.name);
    let options = BuildOptions { trace, ..BuildOptions::default() };
    let built = spikeforge_sim::verilate::build_with(spec, &options, &mut |stage| {
        let Some(b) = &bar else { return };
        b.enable_steady_tick(std::time::Duration::from_millis(200));
        match stage {
            BuildStage::Generating => b.set_message(format!("{what}: generating the Verilog")),
            BuildStage::Verilating => b.set_message(format!("{what}: Verilator (Verilog to C++)")),
            BuildStage::Compiling { done, total } => {
                b.set_message(format!("{what}: compiling C++"));
                b.set_length(total as u64);
                b.set_position(done as u64);
            }
            BuildStage::Linking => b.set_message(format!("{what}: linking")),
        }
    });
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let built = built?;
    if let Some(why) = &built.without_verilator {
        // Degrade, do not fail: the cached model of the same sources runs.
        eprintln!("note: {why}; using the cached {what} ({})", built.dir.display());
    }
    Ok(built)
}

/// Loads and validates a network file.
pub fn load(net: &Path) -> Result<Network, Failure> {
    Ok(spikeforge_net::load_network(net)?)
}

/// The stimulus file of a run of `steps` steps (none: no input spikes);
/// spikes at or after `steps` are refused at their row, not dropped.
pub fn load_stimulus_list(net: &Network, path: Option<&Path>, steps: u32) -> Result<SpikeTrain, Failure> {
    Ok(match path {
        Some(s) => spikes::load_stimulus(net, s, steps)?,
        None => SpikeTrain::default(),
    })
}

/// [`load_stimulus_list`], indexed by step.
pub fn load_stimulus(net: &Network, path: Option<&Path>, steps: u32) -> Result<Stimulus, Failure> {
    Ok(Stimulus::from_train(&load_stimulus_list(net, path, steps)?))
}

/// Maps a network; "does not fit" carries the fix ([`spikeforge_mapper::explain`]).
pub fn map_network(
    net: &Network,
    spec: &spikeforge_mapper::HardwareSpec,
    algorithm: spikeforge_mapper::Algorithm,
) -> Result<spikeforge_mapper::Mapping, Failure> {
    // Large networks take seconds: their stages are shown.
    map_network_with(net, spec, algorithm, &crate::progress::Display::new("map", true))
}

/// [`map_network`], reporting to a display the caller already shows.
pub fn map_network_with(
    net: &Network,
    spec: &spikeforge_mapper::HardwareSpec,
    algorithm: spikeforge_mapper::Algorithm,
    progress: &dyn spikeforge_net::progress::Progress,
) -> Result<spikeforge_mapper::Mapping, Failure> {
    spikeforge_mapper::map_with(net, spec, &spikeforge_mapper::MapOptions::new(algorithm), progress)
        .map_err(|e| e.explained(net, spec, algorithm).into())
}

/// Writes an output file.
/// An output file checked before any work: its folder exists and the path
/// is not a folder.
pub fn check_out_file(path: &Path, flag: &str) -> Result<(), Failure> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !dir.is_dir() {
        return Err(other(
            format!("{flag} {}: the folder {} does not exist", path.display(), dir.display()),
            Some("create it first or write elsewhere"),
        ));
    }
    if path.is_dir() {
        return Err(other(format!("{flag} {}: is a folder, not a file", path.display()), Some("name a file")));
    }
    Ok(())
}

/// An output folder checked before any work: it is a folder, or it can be
/// created (no file stands on its path).
pub fn check_out_dir(path: &Path, flag: &str) -> Result<(), Failure> {
    let Some(existing) = path.ancestors().find(|a| !a.as_os_str().is_empty() && a.exists()) else {
        return Ok(());
    };
    if !existing.is_dir() {
        let what = if existing == path {
            format!("{flag} {}: is a file, not a folder", path.display())
        } else {
            format!("{flag} {}: {} is a file, so the folder cannot be created", path.display(), existing.display())
        };
        return Err(other(what, Some("name a folder (it is created if missing)")));
    }
    Ok(())
}

pub fn write_file(path: &Path, text: &str) -> Result<(), Failure> {
    std::fs::write(path, text).map_err(|e| other(format!("cannot write {}: {e}", path.display()), None))
}
