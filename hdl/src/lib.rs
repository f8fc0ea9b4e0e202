//! Generates the Verilog of the neuron cores for a hardware spec (not built yet).
//!
//! Will own: the neuron core pipeline (input FIFO, axon table, synapse
//! memory, accumulate pipeline, neuron sweep), the interconnect, the step
//! controller and the host interface, written in rust-hdl and emitted as
//! deterministic, lint-clean Verilog with tool-safe module names.
//!
//! Consumes the hardware spec and memory-image layout of the mapper. Must not
//! know about simulators or a particular network: the RTL is built for a
//! spec, and a network is data loaded into it.
