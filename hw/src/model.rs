//! One interface for every model of the hardware.
//!
//! The architectural model (`spikeforge-mapper`), the Verilator model and
//! the Icarus run (`spikeforge-sim`) and a board over its UART (real or
//! simulated, [`crate::protocol::BoardModel`]) all implement
//! [`HardwareModel`]; `spikeforge-sim`'s lockstep comparator drives any of
//! them beside the golden model and reports the first divergence the same
//! way for all. The interface speaks the hardware's own terms — host input
//! indices in, (core, slot) spikes out — so it sits below the mapper; the
//! comparator translates with the mapping.

use crate::config::ConfigWrite;
use crate::memory::NetworkImage;
use std::path::Path;

/// A neuron's place in the hardware.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Place {
    /// Core id.
    pub core: u32,
    /// Slot in the core.
    pub slot: u32,
}

/// What one step reported.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepReport {
    /// Spikes as reported, in arrival order (a repeat is a hardware fault
    /// the comparator reports).
    pub spikes: Vec<Place>,
    /// Clock cycles of the step, where the model counts clocks: from the
    /// first input spike offered (the input hand-over) to the step's end.
    pub cycles: Option<u64>,
}

/// A model of the hardware of one spec, loaded with a network image.
pub trait HardwareModel {
    /// The model's error.
    type Error: std::error::Error + Send + Sync + 'static;

    /// What the model is, for reports ("Verilator", "board /dev/ttyUSB1").
    fn describe(&self) -> String;

    /// Loads `image` (the configuration sequence of [`crate::config`]) and
    /// puts the network at step 0.
    fn load(&mut self, image: &NetworkImage) -> Result<(), Self::Error>;

    /// Applies configuration writes after a load (fault injection: a
    /// corrupted word must be caught by the comparison).
    fn configure(&mut self, writes: &[ConfigWrite]) -> Result<(), Self::Error>;

    /// Returns the loaded network to step 0 (potentials rewritten from the
    /// image, accumulators cleared); the configuration stays.
    fn reset(&mut self) -> Result<(), Self::Error>;

    /// The whole run before its first step: (step, host input indices) in
    /// run order, where a step 0 after the first entry follows a
    /// [`HardwareModel::reset`]. Models that run in lockstep ignore it;
    /// batch models (Icarus) run it at once here and replay the results.
    fn plan(&mut self, _schedule: &[(u32, Vec<u32>)]) -> Result<(), Self::Error> {
        Ok(())
    }

    /// Runs one step with the host input indices `inputs`.
    fn step(&mut self, inputs: &[u32]) -> Result<StepReport, Self::Error>;

    /// The potentials of `places` now (between steps).
    fn potentials(&mut self, places: &[Place]) -> Result<Vec<i32>, Self::Error>;

    /// Whether [`HardwareModel::potentials`] can be read after every step
    /// (a batch model reads them only after the last).
    fn potentials_every_step(&self) -> bool {
        true
    }

    /// The sticky error flags (`ports::error_flag`), 0 for none; models
    /// without flags report 0.
    fn errors(&mut self) -> Result<u32, Self::Error> {
        Ok(0)
    }

    /// Clock cycles run so far, where the model counts clocks.
    fn cycles(&self) -> Option<u64> {
        None
    }

    /// Starts (`Some`) or stops (`None`) a waveform file; `Ok(false)` if
    /// the model cannot trace.
    fn trace(&mut self, _vcd: Option<&Path>) -> Result<bool, Self::Error> {
        Ok(false)
    }
}
