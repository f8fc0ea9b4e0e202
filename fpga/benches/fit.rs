//! Fit benchmark (figures printed, nothing asserted): every board with its
//! target network on the board's spec, one row per board.
//!
//! Target networks, converted here as `spikeforge demo` and `spikeforge
//! convert` do (shifted bias + bias correction, p99.9 thresholds, potential
//! readout, T = 32):
//! - the digits MLP (compiled in, digits data compiled in) for the iCE40
//!   boards and the Arty;
//! - the Fashion-MNIST CNN (`convert/models/fashion_cnn.onnx`, 64
//!   calibration images) for the ULX3S when Debian's
//!   `dataset-fashion-mnist` is installed, else the digits network (the
//!   output says so).
//!
//! Where the board's spec cannot hold its network, the smallest preset that
//! does is used and the row is marked.
//!
//! A row: logic (nextpnr's logic cells for iCE40 boards, yosys' LUT
//! estimate otherwise), flip-flops, block RAM, SPRAM (UP5K), fmax against
//! the design clock (iCE40 only), synapses per logic cell, memory efficiency
//! (network state bits / block RAM bits), and cycles per inference from a
//! Verilator co-simulation of the first test images through the design's
//! top-level ports, every step verified against golden, with the one-time
//! load separately, and inferences per second at the design clock.
//!
//! `cargo bench -p spikeforge-fpga --bench fit` runs the flows (several
//! minutes; the projects and tool logs stay in the folder it prints).
//! Without `--bench` (as `cargo test --benches` runs it) it converts the
//! digits network and writes the projects only, every board on digits.

use spikeforge_convert::{data, snn, Options, Snn, Split};
use spikeforge_fpga::flow::{self, FitReport};
use spikeforge_fpga::{project, Board, Family, BOARDS};
use spikeforge_mapper::{map, Algorithm, HardwareSpec, MapOptions, Mapping};
use spikeforge_net::Stimulus;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

/// Time steps per inference (T) of every target network.
const STEPS: u32 = 32;
/// Test images co-simulated per network (as `spikeforge demo` runs by default).
const IMAGES: usize = 20;
/// The digits model, as `spikeforge demo` compiles it in.
const DIGITS_MODEL: &[u8] = include_bytes!("../../convert/models/digits_mlp.onnx");
/// The Fashion-MNIST CNN.
const FASHION_MODEL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../convert/models/fashion_cnn.onnx");
/// Training images read for the CNN: its threshold balancing takes the
/// first 5000 (`Options::balance_samples`), so reading more changes nothing.
const FASHION_TRAIN: usize = 5000;
/// Calibration images of the CNN (as in docs/benchmarks.md's command).
const FASHION_CALIBRATION: usize = 64;

/// A converted network and the test images that drive it.
struct Target {
    /// Short name for the table.
    name: &'static str,
    snn: Snn,
    test: Split,
}

/// A target mapped onto a spec for one board.
struct Deployment<'a> {
    target: &'a Target,
    spec: HardwareSpec,
    mapping: Mapping,
    /// The board's own spec, when it could not hold the network.
    board_spec_too_small: bool,
}

impl Deployment<'_> {
    /// The spec's name, marked `*` where the board's own spec was too small.
    fn spec_label(&self) -> String {
        format!("{}{}", self.spec.name, if self.board_spec_too_small { "*" } else { "" })
    }
}

/// The co-simulation of each (spec, network), run once.
type Cosims = BTreeMap<(String, &'static str), Result<Cycles, String>>;

/// Cycles of the co-simulated inferences.
#[derive(Clone)]
struct Cycles {
    /// Mean clocks of the `STEPS` steps of one inference.
    per_inference: f64,
    /// The fewest and most clocks of one inference.
    range: (u64, u64),
    /// Clocks to load the network over the configuration port (once).
    load: u64,
    /// Images run, and how many of them equal golden at every step.
    images: usize,
    equal: usize,
}

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let digits = digits_target();
    let fashion = if quick { None } else { fashion_target() };
    let root = std::env::temp_dir().join(format!("sf-fit-{}", std::process::id()));
    println!("fit of each board's target network on the board's spec (T = {STEPS})");
    if !quick {
        print_header();
    }
    let mut cosims = Cosims::new();
    for b in BOARDS {
        let target = if b.family == Family::Ecp5 { fashion.as_ref().unwrap_or(&digits) } else { &digits };
        let d = match deploy(b, target) {
            Ok(d) => d,
            Err(e) => {
                println!("  {:<11} {} does not fit any preset: {e}", b.name, target.name);
                continue;
            }
        };
        let dir = root.join(b.name);
        write_project(&dir, b, &d);
        if quick {
            println!("  {:<11} {:<7} {:<7} project written", b.name, d.spec_label(), target.name);
            continue;
        }
        let t = Instant::now();
        let fit = match b.family {
            Family::Ice40 => flow::build_ice40(&dir, b),
            _ => flow::synth_check(&dir, b),
        };
        let key = (d.spec.name.clone(), target.name);
        let cycles = cosims.entry(key).or_insert_with(|| cosimulate(&d)).clone();
        match fit {
            Ok(fit) => print_row(b, &d, &fit, &cycles, t.elapsed().as_secs_f64()),
            Err(e) => println!("  {:<11} {:<7} {:<7} FAILED: {e}", b.name, d.spec_label(), target.name),
        }
    }
    if quick {
        let _ = std::fs::remove_dir_all(&root);
        println!("  (quick run: `cargo bench -p spikeforge-fpga --bench fit` runs the flows and the co-simulations)");
    } else {
        print_notes(&root, &cosims, fashion.is_some());
    }
}

/// The digits MLP converted as `spikeforge demo` converts it.
fn digits_target() -> Target {
    let d = data::digits();
    let ann = spikeforge_convert::import_bytes("convert/models/digits_mlp.onnx", DIGITS_MODEL).expect("the model");
    let snn = convert(&ann, &d.train, &options(256), "digits_snn_t32");
    Target { name: "digits", snn, test: d.test }
}

/// The Fashion-MNIST CNN, or `None` (with a note) without the data set.
fn fashion_target() -> Option<Target> {
    let d = match data::fashion_mnist(Path::new(data::FASHION_DIR), FASHION_TRAIN) {
        Ok(d) => d,
        Err(e) => {
            println!("Fashion-MNIST not available ({e}): the ULX3S gets the digits network");
            return None;
        }
    };
    let ann = spikeforge_convert::import(Path::new(FASHION_MODEL)).expect("the shipped model imports");
    let snn = convert(&ann, &d.train, &options(FASHION_CALIBRATION), "fashion_cnn");
    Some(Target { name: "f-cnn", snn, test: d.test })
}

/// `spikeforge convert`'s defaults at T = [`STEPS`] with the presets'
/// fixed point (every preset has the same widths).
fn options(calibration_samples: usize) -> Options {
    let spec = HardwareSpec::preset("ice40").expect("preset");
    let mut o = Options::new(STEPS).method("bias").expect("a known method");
    o.fixed_point = spikeforge_net::doc::FixedPointDoc {
        weight_bits: spec.weight_bits,
        potential_bits: spec.potential_bits,
        accumulator_bits: spec.accumulator_bits,
    };
    o.calibration_samples = calibration_samples;
    o
}

fn convert(ann: &spikeforge_convert::Ann, train: &Split, opts: &Options, name: &str) -> Snn {
    let mut s = snn::convert(ann, train, opts).expect("the shipped model converts");
    s.set_name(name).expect("a valid name");
    s
}

/// Maps the target onto the board's spec or, if it does not fit there, onto
/// the first preset (smallest first) that holds it.
fn deploy<'a>(b: &Board, target: &'a Target) -> Result<Deployment<'a>, String> {
    let net = &target.snn.net;
    let specs =
        std::iter::once(b.spec).chain(spikeforge_mapper::spec::PRESETS.iter().copied().filter(|p| *p != b.spec));
    let mut first_error = None;
    for name in specs {
        let spec = HardwareSpec::preset(name).expect("preset");
        match map(net, &spec, &MapOptions::new(Algorithm::Multilevel)) {
            Ok(mapping) => {
                return Ok(Deployment { target, board_spec_too_small: name != b.spec, spec, mapping });
            }
            Err(e) => {
                first_error.get_or_insert(e.to_string());
            }
        }
    }
    Err(first_error.unwrap_or_default())
}

/// Writes the board project of a deployment into `dir` (emptied first).
fn write_project(dir: &Path, b: &Board, d: &Deployment) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).expect("project folder");
    for (name, text) in project::files(b, &d.target.snn.net, &d.mapping) {
        std::fs::write(dir.join(name), text).expect("write a project file");
    }
}

/// Runs the first [`IMAGES`] test images on the Verilator model of the
/// deployment's spec, verified against golden at every step; an error is
/// the message (a missing Verilator, say).
fn cosimulate(d: &Deployment) -> Result<Cycles, String> {
    let built = spikeforge_sim::build(&d.spec).map_err(|e| e.to_string())?;
    let s = &d.target.snn;
    let images = IMAGES.min(d.target.test.len());
    let (mut steps_total, mut load, mut equal) = (0u64, 0u64, 0usize);
    let mut range = (u64::MAX, 0);
    for i in 0..images {
        let stim = Stimulus::from_train(&s.stimulus(&d.target.test.x(i)));
        let opts = spikeforge_sim::RunOptions::verified(STEPS);
        let r =
            spikeforge_sim::run(&built, &s.net, &d.mapping, &stim, &opts, &mut |_| {}).map_err(|e| e.to_string())?;
        let cycles = r.cycles_per_step.iter().sum::<u64>();
        steps_total += cycles;
        range = (range.0.min(cycles), range.1.max(cycles));
        load = r.load_cycles;
        equal += usize::from(r.verdict == spikeforge_sim::Verdict::Equal);
    }
    Ok(Cycles { per_inference: steps_total as f64 / images.max(1) as f64, range, load, images, equal })
}

fn print_header() {
    println!(
        "  {:<11} {:<7} {:<7} {:>7} {:>8} {:>13} {:>6} {:>11} {:>5} {:>17} {:>6} {:>5} {:>19} {:>7} {:>5}",
        "board",
        "spec",
        "network",
        "neurons",
        "synapses",
        "logic",
        "FFs",
        "block RAM",
        "SPRAM",
        "fmax / clock",
        "syn/LC",
        "mem",
        "cycles/inf (+load)",
        "inf/s",
        "time"
    );
}

fn print_row(b: &Board, d: &Deployment, fit: &FitReport, cycles: &Result<Cycles, String>, seconds: f64) {
    let st = d.target.snn.net.stats();
    let pct = |a: u64, n: u64| 100.0 * a as f64 / n.max(1) as f64;
    let state_bits = d.mapping.images.state_bits(&d.spec);
    let bram_bits = fit.brams * b.family.bram_bits();
    let fmax = match fit.fmax_mhz {
        Some(f) => format!("{f:.1} / {:.1} MHz", fit.clock_mhz),
        None => format!("- / {:.1} MHz", fit.clock_mhz),
    };
    let (cyc, rate) = match cycles {
        Ok(c) => (
            format!("{:.0} (+{}){}", c.per_inference, c.load, if c.equal == c.images { "" } else { " !=" }),
            format!("{:.0}", fit.clock_mhz * 1e6 / c.per_inference.max(1.0)),
        ),
        Err(_) => ("not simulated".into(), "-".into()),
    };
    println!(
        "  {:<11} {:<7} {:<7} {:>7} {:>8} {:>6} ({:>3.0}%) {:>6} {:>4}/{:<3}({:>3.0}%) {:>5} {:>17} {:>6.2} {:>4.0}% {:>19} {:>7} {:>4.0}s",
        b.name,
        d.spec_label(),
        d.target.name,
        st.neurons,
        st.synapses,
        fit.luts,
        pct(fit.luts, fit.luts_available),
        fit.flip_flops,
        fit.brams,
        fit.brams_available,
        pct(fit.brams, fit.brams_available),
        fit.sprams,
        fmax,
        st.synapses as f64 / fit.luts.max(1) as f64,
        pct(state_bits, bram_bits),
        cyc,
        rate,
        seconds
    );
    if let Err(e) = cycles {
        println!("  {:<11} not co-simulated: {e}", "");
    }
}

/// Where the design clock's critical path starts and ends in nextpnr's log
/// (its last report, after routing), with its logic and routing delays. The
/// design clock is `clk_design` where a PLL makes it, else the board clock
/// (the only one).
fn critical_path(log: &Path) -> Option<String> {
    let text = std::fs::read_to_string(log).ok()?;
    const REPORT: &str = "Critical path report for clock '";
    let start = text.rfind(&format!("{REPORT}clk_design")).or_else(|| text.rfind(REPORT))?;
    let report = text[start..].split("\n\n").next()?;
    let field = |key: &str| {
        report
            .lines()
            .filter_map(|l| l.split_once(key).map(|(_, v)| v.split_whitespace().next().unwrap_or("")))
            .collect::<Vec<_>>()
    };
    let (from, to) = (*field("Source ").first()?, *field("Sink ").last()?);
    let delays = report.lines().rev().find(|l| l.contains("ns logic"))?.trim_start_matches("Info: ");
    Some(format!("{from} -> {to} ({delays})"))
}

/// The co-simulations, the critical paths of the iCE40 builds, where the
/// projects are, and the columns' meaning.
fn print_notes(root: &Path, cosims: &Cosims, fashion: bool) {
    for ((spec, net), c) in cosims {
        if let Ok(c) = c {
            println!(
                "  co-simulation {net} on {spec}: {} of {} test images equal to golden at every step; {:.0} cycles per inference ({}-{}), {} to load",
                c.equal, c.images, c.per_inference, c.range.0, c.range.1, c.load
            );
        }
    }
    for b in BOARDS.iter().filter(|b| b.family == Family::Ice40) {
        if let Some(p) = critical_path(&root.join(b.name).join("build/nextpnr.log")) {
            println!("  critical path {}: {p}", b.name);
        }
    }
    println!("  projects and tool logs: {}", root.display());
    println!(
        "  (logic: iCE40 logic cells after packing, LUTs after yosys synthesis otherwise; fmax: nextpnr, iCE40 only; \
         syn/LC: synapses per logic cell; mem: network state bits / block RAM bits; cycles: mean of the first {IMAGES} \
         test images' {STEPS} steps under Verilator, every step equal to golden unless marked !=, plus the one-time load; \
         inf/s at the design clock; * the board's spec cannot hold the network, the smallest preset that can is used{})",
        if fashion { "" } else { "; ULX3S on digits: no Fashion-MNIST data" }
    );
}
