//! The network IR of spikeforge: what every stage consumes.
//!
//! Owns the network file format ([`doc`], JSON and TOML, `format = 1`), its
//! validation into the [`Network`] IR with its written guarantees
//! ([`network`]), located diagnostics ([`diag`], [`source`]), bounded reading
//! of every input file ([`input`]) and the stimulus/spike CSV files
//! ([`spikes`]).
//!
//! Must not know about any later stage: no golden model, mapper, Verilog or
//! simulator types here. Returns typed errors; never panics on bad input.

pub mod diag;
pub mod doc;
pub mod input;
mod jsonspan;
pub mod network;
pub mod path;
pub mod progress;
pub mod rng;
pub mod source;
pub mod spikes;

pub use diag::{Diag, FileErrors};
pub use doc::{Leak, NetworkDoc, PerNeuron, Reset};
pub use network::{
    Connection, FixedPoint, Invalid, Issue, Network, NeuronParams, Population, Problem, Projection, Stats,
};
pub use source::{load_network, parse_network, Format};
pub use spikes::{load_spikes, parse_spikes, Spike, SpikeFileKind, SpikeTrain, Stimulus};

/// JSON Schema of the network file format.
pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(NetworkDoc)).expect("schema serializes")
}
