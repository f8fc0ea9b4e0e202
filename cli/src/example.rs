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
    // Map onto the tiny spec and run the architectural model on the images.
    let spec = spikeforge_mapper::HardwareSpec::preset("tiny").expect("preset");
    let mapping = spikeforge_mapper::map(
        &run.net,
        &spec,
        &spikeforge_mapper::MapOptions::new(spikeforge_mapper::Algorithm::Multilevel),
    )
    .map_err(|e| other(format!("internal error (please report): the default example does not map: {e}"), None))?;
    let arch = mapping
        .run_arch(&spikeforge_net::Stimulus::from_list(&stim), STEPS)
        .map_err(|e| other(format!("internal error (please report): {e}"), None))?;
    let arch_ok = arch.spikes == run.result.spikes && arch.potentials == run.result.potentials;
    // The generated Verilog of `tiny`, cycle-accurate under Verilator, in
    // lockstep with golden (spikes and every potential after each step).
    let t0 = std::time::Instant::now();
    let built = spikeforge_sim::build(&spec).map_err(|e| other(e.to_string(), None))?;
    let build_s = t0.elapsed().as_secs_f64();
    let mut opts = spikeforge_sim::RunOptions::verified(STEPS);
    opts.potentials_every_step = true;
    let cosim = spikeforge_sim::run(
        &built,
        &run.net,
        &mapping,
        &spikeforge_net::Stimulus::from_list(&stim),
        &opts,
        &mut |_| {},
    )
    .map_err(|e| other(e.to_string(), None))?;
    let hw_ok = cosim.verdict == spikeforge_sim::Verdict::Equal && cosim.spikes == run.result.spikes;
    let step_cycles: u64 = cosim.cycles_per_step.iter().sum();
    if let Some(dir) = out {
        std::fs::create_dir_all(dir).map_err(|e| other(format!("cannot create {}: {e}", dir.display()), None))?;
        write_file(&dir.join("net.toml"), NET)?;
        write_file(&dir.join("stimulus.csv"), STIMULUS)?;
        write_file(&dir.join("spikes.csv"), &got)?;
        write_file(&dir.join("potentials.csv"), &spikes::potentials_to_csv(&run.net, &run.result.potentials))?;
        let images = dir.join("images");
        std::fs::create_dir_all(&images)
            .map_err(|e| other(format!("cannot create {}: {e}", images.display()), None))?;
        for (name, text) in mapping.files(&run.net) {
            write_file(&images.join(name), &text)?;
        }
        // A board project for the iCEBreaker (`make` in it builds the bitstream).
        let board = spikeforge_fpga::board("icebreaker").expect("a known board");
        let fpga_map = spikeforge_mapper::map(
            &run.net,
            &spikeforge_mapper::HardwareSpec::preset(board.spec).expect("preset"),
            &spikeforge_mapper::MapOptions::new(spikeforge_mapper::Algorithm::Multilevel),
        )
        .map_err(|e| other(format!("internal error (please report): the default example does not map: {e}"), None))?;
        let fpga_dir = dir.join("fpga-icebreaker");
        std::fs::create_dir_all(&fpga_dir)
            .map_err(|e| other(format!("cannot create {}: {e}", fpga_dir.display()), None))?;
        for (name, text) in spikeforge_fpga::project::files(board, &run.net, &fpga_map) {
            write_file(&fpga_dir.join(name), &text)?;
        }
    }
    if json {
        let mut j = run.json();
        j["example"] = json!(NET_NAME);
        j["matches_reference"] = json!(matches);
        j["ok"] = json!(matches && arch_ok && hw_ok);
        j["mapping"] = json!({"spec": "tiny", "cores_used": mapping.report.cores_used, "arch_equals_golden": arch_ok});
        j["cosim"] = json!({
            "simulator": "verilator",
            "hardware_equals_golden": hw_ok,
            "cycles_per_step": cosim.cycles_per_step,
            "load_cycles": cosim.load_cycles,
            "model_cached": !built.fresh,
            "build_seconds": build_s,
        });
        println!("{}", serde_json::to_string_pretty(&j).expect("JSON"));
    } else {
        println!(
            "spikeforge demo: golden model, mapping and hardware co-simulation of the built-in example {NET_NAME}"
        );
        run.print();
        println!(
            "reference    {}",
            if matches {
                "spikes equal the independent reference (examples/reference.py)"
            } else {
                "MISMATCH with the reference"
            }
        );
        println!(
            "mapping      spec `tiny`: {} core(s); architectural model on the memory images {}",
            mapping.report.cores_used,
            if arch_ok { "equals golden, spike for spike" } else { "DIFFERS from golden" }
        );
        println!(
            "hardware     Verilog of `tiny` under Verilator ({}): {}; {} clock cycles for {} steps ({:.1} per step), {} to load the network",
            if built.fresh { format!("model built in {build_s:.1} s") } else { "cached model".into() },
            if hw_ok {
                "equals golden after every step (spikes and all potentials)".to_string()
            } else {
                match &cosim.verdict {
                    spikeforge_sim::Verdict::Mismatch(m) => format!("DIFFERS: {m}"),
                    _ => "DIFFERS from golden".into(),
                }
            },
            step_cycles,
            STEPS,
            step_cycles as f64 / STEPS as f64,
            cosim.load_cycles
        );
        if let Some(dir) = out {
            println!("files        {} (network, spikes, memory images, fpga-icebreaker/ board project)", dir.display());
        }
    }
    if !hw_ok {
        return Err(other("the Verilator model of the hardware disagrees with the golden model (internal bug)", None));
    }
    if !arch_ok {
        return Err(other("the architectural model disagrees with the golden model (internal bug)", None));
    }
    if matches {
        Ok(())
    } else {
        Err(other("the golden model disagrees with the checked-in reference spikes (internal bug)", None))
    }
}
