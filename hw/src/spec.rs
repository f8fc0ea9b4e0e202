//! The hardware spec: what the generated RTL is built for.
//!
//! A spec fixes the number of cores and every per-core memory size, the bit
//! widths and the interconnect; a network is then data loaded into those
//! memories. Specs are TOML files (docs/hardware.md) or named presets.

use serde::{Deserialize, Serialize};
use spikeforge_net::diag::{Diag, FileErrors};
use std::sync::Arc;

/// How cores exchange spike packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Interconnect {
    /// Every core reaches every core in one hop (a few cores).
    Crossbar,
    /// 2-D mesh with XY routing; hops = Manhattan distance.
    Mesh,
}

/// A hardware spec, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HardwareSpec {
    /// Name used in reports and generated file names.
    pub name: String,
    /// Mesh width (cores in x).
    pub mesh_width: u32,
    /// Mesh height (cores in y).
    pub mesh_height: u32,
    /// N: neuron slots per core.
    pub neurons_per_core: u32,
    /// A: axon table entries per core (distinct presynaptic sources).
    pub axons_per_core: u32,
    /// S: synapse memory entries per core.
    pub synapses_per_core: u32,
    /// R: routing entries per core (one per (neuron, destination core)).
    pub routes_per_core: u32,
    /// K: entries of a core's parameter-set table (distinct (threshold,
    /// v_min, leak, reset, output) tuples among the core's neurons).
    #[serde(default = "default_param_sets")]
    pub param_sets_per_core: u32,
    /// Input neurons the host interface can drive.
    pub input_neurons: u32,
    /// Entries of the host interface's input routing table.
    pub input_routes: u32,
    /// W.
    pub weight_bits: u32,
    /// P.
    pub potential_bits: u32,
    /// Accumulator width in the cores.
    pub accumulator_bits: u32,
    /// Interconnect kind.
    pub interconnect: Interconnect,
    /// Synapse memory as a single-port memory (one address for reads and
    /// configuration writes): the shape of the iCE40 UP5K's SB_SPRAM256KA.
    /// Such a memory has no initial contents in a bitstream, so a board
    /// design boots with empty synapses and the host loads the network
    /// over the configuration port. Absent in a spec file: `false`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub single_port_synapses: bool,
    /// Cores keep a synaptic current per neuron slot, for current-based
    /// populations (docs/format.md): the potential memory grows from P to
    /// P + accumulator bits per slot and every parameter set gains the
    /// decay shift k_syn. Absent in a spec file: `false`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub current_state: bool,
}

/// Bits of a potential-memory word with a synaptic current beside the
/// potential (P + accumulator bits) that the cores' datapath carries.
pub const MAX_STATE_BITS: u32 = 40;

/// K of a spec file that does not give `param_sets_per_core`.
pub const DEFAULT_PARAM_SETS: u32 = 16;

fn default_param_sets() -> u32 {
    DEFAULT_PARAM_SETS
}

/// Built-in presets, smallest first.
pub const PRESETS: &[&str] = &["tiny", "ice40", "up5k", "medium", "ecp5", "large"];

impl HardwareSpec {
    /// A named preset.
    pub fn preset(name: &str) -> Option<HardwareSpec> {
        let base = HardwareSpec {
            name: name.to_string(),
            mesh_width: 2,
            mesh_height: 2,
            neurons_per_core: 16,
            axons_per_core: 32,
            synapses_per_core: 128,
            routes_per_core: 64,
            param_sets_per_core: DEFAULT_PARAM_SETS,
            input_neurons: 64,
            input_routes: 128,
            weight_bits: 8,
            potential_bits: 16,
            accumulator_bits: 24,
            interconnect: Interconnect::Crossbar,
            single_port_synapses: false,
            current_state: false,
        };
        match name {
            // Small enough for fast RTL simulation in tests.
            "tiny" => Some(base),
            // One core that fits an iCE40 UP5K (30 block RAMs, 5280 logic
            // cells) or HX8K with the UART bridge: dense rows put the demo's
            // digits network (2,339 synapses) in 1,184 of its 2,048 synapse
            // words; every memory is a few block RAMs deep, the parameter-set
            // table (4 entries) sits in flip-flops (docs/hardware.md).
            "ice40" => Some(HardwareSpec {
                mesh_width: 1,
                mesh_height: 1,
                neurons_per_core: 128,
                axons_per_core: 256,
                synapses_per_core: 2048,
                routes_per_core: 128,
                param_sets_per_core: 4,
                input_neurons: 256,
                input_routes: 256,
                ..base
            }),
            // One core for the iCE40 UP5K with its synapse rows in the four
            // SB_SPRAM256KA (64K words of 2 × 8-bit weights: the shipped
            // Fashion-MNIST MLP, 98,583 synapses); the rest in block RAM
            // (docs/hardware.md). SPRAM has no bitstream contents, so the
            // host loads the network over the UART.
            "up5k" => Some(HardwareSpec {
                mesh_width: 1,
                mesh_height: 1,
                neurons_per_core: 256,
                axons_per_core: 1024,
                synapses_per_core: 65536,
                routes_per_core: 256,
                param_sets_per_core: 4,
                input_neurons: 1024,
                input_routes: 1024,
                single_port_synapses: true,
                ..base
            }),
            // Four mid-sized cores (bigger FPGAs; the co-simulation benchmark).
            "medium" => Some(HardwareSpec {
                neurons_per_core: 64,
                axons_per_core: 128,
                synapses_per_core: 1024,
                routes_per_core: 256,
                input_neurons: 256,
                input_routes: 512,
                ..base
            }),
            // Four cores that hold the shipped Fashion-MNIST CNN (1,642
            // neurons, 128k synapses) on an ECP5-85F (ULX3S): 178 of its 208
            // DP16KD block RAMs by yosys' estimate (docs/benchmarks.md).
            "ecp5" => Some(HardwareSpec {
                neurons_per_core: 1024,
                axons_per_core: 2048,
                synapses_per_core: 28672,
                routes_per_core: 2048,
                param_sets_per_core: 4,
                input_neurons: 1024,
                input_routes: 4096,
                ..base
            }),
            // A 8x8 mesh for large networks (ASIC-scale or big FPGAs).
            "large" => Some(HardwareSpec {
                mesh_width: 8,
                mesh_height: 8,
                neurons_per_core: 1024,
                axons_per_core: 4096,
                synapses_per_core: 65536,
                routes_per_core: 4096,
                param_sets_per_core: 64,
                input_neurons: 65536,
                input_routes: 262144,
                interconnect: Interconnect::Mesh,
                ..base
            }),
            _ => None,
        }
    }

    /// Synapse memory banks per core: 2 with `single_port_synapses` (two
    /// interleaved single-port memories, even and odd addresses, so two
    /// rows of the same shape are read in the same clock: "twin rows",
    /// docs/hardware.md), else 1. A one-word synapse memory has one bank.
    pub fn synapse_banks(&self) -> u32 {
        if self.single_port_synapses && self.synapses_per_core >= 2 {
            2
        } else {
            1
        }
    }

    /// Number of cores.
    pub fn cores(&self) -> u32 {
        self.mesh_width * self.mesh_height
    }

    /// Mesh position of a core id (row-major).
    pub fn position(&self, core: u32) -> (u32, u32) {
        (core % self.mesh_width, core / self.mesh_width)
    }

    /// Hops between two cores: 1 on a crossbar (0 to itself), Manhattan distance on a mesh.
    pub fn hops(&self, a: u32, b: u32) -> u32 {
        if a == b {
            return 0;
        }
        match self.interconnect {
            Interconnect::Crossbar => 1,
            Interconnect::Mesh => {
                let ((ax, ay), (bx, by)) = (self.position(a), self.position(b));
                ax.abs_diff(bx) + ay.abs_diff(by)
            }
        }
    }

    /// Hops from the host port (attached west of core 0) to a core.
    pub fn host_hops(&self, core: u32) -> u32 {
        match self.interconnect {
            Interconnect::Crossbar => 1,
            Interconnect::Mesh => {
                let (x, y) = self.position(core);
                x + y + 1
            }
        }
    }

    /// Checks internal consistency; returns (field, problem, fix) triples.
    pub fn problems(&self) -> Vec<(&'static str, String, String)> {
        let mut out = Vec::new();
        let mut range = |field: &'static str, v: u32, lo: u32, hi: u32| {
            if !(lo..=hi).contains(&v) {
                out.push((
                    field,
                    format!("{field} = {v} is outside {lo}..={hi}"),
                    format!("set {field} to a value in {lo}..={hi}"),
                ));
            }
        };
        range("mesh_width", self.mesh_width, 1, 64);
        range("mesh_height", self.mesh_height, 1, 64);
        range("neurons_per_core", self.neurons_per_core, 1, 1 << 16);
        range("axons_per_core", self.axons_per_core, 1, 1 << 20);
        range("synapses_per_core", self.synapses_per_core, 1, 1 << 24);
        range("routes_per_core", self.routes_per_core, 1, 1 << 20);
        range("param_sets_per_core", self.param_sets_per_core, 1, 1 << 16);
        range("input_neurons", self.input_neurons, 0, 1 << crate::ports::SLOT_BITS);
        range("input_routes", self.input_routes, 0, 1 << 26);
        range("weight_bits", self.weight_bits, 1, 16);
        range("potential_bits", self.potential_bits, 2, 32);
        range("accumulator_bits", self.accumulator_bits, self.weight_bits.max(self.potential_bits).max(2), 32);
        if self.current_state && self.potential_bits + self.accumulator_bits > MAX_STATE_BITS {
            out.push((
                "current_state",
                format!(
                    "current_state needs potential_bits + accumulator_bits <= {MAX_STATE_BITS} (a slot's potential and current share one word), but they are {} + {}",
                    self.potential_bits, self.accumulator_bits
                ),
                format!("lower accumulator_bits to {} or less, or set current_state = false", MAX_STATE_BITS.saturating_sub(self.potential_bits)),
            ));
        }
        if !self.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') || self.name.is_empty() {
            out.push((
                "name",
                format!("spec name `{}` is not allowed", self.name),
                "use letters, digits, `_` and `-` (it becomes part of file and module names)".into(),
            ));
        }
        out
    }
}

/// Loads a spec: a preset name, or a TOML file.
pub fn load_spec(arg: &str) -> Result<HardwareSpec, FileErrors> {
    if let Some(s) = HardwareSpec::preset(arg) {
        return Ok(s);
    }
    let path = std::path::Path::new(arg);
    if !arg.ends_with(".toml") {
        return Err(FileErrors::whole_file(
            arg,
            "not a preset name and not a .toml spec file",
            Some(format!("presets: {}; or give a spec file ending in .toml (docs/hardware.md)", PRESETS.join(", "))),
        ));
    }
    // Bounded like every input (spikeforge_net::input).
    let text = spikeforge_net::input::read_text(path, "hardware spec")?;
    parse_spec(arg, text)
}

/// Serde's words for an integer that does not fit a `u32` field, in the
/// user's: the number is too large (or negative) and what a spec allows.
fn friendly(msg: &str) -> String {
    let number = ["invalid value: integer `", "invalid type: integer `"]
        .iter()
        .find_map(|p| msg.strip_prefix(p))
        .and_then(|rest| rest.split('`').next())
        .filter(|n| !n.is_empty() && n.trim_start_matches('-').bytes().all(|c| c.is_ascii_digit()));
    match number {
        Some(n) if n.starts_with('-') => {
            format!("the number {n} is negative: spec sizes and widths are 0..={}", u32::MAX)
        }
        Some(n) => format!("the number {n} is too large: spec sizes and widths are 0..={}", u32::MAX),
        None => msg.replace("expected u32", "expected a non-negative integer"),
    }
}

/// Parses and checks spec text.
pub fn parse_spec(file: &str, text: String) -> Result<HardwareSpec, FileErrors> {
    let src = Arc::new(text);
    let spec: HardwareSpec = toml::from_str(&src).map_err(|e| {
        FileErrors::new(
            file,
            vec![Diag::new(file, &src, e.span(), friendly(e.message().trim_end()))
                .with_help("see docs/hardware.md for the fields of a spec; `spikeforge spec tiny` prints an example")],
        )
    })?;
    let problems = spec.problems();
    if problems.is_empty() {
        return Ok(spec);
    }
    let table = toml::de::DeTable::parse(src.as_str()).ok();
    let src = spikeforge_net::diag::SourceFile::new(file, src.clone());
    let diags = problems
        .into_iter()
        .map(|(field, msg, fix)| {
            let span = table
                .as_ref()
                .and_then(|t| t.get_ref().iter().find(|(k, _)| k.get_ref() == field).map(|(_, v)| v.span()));
            Diag::at(&src, span.or(Some(0..0)), msg).with_help(fix).with_label(field)
        })
        .collect();
    Err(FileErrors::new(file, diags))
}

/// The spec as TOML (what `spikeforge spec NAME` prints).
pub fn to_toml(spec: &HardwareSpec) -> String {
    toml::to_string(spec).expect("a spec serializes")
}
