//! The host side of the design's top-level ports (docs/hardware.md, "Top-level
//! ports"), on a Verilator [`Model`]: configuration writes, network reset,
//! spike-in, step, spike-out, potential reads and error flags.
//!
//! Every handshake follows the protocol exactly as a board's host bridge
//! would; nothing reaches into the design's internals. Cycles are counted
//! so the figures of a run are the hardware's own. [`Hardware`] is the
//! Verilator model behind the common [`HardwareModel`] interface.

use crate::model::{Model, Pins};
use crate::SimError;
use spikeforge_hw::config::{config_writes, reset_writes, ConfigWrite};
use spikeforge_hw::{HardwareModel, NetworkImage, Place, StepReport};
use spikeforge_net::rng::SplitMix64;
use std::path::Path;

/// When the host takes spike-out words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backpressure {
    /// `out_ready` always high.
    None,
    /// `out_ready` high with probability `percent_ready`/100 each clock,
    /// from a fixed seed (reproducible).
    Random {
        /// Seed of the ready pattern.
        seed: u64,
        /// Chance that `out_ready` is high in a clock, in percent (1..=100).
        percent_ready: u32,
    },
}

/// What one step did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepOutput {
    /// Spikes reported on spike-out, in arrival order.
    pub spikes: Vec<Place>,
    /// Clocks from the `step` pulse to `done` (inclusive).
    pub cycles: u64,
    /// Clocks spent handing over the step's input spikes.
    pub input_cycles: u64,
}

/// The design under the host protocol.
pub struct Hardware {
    /// The model (public for tests that need raw access, e.g. VCD).
    pub model: Model,
    backpressure: Backpressure,
    rng: SplitMix64,
    /// Longest a step may take before the run is declared hung.
    pub step_limit: u64,
    steps: u32,
    image: Option<NetworkImage>,
}

impl Hardware {
    /// Wraps a fresh model. `monitor` is on: every spike is reported.
    pub fn new(model: Model) -> Hardware {
        let mut hw = Hardware {
            model,
            backpressure: Backpressure::None,
            rng: SplitMix64(0),
            step_limit: 1 << 24,
            steps: 0,
            image: None,
        };
        hw.model.pins.monitor = 1;
        hw
    }

    /// Sets the spike-out backpressure pattern.
    pub fn set_backpressure(&mut self, b: Backpressure) {
        self.backpressure = b;
        if let Backpressure::Random { seed, .. } = b {
            self.rng = SplitMix64(seed);
        }
    }

    /// Clocks with idle inputs.
    pub fn idle(&mut self, n: u64) {
        for _ in 0..n {
            self.model.cycle();
        }
    }

    /// One configuration write (data up to 128 of the 144 `cfg_data` bits).
    pub fn write(&mut self, w: ConfigWrite) {
        let p = &mut self.model.pins;
        p.cfg_we = 1;
        p.cfg_core = w.core;
        p.cfg_mem = w.target.code() as u32;
        p.cfg_addr = w.addr;
        for (i, x) in p.cfg_data.iter_mut().enumerate() {
            *x = if i < 4 { (w.data >> (32 * i)) as u32 } else { 0 };
        }
        self.model.cycle();
        self.model.pins.cfg_we = 0;
    }

    /// Loads every memory word of `image` (full depth, so power-up contents
    /// never matter), each core's neuron count, then resets the network
    /// state ([`Hardware::clear`]).
    pub fn load(&mut self, image: &NetworkImage) -> Result<(), SimError> {
        for w in config_writes(image) {
            self.write(w);
        }
        self.image = Some(image.clone());
        self.clear()
    }

    /// Rewrites every potential to the image's initial value and clears
    /// the accumulators: the network's state at step 0 (a reset between
    /// steps; parameters and routing stay).
    pub fn reset_state(&mut self) -> Result<(), SimError> {
        let image = self.image.as_ref().ok_or_else(|| SimError::Internal("reset before load".into()))?;
        for w in reset_writes(image) {
            self.write(w);
        }
        self.clear()
    }

    /// Pulses `clear` and waits until the accumulators are zero.
    pub fn clear(&mut self) -> Result<(), SimError> {
        self.model.pins.clear = 1;
        self.model.cycle();
        self.model.pins.clear = 0;
        let mut n = 0u64;
        loop {
            self.model.cycle();
            if self.model.pins.busy == 0 {
                break;
            }
            n += 1;
            if n > self.step_limit {
                return Err(SimError::Hung { step: self.steps, cycles: n, what: "clear".into() });
            }
        }
        self.steps = 0;
        Ok(())
    }

    /// Hands over `inputs` (host input indices), runs one step and collects
    /// its spike-out words.
    pub fn step(&mut self, inputs: &[u32]) -> Result<StepOutput, SimError> {
        let mut out = StepOutput::default();
        let start = self.model.cycles;
        for &i in inputs {
            self.model.pins.in_valid = 1;
            self.model.pins.in_index = i;
            let mut n = 0u64;
            loop {
                self.model.cycle();
                if self.model.pins.in_ready != 0 {
                    break;
                }
                n += 1;
                if n > self.step_limit {
                    return Err(SimError::Hung { step: self.steps, cycles: n, what: "spike-in".into() });
                }
            }
        }
        self.model.pins.in_valid = 0;
        out.input_cycles = self.model.cycles - start;
        let start = self.model.cycles;
        self.model.pins.step = 1;
        loop {
            let ready = match self.backpressure {
                Backpressure::None => true,
                Backpressure::Random { percent_ready, .. } => self.rng.below(100) < percent_ready as u64,
            };
            self.model.pins.out_ready = u32::from(ready);
            self.model.cycle();
            self.model.pins.step = 0;
            let p: &Pins = &self.model.pins;
            if p.out_valid != 0 && ready {
                out.spikes.push(Place { core: p.out_core, slot: p.out_slot });
            }
            if p.done != 0 {
                break;
            }
            if self.model.cycles - start > self.step_limit {
                return Err(SimError::Hung {
                    step: self.steps,
                    cycles: self.model.cycles - start,
                    what: "step".into(),
                });
            }
        }
        self.model.pins.out_ready = 0;
        out.cycles = self.model.cycles - start;
        self.steps += 1;
        Ok(out)
    }

    /// The potential of (core, slot), read over the peek port.
    pub fn peek(&mut self, core: u32, slot: u32) -> i32 {
        let p = &mut self.model.pins;
        p.peek_req = 1;
        p.peek_core = core;
        p.peek_slot = slot;
        self.model.cycle();
        self.model.pins.peek_req = 0;
        // peek_valid/peek_data are registered: visible in the next clock.
        self.model.cycle();
        debug_assert!(self.model.pins.peek_valid != 0);
        self.model.pins.peek_data as i32
    }

    /// Potentials of `places`. Reads are pipelined: one request per clock,
    /// each answered in the next.
    pub fn potentials(&mut self, places: &[Place]) -> Vec<i32> {
        let mut v = Vec::with_capacity(places.len());
        for (i, p) in places.iter().enumerate() {
            let pins = &mut self.model.pins;
            pins.peek_req = 1;
            pins.peek_core = p.core;
            pins.peek_slot = p.slot;
            self.model.cycle();
            if i > 0 {
                v.push(self.model.pins.peek_data as i32);
            }
        }
        self.model.pins.peek_req = 0;
        if !places.is_empty() {
            self.model.cycle();
            v.push(self.model.pins.peek_data as i32);
        }
        v
    }

    /// The sticky error flags (bit 0 packet to a missing core, 1 input index
    /// out of range, 2 axon key out of range, 3 access during a step).
    pub fn errors(&mut self) -> u32 {
        self.model.cycle();
        self.model.pins.errors
    }

    /// Clears the error flags.
    pub fn clear_errors(&mut self) {
        self.model.pins.err_clear = 1;
        self.model.cycle();
        self.model.pins.err_clear = 0;
    }

    /// Completed steps since the last clear, as the design counts them.
    pub fn step_count(&mut self) -> u32 {
        self.model.cycle();
        self.model.pins.step_count
    }
}

/// The Verilator model behind the common interface.
impl HardwareModel for Hardware {
    type Error = SimError;

    fn describe(&self) -> String {
        "the Verilator model".into()
    }

    fn load(&mut self, image: &NetworkImage) -> Result<(), SimError> {
        Hardware::load(self, image)?;
        if Hardware::errors(self) != 0 {
            // Loading only writes in-range words; flags here are power-up garbage.
            self.clear_errors();
        }
        Ok(())
    }

    fn configure(&mut self, writes: &[ConfigWrite]) -> Result<(), SimError> {
        for &w in writes {
            self.write(w);
        }
        Ok(())
    }

    fn reset(&mut self) -> Result<(), SimError> {
        self.reset_state()
    }

    fn step(&mut self, inputs: &[u32]) -> Result<StepReport, SimError> {
        let s = Hardware::step(self, inputs)?;
        // A step's clocks include its input hand-over (as the Icarus
        // testbench counts them): what a host waits for.
        Ok(StepReport { spikes: s.spikes, cycles: Some(s.input_cycles + s.cycles) })
    }

    fn potentials(&mut self, places: &[Place]) -> Result<Vec<i32>, SimError> {
        Ok(Hardware::potentials(self, places))
    }

    fn errors(&mut self) -> Result<u32, SimError> {
        Ok(Hardware::errors(self))
    }

    fn cycles(&self) -> Option<u64> {
        Some(self.model.cycles)
    }

    fn trace(&mut self, vcd: Option<&Path>) -> Result<bool, SimError> {
        match vcd {
            Some(path) => self.model.trace_open(path)?,
            None => self.model.trace_close(),
        }
        Ok(true)
    }
}
