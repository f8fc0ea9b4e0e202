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

/// Early exit of a run (`sim`, `run`): stop once the output population's
/// lead holds (docs/conversion.md, "Early exit").
#[derive(Args)]
pub struct EarlyExitArgs {
    /// Stop once the leading output's score leads the runner-up by MARGIN
    /// for PATIENCE consecutive steps (default 1): MARGIN or MARGIN:PATIENCE.
    /// The steps before input spikes can reach the outputs do not count.
    #[arg(long, value_name = "MARGIN[:PATIENCE]", value_parser = early_exit_arg)]
    pub early_exit: Option<spikeforge_golden::early_exit::EarlyExit>,
    /// The outputs' score for --early-exit: potential (read back after
    /// every step) or count (spikes so far).
    #[arg(long, default_value = "potential", value_parser = ["potential", "count"], requires = "early_exit")]
    pub exit_readout: String,
    /// The population whose neurons are the outputs, in class order.
    #[arg(long, default_value = "output", requires = "early_exit")]
    pub exit_outputs: String,
}

fn early_exit_arg(s: &str) -> Result<spikeforge_golden::early_exit::EarlyExit, String> {
    spikeforge_golden::early_exit::EarlyExit::parse(s)
}

impl EarlyExitArgs {
    /// The run's early exit on `net`, if asked; a missing output population
    /// is an error naming the ones there are.
    pub fn spec(
        &self,
        net: &spikeforge_net::Network,
    ) -> Result<Option<spikeforge_golden::early_exit::ExitSpec>, crate::common::Failure> {
        use spikeforge_golden::early_exit::{warmup, EarlyExit, ExitReadout, ExitSpec};
        let Some(rule) = self.early_exit else { return Ok(None) };
        let Some((id, p)) = net.population(&self.exit_outputs) else {
            let names: Vec<&str> = net.populations().iter().map(|p| p.name()).collect();
            return Err(crate::common::other(
                format!("--exit-outputs {}: the network has no population of that name", self.exit_outputs),
                Some(&format!("populations: {}", names.join(", "))),
            ));
        };
        let readout = if self.exit_readout == "count" { ExitReadout::Count } else { ExitReadout::Potential };
        // The steps before input spikes can reach the outputs are not observed.
        let rule = EarlyExit { warmup: warmup(net, id), ..rule };
        Ok(Some(ExitSpec { rule, outputs: (p.offset()..p.offset() + p.size()).collect(), readout }))
    }
}
