//! What the co-simulation benchmarks share: the reference network (blocks
//! of recurrently connected neurons, one block per core) with its random
//! stimulus, and the per-step lower bound on clocks.

#![allow(dead_code)]

use spikeforge_mapper::Mapping;
use spikeforge_net::doc::{FixedPointDoc, PopulationDoc, ProjectionDoc};
use spikeforge_net::rng::SplitMix64;
use spikeforge_net::{Leak, Network, NetworkDoc, PerNeuron, Reset, SpikeTrain, Stimulus};

/// Blocks of the reference network on the 4-core spec.
pub const BLOCKS: u64 = 4;
const PER_BLOCK: u64 = 60;
const INPUTS_PER_BLOCK: u64 = 16;

/// The reference network: [`BLOCKS`] blocks (one per core of `medium`).
pub fn reference_network() -> Network {
    blocks_network(BLOCKS)
}

/// `blocks` blocks of 60 recurrently connected neurons with their own 16
/// inputs and a few links to the next block (module docs of the benches).
pub fn blocks_network(blocks: u64) -> Network {
    let mut rng = SplitMix64(2026);
    let mut rec = Vec::new();
    let mut inp = Vec::new();
    for b in 0..blocks {
        for i in 0..PER_BLOCK {
            let post = (b * PER_BLOCK + i) as i64;
            for _ in 0..3 {
                let pre = b * INPUTS_PER_BLOCK + rng.below(INPUTS_PER_BLOCK);
                inp.push([pre as i64, post, 20 + rng.below(21) as i64]);
            }
            for _ in 0..7 {
                let pre = b * PER_BLOCK + rng.below(PER_BLOCK);
                rec.push([pre as i64, post, rng.below(41) as i64 - 20]);
            }
            for _ in 0..2 {
                let pre = ((b + 1) % blocks) * PER_BLOCK + rng.below(20);
                rec.push([pre as i64, post, rng.below(16) as i64]);
            }
        }
    }
    let mut x = PopulationDoc::neurons("x", (blocks * PER_BLOCK) as i64, 64);
    x.leak_shift = Some(PerNeuron::Scalar(Leak::Shift(3)));
    x.reset = Some(PerNeuron::Scalar(Reset::Subtract));
    let doc = NetworkDoc {
        format: 1,
        name: Some("bench-reference".into()),
        fixed_point: FixedPointDoc { weight_bits: 8, potential_bits: 16, accumulator_bits: 24 },
        populations: vec![PopulationDoc::input("in", (blocks * INPUTS_PER_BLOCK) as i64), x],
        projections: vec![ProjectionDoc::sparse("in", "x", inp), ProjectionDoc::sparse("x", "x", rec)],
    };
    Network::from_doc(&doc).expect("valid reference network")
}

/// Random input at 20% per input and step.
pub fn stimulus(net: &Network, steps: u32) -> Stimulus {
    let mut rng = SplitMix64(7);
    let n_in = net.populations()[0].size();
    let base = net.populations()[0].ids().next().unwrap_or(0);
    let mut list = Vec::new();
    for t in 0..steps {
        for i in 0..n_in {
            if rng.below(100) < 20 {
                list.push((t, base + i));
            }
        }
    }
    Stimulus::from_train(&SpikeTrain::from_pairs(list))
}

/// Per step: max over cores of (synaptic events the core integrates in that
/// step + its neurons). Events of step t are the synapses of everything
/// that spiked in step t (computed spikes and inputs), delivered at t + 1.
pub fn bounds(net: &Network, m: &Mapping, stim: &Stimulus, steps: u32) -> Vec<u64> {
    let g = spikeforge_golden::run(net, stim, steps).expect("golden");
    let f = spikeforge_golden::Fanout::new(net);
    let cores = m.spec.cores() as usize;
    let neurons: Vec<u64> = (0..cores).map(|c| m.images.cores.get(c).map_or(0, |x| x.neurons.len() as u64)).collect();
    let mut per_step = vec![vec![0u64; cores]; steps as usize];
    let mut add = |t: u32, pre: u32| {
        for k in f.starts[pre as usize]..f.starts[pre as usize + 1] {
            if let Some((c, _)) = m.placement[f.targets[k as usize] as usize] {
                per_step[t as usize][c as usize] += 1;
            }
        }
    };
    for s in &g.spikes {
        add(s.step, s.neuron);
    }
    for t in 0..steps {
        for &n in stim.at(t) {
            add(t, n);
        }
    }
    per_step.iter().map(|ev| (0..cores).map(|c| ev[c] + neurons[c]).max().unwrap_or(0)).collect()
}

/// A build and what it cost.
pub struct Measured {
    /// The model.
    pub built: spikeforge_sim::Built,
    /// Wall-clock seconds of the build (Verilog generation, Verilator, C++);
    /// 0 when it came from the cache.
    pub seconds: f64,
    /// Peak resident memory of any one process of the build, MB.
    pub peak_mb: f64,
}

/// Builds `spec` with `options` into the cache at `root` in a child process
/// (this benchmark binary run again with `__build`), so its peak memory is
/// the build's alone, then loads it from there. A bench's `main` must call
/// [`child_build`] first.
pub fn build_measured(
    spec: &spikeforge_mapper::HardwareSpec,
    options: &spikeforge_sim::verilate::BuildOptions,
    root: &std::path::Path,
) -> Measured {
    let dir = std::env::temp_dir().join(format!("sf-bench-build-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let spec_path = dir.join(format!("{}.toml", spec.name));
    std::fs::write(&spec_path, spikeforge_hw::spec::to_toml(spec)).expect("write spec");
    let started = std::time::Instant::now();
    let out = std::process::Command::new(std::env::current_exe().expect("own path"))
        .arg("__build")
        .arg(root)
        .arg(&spec_path)
        .arg(if options.trace { "1" } else { "0" })
        .arg(options.verilator_args.join(" "))
        .arg(options.make_args.join(" "))
        .output()
        .expect("run the build child");
    let seconds = started.elapsed().as_secs_f64();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "build failed: {text}\n{}", String::from_utf8_lossy(&out.stderr));
    let line = text.lines().find_map(|l| l.strip_prefix("BUILT ")).expect("the child reports");
    let mut it = line.split_whitespace();
    let fresh = it.next() == Some("1");
    let peak_kb: f64 = it.next().and_then(|x| x.parse().ok()).unwrap_or(0.0);
    let _ = std::fs::remove_dir_all(&dir);
    let built = spikeforge_sim::verilate::build_at(spec, root, options, &mut |_| {}).unwrap_or_else(|e| panic!("{e}"));
    Measured { built, seconds: if fresh { seconds } else { 0.0 }, peak_mb: peak_kb / 1024.0 }
}

/// The child side of [`build_measured`]: when run as `__build ROOT SPEC
/// TRACE VARGS MAKEARGS`, builds, prints `BUILT <fresh> <peak KB>` and
/// exits.
pub fn child_build() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) != Some("__build") {
        return;
    }
    let root = std::path::PathBuf::from(&args[2]);
    let args = &args[1..];
    let spec = spikeforge_hw::spec::load_spec(&args[2]).unwrap_or_else(|e| panic!("{e:?}"));
    let split = |s: &String| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    let options = spikeforge_sim::verilate::BuildOptions {
        trace: args[3] == "1",
        verilator_args: split(&args[4]),
        make_args: split(&args[5]),
    };
    let built =
        spikeforge_sim::verilate::build_at(&spec, &root, &options, &mut |_| {}).unwrap_or_else(|e| panic!("{e}"));
    // SAFETY: getrusage only writes the struct it is given.
    let peak_kb = unsafe {
        let mut own: libc::rusage = std::mem::zeroed();
        let mut kids: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut own);
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut kids);
        own.ru_maxrss.max(kids.ru_maxrss)
    };
    println!("BUILT {} {peak_kb}", u8::from(built.fresh));
    std::process::exit(0);
}
