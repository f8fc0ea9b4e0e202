//! `spikeforge hdl`: writes the Verilog of a spec, optionally preloaded with
//! a mapping, and reports its iCE40 resources.

use crate::args::{JsonArg, SpecArg};
use crate::common::{check_out_dir, other, write_file, Command, Failure, Outcome};
use clap::Args;
use serde_json::json;
use spikeforge_hdl::{emit::VerilogFile, tools};
use spikeforge_hw::memory::MemoryBits;
use spikeforge_mapper::spec::load_spec;
use spikeforge_mapper::Mapping;
use spikeforge_net::FileErrors;
use std::path::{Path, PathBuf};

/// Top-level ports of the emitted top module: (name, direction, width),
/// read with the contract's parser (they equal `spikeforge_hw::ports::PORTS`
/// plus the clock, which a test of the RTL checks).
fn ports(top: &VerilogFile) -> Vec<(String, &'static str, usize)> {
    use spikeforge_hw::ports::{parse_verilog_ports, Dir};
    parse_verilog_ports(&top.text, &top.module)
        .into_iter()
        .map(|(name, dir, width)| (name, if dir == Dir::In { "input" } else { "output" }, width))
        .collect()
}

/// `spikeforge hdl`'s arguments.
#[derive(Args)]
pub struct HdlArgs {
    #[command(flatten)]
    pub spec: SpecArg,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
    /// Folder written by `spikeforge map --out`: the design boots with that network.
    #[arg(long)]
    pub mapping: Option<PathBuf>,
    /// Synthesize with yosys (synth_ice40) and print the resources.
    #[arg(long)]
    pub report: bool,
    #[command(flatten)]
    pub output: JsonArg,
}

impl Command for HdlArgs {
    fn json(&self) -> bool {
        self.output.json
    }

    fn run(&self) -> Result<Outcome, Failure> {
        check_out_dir(&self.out, "--out")?;
        hdl(&self.spec.spec, &self.out, self.mapping.as_deref(), self.report, self.output.json)
    }
}

/// Neuron count per core from a `spikeforge map --out` folder made for `spec`.
/// The neuron counts of a mapping folder and the bits of network state it holds.
fn mapping_counts(dir: &Path, spec: &spikeforge_mapper::HardwareSpec) -> Result<(Vec<u32>, u64), Failure> {
    let loaded = Mapping::load(dir)?;
    loaded.expect_spec(spec, dir)?;
    Ok((loaded.neuron_counts(), loaded.images.state_bits(spec)))
}

/// Memory efficiency lines: what the design instantiates, the network's
/// state in it, and its share of the block RAM Yosys used.
fn memory_lines(bits: MemoryBits, state: Option<u64>, brams: Option<u64>) -> Vec<String> {
    let kb = |b: u64| format!("{:.1} kbit", b as f64 / 1024.0);
    let pct = |a: u64, b: u64| if b > 0 { format!("{:.1}%", 100.0 * a as f64 / b as f64) } else { "-".into() };
    let mut out = vec![format!(
        "memory       {} instantiated: {} loaded with the network, {} of accumulators",
        kb(bits.total()),
        kb(bits.loaded),
        kb(bits.accumulators)
    )];
    match state {
        Some(st) => {
            let mut line = format!("efficiency   {} of network state: {} of the memory", kb(st), pct(st, bits.total()));
            if let Some(b) = brams {
                let physical = b * spikeforge_hdl::tools::ICE40_BRAM_BITS;
                line += &format!(", {} of the {} in block RAM", pct(st, physical), kb(physical));
            }
            out.push(line);
        }
        None => out.push("efficiency   give --mapping to measure the network state against the memory".into()),
    }
    out
}

fn hdl(spec_arg: &str, out: &Path, mapping: Option<&Path>, report: bool, json: bool) -> Result<Outcome, Failure> {
    let spec = load_spec(spec_arg)?;
    let (counts, state) = match mapping {
        Some(d) => {
            let (c, s) = mapping_counts(d, &spec)?;
            (Some(c), Some(s))
        }
        None => (None, None),
    };
    let bits = MemoryBits::of(&spec);
    let files = spikeforge_hdl::design(&spec, counts.as_deref());
    let top = files.iter().find(|f| f.module.ends_with("_top")).expect("the design has a top").clone();
    std::fs::create_dir_all(out).map_err(|e| other(format!("cannot create {}: {e}", out.display()), None))?;
    let mut paths: Vec<PathBuf> = Vec::new();
    for f in &files {
        let p = out.join(format!("{}.v", f.module));
        write_file(&p, &f.text)?;
        paths.push(PathBuf::from(format!("{}.v", f.module)));
    }
    let list: String = paths.iter().map(|p| format!("{}\n", p.display())).collect();
    write_file(&out.join("files.f"), &list)?;
    write_file(&out.join("verilator.vlt"), spikeforge_hdl::VERILATOR_WAIVERS)?;
    let mut copied = 0;
    if let Some(d) = mapping {
        let entries = std::fs::read_dir(d).map_err(|e| other(format!("cannot read {}: {e}", d.display()), None))?;
        let mut hex: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "hex"))
            .collect();
        hex.sort();
        for h in hex {
            let name = h.file_name().expect("a file").to_owned();
            // Read through the bounded reader: a `.hex` that is a FIFO or a
            // link to a device is refused instead of copied forever.
            let bytes = spikeforge_net::input::read_input(&h, "memory image").map_err(FileErrors::from)?;
            std::fs::write(out.join(&name), bytes)
                .map_err(|e| other(format!("cannot write {}: {e}", out.join(&name).display()), None))?;
            copied += 1;
        }
    }
    let port_list = ports(&top);
    let manifest = json!({
        "top": top.module,
        "spec": spec,
        "preloaded": mapping.is_some(),
        "ports": port_list.iter().map(|(n, d, w)| json!({"name": n, "direction": d, "width": w})).collect::<Vec<_>>(),
        "protocol": "docs/hardware.md, section Top-level ports",
        "verilator_config": "verilator.vlt",
    });
    write_file(&out.join("manifest.json"), &(serde_json::to_string_pretty(&manifest).expect("JSON") + "\n"))?;
    let resources = if report {
        let r = tools::yosys_ice40(out, &paths, &top.module)?;
        Some(r)
    } else {
        None
    };
    if json {
        let mut j = json!({"ok": true, "top": top.module, "files": files.len(), "hex_files": copied, "out": out.display().to_string()});
        j["memory"] = json!({"loaded_bits": bits.loaded, "accumulator_bits": bits.accumulators, "state_bits": state});
        if let (Some(st), true) = (state, bits.total() > 0) {
            j["memory"]["efficiency"] = json!(st as f64 / bits.total() as f64);
        }
        if let Some(r) = &resources {
            j["ice40"] = json!({"luts": r.luts, "flip_flops": r.flip_flops, "brams": r.brams, "carries": r.carries});
            if let Some(st) = state {
                j["ice40"]["bram_efficiency"] =
                    json!(st as f64 / (r.brams.max(1) * spikeforge_hdl::tools::ICE40_BRAM_BITS) as f64);
            }
        }
        println!("{}", serde_json::to_string_pretty(&j).expect("JSON"));
    } else {
        println!("spec         {} ({} cores)", spec.name, spec.cores());
        println!(
            "interconnect {}",
            match spec.interconnect {
                spikeforge_mapper::Interconnect::Mesh =>
                    format!("{}x{} mesh of routers, XY routing", spec.mesh_width, spec.mesh_height),
                spikeforge_mapper::Interconnect::Crossbar => "crossbar, one packet per core input per clock".into(),
            }
        );
        println!("top module   {}", top.module);
        println!(
            "files        {} Verilog files, files.f, verilator.vlt, manifest.json in {}",
            files.len(),
            out.display()
        );
        if mapping.is_some() {
            println!("preloaded    {copied} memory image files ($readmemh); neuron counts from mapping.json");
        }
        if let Some(r) = &resources {
            println!(
                "iCE40        {} SB_LUT4, {} flip-flops, {} SB_RAM40_4K, {} SB_CARRY (yosys synth_ice40)",
                r.luts, r.flip_flops, r.brams, r.carries
            );
        }
        for line in memory_lines(bits, state, resources.as_ref().map(|r| r.brams)) {
            println!("{line}");
        }
    }
    Ok(Outcome::Done)
}
