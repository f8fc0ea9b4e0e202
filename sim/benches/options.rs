//! Verilator options by measurement (figures printed, nothing asserted).
//!
//! Builds the `medium` spec (4 cores) once per variant of the Verilator
//! and C++ options, in a private cache, and runs the co-simulation
//! benchmark's reference network on each for the same steps without golden.
//! Per variant: build seconds, peak memory of the build, and simulated
//! cycles per second, also as a ratio to the default build measured in the
//! same run (the machine is shared: ratios are what to compare). Each
//! variant runs several rounds, interleaved, and keeps its best.
//!
//! Not in the table: Verilator's `-O0`, which cannot build the design at
//! all (without inlining, rust-hdl's one `always @(*)` per module forms
//! combinational cycles across module boundaries: UNOPTFLAT).
//!
//! `cargo bench -p spikeforge-sim --bench options` runs every variant
//! (about 10 minutes); without `--bench` it checks the default one.

mod common;

use common::{build_measured, child_build, reference_network, stimulus};
use spikeforge_mapper::{map, Algorithm, HardwareSpec, MapOptions};
use spikeforge_sim::verilate::BuildOptions;
use spikeforge_sim::{run, RunOptions};

fn variant(verilator: &[&str], make: &[&str]) -> BuildOptions {
    BuildOptions {
        trace: false,
        verilator_args: verilator.iter().map(|s| s.to_string()).collect(),
        make_args: make.iter().map(|s| s.to_string()).collect(),
    }
}

fn main() {
    child_build();
    let quick = !std::env::args().any(|a| a == "--bench");
    let steps: u32 = if quick { 20 } else { 2000 };
    let rounds = if quick { 1 } else { 3 };
    let spec = HardwareSpec::preset("medium").expect("preset");
    let net = reference_network();
    let stim = stimulus(&net, steps);
    let m = map(&net, &spec, &MapOptions::new(Algorithm::Multilevel)).expect("the reference network fits");
    let mut variants: Vec<(&str, BuildOptions)> = vec![("default (spikeforge's flags)", BuildOptions::default())];
    if !quick {
        variants.extend([
            ("+ --trace", BuildOptions { trace: true, ..BuildOptions::default() }),
            ("+ --inline-mult 500 (cores stay modules)", variant(&["--inline-mult", "500"], &[])),
            ("+ --x-initial fast", variant(&["--x-initial", "fast"], &[])),
            ("+ OPT_FAST=-O3", variant(&[], &["OPT_FAST=-O3"])),
            ("+ OPT_FAST=-Os (Verilator's default)", variant(&[], &["OPT_FAST=-Os"])),
            ("+ --output-split 5000", variant(&["--output-split", "5000"], &[])),
            ("+ --threads 2", variant(&["--threads", "2"], &[])),
        ]);
    }
    let root = if quick {
        spikeforge_sim::verilate::cache_root()
    } else {
        std::env::temp_dir().join(format!("sf-bench-options-{}", std::process::id()))
    };
    println!(
        "Verilator options on spec `{}` ({} cores), reference network, {steps} steps, best of {rounds} rounds",
        spec.name,
        spec.cores()
    );
    let built: Vec<_> = variants.iter().map(|(_, o)| build_measured(&spec, o, &root)).collect();
    let mut best = vec![0.0f64; variants.len()];
    let mut cycles = vec![0u64; variants.len()];
    let mut plain = RunOptions::verified(steps);
    plain.verify = false;
    for _ in 0..rounds {
        for (k, b) in built.iter().enumerate() {
            let r = run(&b.built, &net, &m, &stim, &plain, &mut |_| {}).expect("run");
            best[k] = best[k].max(r.cycles_per_second());
            cycles[k] = r.total_cycles;
        }
    }
    println!("  {:<44} {:>9} {:>8} {:>12} {:>10}", "variant", "build s", "peak MB", "M cycles/s", "x default");
    for (k, (name, _)) in variants.iter().enumerate() {
        assert_eq!(cycles[k], cycles[0], "{name}: a different cycle count than the default build");
        println!(
            "  {:<44} {:>9.1} {:>8.0} {:>12.3} {:>10.3}",
            name,
            built[k].seconds,
            built[k].peak_mb,
            best[k] / 1e6,
            best[k] / best[0]
        );
    }
    if !quick {
        drop(built);
        let _ = std::fs::remove_dir_all(&root);
    }
}
