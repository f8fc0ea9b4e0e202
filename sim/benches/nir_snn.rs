//! A directly trained SNN from NIR on the hardware: the spiking MLP that
//! `convert/models/train_fashion_snn.py` trains on Fashion-MNIST (surrogate
//! gradients, TET loss, mixed time steps) and exports as NIR, imported with
//! `spikeforge import`'s code. Reported:
//! - its accuracy on all 10,000 test images under golden at T = 2, 4 and
//!   8, next to the converted MLP (`fashion_mlp.onnx`, `spikeforge
//!   convert`'s defaults) at the same T;
//! - three test images co-simulated under Verilator in lockstep with golden
//!   (hardware = golden asserted), at T = 4.
//!
//! Input: the script's integer rate code (pixel p spikes at step t when
//! floor((2tp + 255) / 510) < floor((2(t+1)p + 255) / 510)). The output
//! LI population is read by its potentials after T + latency steps.
//! Needs /usr/share/datasets/fashion-mnist; `cargo bench -p spikeforge-sim
//! --bench nir_snn` (a few minutes); without `--bench` it imports only.

mod common;

use common::{build_measured, child_build};
use spikeforge_convert::nir::{import, ImportOptions};
use spikeforge_convert::{data, snn, Options};
use spikeforge_mapper::{map, Algorithm, HardwareSpec, Interconnect, MapOptions};
use spikeforge_net::{Network, SpikeTrain, Stimulus};
use spikeforge_sim::verilate::BuildOptions;
use spikeforge_sim::{run, RunOptions, Verdict};
use std::path::Path;
use std::time::Instant;

const MODEL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../convert/models/fashion_snn.nir");
const MLP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../convert/models/fashion_mlp.onnx");
const STEPS: [u32; 3] = [2, 4, 8];

/// Two `large` cores side by side: the 128 hidden neurons' 100k synapses
/// need two cores' synapse memories.
fn spec() -> HardwareSpec {
    HardwareSpec {
        name: "nir2".into(),
        mesh_width: 2,
        mesh_height: 1,
        input_neurons: 1024,
        input_routes: 65536,
        interconnect: Interconnect::Mesh,
        ..HardwareSpec::preset("large").expect("preset")
    }
}

/// The training script's input code for one image (pixels 0..=255).
fn stimulus(net: &Network, pixels: &[u8], steps: u32) -> SpikeTrain {
    let (_, input) = net.population("input").expect("an input population");
    let mut pairs = Vec::new();
    for (i, &p) in pixels.iter().enumerate() {
        let p = p as u64;
        for t in 0..steps as u64 {
            if (2 * t * p + 255) / 510 < (2 * (t + 1) * p + 255) / 510 {
                pairs.push((t as u32, input.offset() + i as u32));
            }
        }
    }
    SpikeTrain::from_pairs(pairs)
}

fn argmax(v: &[i32]) -> usize {
    (0..v.len()).fold(0, |b, i| if v[i] > v[b] { i } else { b })
}

fn main() {
    child_build();
    let quick = !std::env::args().any(|a| a == "--bench");
    let spec = spec();
    let fp = spikeforge_net::doc::FixedPointDoc {
        weight_bits: spec.weight_bits,
        potential_bits: spec.potential_bits,
        accumulator_bits: spec.accumulator_bits,
    };
    let imp = import(Path::new(MODEL), &ImportOptions { fixed_point: fp, dt: 1e-3 }).expect("the shipped NIR imports");
    let out = imp.populations.iter().find(|p| p.output).expect("an output population").clone();
    let st = imp.net.stats();
    println!(
        "Directly trained Fashion-MNIST SNN from NIR: {} neurons, {} synapses; output `{}` ({}), latency {}",
        st.neurons, st.synapses, out.name, out.kind, out.latency
    );
    for p in &imp.populations[1..] {
        println!(
            "  {:<6} {:<4} scale {:>9.3}  weight error {:.2}%  λ {:?} (error {:.2}%)  {} dropped",
            p.name,
            p.kind,
            p.scale,
            100.0 * p.weight_error,
            p.leak_shift,
            100.0 * p.leak_error,
            p.dropped
        );
    }
    if quick {
        println!("  (quick run: `cargo bench -p spikeforge-sim --bench nir_snn` measures accuracy and co-simulates)");
        return;
    }
    let d = match data::fashion_mnist(Path::new(data::FASHION_DIR), 5000) {
        Ok(d) => d,
        Err(e) => {
            println!("Fashion-MNIST not available ({e}): no figures");
            return;
        }
    };
    let pixels = |i: usize| -> Vec<u8> { d.test.x(i).iter().map(|&x| (x * 255.0).round() as u8).collect() };
    let (_, outp) = imp.net.population(&out.name).expect("output");
    let ann = spikeforge_convert::import(Path::new(MLP)).expect("the shipped MLP imports");
    println!("  T | direct SNN (golden, 10,000 images) | converted MLP (same T, spikeforge convert defaults)");
    for steps in STEPS {
        let t0 = Instant::now();
        let mut correct = 0usize;
        for i in 0..d.test.len() {
            let stim = Stimulus::from_train(&stimulus(&imp.net, &pixels(i), steps));
            let r = spikeforge_golden::run(&imp.net, &stim, steps + out.latency).expect("golden");
            let v = &r.potentials[outp.offset() as usize..(outp.offset() + outp.size()) as usize];
            correct += usize::from(argmax(v) == d.test.labels[i] as usize);
        }
        let secs = t0.elapsed().as_secs_f64();
        let mut o = Options::new(steps).method("bias").expect("method");
        o.fixed_point = fp;
        let s = snn::convert(&ann, &d.train, &o).expect("the MLP converts");
        let conv = s.accuracy(&d.test);
        println!(
            "  {steps} | {:.2}% ({secs:.1} s) | {:.2}%",
            100.0 * correct as f64 / d.test.len() as f64,
            100.0 * conv
        );
    }
    // Hardware: three images at T = 4, every step against golden.
    let m = map(&imp.net, &spec, &MapOptions::new(Algorithm::Multilevel)).expect("fits two large cores");
    let root = std::env::temp_dir().join(format!("sf-bench-nir-{}", std::process::id()));
    let b = build_measured(&spec, &BuildOptions::default(), &root);
    println!(
        "  Verilator build of `{}` ({} cores used): {:.1} s, {:.0} MB",
        spec.name, m.report.cores_used, b.seconds, b.peak_mb
    );
    let steps = 4;
    let mut correct = 0;
    for i in 0..3 {
        let stim = Stimulus::from_train(&stimulus(&imp.net, &pixels(i), steps));
        let opts = RunOptions::verified(steps + out.latency);
        let r = run(&b.built, &imp.net, &m, &stim, &opts, &mut |_| {}).expect("run");
        assert!(matches!(r.verdict, Verdict::Equal), "image {i}: hardware differs from golden: {:?}", r.verdict);
        let v = &r.potentials[outp.offset() as usize..(outp.offset() + outp.size()) as usize];
        let class = argmax(v);
        correct += usize::from(class == d.test.labels[i] as usize);
        println!(
            "  image {i}: hardware = golden over {} steps, {} cycles, class {class} (label {})",
            steps + out.latency,
            r.cycles_per_step.iter().sum::<u64>(),
            d.test.labels[i]
        );
    }
    println!("  classified correctly on the hardware: {correct} of 3");
    drop(b);
    let _ = std::fs::remove_dir_all(&root);
}
