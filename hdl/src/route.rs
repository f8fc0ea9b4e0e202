//! The route engine of a core: turns each spike of the sweep into one
//! packet per routing entry (destination core, axon key).
//!
//! Spikes wait in a FIFO (the sweep holds when it is nearly full).
//! For each, the route index gives (base, len); each routing entry is read
//! and offered as a packet until the interconnect takes it (`pkt_ready`),
//! so backpressure stalls the engine and never drops a packet. Word
//! layouts in docs/hardware.md.
//!
//! Two stages, so that a spike with one route costs one clock: the index
//! lookup of the next spike runs while the emitter offers the current
//! spike's packets, and a looked-up (base, count) waits in a one-entry
//! holding register while the emitter is busy. The FIFO is popped only
//! when the holding register will be free on the next clock, so a lookup
//! always has a place to land. Spikes with no routes (len 0) are dropped
//! at the lookup and cost one clock.

use crate::fifo::KeyFifo;
use crate::mem::SpecRam;
use crate::sweep::SLOT_BITS;
use rust_hdl::prelude::*;

/// Route address port width.
pub const ROUTE_BITS: usize = 20;
/// Core id port width (the top-level core id width).
pub const CORE_BITS: usize = spikeforge_hw::ports::CORE_BITS;
/// Route index word port: 2·20+1 bits plus slicing room.
pub const RIDX_WORD: usize = 64;
/// Route word port: 12+16 bits plus slicing room.
pub const ROUTE_WORD: usize = 48;
/// Route count width: a source has at most one route per destination
/// core (`IndexWord::for_routes`), so up to 4096.
const LEN_BITS: usize = CORE_BITS + 1;

fn c<const N: usize>(v: u64) -> Constant<Bits<N>> {
    let m = if N >= 64 { u64::MAX } else { (1u64 << N) - 1 };
    Constant::new(Bits::<N>::from(v & m))
}

/// See the module docs.
#[derive(LogicBlock)]
pub struct Router {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// A spike of `spike_slot`.
    pub spike: Signal<In, bool>,
    /// Slot that spiked.
    pub spike_slot: Signal<In, Bits<SLOT_BITS>>,
    /// The sweep must pause.
    pub hold: Signal<Out, bool>,
    /// Packet offered.
    pub pkt_valid: Signal<Out, bool>,
    /// Its destination core.
    pub pkt_core: Signal<Out, Bits<CORE_BITS>>,
    /// Its axon key.
    pub pkt_key: Signal<Out, Bits<16>>,
    /// The interconnect takes the packet on this clock.
    pub pkt_ready: Signal<In, bool>,
    /// No spike queued and no packet pending.
    pub idle: Signal<Out, bool>,
    /// Configuration: route index write.
    pub cfg_ridx_we: Signal<In, bool>,
    /// Configuration: route write.
    pub cfg_route_we: Signal<In, bool>,
    /// Configuration address.
    pub cfg_addr: Signal<In, Bits<ROUTE_BITS>>,
    /// Configuration data.
    pub cfg_data: Signal<In, Bits<RIDX_WORD>>,
    /// Spikes waiting.
    pub spikes: KeyFifo,
    /// Route index memory.
    pub ridx: SpecRam<SLOT_BITS, RIDX_WORD>,
    /// Routing memory.
    pub routes: SpecRam<ROUTE_BITS, ROUTE_WORD>,
    /// The index word read this clock belongs to a spike popped last clock.
    looked: DFF<bool>,
    /// A looked-up spike waiting for the emitter: valid, first route, count.
    pend_valid: DFF<bool>,
    pend_base: DFF<Bits<ROUTE_BITS>>,
    pend_len: DFF<Bits<LEN_BITS>>,
    /// The emitter offers route `ptr`, and `left` more after it; `last`
    /// (= `left` is 0) is a register so that the decision to take the next
    /// spike, which gates the FIFO pop, waits for no adder or comparator.
    emitting: DFF<bool>,
    ptr: DFF<Bits<ROUTE_BITS>>,
    left: DFF<Bits<LEN_BITS>>,
    last: DFF<bool>,
    base: Signal<Local, Bits<ROUTE_BITS>>,
    nptr: Signal<Local, Bits<ROUTE_BITS>>,
    len: Signal<Local, Bits<LEN_BITS>>,
    /// The lookup of this clock has routes.
    arrive: Signal<Local, bool>,
    /// The emitter takes a new spike this clock (it is idle or its last packet goes).
    free: Signal<Local, bool>,
    pend_next: Signal<Local, bool>,
    unused_ok: Signal<Local, bool>,
    off_base: Constant<Bits<6>>,
    mask_base: Constant<Bits<ROUTE_BITS>>,
    mask_len: Constant<Bits<LEN_BITS>>,
    off_core: Constant<Bits<6>>,
    mask_core: Constant<Bits<CORE_BITS>>,
    mask_key: Constant<Bits<16>>,
    one: Constant<Bits<ROUTE_BITS>>,
    one_len: Constant<Bits<LEN_BITS>>,
    zero_len: Constant<Bits<LEN_BITS>>,
}

/// Initial contents and `$readmemh` files.
#[derive(Debug, Clone, Default)]
pub struct RouteInit {
    /// Route index words.
    pub ridx: Vec<u128>,
    /// Route words.
    pub routes: Vec<u128>,
    /// Files for both.
    pub files: Option<(String, String)>,
}

impl Router {
    /// The engine of a core with `n` slots, `r` routes, `cores` cores and
    /// `a` axons per core, queueing spikes in `spikes` (its margin is the
    /// producer's items in flight after `hold`).
    pub fn new(n: u32, r: u32, cores: u32, a: u32, init: &RouteInit, spikes: KeyFifo) -> Router {
        use spikeforge_hw::memory::{addr_bits, IndexWord, RouteWord};
        // Word layouts of the hardware contract (the mapper packs with the same).
        let idx = IndexWord::for_routes(r, cores);
        let rw = RouteWord::new(addr_bits(a), addr_bits(cores));
        let (xf, rf) = match &init.files {
            Some((x, r)) => (Some(x.clone()), Some(r.clone())),
            None => (None, None),
        };
        Router {
            clock: Default::default(),
            spike: Default::default(),
            spike_slot: Default::default(),
            hold: Default::default(),
            pkt_valid: Default::default(),
            pkt_core: Default::default(),
            pkt_key: Default::default(),
            pkt_ready: Default::default(),
            idle: Default::default(),
            cfg_ridx_we: Default::default(),
            cfg_route_we: Default::default(),
            cfg_addr: Default::default(),
            cfg_data: Default::default(),
            spikes,
            ridx: SpecRam::new(idx.width() as usize, n as usize, &init.ridx, xf),
            routes: SpecRam::new(rw.width() as usize, r as usize, &init.routes, rf),
            looked: Default::default(),
            pend_valid: Default::default(),
            pend_base: Default::default(),
            pend_len: Default::default(),
            emitting: Default::default(),
            ptr: Default::default(),
            left: Default::default(),
            last: Default::default(),
            base: Default::default(),
            nptr: Default::default(),
            len: Default::default(),
            arrive: Default::default(),
            free: Default::default(),
            pend_next: Default::default(),
            unused_ok: Default::default(),
            off_base: c::<6>(idx.base.offset as u64),
            mask_base: c::<ROUTE_BITS>(idx.base.mask() as u64),
            mask_len: c::<LEN_BITS>(idx.len.mask() as u64),
            off_core: c::<6>(rw.core.offset as u64),
            mask_core: c::<CORE_BITS>(rw.core.mask() as u64),
            mask_key: c::<16>(rw.axon.mask() as u64),
            one: c::<ROUTE_BITS>(1),
            one_len: c::<LEN_BITS>(1),
            zero_len: c::<LEN_BITS>(0),
        }
    }
}

impl Logic for Router {
    #[hdl_gen]
    fn update(&mut self) {
        self.spikes.clock.next = self.clock.val();
        self.ridx.clock.next = self.clock.val();
        self.routes.clock.next = self.clock.val();
        dff_setup!(self, clock, looked, pend_valid, pend_base, pend_len, emitting, ptr, left, last);

        self.spikes.push.next = self.spike.val();
        self.spikes.data_in.next = self.spike_slot.val();
        self.hold.next = self.spikes.almost_full.val();
        // The head slot's index entry is always being read; a pop takes it.
        self.ridx.read_address.next = self.spikes.head.val();
        self.pkt_core.next =
            self.routes.read_data.val().get_bits::<CORE_BITS>(self.off_core.val().index()) & self.mask_core.val();
        self.pkt_key.next = self.routes.read_data.val().get_bits::<16>(0) & self.mask_key.val();
        self.base.next =
            self.ridx.read_data.val().get_bits::<ROUTE_BITS>(self.off_base.val().index()) & self.mask_base.val();
        self.len.next = self.ridx.read_data.val().get_bits::<LEN_BITS>(0) & self.mask_len.val();
        self.arrive.next = self.looked.q.val() & (self.len.val() != self.zero_len.val());

        // Emitter: the routing memory is addressed with the next pointer,
        // so the word for the packet offered next clock is already being
        // read: one packet per clock while the interconnect takes them.
        self.pkt_valid.next = self.emitting.q.val();
        self.nptr.next = self.ptr.q.val();
        self.free.next = !self.emitting.q.val();
        if self.emitting.q.val() & self.pkt_ready.val() {
            self.nptr.next = self.ptr.q.val() + self.one.val();
            self.left.d.next = self.left.q.val() - self.one_len.val();
            self.last.d.next = self.left.q.val() == self.one_len.val();
            if self.last.q.val() {
                self.free.next = true;
            }
        }
        // Next spike for the emitter: the waiting one first, else this
        // clock's lookup; a lookup the emitter cannot take waits.
        self.pend_next.next = self.pend_valid.q.val();
        if self.free.val() {
            self.emitting.d.next = false;
            if self.pend_valid.q.val() {
                self.emitting.d.next = true;
                self.nptr.next = self.pend_base.q.val();
                self.left.d.next = self.pend_len.q.val() - self.one_len.val();
                self.last.d.next = self.pend_len.q.val() == self.one_len.val();
                self.pend_next.next = self.arrive.val();
            } else if self.arrive.val() {
                self.emitting.d.next = true;
                self.nptr.next = self.base.val();
                self.left.d.next = self.len.val() - self.one_len.val();
                self.last.d.next = self.len.val() == self.one_len.val();
            }
        } else if self.arrive.val() {
            self.pend_next.next = true;
        }
        if self.arrive.val() {
            self.pend_base.d.next = self.base.val();
            self.pend_len.d.next = self.len.val();
        }
        self.pend_valid.d.next = self.pend_next.val();
        // Pop only when the lookup landing next clock has a place.
        self.spikes.pop.next = !self.spikes.empty.val() & !self.pend_next.val();
        self.looked.d.next = !self.spikes.empty.val() & !self.pend_next.val();
        self.ptr.d.next = self.nptr.val();
        self.routes.read_address.next = self.nptr.val();
        self.idle.next =
            self.spikes.empty.val() & !self.looked.q.val() & !self.pend_valid.q.val() & !self.emitting.q.val();

        self.ridx.write_address.next = self.cfg_addr.val().get_bits::<SLOT_BITS>(0);
        self.ridx.write_data.next = self.cfg_data.val();
        self.ridx.write_enable.next = self.cfg_ridx_we.val();
        self.routes.write_address.next = self.cfg_addr.val();
        self.routes.write_data.next = self.cfg_data.val().get_bits::<ROUTE_WORD>(0);
        self.routes.write_enable.next = self.cfg_route_we.val();
        self.unused_ok.next =
            self.ridx.read_data.val().any() | self.routes.read_data.val().any() | self.spikes.full.val();
    }
}
