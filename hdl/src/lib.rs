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

pub mod core;
pub mod emit;
pub mod fabric;
pub mod fifo;
pub mod integrate;
pub mod mem;
pub mod neuron;
pub mod route;
pub mod sweep;
pub mod tools;

use rust_hdl::prelude::*;

/// Emits a rust-hdl design as tool-safe files (see [`emit`]).
pub fn emit_design<B: Block>(design: &mut B, prefix: &str, top_name: &str) -> Vec<emit::VerilogFile> {
    design.connect_all();
    emit::split_modules(&generate_verilog(design), prefix, top_name)
}
