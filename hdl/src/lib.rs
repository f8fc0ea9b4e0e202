//! Generates the Verilog of spikeforge's neuron cores for a hardware spec.
//!
//! Will own: the neuron core pipeline (input FIFO, axon table, synapse
//! memory, accumulate pipeline, neuron sweep), the interconnect, the step
//! controller and the host interface, written in rust-hdl and emitted as
//! deterministic, lint-clean Verilog with tool-safe module names. Built so
//! far: the neuron update datapath ([`neuron`]), the emitter that makes
//! rust-hdl output tool-safe ([`emit`]) and the external-tool checks
//! ([`tools`]).
//!
//! Consumes the hardware contract (`spikeforge-hw`: the spec, the memory
//! word layouts, the port widths and configuration codes). Must not know
//! about the mapper, simulators or a particular network: the RTL is built
//! for a spec, and a network is data loaded into it.

pub mod board;
pub mod config;
pub mod core;
pub mod emit;
pub mod fabric;
pub mod fifo;
pub mod integrate;
pub mod interconnect;
pub mod mem;
pub mod mesh;
pub mod meshnet;
pub mod neuron;
pub mod peek;
pub mod route;
pub mod spikeio;
pub mod step;
pub mod sweep;
pub mod tools;
pub mod xbar;

use rust_hdl::prelude::*;
use spikeforge_hw::HardwareSpec;

/// Emits a rust-hdl design as tool-safe files (see [`emit`]).
pub fn emit_design<B: Block>(design: &mut B, prefix: &str, top_name: &str) -> Vec<emit::VerilogFile> {
    design.connect_all();
    emit::split_modules(&generate_verilog(design), prefix, top_name)
}

/// The Verilog of a whole design for `spec`: one file per module, the top
/// named `sf_<spec>_top`. With `neuron_counts` (one per core), memories are
/// preloaded from the `$readmemh` image files the hardware contract names
/// (`spikeforge_hw::memory::Memory::file_name`, as `spikeforge map --out`
/// writes them) and each core's `neuron_count` starts at the mapped value,
/// so the design boots with the network loaded.
pub fn design(spec: &HardwareSpec, neuron_counts: Option<&[u32]>) -> Vec<emit::VerilogFile> {
    use fabric::FabricInit;
    use integrate::IntegrateInit;
    use route::RouteInit;
    use spikeforge_hw::memory::{core_has_files, Memory};
    use sweep::ArrayInit;
    let init = match neuron_counts {
        None => FabricInit::default(),
        Some(counts) => {
            let files = |c: u32, a: Memory, b: Memory| Some((a.file_name(c), b.file_name(c)));
            FabricInit {
                cores: (0..spec.cores())
                    .map(|c| {
                        let n = counts.get(c as usize).copied().unwrap_or(0);
                        if !core_has_files(n) {
                            return (ArrayInit::default(), IntegrateInit::default(), RouteInit::default(), 0);
                        }
                        (
                            ArrayInit {
                                files: Some((
                                    Memory::ParamSets.file_name(c),
                                    Memory::Neurons.file_name(c),
                                    Memory::Potentials.file_name(c),
                                )),
                                ..Default::default()
                            },
                            IntegrateInit { files: files(c, Memory::Axons, Memory::Synapses), ..Default::default() },
                            RouteInit { files: files(c, Memory::RouteIndex, Memory::Routes), ..Default::default() },
                            n,
                        )
                    })
                    .collect(),
                host: RouteInit { files: files(0, Memory::InputRouteIndex, Memory::InputRoutes), ..Default::default() },
            }
        }
    };
    let prefix = format!("sf_{}", spec.name.replace('-', "_"));
    emit_design(&mut fabric::Fabric::new(spec, &init), &prefix, &format!("{prefix}_top"))
}

/// Verilator configuration with the design's only lint waiver, to pass to
/// `verilator` together with the Verilog files (docs/hardware.md).
///
/// UNOPTFLAT on mesh router links: rust-hdl emits one `always @(*)` per
/// module, so a mesh node's outputs appear to depend on its inputs and the
/// links between neighbouring nodes (the `nodes__*` wires of the mesh
/// interconnect module, file `<prefix>_net.v`, to which the waiver is limited) look
/// like combinational loops. They are not: a node's outputs depend only on
/// its registered buffers, Yosys finds no logic loop (checked by the
/// tests), and the design simulates equal to the golden model. The warning
/// only says Verilator cannot order those signals statically.
pub const VERILATOR_WAIVERS: &str = "`verilator_config\n\
// UNOPTFLAT on mesh router links: false loops through one always block per\n\
// module; outputs depend only on registered buffers (see spikeforge-hdl docs).\n\
lint_off -rule UNOPTFLAT -file \"*_net.v\" -match \"*nodes__*\"\n";
