//! The lockstep comparator ([`lockstep`]): a mapped network on any
//! [`HardwareModel`] (the architectural model, Verilator, Icarus, a board),
//! optionally beside the golden model; and [`run`], the Verilator run with a
//! VCD window on request or on a mismatch.
//!
//! Lockstep: before step t both sides get the same input spikes; after it
//! the spikes the hardware reported are compared with golden's as sets of
//! neurons, and (with `potentials_every_step`) every potential is read back
//! and compared. The first difference stops the run and is reported by
//! step, core, slot and neuron with the expected and the observed value.
//! The run is then repeated from the start with tracing on for a window of
//! steps ending at the divergent one (the model is deterministic, so the
//! repeat is the same run), which leaves a small VCD beside the report.

use crate::hardware::{Backpressure, Hardware};
use crate::model::{InitialState, Model};
use crate::verilate::Built;
use crate::SimError;
use spikeforge_golden::early_exit::{ExitReadout, ExitSpec, Watch};
use spikeforge_hw::config::ConfigWrite;
use spikeforge_hw::{HardwareModel, Place};
use spikeforge_mapper::Mapping;
use spikeforge_net::{Network, SpikeTrain, Stimulus};
use std::path::PathBuf;
use std::time::Instant;

/// A VCD window: steps `first..=last` of a run into `path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VcdWindow {
    /// The file.
    pub path: PathBuf,
    /// First step traced.
    pub first: u32,
    /// Last step traced (inclusive).
    pub last: u32,
}

/// What a run does.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Steps to run.
    pub steps: u32,
    /// Run golden beside the hardware and compare every step.
    pub verify: bool,
    /// With `verify`: also read back and compare every potential after
    /// every step (else only after the last).
    pub potentials_every_step: bool,
    /// Spike-out backpressure.
    pub backpressure: Backpressure,
    /// Power-up state of uninitialized bits.
    pub init: InitialState,
    /// Trace this window (the whole run's VCD would be huge).
    pub vcd: Option<VcdWindow>,
    /// On a mismatch, trace the steps before it into this file.
    pub mismatch_vcd: Option<PathBuf>,
    /// Steps traced before the divergent one in `mismatch_vcd`.
    pub mismatch_margin: u32,
    /// After this many steps, reset the network state (potentials rewritten,
    /// accumulators cleared) and run the stimulus again from step 0: the
    /// hardware must then equal golden from its initial state.
    pub reset_after: Option<u32>,
    /// Configuration writes applied after loading: fault injection (a
    /// corrupted memory word must be caught by the comparison).
    pub extra_writes: Vec<ConfigWrite>,
    /// Stop once the outputs' lead holds (anytime inference; the rule of
    /// `spikeforge_golden::early_exit`, applied to the hardware's values).
    pub early_exit: Option<ExitSpec>,
}

impl RunOptions {
    /// `steps` steps, verified, final potentials compared, no VCD.
    pub fn verified(steps: u32) -> RunOptions {
        RunOptions {
            steps,
            verify: true,
            potentials_every_step: false,
            backpressure: Backpressure::None,
            init: InitialState::Zeros,
            vcd: None,
            mismatch_vcd: None,
            mismatch_margin: 2,
            reset_after: None,
            extra_writes: Vec::new(),
            early_exit: None,
        }
    }
}

/// How the hardware diverged from golden.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Divergence {
    /// A spike golden has and the hardware has not, or the reverse.
    Spike {
        /// Golden fired.
        expected: bool,
        /// The hardware reported a spike.
        got: bool,
    },
    /// The same neuron reported more than once in a step.
    Repeated {
        /// Times reported.
        count: u32,
    },
    /// A spike-out word from a slot that holds no neuron.
    UnmappedSlot,
    /// A potential differs.
    Potential {
        /// Golden's value.
        expected: i32,
        /// Read back from the hardware.
        got: i32,
    },
    /// The design raised error flags (docs/hardware.md, `errors`).
    ErrorFlags(u32),
}

/// The first difference between hardware and golden.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// Step (0-based, counted from the last reset).
    pub step: u32,
    /// Core and slot, where one applies.
    pub place: Option<(u32, u32)>,
    /// Global neuron id, where one applies.
    pub neuron: Option<u32>,
    /// Its name, `population[index]`.
    pub name: String,
    /// What differs.
    pub divergence: Divergence,
    /// Golden's spikes in that step (names).
    pub expected_spikes: Vec<String>,
    /// The hardware's spikes in that step (names).
    pub got_spikes: Vec<String>,
    /// The VCD window written around it.
    pub vcd: Option<VcdWindow>,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "hardware differs from golden at step {}", self.step)?;
        if let Some((c, s)) = self.place {
            write!(f, ", core {c} slot {s}")?;
        }
        if !self.name.is_empty() {
            write!(f, ", neuron {}", self.name)?;
        }
        match &self.divergence {
            Divergence::Spike { expected, got } => write!(
                f,
                ": expected {}, got {}",
                if *expected { "a spike" } else { "no spike" },
                if *got { "a spike" } else { "no spike" }
            )?,
            Divergence::Repeated { count } => write!(f, ": spike reported {count} times")?,
            Divergence::UnmappedSlot => write!(f, ": spike from a slot that holds no neuron")?,
            Divergence::Potential { expected, got } => write!(f, ": potential expected {expected}, got {got}")?,
            Divergence::ErrorFlags(e) => {
                write!(f, ": error flags {e:#06b} raised ({})", spikeforge_hw::ports::error_flag_text(*e))?
            }
        }
        write!(f, "\n  golden spikes:   [{}]", self.expected_spikes.join(", "))?;
        write!(f, "\n  hardware spikes: [{}]", self.got_spikes.join(", "))?;
        if let Some(w) = &self.vcd {
            write!(f, "\n  waveform of steps {}..={}: {}", w.first, w.last, w.path.display())?;
        }
        Ok(())
    }
}

/// The outcome of the comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Not compared (`verify` off).
    Unchecked,
    /// Equal every step.
    Equal,
    /// The first difference.
    Mismatch(Box<Mismatch>),
}

/// Results of a run.
#[derive(Debug, Clone)]
pub struct SimRun {
    /// Every spike the hardware reported (by global id).
    pub spikes: SpikeTrain,
    /// Final potentials by global id (inputs 0).
    pub potentials: Vec<i32>,
    /// Clocks of each step (step pulse to done).
    pub cycles_per_step: Vec<u64>,
    /// Clocks spent loading the network over the configuration port.
    pub load_cycles: u64,
    /// Clocks of the whole run (loading, inputs, steps, read-back).
    pub total_cycles: u64,
    /// Wall-clock seconds of the whole run on the model (load, steps,
    /// read-backs; with `verify`, golden too), excluding the build.
    pub seconds: f64,
    /// Synaptic events (golden's count; 0 unless verified).
    pub events: u64,
    /// Error flags at the end.
    pub errors: u32,
    /// The comparison with golden.
    pub verdict: Verdict,
    /// Steps run when early exit stopped the run before its last step.
    pub exited_at: Option<u32>,
}

impl SimRun {
    /// Simulated clock cycles per wall-clock second over the whole run.
    pub fn cycles_per_second(&self) -> f64 {
        if self.seconds > 0.0 {
            self.total_cycles as f64 / self.seconds
        } else {
            0.0
        }
    }
}

/// Runs `net` (mapped as `m`) on the Verilator model `built` with
/// `stimulus`, through the lockstep comparator ([`lockstep`]); on a
/// mismatch with `mismatch_vcd`, repeats the run with tracing on for a
/// window of steps ending at the divergent one. Runs that write a VCD use
/// the traced build of the model ([`Built::traced`], built on first use). `progress` is called after
/// each step with the number of steps done.
pub fn run(
    built: &Built,
    net: &Network,
    m: &Mapping,
    stimulus: &Stimulus,
    opts: &RunOptions,
    progress: &mut dyn FnMut(u32),
) -> Result<SimRun, SimError> {
    if m.spec != built.spec {
        return Err(SimError::SpecMismatch { mapping: m.spec.name.clone(), model: built.spec.name.clone() });
    }
    // One run on a fresh model; its seconds include making the model.
    let once = |window: Option<&VcdWindow>, progress: &mut dyn FnMut(u32)| -> Result<SimRun, SimError> {
        let traced;
        let built = match window {
            Some(_) => {
                traced = built.traced()?;
                &traced
            }
            None => built,
        };
        let started = Instant::now();
        let mut hw = Hardware::new(Model::new(built, opts.init)?);
        hw.set_backpressure(opts.backpressure);
        let mut r = lockstep(&mut hw, net, m, stimulus, opts, window, progress)?;
        r.seconds = started.elapsed().as_secs_f64();
        Ok(r)
    };
    let first = once(opts.vcd.as_ref(), progress)?;
    let Verdict::Mismatch(mm) = &first.verdict else { return Ok(first) };
    let Some(path) = &opts.mismatch_vcd else { return Ok(first) };
    let window = VcdWindow { path: path.clone(), first: mm.step.saturating_sub(opts.mismatch_margin), last: mm.step };
    let again = once(Some(&window), &mut |_| {})?;
    let mut first = first;
    match (&mut first.verdict, &again.verdict) {
        (Verdict::Mismatch(a), Verdict::Mismatch(b)) if a.step == b.step => a.vcd = Some(window),
        _ => {
            return Err(SimError::Internal(
                "the repeated run for the VCD window did not diverge at the same step: the model is not deterministic"
                    .into(),
            ))
        }
    }
    Ok(first)
}

/// Why a lockstep run stopped without a verdict.
#[derive(Debug, thiserror::Error)]
pub enum LockstepError<E: std::error::Error + Send + Sync + 'static> {
    /// The model failed (a tool, a link, a hang).
    #[error(transparent)]
    Model(E),
    /// The stimulus goes past the run (never truncated silently).
    #[error("the stimulus has spikes at step {last}, but the run has only {steps} steps (0..{steps})")]
    StimulusBeyondRun {
        /// Last stimulus step.
        last: u32,
        /// Steps of the run.
        steps: u32,
    },
    /// Early exit asked of a run that cannot stop early as asked.
    #[error("early exit: {0}")]
    EarlyExit(String),
    /// A bug in spikeforge (the mapping and the network disagree).
    #[error("internal error (a bug in spikeforge, please report it): {0}")]
    Internal(String),
}

/// The lockstep comparator: runs `net` (mapped as `m`) on any hardware
/// model and, with `opts.verify`, golden beside it, comparing after every
/// step (module docs). The same report for the architectural model,
/// Verilator, Icarus and a board. `window` traces those steps if the model
/// can trace. Reads `steps`, `verify`, `potentials_every_step`,
/// `reset_after` and `extra_writes` of `opts`.
pub fn lockstep<M: HardwareModel>(
    hw: &mut M,
    net: &Network,
    m: &Mapping,
    stimulus: &Stimulus,
    opts: &RunOptions,
    window: Option<&VcdWindow>,
    progress: &mut dyn FnMut(u32),
) -> Result<SimRun, LockstepError<M::Error>> {
    let started = Instant::now();
    if stimulus.step_span() > opts.steps {
        return Err(LockstepError::StimulusBeyondRun { last: stimulus.step_span() - 1, steps: opts.steps });
    }
    if let Some(e) = &opts.early_exit {
        if opts.reset_after.is_some() {
            return Err(LockstepError::EarlyExit("a run with a reset in the middle cannot also stop early".into()));
        }
        if e.readout == ExitReadout::Potential && !hw.potentials_every_step() {
            return Err(LockstepError::EarlyExit(
                "this hardware model gives potentials only after the last step; stop on spike counts instead".into(),
            ));
        }
        if let Some(&g) = e.outputs.iter().find(|&&g| g as usize >= m.placement.len()) {
            return Err(LockstepError::EarlyExit(format!("output neuron {g} is not in the network")));
        }
    }
    let model = LockstepError::Model;
    hw.load(&m.packed()).map_err(model)?;
    hw.configure(&opts.extra_writes).map_err(model)?;
    let inputs = host_inputs(net, m, stimulus, opts.steps)?;
    // With a reset, the stimulus runs twice: `reset_after` steps, reset, all steps.
    let schedule: Vec<u32> = match opts.reset_after {
        Some(k) => (0..k.min(opts.steps)).chain(0..opts.steps).collect(),
        None => (0..opts.steps).collect(),
    };
    hw.plan(&schedule.iter().map(|&t| (t, inputs[t as usize].clone())).collect::<Vec<_>>()).map_err(model)?;
    let mut ck = Checker { net, m, placed: placed(m), golden: opts.verify.then(|| spikeforge_golden::Model::new(net)) };
    let mut out = SimRun {
        spikes: SpikeTrain::new(),
        potentials: Vec::new(),
        cycles_per_step: Vec::with_capacity(opts.steps as usize),
        load_cycles: hw.cycles().unwrap_or(0),
        total_cycles: 0,
        seconds: 0.0,
        events: 0,
        errors: 0,
        verdict: if opts.verify { Verdict::Equal } else { Verdict::Unchecked },
        exited_at: None,
    };
    let mut watch = opts.early_exit.as_ref().map(|e| (e, Watch::new(e.rule), vec![0i64; e.outputs.len()]));
    let on_potentials = opts.early_exit.as_ref().is_some_and(|e| e.readout == ExitReadout::Potential);
    let mut traced = false;
    let mut finished = true;
    for (i, &t) in schedule.iter().enumerate() {
        if i > 0 && t == 0 {
            hw.reset().map_err(model)?;
            if let Some(g) = ck.golden.as_mut() {
                g.reset();
            }
            out.spikes.clear();
            out.cycles_per_step.clear();
        }
        if let Some(w) = window.filter(|w| t == w.first && !traced) {
            traced = hw.trace(Some(&w.path)).map_err(model)?;
        }
        let s = hw.step(&inputs[t as usize]).map_err(model)?;
        out.cycles_per_step.push(s.cycles.unwrap_or(0));
        let last = i + 1 == schedule.len();
        let read_v = last || on_potentials || (opts.potentials_every_step && hw.potentials_every_step());
        let mut now = Vec::new();
        let keep = if last { Some(&mut out.potentials) } else { on_potentials.then_some(&mut now) };
        let (got, found) = ck.step(hw, t, &s.spikes, stimulus.at(t), read_v, keep)?;
        out.spikes.push_step(t, &got);
        if let Some(mm) = found {
            out.verdict = Verdict::Mismatch(mm);
            finished = false;
            break;
        }
        if let Some((e, w, counts)) = watch.as_mut() {
            let scores: Vec<i64> = match e.readout {
                ExitReadout::Count => {
                    for (k, g) in e.outputs.iter().enumerate() {
                        counts[k] += got.iter().filter(|&x| x == g).count() as i64;
                    }
                    counts.clone()
                }
                ExitReadout::Potential => {
                    // Unverified runs do not read potentials in the check.
                    let v = if last { out.potentials.clone() } else { now };
                    let v = if v.is_empty() { ck.potentials(hw)? } else { v };
                    e.outputs.iter().map(|&g| v[g as usize] as i64).collect()
                }
            };
            if w.observe(&scores) && !last {
                out.exited_at = Some(i as u32 + 1);
                progress(i as u32 + 1);
                break;
            }
        }
        if window.is_some_and(|w| t == w.last) && traced {
            hw.trace(None).map_err(model)?;
            traced = false;
        }
        progress(i as u32 + 1);
    }
    if traced {
        hw.trace(None).map_err(model)?;
    }
    // A batch model has potentials only after the last step.
    if out.potentials.is_empty() && (finished || hw.potentials_every_step()) {
        out.potentials = ck.potentials(hw)?;
    }
    out.errors = hw.errors().map_err(model)?;
    out.total_cycles = hw.cycles().unwrap_or(0);
    out.seconds = started.elapsed().as_secs_f64();
    out.events = ck.golden.as_ref().map_or(0, |g| g.events());
    Ok(out)
}

/// The host input indices of every step of the stimulus.
fn host_inputs<E: std::error::Error + Send + Sync + 'static>(
    net: &Network,
    m: &Mapping,
    stimulus: &Stimulus,
    steps: u32,
) -> Result<Vec<Vec<u32>>, LockstepError<E>> {
    (0..steps)
        .map(|t| {
            stimulus
                .at(t)
                .iter()
                .map(|&g| {
                    m.input_index.get(g as usize).copied().flatten().ok_or_else(|| {
                        LockstepError::Internal(format!("stimulus neuron {} has no input index", net.neuron_name(g)))
                    })
                })
                .collect()
        })
        .collect()
}

/// (global id, place) of every computed neuron.
fn placed(m: &Mapping) -> Vec<(u32, Place)> {
    m.placement.iter().enumerate().filter_map(|(g, p)| p.map(|(core, slot)| (g as u32, Place { core, slot }))).collect()
}

/// The neurons a step reported (sorted) and the first difference, if any.
type Checked = (Vec<u32>, Option<Box<Mismatch>>);

/// One step's comparison with golden: the spikes, the error flags, the
/// potentials, in that order; the first difference is the report.
struct Checker<'a> {
    net: &'a Network,
    m: &'a Mapping,
    placed: Vec<(u32, Place)>,
    golden: Option<spikeforge_golden::Model>,
}

impl Checker<'_> {
    /// Every potential by global id (0 for inputs), read from the model.
    fn potentials<M: HardwareModel>(&self, hw: &mut M) -> Result<Vec<i32>, LockstepError<M::Error>> {
        let places: Vec<Place> = self.placed.iter().map(|&(_, p)| p).collect();
        let got = hw.potentials(&places).map_err(LockstepError::Model)?;
        let mut v = vec![0; self.m.placement.len()];
        for (&(g, _), x) in self.placed.iter().zip(got) {
            v[g as usize] = x;
        }
        Ok(v)
    }

    /// Translates the step's reported places to neurons (sorted) and, with
    /// golden, compares; `read_v`: compare the potentials too, kept in
    /// `keep` when given.
    fn step<M: HardwareModel>(
        &mut self,
        hw: &mut M,
        t: u32,
        spikes: &[Place],
        inputs: &[u32],
        read_v: bool,
        keep: Option<&mut Vec<i32>>,
    ) -> Result<Checked, LockstepError<M::Error>> {
        let (m, net) = (self.m, self.net);
        let mut got: Vec<u32> = Vec::with_capacity(spikes.len());
        let mut unmapped = None;
        for &p in spikes {
            match m.images.cores.get(p.core as usize).and_then(|x| x.neurons.get(p.slot as usize)) {
                Some(&g) => got.push(g),
                None => unmapped = Some((p.core, p.slot)),
            }
        }
        got.sort_unstable();
        let Some(g) = self.golden.as_mut() else { return Ok((got, None)) };
        let expected: Vec<u32> = g.step(inputs).map_err(|e| LockstepError::Internal(e.to_string()))?.to_vec();
        let names = |v: &[u32]| v.iter().map(|&n| net.neuron_name(n)).collect::<Vec<_>>();
        let mismatch = |place: Option<(u32, u32)>, neuron: Option<u32>, divergence| {
            Some(Box::new(Mismatch {
                step: t,
                place,
                neuron,
                name: neuron.map(|n| net.neuron_name(n)).unwrap_or_default(),
                divergence,
                expected_spikes: names(&expected),
                got_spikes: names(&got),
                vcd: None,
            }))
        };
        if let Some(p) = unmapped {
            return Ok((got.clone(), mismatch(Some(p), None, Divergence::UnmappedSlot)));
        }
        if let Some((n, d)) = first_spike_difference(&expected, &got) {
            return Ok((got.clone(), mismatch(m.placement.get(n as usize).copied().flatten(), Some(n), d)));
        }
        let e = hw.errors().map_err(LockstepError::Model)?;
        if e != 0 {
            return Ok((got.clone(), mismatch(None, None, Divergence::ErrorFlags(e))));
        }
        if !read_v {
            return Ok((got, None));
        }
        let v = self.potentials(hw)?;
        let gv = self.golden.as_ref().expect("golden runs beside the model (checked above)").potentials();
        let found = (0..v.len()).find(|&n| m.placement[n].is_some() && v[n] != gv[n]).and_then(|n| {
            mismatch(m.placement[n], Some(n as u32), Divergence::Potential { expected: gv[n], got: v[n] })
        });
        if let Some(k) = keep {
            *k = v;
        }
        Ok((got, found))
    }
}

/// The smallest neuron id on which two sorted spike lists differ, and how.
fn first_spike_difference(expected: &[u32], got: &[u32]) -> Option<(u32, Divergence)> {
    let mut cands: Vec<u32> = Vec::new();
    for w in got.windows(2) {
        if w[0] == w[1] {
            cands.push(w[0]);
        }
    }
    let e: std::collections::BTreeSet<u32> = expected.iter().copied().collect();
    let g: std::collections::BTreeSet<u32> = got.iter().copied().collect();
    cands.extend(e.symmetric_difference(&g));
    let n = *cands.iter().min()?;
    let count = got.iter().filter(|&&x| x == n).count() as u32;
    let d = if count > 1 && e.contains(&n) {
        Divergence::Repeated { count }
    } else {
        Divergence::Spike { expected: e.contains(&n), got: count > 0 }
    };
    Some((n, d))
}

impl From<LockstepError<SimError>> for SimError {
    fn from(e: LockstepError<SimError>) -> SimError {
        match e {
            LockstepError::Model(e) => e,
            LockstepError::StimulusBeyondRun { last, steps } => SimError::StimulusBeyondRun { last, steps },
            LockstepError::EarlyExit(s) => SimError::EarlyExit(s),
            LockstepError::Internal(s) => SimError::Internal(s),
        }
    }
}
