//! The host's spike streams. Spike-in: an input index on `in_*` goes to
//! the host input router's spike FIFO when it has room; an index out of
//! range is taken and dropped (`bad_input`, error bit 1). Spike-out: the
//! first core (in order) with a spike report offers it as (core, slot) on
//! `out_*` and pops it when the host takes it.

use crate::fabric::c;
use crate::route::CORE_BITS;
use crate::sweep::SLOT_BITS;
use rust_hdl::prelude::*;

/// See the module docs.
#[derive(LogicBlock)]
pub struct SpikeIo {
    /// Spike-in valid.
    pub in_valid: Signal<In, bool>,
    /// Spike-in: input index.
    pub in_index: Signal<In, Bits<SLOT_BITS>>,
    /// Spike-in ready.
    pub in_ready: Signal<Out, bool>,
    /// The host router's spike FIFO is full.
    pub host_hold: Signal<In, bool>,
    /// To the host router: push `in_index`.
    pub host_spike: Signal<Out, bool>,
    /// An input index out of range was dropped this clock.
    pub bad_input: Signal<Out, bool>,
    /// Per core: a spike report is waiting.
    pub rep_valid: Vec<Signal<In, bool>>,
    /// Per core: its slot.
    pub rep_slot: Vec<Signal<In, Bits<SLOT_BITS>>>,
    /// Per core: pop it.
    pub rep_pop: Vec<Signal<Out, bool>>,
    /// Spike-out valid.
    pub out_valid: Signal<Out, bool>,
    /// Spike-out core.
    pub out_core: Signal<Out, Bits<CORE_BITS>>,
    /// Spike-out slot.
    pub out_slot: Signal<Out, Bits<SLOT_BITS>>,
    /// Spike-out ready.
    pub out_ready: Signal<In, bool>,
    in_range: Signal<Local, bool>,
    n_inputs: Constant<Bits<SLOT_BITS>>,
    /// Any host inputs at all.
    any_inputs: Constant<bool>,
    /// 1 when `in_index` needs a range check (0 < inputs < 2^SLOT_BITS),
    /// else 0: with no inputs or all 2^SLOT_BITS of them the check would be
    /// a constant comparison (a lint warning, and for 2^SLOT_BITS a
    /// constant that does not fit the index).
    _check: usize,
    /// 1 - `_check`: without the check, `in_index` and `n_inputs` go to
    /// this sink so the lint does not call them unused (Verilator ignores
    /// unused signals whose name contains "unused").
    _nocheck: usize,
    unused_index: Signal<Local, bool>,
    rep_taken: Signal<Local, bool>,
    rep_grant: Vec<Signal<Local, bool>>,
    ids: Vec<Constant<Bits<CORE_BITS>>>,
    zero_core: Constant<Bits<CORE_BITS>>,
    zero_slot: Constant<Bits<SLOT_BITS>>,
}

impl SpikeIo {
    /// The spike ports of `k` cores and `n_inputs` host inputs.
    pub fn new(k: usize, n_inputs: u32) -> SpikeIo {
        let check = usize::from(n_inputs > 0 && (n_inputs as u64) < 1 << SLOT_BITS);
        SpikeIo {
            in_valid: Default::default(),
            in_index: Default::default(),
            in_ready: Default::default(),
            host_hold: Default::default(),
            host_spike: Default::default(),
            bad_input: Default::default(),
            rep_valid: (0..k).map(|_| Default::default()).collect(),
            rep_slot: (0..k).map(|_| Default::default()).collect(),
            rep_pop: (0..k).map(|_| Default::default()).collect(),
            out_valid: Default::default(),
            out_core: Default::default(),
            out_slot: Default::default(),
            out_ready: Default::default(),
            in_range: Default::default(),
            n_inputs: c::<SLOT_BITS>(n_inputs as u64),
            any_inputs: Constant::new(n_inputs > 0),
            _check: check,
            _nocheck: 1 - check,
            unused_index: Default::default(),
            rep_taken: Default::default(),
            rep_grant: (0..k).map(|_| Default::default()).collect(),
            ids: (0..k).map(|i| c::<CORE_BITS>(i as u64)).collect(),
            zero_core: c::<CORE_BITS>(0),
            zero_slot: c::<SLOT_BITS>(0),
        }
    }
}

impl Logic for SpikeIo {
    #[hdl_gen]
    fn update(&mut self) {
        // Spike-in.
        self.in_range.next = self.any_inputs.val();
        for _c in 0..self._check {
            self.in_range.next = self.in_index.val() < self.n_inputs.val();
        }
        self.unused_index.next = false;
        for _c in 0..self._nocheck {
            self.unused_index.next = self.in_index.val() == self.n_inputs.val();
        }
        self.host_spike.next = self.in_valid.val() & !self.host_hold.val() & self.in_range.val();
        self.bad_input.next = self.in_valid.val() & !self.host_hold.val() & !self.in_range.val();
        self.in_ready.next = !self.host_hold.val();
        // Spike-out: the first core with a report wins.
        self.rep_taken.next = false;
        self.out_core.next = self.zero_core.val();
        self.out_slot.next = self.zero_slot.val();
        for i in 0..self.rep_valid.len() {
            self.rep_grant[i].next = false;
            if !self.rep_taken.val() & self.rep_valid[i].val() {
                self.rep_taken.next = true;
                self.rep_grant[i].next = true;
                self.out_core.next = self.ids[i].val();
                self.out_slot.next = self.rep_slot[i].val();
            }
        }
        self.out_valid.next = self.rep_taken.val();
        for i in 0..self.rep_valid.len() {
            self.rep_pop[i].next = self.rep_grant[i].val() & self.out_ready.val();
        }
    }
}
