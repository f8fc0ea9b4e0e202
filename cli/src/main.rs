//! `spikeforge`: the command-line interface.
//!
//! Owns argument parsing, file IO, report printing and exit codes:
//! 0 success, 1 invalid input (a located message on stderr; with `--json` a
//! JSON error report on stdout too), 2 usage errors (clap), 3 the hardware
//! differs from the golden model (`sim --verify`, `regress`). Library crates
//! return typed errors; only this crate turns them into text and exit codes.

use clap::{Parser, Subcommand};
use serde_json::json;
use spikeforge_net::{spikes, FileErrors, Network, SpikeTrain, Stimulus};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

mod convertcmd;
mod example;
mod fpgacmd;
mod hdlcmd;
mod mapcmd;
mod regresscmd;
mod report;
mod runcmd;
mod simcmd;

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
    #[arg(long, global = true, value_name = "SIZE", value_parser = max_input_size)]
    max_input_size: Option<u64>,
}

/// `--max-input-size`: a size as `spikeforge_net::input::parse_size` reads it.
fn max_input_size(s: &str) -> Result<u64, String> {
    spikeforge_net::input::parse_size(s)
}

/// `--steps`: a run has at least one time step.
pub(crate) fn steps_arg(s: &str) -> Result<u32, String> {
    match s.parse::<u32>() {
        Ok(0) => Err("steps must be at least 1 (a run has at least one time step)".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(format!("`{s}` is not a step count: {e}")),
    }
}

#[derive(Subcommand)]
enum Cmd {
    /// Validate a network file and print a summary.
    Check {
        /// Network file (.json or .toml).
        net: PathBuf,
        /// Print a machine-readable report on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Run the bit-exact golden model.
    Golden {
        /// Network file (.json or .toml).
        net: PathBuf,
        /// Number of time steps to run (at least 1).
        #[arg(long, value_parser = steps_arg)]
        steps: u32,
        /// Stimulus CSV (`step,population,index`) for the input populations.
        #[arg(long)]
        stimulus: Option<PathBuf>,
        /// Write every computed spike here (CSV).
        #[arg(long)]
        spikes_out: Option<PathBuf>,
        /// Write the potentials after the last step here (CSV).
        #[arg(long)]
        potentials_out: Option<PathBuf>,
        /// Print a machine-readable report on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Print the JSON Schema of the network file format.
    Schema,
    /// List the hardware spec presets, or print one as a TOML spec file.
    Spec {
        /// Preset to print.
        name: Option<String>,
        /// List the presets.
        #[arg(long)]
        list: bool,
    },
    /// Write the Verilog of a hardware spec (optionally preloaded with a mapping).
    Hdl {
        /// Spec preset name or spec file (.toml).
        #[arg(long)]
        spec: String,
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
        /// Folder written by `spikeforge map --out`: the design boots with that network.
        #[arg(long)]
        mapping: Option<PathBuf>,
        /// Synthesize with yosys (synth_ice40) and print the resources.
        #[arg(long)]
        report: bool,
        /// Print a machine-readable report on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Map a network onto a hardware spec and write its memory images.
    Map {
        /// Network file (.json or .toml).
        net: PathBuf,
        /// Spec preset name or spec file (.toml).
        #[arg(long)]
        spec: String,
        /// Stimulus CSV: firing rates from a golden run weigh the traffic, and
        /// the architectural model is run and checked against golden.
        #[arg(long)]
        stimulus: Option<PathBuf>,
        /// Steps for the stimulus run (default: the stimulus length; at least 1).
        #[arg(long, value_parser = steps_arg)]
        steps: Option<u32>,
        /// Partitioner.
        #[arg(long, value_enum, default_value = "multilevel")]
        algorithm: AlgorithmArg,
        /// Write mapping.json and the .hex memory images here.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print a machine-readable report on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Run a network on the Verilator model of a spec (cycle-accurate), optionally
    /// checked against the golden model every step. Exit status 3: hardware differs.
    Sim {
        /// Network file (.json or .toml).
        net: PathBuf,
        /// Spec preset name or spec file (.toml).
        #[arg(long)]
        spec: String,
        /// Number of time steps to run (at least 1).
        #[arg(long, value_parser = steps_arg)]
        steps: u32,
        /// Stimulus CSV (`step,population,index`) for the input populations.
        #[arg(long)]
        stimulus: Option<PathBuf>,
        /// Run golden beside the hardware; compare spikes and every potential after each step.
        #[arg(long)]
        verify: bool,
        /// Write a VCD waveform of a window of steps (see --vcd-steps).
        #[arg(long)]
        vcd: Option<PathBuf>,
        /// Steps traced into --vcd: A..B, A..=B or A (default: the first 8).
        #[arg(long)]
        vcd_steps: Option<String>,
        /// Where --verify leaves the waveform of the steps before a mismatch
        /// (default: next to --vcd, else ./spikeforge-mismatch.vcd).
        #[arg(long)]
        mismatch_vcd: Option<PathBuf>,
        /// Write the hardware's spikes here (CSV).
        #[arg(long)]
        spikes_out: Option<PathBuf>,
        /// Partitioner.
        #[arg(long, value_enum, default_value = "multilevel")]
        algorithm: AlgorithmArg,
        /// Take spike-out words only in this percentage of clocks (1-100).
        #[arg(long)]
        backpressure: Option<u32>,
        /// Start every uninitialized bit of the design random from this seed.
        #[arg(long)]
        random_init: Option<u32>,
        /// Map with a random (valid but arbitrary) packing and placement from this seed.
        #[arg(long)]
        map_seed: Option<u64>,
        /// Seed of the --backpressure ready pattern.
        #[arg(long, default_value_t = 1, requires = "backpressure")]
        backpressure_seed: u64,
        /// For testing the verification harness only: after loading, set one
        /// neuron's bias (chosen from this seed) to a value that makes the run
        /// differ from golden; --verify must then report a mismatch.
        #[arg(long)]
        inject_fault: Option<u64>,
        /// Print a machine-readable report on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Run random network x spec x mapping cases on the Verilator model in lockstep
    /// with golden; shrink and save every case that differs. Exit status 3: a case differs.
    Regress {
        /// Number of cases of the campaign (case indices 0..N).
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
        cases: u64,
        /// Campaign seed: case I of seed S is the same case on every machine.
        #[arg(long)]
        seed: u64,
        /// Run only the cases whose index is I modulo K (0 <= I < K).
        #[arg(long, default_value = "0/1", value_name = "I/K")]
        shard: regresscmd::Shard,
        /// Spec presets or spec files to draw from (default: the property-test pool).
        #[arg(long, value_name = "NAME_OR_FILE", num_args = 1..)]
        spec: Vec<String>,
        /// Write a JUnit XML report here (one testcase per case).
        #[arg(long)]
        junit: Option<PathBuf>,
        /// Folder for the minimal failing cases (one subfolder per case).
        #[arg(long, default_value = "regress-failures")]
        out: PathBuf,
        /// Co-simulations spent shrinking each failing case at most.
        #[arg(long, default_value_t = 2000)]
        shrink_steps: u32,
        /// For testing this harness only: corrupt one neuron's bias word in every
        /// case (chosen from this seed so that golden shows a difference).
        #[arg(long)]
        inject_fault: Option<u64>,
        /// Print a machine-readable report on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Write an FPGA project (Verilog with the network loaded, UART bridge,
    /// constraints, build scripts, FuseSoC core) for a board; --build runs the flow.
    Fpga {
        /// Network file (.json or .toml).
        #[arg(required_unless_present = "list_boards")]
        net: Option<PathBuf>,
        /// Board (see --list-boards).
        #[arg(long, required_unless_present = "list_boards")]
        board: Option<String>,
        /// Output folder.
        #[arg(long, required_unless_present = "list_boards")]
        out: Option<PathBuf>,
        /// Spec preset or file (default: the board's).
        #[arg(long)]
        spec: Option<String>,
        /// Partitioner.
        #[arg(long, value_enum, default_value = "multilevel")]
        algorithm: AlgorithmArg,
        /// Run the flow: bitstream and fit report for iCE40 boards, a yosys
        /// synthesis estimate for the others.
        #[arg(long)]
        build: bool,
        /// List the boards.
        #[arg(long)]
        list_boards: bool,
        /// Print a machine-readable report on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Run a stimulus on a board over its UART and compare with the golden model.
    /// Exit status 3: the board differs.
    Run {
        /// Network file (.json or .toml).
        net: PathBuf,
        /// Serial device of the board, e.g. /dev/ttyUSB1.
        #[arg(long)]
        port: String,
        /// Spec the bitstream was built for (preset or file).
        #[arg(long)]
        spec: Option<String>,
        /// Or: the board (its default spec).
        #[arg(long)]
        board: Option<String>,
        /// Baud rate.
        #[arg(long, default_value_t = spikeforge_fpga::BAUD)]
        baud: u32,
        /// Stimulus CSV.
        #[arg(long)]
        stimulus: Option<PathBuf>,
        /// Number of time steps (at least 1).
        #[arg(long, value_parser = steps_arg)]
        steps: u32,
        /// Do not load the network (the bitstream already holds it); only reset its state.
        #[arg(long)]
        no_load: bool,
        /// Partitioner (must be the one the bitstream was made with).
        #[arg(long, value_enum, default_value = "multilevel")]
        algorithm: AlgorithmArg,
        /// Write the board's spikes here (CSV).
        #[arg(long)]
        spikes_out: Option<PathBuf>,
        /// Read back and compare every potential after every step, not only
        /// after the last (one PEEK request per neuron and step).
        #[arg(long)]
        potentials_every_step: bool,
        /// Print a machine-readable report on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Convert a trained ANN (ONNX) into an integer SNN network file.
    Convert(convertcmd::ConvertArgs),
    /// Run the main job on the built-in default example: convert the digits
    /// ANN, check its accuracy, map it, co-simulate its hardware under
    /// Verilator against golden, write FPGA sources and an HTML report.
    Demo {
        /// Print a machine-readable report on stdout.
        #[arg(long)]
        json: bool,
        /// Folder for the network, FPGA sources and report.html.
        #[arg(long, default_value = "spikeforge-demo")]
        out: PathBuf,
        /// Test images co-simulated under Verilator.
        #[arg(long, default_value_t = 20)]
        samples: usize,
        /// Skip the yosys resource estimate.
        #[arg(long)]
        no_synth: bool,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum AlgorithmArg {
    Greedy,
    Multilevel,
}

impl From<AlgorithmArg> for spikeforge_mapper::Algorithm {
    fn from(a: AlgorithmArg) -> Self {
        match a {
            AlgorithmArg::Greedy => spikeforge_mapper::Algorithm::Greedy,
            AlgorithmArg::Multilevel => spikeforge_mapper::Algorithm::Multilevel,
        }
    }
}

/// A failure the user can fix; printed, then exit code 1.
enum Failure {
    File(FileErrors),
    Other { message: String, help: Option<String> },
}

impl From<FileErrors> for Failure {
    fn from(e: FileErrors) -> Self {
        Failure::File(e)
    }
}

fn other(message: impl Into<String>, help: Option<&str>) -> Failure {
    Failure::Other { message: message.into(), help: help.map(str::to_string) }
}

fn main() -> ExitCode {
    // Unwrapped messages: a `file:line:col: message` line stays greppable.
    let _ = miette::set_hook(Box::new(|_| {
        Box::new(miette::MietteHandlerOpts::new().wrap_lines(false).terminal_links(false).build())
    }));
    let cli = Cli::parse();
    if let Some(limit) = cli.max_input_size {
        spikeforge_net::input::set_max_input_bytes(limit);
    }
    let json = match &cli.cmd {
        Cmd::Check { json, .. }
        | Cmd::Golden { json, .. }
        | Cmd::Demo { json, .. }
        | Cmd::Map { json, .. }
        | Cmd::Sim { json, .. }
        | Cmd::Regress { json, .. }
        | Cmd::Fpga { json, .. }
        | Cmd::Run { json, .. }
        | Cmd::Hdl { json, .. } => *json,
        Cmd::Convert(a) => a.json,
        Cmd::Schema | Cmd::Spec { .. } => false,
    };
    let result = match cli.cmd {
        Cmd::Check { net, json } => check(&net, json),
        Cmd::Golden { net, steps, stimulus, spikes_out, potentials_out, json } => {
            golden(&net, steps, stimulus.as_deref(), spikes_out.as_deref(), potentials_out.as_deref(), json)
        }
        Cmd::Schema => {
            println!("{}", serde_json::to_string_pretty(&spikeforge_net::json_schema()).expect("schema is JSON"));
            Ok(())
        }
        Cmd::Demo { json, out, samples, no_synth } => {
            example::demo(&example::DemoArgs { json, out: &out, samples, no_synth })
        }
        Cmd::Convert(args) => convertcmd::convert(&args),
        Cmd::Spec { name, list } => mapcmd::spec(name.as_deref(), list),
        Cmd::Hdl { spec, out, mapping, report, json } => hdlcmd::hdl(&spec, &out, mapping.as_deref(), report, json),
        Cmd::Map { net, spec, stimulus, steps, algorithm, out, json } => {
            mapcmd::map(&net, &spec, stimulus.as_deref(), steps, algorithm.into(), out.as_deref(), json)
        }
        Cmd::Run {
            net,
            port,
            spec,
            board,
            baud,
            stimulus,
            steps,
            no_load,
            algorithm,
            spikes_out,
            potentials_every_step,
            json,
        } => {
            let args = runcmd::RunArgs {
                net,
                spec,
                board,
                port,
                baud,
                stimulus,
                steps,
                no_load,
                algorithm: algorithm.into(),
                spikes_out,
                potentials_every_step,
                json,
            };
            match runcmd::run(&args) {
                Ok(true) => Ok(()),
                Ok(false) => return ExitCode::from(simcmd::EXIT_MISMATCH),
                Err(e) => Err(e),
            }
        }
        Cmd::Fpga { net, board, out, spec, algorithm, build, list_boards, json } => {
            if list_boards {
                fpgacmd::list_boards(json);
                Ok(())
            } else {
                match (net, board, out) {
                    (Some(net), Some(board), Some(out)) => {
                        fpgacmd::fpga(&net, &board, &out, spec.as_deref(), algorithm.into(), build, json)
                    }
                    _ => Err(other("fpga needs NET, --board and --out (or --list-boards)", None)),
                }
            }
        }
        Cmd::Sim {
            net,
            spec,
            steps,
            stimulus,
            verify,
            vcd,
            vcd_steps,
            mismatch_vcd,
            spikes_out,
            algorithm,
            backpressure,
            random_init,
            map_seed,
            backpressure_seed,
            inject_fault,
            json,
        } => {
            let args = simcmd::SimArgs {
                net,
                spec,
                steps,
                stimulus,
                verify,
                vcd,
                vcd_steps,
                mismatch_vcd,
                spikes_out,
                algorithm: algorithm.into(),
                backpressure,
                random_init,
                map_seed,
                backpressure_seed,
                inject_fault,
                json,
            };
            match simcmd::sim(&args) {
                Ok(true) => Ok(()),
                Ok(false) => return ExitCode::from(simcmd::EXIT_MISMATCH),
                Err(e) => Err(e),
            }
        }
        Cmd::Regress { cases, seed, shard, spec, junit, out, shrink_steps, inject_fault, json } => {
            let args = regresscmd::RegressArgs {
                cases,
                seed,
                shard,
                specs: spec,
                junit,
                json,
                out,
                inject_fault,
                shrink_steps,
            };
            match regresscmd::regress(&args) {
                Ok(true) => Ok(()),
                Ok(false) => return ExitCode::from(simcmd::EXIT_MISMATCH),
                Err(e) => Err(e),
            }
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            report_failure(&f, json);
            ExitCode::from(1)
        }
    }
}

/// A progress bar of `len` units on stderr with `template` (indicatif's),
/// or none when `show` is false or stderr is not a terminal.
fn progress_bar(show: bool, len: u64, template: &str) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    (show && std::io::stderr().is_terminal()).then(|| {
        indicatif::ProgressBar::new(len)
            .with_style(indicatif::ProgressStyle::with_template(template).expect("a valid progress template"))
    })
}

fn report_failure(f: &Failure, json: bool) {
    match f {
        Failure::File(e) => {
            eprintln!("{:?}", miette::Report::new(e.clone()));
            if json {
                println!("{}", json!({"ok": false, "error": e.to_json()}));
            }
        }
        Failure::Other { message, help } => {
            eprintln!("error: {message}");
            if let Some(h) = help {
                eprintln!("help: {h}");
            }
            if json {
                println!("{}", json!({"ok": false, "error": {"message": message, "help": help}}));
            }
        }
    }
}

fn load(net: &Path) -> Result<Network, Failure> {
    Ok(spikeforge_net::load_network(net)?)
}

/// The stimulus file of a run of `steps` steps (none: no input spikes);
/// spikes at or after `steps` are refused at their row, not dropped.
fn load_stimulus_list(net: &Network, path: Option<&Path>, steps: u32) -> Result<SpikeTrain, Failure> {
    Ok(match path {
        Some(s) => spikes::load_stimulus(net, s, steps)?,
        None => SpikeTrain::default(),
    })
}

/// [`load_stimulus_list`], indexed by step.
fn load_stimulus(net: &Network, path: Option<&Path>, steps: u32) -> Result<Stimulus, Failure> {
    Ok(Stimulus::from_train(&load_stimulus_list(net, path, steps)?))
}

/// Maps a network, turning "does not fit" into a message with the fix.
fn map_network(
    net: &Network,
    spec: &spikeforge_mapper::HardwareSpec,
    algorithm: spikeforge_mapper::Algorithm,
) -> Result<spikeforge_mapper::Mapping, Failure> {
    spikeforge_mapper::map(net, spec, &spikeforge_mapper::MapOptions::new(algorithm))
        .map_err(|e| other(e.to_string(), Some(&spikeforge_mapper::explain(net, spec, &e))))
}

fn write_file(path: &Path, text: &str) -> Result<(), Failure> {
    std::fs::write(path, text).map_err(|e| other(format!("cannot write {}: {e}", path.display()), None))
}

fn check(path: &Path, json: bool) -> Result<(), Failure> {
    let net = load(path)?;
    let st = net.stats();
    let fp = net.fixed_point();
    if json {
        let pops: Vec<_> = net
            .populations()
            .iter()
            .map(|p| json!({"name": p.name(), "size": p.size(), "input": p.is_input(), "output": p.is_output()}))
            .collect();
        let report = json!({
            "ok": true,
            "file": path.display().to_string(),
            "name": net.name(),
            "fixed_point": {"weight_bits": fp.weight_bits, "potential_bits": fp.potential_bits, "accumulator_bits": fp.accumulator_bits},
            "populations": pops,
            "projections": net.projections().len(),
            "stats": st,
        });
        println!("{}", serde_json::to_string_pretty(&report).expect("JSON"));
        return Ok(());
    }
    println!("{}: valid", path.display());
    println!(
        "network      {}  (W = {} bits, P = {} bits, accumulator {} bits)",
        net.name().unwrap_or("(unnamed)"),
        fp.weight_bits,
        fp.potential_bits,
        fp.accumulator_bits
    );
    println!("populations  {}", net.populations().len());
    for p in net.populations() {
        println!(
            "  {:<20} {:>9} {}{}",
            p.name(),
            p.size(),
            if p.is_input() { "input" } else { "neuron" },
            if p.is_output() { ", output" } else { "" }
        );
    }
    println!("neurons      {} ({} input)", st.neurons, st.input_neurons);
    println!("synapses     {} in {} projections", st.synapses, net.projections().len());
    println!("fan-in max   {}", st.max_fan_in);
    println!("fan-out max  {}", st.max_fan_out);
    println!(
        "accumulator  bound {} (needs {} of {} bits)",
        st.accumulator_bound, st.accumulator_bits_needed, fp.accumulator_bits
    );
    Ok(())
}

/// Runs the golden model and reports; shared by `golden` and `demo`.
pub(crate) struct GoldenRun {
    pub net: Network,
    pub result: spikeforge_golden::RunResult,
    pub steps: u32,
    pub seconds: f64,
}

pub(crate) fn run_golden(net: Network, stimulus: &SpikeTrain, steps: u32) -> Result<GoldenRun, Failure> {
    let beyond = |last: u32| {
        other(
            spikeforge_golden::GoldenError::StimulusBeyondRun { last, steps }.to_string(),
            Some(&format!("run at least --steps {} or remove the later rows from the stimulus", last + 1)),
        )
    };
    // Checked before indexing: the index has one entry per step.
    if stimulus.step_span() > steps {
        return Err(beyond(stimulus.step_span() - 1));
    }
    let stim = Stimulus::from_train(stimulus);
    let t0 = Instant::now();
    let result = spikeforge_golden::run(&net, &stim, steps).map_err(|e| match e {
        spikeforge_golden::GoldenError::StimulusBeyondRun { last, .. } => beyond(last),
        e => other(format!("internal error (please report): {e}"), None),
    })?;
    Ok(GoldenRun { net, result, steps, seconds: t0.elapsed().as_secs_f64() })
}

impl GoldenRun {
    pub fn population_spikes(&self) -> Vec<(String, u64)> {
        let mut counts = vec![0u64; self.net.populations().len()];
        for s in &self.result.spikes {
            counts[self.net.locate(s.neuron).expect("spike of a known neuron").0] += 1;
        }
        self.net
            .populations()
            .iter()
            .zip(counts)
            .filter(|(p, _)| !p.is_input())
            .map(|(p, c)| (p.name().to_string(), c))
            .collect()
    }

    pub fn output_counts(&self) -> Vec<(String, Vec<u64>)> {
        let per = self.result.spikes.counts(self.net.neuron_count() as usize);
        self.net
            .populations()
            .iter()
            .filter(|p| p.is_output())
            .map(|p| (p.name().to_string(), p.ids().map(|i| per[i as usize]).collect()))
            .collect()
    }

    pub fn json(&self) -> serde_json::Value {
        json!({
            "network": self.net.name(),
            "steps": self.steps,
            "spikes": self.result.spikes.len(),
            "synaptic_events": self.result.events,
            "populations": self.population_spikes().into_iter().map(|(n, c)| json!({"name": n, "spikes": c})).collect::<Vec<_>>(),
            "outputs": self.output_counts().into_iter().map(|(n, c)| json!({"population": n, "counts": c})).collect::<Vec<_>>(),
            "seconds": self.seconds,
        })
    }

    pub fn print(&self) {
        println!("steps        {}", self.steps);
        let per: Vec<String> = self.population_spikes().iter().map(|(n, c)| format!("{n}: {c}")).collect();
        println!("spikes       {} ({})", self.result.spikes.len(), per.join(", "));
        println!("events       {} synaptic events", self.result.events);
        for (name, counts) in self.output_counts() {
            let shown: Vec<String> = counts.iter().take(32).map(u64::to_string).collect();
            let more = if counts.len() > 32 { format!(" … ({} neurons)", counts.len()) } else { String::new() };
            println!("output       {name}: [{}]{more} spikes per neuron", shown.join(", "));
        }
        let rate = if self.seconds > 0.0 { self.result.events as f64 / self.seconds } else { 0.0 };
        println!("time         {:.3} ms ({:.1} M events/s)", self.seconds * 1e3, rate / 1e6);
    }
}

fn golden(
    path: &Path,
    steps: u32,
    stimulus: Option<&Path>,
    spikes_out: Option<&Path>,
    potentials_out: Option<&Path>,
    json: bool,
) -> Result<(), Failure> {
    let net = load(path)?;
    let stim = load_stimulus_list(&net, stimulus, steps)?;
    let run = run_golden(net, &stim, steps)?;
    if let Some(f) = spikes_out {
        write_file(f, &spikes::spikes_to_csv(&run.net, &run.result.spikes))?;
    }
    if let Some(f) = potentials_out {
        write_file(f, &spikes::potentials_to_csv(&run.net, &run.result.potentials))?;
    }
    if json {
        let mut j = run.json();
        j["ok"] = json!(true);
        println!("{}", serde_json::to_string_pretty(&j).expect("JSON"));
    } else {
        println!("network      {} ({})", run.net.name().unwrap_or("(unnamed)"), path.display());
        run.print();
    }
    Ok(())
}
