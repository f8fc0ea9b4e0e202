//! The crossbar interconnect (specs with `interconnect = "crossbar"`, and
//! one-core meshes): every core's input port takes, each clock, the first
//! offering source (cores in order, the host last) whose packet is for it.
//! Different ports serve different sources in the same clock, so up to one
//! packet per core moves per clock and a full core only holds back the
//! packets that are for it. A packet for a core that does not exist is
//! dropped and flagged (`missing`). Purely combinational: nothing is ever
//! in flight inside it (`empty` is always high).

use crate::fabric::c;
use crate::integrate::KEY_BITS;
use crate::interconnect::{NetPorts, Topology};
use crate::route::CORE_BITS;
use rust_hdl::prelude::*;
use std::ops::{Deref, DerefMut};

/// See the module docs.
#[derive(LogicBlock)]
pub struct Crossbar {
    /// The ports (see [`NetPorts`]).
    pub io: NetPorts,
    ids: Vec<Constant<Bits<CORE_BITS>>>,
    /// Core i's input port has chosen a source this clock.
    found: Vec<Signal<Local, bool>>,
    /// Core j's packet is for an existing core.
    src_ok: Vec<Signal<Local, bool>>,
    host_ok: Signal<Local, bool>,
    zero_key: Constant<Bits<KEY_BITS>>,
    unused_ok: Signal<Local, bool>,
    _n: usize,
}

impl Crossbar {
    /// A crossbar between `k` cores and the host.
    pub fn new(k: usize) -> Crossbar {
        Crossbar {
            io: NetPorts::new(k),
            ids: (0..k).map(|i| c::<CORE_BITS>(i as u64)).collect(),
            found: (0..k).map(|_| Default::default()).collect(),
            src_ok: (0..k).map(|_| Default::default()).collect(),
            host_ok: Default::default(),
            zero_key: c::<KEY_BITS>(0),
            unused_ok: Default::default(),
            _n: k,
        }
    }
}

impl Deref for Crossbar {
    type Target = NetPorts;
    fn deref(&self) -> &NetPorts {
        &self.io
    }
}

impl DerefMut for Crossbar {
    fn deref_mut(&mut self) -> &mut NetPorts {
        &mut self.io
    }
}

impl Topology for Crossbar {}

impl Logic for Crossbar {
    #[hdl_gen]
    fn update(&mut self) {
        // A purely combinational block: the bundle's clock is not needed
        // (rust-hdl cannot read a clock's bit in logic, hence the compare).
        self.unused_ok.next = self.clock.val() == self.clock.val();
        self.empty.next = true;
        self.missing.next = false;
        self.host_ready.next = false;
        for j in 0..self._n {
            self.src_ready[j].next = false;
            self.src_ok[j].next = false;
            for i in 0..self._n {
                if self.src_core[j].val() == self.ids[i].val() {
                    self.src_ok[j].next = true;
                }
            }
            if self.src_valid[j].val() & !self.src_ok[j].val() {
                self.src_ready[j].next = true;
                self.missing.next = true;
            }
        }
        self.host_ok.next = false;
        for i in 0..self._n {
            if self.host_core.val() == self.ids[i].val() {
                self.host_ok.next = true;
            }
        }
        if self.host_valid.val() & !self.host_ok.val() {
            self.host_ready.next = true;
            self.missing.next = true;
        }
        for i in 0..self._n {
            self.found[i].next = false;
            self.dst_valid[i].next = false;
            self.dst_key[i].next = self.zero_key.val();
            for j in 0..self._n {
                if !self.found[i].val() & self.src_valid[j].val() & (self.src_core[j].val() == self.ids[i].val()) {
                    self.found[i].next = true;
                    self.dst_valid[i].next = self.dst_ready[i].val();
                    self.dst_key[i].next = self.src_key[j].val();
                    self.src_ready[j].next = self.dst_ready[i].val();
                }
            }
            if !self.found[i].val() & self.host_valid.val() & (self.host_core.val() == self.ids[i].val()) {
                self.found[i].next = true;
                self.dst_valid[i].next = self.dst_ready[i].val();
                self.dst_key[i].next = self.host_key.val();
                self.host_ready.next = self.dst_ready[i].val();
            }
        }
    }
}
