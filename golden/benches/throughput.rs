//! Golden model throughput: `cargo bench -p spikeforge-golden`.
//!
//! Network: 100k neurons in one recurrent population, 10M random synapses
//! (fan-out 100), bias and threshold set so each neuron fires about every
//! 20 steps (5% activity), weights ±2 so the recurrence perturbs but does
//! not run away. Prints synaptic events per second of the model, and of a
//! bare scatter-add loop over the same rows and the same spike lists
//! measured in the same run (the memory-bound floor); the ratio is what to
//! watch on a shared, noisy machine. Target: at least 1e8 events/s.
//!
//! Sizes can be changed with `SF_BENCH_NEURONS`, `SF_BENCH_FANOUT`, `SF_BENCH_STEPS`.

use spikeforge_golden::{Fanout, Model};
use spikeforge_net::doc::{FixedPointDoc, PopulationDoc, ProjectionDoc};
use spikeforge_net::rng::SplitMix64;
use spikeforge_net::{Network, NetworkDoc, PerNeuron};
use std::time::Instant;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn build(neurons: usize, fanout: usize) -> Network {
    let mut rng = SplitMix64(42);
    let mut synapses = Vec::with_capacity(neurons * fanout);
    for pre in 0..neurons {
        for _ in 0..fanout {
            let w = rng.below(5) as i64 - 2;
            synapses.push([pre as i64, rng.below(neurons as u64) as i64, if w == 0 { 1 } else { w }]);
        }
    }
    let v_init: Vec<i64> = (0..neurons).map(|_| rng.below(1000) as i64).collect();
    let doc = NetworkDoc {
        format: 1,
        name: Some("bench".into()),
        fixed_point: FixedPointDoc { weight_bits: 8, potential_bits: 16, accumulator_bits: 24 },
        populations: vec![PopulationDoc {
            bias: Some(PerNeuron::Scalar(50)),
            v_init: Some(PerNeuron::Array(v_init)),
            ..PopulationDoc::neurons("n", neurons as i64, 1000)
        }],
        projections: vec![ProjectionDoc::sparse("n", "n", synapses)],
    };
    Network::from_doc(&doc).expect("bench network is valid")
}

/// The floor: only the scatter-add over the rows of the given spikes and a
/// clear of the accumulators, no neuron update.
fn bare_scatter(f: &Fanout, spikes_per_step: &[Vec<u32>], acc: &mut [i32]) -> u64 {
    let mut events = 0u64;
    for spikes in spikes_per_step {
        for &s in spikes {
            let (lo, hi) = (f.starts[s as usize] as usize, f.starts[s as usize + 1] as usize);
            events += (hi - lo) as u64;
            for (&t, &w) in f.targets[lo..hi].iter().zip(&f.weights[lo..hi]) {
                acc[t as usize] += w;
            }
        }
        std::hint::black_box(&mut *acc);
        acc.fill(0);
    }
    events
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: keep that run tiny.
    let quick = !std::env::args().any(|a| a == "--bench");
    let neurons = env("SF_BENCH_NEURONS", if quick { 2_000 } else { 100_000 });
    let fanout = env("SF_BENCH_FANOUT", 100);
    let steps = env("SF_BENCH_STEPS", if quick { 5 } else { 100 });

    let t = Instant::now();
    let net = build(neurons, fanout);
    let t_build = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut model = Model::new(&net);
    let t_model = t.elapsed().as_secs_f64();

    // Warm up until the firing pattern is steady (every neuron has had a chance to fire).
    for _ in 0..20 {
        model.step(&[]).unwrap();
    }
    let mut record: Vec<Vec<u32>> = Vec::with_capacity(steps);
    let e0 = model.events();
    let t = Instant::now();
    let mut spikes = 0usize;
    for _ in 0..steps {
        let fired = model.step(&[]).unwrap();
        spikes += fired.len();
        record.push(fired.to_vec());
    }
    // Recording the spike lists is inside the timed loop; it is O(spikes),
    // a few percent of O(events), and it makes the model look slower, not faster.
    let t_run = t.elapsed().as_secs_f64();
    let events = model.events() - e0;

    let mut acc = vec![0i32; neurons];
    let t = Instant::now();
    let base_events = bare_scatter(model.fanout(), &record, &mut acc);
    let t_base = t.elapsed().as_secs_f64();

    let activity = spikes as f64 / (steps * neurons) as f64;
    let rate = events as f64 / t_run;
    let base_rate = base_events as f64 / t_base;
    println!("golden throughput ({} neurons, {} synapses, {} steps)", neurons, neurons * fanout, steps);
    println!("  network build + validation  {t_build:8.2} s");
    println!("  model build (rows)          {t_model:8.2} s");
    println!("  activity                    {:8.2} % of neurons per step", 100.0 * activity);
    println!("  synaptic events             {events:>12}");
    println!(
        "  golden model                {:8.1} M events/s  ({:.1} M neuron updates/s)",
        rate / 1e6,
        (steps * neurons) as f64 / t_run / 1e6
    );
    println!("  bare scatter-add floor      {:8.1} M events/s", base_rate / 1e6);
    println!("  golden / floor              {:8.2} (time ratio; 1.0 = no overhead beyond the scatter)", t_run / t_base);
    if quick {
        println!("  target                      n/a (quick run; `cargo bench` measures the 100k-neuron, 10M-synapse network)");
    } else {
        println!(
            "  target                      {:>8} M events/s: {}",
            100,
            if rate >= 1e8 { "met" } else { "NOT met" }
        );
    }
}
