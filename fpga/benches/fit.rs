//! Fit benchmark (figures printed, nothing asserted): every board with its
//! target networks, one row per (board, spec, network) in [`RUNS`].
//!
//! Target networks, converted here as `spikeforge demo` and `spikeforge
//! convert` do (shifted bias + bias correction, p99.9 thresholds, potential
//! readout, rate-coded input, T = 32):
//! - the digits MLP (compiled in, digits data compiled in) for the iCE40
//!   boards and the Arty;
//! - the Fashion-MNIST MLP (`convert/models/fashion_mlp.onnx`, 784-128-10,
//!   256 calibration images) on the iCEBreaker's `up5k` spec (synapses in
//!   SPRAM), co-simulated on 100 test images;
//! - the Fashion-MNIST CNN (`convert/models/fashion_cnn.onnx`, 64
//!   calibration images) for the ULX3S.
//!
//! The Fashion-MNIST rows need Debian's `dataset-fashion-mnist`; without it
//! the MLP row is left out and the ULX3S gets the digits network (the
//! output says so).
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
//! minutes; the projects and tool logs stay in the folder it prints);
//! `-- NAME...` keeps the rows of those boards or specs (`-- up5k`).
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
/// Test images co-simulated per network (as `spikeforge demo` runs by
/// default), except the Fashion-MNIST MLP's [`MLP_IMAGES`].
const IMAGES: usize = 20;
/// Test images co-simulated for the Fashion-MNIST MLP on the UP5K.
const MLP_IMAGES: usize = 100;
/// The Fashion-MNIST MLP.
const FASHION_MLP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../convert/models/fashion_mlp.onnx");
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
    /// Test images co-simulated.
    images: usize,
}

/// The networks of the rows.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Net {
    Digits,
    FashionMlp,
    FashionCnn,
}

/// The rows: board, spec (`None`: the board's own) and network.
const RUNS: &[(&str, Option<&str>, Net)] = &[
    ("icebreaker", None, Net::Digits),
    ("icebreaker", Some("up5k"), Net::FashionMlp),
    ("ice40-hx8k", None, Net::Digits),
    ("arty-a7", None, Net::Digits),
    ("ulx3s", None, Net::FashionCnn),
];

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
    /// Images the hardware's readout classifies correctly.
    correct: usize,
}

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    // Words after `--` pick rows by board or spec name (`-- up5k`).
    let only: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let digits = digits_target();
    let (mlp, cnn) = if quick { (None, None) } else { fashion_targets() };
    let root = std::env::temp_dir().join(format!("sf-fit-{}", std::process::id()));
    println!("fit of each board's target network on the board's spec (T = {STEPS})");
    if !quick {
        print_header();
    }
    let mut cosims = Cosims::new();
    let mut built = Vec::new();
    for &(board, spec, net) in RUNS {
        if !only.is_empty() && !only.iter().any(|o| o == board || Some(o.as_str()) == spec) {
            continue;
        }
        let b = BOARDS.iter().find(|b| b.name == board).expect("a board of RUNS");
        let target = match net {
            Net::Digits => &digits,
            Net::FashionMlp => match &mlp {
                Some(t) => t,
                None => continue,
            },
            Net::FashionCnn => cnn.as_ref().unwrap_or(&digits),
        };
        let d = match deploy(spec.unwrap_or(b.spec), target) {
            Ok(d) => d,
            Err(e) => {
                println!("  {:<11} {} does not fit any preset: {e}", b.name, target.name);
                continue;
            }
        };
        let dir = root.join(format!("{}-{}", b.name, target.name));
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
        if b.family == Family::Ice40 {
            built.push((format!("{} {}", b.name, target.name), dir.clone()));
        }
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
        print_notes(&root, &built, &cosims, cnn.is_some());
    }
}

/// The digits MLP converted as `spikeforge demo` converts it.
fn digits_target() -> Target {
    let d = data::digits();
    let ann = spikeforge_convert::import_bytes("convert/models/digits_mlp.onnx", DIGITS_MODEL).expect("the model");
    let snn = convert(&ann, &d.train, &options(256), "digits_snn_t32");
    Target { name: "digits", snn, test: d.test, images: IMAGES }
}

/// The Fashion-MNIST MLP and CNN, or `None` (with a note) without the
/// data set.
fn fashion_targets() -> (Option<Target>, Option<Target>) {
    let d = match data::fashion_mnist(Path::new(data::FASHION_DIR), FASHION_TRAIN) {
        Ok(d) => d,
        Err(e) => {
            println!("Fashion-MNIST not available ({e}): no MLP row, the ULX3S gets the digits network");
            return (None, None);
        }
    };
    let target = |model: &str, calibration: usize, name: &'static str, images: usize| {
        let ann = spikeforge_convert::import(Path::new(model)).expect("the shipped model imports");
        let snn = convert(&ann, &d.train, &options(calibration), name);
        Target { name, snn, test: d.test.clone(), images }
    };
    (
        Some(target(FASHION_MLP, 256, "f-mlp", MLP_IMAGES)),
        Some(target(FASHION_MODEL, FASHION_CALIBRATION, "f-cnn", IMAGES)),
    )
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

/// Maps the target onto the spec `spec_name` or, if it does not fit there, onto the
/// first preset (smallest first) that holds it.
fn deploy<'a>(spec_name: &str, target: &'a Target) -> Result<Deployment<'a>, String> {
    let net = &target.snn.net;
    let specs =
        std::iter::once(spec_name).chain(spikeforge_mapper::spec::PRESETS.iter().copied().filter(|p| *p != spec_name));
    let mut first_error = None;
    for name in specs {
        let spec = HardwareSpec::preset(name).expect("preset");
        match map(net, &spec, &MapOptions::new(Algorithm::Multilevel)) {
            Ok(mapping) => {
                return Ok(Deployment { target, board_spec_too_small: name != spec_name, spec, mapping });
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
    let images = d.target.images.min(d.target.test.len());
    let (mut steps_total, mut load, mut equal, mut correct) = (0u64, 0u64, 0usize, 0usize);
    let mut range = (u64::MAX, 0);
    for i in 0..images {
        let train = s.stimulus(&d.target.test.x(i));
        let stim = Stimulus::from_train(&train);
        let opts = spikeforge_sim::RunOptions::verified(STEPS);
        let r =
            spikeforge_sim::run(&built, &s.net, &d.mapping, &stim, &opts, &mut |_| {}).map_err(|e| e.to_string())?;
        // Each step's clocks, its input hand-over included (the host pushes
        // a step's input spikes before starting it, and the integrate
        // engine takes them as fast as it works through their rows).
        let cycles = r.cycles_per_step.iter().sum::<u64>();
        steps_total += cycles;
        range = (range.0.min(cycles), range.1.max(cycles));
        load = r.load_cycles;
        equal += usize::from(r.verdict == spikeforge_sim::Verdict::Equal);
        // The hardware's own readout: its spikes (and the input spikes) and
        // its final potentials.
        let n = s.net.neuron_count() as usize;
        let counts: Vec<u32> = r.spikes.counts(n).iter().zip(train.counts(n)).map(|(&a, b)| (a + b) as u32).collect();
        correct += usize::from(s.classify(&counts, &r.potentials) == d.target.test.labels[i] as usize);
    }
    Ok(Cycles { per_inference: steps_total as f64 / images.max(1) as f64, range, load, images, equal, correct })
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
    let bram_bits = fit.ram_bits(b.family);
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
fn print_notes(root: &Path, built: &[(String, std::path::PathBuf)], cosims: &Cosims, fashion: bool) {
    for ((spec, net), c) in cosims {
        if let Ok(c) = c {
            println!(
                "  co-simulation {net} on {spec}: {} of {} test images equal to golden at every step, hardware readout {:.1}% correct; {:.0} cycles per inference ({}-{}), {} to load",
                c.equal,
                c.images,
                100.0 * c.correct as f64 / c.images.max(1) as f64,
                c.per_inference,
                c.range.0,
                c.range.1,
                c.load
            );
        }
    }
    for (what, dir) in built {
        if let Some(p) = critical_path(&dir.join("build/nextpnr.log")) {
            println!("  critical path {what}: {p}");
        }
    }
    println!("  projects and tool logs: {}", root.display());
    println!(
        "  (logic: iCE40 logic cells after packing, LUTs after yosys synthesis otherwise; fmax: nextpnr, iCE40 only; \
         syn/LC: synapses per logic cell; mem: network state bits / block RAM and SPRAM bits; cycles: the steps' clocks with their input hand-over, mean of the first {IMAGES} \
         ({MLP_IMAGES} for f-mlp) test images' {STEPS} steps under Verilator, every step equal to golden unless marked !=, plus the one-time load; \
         inf/s at the design clock; * the board's spec cannot hold the network, the smallest preset that can is used{})",
        if fashion { "" } else { "; ULX3S on digits: no Fashion-MNIST data" }
    );
}
