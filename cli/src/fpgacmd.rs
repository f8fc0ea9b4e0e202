//! `spikeforge fpga`: writes a board project for a mapped network and, with
//! `--build`, runs the flow and reports the fit.

use crate::args::{AlgorithmArg, JsonArg};
use crate::common::{check_out_dir, load, map_network, other, write_file, Command, Failure, Outcome};
use clap::Args;
use serde_json::json;
use spikeforge_fpga::{boards, flow, project, Family, BOARDS};
use spikeforge_mapper::spec::load_spec;
use spikeforge_mapper::Algorithm;
use spikeforge_net::progress::Progress;
use std::path::{Path, PathBuf};

/// `spikeforge fpga`'s arguments.
#[derive(Args)]
pub struct FpgaArgs {
    /// Network file (.json or .toml).
    #[arg(required_unless_present = "list_boards")]
    pub net: Option<PathBuf>,
    /// Board (see --list-boards).
    #[arg(long, required_unless_present = "list_boards")]
    pub board: Option<String>,
    /// Output folder.
    #[arg(long, required_unless_present = "list_boards")]
    pub out: Option<PathBuf>,
    /// Spec preset or file (default: the board's).
    #[arg(long)]
    pub spec: Option<String>,
    #[command(flatten)]
    pub algorithm: AlgorithmArg,
    /// Run the flow: bitstream and fit report for iCE40 boards, a yosys
    /// synthesis estimate for the others.
    #[arg(long)]
    pub build: bool,
    /// List the boards.
    #[arg(long)]
    pub list_boards: bool,
    #[command(flatten)]
    pub output: JsonArg,
}

impl Command for FpgaArgs {
    fn json(&self) -> bool {
        self.output.json
    }

    fn run(&self) -> Result<Outcome, Failure> {
        if self.list_boards {
            list_boards(self.output.json);
            return Ok(Outcome::Done);
        }
        match (&self.net, &self.board, &self.out) {
            (Some(net), Some(board), Some(out)) => {
                check_out_dir(out, "--out")?;
                fpga(net, board, out, self.spec.as_deref(), self.algorithm.algorithm, self.build, self.output.json)
            }
            _ => Err(other("fpga needs NET, --board and --out (or --list-boards)", None)),
        }
    }
}

fn list_boards(json: bool) {
    if json {
        let v: Vec<_> = BOARDS
            .iter()
            .map(|b| json!({"name": b.name, "description": b.description, "clock_hz": b.clock_hz, "spec": b.spec, "baud": b.baud,
                            "flow": match b.family { Family::Ice40 => "yosys+nextpnr-ice40+icepack", Family::Ecp5 => "yosys+nextpnr-ecp5+ecppack", Family::Xilinx7 => "vivado" }}))
            .collect();
        println!("{}", serde_json::to_string_pretty(&json!({"ok": true, "boards": v})).expect("JSON"));
        return;
    }
    println!("{:<12} {:<8} {:<58} {:<7} baud", "board", "clock", "description", "spec");
    for b in BOARDS {
        println!(
            "{:<12} {:<8} {:<58} {:<7} {}",
            b.name,
            format!("{} MHz", b.clock_hz / 1_000_000),
            b.description,
            b.spec,
            b.baud
        );
    }
    println!("(--build runs the open flow for iCE40 boards and a yosys synthesis estimate for the others)");
}

fn fpga(
    net_path: &Path,
    board_name: &str,
    out: &Path,
    spec_arg: Option<&str>,
    algorithm: Algorithm,
    build: bool,
    json: bool,
) -> Result<Outcome, Failure> {
    let board = boards::board(board_name)?;
    let net = load(net_path)?;
    let spec = load_spec(spec_arg.unwrap_or(board.spec))?;
    let m = map_network(&net, &spec, algorithm)?;
    let files = project::files(board, &net, &m);
    let state_bits = m.images.state_bits(&spec);
    std::fs::create_dir_all(out).map_err(|e| other(format!("cannot create {}: {e}", out.display()), None))?;
    for (name, text) in &files {
        write_file(&out.join(name), text)?;
    }
    let report = if build {
        let display = crate::progress::Display::new("fpga", !json);
        let r = match board.family {
            Family::Ice40 => flow::build_ice40_with(out, board, &display),
            _ => {
                display.stage("synthesis (yosys)", None);
                flow::synth_check(out, board)
            }
        };
        drop(display);
        Some(r?)
    } else {
        None
    };
    if json {
        let mut j = json!({"ok": report.as_ref().is_none_or(|r| r.pass), "board": board.name, "spec": spec.name,
                           "cores_used": m.report.cores_used, "out": out.display().to_string(),
                           "files": files.keys().collect::<Vec<_>>()});
        if let Some(r) = &report {
            j["report"] = json!(r);
            j["report"]["state_bits"] = json!(state_bits);
            j["report"]["bram_bits"] = json!(r.brams * board.family.bram_bits());
            j["report"]["ram_bits"] = json!(r.ram_bits(board.family));
        }
        println!("{}", serde_json::to_string_pretty(&j).expect("JSON"));
    } else {
        println!("board        {} — {}", board.name, board.description);
        println!(
            "network      {} on spec `{}` ({} of {} cores used)",
            net.name().unwrap_or("(unnamed)"),
            spec.name,
            m.report.cores_used,
            spec.cores()
        );
        println!("project      {} ({} files; `make` in it builds, README.md explains)", out.display(), files.len());
        if let Some(r) = &report {
            let pct = |a: u64, b: u64| if b > 0 { format!("{:.0}%", 100.0 * a as f64 / b as f64) } else { "?".into() };
            println!("fit ({})", r.kind);
            println!("  logic      {} of {} LUTs ({})", r.luts, r.luts_available, pct(r.luts, r.luts_available));
            println!("  flip-flops {}", r.flip_flops);
            println!("  block RAM  {} of {} ({})", r.brams, r.brams_available, pct(r.brams, r.brams_available));
            if r.sprams_available > 0 {
                println!("  SPRAM      {} of {} ({})", r.sprams, r.sprams_available, pct(r.sprams, r.sprams_available));
            }
            let physical = r.ram_bits(board.family);
            println!(
                "  memory     {:.1} kbit of network state in {:.1} kbit of block RAM and SPRAM ({} efficiency)",
                state_bits as f64 / 1024.0,
                physical as f64 / 1024.0,
                pct(state_bits, physical)
            );
            match r.fmax_mhz {
                Some(f) => println!(
                    "  fmax       {f:.1} MHz against the {:.0} MHz design clock (board clock {} MHz {})",
                    r.clock_mhz,
                    board.clock_hz / 1_000_000,
                    if board.pll_hz.is_some() {
                        "through the PLL".to_string()
                    } else {
                        format!("/ {}", board.clock_div)
                    }
                ),
                None => println!("  fmax       not measured (no place and route for this family here)"),
            }
            if let Some(b) = &r.bitstream {
                println!("  bitstream  {}", b.display());
            }
            println!("  verdict    {}", if r.pass { "PASS" } else { "FAIL" });
        }
    }
    match &report {
        Some(r) if !r.pass => Err(other(
            format!("the design does not fit or does not meet timing on {}", board.name),
            Some("use a smaller spec (--spec) or a bigger board"),
        )),
        _ => Ok(Outcome::Done),
    }
}
