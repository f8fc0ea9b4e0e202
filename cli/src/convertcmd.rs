//! `spikeforge convert`: ONNX ANN → integer SNN network file, with the
//! conversion's accuracy on the data set's test split (golden model).

use crate::args::JsonArg;
use crate::common::{check_out_file, other, write_file, Command, Failure, InFile, Outcome};
use serde_json::json;
use spikeforge_convert::{data, snn, InputCoding, Options, Readout, Threshold, METHODS};
use spikeforge_mapper::spec::load_spec;
use spikeforge_net::progress::Progress;
use std::path::PathBuf;

/// `spikeforge convert`'s arguments.
#[derive(clap::Args)]
pub struct ConvertArgs {
    /// ONNX model (a chain of Gemm/MatMul, Conv, BatchNormalization,
    /// Relu/Clip, AveragePool, Flatten/Reshape; exporters' shape arithmetic,
    /// Transpose, Cast and input normalization are folded). The graph is cut
    /// at the logits: a final Softmax, Sigmoid or label branch is left out.
    pub model: PathBuf,
    /// Convert up to this node (its first output) or tensor instead of the
    /// automatic cut at the logits.
    #[arg(long = "output", value_name = "NAME")]
    pub graph_output: Option<String>,
    /// Data for calibration and the accuracy check: digits,
    /// fashion-mnist[:DIR] or a CSV file (split,label,x1,...,xn).
    #[arg(long)]
    pub data: String,
    /// Spec preset or file: its weight, potential and accumulator bits.
    #[arg(long, default_value = "medium")]
    pub spec: String,
    /// Time steps per inference (T, at least 1).
    #[arg(long, value_parser = crate::args::steps_arg)]
    pub steps: u32,
    /// Network file to write (.toml or .json).
    #[arg(long)]
    pub out: PathBuf,
    /// none, shift (θ/2T bias), bias (shift + bias correction),
    /// potential (shift + potential initialization), weights (shift +
    /// layer-wise weight calibration), all (shift + weights + bias +
    /// potential); joined with + they compose, e.g. weights+bias.
    #[arg(long, default_value = "bias")]
    pub method: String,
    /// Threshold balancing: max, or a percentile such as p99.9.
    #[arg(long, default_value = "p99.9")]
    pub threshold: String,
    /// Readout: potential (non-spiking outputs) or count (spike counts).
    #[arg(long, default_value = "potential")]
    pub readout: String,
    /// Reset: subtract (soft reset) or zero.
    #[arg(long, default_value = "subtract")]
    pub reset: String,
    /// Input coding: rate (rate-coded input spikes) or integer (the first
    /// layer's current computed in integers and written as its biases).
    #[arg(long, default_value = "rate")]
    pub input: String,
    /// Give every layer T steps of input: runs last T + D steps (D = the
    /// output layer's latency, one step per layer) and each layer starts
    /// D_l bias steps back, as in the delay-free simulations of the
    /// conversion literature. Without it the T steps include the latency.
    #[arg(long)]
    pub add_latency: bool,
    /// Training samples simulated for calibration.
    #[arg(long, default_value_t = 256)]
    pub calibration_samples: usize,
    /// Evaluate on the first N test samples only (default: all).
    #[arg(long)]
    pub eval: Option<usize>,
    /// Write the rate-coded stimulus of one test sample here (CSV), for `spikeforge sim`.
    #[arg(long)]
    pub stimulus: Option<PathBuf>,
    /// Write the network of one test sample here (with --input integer,
    /// its first-layer biases hold the sample).
    #[arg(long)]
    pub sample_net: Option<PathBuf>,
    /// Test sample for --stimulus and --sample-net.
    #[arg(long, default_value_t = 0)]
    pub sample: usize,
    #[command(flatten)]
    pub output: JsonArg,
}

impl Command for ConvertArgs {
    fn json(&self) -> bool {
        self.output.json
    }

    fn run(&self) -> Result<Outcome, Failure> {
        check_out_file(&self.out, "--out")?;
        convert(self)
    }
}

/// Parses `max` or `pNN.N` (a percentile).
pub fn parse_threshold(s: &str) -> Result<Threshold, Failure> {
    let bad = || other(format!("--threshold {s}: expected max or a percentile such as p99.9"), None);
    match s {
        "max" => Ok(Threshold::Max),
        p if p.starts_with('p') => match p[1..].parse::<f64>() {
            Ok(v) if v > 0.0 && v <= 100.0 => Ok(Threshold::Percentile(v)),
            _ => Err(bad()),
        },
        _ => Err(bad()),
    }
}

/// The conversion options of the command-line flags.
pub fn options(
    steps: u32,
    method: &str,
    threshold: &str,
    readout: &str,
    reset: &str,
    spec: &spikeforge_mapper::HardwareSpec,
) -> Result<Options, Failure> {
    let mut o = Options::new(steps).method(method).ok_or_else(|| {
        other(format!("--method {method}: unknown method"), Some(&format!("methods: {}", METHODS.join(", "))))
    })?;
    o.threshold = parse_threshold(threshold)?;
    o.readout = match readout {
        "potential" => Readout::Potential,
        "count" => Readout::Count,
        r => return Err(other(format!("--readout {r}: expected potential or count"), None)),
    };
    o.reset = match reset {
        "subtract" => spikeforge_net::Reset::Subtract,
        "zero" => spikeforge_net::Reset::Zero,
        r => return Err(other(format!("--reset {r}: expected subtract or zero"), None)),
    };
    o.fixed_point = spikeforge_net::doc::FixedPointDoc {
        weight_bits: spec.weight_bits,
        potential_bits: spec.potential_bits,
        accumulator_bits: spec.accumulator_bits,
    };
    Ok(o)
}

fn convert(a: &ConvertArgs) -> Result<Outcome, Failure> {
    let spec = load_spec(&a.spec)?;
    let mut opts = options(a.steps, &a.method, &a.threshold, &a.readout, &a.reset, &spec)?;
    opts.input = match a.input.as_str() {
        "rate" => InputCoding::Rate,
        "integer" => InputCoding::Integer,
        i => return Err(other(format!("--input {i}: expected rate or integer"), None)),
    };
    if opts.input == InputCoding::Integer && a.stimulus.is_some() {
        return Err(other(
            "--stimulus: with --input integer a sample enters as first-layer biases, not spikes",
            Some("use --sample-net FILE to write the network of one sample"),
        ));
    }
    opts.calibration_samples = a.calibration_samples;
    opts.add_latency = a.add_latency;
    let display = crate::progress::Display::new("convert", !a.output.json);
    display.stage("reading the model", None);
    let imported = spikeforge_convert::import_with(
        &a.model,
        &spikeforge_convert::ImportOptions { output: a.graph_output.clone() },
    )?;
    let ann = imported.ann;
    display.stage(&format!("loading the data set {}", a.data), None);
    let d = data::load(&a.data)?;
    // Checked before anything is written: an error leaves no files behind.
    if (a.stimulus.is_some() || a.sample_net.is_some()) && a.sample >= d.test.len() {
        return Err(other(
            format!("--sample {} is beyond the {} test samples", a.sample, d.test.len()),
            Some(&format!("use 0..{}", d.test.len())),
        ));
    }
    let mut s = snn::convert_with(&ann, &d.train, &opts, &display)
        .map_err(|error| InFile { file: a.model.display().to_string(), error })?;
    let stem = a.model.file_stem().map_or("converted".into(), |s| s.to_string_lossy().into_owned());
    s.set_name(&stem)?;
    let test = d.test.take(a.eval.unwrap_or(usize::MAX));
    let ann_acc = snn::ann_accuracy(&ann, &test);
    let snn_acc = s.accuracy_with(&test, &display);
    drop(display);
    let text = match spikeforge_net::Format::from_path(&a.out.display().to_string()) {
        Some(spikeforge_net::Format::Json) => spikeforge_net::source::to_json(&s.net),
        _ => spikeforge_net::source::to_toml(&s.net),
    };
    write_file(&a.out, &text)?;
    if a.stimulus.is_some() || a.sample_net.is_some() {
        let x = d.test.x(a.sample);
        if let Some(path) = &a.stimulus {
            write_file(path, &spikeforge_net::spikes::spikes_to_csv(&s.net, &s.stimulus(&x)))?;
        }
        if let Some(path) = &a.sample_net {
            let net = s.network_for(&x)?;
            let text = match spikeforge_net::Format::from_path(&path.display().to_string()) {
                Some(spikeforge_net::Format::Json) => spikeforge_net::source::to_json(&net),
                _ => spikeforge_net::source::to_toml(&net),
            };
            write_file(path, &text)?;
        }
    }
    let fits = spikeforge_mapper::map(
        &s.net,
        &spec,
        &spikeforge_mapper::MapOptions::new(spikeforge_mapper::Algorithm::Multilevel),
    );
    let layers: Vec<_> = s
        .layers
        .iter()
        .map(|l| {
            json!({"population": l.population, "source": l.source, "neurons": l.size, "synapses": l.synapses,
                   "lambda": l.lambda, "scale": l.scale, "threshold": l.threshold})
        })
        .collect();
    if a.output.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "ok": true, "model": a.model.display().to_string(), "import_notes": imported.notes,
                "data": d.name, "steps": a.steps, "run_steps": s.run_steps(),
                "method": a.method, "layers": layers, "test_samples": test.len(),
                "ann_accuracy": ann_acc, "snn_accuracy": snn_acc, "out": a.out.display().to_string(),
                "fits_spec": fits.as_ref().map(|m| m.report.cores_used).ok(), "spec": spec.name,
                "fit_error": fits.as_ref().err().map(|e| json!({
                    "message": e.to_string(),
                    "help": spikeforge_mapper::explain(&s.net, &spec, e, spikeforge_mapper::Algorithm::Multilevel),
                })),
            }))
            .expect("JSON")
        );
    } else {
        println!(
            "spikeforge convert: {} ({} inputs, {} layers, {} synapses) with {} calibration samples of {}",
            a.model.display(),
            ann.inputs(),
            ann.layers.len(),
            s.synapses(),
            opts.calibration_samples.min(d.train.len()),
            d.name
        );
        for n in &imported.notes {
            println!("  import: {n}");
        }
        for l in &s.layers {
            println!(
                "  {:<9} {:>5} neurons  {:>7} synapses  λ {:>8.4}  scale {:>9.3}  θ {:>6}  from {}",
                l.population, l.size, l.synapses, l.lambda, l.scale, l.threshold, l.source
            );
        }
        let run = if s.run_steps() == a.steps { String::new() } else { format!(" in runs of {} steps", s.run_steps()) };
        println!(
            "accuracy on {} test samples: ANN {:.2}%, SNN (golden, T = {}{run}, method {}) {:.2}%",
            test.len(),
            100.0 * ann_acc,
            a.steps,
            a.method,
            100.0 * snn_acc
        );
        match &fits {
            Ok(m) => println!("spec `{}`: fits on {} core(s)", spec.name, m.report.cores_used),
            Err(e) => println!("spec `{}`: does not fit ({e})", spec.name),
        }
        println!("wrote {}", a.out.display());
        if s.run_steps() != a.steps {
            println!("run each sample for {} steps (--steps {} in sim and run)", s.run_steps(), s.run_steps());
        }
    }
    Ok(Outcome::Done)
}
