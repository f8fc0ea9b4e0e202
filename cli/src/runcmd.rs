//! `spikeforge run`: runs a stimulus on a board over its UART (the protocol
//! of docs/host-protocol.md) and compares the spikes with the golden model.

use crate::{load, other, write_file, Failure};
use serde_json::json;
use spikeforge_fpga::protocol::Client;
use spikeforge_fpga::serial::SerialLink;
use spikeforge_mapper::spec::load_spec;
use spikeforge_mapper::{explain, map as do_map, Algorithm, MapOptions};
use spikeforge_net::{spikes, SpikeFileKind, SpikeList, Stimulus};
use std::io::IsTerminal;
use std::path::PathBuf;

/// Options of `spikeforge run`.
pub struct RunArgs {
    pub net: PathBuf,
    pub spec: Option<String>,
    pub board: Option<String>,
    pub port: String,
    pub baud: u32,
    pub stimulus: Option<PathBuf>,
    pub steps: u32,
    pub no_load: bool,
    pub algorithm: Algorithm,
    pub spikes_out: Option<PathBuf>,
    pub json: bool,
}

/// Runs the command; `Ok(false)`: the board's spikes differ from golden.
pub fn run(a: &RunArgs) -> Result<bool, Failure> {
    let net = load(&a.net)?;
    let spec_name = match (&a.spec, &a.board) {
        (Some(s), _) => s.clone(),
        (None, Some(b)) => spikeforge_fpga::board(b).map_err(|e| other(e, None))?.spec.to_string(),
        (None, None) => return Err(other("run needs --spec (the spec the bitstream was built for) or --board", None)),
    };
    let spec = load_spec(&spec_name)?;
    let list = match &a.stimulus {
        Some(s) => spikes::load_spikes(&net, s, SpikeFileKind::Stimulus)?,
        None => SpikeList::default(),
    };
    let stim = Stimulus::from_list(&list);
    if stim.step_span() > a.steps {
        return Err(other(
            format!("the stimulus has spikes up to step {}, but --steps is {}", stim.step_span() - 1, a.steps),
            Some(&format!("use --steps {} or more", stim.step_span())),
        ));
    }
    let m = do_map(&net, &spec, &MapOptions::new(a.algorithm))
        .map_err(|e| other(e.to_string(), Some(&explain(&net, &spec, &e))))?;
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
            cycles.iter().map(|&c| c as f64).sum::<f64>() / a.steps.max(1) as f64
        );
        println!(
            "verdict      {}",
            if equal { "board = golden, spike for spike" } else { "MISMATCH with the golden model" }
        );
    }
    Ok(equal)
}
