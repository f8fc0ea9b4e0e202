//! FPGA build sources and bitstreams (not built yet).
//!
//! Will own: board tops (iCEBreaker, iCE40-HX8K, Arty A7, ULX3S) with a UART
//! host bridge, pin constraints, yosys/nextpnr/icepack scripts, the build
//! driver and its resource and timing report, and FuseSoC `.core` files.
