//! The built-in default example and the `demo` command (the README's main
//! job): the digits ANN (compiled in) converted to an integer SNN, its
//! accuracy at T = 8..64 on the golden model, mapped onto the `medium` spec,
//! its Verilog co-simulated under Verilator in lockstep with golden on test
//! images, an FPGA project for the ULX3S with a yosys resource estimate,
//! and an HTML report (spike raster, accuracy versus T).

use crate::args::JsonArg;
use crate::common::{other, write_file, Command, Failure, Internal, Outcome};
use crate::report::{self, Curve, Raster};
use clap::Args;
use serde_json::json;
use spikeforge_convert::{data, snn, Options};
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
const SPEC: &str = "medium";
const BOARD: &str = "ulx3s";
/// The methods on the curve: (method, label).
const CURVES: [(&str, &str); 3] =
    [("none", "no calibration"), ("shift", "shifted bias"), ("bias", "shifted bias + bias correction")];
/// The method of the deployed network.
const METHOD: &str = "bias";

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
    #[arg(long)]
    pub no_synth: bool,
}

impl Command for DemoArgs {
    fn json(&self) -> bool {
        self.output.json
    }

    fn run(&self) -> Result<Outcome, Failure> {
        demo(self)
    }
}

/// A plotting error: the plots are built from data the demo made itself.
fn bug(e: impl std::fmt::Display) -> Failure {
    other(format!("internal error (please report): {e}"), None)
}

fn demo(a: &DemoArgs) -> Result<Outcome, Failure> {
    let t_start = Instant::now();
    let ann = spikeforge_convert::import_bytes(MODEL_NAME, MODEL).map_err(Internal)?;
    let d = data::digits();
    let ann_acc = snn::ann_accuracy(&ann, &d.test);
    let spec = spikeforge_mapper::HardwareSpec::preset(SPEC).expect("preset");
    let base = crate::convertcmd::options(DEPLOY_STEPS, METHOD, "p99.9", "potential", "subtract", &spec)?;

    // Accuracy versus T on the golden model, for each method on the curve.
    let mut curves = Vec::new();
    let mut deployed = None;
    for (method, label) in CURVES {
        let mut points = Vec::new();
        for t in STEPS {
            let opts = Options { steps: t, ..base.clone() }.method(method).expect("known method");
            let mut s = snn::convert(&ann, &d.train, &opts).map_err(Internal)?;
            points.push((t, 100.0 * s.accuracy(&d.test)));
            if method == METHOD && t == DEPLOY_STEPS {
                s.set_name("digits_snn_t32").map_err(Internal)?;
                deployed = Some(s);
            }
        }
        curves.push(Curve { label: label.to_string(), points });
    }
    let s = deployed.expect("the deployed T is on the curve");
    let deployed_acc = curves[2].points.iter().find(|p| p.0 == DEPLOY_STEPS).map_or(0.0, |p| p.1);

    // Map onto the spec.
    let mapping = crate::common::map_network(&s.net, &spec, spikeforge_mapper::Algorithm::Multilevel)?;

    // Verilator co-simulation, lockstep with golden, on test images.
    std::fs::create_dir_all(&a.out).map_err(|e| other(format!("cannot create {}: {e}", a.out.display()), None))?;
    let t0 = Instant::now();
    let built = spikeforge_sim::build(&spec)?;
    let build_s = t0.elapsed().as_secs_f64();
    let mut model = spikeforge_golden::Model::new(&s.net);
    let samples = a.samples.min(d.test.len());
    let (mut equal, mut classes_equal, mut correct, mut cycles, mut load_cycles) = (0, 0, 0, 0u64, 0u64);
    let mut first_mismatch = None;
    let t1 = Instant::now();
    for i in 0..samples {
        let x = d.test.x(i);
        let stim = Stimulus::from_train(&s.stimulus(&x));
        let mut opts = spikeforge_sim::RunOptions::verified(DEPLOY_STEPS);
        opts.potentials_every_step = true;
        opts.mismatch_vcd = Some(a.out.join("mismatch.vcd"));
        let r = spikeforge_sim::run(&built, &s.net, &mapping, &stim, &opts, &mut |_| {})?;
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
        correct += usize::from(hw_class == d.test.labels[i] as usize);
        cycles += r.cycles_per_step.iter().sum::<u64>();
        load_cycles = r.load_cycles;
    }
    let cosim_s = t1.elapsed().as_secs_f64();
    let hw_ok = equal == samples && classes_equal == samples;
    let cycles_per_inference = cycles as f64 / samples.max(1) as f64;

    // FPGA sources, and a synthesis estimate when yosys is installed.
    let board = spikeforge_fpga::board(BOARD).expect("a known board");
    let fpga_dir = a.out.join(format!("fpga-{BOARD}"));
    std::fs::create_dir_all(&fpga_dir)
        .map_err(|e| other(format!("cannot create {}: {e}", fpga_dir.display()), None))?;
    for (name, text) in spikeforge_fpga::project::files(board, &s.net, &mapping) {
        write_file(&fpga_dir.join(name), &text)?;
    }
    let fit = if a.no_synth { None } else { Some(spikeforge_fpga::flow::synth_check(&fpga_dir, board)) };
    let clock_mhz = board.design_clock_hz() as f64 / 1e6;
    write_file(&a.out.join("digits_snn_t32.toml"), &spikeforge_net::source::to_toml(&s.net))?;

    // The report: raster of test image 0 and the accuracy curves.
    let golden0 = s.infer(&mut model, &d.test.x(0), true);
    let mut bands = vec![("input".to_string(), 0, ann.inputs() as u32)];
    // The output neurons do not spike (potential readout); they are in the potentials plot.
    bands.extend(s.layers.iter().take(s.layers.len() - 1).map(|l| (l.population.clone(), l.offset, l.size)));
    let raster = Raster {
        title: format!(
            "spikes of one inference (test image 0, label {}, predicted {}; T = {DEPLOY_STEPS})",
            d.test.labels[0], golden0.class
        ),
        steps: DEPLOY_STEPS,
        spikes: golden0.raster.clone(),
        bands,
    };
    let raster_svg = report::raster_svg(&raster).map_err(bug)?;
    let acc_svg = report::accuracy_svg(&curves, 100.0 * ann_acc).map_err(bug)?;
    let pot_svg = report::potentials_svg(
        "output potentials of the same inference (potential readout: the largest wins)",
        &golden0.output_trace,
    )
    .map_err(bug)?;
    write_file(&a.out.join("raster.svg"), &raster_svg)?;
    write_file(&a.out.join("accuracy.svg"), &acc_svg)?;
    let fit_text = match &fit {
        None => "skipped (--no-synth)".to_string(),
        Some(Ok(f)) => format!(
            "{} of {} LUTs, {} flip-flops, {} of {} block RAMs (yosys estimate for {})",
            f.luts, f.luts_available, f.flip_flops, f.brams, f.brams_available, board.name
        ),
        Some(Err(e)) => format!("not estimated: {e}"),
    };
    let snn_text: Vec<String> = curves[2].points.iter().map(|(t, acc)| format!("T={t} {acc:.2}%")).collect();
    let none_text: Vec<String> = curves[0].points.iter().map(|(t, acc)| format!("T={t} {acc:.2}%")).collect();
    let hw_text = if hw_ok {
        format!(
            "hardware = golden on {samples} test images (spikes and every potential after each step); {correct} of {samples} classified correctly"
        )
    } else {
        format!(
            "hardware DIFFERS from golden: {} of {samples} runs equal, {classes_equal} classes equal; first: {}",
            equal,
            first_mismatch.clone().unwrap_or_default()
        )
    };
    let st = s.net.stats();
    let rows = vec![
        ("model".to_string(), format!("{MODEL_NAME}: MLP 64-32-10 on the digits test split (450 images)")),
        ("ANN accuracy".into(), format!("{:.2}%", 100.0 * ann_acc)),
        ("SNN (golden), shifted bias + bias correction".into(), snn_text.join(", ")),
        ("SNN (golden), no calibration".into(), none_text.join(", ")),
        (
            "mapping".into(),
            format!(
                "T = {DEPLOY_STEPS} network: {} neurons ({} inputs), {} synapses on spec `{SPEC}`: {} of {} cores",
                st.neurons,
                st.input_neurons,
                st.synapses,
                mapping.report.cores_used,
                spec.cores()
            ),
        ),
        ("hardware".into(), hw_text.clone()),
        (
            "cycles per inference".into(),
            format!(
                "{cycles_per_inference:.0} ({:.1} per step) + {load_cycles} to load the network once; {:.0} inferences/s at {clock_mhz} MHz",
                cycles_per_inference / DEPLOY_STEPS as f64,
                clock_mhz * 1e6 / cycles_per_inference.max(1.0)
            ),
        ),
        ("resources".into(), fit_text.clone()),
    ];
    write_file(
        &a.out.join("report.html"),
        &report::html("spikeforge demo: digits ANN → SNN → hardware", &rows, &[&raster_svg, &pot_svg, &acc_svg]),
    )?;
    if a.output.json {
        let fit_json = match &fit {
            Some(Ok(f)) => json!(f),
            Some(Err(e)) => json!({"error": e.to_string()}),
            None => json!(null),
        };
        let j = json!({
            "ok": hw_ok,
            "model": MODEL_NAME,
            "test_images": d.test.len(),
            "ann_accuracy": ann_acc,
            "snn_accuracy": curves.iter().zip(CURVES).map(|(c, (m, _))| (m.to_string(),
                serde_json::Value::Object(c.points.iter().map(|(t, acc)| (t.to_string(), json!(acc / 100.0))).collect())))
                .collect::<serde_json::Map<_, _>>(),
            "deployed": {"steps": DEPLOY_STEPS, "method": METHOD, "accuracy": deployed_acc / 100.0,
                         "neurons": st.neurons, "synapses": st.synapses},
            "mapping": {"spec": SPEC, "cores_used": mapping.report.cores_used, "cores": spec.cores()},
            "cosim": {"simulator": "verilator", "samples": samples, "hardware_equals_golden": hw_ok,
                      "runs_equal": equal, "classes_equal": classes_equal, "correct": correct,
                      "cycles_per_inference": cycles_per_inference, "load_cycles": load_cycles,
                      "first_mismatch": first_mismatch, "model_cached": !built.fresh, "build_seconds": build_s,
                      "seconds": cosim_s},
            "fpga": {"board": BOARD, "dir": fpga_dir.display().to_string(), "design_clock_mhz": clock_mhz},
            "resources": fit_json,
            "report": a.out.join("report.html").display().to_string(),
        });
        println!("{}", serde_json::to_string_pretty(&j).expect("JSON"));
    } else {
        println!("spikeforge demo: the digits ANN converted to a spiking network, run on its generated hardware");
        for (k, v) in &rows {
            println!("{:<14} {v}", short(k));
        }
        println!(
            "{:<14} {} (model {}), co-simulation {cosim_s:.1} s",
            "verilator",
            spec.name,
            if built.fresh { format!("built in {build_s:.0} s") } else { "from the cache".into() }
        );
        println!("{:<14} {}/ (make there builds it with yosys + nextpnr-ecp5)", "fpga sources", fpga_dir.display());
        println!(
            "{:<14} {} ({:.0} s in all)",
            "report",
            a.out.join("report.html").display(),
            t_start.elapsed().as_secs_f64()
        );
    }
    if !hw_ok {
        return Err(other(
            format!("the Verilator model of the hardware disagrees with the golden model (internal bug): {hw_text}"),
            first_mismatch.as_ref().map(|_| "a VCD window of the steps before the mismatch is in mismatch.vcd"),
        ));
    }
    Ok(Outcome::Done)
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
