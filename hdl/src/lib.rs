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
//! Consumes the hardware spec and memory-image layout of the mapper. Must not
//! know about simulators or a particular network: the RTL is built for a
//! spec, and a network is data loaded into it.

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

/// Emits a rust-hdl design as tool-safe files (see [`emit`]).
pub fn emit_design<B: Block>(design: &mut B, prefix: &str, top_name: &str) -> Vec<emit::VerilogFile> {
    design.connect_all();
    emit::split_modules(&generate_verilog(design), prefix, top_name)
}

/// The Verilog of a whole design for `spec`: one file per module, the top
/// named `sf_<spec>_top`. With `images`, memories are preloaded from
/// `$readmemh` files named `core<ID>_<memory>.hex` / `host_<memory>.hex`
/// (as `spikeforge map --out` writes them) and each core's `neuron_count`
/// starts at the mapped value, so the design boots with the network loaded.
pub fn design(spec: &spikeforge_mapper::HardwareSpec, images: Option<&[u32]>) -> Vec<emit::VerilogFile> {
    use fabric::FabricInit;
    use integrate::IntegrateInit;
    use route::RouteInit;
    use sweep::ArrayInit;
    let init = match images {
        None => FabricInit::default(),
        Some(counts) => {
            let f = |c: usize, m: &str| format!("core{c}_{m}.hex");
            FabricInit {
                cores: (0..spec.cores() as usize)
                    .map(|c| {
                        let n = counts.get(c).copied().unwrap_or(0);
                        if n == 0 {
                            // Unused core: no files (spikeforge map writes none for it).
                            return (ArrayInit::default(), IntegrateInit::default(), RouteInit::default(), 0);
                        }
                        (
                            ArrayInit { params: vec![], v: vec![], files: Some((f(c, "params"), f(c, "v_init"))) },
                            IntegrateInit {
                                axons: vec![],
                                synapses: vec![],
                                files: Some((f(c, "axons"), f(c, "synapses"))),
                            },
                            RouteInit {
                                ridx: vec![],
                                routes: vec![],
                                files: Some((f(c, "route_index"), f(c, "routes"))),
                            },
                            n,
                        )
                    })
                    .collect(),
                host: RouteInit {
                    ridx: vec![],
                    routes: vec![],
                    files: Some(("host_input_route_index.hex".into(), "host_input_routes.hex".into())),
                },
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
