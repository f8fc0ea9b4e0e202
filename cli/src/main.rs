//! `spikeforge`: the command-line interface.
//!
//! Owns argument parsing, file IO, report printing and exit codes:
//! 0 success, 1 invalid input (a located message on stderr; with `--json` a
//! JSON error report on stdout too), 2 usage errors (clap), 3 the hardware
//! differs from the golden model (`sim --verify`, `run`, `regress`). Library
//! crates return typed errors; only this crate turns them into text and
//! exit codes.
//!
//! Each subcommand's arguments are a clap `Args` struct in its own module,
//! runnable through [`common::Command`]; this file only parses, dispatches
//! and maps the outcome to the exit status.

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use common::{Command, Outcome, EXIT_MISMATCH};
use std::process::ExitCode;

mod args;
mod checkcmd;
mod common;
mod convertcmd;
mod example;
mod fpgacmd;
mod goldencmd;
mod hdlcmd;
mod mapcmd;
mod nircmd;
mod progress;
mod regresscmd;
mod report;
mod runcmd;
mod shellcmd;
mod simcmd;

// The paths sim and run have always imported their helpers from.
pub(crate) use common::{load, load_stimulus, map_network, other, progress_bar, write_file, Failure};

#[derive(Parser)]
#[command(
    name = "spikeforge",
    version,
    about = "Map spiking neural networks onto neuron cores, generate and verify their hardware"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
    /// Largest input file read (network, stimulus, spec, model, data), e.g.
    /// 4G or 512M; default 1G or $SPIKEFORGE_MAX_INPUT_BYTES.
    #[arg(long, global = true, value_name = "SIZE", value_parser = args::max_input_size)]
    max_input_size: Option<u64>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Validate a network file and print a summary.
    Check(checkcmd::CheckArgs),
    /// Run the bit-exact golden model.
    Golden(goldencmd::GoldenArgs),
    /// Print the JSON Schema of the network file format.
    Schema(checkcmd::SchemaArgs),
    /// List the hardware spec presets, or print one as a TOML spec file.
    Spec(mapcmd::SpecCmdArgs),
    /// Write the Verilog of a hardware spec (optionally preloaded with a mapping).
    Hdl(hdlcmd::HdlArgs),
    /// Map a network onto a hardware spec and write its memory images.
    Map(mapcmd::MapArgs),
    /// Run a network on the Verilator model of a spec (cycle-accurate), optionally
    /// checked against the golden model every step. Exit status 3: hardware differs.
    Sim(simcmd::SimArgs),
    /// Run random network x spec x mapping cases on the Verilator model in lockstep
    /// with golden; shrink and save every case that differs. Exit status 3: a case differs.
    Regress(regresscmd::RegressArgs),
    /// Write an FPGA project (Verilog with the network loaded, UART bridge,
    /// constraints, build scripts, FuseSoC core) for a board; --build runs the flow.
    Fpga(fpgacmd::FpgaArgs),
    /// Run a stimulus on a board over its UART and compare with the golden model.
    /// Exit status 3: the board differs.
    Run(runcmd::RunArgs),
    /// Convert a trained ANN (ONNX) into an integer SNN network file.
    Convert(convertcmd::ConvertArgs),
    /// Import a spiking network from a NIR graph (HDF5) into a network file.
    Import(nircmd::ImportArgs),
    /// Export a network file as a NIR graph (HDF5).
    Export(nircmd::ExportArgs),
    /// Run the main job on the built-in default example: convert the digits
    /// ANN, check its accuracy, map it, co-simulate its hardware under
    /// Verilator against golden, write FPGA sources and an HTML report.
    Demo(example::DemoArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(shellcmd::CompletionsArgs),
    /// Write the man pages (spikeforge.1 and one per subcommand).
    Man(shellcmd::ManArgs),
}

impl Cmd {
    /// The subcommand's arguments as a runnable command.
    fn command(&self) -> &dyn Command {
        match self {
            Cmd::Check(a) => a,
            Cmd::Golden(a) => a,
            Cmd::Schema(a) => a,
            Cmd::Spec(a) => a,
            Cmd::Hdl(a) => a,
            Cmd::Map(a) => a,
            Cmd::Sim(a) => a,
            Cmd::Regress(a) => a,
            Cmd::Fpga(a) => a,
            Cmd::Run(a) => a,
            Cmd::Convert(a) => a,
            Cmd::Import(a) => a,
            Cmd::Export(a) => a,
            Cmd::Demo(a) => a,
            Cmd::Completions(a) => a,
            Cmd::Man(a) => a,
        }
    }
}

/// The environment variables spikeforge reads, for `--help` (each name
/// from the constant its crate reads it by).
fn environment_help() -> String {
    let verilator = spikeforge_hdl::tools::VERILATOR.env_override.unwrap_or("VERILATOR");
    let vars = [
        (spikeforge_net::input::MAX_INPUT_ENV, "largest input file read, as --max-input-size (default 1G)"),
        (
            spikeforge_sim::verilate::CACHE_ENV,
            "cache of built Verilator models (default $XDG_CACHE_HOME/spikeforge, else ~/.cache/spikeforge)",
        ),
        (verilator, "the verilator program to run (default: verilator on PATH)"),
        ("VERILATOR_ROOT", "Verilator's install root, as Verilator reads it; must be a plain path"),
        ("TMPDIR", "temporary files; the tools get /tmp instead when it holds shell-unsafe characters"),
        (progress::PROGRESS_ENV, "auto (bars on a terminal), plain (a line per stage, for logs) or off"),
    ];
    let mut text = String::from("Environment:\n");
    for (name, what) in vars {
        text += &format!("  {name:<28}{what}\n");
    }
    text
}

/// The parser's definition with the environment listed in `--help`; also
/// what `completions` and `man` are generated from.
pub(crate) fn cli_command() -> clap::Command {
    Cli::command().after_help(environment_help())
}

fn main() -> ExitCode {
    // Unwrapped messages: a `file:line:col: message` line stays greppable.
    let _ = miette::set_hook(Box::new(|_| {
        Box::new(miette::MietteHandlerOpts::new().wrap_lines(false).terminal_links(false).build())
    }));
    let cli = Cli::from_arg_matches(&cli_command().get_matches()).unwrap_or_else(|e| e.exit());
    if let Some(limit) = cli.max_input_size {
        spikeforge_net::input::set_max_input_bytes(limit);
    }
    let cmd = cli.cmd.command();
    match cmd.run() {
        Ok(Outcome::Done) => ExitCode::SUCCESS,
        Ok(Outcome::Differs) => ExitCode::from(EXIT_MISMATCH),
        Err(f) => {
            common::report_failure(f, cmd.json());
            ExitCode::from(1)
        }
    }
}
