//! The conversion accuracy tables: ANN vs converted SNN (golden model) for
//! each method at T = 8, 16, 32, 64, on digits and Fashion-MNIST (MLP, CNN
//! and the same CNN trained with QCFS activations), and the ablation of the
//! batch-norm CNN at T = 4, 8, 16, 32 (none, shift, bias, potential,
//! weights, all), in runs of T steps and with the latency added (runs of
//! T + L steps, `Options::add_latency`), each with its targets' verdicts;
//! and the Relu CNN at T = 8 with its threshold percentile chosen on
//! validation images.
//!
//! Then early exit (anytime inference) on each model's T = 32 network
//! (method bias): accuracy and mean steps per inference for a sweep of
//! margins (docs/conversion.md, "Early exit").
//!
//! `cargo bench -p spikeforge-convert --bench accuracy` (also `./dev bench`).
//! `SF_FASHION_TEST=N` evaluates the first N Fashion-MNIST test images
//! (default 2000, 10000 for all); Fashion-MNIST is skipped with a note when
//! Debian's `dataset-fashion-mnist` is not installed. `SF_TABLES=anytime`
//! prints only the early-exit tables (`accuracy`: the method tables and the
//! ablation; `threshold`: the Relu CNN's threshold chosen on validation
//! images; a comma-separated list for several); `SF_MODELS=qcfs` only the
//! tables of models whose file name contains `qcfs`.

use spikeforge_convert::{data, import, snn, InputCoding, Options, METHODS};
use std::path::Path;
use std::time::Instant;

/// Early exit on the T = 32 network (method bias): one row per margin of
/// the sweep, for patience 1 and 2.
fn anytime_table(name: &str, model: &str, d: &data::Dataset) {
    if !table_wanted("anytime") || !model_wanted(model) {
        return;
    }
    let t0 = Instant::now();
    let ann = import(Path::new(model)).expect("the shipped model imports");
    let s =
        snn::convert(&ann, &d.train, &Options::new(32).method("bias").expect("a known method")).expect("conversion");
    let unit = s.layers.last().map_or(1.0, |l| l.scale);
    println!(
        "\n{name}, early exit at T = 32 (method bias; ANN {:.2}%, full T = 32 {:.2}%; margin unit = output scale {unit:.1})",
        100.0 * snn::ann_accuracy(&ann, &d.test),
        100.0 * s.accuracy(&d.test)
    );
    println!(
        "{:>10}{:>8} {:>10}{:>12} {:>10}{:>12}",
        "margin", "(units)", "k=1 acc", "mean steps", "k=2 acc", "mean steps"
    );
    let (one, two) = (s.anytime(&d.test, &s.anytime_sweep(1)), s.anytime(&d.test, &s.anytime_sweep(2)));
    for (a, b) in one.iter().zip(&two) {
        println!(
            "{:>10}{:>8.2} {:>9.2}%{:>12.2} {:>9.2}%{:>12.2}",
            a.rule.margin,
            a.rule.margin as f64 / unit,
            100.0 * a.accuracy,
            a.mean_steps,
            100.0 * b.accuracy,
            b.mean_steps
        );
    }
    println!("{:.0} s", t0.elapsed().as_secs_f64());
}

/// The method label of the tables: a method of [`METHODS`], with
/// `+integer` for the integer first layer and `+latency` for
/// [`Options::add_latency`] (runs of T + L steps, L = the output's latency).
fn label(m: &str) -> String {
    if let Some(base) = m.strip_suffix("+latency") {
        return format!("{}, +latency", label(base));
    }
    match m {
        "none" => "none (no calibration)",
        "shift" => "shift (θ/2T bias)",
        "bias" => "bias (shift + bias corr.)",
        "potential" => "potential (shift + v_init)",
        "bias+integer" => "bias, integer first layer",
        "weights+integer" => "weights, integer first layer",
        "weights" => "weights (shift + weight cal.)",
        "weights+bias" => "weights + bias",
        "all" => "all (shift + weights + bias + v_init)",
        _ => "?",
    }
    .into()
}

/// The conversion options of a table row's method at T = `t`.
fn row_options(m: &str, t: u32) -> Options {
    let (m, latency) = m.strip_suffix("+latency").map_or((m, false), |b| (b, true));
    let (m, integer) = m.strip_suffix("+integer").map_or((m, false), |b| (b, true));
    let mut opts = Options::new(t).method(m).expect("a known method");
    opts.add_latency = latency;
    if integer {
        opts.input = InputCoding::Integer;
    }
    opts
}

/// One model's accuracy table: a row per method, a column per T. Returns
/// the ANN's accuracy, `acc[method][T]` in the order given, and the number
/// of spiking layers L (the output's first input arrives in step L).
fn table(name: &str, model: &str, d: &data::Dataset, steps: &[u32], methods: &[&str]) -> (f64, Vec<Vec<f64>>, usize) {
    let ann = import(Path::new(model)).expect("the shipped model imports");
    let ann_acc = snn::ann_accuracy(&ann, &d.test);
    println!(
        "\n{name}: {model}, {} test images, calibration on {} training images",
        d.test.len(),
        Options::new(8).calibration_samples.min(d.train.len())
    );
    print!("{:<48}", "method");
    for t in steps {
        print!("{:>9}", format!("T={t}"));
    }
    println!();
    println!("{:<48}{:>8.2}%", "ANN", 100.0 * ann_acc);
    let mut rows = Vec::new();
    let mut depth = 0;
    for m in methods {
        print!("{:<48}", label(m));
        let mut row = Vec::new();
        for &t in steps {
            let s = snn::convert(&ann, &d.train, &row_options(m, t)).expect("conversion");
            depth = s.layers.len();
            let acc = s.accuracy(&d.test);
            print!("{:>8.2}%", 100.0 * acc);
            row.push(acc);
        }
        println!();
        rows.push(row);
    }
    (ann_acc, rows, depth)
}

/// The best accuracy over all methods in column `col`.
fn best(rows: &[Vec<f64>], col: usize) -> f64 {
    rows.iter().map(|r| r[col]).fold(0.0, f64::max)
}

/// Prints whether the best method at T = steps[col] is within `pts` of the
/// ANN, and which row it is (`methods[k]` labels row k).
fn verdict(what: &str, ann: f64, rows: &[Vec<f64>], methods: &[&str], col: usize, pts: f64) {
    let k = (0..rows.len()).max_by(|&a, &b| rows[a][col].total_cmp(&rows[b][col]).then(b.cmp(&a))).unwrap_or(0);
    let gap = 100.0 * (ann - best(rows, col));
    println!(
        "{what}: best {gap:.2} points below the ANN, {} (target: within {pts}): {}",
        methods.get(k).map_or("?".into(), |m| label(m)),
        met(gap <= pts)
    );
}

fn met(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "NOT met"
    }
}

/// The first-wave tables: T = 8 to 64, every method.
fn classic(name: &str, model: &str, d: &data::Dataset, target_pts: f64, t8_pts: Option<f64>) {
    if !table_wanted("accuracy") || !model_wanted(model) {
        return;
    }
    let t0 = Instant::now();
    let methods: Vec<&str> = METHODS
        .iter()
        .copied()
        .chain(["bias+integer", "weights+integer", "weights+latency", "weights+integer+latency"])
        .collect();
    let (ann, rows, _) = table(name, model, d, &[8, 16, 32, 64], &methods);
    verdict("at T=32", ann, &rows, &methods, 2, target_pts);
    if let Some(pts) = t8_pts {
        verdict("at T=8", ann, &rows, &methods, 0, pts);
        let (plain, n) = (&rows[..methods.len() - 2], methods.len() - 2);
        verdict("at T=8, runs of T steps", ann, plain, &methods[..n], 0, pts);
    }
    println!("{:.0} s", t0.elapsed().as_secs_f64());
}

/// The batch-norm CNN's ablation: T = 4 to 32; the best calibrated method
/// against the ANN at T = 16, and what calibration recovers over `none`
/// at the T where `none` is worst, both over all columns and over those
/// where the output sees any input (T > L: with one step of delay per
/// layer, a run of T <= L steps reads an output that has only integrated
/// its bias, whatever the method). Then the same table with the latency
/// added (runs of T + L steps, every layer T steps of input), where the
/// worst T is T = 4.
fn ablation(name: &str, model: &str, d: &data::Dataset) {
    if !table_wanted("accuracy") || !model_wanted(model) {
        return;
    }
    let t0 = Instant::now();
    let steps = [4, 8, 16, 32];
    let methods = ["none", "shift", "bias", "potential", "weights", "all"];
    let (ann, rows, depth) = table(name, model, d, &steps, &methods);
    verdict("at T=16", ann, &rows, &methods, 2, 2.0);
    recoveries(&rows, &steps, Some(depth));
    let latency = methods.map(|m| format!("{m}+latency"));
    let latency: Vec<&str> = latency.iter().map(String::as_str).collect();
    let (ann, rows, _) = table(&format!("{name}, latency added (runs of T + L steps)"), model, d, &steps, &latency);
    verdict("at T=16", ann, &rows, &latency, 2, 2.0);
    recoveries(&rows, &steps, None);
    println!("{:.0} s", t0.elapsed().as_secs_f64());
}

/// What calibration (rows 1..) recovers over `none` (row 0) at the T where
/// `none` is worst; with `depth` also over the columns with T > depth.
fn recoveries(rows: &[Vec<f64>], steps: &[u32], depth: Option<usize>) {
    let recovery = |cols: &mut dyn Iterator<Item = usize>, what: &str| {
        let Some(worst) = cols.min_by(|&a, &b| rows[0][a].total_cmp(&rows[0][b])) else { return };
        let gain = 100.0 * (best(&rows[1..], worst) - rows[0][worst]);
        println!(
            "calibration at T={} ({what}; `none` {:.2}%): +{gain:.2} points (target: >= 20): {}",
            steps[worst],
            100.0 * rows[0][worst],
            met(gain >= 20.0)
        );
    };
    recovery(&mut (0..steps.len()), "where `none` is worst");
    if let Some(depth) = depth {
        recovery(
            &mut (0..steps.len()).filter(|&c| steps[c] as usize > depth),
            &format!("worst where the output sees input, T > L = {depth}"),
        );
    }
}

/// The threshold percentile for the Relu CNN at T = 8 (method all, integer
/// first layer, latency added), chosen on a validation split: the last 2,000
/// of the loaded training images, which neither balancing (the first 5,000)
/// nor calibration (the first 256) sees. Prints every candidate's
/// validation and test accuracy and the verdict for the chosen one.
fn threshold_choice(name: &str, model: &str, d: &data::Dataset) {
    if !table_wanted("threshold") || !model_wanted(model) {
        return;
    }
    let t0 = Instant::now();
    let ann = import(Path::new(model)).expect("the shipped model imports");
    let n = d.train.len();
    let from = n.saturating_sub(2000).max(Options::new(8).balance_samples.min(n));
    let val = data::Split {
        dim: d.train.dim,
        data: d.train.data[from * d.train.dim..].to_vec(),
        labels: d.train.labels[from..].to_vec(),
    };
    let ann_acc = snn::ann_accuracy(&ann, &d.test);
    println!(
        "\n{name}, T = 8, all + integer first layer + latency, by threshold (validation: training images {from}..{n}; ANN {:.2}% on {} test images)",
        100.0 * ann_acc,
        d.test.len()
    );
    println!("{:>10}{:>12}{:>10}", "threshold", "validation", "test");
    let mut chosen: Option<(f64, f64, f64)> = None;
    for p in [98.0, 99.0, 99.5, 99.9] {
        let mut o = row_options("all+integer+latency", 8);
        o.threshold = snn::Threshold::Percentile(p);
        let s = snn::convert(&ann, &d.train, &o).expect("conversion");
        let (v, t) = (s.accuracy(&val), s.accuracy(&d.test));
        println!("{:>10}{:>11.2}%{:>9.2}%", format!("p{p}"), 100.0 * v, 100.0 * t);
        if chosen.is_none_or(|c| v > c.1) {
            chosen = Some((p, v, t));
        }
    }
    if let Some((p, _, t)) = chosen {
        let gap = 100.0 * (ann_acc - t);
        println!(
            "chosen on validation: p{p}, {gap:.2} points below the ANN at T=8 (target: within 1): {}",
            met(gap <= 1.0)
        );
    }
    println!("{:.0} s", t0.elapsed().as_secs_f64());
}

/// `SF_TABLES=a,b` prints only those kinds of table: `accuracy` (the
/// method tables and the ablation), `threshold`, `anytime`; all by default.
fn table_wanted(kind: &str) -> bool {
    std::env::var("SF_TABLES").map_or(true, |t| t.split(',').any(|k| k == kind))
}

/// `SF_MODELS=name` runs only the tables of models whose file name contains it.
fn model_wanted(model: &str) -> bool {
    std::env::var("SF_MODELS")
        .map_or(true, |m| Path::new(model).file_name().is_some_and(|f| f.to_string_lossy().contains(&m)))
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    // `cargo test --benches` runs this without `--bench`: a quick smoke run.
    if !std::env::args().any(|a| a == "--bench") {
        let d = data::digits();
        let ann = import(&root.join("digits_mlp.onnx")).expect("the shipped model imports");
        let s = snn::convert(&ann, &d.train, &Options::new(8)).expect("conversion");
        println!("quick: digits at T=8: {:.2}% (run with --bench for the table)", 100.0 * s.accuracy(&d.test.take(50)));
        return;
    }
    let digits = root.join("digits_mlp.onnx").display().to_string();
    classic("digits", &digits, &data::digits(), 1.0, None);
    anytime_table("digits", &digits, &data::digits());
    let n: usize = std::env::var("SF_FASHION_TEST").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
    match data::fashion_mnist(Path::new(data::FASHION_DIR), 10000) {
        Ok(mut d) => {
            d.test = d.test.take(n);
            let (mlp, cnn) = (root.join("fashion_mlp.onnx"), root.join("fashion_cnn.onnx"));
            classic("Fashion-MNIST", &mlp.display().to_string(), &d, 1.5, None);
            classic("Fashion-MNIST, CNN", &cnn.display().to_string(), &d, 1.5, Some(1.0));
            threshold_choice("Fashion-MNIST, CNN", &cnn.display().to_string(), &d);
            let qcfs = root.join("fashion_qcfs_cnn.onnx").display().to_string();
            classic("Fashion-MNIST, the CNN trained with QCFS activations (L = 8)", &qcfs, &d, 1.5, Some(1.0));
            let bn = root.join("fashion_bn_cnn.onnx").display().to_string();
            ablation("Fashion-MNIST, CNN with batch norm", &bn, &d);
            anytime_table("Fashion-MNIST MLP", &mlp.display().to_string(), &d);
            anytime_table("Fashion-MNIST CNN", &cnn.display().to_string(), &d);
            anytime_table("Fashion-MNIST BN CNN", &bn, &d);
        }
        Err(e) => println!("\nFashion-MNIST skipped: {e}"),
    }
}
