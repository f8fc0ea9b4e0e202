//! Potential read and error flags. Potential read ("peek"): every core
//! reads `peek_slot` (wired by the fabric); one clock after `peek_req` the
//! addressed core's potential is on `peek_data`, low 32 bits. Error flags:
//! sticky bits gathered from every block (bit 0 packet to a missing core,
//! bit 1 input index out of range, bit 2 axon key out of range at a core,
//! bit 3 potential read, configuration write or clear during a step),
//! cleared by `err_clear` (an error of that same clock stays).

use crate::fabric::c;
use crate::neuron::X;
use crate::route::CORE_BITS;
use rust_hdl::prelude::*;

/// See the module docs.
#[derive(LogicBlock)]
pub struct PeekErrors {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// A step is running.
    pub running: Signal<In, bool>,
    /// Potential read request.
    pub peek_req: Signal<In, bool>,
    /// Potential read: core.
    pub peek_core: Signal<In, Bits<CORE_BITS>>,
    /// Per core: its potential at `peek_slot` (one clock after).
    pub core_data: Vec<Signal<In, Bits<X>>>,
    /// Potential read: `peek_data` is valid.
    pub peek_valid: Signal<Out, bool>,
    /// Potential read: the potential, 32-bit two's complement.
    pub peek_data: Signal<Out, Bits<32>>,
    /// Error bit 0: a packet for a missing core was dropped this clock.
    pub missing: Signal<In, bool>,
    /// Error bit 1: an input index out of range was dropped this clock.
    pub bad_input: Signal<In, bool>,
    /// Error bit 2, per core: an out-of-range axon key arrived.
    pub bad_key: Vec<Signal<In, bool>>,
    /// Configuration write (error bit 3 during a step).
    pub cfg_we: Signal<In, bool>,
    /// Network reset (error bit 3 during a step).
    pub clear: Signal<In, bool>,
    /// Clear the error flags.
    pub err_clear: Signal<In, bool>,
    /// Sticky error flags.
    pub errors: Signal<Out, Bits<4>>,
    peek_pend: DFF<bool>,
    peek_sel: DFF<Bits<CORE_BITS>>,
    err: DFF<Bits<4>>,
    new_err: Signal<Local, Bits<4>>,
    ids: Vec<Constant<Bits<CORE_BITS>>>,
    e0: Constant<Bits<4>>,
    e1: Constant<Bits<4>>,
    e2: Constant<Bits<4>>,
    e3: Constant<Bits<4>>,
    zero4: Constant<Bits<4>>,
    zero32: Constant<Bits<32>>,
    unused_ok: Signal<Local, bool>,
}

impl PeekErrors {
    /// Potential read and error flags of `k` cores.
    pub fn new(k: usize) -> PeekErrors {
        PeekErrors {
            clock: Default::default(),
            running: Default::default(),
            peek_req: Default::default(),
            peek_core: Default::default(),
            core_data: (0..k).map(|_| Default::default()).collect(),
            peek_valid: Default::default(),
            peek_data: Default::default(),
            missing: Default::default(),
            bad_input: Default::default(),
            bad_key: (0..k).map(|_| Default::default()).collect(),
            cfg_we: Default::default(),
            clear: Default::default(),
            err_clear: Default::default(),
            errors: Default::default(),
            peek_pend: Default::default(),
            peek_sel: Default::default(),
            err: Default::default(),
            new_err: Default::default(),
            ids: (0..k).map(|i| c::<CORE_BITS>(i as u64)).collect(),
            e0: c::<4>(1),
            e1: c::<4>(2),
            e2: c::<4>(4),
            e3: c::<4>(8),
            zero4: c::<4>(0),
            zero32: c::<32>(0),
            unused_ok: Default::default(),
        }
    }
}

impl Logic for PeekErrors {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, peek_pend, peek_sel, err);
        // Potential read: the addressed core answers.
        self.peek_pend.d.next = self.peek_req.val() & !self.running.val();
        self.peek_sel.d.next = self.peek_core.val();
        self.peek_valid.next = self.peek_pend.q.val();
        self.peek_data.next = self.zero32.val();
        // The potentials' bits above 32 are not reported.
        self.unused_ok.next = false;
        for i in 0..self.ids.len() {
            if self.peek_sel.q.val() == self.ids[i].val() {
                self.peek_data.next = self.core_data[i].val().get_bits::<32>(0);
            }
            self.unused_ok.next = self.unused_ok.val() | self.core_data[i].val().get_bits::<8>(32).any();
        }
        // Error flags.
        self.new_err.next = self.zero4.val();
        if self.missing.val() {
            self.new_err.next = self.new_err.val() | self.e0.val();
        }
        if self.bad_input.val() {
            self.new_err.next = self.new_err.val() | self.e1.val();
        }
        for i in 0..self.ids.len() {
            if self.bad_key[i].val() {
                self.new_err.next = self.new_err.val() | self.e2.val();
            }
        }
        if (self.peek_req.val() | self.cfg_we.val() | self.clear.val()) & self.running.val() {
            self.new_err.next = self.new_err.val() | self.e3.val();
        }
        self.err.d.next = self.err.q.val() | self.new_err.val();
        if self.err_clear.val() {
            self.err.d.next = self.new_err.val();
        }
        self.errors.next = self.err.q.val();
    }
}
