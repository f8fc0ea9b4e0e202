//! The built-in default example and the `demo` command (the README's main
//! job). The example's files are compiled in, so `spikeforge demo` works from
//! any directory; they are the same files as `examples/feedforward/`.

use crate::{other, run_golden, write_file, Failure};
use serde_json::json;
use spikeforge_net::{spikes, Format, SpikeFileKind};
use std::path::Path;

/// Network of the default example.
pub const NET: &str = include_str!("../../examples/feedforward/net.toml");
/// Its stimulus.
pub const STIMULUS: &str = include_str!("../../examples/feedforward/stimulus.csv");
/// Spikes the independent reference computed for it.
pub const EXPECTED: &str = include_str!("../../examples/feedforward/expected.csv");
/// Steps the expected file covers.
pub const STEPS: u32 = 10;

const NET_NAME: &str = "examples/feedforward/net.toml";

pub fn demo(json: bool, out: Option<&Path>) -> Result<(), Failure> {
    let net = spikeforge_net::parse_network(NET_NAME, NET.to_string(), Format::Toml)?;
    let stim =
        spikes::parse_spikes(&net, "examples/feedforward/stimulus.csv", STIMULUS.to_string(), SpikeFileKind::Stimulus)?;
    let run = run_golden(net, &stim, STEPS)?;
    let got = spikes::spikes_to_csv(&run.net, &run.result.spikes);
    let matches = got == EXPECTED;
    if let Some(dir) = out {
        std::fs::create_dir_all(dir).map_err(|e| other(format!("cannot create {}: {e}", dir.display()), None))?;
        write_file(&dir.join("net.toml"), NET)?;
        write_file(&dir.join("stimulus.csv"), STIMULUS)?;
        write_file(&dir.join("spikes.csv"), &got)?;
        write_file(&dir.join("potentials.csv"), &spikes::potentials_to_csv(&run.net, &run.result.potentials))?;
    }
    if json {
        let mut j = run.json();
        j["ok"] = json!(matches);
        j["example"] = json!(NET_NAME);
        j["matches_reference"] = json!(matches);
        println!("{}", serde_json::to_string_pretty(&j).expect("JSON"));
    } else {
        println!("spikeforge demo: golden model on the built-in example {NET_NAME}");
        run.print();
        println!(
            "reference    {}",
            if matches {
                "spikes equal the independent reference (examples/reference.py)"
            } else {
                "MISMATCH with the reference"
            }
        );
        if let Some(dir) = out {
            println!("files        {}", dir.display());
        }
    }
    if matches {
        Ok(())
    } else {
        Err(other("the golden model disagrees with the checked-in reference spikes (internal bug)", None))
    }
}
