//! Maps a validated network onto a hardware spec (not built yet).
//!
//! Will own: the hardware spec file and its presets, partitioning of neurons
//! onto cores under the per-core limits (neurons, synapse entries, input
//! axons, routing entries), placement on the mesh, routing tables, the exact
//! memory images every core loads, and an architectural model that executes
//! those images and must equal the golden model spike for spike.
//!
//! Depends only on `spikeforge-net` (and, in tests, on `spikeforge-golden`
//! as the reference). Must not know about Verilog, Verilator or boards.
