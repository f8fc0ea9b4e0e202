//! `spikeforge run`: runs a stimulus on a board over its UART (the protocol
//! of docs/host-protocol.md) and compares the spikes with the golden model.

use crate::common::{Command, Outcome};
use crate::{load, load_stimulus, map_network, other, write_file, Failure};
use serde_json::json;
use spikeforge_fpga::protocol::Client;
use spikeforge_fpga::serial::SerialLink;
use spikeforge_mapper::spec::load_spec;
use spikeforge_mapper::Algorithm;
use spikeforge_net::spikes;
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
    /// Or: the board (its default spec).
    #[arg(long)]
    pub board: Option<String>,
    /// Baud rate.
    #[arg(long, default_value_t = spikeforge_fpga::BAUD)]
    pub baud: u32,
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
    /// Print a machine-readable report on stdout.
    #[arg(long)]
    pub json: bool,
}

impl Command for RunArgs {
    fn json(&self) -> bool {
        self.json
    }

    fn run(&self) -> Result<Outcome, Failure> {
        run(self)
    }
}

/// Runs the command; `Differs`: the board's spikes differ from golden.
fn run(a: &RunArgs) -> Result<Outcome, Failure> {
    let net = load(&a.net)?;
    let spec_name = match (&a.spec, &a.board) {
        (Some(s), _) => s.clone(),
        (None, Some(b)) => spikeforge_fpga::board(b).map_err(|e| other(e, None))?.spec.to_string(),
        (None, None) => return Err(other("run needs --spec (the spec the bitstream was built for) or --board", None)),
    };
    let spec = load_spec(&spec_name)?;
    let stim = load_stimulus(&net, a.stimulus.as_deref(), a.steps)?;
    let m = map_network(&net, &spec, a.algorithm)?;
    let link = SerialLink::open(&a.port, a.baud).map_err(|e| other(e.to_string(), None))?;
    let mut c = Client::new(link, a.baud);
    let fail = |e: spikeforge_fpga::protocol::ProtocolError| other(e.to_string(), None);
    let tty = !a.json && std::io::stderr().is_terminal();
    if !a.no_load {
        let bar = tty.then(|| indicatif::ProgressBar::new(0).with_message("loading"));
        c.load(&m, &mut |d, n| {
            if let Some(b) = &bar {
                b.set_length(n as u64);
                b.set_position(d as u64);
            }
        })
        .map_err(fail)?;
        if let Some(b) = bar {
            b.finish_and_clear();
        }
    } else {
        c.clear().map_err(fail)?;
    }
    let spikeforge_fpga::protocol::BoardRun { spikes, cycles } =
        c.run(&m, &stim, a.steps, &mut |_| {}).map_err(fail)?;
    let golden = spikeforge_golden::run(&net, &stim, a.steps).map_err(|e| other(e.to_string(), None))?;
    let equal = spikes == golden.spikes;
    if let Some(f) = &a.spikes_out {
        write_file(f, &spikes::spikes_to_csv(&net, &spikes))?;
    }
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "ok": equal, "port": a.port, "spec": spec.name, "steps": a.steps, "spikes": spikes.len(),
                "cycles_per_step": cycles, "board_equals_golden": equal,
            }))
            .expect("JSON")
        );
    } else {
        println!("board        {} ({} baud), spec `{}`", a.port, a.baud, spec.name);
        println!(
            "steps        {}, {} spikes, {:.1} clock cycles per step on the board",
            a.steps,
            spikes.len(),
            (cycles.iter().map(|&c| c as f64).sum::<f64>() + 0.0) / a.steps.max(1) as f64
        );
        println!(
            "verdict      {}",
            if equal { "board = golden, spike for spike" } else { "MISMATCH with the golden model" }
        );
    }
    Ok(Outcome::equal(equal))
}
