//! Real networks under co-simulation at scale (figures printed; hardware =
//! golden asserted), each run on the first test images in lockstep with
//! golden, every spike and every potential compared after every step
//! (`sim --verify`):
//! - the shipped Fashion-MNIST CNN (`convert/models/fashion_cnn.onnx`)
//!   converted at T = 32 as `spikeforge convert` does by default (bias
//!   correction, 64 calibration images), mapped onto `cnn16`, a 4x4 mesh
//!   of 16 cores (spec below);
//! - the batch-norm CNN (`convert/models/fashion_bn_cnn.onnx`; 7,850
//!   neurons with its 784 inputs, 505,964 synapses) converted at T = 16
//!   with every calibration (`all`), mapped onto `bn16`, a 4x4 mesh of
//!   large cores (8 of them used).
//!
//! Reported: the Verilator build (wall time, peak memory), cycles per
//! inference, simulated cycles per second and synaptic events per second
//! over the inference steps (the load of the network excluded), wall time
//! per inference with and without the load, and golden's time for the same
//! steps. Needs the Fashion-MNIST files in /usr/share/datasets/fashion-mnist
//! (./dev installs them); without them it says so and stops.
//!
//! `cargo bench -p spikeforge-sim --bench cnn` (a few minutes); without
//! `--bench` it only checks that the network maps.

mod common;

use common::{build_measured, child_build};
use spikeforge_convert::{data, snn, Options};
use spikeforge_mapper::{map, Algorithm, HardwareSpec, Interconnect, MapOptions};
use spikeforge_net::Stimulus;
use spikeforge_sim::verilate::BuildOptions;
use spikeforge_sim::{run, RunOptions, Verdict};
use std::path::Path;
use std::time::Instant;

const IMAGES: usize = 3;
const MODELS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../convert/models");

/// One network of the bench.
struct Case {
    name: &'static str,
    file: &'static str,
    steps: u32,
    method: &'static str,
    spec: HardwareSpec,
}

/// 16 cores of 128 neurons in a 4x4 mesh: the CNN's 1,642 neurons and 128k
/// synapses spread over all of them.
fn cnn16() -> HardwareSpec {
    HardwareSpec {
        name: "cnn16".into(),
        mesh_width: 4,
        mesh_height: 4,
        neurons_per_core: 128,
        axons_per_core: 2048,
        synapses_per_core: 16384,
        routes_per_core: 2048,
        param_sets_per_core: 4,
        input_neurons: 1024,
        input_routes: 4096,
        interconnect: Interconnect::Mesh,
        ..HardwareSpec::preset("medium").expect("preset")
    }
}

/// 16 large cores in a 4x4 mesh for the batch-norm CNN (7,850 neurons,
/// 505,964 synapses), at most 65,536 synapses per core.
fn bn16() -> HardwareSpec {
    HardwareSpec {
        name: "bn16".into(),
        mesh_width: 4,
        mesh_height: 4,
        input_neurons: 1024,
        input_routes: 16384,
        ..HardwareSpec::preset("large").expect("preset")
    }
}

fn main() {
    child_build();
    let quick = !std::env::args().any(|a| a == "--bench");
    let d = match data::fashion_mnist(Path::new(data::FASHION_DIR), if quick { 100 } else { 5000 }) {
        Ok(d) => d,
        Err(e) => {
            println!("Fashion-MNIST not available ({e}): no CNN co-simulation figures");
            return;
        }
    };
    let cases = [
        Case { name: "Fashion-MNIST CNN", file: "fashion_cnn.onnx", steps: 32, method: "bias", spec: cnn16() },
        Case { name: "Fashion-MNIST BN CNN", file: "fashion_bn_cnn.onnx", steps: 16, method: "all", spec: bn16() },
    ];
    for c in &cases {
        case(c, &d, quick);
    }
}

fn case(c: &Case, d: &data::Dataset, quick: bool) {
    let steps = c.steps;
    let ann = spikeforge_convert::import(&Path::new(MODELS).join(c.file)).expect("the shipped model imports");
    let spec = &c.spec;
    let mut o = Options::new(steps).method(c.method).expect("a known method");
    o.fixed_point = spikeforge_net::doc::FixedPointDoc {
        weight_bits: spec.weight_bits,
        potential_bits: spec.potential_bits,
        accumulator_bits: spec.accumulator_bits,
    };
    o.calibration_samples = if quick { 4 } else { 64 };
    let t = Instant::now();
    let s = snn::convert(&ann, &d.train, &o).expect("the shipped model converts");
    let convert_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let m = map(&s.net, spec, &MapOptions::new(Algorithm::Multilevel)).expect("the network fits its spec");
    let map_s = t.elapsed().as_secs_f64();
    let st = s.net.stats();
    println!(
        "{} at T = {steps} (method {}): {} neurons, {} synapses; converted in {convert_s:.1} s; mapped onto `{}` \
         ({} cores, {}x{} mesh) in {map_s:.1} s, {} cores used",
        c.name,
        c.method,
        st.neurons,
        st.synapses,
        spec.name,
        spec.cores(),
        spec.mesh_width,
        spec.mesh_height,
        m.report.cores_used
    );
    if quick {
        println!("  (quick run: `cargo bench -p spikeforge-sim --bench cnn` co-simulates {IMAGES} images)");
        return;
    }
    let root = std::env::temp_dir().join(format!("sf-bench-cnn-{}", std::process::id()));
    let b = build_measured(spec, &BuildOptions::default(), &root);
    println!("  Verilator build             {:.1} s wall, peak {:.0} MB", b.seconds, b.peak_mb);
    let n = s.net.neuron_count() as usize;
    let (mut step_cycles, mut step_s, mut events, mut total_s, mut golden_s) = (0u64, 0.0f64, 0u64, 0.0f64, 0.0f64);
    let mut inference_cycles = 0u64;
    let mut correct = 0;
    for i in 0..IMAGES {
        let train = s.stimulus(&d.test.x(i));
        let stim = Stimulus::from_train(&train);
        let mut opts = RunOptions::verified(steps);
        opts.potentials_every_step = true;
        let mut marks = vec![Instant::now()];
        let r = run(&b.built, &s.net, &m, &stim, &opts, &mut |_| marks.push(Instant::now())).expect("run");
        assert!(matches!(r.verdict, Verdict::Equal), "image {i}: hardware differs from golden: {:?}", r.verdict);
        // marks[0] is before the model was made and loaded; marks[1] the end of step 0.
        step_cycles += r.cycles_per_step[1..].iter().sum::<u64>();
        inference_cycles += r.cycles_per_step.iter().sum::<u64>();
        step_s += (marks[marks.len() - 1] - marks[1]).as_secs_f64();
        events += r.events;
        total_s += r.seconds;
        let t = Instant::now();
        let g = spikeforge_golden::run(&s.net, &stim, steps).expect("golden");
        golden_s += t.elapsed().as_secs_f64();
        assert_eq!(g.spikes, r.spikes);
        let counts: Vec<u32> = r.spikes.counts(n).iter().zip(train.counts(n)).map(|(&a, b)| (a + b) as u32).collect();
        correct += usize::from(s.classify(&counts, &r.potentials) == d.test.labels[i] as usize);
        println!(
            "  image {i}                     hardware = golden, {} cycles ({} to load), {:.1} s",
            r.cycles_per_step.iter().sum::<u64>(),
            r.load_cycles,
            r.seconds
        );
    }
    let k = IMAGES as f64;
    let per_step = step_s / (k * (steps - 1) as f64);
    println!("  cycles per inference        {:.0} ({steps} steps, mean)", inference_cycles as f64 / k);
    println!("  cycles/s (steps 1..{steps})     {:.3} M", step_cycles as f64 / step_s / 1e6);
    println!(
        "  synaptic events/s           {:.3} M (golden's count of events delivered, over the steps' wall time)",
        events as f64 / (per_step * steps as f64 * k) / 1e6
    );
    println!(
        "  wall time per inference     {:.2} s with the load, {:.2} s of steps",
        total_s / k,
        per_step * steps as f64
    );
    println!(
        "  golden, same steps          {:.4} s per inference ({:.0}x faster than co-simulation)",
        golden_s / k,
        per_step * steps as f64 / (golden_s / k)
    );
    println!("  classified correctly        {correct} of {IMAGES} (hardware readout)");
    drop(b);
    let _ = std::fs::remove_dir_all(&root);
}
