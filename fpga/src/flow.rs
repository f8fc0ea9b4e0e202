//! Runs the tools on a written project: the full iCE40 flow (yosys,
//! nextpnr-ice40, icepack through the project's Makefile) and yosys
//! synthesis checks for the other families; parses their reports.

use crate::boards::{Board, Family};
use crate::project::TOP;
use spikeforge_hdl::tools::{self, ToolError};
use spikeforge_net::progress::Progress;
use std::path::{Path, PathBuf};

/// Errors of the FPGA flow.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum FlowError {
    /// A tool is not installed or cannot be run.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Tool(#[from] ToolError),
    /// A tool failed.
    #[error("{tool} failed (log: {}):\n{tail}", log.display())]
    #[diagnostic(help("the project's files are kept; rerun `make` in its folder to reproduce"))]
    Failed {
        /// The tool or step.
        tool: String,
        /// Its log.
        log: PathBuf,
        /// The last lines of its output.
        tail: String,
    },
    /// A report could not be read.
    #[error("cannot read {}: {detail}", path.display())]
    Report {
        /// The file.
        path: PathBuf,
        /// Why.
        detail: String,
    },
}

/// What a build or synthesis check found.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct FitReport {
    /// Board.
    pub board: String,
    /// Logic cells used (LUTs; iCE40 logic cells after packing).
    pub luts: u64,
    /// Logic available on the device.
    pub luts_available: u64,
    /// Flip-flops used.
    pub flip_flops: u64,
    /// Block RAMs used.
    pub brams: u64,
    /// Block RAMs available.
    pub brams_available: u64,
    /// Single-port RAMs used (iCE40 UltraPlus SB_SPRAM256KA, 256 kbit each;
    /// 0 on devices without them).
    pub sprams: u64,
    /// Single-port RAMs on the device (4 on the UP5K, 0 elsewhere).
    pub sprams_available: u64,
    /// Achieved clock frequency in MHz (after place and route), if routed.
    pub fmax_mhz: Option<f64>,
    /// The design clock in MHz (the board clock divided by the board's `clock_div`).
    pub clock_mhz: f64,
    /// Placed, routed and meeting the board clock (or, for synthesis-only
    /// checks, fitting the device's LUTs and block RAMs).
    pub pass: bool,
    /// The bitstream, if one was made.
    pub bitstream: Option<PathBuf>,
    /// `place-and-route` or `synthesis estimate`.
    pub kind: String,
}

/// Bits of one iCE40 UltraPlus SB_SPRAM256KA.
pub const SPRAM_BITS: u64 = 256 * 1024;

impl FitReport {
    /// Bits of the RAM the fit uses: block RAM of `family` plus SPRAM.
    pub fn ram_bits(&self, family: Family) -> u64 {
        self.brams * family.bram_bits() + self.sprams * SPRAM_BITS
    }
}

fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Runs the project's Makefile (`make all`) for an iCE40 board and reads
/// nextpnr's report: the bitstream `build/sf_board_top.bin`.
pub fn build_ice40(dir: &Path, board: &Board) -> Result<FitReport, FlowError> {
    build_ice40_with(dir, board, &spikeforge_net::progress::Quiet)
}

/// The stage of the iCE40 flow a line that make echoes starts.
fn ice40_stage(line: &str) -> Option<&'static str> {
    let program = line.split_whitespace().next()?;
    match program {
        "yosys" => Some("synthesis (yosys)"),
        p if p.starts_with("nextpnr") => Some("placement (nextpnr)"),
        "icepack" => Some("packing (icepack)"),
        _ => None,
    }
}

/// Whether nextpnr's log so far shows the router at work (router1 logs
/// "Routing..", router2 "Router2"; both set up a routing queue first).
fn nextpnr_routing(log: &str) -> bool {
    log.contains("Info: Routing..") || log.contains("Setting up routing queue") || log.contains("Router2")
}

/// [`build_ice40`], reporting its stages (synthesis, placement, routing,
/// packing) to `progress`: a large design takes many minutes. make echoes
/// each recipe line as it starts it; nextpnr (quiet) tells placement from
/// routing in its log, which is watched while it runs.
pub fn build_ice40_with(dir: &Path, board: &Board, progress: &dyn Progress) -> Result<FitReport, FlowError> {
    for t in [tools::MAKE, tools::YOSYS, tools::NEXTPNR_ICE40, tools::ICEPACK] {
        t.check()?;
    }
    // make runs every recipe line through a shell: it runs in the project
    // folder and the Makefile names files relative to it, so the folder's
    // own name (the user's `--out`) never reaches that shell.
    let mut cmd = tools::MAKE.command(dir);
    cmd.arg("all");
    // The current stage; both threads switch it under the lock, so a late
    // look at the log cannot announce routing once packing has begun.
    let stage = std::sync::Mutex::new("");
    let done = std::sync::atomic::AtomicBool::new(false);
    let log = dir.join("build/nextpnr.log");
    // A log left by an earlier build says nothing about this one.
    let started = std::time::SystemTime::now();
    let fresh = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).is_ok_and(|t| t >= started);
    let out = std::thread::scope(|scope| {
        use std::sync::atomic::Ordering::SeqCst;
        scope.spawn(|| {
            while !done.load(SeqCst) {
                std::thread::sleep(std::time::Duration::from_millis(250));
                let placing = stage.lock().is_ok_and(|s| s.starts_with("placement"));
                if placing && fresh(&log) && std::fs::read_to_string(&log).is_ok_and(|t| nextpnr_routing(&t)) {
                    if let Ok(mut s) = stage.lock() {
                        if s.starts_with("placement") {
                            *s = "routing (nextpnr)";
                            progress.stage(s.as_ref(), None);
                        }
                    }
                }
            }
        });
        let out = tools::MAKE.output_lines(&mut cmd, &mut |line| {
            if let (Some(next), Ok(mut s)) = (ice40_stage(line), stage.lock()) {
                *s = next;
                progress.stage(next, None);
            }
        });
        done.store(true, SeqCst);
        out
    })?;
    if !out.status.success() {
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        let log = ["build/nextpnr.log", "build/yosys.log"].iter().map(|l| dir.join(l)).find(|p| p.is_file());
        let detail = match &log {
            Some(p) => format!("{}\n{}", tail(&text, 10), tail(&std::fs::read_to_string(p).unwrap_or_default(), 20)),
            None => tail(&text, 30),
        };
        return Err(FlowError::Failed {
            tool: "the iCE40 flow (make)".into(),
            log: log.unwrap_or(dir.join("Makefile")),
            tail: detail,
        });
    }
    let report = dir.join("build/report.json");
    let text = std::fs::read_to_string(&report)
        .map_err(|e| FlowError::Report { path: report.clone(), detail: e.to_string() })?;
    let j: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| FlowError::Report { path: report.clone(), detail: e.to_string() })?;
    let used = |k: &str| j["utilization"][k]["used"].as_u64().unwrap_or(0);
    let avail = |k: &str| j["utilization"][k]["available"].as_u64().unwrap_or(0);
    // Every clock must meet its constraint; the figure reported is the
    // design clock's (the one the neuron cores run on).
    let clocks: Vec<(String, f64, f64)> = j["fmax"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v["achieved"].as_f64()?, v["constraint"].as_f64()?)))
                .collect()
        })
        .unwrap_or_default();
    let timing_ok = !clocks.is_empty() && clocks.iter().all(|(_, a, c)| a >= c);
    let design = clocks.iter().find(|(k, _, _)| k.contains("clk_design")).or_else(|| clocks.first());
    let fmax = design.map(|d| d.1);
    let clock_mhz = board.design_clock_hz() as f64 / 1e6;
    let flip_flops = yosys_log_count(&dir.join("build/yosys.log"), &["SB_DFF"]);
    let sprams = yosys_log_count(&dir.join("build/yosys.log"), &["SB_SPRAM256KA"]);
    let bin = dir.join(format!("build/{TOP}.bin"));
    Ok(FitReport {
        board: board.name.into(),
        luts: used("ICESTORM_LC"),
        luts_available: avail("ICESTORM_LC"),
        flip_flops,
        brams: used("ICESTORM_RAM"),
        brams_available: avail("ICESTORM_RAM"),
        sprams,
        sprams_available: board.sprams(),
        fmax_mhz: fmax,
        clock_mhz,
        pass: timing_ok && bin.is_file(),
        bitstream: bin.is_file().then_some(bin),
        kind: "place-and-route".into(),
    })
}

/// Sums the counts of cells whose names start with one of `prefixes` in the
/// last "Number of cells" table of a yosys log.
fn yosys_log_count(log: &Path, prefixes: &[&str]) -> u64 {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let Some(start) = text.rfind("Printing statistics") else { return 0 };
    count_cells(&text[start..], prefixes)
}

fn count_cells(stat: &str, prefixes: &[&str]) -> u64 {
    let mut n = 0;
    for line in stat.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() == 2 && prefixes.iter().any(|p| f[0].starts_with(p)) {
            n += f[1].parse::<u64>().unwrap_or(0);
        }
    }
    n
}

/// Synthesizes the project with yosys for a family without running place
/// and route (`synth_xilinx` / `synth_ecp5` / `synth_ice40`): the resource
/// estimate.
pub fn synth_check(dir: &Path, board: &Board) -> Result<FitReport, FlowError> {
    tools::YOSYS.check()?;
    let files = std::fs::read_to_string(dir.join("files.f"))
        .map_err(|e| FlowError::Report { path: dir.join("files.f"), detail: e.to_string() })?;
    let synth = board.yosys_synth(TOP);
    std::fs::create_dir_all(dir.join("build")).ok();
    let log = dir.join("build/yosys-check.log");
    let mut cmd = tools::YOSYS.command(dir);
    cmd.arg("-q")
        .arg("-l")
        // Relative to `dir`, where yosys runs (`log` may be relative to ours).
        .arg("build/yosys-check.log")
        .arg("-p")
        .arg(format!("{synth}; stat"))
        .args(files.split_whitespace());
    let out = tools::YOSYS.output(&mut cmd)?;
    if !out.status.success() {
        return Err(FlowError::Failed {
            tool: format!("yosys {synth}"),
            log: log.clone(),
            tail: tail(&String::from_utf8_lossy(&out.stderr), 20),
        });
    }
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let stat = text.rfind("Printing statistics").map_or("", |i| &text[i..]);
    let sprams = match board.family {
        Family::Ice40 => count_cells(stat, &["SB_SPRAM256KA"]),
        _ => 0,
    };
    let (luts, ffs, brams) = match board.family {
        Family::Xilinx7 => (
            // Distributed RAM (RAM32M, RAM64X1D, ...) occupies LUTs too.
            count_cells(stat, &["LUT", "RAM32", "RAM64", "RAM128", "RAM256", "SRL"]),
            count_cells(stat, &["FD"]),
            // RAMB36 counts as one, RAMB18 as half.
            count_cells(stat, &["RAMB36"]) + count_cells(stat, &["RAMB18"]).div_ceil(2),
        ),
        Family::Ecp5 => {
            (count_cells(stat, &["LUT4"]), count_cells(stat, &["TRELLIS_FF"]), count_cells(stat, &["DP16KD"]))
        }
        Family::Ice40 => {
            (count_cells(stat, &["SB_LUT4"]), count_cells(stat, &["SB_DFF"]), count_cells(stat, &["SB_RAM40_4K"]))
        }
    };
    Ok(FitReport {
        board: board.name.into(),
        luts,
        luts_available: board.luts as u64,
        flip_flops: ffs,
        brams,
        brams_available: board.brams as u64,
        sprams,
        sprams_available: board.sprams(),
        fmax_mhz: None,
        clock_mhz: board.design_clock_hz() as f64 / 1e6,
        pass: luts <= board.luts as u64 && brams <= board.brams as u64,
        bitstream: None,
        kind: "synthesis estimate".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flow_stages_are_read_off_make_and_nextpnr() {
        assert_eq!(ice40_stage("yosys -q -l build/yosys.log -p 'synth_ice40'"), Some("synthesis (yosys)"));
        assert_eq!(ice40_stage("nextpnr-ice40 --up5k --package sg48"), Some("placement (nextpnr)"));
        assert_eq!(ice40_stage("icepack build/sf_board_top.asc build/sf_board_top.bin"), Some("packing (icepack)"));
        assert_eq!(ice40_stage("mkdir -p build"), None);
        assert!(!nextpnr_routing("Info: Running simulated annealing placer for refinement.\n"));
        assert!(nextpnr_routing("Info: Routing..\nInfo: Setting up routing queue.\n"));
    }
}
