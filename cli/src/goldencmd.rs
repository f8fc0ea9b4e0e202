//! `spikeforge golden`: runs the bit-exact golden model; [`run_golden`] and
//! its report are shared with `demo`.

use crate::args::{JsonArg, NetArg, RunInputs};
use crate::common::{check_out_file, load, load_stimulus_list, write_file, Command, Failure, Internal, Outcome};
use clap::Args;
use serde_json::json;
use spikeforge_golden::GoldenError;
use spikeforge_net::{spikes, Network, SpikeTrain, Stimulus};
use std::path::PathBuf;
use std::time::Instant;

/// `spikeforge golden`'s arguments.
#[derive(Args)]
pub struct GoldenArgs {
    #[command(flatten)]
    pub net: NetArg,
    #[command(flatten)]
    pub inputs: RunInputs,
    /// Write every computed spike here (CSV).
    #[arg(long)]
    pub spikes_out: Option<PathBuf>,
    /// Write the potentials after the last step here (CSV).
    #[arg(long)]
    pub potentials_out: Option<PathBuf>,
    #[command(flatten)]
    pub output: JsonArg,
}

impl Command for GoldenArgs {
    fn json(&self) -> bool {
        self.output.json
    }

    fn run(&self) -> Result<Outcome, Failure> {
        for (flag, path) in [("--spikes-out", &self.spikes_out), ("--potentials-out", &self.potentials_out)] {
            if let Some(p) = path {
                check_out_file(p, flag)?;
            }
        }
        golden(self)
    }
}

/// A golden run and what it took.
pub struct GoldenRun {
    /// The network run.
    pub net: Network,
    /// Spikes, final potentials and synaptic events.
    pub result: spikeforge_golden::RunResult,
    /// Steps run.
    pub steps: u32,
    /// Wall time of the run.
    pub seconds: f64,
}

/// Runs the golden model for `steps` steps; a stimulus past the run is
/// the input's fault, any other refusal a bug.
pub fn run_golden(net: Network, stimulus: &SpikeTrain, steps: u32) -> Result<GoldenRun, Failure> {
    // Checked before indexing: the index has one entry per step.
    if stimulus.step_span() > steps {
        return Err(GoldenError::StimulusBeyondRun { last: stimulus.step_span() - 1, steps }.into());
    }
    let stim = Stimulus::from_train(stimulus);
    let t0 = Instant::now();
    let result = spikeforge_golden::run(&net, &stim, steps).map_err(|e| match e {
        e @ GoldenError::StimulusBeyondRun { .. } => Failure::from(e),
        e => Internal(e).into(),
    })?;
    Ok(GoldenRun { net, result, steps, seconds: t0.elapsed().as_secs_f64() })
}

impl GoldenRun {
    /// Spikes per computed population.
    pub fn population_spikes(&self) -> Vec<(String, u64)> {
        let mut counts = vec![0u64; self.net.populations().len()];
        for s in &self.result.spikes {
            counts[self.net.locate(s.neuron).expect("spike of a known neuron").0] += 1;
        }
        self.net
            .populations()
            .iter()
            .zip(counts)
            .filter(|(p, _)| !p.is_input())
            .map(|(p, c)| (p.name().to_string(), c))
            .collect()
    }

    /// Spikes per neuron of every output population.
    pub fn output_counts(&self) -> Vec<(String, Vec<u64>)> {
        let per = self.result.spikes.counts(self.net.neuron_count() as usize);
        self.net
            .populations()
            .iter()
            .filter(|p| p.is_output())
            .map(|p| (p.name().to_string(), p.ids().map(|i| per[i as usize]).collect()))
            .collect()
    }

    /// The report as JSON (without `ok`).
    pub fn json(&self) -> serde_json::Value {
        json!({
            "network": self.net.name(),
            "steps": self.steps,
            "spikes": self.result.spikes.len(),
            "synaptic_events": self.result.events,
            "populations": self.population_spikes().into_iter().map(|(n, c)| json!({"name": n, "spikes": c})).collect::<Vec<_>>(),
            "outputs": self.output_counts().into_iter().map(|(n, c)| json!({"population": n, "counts": c})).collect::<Vec<_>>(),
            "seconds": self.seconds,
        })
    }

    /// The report as text on stdout.
    pub fn print(&self) {
        println!("steps        {}", self.steps);
        let per: Vec<String> = self.population_spikes().iter().map(|(n, c)| format!("{n}: {c}")).collect();
        println!("spikes       {} ({})", self.result.spikes.len(), per.join(", "));
        println!("events       {} synaptic events", self.result.events);
        for (name, counts) in self.output_counts() {
            let shown: Vec<String> = counts.iter().take(32).map(u64::to_string).collect();
            let more = if counts.len() > 32 { format!(" … ({} neurons)", counts.len()) } else { String::new() };
            println!("output       {name}: [{}]{more} spikes per neuron", shown.join(", "));
        }
        let rate = if self.seconds > 0.0 { self.result.events as f64 / self.seconds } else { 0.0 };
        println!("time         {:.3} ms ({:.1} M events/s)", self.seconds * 1e3, rate / 1e6);
    }
}

fn golden(a: &GoldenArgs) -> Result<Outcome, Failure> {
    let path = &a.net.net;
    let net = load(path)?;
    let stim = load_stimulus_list(&net, a.inputs.stimulus.as_deref(), a.inputs.steps)?;
    let run = run_golden(net, &stim, a.inputs.steps)?;
    if let Some(f) = &a.spikes_out {
        write_file(f, &spikes::spikes_to_csv(&run.net, &run.result.spikes))?;
    }
    if let Some(f) = &a.potentials_out {
        write_file(f, &spikes::potentials_to_csv(&run.net, &run.result.potentials))?;
    }
    if a.output.json {
        let mut j = run.json();
        j["ok"] = json!(true);
        println!("{}", serde_json::to_string_pretty(&j).expect("JSON"));
    } else {
        println!("network      {} ({})", run.net.name().unwrap_or("(unnamed)"), path.display());
        run.print();
    }
    Ok(Outcome::Done)
}
