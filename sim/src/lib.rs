//! Runs the generated Verilog cycle-accurately under Verilator and checks
//! it against the golden model, step by step.
//!
//! Owns: the cached Verilator build of a spec's design with a fixed C++
//! shim ([`verilate`]), the model loaded at run time ([`model`]), the host
//! protocol driver ([`hardware`], the Verilator `HardwareModel`), the
//! lockstep comparator for every hardware model with mismatch reports and
//! VCD windows ([`run`]), the Icarus model ([`icarus`]) and the simulated
//! board behind a UART ([`uart`]), and the trimming of waveforms to the
//! design's own signals ([`vcd`]).
//!
//! Invariants: the design is built for a spec, never for a network (one
//! build serves every network that maps onto the spec); a network reaches
//! the hardware only through the top-level ports, as a board's host would
//! load it. Depends on `hdl` for the Verilog, `hw` for the contract and
//! `golden` as the reference, never on `fpga`; nothing depends on `sim`
//! except the CLI and tests. External tools start only through
//! `spikeforge_hdl::tools`.

pub mod hardware;
pub mod icarus;
pub mod model;
pub mod run;
pub mod uart;
pub mod vcd;
pub mod verilate;

pub use hardware::{Backpressure, Hardware, StepOutput};
pub use model::{InitialState, Model, Pins};
pub use run::{lockstep, run, Divergence, LockstepError, Mismatch, RunOptions, SimRun, VcdWindow, Verdict};
pub use verilate::{build, Built};

use std::path::PathBuf;

/// Errors of the simulation stage.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum SimError {
    /// An external tool (Verilator, Icarus) is missing or cannot be run.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Tool(#[from] spikeforge_hdl::tools::ToolError),
    /// Verilator or the C++ compiler failed.
    #[error("the Verilator build failed: {cause} (full log: {}):\n{tail}", log.display())]
    #[diagnostic(code(spikeforge::sim::build_failed), help("{help}"))]
    BuildFailed {
        /// The build log.
        log: PathBuf,
        /// Its last lines.
        tail: String,
        /// The likely cause, read from the log.
        cause: String,
        /// How to fix it.
        help: String,
    },
    /// The built library cannot be loaded.
    #[error("cannot load the Verilator model {}: {detail}", library.display())]
    #[diagnostic(help("delete that cache folder (or set SPIKEFORGE_CACHE to a fresh one) so the model is rebuilt"))]
    Load {
        /// The library.
        library: PathBuf,
        /// Why.
        detail: String,
    },
    /// The mapping is for another spec than the model.
    #[error("the mapping is for spec `{mapping}` but the model was built for `{model}`")]
    #[diagnostic(help("map the network with the spec the model was built for"))]
    SpecMismatch {
        /// Mapping's spec.
        mapping: String,
        /// Model's spec.
        model: String,
    },
    /// The stimulus has spikes after the last step.
    #[error("the stimulus has spikes at step {last}, but the run has only {steps} steps (0..{steps})")]
    #[diagnostic(help("pass --steps {} or more", last + 1))]
    StimulusBeyondRun {
        /// Last stimulus step.
        last: u32,
        /// Steps of the run.
        steps: u32,
    },
    /// The design did not finish a phase within the limit.
    #[error("the hardware did not finish {what} of step {step} within {cycles} clock cycles (deadlock or livelock in the design)")]
    #[diagnostic(help("a bug in the generated hardware: rerun with --vcd to see the waveform, and please report it"))]
    Hung {
        /// Step.
        step: u32,
        /// Clocks waited.
        cycles: u64,
        /// Phase.
        what: String,
    },
    /// A file or folder could not be used.
    #[error("{what} {}{}", path.display(), source.as_ref().map(|e| format!(": {e}")).unwrap_or_default())]
    #[diagnostic(help("check that the folder exists, is writable and the disk is not full"))]
    Io {
        /// What was attempted ("cannot write").
        what: String,
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error, if any.
        source: Option<std::io::Error>,
    },
    /// Icarus Verilog rejected the design or the run failed.
    #[error("{stage}:\n{detail}")]
    #[diagnostic(help(
        "the files of the run are kept in its folder; rerun `iverilog -c files.f` and `vvp sf_tb.vvp` there"
    ))]
    Icarus {
        /// What failed (`iverilog`, `vvp`, reading the testbench output).
        stage: &'static str,
        /// The tool's output or the offending line.
        detail: String,
    },
    /// Early exit asked of a run that cannot stop early as asked.
    #[error("early exit: {0}")]
    #[diagnostic(help("see docs/conversion.md, \"Early exit\""))]
    EarlyExit(String),
    /// A bug in spikeforge.
    #[error("internal error (a bug in spikeforge, please report it): {0}")]
    Internal(String),
}

impl SimError {
    /// An [`SimError::Io`] of `what` on `path`.
    pub fn io(what: &str, path: &std::path::Path, source: Option<std::io::Error>) -> SimError {
        SimError::Io { what: what.to_string(), path: path.to_path_buf(), source }
    }
}
