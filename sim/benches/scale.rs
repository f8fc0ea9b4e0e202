//! Co-simulation at scale (figures printed; hardware = golden asserted):
//! 4, 16 and 64 cores, as 2x2, 4x4 and 8x8 meshes with the per-core sizes
//! of `medium` (64 neurons, so each block of the network below fills one
//! core), then the `large` preset itself (8x8, 1024 neurons per core).
//!
//! Per point: time to generate the Verilog (`spikeforge hdl`), its files
//! and lines; the Verilator build (Verilog to shared library) in a private
//! cache, its wall time and the peak memory of any one of its processes;
//! then the reference network of the co-simulation benchmark with one block
//! per core (so the work per core is the same at every size), run verified
//! (hardware = golden every step) for the cycles per step against the bound
//! max over cores of (synaptic events + neurons), and run again without
//! golden for simulated cycles per second of the steps (the load of the
//! network excluded).
//!
//! `cargo bench -p spikeforge-sim --bench scale` runs all four (about 10
//! minutes on 2 cores, most of it loading `large`: every word of every
//! memory, 5.2 M clocks); without `--bench` it runs the `medium` spec only.

mod common;

use common::{blocks_network, bounds, build_measured, child_build, stimulus};
use spikeforge_mapper::{map, Algorithm, HardwareSpec, MapOptions};
use spikeforge_sim::verilate::BuildOptions;
use spikeforge_sim::{run, RunOptions, Verdict};
use std::time::Instant;

fn main() {
    child_build();
    let quick = !std::env::args().any(|a| a == "--bench");
    let steps: u32 = if quick { 10 } else { 300 };
    let specs: Vec<HardwareSpec> = if quick {
        vec![HardwareSpec::preset("medium").expect("preset")]
    } else {
        let mut v: Vec<HardwareSpec> = [2u32, 4, 8]
            .iter()
            .map(|&n| {
                let medium = HardwareSpec::preset("medium").expect("preset");
                HardwareSpec {
                    name: format!("mesh-{n}x{n}"),
                    mesh_width: n,
                    mesh_height: n,
                    input_neurons: 16 * n * n,
                    input_routes: 64 * n * n,
                    interconnect: spikeforge_mapper::Interconnect::Mesh,
                    ..medium
                }
            })
            .collect();
        v.push(HardwareSpec::preset("large").expect("preset"));
        v
    };
    let root = if quick {
        spikeforge_sim::verilate::cache_root()
    } else {
        std::env::temp_dir().join(format!("sf-bench-scale-{}", std::process::id()))
    };
    println!("co-simulation at scale: one reference block (60 neurons, 16 inputs) per core, {steps} steps");
    println!(
        "  {:<10} {:>5} {:>5} {:>7} {:>6} {:>8} {:>8} {:>8} {:>11} {:>12} {:>11} {:>9} {:>7}",
        "spec",
        "cores",
        "used",
        "hdl s",
        "files",
        "lines",
        "build s",
        "peak MB",
        "M cycles/s",
        "x per core*",
        "cycles/step",
        "bound",
        "ratio"
    );
    let mut first: Option<(f64, u32)> = None;
    for spec in &specs {
        let t = Instant::now();
        let files = spikeforge_hdl::design(spec, None);
        let hdl_s = t.elapsed().as_secs_f64();
        let lines: usize = files.iter().map(|f| f.text.lines().count()).sum();
        let b = build_measured(spec, &BuildOptions::default(), &root);
        let net = blocks_network(spec.cores() as u64);
        let stim = stimulus(&net, steps);
        let m = map(&net, spec, &MapOptions::new(Algorithm::Multilevel)).expect("the blocks fit");
        let v = run(&b.built, &net, &m, &stim, &RunOptions::verified(steps), &mut |_| {}).expect("run");
        assert!(matches!(v.verdict, Verdict::Equal), "{}: hardware differs from golden: {:?}", spec.name, v.verdict);
        let mut plain = RunOptions::verified(steps);
        plain.verify = false;
        // Cycles per second of the steps, the load excluded (loading every
        // word of a 64-core `large` takes 5.2 M clocks): timed from the end
        // of step 1 to the end of the last.
        let mut marks: Vec<Instant> = Vec::with_capacity(steps as usize);
        let r = run(&b.built, &net, &m, &stim, &plain, &mut |_| marks.push(Instant::now())).expect("run");
        let timed: u64 = r.cycles_per_step[1..].iter().sum();
        let rate = timed as f64 / (marks[marks.len() - 1] - marks[0]).as_secs_f64();
        let bound = bounds(&net, &m, &stim, steps).iter().sum::<u64>() as f64 / steps as f64;
        let per_step = v.cycles_per_step.iter().sum::<u64>() as f64 / steps as f64;
        let (r0, c0) = *first.get_or_insert((rate, spec.cores()));
        // Cycles/s times cores, relative to the first point's: 1.0 means
        // the cost of a clock grows exactly with the cores.
        let per_core = rate * spec.cores() as f64 / (r0 * c0 as f64);
        println!(
            "  {:<10} {:>5} {:>5} {:>7.2} {:>6} {:>8} {:>8.1} {:>8.0} {:>11.3} {:>12.2} {:>11.1} {:>9.1} {:>7.3}",
            spec.name,
            spec.cores(),
            m.report.cores_used,
            hdl_s,
            files.len(),
            lines,
            b.seconds,
            b.peak_mb,
            rate / 1e6,
            per_core,
            per_step,
            bound,
            per_step / bound
        );
    }
    println!(
        "  * (cycles/s x cores) / (the same of the first row): 1.0 = cost per clock linear in cores, above 1 = better"
    );
    println!("  build s is 0 when the model came from the cache");
    if !quick {
        let _ = std::fs::remove_dir_all(&root);
    }
}
