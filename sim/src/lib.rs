//! Runs the generated Verilog cycle-accurately under Verilator (not built yet).
//!
//! Will own: the cached Verilator build of a spec's Verilog with a fixed C++
//! shim loaded at run time, the driver that loads memory images, feeds a
//! stimulus and collects spikes, and the lockstep comparison with the golden
//! model that reports the first divergent step, core and neuron and leaves a
//! VCD window around it.
//!
//! The only crate (with `fpga`) that spawns external tools.
