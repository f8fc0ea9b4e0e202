//! The step controller: `step` starts every core's sweep (at once, on the
//! accumulator bank `bank`), and the step ends at the barrier: every sweep
//! has finished and every FIFO, pipeline, router, interconnect buffer and
//! report queue has been empty for two clocks. Then the banks swap, `done`
//! pulses and `step_count` counts the step. A step pulse that arrives
//! while a step ends or a clear runs is kept and acted on afterwards.
//! Network reset: `clear` between steps zeroes every core's accumulators,
//! selects bank 0 and sets `step_count` to 0.

use crate::fabric::c;
use rust_hdl::prelude::*;

/// See the module docs.
#[derive(LogicBlock)]
pub struct StepControl {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Pulse: run one step.
    pub step: Signal<In, bool>,
    /// Pulse: network reset (ignored during a step).
    pub clear: Signal<In, bool>,
    /// Per core: sweeping.
    pub core_busy: Vec<Signal<In, bool>>,
    /// Per core: integrate engine idle.
    pub core_idle: Vec<Signal<In, bool>>,
    /// Per core: route engine idle.
    pub core_route_idle: Vec<Signal<In, bool>>,
    /// Per core: a packet waits for the interconnect.
    pub core_pkt_valid: Vec<Signal<In, bool>>,
    /// The host input router is idle.
    pub host_idle: Signal<In, bool>,
    /// Nothing in flight inside the interconnect.
    pub net_empty: Signal<In, bool>,
    /// A spike report is offered to the host this clock.
    pub reporting: Signal<In, bool>,
    /// To every core: start the sweep.
    pub start: Signal<Out, bool>,
    /// To every core: zero the accumulators.
    pub clear_cores: Signal<Out, bool>,
    /// The accumulator bank the sweeps read.
    pub bank: Signal<Out, bool>,
    /// Pulse: the step is complete.
    pub done: Signal<Out, bool>,
    /// A step or a clear is running.
    pub busy: Signal<Out, bool>,
    /// A step is running (potential reads and configuration writes are refused).
    pub running: Signal<Out, bool>,
    /// Completed steps.
    pub step_count: Signal<Out, Bits<32>>,
    run: DFF<bool>,
    /// The clock after a clear pulse (before the cores raise busy).
    clr_wait: DFF<bool>,
    cores_busy: Signal<Local, bool>,
    /// A step pulse not yet acted on (it arrived while the previous step ended).
    req: DFF<bool>,
    started: DFF<bool>,
    quiet1: DFF<bool>,
    bank_q: DFF<bool>,
    steps: DFF<Bits<32>>,
    quiet: Signal<Local, bool>,
    one32: Constant<Bits<32>>,
    zero32: Constant<Bits<32>>,
    _n: usize,
}

impl StepControl {
    /// The controller of `k` cores.
    pub fn new(k: usize) -> StepControl {
        let v = || -> Vec<Signal<In, bool>> { (0..k).map(|_| Default::default()).collect() };
        StepControl {
            clock: Default::default(),
            step: Default::default(),
            clear: Default::default(),
            core_busy: v(),
            core_idle: v(),
            core_route_idle: v(),
            core_pkt_valid: v(),
            host_idle: Default::default(),
            net_empty: Default::default(),
            reporting: Default::default(),
            start: Default::default(),
            clear_cores: Default::default(),
            bank: Default::default(),
            done: Default::default(),
            busy: Default::default(),
            running: Default::default(),
            step_count: Default::default(),
            run: Default::default(),
            clr_wait: Default::default(),
            cores_busy: Default::default(),
            req: Default::default(),
            started: Default::default(),
            quiet1: Default::default(),
            bank_q: Default::default(),
            steps: Default::default(),
            quiet: Default::default(),
            one32: c::<32>(1),
            zero32: c::<32>(0),
            _n: k,
        }
    }
}

impl Logic for StepControl {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, run, clr_wait, req, started, quiet1, bank_q, steps);
        // The barrier: nothing left anywhere.
        self.quiet.next = self.host_idle.val() & !self.reporting.val() & self.net_empty.val();
        self.cores_busy.next = false;
        for i in 0..self._n {
            self.quiet.next = self.quiet.val()
                & !self.core_busy[i].val()
                & self.core_idle[i].val()
                & self.core_route_idle[i].val()
                & !self.core_pkt_valid[i].val();
            self.cores_busy.next = self.cores_busy.val() | self.core_busy[i].val();
        }
        self.start.next = false;
        self.clear_cores.next = false;
        self.done.next = false;
        self.clr_wait.d.next = false;
        if self.clear.val() & !self.run.q.val() {
            self.clr_wait.d.next = true;
            self.bank_q.d.next = false;
            self.steps.d.next = self.zero32.val();
            self.clear_cores.next = true;
        }
        if self.step.val() {
            self.req.d.next = true;
        }
        // A step waits for a clear in progress to finish.
        if (self.step.val() | self.req.q.val())
            & !self.run.q.val()
            & !self.clr_wait.q.val()
            & !self.cores_busy.val()
            & !self.clear.val()
        {
            self.req.d.next = false;
            self.run.d.next = true;
            self.started.d.next = false;
            self.start.next = true;
        }
        if self.run.q.val() {
            // The cores raise busy one clock after start.
            self.started.d.next = true;
            self.quiet1.d.next = self.quiet.val();
            if self.started.q.val() & self.quiet.val() & self.quiet1.q.val() {
                self.run.d.next = false;
                self.bank_q.d.next = !self.bank_q.q.val();
                self.steps.d.next = self.steps.q.val() + self.one32.val();
                self.done.next = true;
                self.quiet1.d.next = false;
            }
        }
        self.busy.next = self.run.q.val() | self.clr_wait.q.val() | self.cores_busy.val();
        self.running.next = self.run.q.val();
        self.bank.next = self.bank_q.q.val();
        self.step_count.next = self.steps.q.val();
    }
}
