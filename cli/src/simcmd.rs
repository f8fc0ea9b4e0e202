//! `spikeforge sim`: maps a network, builds (or reuses) the Verilator model
//! of the spec, runs the stimulus on it and, with `--verify`, compares every
//! step with the golden model.

use crate::common::{check_out_file, Command, Outcome};
use crate::{load, load_stimulus, map_network, other, write_file, Failure};
use serde_json::json;
use spikeforge_mapper::spec::load_spec;
use spikeforge_mapper::Algorithm;
use spikeforge_net::spikes;
use spikeforge_sim::{Backpressure, Divergence, InitialState, RunOptions, VcdWindow, Verdict};
use std::path::PathBuf;
use std::time::Instant;

/// `spikeforge sim`'s arguments. Flat, not built from the shared groups
/// of `crate::args`, so the run below keeps its field names (`a.steps`).
#[derive(clap::Args)]
pub struct SimArgs {
    /// Network file (.json or .toml).
    pub net: PathBuf,
    /// Spec preset name or spec file (.toml).
    #[arg(long)]
    pub spec: String,
    /// Number of time steps to run (at least 1).
    #[arg(long, value_parser = crate::args::steps_arg)]
    pub steps: u32,
    /// Stimulus CSV (`step,population,index`) for the input populations.
    #[arg(long)]
    pub stimulus: Option<PathBuf>,
    /// Run golden beside the hardware; compare spikes and every potential after each step.
    #[arg(long)]
    pub verify: bool,
    /// Write a VCD waveform of a window of steps (see --vcd-steps).
    #[arg(long)]
    pub vcd: Option<PathBuf>,
    /// Steps traced into --vcd: A..B, A..=B or A (default: the first 8).
    #[arg(long)]
    pub vcd_steps: Option<String>,
    /// Keep the generator's internal signals (`*__d`, `*__q`, `*_sfn`) in
    /// the VCDs; by default only the design's own signals are written.
    #[arg(long)]
    pub vcd_all: bool,
    /// Where --verify leaves the waveform of the steps before a mismatch
    /// (default: next to --vcd, else ./spikeforge-mismatch.vcd).
    #[arg(long)]
    pub mismatch_vcd: Option<PathBuf>,
    /// Write the hardware's spikes here (CSV).
    #[arg(long)]
    pub spikes_out: Option<PathBuf>,
    /// Write the hardware's potentials after the last step here (CSV, the
    /// format of `golden --potentials-out`).
    #[arg(long)]
    pub potentials_out: Option<PathBuf>,
    /// Partitioner.
    #[arg(long, default_value = "multilevel", value_parser = crate::args::algorithm())]
    pub algorithm: Algorithm,
    /// Take spike-out words only in this percentage of clocks (1-100).
    #[arg(long)]
    pub backpressure: Option<u32>,
    /// Start every uninitialized bit of the design random from this seed.
    #[arg(long)]
    pub random_init: Option<u32>,
    /// Map with a random (valid but arbitrary) packing and placement from this seed.
    #[arg(long)]
    pub map_seed: Option<u64>,
    /// Seed of the --backpressure ready pattern.
    #[arg(long, default_value_t = 1, requires = "backpressure")]
    pub backpressure_seed: u64,
    /// For testing the verification harness only: after loading, set one
    /// neuron's bias (chosen from this seed) to a value that makes the run
    /// differ from golden; --verify must then report a mismatch.
    #[arg(long)]
    pub inject_fault: Option<u64>,
    #[command(flatten)]
    pub exit: crate::args::EarlyExitArgs,
    /// Print a machine-readable report on stdout.
    #[arg(long)]
    pub json: bool,
}

impl Command for SimArgs {
    fn json(&self) -> bool {
        self.json
    }

    fn run(&self) -> Result<Outcome, Failure> {
        for (flag, path) in [
            ("--vcd", &self.vcd),
            ("--mismatch-vcd", &self.mismatch_vcd),
            ("--spikes-out", &self.spikes_out),
            ("--potentials-out", &self.potentials_out),
        ] {
            if let Some(p) = path {
                check_out_file(p, flag)?;
            }
        }
        sim(self)
    }
}

/// `A..B` (B exclusive) or `A..=B` or `A` as an inclusive step range.
fn parse_steps(s: &str, steps: u32) -> Result<(u32, u32), Failure> {
    let bad = || {
        other(
            format!("--vcd-steps `{s}` is not a step range"),
            Some("write A..B (steps A to B-1), A..=B, or a single step A"),
        )
    };
    let num = |x: &str| x.trim().parse::<u32>().map_err(|_| bad());
    let (a, b) = if let Some((a, b)) = s.split_once("..=") {
        (num(a)?, num(b)?)
    } else if let Some((a, b)) = s.split_once("..") {
        let b = num(b)?;
        if b == 0 {
            return Err(bad());
        }
        (num(a)?, b - 1)
    } else {
        let a = num(s)?;
        (a, a)
    };
    if a > b {
        return Err(bad());
    }
    if a >= steps {
        return Err(other(
            format!("--vcd-steps starts at step {a}, but the run has steps 0..{steps}"),
            Some("choose a window inside the run"),
        ));
    }
    Ok((a, b.min(steps - 1)))
}

/// Runs the command; `Differs`: the hardware differs from golden.
fn sim(a: &SimArgs) -> Result<Outcome, Failure> {
    let net = load(&a.net)?;
    let spec = load_spec(&a.spec)?;
    let stim = load_stimulus(&net, a.stimulus.as_deref(), a.steps)?;
    if let Some(p) = a.backpressure {
        if !(1..=100).contains(&p) {
            return Err(other(format!("--backpressure {p}: the spike-out ready chance must be 1..=100 percent"), None));
        }
    }
    let vcd = match (&a.vcd, &a.vcd_steps) {
        (Some(path), r) => {
            let (first, last) = match r {
                Some(r) => parse_steps(r, a.steps)?,
                None => (0, a.steps.min(8) - 1),
            };
            Some(VcdWindow { path: path.clone(), first, last })
        }
        (None, Some(_)) => return Err(other("--vcd-steps needs --vcd FILE", None)),
        (None, None) => None,
    };
    let m = match a.map_seed {
        None => map_network(&net, &spec, a.algorithm)?,
        Some(seed) => {
            let o =
                spikeforge_mapper::MapOptions { seed: Some(seed), ..spikeforge_mapper::MapOptions::new(a.algorithm) };
            let display = crate::progress::Display::new("map", !a.json);
            spikeforge_mapper::map_with(&net, &spec, &o, &display).map_err(|e| e.explained(&net, &spec, a.algorithm))?
        }
    };
    let fault = match a.inject_fault {
        None => None,
        Some(seed) => Some(crate::regresscmd::choose_fault(&net, &m, &stim, a.steps, seed).ok_or_else(|| {
            other(
                format!(
                    "--inject-fault {seed}: no neuron's bias change alters this run, so there is no fault to inject"
                ),
                Some("the option tests the verification harness; give it a network whose neurons' biases matter"),
            )
        })?),
    };
    let t0 = Instant::now();
    let built = crate::common::build_model(&spec, vcd.is_some(), !a.json)?;
    let build_seconds = t0.elapsed().as_secs_f64();
    let mismatch_vcd = a.mismatch_vcd.clone().unwrap_or_else(|| match &a.vcd {
        Some(p) => p.with_extension("mismatch.vcd"),
        None => PathBuf::from("spikeforge-mismatch.vcd"),
    });
    let opts = RunOptions {
        steps: a.steps,
        verify: a.verify,
        potentials_every_step: a.verify,
        backpressure: match a.backpressure {
            Some(p) => Backpressure::Random { seed: a.backpressure_seed, percent_ready: p },
            None => Backpressure::None,
        },
        init: a.random_init.map_or(InitialState::Zeros, InitialState::Random),
        vcd: vcd.clone(),
        mismatch_vcd: a.verify.then_some(mismatch_vcd),
        mismatch_margin: 2,
        reset_after: None,
        extra_writes: fault.iter().map(|f| f.write).collect(),
        early_exit: a.exit.spec(&net)?,
    };
    let bar = crate::progress_bar(
        !a.json && a.steps >= 50,
        a.steps as u64,
        "{spinner} step {pos}/{len} {wide_bar} {per_sec} eta {eta}",
    );
    let r = spikeforge_sim::run(&built, &net, &m, &stim, &opts, &mut |n| {
        if let Some(b) = &bar {
            b.set_position(n as u64);
        }
    })?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if let Some(f) = &a.spikes_out {
        write_file(f, &spikes::spikes_to_csv(&net, &r.spikes))?;
    }
    if let Some(f) = &a.potentials_out {
        write_file(f, &spikes::potentials_to_csv(&net, &r.potentials))?;
    }
    if !a.vcd_all {
        let mismatch = match &r.verdict {
            Verdict::Mismatch(mm) => mm.vcd.as_ref().map(|w| w.path.clone()),
            _ => None,
        };
        for path in vcd.as_ref().map(|w| w.path.clone()).into_iter().chain(mismatch).filter(|p| p.is_file()) {
            spikeforge_sim::vcd::drop_internals(&path).map_err(|e| {
                other(format!("cannot trim {}: {e}", path.display()), Some("pass --vcd-all to keep it whole"))
            })?;
        }
    }
    let equal = !matches!(r.verdict, Verdict::Mismatch(_));
    let shown = Shown {
        net: &net,
        spec: &spec,
        m: &m,
        built: &built,
        build_seconds,
        r: &r,
        fault: fault.as_ref(),
        vcd: vcd.as_ref(),
    };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&shown.json(a)).expect("JSON"));
    } else {
        shown.print(a);
    }
    if let Verdict::Mismatch(mm) = &r.verdict {
        crate::common::print_error(&mm.to_string(), None);
    }
    Ok(Outcome::equal(equal))
}

/// The first divergence as JSON (`sim --json` and `run --json`).
pub(crate) fn mismatch_json(mm: &spikeforge_sim::Mismatch) -> serde_json::Value {
    json!({
        "step": mm.step,
        "core": mm.place.map(|p| p.0),
        "slot": mm.place.map(|p| p.1),
        "neuron": mm.name,
        "what": match &mm.divergence {
            Divergence::Spike { expected, got } => json!({"kind": "spike", "expected": expected, "got": got}),
            Divergence::Repeated { count } => json!({"kind": "repeated", "count": count}),
            Divergence::UnmappedSlot => json!({"kind": "unmapped_slot"}),
            Divergence::Potential { expected, got } => json!({"kind": "potential", "expected": expected, "got": got}),
            Divergence::ErrorFlags(e) => json!({"kind": "error_flags", "flags": e}),
        },
        "vcd": mm.vcd.as_ref().map(|w| json!({"file": w.path.display().to_string(), "first_step": w.first, "last_step": w.last})),
        "message": mm.to_string(),
    })
}

/// What `sim` reports, for printing.
struct Shown<'a> {
    net: &'a spikeforge_net::Network,
    spec: &'a spikeforge_mapper::HardwareSpec,
    m: &'a spikeforge_mapper::Mapping,
    built: &'a spikeforge_sim::Built,
    build_seconds: f64,
    r: &'a spikeforge_sim::SimRun,
    fault: Option<&'a crate::regresscmd::Fault>,
    vcd: Option<&'a VcdWindow>,
}

impl Shown<'_> {
    /// The `--json` report.
    fn json(&self, a: &SimArgs) -> serde_json::Value {
        let Shown { net, spec, built, build_seconds, r, fault, vcd, .. } = *self;
        let equal = !matches!(r.verdict, Verdict::Mismatch(_));
        let steps_done = r.cycles_per_step.len().max(1) as f64;
        let step_cycles: u64 = r.cycles_per_step.iter().sum();
        let max_cycles = r.cycles_per_step.iter().copied().max().unwrap_or(0);
        let cps = r.cycles_per_second();
        let verdict = match &r.verdict {
            Verdict::Unchecked => json!("unchecked"),
            Verdict::Equal => json!("equal"),
            Verdict::Mismatch(_) => json!("mismatch"),
        };
        let mut j = json!({
            "ok": equal,
            "network": net.name(),
            "spec": spec.name,
            "steps": a.steps,
            "steps_run": r.cycles_per_step.len(),
            "early_exit": a.exit.early_exit.map(|e| json!({"margin": e.margin, "patience": e.patience,
                "readout": a.exit.exit_readout, "outputs": a.exit.exit_outputs, "exited_at": r.exited_at})),
            "spikes": r.spikes.len(),
            "spike_list": r.spikes.pairs().map(|(t, n)| json!([t, net.neuron_name(n)])).collect::<Vec<_>>(),
            "cycles_per_step": r.cycles_per_step,
            "cycles": {"load": r.load_cycles, "steps": step_cycles, "total": r.total_cycles,
                       "mean_per_step": step_cycles as f64 / steps_done, "max_per_step": max_cycles},
            "simulated_cycles_per_second": cps,
            "wall_seconds": r.seconds,
            "build_seconds": build_seconds,
            "model_cached": !built.fresh,
            "error_flags": r.errors,
            "verdict": verdict,
        });
        if a.verify {
            j["synaptic_events"] = json!(r.events);
        }
        if let Verdict::Mismatch(mm) = &r.verdict {
            j["mismatch"] = mismatch_json(mm);
        }
        if let Some(f) = &fault {
            j["injected_fault"] = json!({"neuron": f.name, "bias": f.bias});
        }
        if let Some(w) = &vcd {
            j["vcd"] = json!({"file": w.path.display().to_string(), "first_step": w.first, "last_step": w.last});
        }
        j
    }

    /// The text report.
    fn print(&self, a: &SimArgs) {
        let Shown { net, spec, m, built, build_seconds, r, fault, vcd } = *self;
        let steps_done = r.cycles_per_step.len().max(1) as f64;
        let step_cycles: u64 = r.cycles_per_step.iter().sum();
        let max_cycles = r.cycles_per_step.iter().copied().max().unwrap_or(0);
        let cps = r.cycles_per_second();
        println!("network      {} ({})", net.name().unwrap_or("(unnamed)"), a.net.display());
        println!(
            "spec         {} ({} cores, {}), {} cores used",
            spec.name,
            spec.cores(),
            match spec.interconnect {
                spikeforge_mapper::Interconnect::Crossbar => "crossbar",
                spikeforge_mapper::Interconnect::Mesh => "mesh",
            },
            m.report.cores_used
        );
        println!(
            "model        {} ({})",
            if built.fresh { format!("built in {build_seconds:.1} s") } else { "from the cache".to_string() },
            built.dir.display()
        );
        println!("steps        {} run, {} spikes", r.cycles_per_step.len(), r.spikes.len());
        if let Some(e) = a.exit.early_exit {
            let how = match r.exited_at {
                Some(n) => format!("stopped after step {n} of {}", a.steps),
                None => format!("the lead never held; all {} steps ran", a.steps),
            };
            println!(
                "early exit   {how} (lead of {} in the {}s of `{}` for {} step(s))",
                e.margin, a.exit.exit_readout, a.exit.exit_outputs, e.patience
            );
        }
        println!(
            "cycles       {} to load, {:.1} per step on average (max {max_cycles}), {} in total",
            r.load_cycles,
            step_cycles as f64 / steps_done,
            r.total_cycles
        );
        println!("speed        {:.2} M simulated cycles/s", cps / 1e6);
        if let Some(w) = &vcd {
            println!("waveform     steps {}..={} in {}", w.first, w.last, w.path.display());
        }
        if let Some(f) = &fault {
            println!(
                "fault        injected on purpose: bias of {} set to {} after loading (--inject-fault)",
                f.name, f.bias
            );
        }
        if r.errors != 0 {
            println!("error flags  {:#06b} (docs/hardware.md, `errors`)", r.errors);
        }
        match &r.verdict {
        Verdict::Unchecked => println!("verdict      not compared (pass --verify to run golden beside it)"),
        Verdict::Equal => println!(
            "verdict      hardware = golden: spikes and every potential equal after each of {} steps ({} synaptic events)",
            a.steps, r.events
        ),
        Verdict::Mismatch(_) => println!("verdict      MISMATCH (see the report on stderr)"),
    }
    }
}
