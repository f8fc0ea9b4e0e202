//! FPGA projects for a mapped network: board tops with a UART host bridge,
//! pin constraints, build scripts, FuseSoC cores, the iCE40 bitstream flow
//! and the host side of the UART protocol.
//!
//! Owns: the board table ([`boards`]), the project files ([`project`]),
//! running the tools and reading their reports ([`flow`]) and the serial
//! port link ([`serial`]). The board top and the UART bridge are RTL
//! (`spikeforge_hdl::board`); the host protocol is part of the hardware
//! contract (`spikeforge_hw::protocol`, re-exported here as [`protocol`]).
//!
//! Invariants: the design inside a project is exactly `spikeforge-hdl`'s
//! design of the spec, preloaded with the mapping's images; the bridge only
//! drives its top-level ports. The library never depends on `sim` (the fit
//! bench does, as a dev-dependency, for cycles per inference). Starts tools
//! (make, yosys, nextpnr, icepack) only through `spikeforge_hdl::tools`.

pub mod boards;
pub mod flow;
pub mod project;
pub mod serial;

/// The UART host protocol (part of the hardware contract).
pub use spikeforge_hw::protocol;

pub use boards::{board, Board, Family, BOARDS};
pub use spikeforge_hw::protocol::{BAUD, FRAME_TIMEOUT_BITS};
