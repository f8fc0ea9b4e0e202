//! `spikeforge spec` and `spikeforge map`.

use crate::args::{steps_arg, AlgorithmArg, JsonArg, NetArg, SpecArg};
use crate::common::{check_out_dir, load, other, write_file, Command, Failure, Internal, Outcome};
use clap::Args;
use serde_json::json;
use spikeforge_mapper::spec::{load_spec, to_toml, PRESETS};
use spikeforge_mapper::{map_with, HardwareSpec, MapOptions, Mapping};
use spikeforge_net::{spikes, Network, SpikeFileKind, Stimulus};
use std::path::{Path, PathBuf};

/// `spikeforge spec`'s arguments.
#[derive(Args)]
pub struct SpecCmdArgs {
    /// Preset to print.
    pub name: Option<String>,
    /// List the presets.
    #[arg(long)]
    pub list: bool,
    #[command(flatten)]
    pub output: JsonArg,
}

impl Command for SpecCmdArgs {
    fn json(&self) -> bool {
        self.output.json
    }

    fn run(&self) -> Result<Outcome, Failure> {
        spec(self.name.as_deref(), self.list, self.output.json)
    }
}

/// `spikeforge map`'s arguments.
#[derive(Args)]
pub struct MapArgs {
    #[command(flatten)]
    pub net: NetArg,
    #[command(flatten)]
    pub spec: SpecArg,
    /// Stimulus CSV: firing rates from a golden run weigh the traffic, and
    /// the architectural model is run and checked against golden.
    #[arg(long)]
    pub stimulus: Option<PathBuf>,
    /// Steps for the stimulus run (default: the stimulus length; at least 1).
    #[arg(long, value_parser = steps_arg)]
    pub steps: Option<u32>,
    #[command(flatten)]
    pub algorithm: AlgorithmArg,
    /// Also refine by minimum cuts between pairs of cores (multilevel,
    /// locally connected networks only): on a 3-D grid about 2% fewer
    /// packets for about twice the mapping time.
    #[arg(long)]
    pub flows: bool,
    /// Write mapping.json and the .hex memory images here.
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub output: JsonArg,
}

impl Command for MapArgs {
    fn json(&self) -> bool {
        self.output.json
    }

    fn run(&self) -> Result<Outcome, Failure> {
        if let Some(out) = &self.out {
            check_out_dir(out, "--out")?;
        }
        map(self)
    }
}

fn spec(name: Option<&str>, list: bool, json: bool) -> Result<Outcome, Failure> {
    match name {
        Some(n) if !list => {
            let s = HardwareSpec::preset(n).ok_or_else(|| {
                other(format!("unknown preset `{n}`"), Some(&format!("presets: {}", PRESETS.join(", "))))
            })?;
            if json {
                println!("{}", json!({"preset": n, "cores": s.cores(), "spec": s}));
            } else {
                print!("{}", to_toml(&s));
            }
        }
        _ if json => {
            let presets: Vec<_> = PRESETS
                .iter()
                .map(|n| {
                    let s = HardwareSpec::preset(n).expect("preset");
                    json!({"preset": n, "cores": s.cores(), "spec": s})
                })
                .collect();
            println!("{}", json!({ "presets": presets }));
        }
        _ => {
            println!(
                "{:<8} {:>6} {:>8} {:>8} {:>9} {:>7}  interconnect",
                "preset", "cores", "neurons", "axons", "synapses", "routes"
            );
            for n in PRESETS {
                let s = HardwareSpec::preset(n).expect("preset");
                println!(
                    "{:<8} {:>6} {:>8} {:>8} {:>9} {:>7}  {:?} {}x{}",
                    n,
                    s.cores(),
                    s.neurons_per_core,
                    s.axons_per_core,
                    s.synapses_per_core,
                    s.routes_per_core,
                    s.interconnect,
                    s.mesh_width,
                    s.mesh_height
                );
            }
            println!("(per core; `spikeforge spec NAME` prints one as a spec file)");
        }
    }
    Ok(Outcome::Done)
}

fn rates(net: &Network, stim: &Stimulus, steps: u32) -> Result<(Vec<f64>, spikeforge_golden::RunResult), Failure> {
    let r = spikeforge_golden::run(net, stim, steps)?;
    let mut counts = vec![0.0f64; net.neuron_count() as usize];
    for s in &r.spikes {
        counts[s.neuron as usize] += 1.0;
    }
    for t in 0..steps {
        for &g in stim.at(t) {
            counts[g as usize] += 1.0;
        }
    }
    Ok((counts.into_iter().map(|c| c / steps.max(1) as f64).collect(), r))
}

fn map(a: &MapArgs) -> Result<Outcome, Failure> {
    let (stimulus, steps, out, json) = (a.stimulus.as_deref(), a.steps, a.out.as_deref(), a.output.json);
    let net = load(&a.net.net)?;
    let spec = load_spec(&a.spec.spec)?;
    let mut opts = MapOptions::new(a.algorithm.algorithm);
    opts.search.flows = a.flows;
    let mut run = None;
    if let Some(sp) = stimulus {
        let list = match steps {
            Some(n) => spikes::load_stimulus(&net, sp, n)?,
            None => spikes::load_spikes(&net, sp, SpikeFileKind::Stimulus)?,
        };
        let stim = Stimulus::from_train(&list);
        let steps = steps.unwrap_or(stim.step_span().max(1));
        let (r, golden) = rates(&net, &stim, steps)?;
        opts.rates = Some(r);
        run = Some((stim, steps, golden));
    }
    let display = crate::progress::Display::new("map", !a.output.json);
    let m = map_with(&net, &spec, &opts, &display).map_err(|e| e.explained(&net, &spec, opts.algorithm))?;
    drop(display);
    // With a stimulus: run the architectural model, measure traffic, check it against golden.
    let mut measured = None;
    if let Some((stim, steps, golden)) = &run {
        let a = m.run_arch(stim, *steps).map_err(Internal)?;
        let equal = a.spikes == golden.spikes && a.potentials == golden.potentials;
        let inter: u64 = a.traffic.iter().map(|t| t.inter_core).sum();
        let host: u64 = a.traffic.iter().map(|t| t.from_host).sum();
        let hops: u64 = a.traffic.iter().map(|t| t.hops).sum();
        measured = Some((
            equal,
            inter as f64 / *steps as f64,
            host as f64 / *steps as f64,
            hops as f64 / (inter + host).max(1) as f64,
        ));
        if !equal {
            return Err(other(
                "internal error (please report): the architectural model disagrees with the golden model on this mapping",
                None,
            ));
        }
    }
    let files = out.map(|_| m.files(&net));
    if let (Some(dir), Some(files)) = (out, &files) {
        std::fs::create_dir_all(dir).map_err(|e| other(format!("cannot create {}: {e}", dir.display()), None))?;
        for (name, text) in files {
            write_file(&dir.join(name), text)?;
        }
    }
    if json {
        let mut j = json!({"ok": true, "network": net.name(), "report": m.report});
        if let Some((equal, inter, host, hops)) = measured {
            j["measured"] = json!({"arch_equals_golden": equal, "inter_core_packets_per_step": inter, "host_packets_per_step": host, "average_hops": hops});
        }
        if let Some(f) = &files {
            j["files"] = json!(f.keys().collect::<Vec<_>>());
        }
        println!("{}", serde_json::to_string_pretty(&j).expect("JSON"));
    } else {
        print_report(&net, &m, measured, out, files.as_ref().map_or(0, |f| f.len()));
    }
    Ok(Outcome::Done)
}

fn pct(a: u32, b: u32) -> String {
    format!("{a}/{b} ({:.0}%)", 100.0 * a as f64 / b.max(1) as f64)
}

fn print_report(
    net: &Network,
    m: &Mapping,
    measured: Option<(bool, f64, f64, f64)>,
    out: Option<&Path>,
    nfiles: usize,
) {
    let r = &m.report;
    let s = &m.spec;
    println!(
        "mapped {} onto spec `{}` ({} cores, {:?} {}x{}) with {:?}",
        net.name().unwrap_or("(unnamed)"),
        s.name,
        s.cores(),
        s.interconnect,
        s.mesh_width,
        s.mesh_height,
        r.algorithm
    );
    println!("cores used   {} of {}", r.cores_used, r.cores_available);
    let b = &r.core_bound;
    println!(
        "lower bound  {} core{} ({}): neurons {}, synapse words {} ({} at one synapse a word), axons {}, routes {}, parameter sets {}; the largest neuron needs {} synapse entries and {} axons",
        b.cores,
        if b.cores == 1 { "" } else { "s" },
        b.binding(),
        b.neurons,
        b.synapses_dense,
        b.synapses,
        b.axons,
        b.routes,
        b.param_sets,
        b.max_synapses,
        b.max_axons
    );
    println!("  core  x  y  {:<18} {:<20} {:<18} {:<18}", "neurons", "synapses", "axons", "routes");
    for c in &r.per_core {
        println!(
            "  {:>4} {:>2} {:>2}  {:<18} {:<20} {:<18} {:<18}",
            c.core,
            c.x,
            c.y,
            pct(c.neurons, s.neurons_per_core),
            pct(c.synapses, s.synapses_per_core),
            pct(c.axons, s.axons_per_core),
            pct(c.routes, s.routes_per_core)
        );
    }
    let basis = if r.rates_measured { "at the stimulus' firing rates" } else { "if every neuron fired once per step" };
    let ratio = if r.greedy_packets_per_step > 0.0 { r.packets_per_step / r.greedy_packets_per_step } else { 1.0 };
    println!(
        "packets      {:.2} per step {basis} (inter-core + host); greedy baseline {:.2} (ratio {:.3})",
        r.packets_per_step, r.greedy_packets_per_step, ratio
    );
    println!("hops         {:.2} average per packet", r.average_hops);
    if let Some((equal, inter, host, hops)) = measured {
        println!("measured     {inter:.2} inter-core + {host:.2} host packets per step, {hops:.2} hops average (architectural model run)");
        println!(
            "arch model   {}",
            if equal { "equals the golden model, spike for spike" } else { "DIFFERS from golden" }
        );
    }
    if let Some(d) = out {
        println!("files        {} ({nfiles} files: mapping.json and .hex memory images)", d.display());
    }
}
