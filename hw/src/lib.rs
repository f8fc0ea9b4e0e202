//! spikeforge's hardware contract: everything software and hardware must
//! agree on, defined once.
//!
//! Owns: the hardware spec and its presets ([`spec`]); the memories of the
//! design as an enum with each word's layout as data, the packed images and
//! their file names ([`memory`]); the host configuration sequence
//! ([`config`]); the top-level port table and what is generated from it
//! ([`ports`]); the UART host protocol and the board client ([`protocol`]);
//! the interface every hardware model implements ([`model`]).
//!
//! Sits just above `spikeforge-net`: the mapper packs with these layouts,
//! the RTL generator (`spikeforge-hdl`) reads its field positions and port
//! widths from here, the simulators and the board client load with this
//! configuration sequence. Must not know about networks' mapping, Verilog
//! generation, simulators or boards; holds no algorithm beyond packing.

pub mod config;
pub mod memory;
pub mod model;
pub mod ports;
pub mod protocol;
pub mod spec;

pub use config::{config_writes, ConfigWrite};
pub use memory::{ConfigTarget, Layout, Memory, NetworkImage, PackedCore, PackedHost, PackedMemory};
pub use model::{HardwareModel, Place, StepReport};
pub use spec::{load_spec, HardwareSpec, Interconnect, PRESETS};
