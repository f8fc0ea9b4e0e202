//! The integrate engine of a core: input spike FIFO, axon table, synapse
//! memory and the accumulate pipeline (one synapse entry per clock).
//!
//! Pipeline: the FIFO head (an axon key) reads its axon table entry while
//! the previous row is still being read, so consecutive rows follow without
//! a bubble; the row `row_base .. row_base+row_len` of the synapse memory is
//! read one entry per clock; each entry's target slot reads its accumulator (through
//! the neuron array's integrate port, bank `!bank`), and one clock later the
//! sum is written back. The write of clock c is not yet visible to the read
//! issued in clock c, so a back-to-back hit on the same slot takes the value
//! just written instead (forwarding). Word layouts: docs/hardware.md.

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
/// Axon word port: 2·24+1 bits plus slicing room.
pub const AXON_WORD: usize = 64;
/// Synapse word port: 16+16 bits plus room for a 40-bit weight slice.
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
    /// Accumulator read (to the neuron array's integrate port).
    pub acc_read_slot: Signal<Out, Bits<SLOT_BITS>>,
    /// Accumulator read data (sign-extended), one clock after the read.
    pub acc_read_data: Signal<In, Bits<X>>,
    /// Accumulator write strobe.
    pub acc_write: Signal<Out, bool>,
    /// Accumulator write address.
    pub acc_write_slot: Signal<Out, Bits<SLOT_BITS>>,
    /// Accumulator write value.
    pub acc_write_data: Signal<Out, Bits<X>>,
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
    // Stage registers.
    ax_pending: DFF<bool>,
    row_active: DFF<bool>,
    row_ptr: DFF<Bits<SYN_BITS>>,
    row_end: DFF<Bits<SYN_BITS>>,
    nxt_valid: DFF<bool>,
    nxt_base: DFF<Bits<SYN_BITS>>,
    nxt_end: DFF<Bits<SYN_BITS>>,
    last: Signal<Local, bool>,
    consume: Signal<Local, bool>,
    syn_valid: DFF<bool>,
    acc_valid: DFF<bool>,
    acc_slot: DFF<Bits<SLOT_BITS>>,
    acc_weight: DFF<Bits<X>>,
    last_valid: DFF<bool>,
    last_slot: DFF<Bits<SLOT_BITS>>,
    last_value: DFF<Bits<X>>,
    bad: DFF<bool>,
    row_base: Signal<Local, Bits<SYN_BITS>>,
    row_len: Signal<Local, Bits<SYN_BITS>>,
    weight: Signal<Local, Bits<X>>,
    target: Signal<Local, Bits<SLOT_BITS>>,
    base: Signal<Local, Bits<X>>,
    sum: Signal<Local, Bits<X>>,
    take: Signal<Local, bool>,
    unused_ok: Signal<Local, bool>,
    off_base: Constant<Bits<6>>,
    mask_base: Constant<Bits<SYN_BITS>>,
    mask_len: Constant<Bits<SYN_BITS>>,
    off_target: Constant<Bits<6>>,
    mask_target: Constant<Bits<SLOT_BITS>>,
    mask_w: Constant<Bits<X>>,
    sign_w: Constant<Bits<X>>,
    ext_w: Constant<Bits<X>>,
    one: Constant<Bits<SYN_BITS>>,
    zero_syn: Constant<Bits<SYN_BITS>>,
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
    /// An engine for a core with `a` axons, `s` synapse entries, `n` slots and W-bit weights.
    pub fn new(a: u32, s: u32, n: u32, weight_bits: u32, init: &IntegrateInit) -> Integrator {
        use spikeforge_hw::memory::{addr_bits, IndexWord, SynapseWord};
        // Word layouts of the hardware contract (the mapper packs with the same).
        let ax = IndexWord::new(addr_bits(s));
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
            acc_read_slot: Default::default(),
            acc_read_data: Default::default(),
            acc_write: Default::default(),
            acc_write_slot: Default::default(),
            acc_write_data: Default::default(),
            cfg_axon_we: Default::default(),
            cfg_syn_we: Default::default(),
            cfg_addr: Default::default(),
            cfg_data: Default::default(),
            fifo: Default::default(),
            axons: SpecRam::new(ax.width() as usize, a as usize, &init.axons, af),
            synapses: SpecRam::new(sw.width() as usize, s as usize, &init.synapses, sf),
            ax_pending: Default::default(),
            row_active: Default::default(),
            row_ptr: Default::default(),
            row_end: Default::default(),
            nxt_valid: Default::default(),
            nxt_base: Default::default(),
            nxt_end: Default::default(),
            last: Default::default(),
            consume: Default::default(),
            syn_valid: Default::default(),
            acc_valid: Default::default(),
            acc_slot: Default::default(),
            acc_weight: Default::default(),
            last_valid: Default::default(),
            last_slot: Default::default(),
            last_value: Default::default(),
            bad: Default::default(),
            row_base: Default::default(),
            row_len: Default::default(),
            weight: Default::default(),
            target: Default::default(),
            base: Default::default(),
            sum: Default::default(),
            take: Default::default(),
            unused_ok: Default::default(),
            off_base: c::<6>(ax.base.offset as u64),
            mask_base: c::<SYN_BITS>(ax.base.mask() as u64),
            mask_len: c::<SYN_BITS>(ax.len.mask() as u64),
            off_target: c::<6>(sw.target.offset as u64),
            mask_target: c::<SLOT_BITS>(sw.target.mask() as u64),
            mask_w: c::<X>((1 << w) - 1),
            sign_w: c::<X>(1 << (w - 1)),
            ext_w: c::<X>(all & !((1 << w) - 1)),
            one: c::<SYN_BITS>(1),
            zero_syn: c::<SYN_BITS>(0),
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
            self, clock, ax_pending, row_active, row_ptr, row_end, nxt_valid, nxt_base, nxt_end, syn_valid, acc_valid,
            acc_slot, acc_weight, last_valid, last_slot, last_value, bad
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
        self.last.next = self.row_active.q.val() & (self.row_ptr.q.val() + self.one.val() == self.row_end.q.val());
        self.consume.next = self.nxt_valid.q.val() & (!self.row_active.q.val() | self.last.val());

        // Stage 1: look up the next key while the current row is read.
        self.take.next =
            !self.fifo.empty.val() & !self.ax_pending.q.val() & (!self.nxt_valid.q.val() | self.consume.val());
        self.fifo.pop.next = self.take.val();
        self.axons.read_address.next = self.fifo.head.val();
        self.ax_pending.d.next = self.take.val();

        // Stage 2: the axon entry arrives; it becomes the next row.
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
        }

        // Stage 3: read one synapse entry per clock.
        self.synapses.read_address.next = self.row_ptr.q.val();
        self.syn_valid.d.next = false;
        if self.row_active.q.val() {
            self.syn_valid.d.next = true;
            self.row_ptr.d.next = self.row_ptr.q.val() + self.one.val();
            if self.last.val() {
                self.row_active.d.next = false;
            }
        }
        if self.consume.val() {
            self.row_active.d.next = true;
            self.row_ptr.d.next = self.nxt_base.q.val();
            self.row_end.d.next = self.nxt_end.q.val();
        }

        // Stage 4: decode the entry, read the target's accumulator.
        self.target.next =
            self.synapses.read_data.val().get_bits::<SLOT_BITS>(self.off_target.val().index()) & self.mask_target.val();
        self.weight.next = self.synapses.read_data.val().get_bits::<X>(0) & self.mask_w.val();
        if (self.weight.val() & self.sign_w.val()).any() {
            self.weight.next = (self.synapses.read_data.val().get_bits::<X>(0) & self.mask_w.val()) | self.ext_w.val();
        }
        self.acc_read_slot.next = self.target.val();
        self.acc_valid.d.next = self.syn_valid.q.val();
        self.acc_slot.d.next = self.target.val();
        self.acc_weight.d.next = self.weight.val();

        // Stage 5: add and write back, forwarding the previous write.
        self.base.next = self.acc_read_data.val();
        if self.last_valid.q.val() & (self.last_slot.q.val() == self.acc_slot.q.val()) {
            self.base.next = self.last_value.q.val();
        }
        self.sum.next = self.base.val() + self.acc_weight.q.val();
        self.acc_write.next = self.acc_valid.q.val();
        self.acc_write_slot.next = self.acc_slot.q.val();
        self.acc_write_data.next = self.sum.val();
        self.last_valid.d.next = self.acc_valid.q.val();
        self.last_slot.d.next = self.acc_slot.q.val();
        self.last_value.d.next = self.sum.val();

        self.idle.next = self.fifo.empty.val()
            & !self.ax_pending.q.val()
            & !self.nxt_valid.q.val()
            & !self.row_active.q.val()
            & !self.syn_valid.q.val()
            & !self.acc_valid.q.val();

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
