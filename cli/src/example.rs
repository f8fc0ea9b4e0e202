//! The built-in default example and the `demo` command (the README's main
//! job): the digits ANN (compiled in) converted to an integer SNN, its
//! accuracy at T = 8..64 on the golden model, mapped onto the `ice40` spec
//! (one core), its Verilog co-simulated under Verilator in lockstep with
//! golden on test images, the iCEBreaker (UP5K) project with a yosys
//! resource estimate (or, with `--build`, nextpnr's fit, fmax and the
//! bitstream), and an HTML report (spike raster, output potentials,
//! accuracy versus T, confusion matrix, clock cycles per time step).

use crate::args::JsonArg;
use crate::common::{check_out_dir, other, write_file, Command, Failure, Internal, Outcome};
use crate::report::{self, Curve, Figure, Raster};
use clap::Args;
use serde_json::json;
use spikeforge_convert::{data, snn, Ann, AnytimePoint, Dataset, Options, Snn, Split};
use spikeforge_fpga::flow::{FitReport, FlowError};
use spikeforge_fpga::Board;
use spikeforge_mapper::{HardwareSpec, Mapping};
use spikeforge_net::progress::Progress;
use spikeforge_net::Stimulus;
use std::path::PathBuf;
use std::time::Instant;

/// The ANN of the default example.
pub const MODEL: &[u8] = include_bytes!("../../convert/models/digits_mlp.onnx");
const MODEL_NAME: &str = "convert/models/digits_mlp.onnx";
/// The T values of the accuracy curve.
pub const STEPS: [u32; 4] = [8, 16, 32, 64];
/// T of the network that goes to the hardware.
pub const DEPLOY_STEPS: u32 = 32;
const SPEC: &str = "ice40";
const BOARD: &str = "icebreaker";
/// The methods on the curve: (method, label).
const CURVES: [(&str, &str); 3] =
    [("none", "no calibration"), ("shift", "shifted bias"), ("bias", "shifted bias + bias correction")];
/// The method of the deployed network.
const METHOD: &str = "bias";
/// Early exit's patience in the demo's sweep of margins.
const EXIT_PATIENCE: u32 = 2;

/// `spikeforge demo`'s arguments.
#[derive(Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub output: JsonArg,
    /// Folder for the network, FPGA sources and report.html.
    #[arg(long, default_value = "spikeforge-demo")]
    pub out: PathBuf,
    /// Test images co-simulated under Verilator.
    #[arg(long, default_value_t = 20)]
    pub samples: usize,
    /// Skip the yosys resource estimate.
    #[arg(long, conflicts_with = "build")]
    pub no_synth: bool,
    /// Place and route the iCEBreaker project with nextpnr and write its
    /// bitstream (about a minute more), instead of the yosys estimate.
    #[arg(long)]
    pub build: bool,
}

impl Command for DemoArgs {
    fn json(&self) -> bool {
        self.output.json
    }

    fn run(&self) -> Result<Outcome, Failure> {
        check_out_dir(&self.out, "--out")?;
        demo(self)
    }
}

/// A plotting error: the plots are built from data the demo made itself.
fn bug(e: impl std::fmt::Display) -> Failure {
    other(format!("internal error (please report): {e}"), None)
}

/// Runs the demo's phases in order (convert and measure, map, co-simulate,
/// FPGA sources and the network file, report) and prints the result; if
/// hardware and golden disagree (an internal bug) it fails, but only after
/// the report is written and printed, so the evidence is kept.
fn demo(a: &DemoArgs) -> Result<Outcome, Failure> {
    let t_start = Instant::now();
    let d = data::digits();
    let spec = HardwareSpec::preset(SPEC).expect("preset");
    // The demo's stages on one display (bars on a terminal, lines with
    // SPIKEFORGE_PROGRESS=plain); the map and the FPGA flow report to it.
    let display = crate::progress::Display::new("demo", !a.output.json);
    let conv = convert_and_measure(&d, &spec, &display)?;
    let mapping =
        crate::common::map_network_with(&conv.snn.net, &spec, spikeforge_mapper::Algorithm::Multilevel, &display)?;
    std::fs::create_dir_all(&a.out).map_err(|e| other(format!("cannot create {}: {e}", a.out.display()), None))?;
    let cosim = cosimulate(a, &spec, &conv.snn, &mapping, &d.test, &display)?;
    let fpga = write_fpga(a, &conv.snn, &mapping, &display)?;
    display.stage("report", None);
    write_file(&a.out.join("digits_snn_t32.toml"), &spikeforge_net::source::to_toml(&conv.snn.net))?;
    let run = DemoRun { conv, spec, mapping, cosim, fpga };
    let rows = run.write_report(a, &d.test)?;
    drop(display);
    if a.output.json {
        run.print_json(a, d.test.len());
    } else {
        run.print_text(a, &rows, t_start);
    }
    let c = &run.cosim;
    if !c.hw_ok {
        return Err(other(
            format!(
                "the Verilator model of the hardware disagrees with the golden model (internal bug): {}",
                c.hw_text()
            ),
            c.first_mismatch.as_ref().map(|_| "a VCD window of the steps before the mismatch is in mismatch.vcd"),
        ));
    }
    Ok(Outcome::Done)
}

/// The ANN, its conversions and their accuracies on the test split.
struct Converted {
    ann: Ann,
    ann_acc: f64,
    /// Accuracy (%) versus T on golden, one curve per method of [`CURVES`], in that order.
    curves: Vec<Curve>,
    /// The network that goes to the hardware ([`METHOD`], T = [`DEPLOY_STEPS`]).
    snn: Snn,
    /// Its accuracy in %.
    deployed_acc: f64,
    /// Early exit on the deployed network: accuracy and mean steps per margin.
    anytime: Vec<AnytimePoint>,
}

/// Imports the compiled-in ANN, converts it for every method and T of the
/// curves (calibrated on the train split), and measures each on golden.
/// The deployed network is named `digits_snn_t32`.
fn convert_and_measure(d: &Dataset, spec: &HardwareSpec, progress: &dyn Progress) -> Result<Converted, Failure> {
    let ann = spikeforge_convert::import_bytes(MODEL_NAME, MODEL).map_err(Internal)?;
    let ann_acc = snn::ann_accuracy(&ann, &d.test);
    let base = crate::convertcmd::options(DEPLOY_STEPS, METHOD, "p99.9", "potential", "subtract", spec)?;
    let mut curves = Vec::new();
    let mut deployed = None;
    for (method, label) in CURVES {
        let mut points = Vec::new();
        for t in STEPS {
            let opts = Options { steps: t, ..base.clone() }.method(method).expect("known method");
            progress.stage(&format!("converting and measuring: {label}, T = {t}"), None);
            let mut s = snn::convert(&ann, &d.train, &opts).map_err(Internal)?;
            points.push((t, 100.0 * s.accuracy(&d.test)));
            if method == METHOD && t == DEPLOY_STEPS {
                s.set_name("digits_snn_t32").map_err(Internal)?;
                deployed = Some(s);
            }
        }
        curves.push(Curve { label: label.to_string(), points });
    }
    let snn: Snn = deployed.expect("the deployed T is on the curve");
    progress.stage("early exit: accuracy against mean steps", None);
    let anytime = snn.anytime(&d.test, &snn.anytime_sweep(EXIT_PATIENCE));
    let deployed_acc = curves[2].points.iter().find(|p| p.0 == DEPLOY_STEPS).map_or(0.0, |p| p.1);
    Ok(Converted { ann, ann_acc, curves, snn, deployed_acc, anytime })
}

/// What the Verilator co-simulation of the test images gave.
struct Cosim {
    samples: usize,
    /// Runs where hardware = golden at every step.
    equal: usize,
    /// Runs where hardware and golden chose the same class.
    classes_equal: usize,
    /// Runs where the hardware's class is the label.
    correct: usize,
    /// (label, hardware's class) of each run, for the confusion matrix.
    classes: Vec<(usize, usize)>,
    /// Clock cycles of each step of each run, input hand-over included.
    cycles_per_step: Vec<Vec<u64>>,
    cycles_per_inference: f64,
    load_cycles: u64,
    /// The first divergence, with its test image.
    first_mismatch: Option<String>,
    /// Whether the Verilator model was built now (not taken from the cache).
    fresh: bool,
    build_s: f64,
    cosim_s: f64,
    /// Every run equal and every class equal.
    hw_ok: bool,
    /// Why there was no co-simulation (Verilator missing and no cached model).
    skipped: Option<String>,
}

impl Cosim {
    /// The verdict line of the report (and of the failure if not `hw_ok`).
    fn hw_text(&self) -> String {
        let Cosim { samples, correct, equal, classes_equal, .. } = self;
        if let Some(why) = &self.skipped {
            format!("not co-simulated: {why}")
        } else if self.hw_ok {
            format!(
                "hardware = golden on {samples} test images (spikes and every potential after each step); {correct} of {samples} classified correctly"
            )
        } else {
            format!(
                "hardware DIFFERS from golden: {} of {samples} runs equal, {classes_equal} classes equal; first: {}",
                equal,
                self.first_mismatch.clone().unwrap_or_default()
            )
        }
    }
}

/// Builds (or takes from the cache) the Verilator model of `spec` and runs
/// the first `--samples` test images on it in lockstep with golden, every
/// potential checked after each step; a divergence's VCD window goes to
/// `mismatch.vcd` in `--out`. Mismatches are counted, not errors.
fn cosimulate(
    a: &DemoArgs,
    spec: &HardwareSpec,
    s: &Snn,
    mapping: &Mapping,
    test: &Split,
    display: &crate::progress::Display,
) -> Result<Cosim, Failure> {
    let t0 = Instant::now();
    display.stage("the Verilator model", None);
    let built = match display.suspend(|| crate::common::build_model(spec, false, !a.output.json)) {
        Ok(b) => b,
        Err(e) => {
            // Degrade, do not fail: without Verilator (and no cached model)
            // the rest of the demo still runs, and says what it skipped.
            let tool = spikeforge_hdl::tools::VERILATOR;
            let Err(missing) = tool.check() else { return Err(e) };
            return Ok(Cosim {
                samples: 0,
                equal: 0,
                classes_equal: 0,
                correct: 0,
                classes: Vec::new(),
                cycles_per_step: Vec::new(),
                cycles_per_inference: 0.0,
                load_cycles: 0,
                first_mismatch: None,
                fresh: false,
                build_s: 0.0,
                cosim_s: 0.0,
                hw_ok: true,
                skipped: Some(format!("{missing}; install it with `sudo apt-get install {}`", tool.package)),
            });
        }
    };
    let build_s = t0.elapsed().as_secs_f64();
    let mut model = spikeforge_golden::Model::new(&s.net);
    let samples = a.samples.min(test.len());
    let (mut equal, mut classes_equal, mut correct, mut cycles, mut load_cycles) = (0, 0, 0, 0u64, 0u64);
    let mut first_mismatch = None;
    let (mut classes, mut cycles_per_step) = (Vec::with_capacity(samples), Vec::with_capacity(samples));
    let t1 = Instant::now();
    display.stage(&format!("co-simulating {samples} test images against golden"), Some(samples as u64));
    for i in 0..samples {
        let x = test.x(i);
        let stim = Stimulus::from_train(&s.stimulus(&x));
        let mut opts = spikeforge_sim::RunOptions::verified(DEPLOY_STEPS);
        opts.potentials_every_step = true;
        opts.mismatch_vcd = Some(a.out.join("mismatch.vcd"));
        let r = spikeforge_sim::run(&built, &s.net, mapping, &stim, &opts, &mut |_| {})?;
        let golden = s.infer(&mut model, &x, false);
        let mut counts = vec![0u32; golden.counts.len()];
        for s in &r.spikes {
            counts[s.neuron as usize] += 1;
        }
        let hw_class = s.classify(&counts, &r.potentials);
        if r.verdict == spikeforge_sim::Verdict::Equal {
            equal += 1;
        } else if first_mismatch.is_none() {
            if let spikeforge_sim::Verdict::Mismatch(m) = &r.verdict {
                first_mismatch = Some(format!("test image {i}: {m}"));
            }
        }
        classes_equal += usize::from(hw_class == golden.class);
        correct += usize::from(hw_class == test.labels[i] as usize);
        // Each step's clocks, its input hand-over included.
        cycles += r.cycles_per_step.iter().sum::<u64>();
        load_cycles = r.load_cycles;
        classes.push((test.labels[i] as usize, hw_class));
        cycles_per_step.push(r.cycles_per_step);
        display.advance(1);
    }
    Ok(Cosim {
        samples,
        equal,
        classes_equal,
        correct,
        classes,
        cycles_per_step,
        cycles_per_inference: cycles as f64 / samples.max(1) as f64,
        load_cycles,
        first_mismatch,
        fresh: built.fresh,
        build_s,
        cosim_s: t1.elapsed().as_secs_f64(),
        hw_ok: equal == samples && classes_equal == samples,
        skipped: None,
    })
}

/// The FPGA project written for the board.
struct Fpga {
    board: &'static Board,
    dir: PathBuf,
    /// The yosys estimate; `None` with `--no-synth`.
    fit: Option<Result<FitReport, FlowError>>,
    clock_mhz: f64,
}

/// Writes the FPGA project of the deployed network for [`BOARD`] into
/// `fpga-<board>` under `--out` and, unless `--no-synth`, asks yosys for a
/// resource estimate, or with `--build` runs place and route (a missing
/// tool is a result, not an error).
fn write_fpga(a: &DemoArgs, s: &Snn, mapping: &Mapping, progress: &dyn Progress) -> Result<Fpga, Failure> {
    let board = spikeforge_fpga::board(BOARD).expect("a known board");
    progress.stage("FPGA sources", None);
    let dir = a.out.join(format!("fpga-{BOARD}"));
    std::fs::create_dir_all(&dir).map_err(|e| other(format!("cannot create {}: {e}", dir.display()), None))?;
    for (name, text) in spikeforge_fpga::project::files(board, &s.net, mapping) {
        write_file(&dir.join(name), &text)?;
    }
    let fit = if a.no_synth {
        None
    } else if a.build {
        Some(spikeforge_fpga::flow::build_ice40_with(&dir, board, progress))
    } else {
        progress.stage("resource estimate (yosys)", None);
        Some(spikeforge_fpga::flow::synth_check(&dir, board))
    };
    let clock_mhz = board.design_clock_hz() as f64 / 1e6;
    Ok(Fpga { board, dir, fit, clock_mhz })
}

/// Everything the demo found, for the report and the printed summary.
struct DemoRun {
    conv: Converted,
    spec: HardwareSpec,
    mapping: Mapping,
    cosim: Cosim,
    fpga: Fpga,
}

impl DemoRun {
    /// Writes `raster.svg`, `accuracy.svg` and `report.html` under `--out`
    /// (the raster and potentials of test image 0, rerun on golden with
    /// recording; the confusion matrix and cycles per step of the
    /// co-simulated images) and returns the report's rows (label, text).
    fn write_report(&self, a: &DemoArgs, test: &Split) -> Result<Vec<(String, String)>, Failure> {
        let (conv, s, c) = (&self.conv, &self.conv.snn, &self.cosim);
        let mut model = spikeforge_golden::Model::new(&s.net);
        let golden0 = s.infer(&mut model, &test.x(0), true);
        let mut bands = vec![("input".to_string(), 0, conv.ann.inputs() as u32)];
        // The output neurons do not spike (potential readout); they are in the potentials plot.
        bands.extend(s.layers.iter().take(s.layers.len() - 1).map(|l| (l.population.clone(), l.offset, l.size)));
        let raster = Raster {
            title: format!(
                "spikes of one inference (test image 0, label {}, predicted {}; T = {DEPLOY_STEPS})",
                test.labels[0], golden0.class
            ),
            steps: DEPLOY_STEPS,
            spikes: golden0.raster.clone(),
            bands,
        };
        let raster_svg = report::raster_svg(&raster).map_err(bug)?;
        let acc_svg = report::accuracy_svg(&conv.curves, 100.0 * conv.ann_acc).map_err(bug)?;
        let pot_svg = report::potentials_svg(
            "output potentials of the same inference (potential readout: the largest wins)",
            &golden0.output_trace,
            golden0.class,
        )
        .map_err(bug)?;
        let confusion = self.confusion(a, test, &mut model)?;
        let cycles = match &c.skipped {
            // The same degradation as the hardware row: say what is missing.
            Some(why) => Figure::Missing {
                title: "clock cycles per time step".into(),
                why: format!("not measured, since the hardware was not co-simulated: {why}"),
            },
            None if c.samples == 0 => Figure::Missing {
                title: "clock cycles per time step".into(),
                why: "not measured, since no test image was co-simulated (--samples 0)".into(),
            },
            None => Figure::Plot(
                report::cycles_svg(
                    &format!(
                        "clock cycles per time step on the hardware (Verilator, {} test images, T = {DEPLOY_STEPS})",
                        c.samples
                    ),
                    &c.cycles_per_step,
                    self.fpga.clock_mhz,
                )
                .map_err(bug)?,
            ),
        };
        let fixed: Vec<(u32, f64)> = conv.curves[2].points.clone();
        let anytime: Vec<(f64, f64)> = conv.anytime.iter().map(|p| (p.mean_steps, 100.0 * p.accuracy)).collect();
        let anytime_svg = report::anytime_svg(
            &format!(
                "early exit: accuracy vs mean steps (golden, {} test images; stop when the lead holds {EXIT_PATIENCE} steps)",
                test.len()
            ),
            &anytime,
            &fixed,
            100.0 * conv.ann_acc,
        )
        .map_err(bug)?;
        write_file(&a.out.join("raster.svg"), &raster_svg)?;
        write_file(&a.out.join("accuracy.svg"), &acc_svg)?;
        let rows = self.rows();
        let figures: Vec<Figure> = [raster_svg, pot_svg, acc_svg, anytime_svg]
            .map(Figure::Plot)
            .into_iter()
            .chain([confusion, cycles])
            .collect();
        write_file(
            &a.out.join("report.html"),
            &report::html("spikeforge demo: digits ANN → SNN → hardware", &rows, &figures),
        )?;
        Ok(rows)
    }

    /// The confusion matrix of the deployed SNN on the `--samples` test
    /// images co-simulated: the hardware's classes, or without a
    /// co-simulation golden's on the same images (the title says which).
    fn confusion(&self, a: &DemoArgs, test: &Split, model: &mut spikeforge_golden::Model) -> Result<Figure, Failure> {
        let (s, c) = (&self.conv.snn, &self.cosim);
        let classes = s.layers.last().map_or(0, |l| l.size as usize);
        let (pairs, source) = if c.skipped.is_none() {
            (c.classes.clone(), "the hardware (Verilator)")
        } else {
            let n = a.samples.min(test.len());
            let pairs = (0..n).map(|i| (test.labels[i] as usize, s.infer(model, &test.x(i), false).class)).collect();
            (pairs, "the golden model (not co-simulated)")
        };
        let title = format!(
            "confusion matrix of the T = {DEPLOY_STEPS} SNN: the first {} test images on {source}",
            pairs.len()
        );
        if pairs.is_empty() {
            return Ok(Figure::Missing {
                title: "confusion matrix".into(),
                why: "not drawn, since no test image was run (--samples 0)".into(),
            });
        }
        report::confusion_svg(&title, classes, &pairs).map(Figure::Plot).map_err(bug)
    }

    /// The resources line: the yosys estimate, why there is none, or that it was skipped.
    fn fit_text(&self) -> String {
        match &self.fpga.fit {
            None => "skipped (--no-synth)".to_string(),
            Some(Ok(f)) => {
                let fmax = f.fmax_mhz.map_or(String::new(), |x| format!(", fmax {x:.1} MHz"));
                let how = if f.fmax_mhz.is_some() { "nextpnr" } else { "yosys estimate" };
                format!(
                    "{} of {} logic cells, {} flip-flops, {} of {} block RAMs{fmax} ({how} for {})",
                    f.luts, f.luts_available, f.flip_flops, f.brams, f.brams_available, self.fpga.board.name
                )
            }
            Some(Err(e)) => {
                // A missing tool: what was skipped and how to install it.
                let help = miette::Diagnostic::help(e).map(|h| format!("; {h}")).unwrap_or_default();
                format!("not estimated: {e}{help}")
            }
        }
    }

    /// The early-exit row: the rule with the fewest mean steps whose
    /// accuracy is within 0.5 points of the full T = 32 inference.
    fn early_exit_text(&self) -> String {
        let conv = &self.conv;
        let full = conv.deployed_acc;
        let best = conv
            .anytime
            .iter()
            .filter(|p| 100.0 * p.accuracy >= full - 0.5)
            .min_by(|a, b| a.mean_steps.total_cmp(&b.mean_steps));
        match best {
            Some(p) => format!(
                "{:.2}% in {:.1} steps on average (of {DEPLOY_STEPS}) stopping once the leading output potential \
                 leads by {} for {} steps",
                100.0 * p.accuracy,
                p.mean_steps,
                p.rule.margin,
                p.rule.patience
            ),
            None => "no margin of the sweep keeps the accuracy within 0.5 points".into(),
        }
    }

    /// The report's rows (label, text), shared by report.html and the printed summary.
    fn rows(&self) -> Vec<(String, String)> {
        let (conv, c) = (&self.conv, &self.cosim);
        let points = |k: usize| -> Vec<String> {
            conv.curves[k].points.iter().map(|(t, acc)| format!("T={t} {acc:.2}%")).collect()
        };
        let st = conv.snn.net.stats();
        vec![
            ("model".to_string(), format!("{MODEL_NAME}: MLP 64-32-10 on the digits test split (450 images)")),
            ("ANN accuracy".into(), format!("{:.2}%", 100.0 * conv.ann_acc)),
            ("SNN (golden), shifted bias + bias correction".into(), points(2).join(", ")),
            ("SNN (golden), no calibration".into(), points(0).join(", ")),
            ("early exit (golden)".into(), self.early_exit_text()),
            (
                "mapping".into(),
                format!(
                    "T = {DEPLOY_STEPS} network: {} neurons ({} inputs), {} synapses on spec `{SPEC}`: {} of {} cores",
                    st.neurons,
                    st.input_neurons,
                    st.synapses,
                    self.mapping.report.cores_used,
                    self.spec.cores()
                ),
            ),
            ("hardware".into(), c.hw_text()),
            (
                "cycles per inference".into(),
                if c.skipped.is_some() {
                    "not measured (no co-simulation)".to_string()
                } else {
                    format!(
                        "{:.0} ({:.1} per step) + {} to load the network once; {:.0} inferences/s at {} MHz",
                        c.cycles_per_inference,
                        c.cycles_per_inference / DEPLOY_STEPS as f64,
                        c.load_cycles,
                        self.fpga.clock_mhz * 1e6 / c.cycles_per_inference.max(1.0),
                        self.fpga.clock_mhz
                    )
                },
            ),
            ("resources".into(), self.fit_text()),
        ]
    }

    /// Prints the `--json` result: the same facts as the report, with the
    /// co-simulation's counts and timings.
    fn print_json(&self, a: &DemoArgs, test_images: usize) {
        let (conv, c, fpga) = (&self.conv, &self.cosim, &self.fpga);
        let st = conv.snn.net.stats();
        let fit_json = match &fpga.fit {
            Some(Ok(f)) => json!(f),
            Some(Err(e)) => json!({"error": e.to_string(), "help": miette::Diagnostic::help(e).map(|h| h.to_string())}),
            None => json!(null),
        };
        let j = json!({
            "ok": c.hw_ok,
            "model": MODEL_NAME,
            "test_images": test_images,
            "ann_accuracy": conv.ann_acc,
            "snn_accuracy": conv.curves.iter().zip(CURVES).map(|(c, (m, _))| (m.to_string(),
                serde_json::Value::Object(c.points.iter().map(|(t, acc)| (t.to_string(), json!(acc / 100.0))).collect())))
                .collect::<serde_json::Map<_, _>>(),
            "deployed": {"steps": DEPLOY_STEPS, "method": METHOD, "accuracy": conv.deployed_acc / 100.0,
                         "neurons": st.neurons, "synapses": st.synapses},
            "mapping": {"spec": SPEC, "cores_used": self.mapping.report.cores_used, "cores": self.spec.cores()},
            "cosim": {"simulator": "verilator", "samples": c.samples, "hardware_equals_golden": c.hw_ok,
                      "runs_equal": c.equal, "classes_equal": c.classes_equal, "correct": c.correct,
                      "cycles_per_inference": c.cycles_per_inference, "load_cycles": c.load_cycles,
                      "first_mismatch": c.first_mismatch, "model_cached": !c.fresh, "build_seconds": c.build_s,
                      "seconds": c.cosim_s, "skipped": c.skipped},
            "fpga": {"board": BOARD, "dir": fpga.dir.display().to_string(), "design_clock_mhz": fpga.clock_mhz},
            "resources": fit_json,
            "early_exit": conv.anytime.iter().map(|p| json!({"margin": p.rule.margin, "patience": p.rule.patience,
                "accuracy": p.accuracy, "mean_steps": p.mean_steps})).collect::<Vec<_>>(),
            "report": a.out.join("report.html").display().to_string(),
        });
        println!("{}", serde_json::to_string_pretty(&j).expect("JSON"));
    }

    /// Prints the human summary: the report's rows, then where the model,
    /// the FPGA sources and the report are, and the time taken since `t_start`.
    fn print_text(&self, a: &DemoArgs, rows: &[(String, String)], t_start: Instant) {
        let c = &self.cosim;
        println!("spikeforge demo: the digits ANN converted to a spiking network, run on its generated hardware");
        for (k, v) in rows {
            println!("{:<14} {v}", short(k));
        }
        match &c.skipped {
            Some(why) => println!("{:<14} skipped: {why}", "verilator"),
            None => println!(
                "{:<14} {} (model {}), co-simulation {:.1} s",
                "verilator",
                self.spec.name,
                if c.fresh { format!("built in {:.0} s", c.build_s) } else { "from the cache".into() },
                c.cosim_s
            ),
        }
        println!(
            "{:<14} {}/ (make there builds the bitstream with yosys + nextpnr-ice40 + icepack)",
            "fpga sources",
            self.fpga.dir.display()
        );
        println!(
            "{:<14} {} ({:.0} s in all)",
            "report",
            a.out.join("report.html").display(),
            t_start.elapsed().as_secs_f64()
        );
    }
}

fn short(label: &str) -> &str {
    match label {
        "SNN (golden), shifted bias + bias correction" => "SNN calibrated",
        "SNN (golden), no calibration" => "SNN uncalib.",
        "cycles per inference" => "cycles",
        "ANN accuracy" => "ANN",
        other => other,
    }
}
