//! `spikeforge import` (NIR graph → network file) and `spikeforge export`
//! (network file → NIR graph).

use crate::args::JsonArg;
use crate::common::{check_out_file, load, other, write_file, Command, Failure, Outcome};
use serde_json::json;
use spikeforge_convert::nir::{self, ImportOptions};
use spikeforge_mapper::spec::load_spec;
use std::path::PathBuf;

/// `spikeforge import`'s arguments.
#[derive(clap::Args)]
pub struct ImportArgs {
    /// NIR file (HDF5, as `nir.write` writes it).
    pub model: PathBuf,
    /// Network file to write (.toml or .json).
    #[arg(long)]
    pub out: PathBuf,
    /// Spec preset or file: its bit widths, and the network is mapped onto
    /// it to check that it fits.
    #[arg(long, default_value = "medium")]
    pub spec: String,
    /// Weight bits W (default: the spec's).
    #[arg(long)]
    pub weight_bits: Option<u32>,
    /// Potential bits P (default: the spec's).
    #[arg(long)]
    pub potential_bits: Option<u32>,
    /// Time step in seconds for LIF and LI time constants, when the graph's
    /// metadata has no `dt`.
    #[arg(long, default_value_t = 1e-4)]
    pub dt: f64,
    /// Random input trials for the fidelity check against the graph in
    /// floating point (0: no check).
    #[arg(long, default_value_t = 20)]
    pub trials: usize,
    /// Steps per fidelity trial.
    #[arg(long, default_value_t = 50, value_parser = crate::args::steps_arg)]
    pub steps: u32,
    #[command(flatten)]
    pub output: JsonArg,
}

/// `spikeforge export`'s arguments.
#[derive(clap::Args)]
pub struct ExportArgs {
    /// Network file (.toml or .json).
    pub net: PathBuf,
    /// NIR file to write.
    #[arg(long)]
    pub nir: PathBuf,
    /// Time step in seconds: a leak shift λ becomes τ = dt·2^λ.
    #[arg(long, default_value_t = 1e-4)]
    pub dt: f64,
    #[command(flatten)]
    pub output: JsonArg,
}

/// Refuses an output path whose folder does not exist, before any work.
fn check_dt(dt: f64) -> Result<(), Failure> {
    if !(dt > 0.0 && dt.is_finite()) {
        return Err(other(format!("--dt {dt}: the time step must be a positive number of seconds"), None));
    }
    Ok(())
}

impl Command for ImportArgs {
    fn json(&self) -> bool {
        self.output.json
    }

    fn run(&self) -> Result<Outcome, Failure> {
        check_out_file(&self.out, "--out")?;
        check_dt(self.dt)?;
        let spec = load_spec(&self.spec)?;
        let mut fp = spikeforge_net::doc::FixedPointDoc {
            weight_bits: self.weight_bits.unwrap_or(spec.weight_bits),
            potential_bits: self.potential_bits.unwrap_or(spec.potential_bits),
            accumulator_bits: spec.accumulator_bits,
        };
        if !(1..=16).contains(&fp.weight_bits) {
            return Err(other(format!("--weight-bits {}: weights are 1 to 16 bits", fp.weight_bits), None));
        }
        if !(2..=32).contains(&fp.potential_bits) {
            return Err(other(format!("--potential-bits {}: potentials are 2 to 32 bits", fp.potential_bits), None));
        }
        fp.accumulator_bits = fp.accumulator_bits.max(fp.weight_bits).max(fp.potential_bits);
        let imp = nir::import(&self.model, &ImportOptions { fixed_point: fp, dt: self.dt })?;
        let text = match spikeforge_net::Format::from_path(&self.out.display().to_string()) {
            Some(spikeforge_net::Format::Json) => spikeforge_net::source::to_json(&imp.net),
            _ => spikeforge_net::source::to_toml(&imp.net),
        };
        write_file(&self.out, &text)?;
        let fits = spikeforge_mapper::map(
            &imp.net,
            &spec,
            &spikeforge_mapper::MapOptions::new(spikeforge_mapper::Algorithm::Multilevel),
        );
        let st = imp.net.stats();
        let fidelity = if self.trials > 0 {
            Some(
                imp.fidelity(self.trials, self.steps, 0.3, 1)
                    .map_err(|e| other(format!("fidelity check: {e}"), None))?,
            )
        } else {
            None
        };
        if self.output.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&json!({
                    "ok": true, "model": self.model.display().to_string(), "nir_version": imp.version,
                    "fidelity": fidelity,
                    "dt": imp.dt, "out": self.out.display().to_string(), "neurons": st.neurons,
                    "synapses": st.synapses, "populations": imp.populations, "spec": spec.name,
                    "fits_spec": fits.as_ref().map(|m| m.report.cores_used).ok(),
                    "does_not_fit": fits.as_ref().err().map(|e| e.to_string()),
                }))
                .expect("JSON")
            );
        } else {
            println!(
                "spikeforge import: {} (NIR {}, dt {} s) -> {}: {} neurons, {} synapses",
                self.model.display(),
                imp.version,
                imp.dt,
                self.out.display(),
                st.neurons,
                st.synapses
            );
            println!(
                "  {:<16} {:<9} {:>7} {:>9} {:>7} {:>10} {:>8} {:>6} {:>8} {:>6} {:>8} {:>7}",
                "population",
                "NIR type",
                "neurons",
                "synapses",
                "dropped",
                "scale",
                "w err",
                "leak λ",
                "λ err",
                "k_syn",
                "k err",
                "latency"
            );
            for p in &imp.populations {
                println!(
                    "  {:<16} {:<9} {:>7} {:>9} {:>7} {:>10.4} {:>7.2}% {:>6} {:>7.2}% {:>6} {:>7.2}% {:>7}{}{}",
                    p.name,
                    p.kind,
                    p.neurons,
                    p.synapses,
                    p.dropped,
                    p.scale,
                    100.0 * p.weight_error,
                    p.leak_shift.map_or("-".to_string(), |l| l.to_string()),
                    100.0 * p.leak_error,
                    p.syn_shift.map_or("-".to_string(), |l| l.to_string()),
                    100.0 * p.syn_error,
                    p.latency,
                    if p.output { "  output" } else { "" },
                    if p.mixed_latency { "  (sources at different depths)" } else { "" },
                );
            }
            println!(
                "  latency: a population spikes `latency` steps after the zero-delay NIR graph (one step per synapse)"
            );
            if let Some(f) = &fidelity {
                println!(
                    "  fidelity against the graph in floating point, {} random inputs of {} steps: spike agreement \
                     {:.2}%, class agreement {:.1}% (output spikes per trial: {:.1} here, {:.1} in floating point)",
                    f.trials,
                    f.steps,
                    100.0 * f.spike_agreement,
                    100.0 * f.class_agreement,
                    f.golden_spikes,
                    f.float_spikes
                );
            }
            match &fits {
                Ok(m) => println!("  fits `{}`: {} of {} cores", spec.name, m.report.cores_used, spec.cores()),
                Err(e) => println!("  does not fit `{}`: {e}", spec.name),
            }
        }
        Ok(Outcome::Done)
    }
}

impl Command for ExportArgs {
    fn json(&self) -> bool {
        self.output.json
    }

    fn run(&self) -> Result<Outcome, Failure> {
        check_out_file(&self.nir, "--nir")?;
        check_dt(self.dt)?;
        let net = load(&self.net)?;
        nir::export(&net, &self.nir, self.dt)?;
        let st = net.stats();
        if self.output.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&json!({
                    "ok": true, "net": self.net.display().to_string(), "nir": self.nir.display().to_string(),
                    "nir_version": nir::NIR_VERSION, "dt": self.dt, "neurons": st.neurons, "synapses": st.synapses,
                }))
                .expect("JSON")
            );
        } else {
            println!(
                "spikeforge export: {} -> {} (NIR {}, dt {} s): {} neurons, {} synapses",
                self.net.display(),
                self.nir.display(),
                nir::NIR_VERSION,
                self.dt,
                st.neurons,
                st.synapses
            );
        }
        Ok(Outcome::Done)
    }
}
