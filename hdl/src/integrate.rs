//! The integrate engine of a core: input spike FIFO, axon table, synapse
//! memory and the accumulate pipeline (one synapse word per clock, up to
//! two synaptic events per clock).
//!
//! Pipeline: the FIFO head (an axon key) reads its axon word while the
//! previous row is still being read, so consecutive rows follow without a
//! bubble; the row `row_base .. row_base+row_len` of the synapse memory is
//! read one word per clock. The axon word's `dense` bit gives the row's
//! format (`spikeforge_hw::memory::AxonWord`, `SynapseWord`):
//! - sparse: each word is one event (target slot, weight);
//! - dense: word j holds [`DENSE_LANES`](spikeforge_hw::memory::DENSE_LANES)
//!   = 2 weights, lane k for slot `start + 2·j + k`: two events, for slots
//!   of different parity.
//!
//! The neuron array splits the accumulators by slot parity and offers one
//! read-modify-write port per parity, so the events of a word go to the
//! port of their slot's parity (a dense word always uses both, a sparse
//! word one) and each port reads its accumulator, adds, and writes back one
//! clock later. The write of clock c is not yet visible to the read issued
//! in clock c, so a back-to-back hit on the same slot takes the value just
//! written instead (forwarding, per port). Word layouts: docs/hardware.md.

use crate::fifo::KeyFifo;
use crate::mem::SpecRam;
use crate::neuron::X;
use crate::sweep::SLOT_BITS;
use rust_hdl::prelude::*;

/// Axon key width of the ports.
pub const KEY_BITS: usize = 16;
/// Synapse address width of the ports: the top-level configuration address
/// width (synapse memories are the deepest).
pub const SYN_BITS: usize = spikeforge_hw::ports::CFG_ADDR_BITS;
/// Axon word port: the word is at most 2·24+2+16 = 66 bits, and the widest
/// slice (a 16-bit start slot at offset 2·24+2) ends there too.
pub const AXON_WORD: usize = 66;
/// Synapse word port: 16+16 bits plus room for a 40-bit weight slice at
/// lane 1 (offset W ≤ 16).
pub const SYN_WORD: usize = 56;

fn c<const N: usize>(v: u64) -> Constant<Bits<N>> {
    let m = if N >= 64 { u64::MAX } else { (1u64 << N) - 1 };
    Constant::new(Bits::<N>::from(v & m))
}

/// See the module docs.
#[derive(LogicBlock)]
pub struct Integrator {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Incoming packet (axon key) valid.
    pub in_valid: Signal<In, bool>,
    /// Incoming axon key.
    pub in_key: Signal<In, Bits<KEY_BITS>>,
    /// The FIFO has room (a packet is taken when valid and ready).
    pub in_ready: Signal<Out, bool>,
    /// Nothing queued or in flight.
    pub idle: Signal<Out, bool>,
    /// A key beyond the axon table arrived (it was dropped).
    pub bad_key: Signal<Out, bool>,
    /// Even-slot accumulator port: read address (`slot >> 1`).
    pub acc_even_read_addr: Signal<Out, Bits<SLOT_BITS>>,
    /// Even port: read data (the low accumulator-width bits are used), one clock after the read.
    pub acc_even_read_data: Signal<In, Bits<X>>,
    /// Even port: write strobe.
    pub acc_even_write: Signal<Out, bool>,
    /// Even port: write address (`slot >> 1`).
    pub acc_even_write_addr: Signal<Out, Bits<SLOT_BITS>>,
    /// Even port: write value (accumulator-width, zero-extended).
    pub acc_even_write_data: Signal<Out, Bits<X>>,
    /// Odd-slot accumulator port: read address (`slot >> 1`).
    pub acc_odd_read_addr: Signal<Out, Bits<SLOT_BITS>>,
    /// Odd port: read data (sign-extended), one clock after the read.
    pub acc_odd_read_data: Signal<In, Bits<X>>,
    /// Odd port: write strobe.
    pub acc_odd_write: Signal<Out, bool>,
    /// Odd port: write address (`slot >> 1`).
    pub acc_odd_write_addr: Signal<Out, Bits<SLOT_BITS>>,
    /// Odd port: write value.
    pub acc_odd_write_data: Signal<Out, Bits<X>>,
    /// Configuration writes of the axon table.
    pub cfg_axon_we: Signal<In, bool>,
    /// Configuration writes of the synapse memory.
    pub cfg_syn_we: Signal<In, bool>,
    /// Configuration address.
    pub cfg_addr: Signal<In, Bits<SYN_BITS>>,
    /// Configuration data.
    pub cfg_data: Signal<In, Bits<AXON_WORD>>,
    /// Input FIFO.
    pub fifo: KeyFifo,
    /// Axon table.
    pub axons: SpecRam<KEY_BITS, AXON_WORD>,
    /// Synapse memory.
    pub synapses: SpecRam<SYN_BITS, SYN_WORD>,
    // Stage registers. (Slice offsets are as wide as the index of the
    // word port they slice: Verilator's width rule.)
    ax_pending: DFF<bool>,
    row_active: DFF<bool>,
    row_ptr: DFF<Bits<SYN_BITS>>,
    row_end: DFF<Bits<SYN_BITS>>,
    /// `row_ptr + 1`, kept in a register so that the end-of-row compare
    /// (which decides the next FIFO pop) waits for no adder.
    row_ptr1: DFF<Bits<SYN_BITS>>,
    row_dense: DFF<bool>,
    row_slot: DFF<Bits<SLOT_BITS>>,
    nxt_valid: DFF<bool>,
    nxt_base: DFF<Bits<SYN_BITS>>,
    nxt_end: DFF<Bits<SYN_BITS>>,
    nxt_dense: DFF<bool>,
    nxt_start: DFF<Bits<SLOT_BITS>>,
    last: Signal<Local, bool>,
    consume: Signal<Local, bool>,
    syn_valid: DFF<bool>,
    syn_dense: DFF<bool>,
    syn_slot: DFF<Bits<SLOT_BITS>>,
    // Per parity port: the event whose accumulator is being read, and the
    // last write (for forwarding).
    ev_acc_valid: DFF<bool>,
    ev_acc_addr: DFF<Bits<SLOT_BITS>>,
    ev_acc_weight: DFF<Bits<X>>,
    ev_last_valid: DFF<bool>,
    ev_last_addr: DFF<Bits<SLOT_BITS>>,
    ev_last_value: DFF<Bits<X>>,
    od_acc_valid: DFF<bool>,
    od_acc_addr: DFF<Bits<SLOT_BITS>>,
    od_acc_weight: DFF<Bits<X>>,
    od_last_valid: DFF<bool>,
    od_last_addr: DFF<Bits<SLOT_BITS>>,
    od_last_value: DFF<Bits<X>>,
    bad: DFF<bool>,
    row_base: Signal<Local, Bits<SYN_BITS>>,
    row_len: Signal<Local, Bits<SYN_BITS>>,
    w0: Signal<Local, Bits<X>>,
    w1: Signal<Local, Bits<X>>,
    target: Signal<Local, Bits<SLOT_BITS>>,
    slot1: Signal<Local, Bits<SLOT_BITS>>,
    ev_valid: Signal<Local, bool>,
    ev_slot: Signal<Local, Bits<SLOT_BITS>>,
    ev_weight: Signal<Local, Bits<X>>,
    od_valid: Signal<Local, bool>,
    od_slot: Signal<Local, Bits<SLOT_BITS>>,
    od_weight: Signal<Local, Bits<X>>,
    ev_base: Signal<Local, Bits<X>>,
    ev_sum: Signal<Local, Bits<X>>,
    od_base: Signal<Local, Bits<X>>,
    od_sum: Signal<Local, Bits<X>>,
    take: Signal<Local, bool>,
    unused_ok: Signal<Local, bool>,
    off_base: Constant<Bits<7>>,
    mask_base: Constant<Bits<SYN_BITS>>,
    mask_len: Constant<Bits<SYN_BITS>>,
    off_dense: Constant<Bits<7>>,
    off_start: Constant<Bits<7>>,
    mask_start: Constant<Bits<SLOT_BITS>>,
    off_target: Constant<Bits<6>>,
    mask_target: Constant<Bits<SLOT_BITS>>,
    off_lane1: Constant<Bits<6>>,
    mask_w: Constant<Bits<X>>,
    /// The accumulator width: only these bits of a sum are stored, so the
    /// adders are cut to them (Yosys drops the constant upper bits).
    mask_a: Constant<Bits<X>>,
    sign_w: Constant<Bits<X>>,
    ext_w: Constant<Bits<X>>,
    one: Constant<Bits<SYN_BITS>>,
    zero_syn: Constant<Bits<SYN_BITS>>,
    one_slot: Constant<Bits<SLOT_BITS>>,
    lanes: Constant<Bits<SLOT_BITS>>,
    n_axons: Constant<Bits<KEY_BITS>>,
}

/// Initial contents (full-depth words) and `$readmemh` files.
#[derive(Debug, Clone, Default)]
pub struct IntegrateInit {
    /// Axon table words.
    pub axons: Vec<u128>,
    /// Synapse words.
    pub synapses: Vec<u128>,
    /// Files for axons and synapses.
    pub files: Option<(String, String)>,
}

impl Integrator {
    /// An engine for a core with `a` axons, `s` synapse words, `n` slots,
    /// W-bit weights and `acc_bits`-bit accumulators. With
    /// `single_port_synapses` (`HardwareSpec::single_port_synapses`) the
    /// synapse memory is single-port and never preloaded.
    pub fn new(
        a: u32,
        s: u32,
        n: u32,
        weight_bits: u32,
        acc_bits: u32,
        single_port_synapses: bool,
        init: &IntegrateInit,
    ) -> Integrator {
        use spikeforge_hw::memory::{addr_bits, AxonWord, SynapseWord, DENSE_LANES};
        // The lane decode below is written for two lanes.
        const _: () = assert!(DENSE_LANES == 2);
        // Word layouts of the hardware contract (the mapper packs with the same).
        let ax = AxonWord::new(addr_bits(s), addr_bits(n));
        let sw = SynapseWord::new(weight_bits, addr_bits(n));
        let w = weight_bits as u64;
        let all = (1u64 << X) - 1;
        let (af, sf) = match &init.files {
            Some((a, s)) => (Some(a.clone()), Some(s.clone())),
            None => (None, None),
        };
        Integrator {
            clock: Default::default(),
            in_valid: Default::default(),
            in_key: Default::default(),
            in_ready: Default::default(),
            idle: Default::default(),
            bad_key: Default::default(),
            acc_even_read_addr: Default::default(),
            acc_even_read_data: Default::default(),
            acc_even_write: Default::default(),
            acc_even_write_addr: Default::default(),
            acc_even_write_data: Default::default(),
            acc_odd_read_addr: Default::default(),
            acc_odd_read_data: Default::default(),
            acc_odd_write: Default::default(),
            acc_odd_write_addr: Default::default(),
            acc_odd_write_data: Default::default(),
            cfg_axon_we: Default::default(),
            cfg_syn_we: Default::default(),
            cfg_addr: Default::default(),
            cfg_data: Default::default(),
            fifo: Default::default(),
            axons: SpecRam::new(ax.width() as usize, a as usize, &init.axons, af),
            synapses: if single_port_synapses {
                // A single-port memory with contents stays in block RAM
                // (`mem` module docs): the host loads it instead.
                SpecRam::new(sw.width() as usize, s as usize, &[], None).single_port()
            } else {
                SpecRam::new(sw.width() as usize, s as usize, &init.synapses, sf)
            },
            ax_pending: Default::default(),
            row_active: Default::default(),
            row_ptr: Default::default(),
            row_end: Default::default(),
            row_ptr1: Default::default(),
            row_dense: Default::default(),
            row_slot: Default::default(),
            nxt_valid: Default::default(),
            nxt_base: Default::default(),
            nxt_end: Default::default(),
            nxt_dense: Default::default(),
            nxt_start: Default::default(),
            last: Default::default(),
            consume: Default::default(),
            syn_valid: Default::default(),
            syn_dense: Default::default(),
            syn_slot: Default::default(),
            ev_acc_valid: Default::default(),
            ev_acc_addr: Default::default(),
            ev_acc_weight: Default::default(),
            ev_last_valid: Default::default(),
            ev_last_addr: Default::default(),
            ev_last_value: Default::default(),
            od_acc_valid: Default::default(),
            od_acc_addr: Default::default(),
            od_acc_weight: Default::default(),
            od_last_valid: Default::default(),
            od_last_addr: Default::default(),
            od_last_value: Default::default(),
            bad: Default::default(),
            row_base: Default::default(),
            row_len: Default::default(),
            w0: Default::default(),
            w1: Default::default(),
            target: Default::default(),
            slot1: Default::default(),
            ev_valid: Default::default(),
            ev_slot: Default::default(),
            ev_weight: Default::default(),
            od_valid: Default::default(),
            od_slot: Default::default(),
            od_weight: Default::default(),
            ev_base: Default::default(),
            ev_sum: Default::default(),
            od_base: Default::default(),
            od_sum: Default::default(),
            take: Default::default(),
            unused_ok: Default::default(),
            off_base: c::<7>(ax.base.offset as u64),
            mask_base: c::<SYN_BITS>(ax.base.mask() as u64),
            mask_len: c::<SYN_BITS>(ax.len.mask() as u64),
            off_dense: c::<7>(ax.dense.offset as u64),
            off_start: c::<7>(ax.start.offset as u64),
            mask_start: c::<SLOT_BITS>(ax.start.mask() as u64),
            off_target: c::<6>(sw.target.offset as u64),
            mask_target: c::<SLOT_BITS>(sw.target.mask() as u64),
            off_lane1: c::<6>(sw.lanes[1].offset as u64),
            mask_w: c::<X>((1 << w) - 1),
            mask_a: c::<X>((1 << acc_bits) - 1),
            sign_w: c::<X>(1 << (w - 1)),
            ext_w: c::<X>(all & !((1 << w) - 1)),
            one: c::<SYN_BITS>(1),
            zero_syn: c::<SYN_BITS>(0),
            one_slot: c::<SLOT_BITS>(1),
            lanes: c::<SLOT_BITS>(DENSE_LANES as u64),
            n_axons: c::<KEY_BITS>(a as u64),
        }
    }
}

impl Logic for Integrator {
    #[hdl_gen]
    fn update(&mut self) {
        self.fifo.clock.next = self.clock.val();
        self.axons.clock.next = self.clock.val();
        self.synapses.clock.next = self.clock.val();
        dff_setup!(
            self,
            clock,
            ax_pending,
            row_active,
            row_ptr,
            row_end,
            row_ptr1,
            row_dense,
            row_slot,
            nxt_valid,
            nxt_base,
            nxt_end,
            nxt_dense,
            nxt_start,
            syn_valid,
            syn_dense,
            syn_slot,
            ev_acc_valid,
            ev_acc_addr,
            ev_acc_weight,
            ev_last_valid,
            ev_last_addr,
            ev_last_value,
            od_acc_valid,
            od_acc_addr,
            od_acc_weight,
            od_last_valid,
            od_last_addr,
            od_last_value,
            bad
        );
        // Input FIFO.
        self.fifo.data_in.next = self.in_key.val();
        // Keys beyond the axon table are dropped and reported (a corrupt image).
        // Registered, so the flag has no combinational path back to the bus.
        self.bad.d.next = self.in_valid.val() & !self.fifo.full.val() & (self.in_key.val() >= self.n_axons.val());
        self.bad_key.next = self.bad.q.val();
        self.fifo.push.next = self.in_valid.val() & (self.in_key.val() < self.n_axons.val());
        self.in_ready.next = !self.fifo.full.val();

        // Row bookkeeping: the current row ends this clock, and a looked-up
        // next row (if any) starts right after it without a bubble.
        self.last.next = self.row_active.q.val() & (self.row_ptr1.q.val() == self.row_end.q.val());
        self.consume.next = self.nxt_valid.q.val() & (!self.row_active.q.val() | self.last.val());

        // Stage 1: look up the next key while the current row is read.
        self.take.next =
            !self.fifo.empty.val() & !self.ax_pending.q.val() & (!self.nxt_valid.q.val() | self.consume.val());
        self.fifo.pop.next = self.take.val();
        self.axons.read_address.next = self.fifo.head.val();
        self.ax_pending.d.next = self.take.val();

        // Stage 2: the axon word arrives; it becomes the next row.
        self.row_base.next =
            self.axons.read_data.val().get_bits::<SYN_BITS>(self.off_base.val().index()) & self.mask_base.val();
        self.row_len.next = self.axons.read_data.val().get_bits::<SYN_BITS>(0) & self.mask_len.val();
        if self.consume.val() {
            self.nxt_valid.d.next = false;
        }
        if self.ax_pending.q.val() & (self.row_len.val() != self.zero_syn.val()) {
            self.nxt_valid.d.next = true;
            self.nxt_base.d.next = self.row_base.val();
            self.nxt_end.d.next = self.row_base.val() + self.row_len.val();
            self.nxt_dense.d.next = self.axons.read_data.val().get_bit(self.off_dense.val().index());
            self.nxt_start.d.next =
                self.axons.read_data.val().get_bits::<SLOT_BITS>(self.off_start.val().index()) & self.mask_start.val();
        }

        // Stage 3: read one synapse word per clock; on a dense row the slot
        // of lane 0 advances by the lane count per word.
        self.synapses.read_address.next = self.row_ptr.q.val();
        self.syn_valid.d.next = false;
        self.syn_dense.d.next = self.row_dense.q.val();
        self.syn_slot.d.next = self.row_slot.q.val();
        if self.row_active.q.val() {
            self.syn_valid.d.next = true;
            self.row_ptr.d.next = self.row_ptr1.q.val();
            self.row_ptr1.d.next = self.row_ptr1.q.val() + self.one.val();
            self.row_slot.d.next = self.row_slot.q.val() + self.lanes.val();
            if self.last.val() {
                self.row_active.d.next = false;
            }
        }
        if self.consume.val() {
            self.row_active.d.next = true;
            self.row_ptr.d.next = self.nxt_base.q.val();
            self.row_ptr1.d.next = self.nxt_base.q.val() + self.one.val();
            self.row_end.d.next = self.nxt_end.q.val();
            self.row_dense.d.next = self.nxt_dense.q.val();
            self.row_slot.d.next = self.nxt_start.q.val();
        }

        // Stage 4: decode the word into events for the parity ports and
        // read their accumulators.
        self.target.next =
            self.synapses.read_data.val().get_bits::<SLOT_BITS>(self.off_target.val().index()) & self.mask_target.val();
        self.w0.next = self.synapses.read_data.val().get_bits::<X>(0) & self.mask_w.val();
        if (self.w0.val() & self.sign_w.val()).any() {
            self.w0.next = (self.synapses.read_data.val().get_bits::<X>(0) & self.mask_w.val()) | self.ext_w.val();
        }
        self.w1.next = self.synapses.read_data.val().get_bits::<X>(self.off_lane1.val().index()) & self.mask_w.val();
        if (self.w1.val() & self.sign_w.val()).any() {
            self.w1.next = (self.synapses.read_data.val().get_bits::<X>(self.off_lane1.val().index())
                & self.mask_w.val())
                | self.ext_w.val();
        }
        self.slot1.next = self.syn_slot.q.val() + self.one_slot.val();
        // Sparse: one event, on the port of the target's parity.
        self.ev_valid.next = self.syn_valid.q.val() & !self.target.val().get_bit(0);
        self.od_valid.next = self.syn_valid.q.val() & self.target.val().get_bit(0);
        self.ev_slot.next = self.target.val();
        self.od_slot.next = self.target.val();
        self.ev_weight.next = self.w0.val();
        self.od_weight.next = self.w0.val();
        if self.syn_dense.q.val() {
            // Dense: lanes 0 and 1 are consecutive slots, one per parity.
            self.ev_valid.next = self.syn_valid.q.val();
            self.od_valid.next = self.syn_valid.q.val();
            if self.syn_slot.q.val().get_bit(0) {
                self.od_slot.next = self.syn_slot.q.val();
                self.ev_slot.next = self.slot1.val();
                self.ev_weight.next = self.w1.val();
            } else {
                self.ev_slot.next = self.syn_slot.q.val();
                self.od_slot.next = self.slot1.val();
                self.od_weight.next = self.w1.val();
            }
        }
        self.acc_even_read_addr.next = self.ev_slot.val() >> self.one_slot.val();
        self.acc_odd_read_addr.next = self.od_slot.val() >> self.one_slot.val();
        self.ev_acc_valid.d.next = self.ev_valid.val();
        self.ev_acc_addr.d.next = self.ev_slot.val() >> self.one_slot.val();
        self.ev_acc_weight.d.next = self.ev_weight.val();
        self.od_acc_valid.d.next = self.od_valid.val();
        self.od_acc_addr.d.next = self.od_slot.val() >> self.one_slot.val();
        self.od_acc_weight.d.next = self.od_weight.val();

        // Stage 5: add and write back, each port forwarding its previous write.
        self.ev_base.next = self.acc_even_read_data.val();
        if self.ev_last_valid.q.val() & (self.ev_last_addr.q.val() == self.ev_acc_addr.q.val()) {
            self.ev_base.next = self.ev_last_value.q.val();
        }
        self.ev_sum.next = (self.ev_base.val() + self.ev_acc_weight.q.val()) & self.mask_a.val();
        self.acc_even_write.next = self.ev_acc_valid.q.val();
        self.acc_even_write_addr.next = self.ev_acc_addr.q.val();
        self.acc_even_write_data.next = self.ev_sum.val();
        self.ev_last_valid.d.next = self.ev_acc_valid.q.val();
        self.ev_last_addr.d.next = self.ev_acc_addr.q.val();
        self.ev_last_value.d.next = self.ev_sum.val();

        self.od_base.next = self.acc_odd_read_data.val();
        if self.od_last_valid.q.val() & (self.od_last_addr.q.val() == self.od_acc_addr.q.val()) {
            self.od_base.next = self.od_last_value.q.val();
        }
        self.od_sum.next = (self.od_base.val() + self.od_acc_weight.q.val()) & self.mask_a.val();
        self.acc_odd_write.next = self.od_acc_valid.q.val();
        self.acc_odd_write_addr.next = self.od_acc_addr.q.val();
        self.acc_odd_write_data.next = self.od_sum.val();
        self.od_last_valid.d.next = self.od_acc_valid.q.val();
        self.od_last_addr.d.next = self.od_acc_addr.q.val();
        self.od_last_value.d.next = self.od_sum.val();

        self.idle.next = self.fifo.empty.val()
            & !self.ax_pending.q.val()
            & !self.nxt_valid.q.val()
            & !self.row_active.q.val()
            & !self.syn_valid.q.val()
            & !self.ev_acc_valid.q.val()
            & !self.od_acc_valid.q.val();

        // Configuration writes.
        self.axons.write_address.next = self.cfg_addr.val().get_bits::<KEY_BITS>(0);
        self.axons.write_data.next = self.cfg_data.val();
        self.axons.write_enable.next = self.cfg_axon_we.val();
        self.synapses.write_address.next = self.cfg_addr.val();
        self.synapses.write_data.next = self.cfg_data.val().get_bits::<SYN_WORD>(0);
        self.synapses.write_enable.next = self.cfg_syn_we.val();

        // Word padding above the spec's fields.
        self.unused_ok.next =
            self.axons.read_data.val().any() | self.synapses.read_data.val().any() | self.fifo.almost_full.val();
    }
}
