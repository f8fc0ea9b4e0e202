//! `spikeforge check` (validate a network file and summarize it) and
//! `spikeforge schema` (the JSON Schema of the network file format).

use crate::args::{JsonArg, NetArg};
use crate::common::{load, Command, Failure, Outcome};
use clap::Args;
use serde_json::json;

/// `spikeforge check`'s arguments.
#[derive(Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub net: NetArg,
    #[command(flatten)]
    pub output: JsonArg,
}

/// `spikeforge schema` has no arguments.
#[derive(Args)]
pub struct SchemaArgs {
    /// Accepted for uniformity: the schema is JSON either way.
    #[command(flatten)]
    pub output: JsonArg,
}

impl Command for SchemaArgs {
    fn json(&self) -> bool {
        self.output.json
    }

    fn run(&self) -> Result<Outcome, Failure> {
        println!("{}", serde_json::to_string_pretty(&spikeforge_net::json_schema()).expect("schema is JSON"));
        Ok(Outcome::Done)
    }
}

impl Command for CheckArgs {
    fn json(&self) -> bool {
        self.output.json
    }

    fn run(&self) -> Result<Outcome, Failure> {
        check(self)
    }
}

fn check(a: &CheckArgs) -> Result<Outcome, Failure> {
    let path = &a.net.net;
    let net = load(path)?;
    let st = net.stats();
    let fp = net.fixed_point();
    if a.output.json {
        let pops: Vec<_> = net
            .populations()
            .iter()
            .map(|p| json!({"name": p.name(), "size": p.size(), "input": p.is_input(), "output": p.is_output()}))
            .collect();
        let report = json!({
            "ok": true,
            "file": path.display().to_string(),
            "name": net.name(),
            "fixed_point": {"weight_bits": fp.weight_bits, "potential_bits": fp.potential_bits, "accumulator_bits": fp.accumulator_bits},
            "populations": pops,
            "projections": net.projections().len(),
            "stats": st,
        });
        println!("{}", serde_json::to_string_pretty(&report).expect("JSON"));
        return Ok(Outcome::Done);
    }
    println!("{}: valid", path.display());
    println!(
        "network      {}  (W = {} bits, P = {} bits, accumulator {} bits)",
        net.name().unwrap_or("(unnamed)"),
        fp.weight_bits,
        fp.potential_bits,
        fp.accumulator_bits
    );
    println!("populations  {}", net.populations().len());
    for p in net.populations() {
        println!(
            "  {:<20} {:>9} {}{}",
            p.name(),
            p.size(),
            if p.is_input() { "input" } else { "neuron" },
            if p.is_output() { ", output" } else { "" }
        );
    }
    println!("neurons      {} ({} input)", st.neurons, st.input_neurons);
    println!("synapses     {} in {} projections", st.synapses, net.projections().len());
    println!("fan-in max   {}", st.max_fan_in);
    println!("fan-out max  {}", st.max_fan_out);
    println!(
        "accumulator  bound {} (needs {} of {} bits)",
        st.accumulator_bound, st.accumulator_bits_needed, fp.accumulator_bits
    );
    Ok(Outcome::Done)
}
