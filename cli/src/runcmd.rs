//! `spikeforge run`: runs a stimulus on a board over its UART (the protocol
//! of docs/host-protocol.md) in lockstep with the golden model, through the
//! same comparator as `spikeforge sim`: the first divergent step, core,
//! neuron and potential are reported alike.

use crate::common::{check_out_file, Command, Outcome};
use crate::{load, load_stimulus, map_network, other, write_file, Failure};
use serde_json::json;
use spikeforge_fpga::protocol::{BoardModel, Client};
use spikeforge_fpga::serial::SerialLink;
use spikeforge_mapper::spec::load_spec;
use spikeforge_mapper::Algorithm;
use spikeforge_net::spikes;
use spikeforge_sim::{LockstepError, RunOptions, Verdict};
use std::io::IsTerminal;
use std::path::PathBuf;

/// `spikeforge run`'s arguments. Flat, not built from the shared groups
/// of `crate::args`, so the run below keeps its field names (`a.steps`).
#[derive(clap::Args)]
pub struct RunArgs {
    /// Network file (.json or .toml).
    pub net: PathBuf,
    /// Serial device of the board, e.g. /dev/ttyUSB1.
    #[arg(long)]
    pub port: String,
    /// Spec the bitstream was built for (preset or file).
    #[arg(long)]
    pub spec: Option<String>,
    /// Or: the board (its default spec, unless --spec is given, and its UART rate).
    #[arg(long)]
    pub board: Option<String>,
    /// Baud rate [default: the --board's, else 1000000; bitstreams from
    /// before the 1 Mbaud bridge: 115200].
    #[arg(long)]
    pub baud: Option<u32>,
    /// Stimulus CSV.
    #[arg(long)]
    pub stimulus: Option<PathBuf>,
    /// Number of time steps (at least 1).
    #[arg(long, value_parser = crate::args::steps_arg)]
    pub steps: u32,
    /// Do not load the network (the bitstream already holds it); only reset its state.
    #[arg(long)]
    pub no_load: bool,
    /// Partitioner (must be the one the bitstream was made with).
    #[arg(long, default_value = "multilevel", value_parser = crate::args::algorithm())]
    pub algorithm: Algorithm,
    /// Write the board's spikes here (CSV).
    #[arg(long)]
    pub spikes_out: Option<PathBuf>,
    /// Read back and compare every potential after every step, not only
    /// after the last (one PEEK request per neuron and step).
    #[arg(long)]
    pub potentials_every_step: bool,
    #[command(flatten)]
    pub exit: crate::args::EarlyExitArgs,
    /// Print a machine-readable report on stdout.
    #[arg(long)]
    pub json: bool,
}

impl Command for RunArgs {
    fn json(&self) -> bool {
        self.json
    }

    fn run(&self) -> Result<Outcome, Failure> {
        if let Some(p) = &self.spikes_out {
            check_out_file(p, "--spikes-out")?;
        }
        run(self)
    }
}

/// Runs the command; `Differs`: the board differs from golden.
fn run(a: &RunArgs) -> Result<Outcome, Failure> {
    let net = load(&a.net)?;
    let board = a.board.as_deref().map(spikeforge_fpga::board).transpose()?;
    let spec_name = match (&a.spec, board) {
        (Some(s), _) => s.clone(),
        (None, Some(b)) => b.spec.to_string(),
        (None, None) => return Err(other("run needs --spec (the spec the bitstream was built for) or --board", None)),
    };
    // The rate of the board's project (one place: the board table).
    let baud = a.baud.or(board.map(|b| b.baud)).unwrap_or(spikeforge_fpga::BAUD);
    let spec = load_spec(&spec_name)?;
    let stim = load_stimulus(&net, a.stimulus.as_deref(), a.steps)?;
    let m = map_network(&net, &spec, a.algorithm)?;
    let link = SerialLink::open(&a.port, baud)?;
    let tty = !a.json && std::io::stderr().is_terminal();
    let bar = tty.then(|| indicatif::ProgressBar::new(0).with_message("loading"));
    let load_bar = bar.clone();
    let mut board = BoardModel::new(Client::new(link, baud), format!("the board on {}", a.port), a.no_load)
        .with_progress(move |d, n| {
            if let Some(b) = &load_bar {
                b.set_length(n as u64);
                b.set_position(d as u64);
            }
        });
    // The same lockstep comparator as `sim --verify`: spikes and error
    // flags every step, potentials after the last step (every step with
    // --potentials-every-step; each is a PEEK over the UART).
    let mut opts = RunOptions::verified(a.steps);
    opts.potentials_every_step = a.potentials_every_step;
    opts.early_exit = a.exit.spec(&net)?;
    let r = spikeforge_sim::lockstep(&mut board, &net, &m, &stim, &opts, None, &mut |_| {}).map_err(|e| match e {
        LockstepError::Model(e) => Failure::from(e),
        e @ LockstepError::StimulusBeyondRun { .. } => other(e.to_string(), None),
        e @ LockstepError::EarlyExit(_) => other(e.to_string(), Some("see docs/conversion.md, \"Early exit\"")),
        LockstepError::Internal(s) => other(format!("internal error (please report): {s}"), None),
    })?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let equal = r.verdict == Verdict::Equal;
    if let Some(f) = &a.spikes_out {
        write_file(f, &spikes::spikes_to_csv(&net, &r.spikes))?;
    }
    if a.json {
        let mut j = json!({
            "ok": equal, "port": a.port, "spec": spec.name, "steps": a.steps, "spikes": r.spikes.len(),
            "steps_run": r.cycles_per_step.len(), "exited_at": r.exited_at,
            "cycles_per_step": r.cycles_per_step, "board_equals_golden": equal, "error_flags": r.errors,
        });
        if let Verdict::Mismatch(mm) = &r.verdict {
            j["mismatch"] = crate::simcmd::mismatch_json(mm);
        }
        println!("{}", serde_json::to_string_pretty(&j).expect("JSON"));
    } else {
        println!("board        {} ({} baud), spec `{}`", a.port, baud, spec.name);
        println!(
            "steps        {}, {} spikes, {:.1} clock cycles per step on the board",
            r.cycles_per_step.len(),
            r.spikes.len(),
            r.cycles_per_step.iter().sum::<u64>() as f64 / r.cycles_per_step.len().max(1) as f64
        );
        println!(
            "verdict      {}",
            if equal {
                "board = golden: spikes equal after every step, potentials equal"
            } else {
                "MISMATCH with the golden model (see the report on stderr)"
            }
        );
    }
    if let Verdict::Mismatch(mm) = &r.verdict {
        crate::common::print_error(&mm.to_string(), None);
    }
    Ok(Outcome::equal(equal))
}
