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

/// Verilator configuration to pass to `verilator` together with the
/// Verilog files (docs/hardware.md). It holds no waiver: every emitted file
/// passes `verilator --lint-only -Wall` as it is. (Until the mesh node's
/// Verilog was hand-written, it waived UNOPTFLAT on the mesh links.) Kept,
/// and written as `verilator.vlt` with every design, so a project has one
/// place for waivers should one ever be needed, with its reason beside it.
pub const VERILATOR_WAIVERS: &str = "`verilator_config\n\
// spikeforge: no lint waivers; every file passes verilator --lint-only -Wall.\n";
