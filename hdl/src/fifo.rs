//! A small first-word-fall-through FIFO of axon keys (4 entries).
//!
//! Registers and a shift on pop, so the head is readable in the same clock
//! and every width is explicit (rust-hdl's own FIFO widget relies on
//! implicit Verilog widening, which `verilator -Wall` rejects). Four
//! entries absorb a burst while the integrate engine reads a row; beyond
//! that `full` pushes back on the sender, so nothing is ever dropped.

use rust_hdl::prelude::*;

/// Key width.
pub const W: usize = 16;

/// See the module docs.
#[derive(LogicBlock)]
pub struct KeyFifo {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Push `data_in` (ignored when full).
    pub push: Signal<In, bool>,
    /// Pushed value.
    pub data_in: Signal<In, Bits<W>>,
    /// Pop the head (ignored when empty).
    pub pop: Signal<In, bool>,
    /// The head.
    pub head: Signal<Out, Bits<W>>,
    /// Nothing stored.
    pub empty: Signal<Out, bool>,
    /// No room.
    pub full: Signal<Out, bool>,
    /// Room for two more at most: a producer that stops here may still
    /// push the two items it has in flight (the sweep's pipeline holds two
    /// slots after its issue stage).
    pub almost_full: Signal<Out, bool>,
    e0: DFF<Bits<W>>,
    e1: DFF<Bits<W>>,
    e2: DFF<Bits<W>>,
    e3: DFF<Bits<W>>,
    count: DFF<Bits<3>>,
    do_push: Signal<Local, bool>,
    do_pop: Signal<Local, bool>,
    pos: Signal<Local, Bits<3>>,
    k0: Constant<Bits<3>>,
    k1: Constant<Bits<3>>,
    k2: Constant<Bits<3>>,
    k3: Constant<Bits<3>>,
    k4: Constant<Bits<3>>,
}

impl Default for KeyFifo {
    fn default() -> Self {
        let k = |v: u64| Constant::new(Bits::<3>::from(v));
        KeyFifo {
            clock: Default::default(),
            push: Default::default(),
            data_in: Default::default(),
            pop: Default::default(),
            head: Default::default(),
            empty: Default::default(),
            full: Default::default(),
            almost_full: Default::default(),
            e0: Default::default(),
            e1: Default::default(),
            e2: Default::default(),
            e3: Default::default(),
            count: Default::default(),
            do_push: Default::default(),
            do_pop: Default::default(),
            pos: Default::default(),
            k0: k(0),
            k1: k(1),
            k2: k(2),
            k3: k(3),
            k4: k(4),
        }
    }
}

impl Logic for KeyFifo {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, e0, e1, e2, e3, count);
        self.empty.next = self.count.q.val() == self.k0.val();
        self.full.next = self.count.q.val() == self.k4.val();
        self.almost_full.next = self.count.q.val() >= self.k2.val();
        self.head.next = self.e0.q.val();
        self.do_pop.next = self.pop.val() & (self.count.q.val() != self.k0.val());
        self.do_push.next = self.push.val() & (self.count.q.val() != self.k4.val());
        // Pop shifts every entry down by one.
        if self.do_pop.val() {
            self.e0.d.next = self.e1.q.val();
            self.e1.d.next = self.e2.q.val();
            self.e2.d.next = self.e3.q.val();
        }
        // Push writes the first free entry after the (optional) shift.
        self.pos.next = self.count.q.val();
        if self.do_pop.val() {
            self.pos.next = self.count.q.val() - self.k1.val();
        }
        if self.do_push.val() {
            if self.pos.val() == self.k0.val() {
                self.e0.d.next = self.data_in.val();
            }
            if self.pos.val() == self.k1.val() {
                self.e1.d.next = self.data_in.val();
            }
            if self.pos.val() == self.k2.val() {
                self.e2.d.next = self.data_in.val();
            }
            if self.pos.val() == self.k3.val() {
                self.e3.d.next = self.data_in.val();
            }
        }
        if self.do_push.val() & !self.do_pop.val() {
            self.count.d.next = self.count.q.val() + self.k1.val();
        }
        if self.do_pop.val() & !self.do_push.val() {
            self.count.d.next = self.count.q.val() - self.k1.val();
        }
    }
}
