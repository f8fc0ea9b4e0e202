//! The conversion accuracy table: ANN vs converted SNN (golden model) for
//! each method at T = 8, 16, 32, 64, on digits and Fashion-MNIST.
//!
//! Then early exit (anytime inference) on each model's T = 32 network
//! (method bias): accuracy and mean steps per inference for a sweep of
//! margins (docs/conversion.md, "Early exit").
//!
//! `cargo bench -p spikeforge-convert --bench accuracy` (also `./dev bench`).
//! `SF_FASHION_TEST=N` evaluates the first N Fashion-MNIST test images
//! (default 2000, 10000 for all); Fashion-MNIST is skipped with a note when
//! Debian's `dataset-fashion-mnist` is not installed. `SF_TABLES=anytime`
//! prints only the early-exit tables.

use spikeforge_convert::{data, import, snn, InputCoding, Options, METHODS};
use std::path::Path;
use std::time::Instant;

const STEPS: [u32; 4] = [8, 16, 32, 64];

/// Early exit on the T = 32 network (method bias): one row per margin of
/// the sweep, for patience 1 and 2.
fn anytime_table(name: &str, model: &str, d: &data::Dataset) {
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

fn table(name: &str, model: &str, d: &data::Dataset, target_pts: f64) {
    if std::env::var("SF_TABLES").is_ok_and(|t| t == "anytime") {
        return;
    }
    let t0 = Instant::now();
    let ann = import(Path::new(model)).expect("the shipped model imports");
    let ann_acc = snn::ann_accuracy(&ann, &d.test);
    println!(
        "\n{name}: {model}, {} test images, calibration on {} training images",
        d.test.len(),
        Options::new(8).calibration_samples.min(d.train.len())
    );
    println!("{:<28}{:>9}{:>9}{:>9}{:>9}", "method", "T=8", "T=16", "T=32", "T=64");
    println!("{:<28}{:>8.2}%", "ANN", 100.0 * ann_acc);
    let mut best32 = 0.0f64;
    for m in METHODS.iter().chain(["bias+integer"].iter()) {
        let label = match *m {
            "none" => "none (no calibration)",
            "shift" => "shift (θ/2T bias)",
            "bias" => "bias (shift + bias corr.)",
            "potential" => "potential (shift + v_init)",
            "bias+integer" => "bias, integer first layer",
            "weights" => "weights (shift + weight cal.)",
            "weights+bias" => "weights + bias",
            _ => "all (shift + both)",
        };
        print!("{label:<28}");
        for t in STEPS {
            let mut opts = Options::new(t).method(m.trim_end_matches("+integer")).expect("a known method");
            if m.ends_with("+integer") {
                opts.input = InputCoding::Integer;
            }
            let s = snn::convert(&ann, &d.train, &opts).expect("conversion");
            let acc = s.accuracy(&d.test);
            if t == 32 {
                best32 = best32.max(acc);
            }
            print!("{:>8.2}%", 100.0 * acc);
        }
        println!();
    }
    let gap = 100.0 * (ann_acc - best32);
    println!(
        "best at T=32: {:.2} points below the ANN (target: within {target_pts}): {}; {:.0} s",
        gap,
        if gap <= target_pts { "met" } else { "NOT met" },
        t0.elapsed().as_secs_f64()
    );
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
    table("digits", &digits, &data::digits(), 1.0);
    anytime_table("digits", &digits, &data::digits());
    let n: usize = std::env::var("SF_FASHION_TEST").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
    match data::fashion_mnist(Path::new(data::FASHION_DIR), 10000) {
        Ok(mut d) => {
            d.test = d.test.take(n);
            let (mlp, cnn) = (root.join("fashion_mlp.onnx"), root.join("fashion_cnn.onnx"));
            table("Fashion-MNIST", &mlp.display().to_string(), &d, 1.5);
            table("Fashion-MNIST, CNN", &cnn.display().to_string(), &d, 1.5);
            anytime_table("Fashion-MNIST MLP", &mlp.display().to_string(), &d);
            anytime_table("Fashion-MNIST CNN", &cnn.display().to_string(), &d);
        }
        Err(e) => println!("\nFashion-MNIST skipped: {e}"),
    }
}
