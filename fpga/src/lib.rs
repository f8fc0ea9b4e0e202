//! FPGA projects for a mapped network: board tops with a UART host bridge,
//! pin constraints, build scripts, FuseSoC cores, the iCE40 bitstream flow
//! and the host side of the UART protocol.
//!
//! Owns: the board table ([`boards`]), the board top and the fixed UART
//! bridge Verilog ([`top`]), the project files ([`project`]), running the
//! tools and reading their reports ([`flow`]) and the host protocol over any
//! byte link ([`protocol`]; the simulated link lives in `spikeforge-sim`).
//!
//! Invariants: the design inside a project is exactly `spikeforge-hdl`'s
//! design of the spec, preloaded with the mapping's images; the bridge only
//! drives its top-level ports. Never depends on `sim`. Starts tools (make,
//! yosys, nextpnr, icepack) only through `spikeforge_hdl::tools`.

pub mod boards;
pub mod flow;
pub mod project;
pub mod protocol;
pub mod serial;
pub mod top;

pub use boards::{board, Board, Family, BAUD, BOARDS, FRAME_TIMEOUT_BITS};
