//! Option groups several subcommands share (flattened into their
//! arguments with `#[command(flatten)]`) and the value parsers of options
//! that recur with their own help texts.

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::Args;
use spikeforge_mapper::Algorithm;
use std::path::PathBuf;

/// The network file, as the first positional argument.
#[derive(Args)]
pub struct NetArg {
    /// Network file (.json or .toml).
    pub net: PathBuf,
}

/// `--spec`: the hardware spec, required.
#[derive(Args)]
pub struct SpecArg {
    /// Spec preset name or spec file (.toml).
    #[arg(long)]
    pub spec: String,
}

/// `--algorithm`: the partitioner.
#[derive(Args)]
pub struct AlgorithmArg {
    /// Partitioner.
    #[arg(long, default_value = "multilevel", value_parser = algorithm())]
    pub algorithm: Algorithm,
}

/// `--steps` and `--stimulus` of a run.
#[derive(Args)]
pub struct RunInputs {
    /// Number of time steps to run (at least 1).
    #[arg(long, value_parser = steps_arg)]
    pub steps: u32,
    /// Stimulus CSV (`step,population,index`) for the input populations.
    #[arg(long)]
    pub stimulus: Option<PathBuf>,
}

/// `--json`.
#[derive(Args)]
pub struct JsonArg {
    /// Print a machine-readable report on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `--steps`: a run has at least one time step.
pub fn steps_arg(s: &str) -> Result<u32, String> {
    match s.parse::<u32>() {
        Ok(0) => Err("steps must be at least 1 (a run has at least one time step)".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(format!("`{s}` is not a step count: {e}")),
    }
}

/// `--algorithm`'s parser: the partitioner's names, straight to the
/// mapper's type (help lists them as `[possible values: greedy, multilevel]`).
pub fn algorithm() -> impl TypedValueParser<Value = Algorithm> {
    PossibleValuesParser::new(["greedy", "multilevel"]).map(|s| match s.as_str() {
        "greedy" => Algorithm::Greedy,
        _ => Algorithm::Multilevel,
    })
}

/// `--max-input-size`: a size as `spikeforge_net::input::parse_size` reads it.
pub fn max_input_size(s: &str) -> Result<u64, spikeforge_net::input::SizeError> {
    spikeforge_net::input::parse_size(s)
}
