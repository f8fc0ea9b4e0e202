//! The bit-exact golden model: the executable specification of spikeforge.
//!
//! Implements the semantics of docs/format.md (time-stepped mode) on a validated [`Network`]:
//!
//! ```text
//! a_n  = Σ weights of synapses whose pre neuron spiked in step t-1
//! i'   = saturate_A(i - (i >> k_syn) + a)      (current-based neurons only)
//! u    = v - (λ ? v >> λ : 0) + (i' or a) + b  (exact; >> is arithmetic)
//! v'   = saturate_P(u)
//! fire = v' >= θ;  on fire: v' = v' - θ (subtract) or 0 (zero)
//! v'   = max(v', v_min);  a = 0
//! ```
//!
//! Every other rung (architectural model, RTL under Verilator, the board) is
//! checked against this crate spike for spike, so it is written for clarity
//! first and speed second: compressed sparse rows by presynaptic neuron, flat
//! parameter arrays, and no allocation per step.
//!
//! Must not know about mapping, cores, Verilog or simulators.

pub mod early_exit;

use spikeforge_net::{Network, Reset, SpikeTrain, Stimulus};
use thiserror::Error;

/// Errors from driving the model with bad input.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GoldenError {
    /// An external spike was given for a neuron that is not an input neuron.
    #[error("external spike for neuron {neuron}, which is not an input neuron")]
    NotAnInput {
        /// `population[index]`.
        neuron: String,
    },
    /// A parameter write to a neuron that has no parameters, or out of range.
    #[error("cannot set the bias of {neuron} to {value}: {why}")]
    BadWrite {
        /// `population[index]`.
        neuron: String,
        /// The value written.
        value: i64,
        /// What is wrong.
        why: &'static str,
    },
    /// A stimulus has spikes at or after the last simulated step.
    #[error("the stimulus has spikes up to step {last}, but only steps 0..{steps} are run; they would be ignored")]
    StimulusBeyondRun {
        /// Last step with a stimulus spike.
        last: u32,
        /// Steps requested.
        steps: u32,
    },
}

impl miette::Diagnostic for GoldenError {
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        match self {
            GoldenError::NotAnInput { .. } => {
                Some(Box::new("a stimulus names neurons of input populations only; the others compute their spikes"))
            }
            // `why` already says what is wrong with the value.
            GoldenError::BadWrite { .. } => None,
            GoldenError::StimulusBeyondRun { last, .. } => Some(Box::new(format!(
                "run at least --steps {} or remove the later rows from the stimulus",
                *last as u64 + 1
            ))),
        }
    }
}

/// Fan-out of every neuron in compressed sparse rows: the synapses of
/// presynaptic neuron `n` are `targets[starts[n]..starts[n+1]]` with the same
/// range of `weights`. Public so that benchmarks can measure the raw
/// scatter-add cost against the model.
#[derive(Debug, Clone)]
pub struct Fanout {
    /// Row starts, `neurons + 1` entries.
    pub starts: Vec<u32>,
    /// Postsynaptic global ids.
    pub targets: Vec<u32>,
    /// Weights, same order as `targets`.
    pub weights: Vec<i32>,
}

impl Fanout {
    /// Builds the rows of a network (synapse order within a row follows the
    /// file; it does not matter for the result).
    pub fn new(net: &Network) -> Fanout {
        let n = net.neuron_count() as usize;
        let mut starts = vec![0u32; n + 1];
        net.for_each_synapse(|a, _, _| starts[a as usize + 1] += 1);
        for i in 0..n {
            starts[i + 1] += starts[i];
        }
        let total = starts[n] as usize;
        let mut fill = starts.clone();
        let (mut targets, mut weights) = (vec![0u32; total], vec![0i32; total]);
        net.for_each_synapse(|a, b, w| {
            let k = fill[a as usize] as usize;
            fill[a as usize] += 1;
            targets[k] = b;
            weights[k] = w;
        });
        Fanout { starts, targets, weights }
    }

    /// Number of synapses leaving neuron `n`.
    pub fn degree(&self, n: u32) -> u32 {
        self.starts[n as usize + 1] - self.starts[n as usize]
    }
}

/// Per-neuron constants, packed for the sweep.
#[derive(Debug, Clone, Copy)]
struct Neuron {
    threshold: i32,
    bias: i32,
    v_min: i32,
    v_init: i32,
    /// Leak shift, or `NO_LEAK`.
    leak: u8,
    /// Synaptic current decay shift, or `NO_SYN` (the input goes straight
    /// into the potential).
    syn: u8,
    reset_zero: bool,
}

const NO_LEAK: u8 = u8::MAX;
const NO_SYN: u8 = u8::MAX;

/// The golden model of one network, stepped one time step at a time.
#[derive(Debug, Clone)]
pub struct Model {
    fanout: Fanout,
    /// Constants of computed neurons, for ids in `ranges`.
    neurons: Vec<Neuron>,
    /// Global id ranges of computed (non-input) populations, with the index
    /// of their first neuron in `neurons`.
    ranges: Vec<(u32, u32, usize)>,
    is_input: Vec<bool>,
    v: Vec<i32>,
    /// Synaptic currents (0 for neurons without one).
    cur: Vec<i32>,
    acc: Vec<i32>,
    /// Spikes (computed and external) of the previous step, to deliver now.
    pending: Vec<u32>,
    /// Computed spikes of the step just run.
    fired: Vec<u32>,
    step: u32,
    events: u64,
    p_min: i64,
    p_max: i64,
    a_min: i64,
    a_max: i64,
    /// (name, offset) of every population, for messages.
    names: Vec<(String, u32)>,
}

/// Result of a whole run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunResult {
    /// Every computed spike.
    pub spikes: SpikeTrain,
    /// Potential of every neuron after the last step, by global id (0 for inputs).
    pub potentials: Vec<i32>,
    /// Synaptic events delivered (one per synapse of each delivered spike).
    pub events: u64,
}

impl Model {
    /// Builds the model in its initial state (v = v_init, no pending spikes).
    pub fn new(net: &Network) -> Model {
        let n = net.neuron_count() as usize;
        let (p_min, p_max) = net.fixed_point().potential_range();
        let (a_min, a_max) = net.fixed_point().accumulator_range();
        let mut neurons = Vec::new();
        let mut ranges = Vec::new();
        let mut is_input = vec![false; n];
        for p in net.populations() {
            let Some(np) = p.params() else {
                for id in p.ids() {
                    is_input[id as usize] = true;
                }
                continue;
            };
            ranges.push((p.offset(), p.offset() + p.size(), neurons.len()));
            for i in 0..p.size() as usize {
                neurons.push(Neuron {
                    threshold: np.threshold.get(i),
                    bias: np.bias.get(i),
                    v_min: np.v_min.get(i),
                    v_init: np.v_init.get(i),
                    leak: np.leak.get(i).map_or(NO_LEAK, |s| s as u8),
                    syn: np.syn(i).map_or(NO_SYN, |s| s as u8),
                    reset_zero: np.reset.get(i) == Reset::Zero,
                });
            }
        }
        let mut m = Model {
            fanout: Fanout::new(net),
            neurons,
            ranges,
            is_input,
            v: vec![0; n],
            cur: vec![0; n],
            acc: vec![0; n],
            pending: Vec::with_capacity(n),
            fired: Vec::with_capacity(n),
            step: 0,
            events: 0,
            p_min,
            p_max,
            a_min,
            a_max,
            names: net.populations().iter().map(|p| (p.name().to_string(), p.offset())).collect(),
        };
        m.reset();
        m
    }

    /// Back to the initial state.
    pub fn reset(&mut self) {
        for &(lo, hi, base) in &self.ranges {
            for (k, id) in (lo..hi).enumerate() {
                self.v[id as usize] = self.neurons[base + k].v_init;
            }
        }
        self.cur.fill(0);
        self.acc.fill(0);
        self.pending.clear();
        self.fired.clear();
        self.step = 0;
        self.events = 0;
    }

    /// Runs one step. `inputs` are the global ids of the input neurons that
    /// spike in this step (their synapses deliver in the next step). Returns
    /// the computed neurons that fired in this step, in increasing id order.
    pub fn step(&mut self, inputs: &[u32]) -> Result<&[u32], GoldenError> {
        for &id in inputs {
            if !self.is_input.get(id as usize).copied().unwrap_or(false) {
                return Err(GoldenError::NotAnInput { neuron: self.neuron_name(id) });
            }
        }
        // 1. Deliver the spikes of step t-1.
        let f = &self.fanout;
        let acc = &mut self.acc;
        let mut events = 0u64;
        for &s in &self.pending {
            let (lo, hi) = (f.starts[s as usize] as usize, f.starts[s as usize + 1] as usize);
            events += (hi - lo) as u64;
            for (&t, &w) in f.targets[lo..hi].iter().zip(&f.weights[lo..hi]) {
                // Cannot overflow: validation bounds each neuron's positive and
                // negative incoming sums by the accumulator width (≤ 32 bits).
                acc[t as usize] += w;
            }
        }
        self.events += events;
        // 2. Sweep every computed neuron.
        self.fired.clear();
        for &(lo, hi, base) in &self.ranges {
            let params = &self.neurons[base..base + (hi - lo) as usize];
            let v = &mut self.v[lo as usize..hi as usize];
            let a = &mut acc[lo as usize..hi as usize];
            let c = &mut self.cur[lo as usize..hi as usize];
            for (k, (((nv, na), nc), p)) in v.iter_mut().zip(a.iter_mut()).zip(c.iter_mut()).zip(params).enumerate() {
                let v0 = *nv as i64;
                let leak = if p.leak == NO_LEAK { 0 } else { v0 >> p.leak };
                let input = if p.syn == NO_SYN {
                    *na as i64
                } else {
                    let i0 = *nc as i64;
                    let i1 = (i0 - (i0 >> p.syn) + *na as i64).clamp(self.a_min, self.a_max);
                    *nc = i1 as i32;
                    i1
                };
                let u = v0 - leak + input + p.bias as i64;
                let mut v1 = u.clamp(self.p_min, self.p_max) as i32;
                if v1 >= p.threshold {
                    self.fired.push(lo + k as u32);
                    v1 = if p.reset_zero { 0 } else { v1 - p.threshold };
                }
                *nv = v1.max(p.v_min);
                *na = 0;
            }
        }
        // 3. What fired now (and the external spikes of now) is delivered next step.
        self.pending.clear();
        self.pending.extend_from_slice(&self.fired);
        self.pending.extend_from_slice(inputs);
        self.step += 1;
        Ok(&self.fired)
    }

    fn neuron_name(&self, id: u32) -> String {
        match self.names.iter().rev().find(|(_, off)| *off <= id) {
            Some((name, off)) if (id as usize) < self.v.len() => format!("{name}[{}]", id - off),
            _ => format!("#{id} (the network has {} neurons)", self.v.len()),
        }
    }

    /// Sets neuron `id`'s bias from now on, as a host does through the
    /// configuration port between steps (the integer first layer of a
    /// converted network is fed this way). `reset` keeps it.
    pub fn set_bias(&mut self, id: u32, bias: i64) -> Result<(), GoldenError> {
        let bad = |why| GoldenError::BadWrite { neuron: self.neuron_name(id), value: bias, why };
        let Some(&(lo, _, base)) = self.ranges.iter().find(|&&(lo, hi, _)| (lo..hi).contains(&id)) else {
            return Err(bad("it is an input neuron or does not exist"));
        };
        if bias < self.p_min || bias > self.p_max {
            return Err(bad("outside the potential range"));
        }
        self.neurons[base + (id - lo) as usize].bias = bias as i32;
        Ok(())
    }

    /// Potentials by global id (inputs read 0).
    pub fn potentials(&self) -> &[i32] {
        &self.v
    }

    /// Synaptic currents by global id (0 for neurons without one).
    pub fn currents(&self) -> &[i32] {
        &self.cur
    }

    /// Number of steps run since the last reset.
    pub fn steps_run(&self) -> u32 {
        self.step
    }

    /// Synaptic events delivered since the last reset.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// The fan-out rows the model uses.
    pub fn fanout(&self) -> &Fanout {
        &self.fanout
    }
}

/// Runs `steps` steps from the initial state with a stimulus.
///
/// A stimulus with spikes at step `steps` or later is an error, not a silent
/// truncation.
pub fn run(net: &Network, stimulus: &Stimulus, steps: u32) -> Result<RunResult, GoldenError> {
    if stimulus.step_span() > steps {
        return Err(GoldenError::StimulusBeyondRun { last: stimulus.step_span() - 1, steps });
    }
    let mut m = Model::new(net);
    let mut spikes = SpikeTrain::new();
    for t in 0..steps {
        let fired = m.step(stimulus.at(t))?;
        spikes.push_step(t, fired);
    }
    Ok(RunResult { spikes, potentials: m.v.clone(), events: m.events })
}
