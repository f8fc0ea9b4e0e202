//! Board projects: deterministic files, lint-clean Verilog that Icarus
//! compiles, yosys synthesis for Xilinx 7 and ECP5 within the board's
//! resources, FuseSoC cores that constrain place and route as the
//! Makefiles do, and the iCEBreaker core built by FuseSoC meeting timing.
//! (The Makefile's iCE40 bitstream through yosys, nextpnr-ice40 and
//! icepack is built by the CLI test `hostile_paths_are_data_not_commands`,
//! in a project folder whose name no shell may see.)

use spikeforge_fpga::{board, flow, project, Family, BOARDS};
use spikeforge_mapper::{map, Algorithm, HardwareSpec, MapOptions, Mapping};
use spikeforge_net::{load_network, Network};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn example() -> Network {
    load_network(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/feedforward/net.toml"))).unwrap()
}

fn mapping(net: &Network, spec: &str) -> Mapping {
    map(net, &HardwareSpec::preset(spec).unwrap(), &MapOptions::new(Algorithm::Multilevel)).unwrap()
}

/// A lint stand-in for the iCE40 PLL primitive (Verilator has no model of
/// it; Icarus gets yosys' simulation model instead).
const PLL_LINT_STUB: &str = "/* verilator lint_off UNUSEDPARAM */
/* verilator lint_off UNUSEDSIGNAL */
module SB_PLL40_PAD #(
    parameter FEEDBACK_PATH = \"SIMPLE\",
    parameter [3:0] DIVR = 4'd0,
    parameter [6:0] DIVF = 7'd0,
    parameter [2:0] DIVQ = 3'd0,
    parameter [2:0] FILTER_RANGE = 3'd0
) (
    input  wire PACKAGEPIN,
    output wire PLLOUTCORE,
    output wire LOCK,
    input  wire RESETB,
    input  wire BYPASS
);
    assign PLLOUTCORE = PACKAGEPIN;
    assign LOCK = RESETB;
endmodule
";

/// yosys' iCE40 simulation models (SB_PLL40_PAD among them).
fn ice40_cells_sim() -> PathBuf {
    ["/usr/share/yosys/ice40/cells_sim.v", "/usr/local/share/yosys/ice40/cells_sim.v"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .expect("yosys' ice40/cells_sim.v (apt-get install yosys)")
}

fn write(dir: &Path, files: &BTreeMap<String, String>) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    for (n, t) in files {
        std::fs::write(dir.join(n), t).unwrap();
    }
}

fn tmp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("sf-fpga-{name}-{}", std::process::id()))
}

/// The FuseSoC core uses edalize's flow API (not the deprecated `tools:`)
/// and hands nextpnr the options and constraint files the Makefile does.
fn check_core(b: &spikeforge_fpga::Board, files: &BTreeMap<String, String>, constraint: &str) {
    let name = format!("spikeforge_{}.core", b.name.replace('-', "_"));
    let core = &files[&name];
    let flow = match b.family {
        Family::Ice40 => "icestorm",
        Family::Ecp5 => "trellis",
        Family::Xilinx7 => "vivado",
    };
    assert!(core.contains(&format!("    flow: {flow}\n    ")), "{}: flow {flow}:\n{core}", b.name);
    assert!(core.contains("    flow_options:\n"), "{}:\n{core}", b.name);
    assert!(!core.contains("tools:") && !core.contains("default_tool"), "{}: deprecated tool API:\n{core}", b.name);
    assert!(core.contains(&format!("      - {constraint}: {{file_type: ")), "{}: {constraint}:\n{core}", b.name);
    let pnr = project::nextpnr_options(b);
    match b.family {
        Family::Ice40 | Family::Ecp5 => {
            // The same options in both builds, and never --freq for the
            // iCE40 boards (it would hold the PLL's clock to the board's).
            assert!(files["Makefile"].contains(&format!(" {} --", pnr.join(" "))), "{}: Makefile", b.name);
            assert!(core.contains(&format!("      nextpnr_options: [{}", pnr[0])), "{}:\n{core}", b.name);
            assert!(!core.contains("--timing-allow-fail") && !files["Makefile"].contains("--timing-allow-fail"));
        }
        Family::Xilinx7 => {
            assert!(pnr.is_empty());
            assert!(core.contains(&format!("      part: {}\n", b.device)), "{}:\n{core}", b.name);
        }
    }
    if b.family == Family::Ice40 {
        assert!(pnr.ends_with(&["--pre-pack".to_string(), project::CLOCKS_PY.to_string()]), "{pnr:?}");
        assert!(!pnr.contains(&"--freq".to_string()), "{pnr:?}");
        assert!(files.contains_key(project::CLOCKS_PY), "{}", b.name);
        let copied = format!("      - {0}: {{file_type: user, copyto: {0}}}\n", project::CLOCKS_PY);
        assert!(core.contains(&copied), "{}: the clock script in the build folder:\n{core}", b.name);
    }
}

#[test]
fn every_board_gets_a_complete_deterministic_lint_clean_project() {
    let net = example();
    for b in BOARDS {
        let m = mapping(&net, b.spec);
        let files = project::files(b, &net, &m);
        assert_eq!(files, project::files(b, &net, &m), "{}: same inputs, same bytes", b.name);
        let constraint = match b.family {
            Family::Ice40 => format!("{}.pcf", b.name),
            Family::Xilinx7 => format!("{}.xdc", b.name),
            Family::Ecp5 => format!("{}.lpf", b.name),
        };
        for f in [
            constraint.as_str(),
            "Makefile",
            "files.f",
            "sf_board_top.v",
            "sf_uart_bridge.v",
            "mapping.json",
            "core0_param_sets.hex",
            "core0_neurons.hex",
            "README.md",
        ] {
            assert!(files.contains_key(f), "{}: {f} missing", b.name);
        }
        assert!(files.keys().any(|k| k.ends_with(".core")), "{}: FuseSoC core", b.name);
        check_core(b, &files, &constraint);
        if b.family == Family::Xilinx7 {
            assert!(files["build.tcl"].contains("synth_design -top sf_board_top -part xc7a35ticsg324-1L"));
        }
        // Every pin of the top is constrained.
        let c = &files[&constraint];
        for pin in [b.clock_pin, b.rx_pin, b.tx_pin].into_iter().chain(b.reset_pin) {
            assert!(c.contains(pin), "{}: pin {pin} not in {constraint}", b.name);
        }
        let dir = tmp(b.name);
        write(&dir, &files);
        let sources: Vec<String> = files["files.f"].lines().map(str::to_string).collect();
        // A board clocked by the PLL instantiates the iCE40 primitive.
        let pll = files["sf_board_top.v"].contains("SB_PLL40_PAD");
        assert_eq!(pll, b.pll_hz.is_some(), "{}: PLL in the top iff the board uses it", b.name);
        let (mut lint_extra, mut ic_extra) = (Vec::new(), Vec::new());
        if pll {
            std::fs::write(dir.join("SB_PLL40_PAD.v"), PLL_LINT_STUB).unwrap();
            lint_extra.push("SB_PLL40_PAD.v".to_string());
            ic_extra.push("-DNO_ICE40_DEFAULT_ASSIGNMENTS".to_string());
            ic_extra.push(ice40_cells_sim().display().to_string());
        }
        let lint = Command::new("verilator")
            .current_dir(&dir)
            .args(["--lint-only", "-Wall", "--top-module", "sf_board_top", "verilator.vlt"])
            .args(&sources)
            .args(&lint_extra)
            .output()
            .expect("verilator runs");
        assert!(lint.status.success(), "{}: {}", b.name, String::from_utf8_lossy(&lint.stderr));
        let ic = Command::new("iverilog")
            .current_dir(&dir)
            .args(["-g2005", "-o", "/dev/null", "-s", "sf_board_top"])
            .args(&sources)
            .args(&ic_extra)
            .output()
            .expect("iverilog runs");
        assert!(ic.status.success(), "{}: {}", b.name, String::from_utf8_lossy(&ic.stderr));
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn xilinx_and_ecp5_projects_synthesize_within_their_boards() {
    let net = example();
    for name in ["arty-a7", "ulx3s"] {
        let b = board(name).unwrap();
        let m = mapping(&net, b.spec);
        // One project in a relative folder, as `spikeforge fpga --out rel --build` makes it.
        let dir = if name == "ulx3s" {
            std::path::PathBuf::from(format!("../target/sf-relative-{name}-{}", std::process::id()))
        } else {
            // Not `tmp(name)`: the determinism test uses (and removes) that.
            tmp(&format!("{name}-synth"))
        };
        write(&dir, &project::files(b, &net, &m));
        let r = flow::synth_check(&dir, b).unwrap_or_else(|e| panic!("{name}: {e}"));
        eprintln!("{name}: {r:?}");
        assert!(r.pass, "{name}: {r:?}");
        assert!(r.luts > 1000 && r.flip_flops > 500, "{name}: implausible estimate {r:?}");
        // ECP5 puts the memories into DP16KD. Xilinx puts the small ones
        // into distributed RAM (LUTs) and infers block RAM for the large:
        // the `ice40` spec's synapse memory (2048 x 16 bits) is a RAMB36.
        assert!(r.brams > 0, "{name}: memories in block RAM: {r:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// The `up5k` preset on the iCEBreaker: the synapse memory is single-port,
/// yosys (`synth_ice40 -spram`, as the Makefile and FuseSoC core say) puts
/// it into the UP5K's four SPRAMs, and the project has no synapse image
/// (SPRAM cannot be preloaded; the host loads the network).
#[test]
fn up5k_projects_put_synapses_in_spram() {
    let net = example();
    let b = board("icebreaker").unwrap();
    let m = mapping(&net, "up5k");
    let files = project::files(b, &net, &m);
    assert!(files["Makefile"].contains("synth_ice40 -spram -top"), "{}", files["Makefile"]);
    assert!(files.values().any(|t| t.contains("yosys_synth_options: [-spram]")), "the FuseSoC core passes -spram");
    assert!(!files.contains_key("core0_synapses.hex"), "no synapse image for SPRAM");
    assert!(files.contains_key("core0_axons.hex"), "the other memories are still preloaded");
    assert!(files["README.md"].contains("loads the whole network over the UART"));
    let dir = tmp("up5k-spram");
    write(&dir, &files);
    let r = flow::synth_check(&dir, b).unwrap_or_else(|e| panic!("{e}"));
    eprintln!("up5k: {r:?}");
    // 65,536 synapse words of 16 bits: all four 16K x 16 SPRAMs.
    assert_eq!(r.sprams, 4, "{r:?}");
    assert!(r.pass, "{r:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The iCEBreaker core's constraints and target, as a reviewable snapshot
/// (the file lists before them follow the design's modules).
#[test]
fn icebreaker_core_targets_snapshot() {
    let net = example();
    let b = board("icebreaker").unwrap();
    let files = project::files(b, &net, &mapping(&net, b.spec));
    let core = &files["spikeforge_icebreaker.core"];
    let tail = &core[core.find("  constraints:\n").expect("a constraints fileset")..];
    insta::assert_snapshot!(tail);
}

/// One clock's verdict in a nextpnr log: (clock, achieved MHz, constraint
/// MHz, PASS).
fn nextpnr_clocks(log: &str) -> Vec<(String, f64, f64, bool)> {
    // "Max frequency for clock 'clk_design_$glb_clk': 31.11 MHz (PASS at 27.00 MHz)",
    // after placement and again after routing: the last one of each clock counts.
    let mut out: BTreeMap<String, (f64, f64, bool)> = BTreeMap::new();
    for line in log.lines() {
        let Some(rest) = line.split("Max frequency for clock '").nth(1) else { continue };
        let (clock, rest) = rest.split_once("': ").expect("a clock name");
        let num = |s: &str| s.split_whitespace().next().unwrap().parse::<f64>().unwrap();
        let (achieved, verdict) = rest.split_once(" MHz (").expect("MHz");
        let (pass, constraint) = verdict.split_once(" at ").expect("at");
        out.insert(clock.to_string(), (num(achieved), num(constraint), pass == "PASS"));
    }
    out.into_iter().map(|(c, (a, k, p))| (c, a, k, p)).collect()
}

/// FuseSoC's python: the project's .venv (`./dev deps`), else `python3`.
fn fusesoc_python() -> PathBuf {
    let venv = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.venv/bin/python3"));
    let py = if venv.is_file() { venv.to_path_buf() } else { PathBuf::from("python3") };
    let ok = Command::new(&py).args(["-c", "import fusesoc, edalize"]).status().is_ok_and(|s| s.success());
    assert!(ok, "fusesoc is not installed for {}: `./dev deps` installs it into .venv", py.display());
    py
}

/// `fusesoc run --build` of the iCEBreaker core: the bitstream, with every
/// clock meeting its constraint (the design clock at the PLL's 27 MHz, not
/// `--freq`'s board clock); and the flow's own nextpnr command fails the
/// build when a clock misses its constraint.
#[test]
fn fusesoc_builds_the_icebreaker_core_within_timing() {
    let py = fusesoc_python();
    let net = example();
    let b = board("icebreaker").unwrap();
    let dir = tmp("fusesoc-icebreaker");
    write(&dir, &project::files(b, &net, &mapping(&net, b.spec)));
    let vlnv = "spikeforge:snn:spikeforge_icebreaker:0.1.0";
    let t0 = std::time::Instant::now();
    let o = Command::new(&py)
        .current_dir(&dir)
        .args(["-m", "fusesoc.main", "--cores-root", ".", "run", "--build", "--target", "icebreaker", vlnv])
        .output()
        .expect("fusesoc runs");
    let out = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success(), "fusesoc run --build failed:\n{out}");
    let work = dir.join("build/spikeforge_snn_spikeforge_icebreaker_0.1.0/icebreaker");
    let name = "spikeforge_snn_spikeforge_icebreaker_0.1.0";
    assert!(work.join(format!("{name}.bin")).is_file(), "no bitstream in {}:\n{out}", work.display());
    let log = std::fs::read_to_string(work.join("next.log")).expect("nextpnr's log");
    let clocks = nextpnr_clocks(&log);
    eprintln!("fusesoc build: {:.0} s, {clocks:?}", t0.elapsed().as_secs_f64());
    assert!(!clocks.is_empty() && clocks.iter().all(|c| c.3 && c.1 >= c.2), "timing: {clocks:?}");
    let design = clocks.iter().find(|c| c.0.starts_with("clk_design")).expect("the design clock constrained");
    assert_eq!(design.2, b.design_clock_hz() as f64 / 1e6, "{clocks:?}");

    // The same place and route held to a clock it cannot make: nextpnr (no
    // --timing-allow-fail) and so make fail.
    std::fs::write(work.join(project::CLOCKS_PY), "ctx.addClock(\"clk\", 12)\nctx.addClock(\"clk_design\", 200)\n")
        .unwrap();
    let asc = format!("{name}.asc");
    std::fs::remove_file(work.join(&asc)).unwrap();
    let o = Command::new("make").current_dir(&work).arg(&asc).output().expect("make runs");
    let log = std::fs::read_to_string(work.join("next.log")).unwrap_or_default();
    assert!(!o.status.success(), "a missed clock constraint must fail the build");
    assert!(log.contains("FAIL at 200.00 MHz"), "{log}");
    let _ = std::fs::remove_dir_all(&dir);
}
