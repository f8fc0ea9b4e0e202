//! Mapping time and quality: `cargo bench -p spikeforge-mapper`.
//!
//! Generated networks of three families (feed-forward layers with random
//! sparse fan-in, locally connected 2-D layers, random recurrent) at about
//! 10k, 100k and 1M synapses, each on a spec sized so that about 16 cores
//! are needed (neurons and synapse entries both bind). For each: wall time
//! and inter-core packets per step (every neuron firing once; the (λ−1)
//! metric) of the greedy baseline and of the multilevel mapper, and their
//! ratio measured in the same run.
//!
//! With `SF_BENCH_EXPORT=DIR` each case's hypergraph and both partitions are
//! written to DIR for `mapper/benches/compare_partitioners.py`, which runs
//! METIS and KaHyPar on the same hypergraphs with the same core count.
//! `SF_BENCH_MAX_SYNAPSES` limits the sizes (e.g. 200000 for a quick run);
//! `SF_BENCH_CASES=a,b` runs only the cases whose names contain a or b.
//! `SF_BENCH_FLOWS=1` maps with the flow refinement (`map --flows`).
//! `SF_BENCH_SEEDS=N` also maps each case with N seeds of the multilevel
//! partitioner, without and with its kicks, and prints the packets' mean,
//! least and most. `SF_BENCH_REPEAT=N` maps each case N more times with
//! the default options and prints the median time: the steady state, as a
//! partitioner called in a loop (compare_partitioners.py times KaHyPar so)
//! sees it, next to the first mapping of the process in the table.

use spikeforge_mapper::conn::Conn;
use spikeforge_mapper::multilevel;
use spikeforge_mapper::{map, Algorithm, HardwareSpec, Interconnect, MapOptions, Mapping};
use spikeforge_net::doc::{FixedPointDoc, PopulationDoc, ProjectionDoc};
use spikeforge_net::rng::SplitMix64;
use spikeforge_net::{Network, NetworkDoc};
use spikeforge_tests::families;
use std::fmt::Write as _;
use std::time::Instant;

fn pop(name: &str, size: usize, input: bool) -> PopulationDoc {
    if input {
        PopulationDoc::input(name, size as i64)
    } else {
        PopulationDoc::neurons(name, size as i64, 100)
    }
}

fn network(populations: Vec<PopulationDoc>, projections: Vec<ProjectionDoc>) -> Network {
    let doc = NetworkDoc {
        format: 1,
        name: None,
        fixed_point: FixedPointDoc { weight_bits: 8, potential_bits: 16, accumulator_bits: 32 },
        populations,
        projections,
    };
    Network::from_doc(&doc).expect("generated network is valid")
}

/// Layers of width w, each neuron fed by d random neurons of the layer below.
fn feedforward(target: usize, rng: &mut SplitMix64) -> Network {
    let d = 64;
    let w = (target / (3 * d)).max(d);
    let names = ["l0", "l1", "l2", "l3"];
    let pops = names.iter().enumerate().map(|(i, n)| pop(n, w, i == 0)).collect();
    let projs = (0..3)
        .map(|l| {
            let mut s = Vec::with_capacity(w * d);
            for post in 0..w {
                for _ in 0..d {
                    s.push([rng.below(w as u64) as i64, post as i64, 1]);
                }
            }
            ProjectionDoc::sparse(names[l], names[l + 1], s)
        })
        .collect();
    network(pops, projs)
}

/// g×g grids; each neuron fed by the 5×5 neighbourhood below (a
/// convolution-like, locally connected network), row-major numbering.
fn local(target: usize, _: &mut SplitMix64) -> Network {
    let g = ((target as f64 / 50.0).sqrt().round() as i64).max(4);
    let names = ["g0", "g1", "g2"];
    let pops = names.iter().enumerate().map(|(i, n)| pop(n, (g * g) as usize, i == 0)).collect();
    let projs = (0..2)
        .map(|l| {
            let mut s = Vec::new();
            for y in 0..g {
                for x in 0..g {
                    for dy in -2..=2 {
                        for dx in -2..=2 {
                            let (sx, sy) = (x + dx, y + dy);
                            if (0..g).contains(&sx) && (0..g).contains(&sy) {
                                s.push([sy * g + sx, y * g + x, 1]);
                            }
                        }
                    }
                }
            }
            ProjectionDoc::sparse(names[l], names[l + 1], s)
        })
        .collect();
    network(pops, projs)
}

/// n neurons with 50 random targets each, driven by n/10 inputs with 10 targets each.
fn recurrent(target: usize, rng: &mut SplitMix64) -> Network {
    let n = (target / 51).max(64);
    let m = n / 10;
    let mut rec = Vec::with_capacity(n * 50);
    for pre in 0..n {
        for _ in 0..50 {
            rec.push([pre as i64, rng.below(n as u64) as i64, 1]);
        }
    }
    let mut inp = Vec::with_capacity(m * 10);
    for pre in 0..m {
        for _ in 0..10 {
            inp.push([pre as i64, rng.below(n as u64) as i64, 1]);
        }
    }
    network(
        vec![pop("in", m, true), pop("r", n, false)],
        vec![ProjectionDoc::sparse("in", "r", inp), ProjectionDoc::sparse("r", "r", rec)],
    )
}

/// A spec on which about 16 cores are needed.
fn spec_for(net: &Network) -> HardwareSpec {
    let st = net.stats();
    let computed = (st.neurons - st.input_neurons) as u32;
    // 20% slack over an even 16-way split, as a real spec has: both limits bind,
    // but single neurons can still move.
    let n = ((computed as f64 * 1.2 / 16.0).ceil() as u32).max(1);
    let s = ((st.synapses as f64 * 1.2 / 16.0).ceil() as u32).max(st.max_fan_in as u32);
    HardwareSpec {
        name: "bench".into(),
        mesh_width: 8,
        mesh_height: 8,
        neurons_per_core: n,
        axons_per_core: 1 << 20,
        synapses_per_core: s,
        routes_per_core: 1 << 20,
        param_sets_per_core: 1 << 16,
        input_neurons: st.input_neurons as u32 + 1,
        input_routes: 1 << 26,
        weight_bits: 8,
        potential_bits: 16,
        accumulator_bits: 32,
        interconnect: Interconnect::Mesh,
        single_port_synapses: false,
        current_state: false,
    }
}

fn partition_of(net: &Network, m: &Mapping) -> Vec<i64> {
    (0..net.neuron_count() as usize).map(|g| m.placement[g].map_or(-1, |(c, _)| c as i64)).collect()
}

/// Writes `<name>.hgr` (hMETIS: one net per source, computed-neuron vertices
/// 1-based; computed sources are pins of their own nets), `<name>.meta`
/// (vertex→global id, input-source nets, capacities) and both partitions.
fn export(dir: &str, name: &str, net: &Network, spec: &HardwareSpec, greedy: &Mapping, ml: &Mapping) {
    let conn = Conn::new(net);
    let mut vid = vec![0usize; conn.n];
    let mut verts = Vec::new();
    for g in conn.computed() {
        verts.push(g);
        vid[g as usize] = verts.len();
    }
    let mut nets = String::new();
    let mut count = 0;
    let mut input_nets = Vec::new();
    for s in 0..conn.n as u32 {
        let t = conn.targets(s);
        if t.is_empty() {
            continue;
        }
        let mut pins: Vec<usize> = t.iter().map(|&x| vid[x as usize]).collect();
        if conn.is_input[s as usize] {
            input_nets.push(count);
        } else if !pins.contains(&vid[s as usize]) {
            pins.push(vid[s as usize]);
        }
        let _ = writeln!(nets, "{}", pins.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(" "));
        count += 1;
    }
    let hgr = format!("{count} {}\n{nets}", verts.len());
    std::fs::write(format!("{dir}/{name}.hgr"), hgr).unwrap();
    let fanin: Vec<u32> = verts.iter().map(|&g| conn.fanin[g as usize]).collect();
    let part = |m: &Mapping| -> Vec<i64> { verts.iter().map(|&g| partition_of(net, m)[g as usize]).collect() };
    let meta = serde_json::json!({
        "name": name,
        "vertices": verts.len(),
        "input_nets": input_nets,
        "fanin": fanin,
        "neurons_per_core": spec.neurons_per_core,
        "synapses_per_core": spec.synapses_per_core,
        "cores": ml.report.cores_used,
        "greedy": part(greedy),
        "multilevel": part(ml),
    });
    std::fs::write(format!("{dir}/{name}.json"), meta.to_string()).unwrap();
}

/// `map` with `seeds` seeds of the multilevel partitioner, without and
/// with its kicks: the packets per step of each mapping, as mean, least
/// and most (the default seed is the first).
/// `n` more multilevel mappings with the default options: their median
/// time against the first one's (`first`), which includes the process's
/// first allocations and the start of the thread pool.
fn repeated(case: &str, net: &Network, spec: &HardwareSpec, n: usize, first: f64) {
    let mut times: Vec<f64> = (0..n)
        .map(|_| {
            let t = Instant::now();
            map(net, spec, &multilevel_options()).expect("fits");
            t.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    println!("  {case} repeated {n} times: median {:.3} s a mapping (the first: {first:.3} s)", times[n / 2]);
}

/// The multilevel mapper's options: the default, with the flow refinement
/// when `SF_BENCH_FLOWS=1`.
fn multilevel_options() -> MapOptions {
    let mut opts = MapOptions::new(Algorithm::Multilevel);
    opts.search.flows = std::env::var("SF_BENCH_FLOWS").is_ok_and(|v| v == "1");
    opts
}

fn seed_spread(case: &str, net: &Network, spec: &HardwareSpec, seeds: u64) {
    for kicks in [0, multilevel::KICKS] {
        let t = Instant::now();
        let packets: Vec<f64> = (0..seeds)
            .map(|s| {
                let mut opts = multilevel_options();
                opts.search.seed = multilevel::SEED ^ s.wrapping_mul(0x9E37_79B9_7F4A_7C15);
                opts.search.kicks = kicks;
                map(net, spec, &opts).expect("fits").report.packets_per_step
            })
            .collect();
        let mean = packets.iter().sum::<f64>() / seeds as f64;
        let (lo, hi) = packets.iter().fold((f64::INFINITY, 0.0f64), |(l, h), &x| (l.min(x), h.max(x)));
        println!(
            "  {case} {seeds} seeds, kicks {kicks:>2}: packets mean {mean:.0}, least {lo:.0}, most {hi:.0} ({:.3} s a mapping)",
            t.elapsed().as_secs_f64() / seeds as f64
        );
    }
}

/// Peak resident memory of this process so far, MB (VmHWM).
fn peak_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| l.strip_prefix("VmHWM:").map(|v| v.trim().trim_end_matches("kB").trim().to_string()))
        })
        .and_then(|v| v.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// The child of [`own_memory`]: `__one FAMILY SYNAPSES` builds that
/// network, maps it with the multilevel mapper and prints
/// `ONE <peak MB before map> <peak MB after> <seconds> <cores>`.
fn one() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) != Some("__one") {
        return;
    }
    let target: usize = args[3].parse().expect("synapses");
    let generator: fn(usize, &mut SplitMix64) -> Network = match args[2].as_str() {
        "feedforward" => feedforward,
        "local2d" => local,
        _ => recurrent,
    };
    let net = generator(target, &mut SplitMix64(target as u64 ^ 0xC0FFEE));
    let spec = spec_for(&net);
    let before = peak_mb();
    let t = Instant::now();
    let m = map(&net, &spec, &multilevel_options()).expect("fits");
    let secs = t.elapsed().as_secs_f64();
    println!("ONE {before:.0} {:.0} {secs:.2} {}", peak_mb(), m.report.cores_used);
    std::process::exit(0);
}

/// The mapper's own peak memory on one network: a child process builds the
/// network (its peak before mapping is the network's share) and maps it.
fn own_memory(family: &str, synapses: usize) {
    let out = std::process::Command::new(std::env::current_exe().expect("own path"))
        .args(["__one", family, &synapses.to_string()])
        .output()
        .expect("run the child");
    let text = String::from_utf8_lossy(&out.stdout);
    let Some(line) = text.lines().find_map(|l| l.strip_prefix("ONE ")) else {
        println!("{family} {synapses}: the child failed: {}", String::from_utf8_lossy(&out.stderr));
        return;
    };
    let v: Vec<f64> = line.split_whitespace().filter_map(|x| x.parse().ok()).collect();
    println!(
        "{family:<12} {synapses:>10} synapses: multilevel map {:.2} s, {} cores, process peak {:.0} MB, of it the network {:.0} MB: the mapper's {:.0} MB",
        v[2],
        v[3],
        v[1],
        v[0],
        v[1] - v[0]
    );
}

fn main() {
    one();
    let quick = !std::env::args().any(|a| a == "--bench");
    let max: usize = std::env::var("SF_BENCH_MAX_SYNAPSES").ok().and_then(|v| v.parse().ok()).unwrap_or(if quick {
        10_000
    } else {
        1_000_000
    });
    let export_dir = std::env::var("SF_BENCH_EXPORT").ok();
    let seeds: u64 = std::env::var("SF_BENCH_SEEDS").ok().and_then(|v| v.parse().ok()).unwrap_or(0);
    let repeat: usize = std::env::var("SF_BENCH_REPEAT").ok().and_then(|v| v.parse().ok()).unwrap_or(0);
    if let Some(d) = &export_dir {
        std::fs::create_dir_all(d).unwrap();
    }
    println!(
        "{:<16} {:>9} {:>7} {:>6} {:>5} | {:>9} {:>10} | {:>9} {:>10} | {:>7} {:>7}",
        "network",
        "synapses",
        "neurons",
        "cores",
        "bound",
        "greedy s",
        "greedy pk",
        "multi s",
        "multi pk",
        "ratio",
        "peak MB"
    );
    type Gen = fn(usize, &mut SplitMix64) -> Network;
    let families: [(&str, Gen); 3] = [("feedforward", feedforward), ("local2d", local), ("recurrent", recurrent)];
    // The generated families at three sizes (ten million synapses on request:
    // SF_BENCH_MAX_SYNAPSES=10000000), then networks of fixed size from
    // other families, then network files named in SF_BENCH_NETS.
    let mut cases: Vec<(String, Box<dyn Fn() -> Network>)> = Vec::new();
    for target in [10_000usize, 100_000, 1_000_000, 10_000_000] {
        if target > max {
            continue;
        }
        for (fam, gen) in families {
            cases.push((
                format!("{fam}_{target}"),
                Box::new(move || {
                    let mut rng = SplitMix64(target as u64 ^ 0xC0FFEE);
                    gen(target, &mut rng)
                }),
            ));
        }
    }
    if !quick {
        cases.push(("grid3d_20".into(), Box::new(|| families::grid3d(20))));
        cases.push(("scalefree_8000".into(), Box::new(|| families::barabasi_albert(8000, 12, 1))));
        cases.push(("smallworld_8000".into(), Box::new(|| families::small_world(8000, 24, 10, 1))));
        // The small world numbered at random: the order of the file gives
        // the packings no ring segments (a network made elsewhere).
        cases.push(("smallworld_shuffled_8000".into(), Box::new(|| families::small_world_shuffled(8000, 24, 10, 1))));
    }
    for path in std::env::var("SF_BENCH_NETS").unwrap_or_default().split(',').filter(|p| !p.is_empty()) {
        let path = std::path::PathBuf::from(path);
        let name = path.file_stem().map_or("net".into(), |s| s.to_string_lossy().into_owned());
        cases.push((name, Box::new(move || spikeforge_net::load_network(&path).expect("a valid network file"))));
    }
    let only = std::env::var("SF_BENCH_CASES").unwrap_or_default();
    let only: Vec<&str> = only.split(',').filter(|p| !p.is_empty()).collect();
    cases.retain(|(case, _)| only.is_empty() || only.iter().any(|o| case.contains(o)));
    for (case, make) in cases {
        {
            let net = make();
            let spec = spec_for(&net);
            let st = net.stats();
            let t = Instant::now();
            let g = map(&net, &spec, &MapOptions::new(Algorithm::Greedy)).expect("fits");
            let tg = t.elapsed().as_secs_f64();
            let t = Instant::now();
            let m = map(&net, &spec, &multilevel_options()).expect("fits");
            let tm = t.elapsed().as_secs_f64();
            let (pg, pm) = (g.report.packets_per_step, m.report.packets_per_step);
            println!(
                "{:<16} {:>9} {:>7} {:>3}/{:<2} {:>5} | {:>9.3} {:>10.0} | {:>9.3} {:>10.0} | {:>7.3} {:>7.0}",
                case,
                st.synapses,
                st.neurons,
                m.report.cores_used,
                g.report.cores_used,
                m.report.core_bound.cores,
                tg,
                pg,
                tm,
                pm,
                pm / pg,
                peak_mb()
            );
            if let Some(d) = &export_dir {
                export(d, &case, &net, &spec, &g, &m);
            }
            if repeat > 0 {
                repeated(&case, &net, &spec, repeat, tm);
            }
            if seeds > 0 {
                seed_spread(&case, &net, &spec, seeds);
            }
        }
    }
    if !quick {
        println!("one mapping per process (the mapper's peak, without the bench's own data):");
        for target in [1_000_000usize, 10_000_000] {
            if target <= max {
                for fam in ["feedforward", "local2d", "recurrent"] {
                    own_memory(fam, target);
                }
            }
        }
    }
    println!(
        "bound: the lower bound on cores (spikeforge_mapper::pack); peak MB: the process's peak resident memory so far"
    );
    println!("cores: multilevel/greedy; pk: inter-core + host packets per step if every neuron fires once;");
    println!("ratio: multilevel pk / greedy pk (lower is better). Target: 1M synapses mapped in < 5 s.");
}
