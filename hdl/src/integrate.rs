//! The integrate engine of a core: input spike FIFOs, axon table, synapse
//! memory and the accumulate pipeline (one synapse word per clock, up to
//! two synaptic events per clock; on a two-bank core two words, four events).
//!
//! Pipeline: keys wait in two FIFOs by key parity; the head of one whose
//! parity has no row waiting reads its axon word while earlier rows are
//! still being read, and the row waits in that parity's register, so
//! consecutive rows follow without a bubble. The row `row_base ..
//! row_base+row_len` of the synapse memory is read one word per clock. The
//! axon word's `dense` bit gives the row's format
//! (`spikeforge_hw::memory::AxonWord`, `SynapseWord`):
//! - sparse: each word is one event (target slot, weight);
//! - dense: word j holds [`DENSE_LANES`](spikeforge_hw::memory::DENSE_LANES)
//!   = 2 weights, lane k for slot `start + 2·j + k`: two events, for slots
//!   of different parity.
//!
//! Twin rows (two banks, `HardwareSpec::synapse_banks`): the synapse memory
//! is two memories, even and odd word addresses. Two waiting dense rows
//! with the same start slot and length and bases of different parity are
//! read together, one word of each per clock (their pointers keep
//! different parities, so each bank serves one of them), and their lane
//! weights are summed before the ports: four events per clock. Otherwise
//! the older waiting row runs alone; a lone row waits while a possible twin
//! is being looked up. docs/hardware.md has the rules.
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
    /// Both key FIFOs have room (a packet is taken when valid and ready).
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
    /// Input FIFO of even keys.
    pub fifo: KeyFifo,
    /// Input FIFO of odd keys.
    pub fifo_odd: KeyFifo,
    /// Axon table.
    pub axons: SpecRam<KEY_BITS, AXON_WORD>,
    /// Synapse memory (one bank), or its even words (two banks).
    pub synapses: SpecRam<SYN_BITS, SYN_WORD>,
    /// The odd words (two banks); a one-bit stub otherwise.
    pub synapses_odd: SpecRam<SYN_BITS, SYN_WORD>,
    // Stage registers. (Slice offsets are as wide as the index of the
    // word port they slice: Verilator's width rule.)
    ax_pending: DFF<bool>,
    /// The pending lookup came from the odd FIFO.
    ax_odd: DFF<bool>,
    row_active: DFF<bool>,
    /// The current row is a twin pair: `row_ptr` and `row_ptr_b` advance together.
    row_pair: DFF<bool>,
    row_ptr: DFF<Bits<SYN_BITS>>,
    row_ptr_b: DFF<Bits<SYN_BITS>>,
    /// Words of the row after the current one.
    row_left: DFF<Bits<SYN_BITS>>,
    /// The current word is the row's last: a register, so that the
    /// decision of the next row waits for no compare.
    row_last: DFF<bool>,
    row_dense: DFF<bool>,
    row_slot: DFF<Bits<SLOT_BITS>>,
    // The looked-up rows waiting, one per key parity.
    e_valid: DFF<bool>,
    e_base: DFF<Bits<SYN_BITS>>,
    e_len: DFF<Bits<SYN_BITS>>,
    e_dense: DFF<bool>,
    e_start: DFF<Bits<SLOT_BITS>>,
    o_valid: DFF<bool>,
    o_base: DFF<Bits<SYN_BITS>>,
    o_len: DFF<Bits<SYN_BITS>>,
    o_dense: DFF<bool>,
    o_start: DFF<Bits<SLOT_BITS>>,
    /// Both wait, are not twins, and the even one goes first: the shorter
    /// row (the longer may still find a twin), the older on a tie.
    e_first: DFF<bool>,
    last: Signal<Local, bool>,
    free: Signal<Local, bool>,
    pairable: Signal<Local, bool>,
    go_e: Signal<Local, bool>,
    go_o: Signal<Local, bool>,
    consume_e: Signal<Local, bool>,
    consume_o: Signal<Local, bool>,
    elig_e: Signal<Local, bool>,
    elig_o: Signal<Local, bool>,
    take_e: Signal<Local, bool>,
    take_o: Signal<Local, bool>,
    syn_valid: DFF<bool>,
    syn_pair: DFF<bool>,
    /// Lane data of the single row comes from the odd bank.
    syn_sel: DFF<bool>,
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
    row_dense_in: Signal<Local, bool>,
    row_start_in: Signal<Local, Bits<SLOT_BITS>>,
    word_a: Signal<Local, Bits<SYN_WORD>>,
    a0: Signal<Local, Bits<X>>,
    a1: Signal<Local, Bits<X>>,
    b0: Signal<Local, Bits<X>>,
    b1: Signal<Local, Bits<X>>,
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
    unused_ok: Signal<Local, bool>,
    /// Two interleaved banks (`HardwareSpec::synapse_banks`).
    banked: Constant<bool>,
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
    zero_x: Constant<Bits<X>>,
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
    /// An engine for a core with `a` axons, `s` synapse words in `banks`
    /// banks (`HardwareSpec::synapse_banks`), `n` slots, W-bit weights and
    /// `acc_bits`-bit accumulators. With `single_port_synapses`
    /// (`HardwareSpec::single_port_synapses`) the synapse memories are
    /// single-port and never preloaded.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        a: u32,
        s: u32,
        banks: u32,
        n: u32,
        weight_bits: u32,
        acc_bits: u32,
        single_port_synapses: bool,
        init: &IntegrateInit,
    ) -> Integrator {
        use spikeforge_hw::memory::{addr_bits, AxonWord, SynapseWord, DENSE_LANES};
        // The lane decode below is written for two lanes.
        const _: () = assert!(DENSE_LANES == 2);
        assert!(banks == 1 || (banks == 2 && s >= 2 && init.synapses.is_empty()), "two banks are never preloaded");
        // Word layouts of the hardware contract (the mapper packs with the same).
        let ax = AxonWord::new(addr_bits(s), addr_bits(n));
        let sw = SynapseWord::new(weight_bits, addr_bits(n));
        let w = weight_bits as u64;
        let all = (1u64 << X) - 1;
        let (af, sf) = match &init.files {
            Some((a, s)) => (Some(a.clone()), Some(s.clone())),
            None => (None, None),
        };
        let (synapses, synapses_odd) = if banks == 2 {
            // Even words in one memory, odd words in the other.
            let half = |d: u32| SpecRam::new(sw.width() as usize, d as usize, &[], None).single_port();
            (half(s.div_ceil(2)), half(s / 2))
        } else if single_port_synapses {
            // A single-port memory with contents stays in block RAM
            // (`mem` module docs): the host loads it instead.
            (SpecRam::new(sw.width() as usize, s as usize, &[], None).single_port(), SpecRam::new(1, 1, &[], None))
        } else {
            (SpecRam::new(sw.width() as usize, s as usize, &init.synapses, sf), SpecRam::new(1, 1, &[], None))
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
            fifo_odd: Default::default(),
            axons: SpecRam::new(ax.width() as usize, a as usize, &init.axons, af),
            synapses,
            synapses_odd,
            ax_pending: Default::default(),
            ax_odd: Default::default(),
            row_active: Default::default(),
            row_pair: Default::default(),
            row_ptr: Default::default(),
            row_ptr_b: Default::default(),
            row_left: Default::default(),
            row_last: Default::default(),
            row_dense: Default::default(),
            row_slot: Default::default(),
            e_valid: Default::default(),
            e_base: Default::default(),
            e_len: Default::default(),
            e_dense: Default::default(),
            e_start: Default::default(),
            o_valid: Default::default(),
            o_base: Default::default(),
            o_len: Default::default(),
            o_dense: Default::default(),
            o_start: Default::default(),
            e_first: Default::default(),
            last: Default::default(),
            free: Default::default(),
            pairable: Default::default(),
            go_e: Default::default(),
            go_o: Default::default(),
            consume_e: Default::default(),
            consume_o: Default::default(),
            elig_e: Default::default(),
            elig_o: Default::default(),
            take_e: Default::default(),
            take_o: Default::default(),
            syn_valid: Default::default(),
            syn_pair: Default::default(),
            syn_sel: Default::default(),
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
            row_dense_in: Default::default(),
            row_start_in: Default::default(),
            word_a: Default::default(),
            a0: Default::default(),
            a1: Default::default(),
            b0: Default::default(),
            b1: Default::default(),
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
            unused_ok: Default::default(),
            banked: Constant::new(banks == 2),
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
            zero_x: c::<X>(0),
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
        self.fifo_odd.clock.next = self.clock.val();
        self.axons.clock.next = self.clock.val();
        self.synapses.clock.next = self.clock.val();
        self.synapses_odd.clock.next = self.clock.val();
        dff_setup!(
            self,
            clock,
            ax_pending,
            ax_odd,
            row_active,
            row_pair,
            row_ptr,
            row_ptr_b,
            row_left,
            row_last,
            row_dense,
            row_slot,
            e_valid,
            e_base,
            e_len,
            e_dense,
            e_start,
            o_valid,
            o_base,
            o_len,
            o_dense,
            o_start,
            e_first,
            syn_valid,
            syn_pair,
            syn_sel,
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
        // Input FIFOs, one per key parity (the mapper gives the rows of
        // even keys even bases on a two-bank core, so the heads of the two
        // FIFOs are the candidates for a twin pair).
        self.fifo.data_in.next = self.in_key.val();
        self.fifo_odd.data_in.next = self.in_key.val();
        // Keys beyond the axon table are dropped and reported (a corrupt image).
        // Registered, so the flag has no combinational path back to the bus.
        self.bad.d.next = self.in_valid.val()
            & !self.fifo.full.val()
            & !self.fifo_odd.full.val()
            & (self.in_key.val() >= self.n_axons.val());
        self.bad_key.next = self.bad.q.val();
        self.fifo.push.next = self.in_valid.val()
            & !self.fifo_odd.full.val()
            & !self.in_key.val().get_bit(0)
            & (self.in_key.val() < self.n_axons.val());
        self.fifo_odd.push.next = self.in_valid.val()
            & !self.fifo.full.val()
            & self.in_key.val().get_bit(0)
            & (self.in_key.val() < self.n_axons.val());
        // Ready does not look at the key: both FIFOs must have room.
        self.in_ready.next = !self.fifo.full.val() & !self.fifo_odd.full.val();

        // Row bookkeeping: the current row ends this clock, and a waiting
        // row (or twin pair) starts right after it without a bubble.
        self.last.next = self.row_active.q.val() & self.row_last.q.val();
        self.free.next = !self.row_active.q.val() | self.last.val();
        // Twin rows: two dense rows of the same shape whose bases lie in
        // different banks; each clock reads one word of each and the lane
        // weights are added before the accumulator ports.
        self.pairable.next = self.banked.val()
            & self.e_valid.q.val()
            & self.o_valid.q.val()
            & self.e_dense.q.val()
            & self.o_dense.q.val()
            & (self.e_start.q.val() == self.o_start.q.val())
            & (self.e_len.q.val() == self.o_len.q.val())
            & (self.e_base.q.val().get_bit(0) != self.o_base.q.val().get_bit(0));
        // Otherwise one waiting row starts alone (`e_first` picks), unless
        // (two banks) it is the only one and a row of the other parity is
        // on its way that may be its twin.
        self.go_e.next = self.e_valid.q.val()
            & (!self.o_valid.q.val() | self.e_first.q.val())
            & !(self.banked.val()
                & !self.o_valid.q.val()
                & ((self.ax_pending.q.val() & self.ax_odd.q.val()) | !self.fifo_odd.empty.val()));
        self.go_o.next = self.o_valid.q.val()
            & (!self.e_valid.q.val() | !self.e_first.q.val())
            & !(self.banked.val()
                & !self.e_valid.q.val()
                & ((self.ax_pending.q.val() & !self.ax_odd.q.val()) | !self.fifo.empty.val()));
        self.consume_e.next = self.free.val() & (self.pairable.val() | self.go_e.val());
        self.consume_o.next = self.free.val() & (self.pairable.val() | self.go_o.val());

        // Stage 1: look up a key while rows are read: from a FIFO whose
        // parity has no row waiting and none being looked up (the even one
        // first). Registers only decide it, so the pop waits for no compare.
        self.elig_e.next =
            !self.fifo.empty.val() & !self.e_valid.q.val() & !(self.ax_pending.q.val() & !self.ax_odd.q.val());
        self.elig_o.next =
            !self.fifo_odd.empty.val() & !self.o_valid.q.val() & !(self.ax_pending.q.val() & self.ax_odd.q.val());
        self.take_e.next = self.elig_e.val();
        self.take_o.next = self.elig_o.val() & !self.elig_e.val();
        self.fifo.pop.next = self.take_e.val();
        self.fifo_odd.pop.next = self.take_o.val();
        self.axons.read_address.next = self.fifo.head.val();
        if self.take_o.val() {
            self.axons.read_address.next = self.fifo_odd.head.val();
        }
        self.ax_pending.d.next = self.take_e.val() | self.take_o.val();
        self.ax_odd.d.next = self.take_o.val();

        // Stage 2: the axon word arrives; it waits in its parity's register.
        self.row_base.next =
            self.axons.read_data.val().get_bits::<SYN_BITS>(self.off_base.val().index()) & self.mask_base.val();
        self.row_len.next = self.axons.read_data.val().get_bits::<SYN_BITS>(0) & self.mask_len.val();
        self.row_dense_in.next = self.axons.read_data.val().get_bit(self.off_dense.val().index());
        self.row_start_in.next =
            self.axons.read_data.val().get_bits::<SLOT_BITS>(self.off_start.val().index()) & self.mask_start.val();
        if self.consume_e.val() {
            self.e_valid.d.next = false;
        }
        if self.consume_o.val() {
            self.o_valid.d.next = false;
        }
        if self.ax_pending.q.val() & (self.row_len.val() != self.zero_syn.val()) {
            if self.ax_odd.q.val() {
                self.e_first.d.next =
                    self.e_valid.q.val() & !self.consume_e.val() & (self.row_len.val() >= self.e_len.q.val());
                self.o_valid.d.next = true;
                self.o_base.d.next = self.row_base.val();
                self.o_len.d.next = self.row_len.val();
                self.o_dense.d.next = self.row_dense_in.val();
                self.o_start.d.next = self.row_start_in.val();
            } else {
                self.e_first.d.next =
                    !(self.o_valid.q.val() & !self.consume_o.val()) | (self.row_len.val() < self.o_len.q.val());
                self.e_valid.d.next = true;
                self.e_base.d.next = self.row_base.val();
                self.e_len.d.next = self.row_len.val();
                self.e_dense.d.next = self.row_dense_in.val();
                self.e_start.d.next = self.row_start_in.val();
            }
        }

        // Stage 3: read one synapse word per clock (two for a twin pair);
        // on a dense row the slot of lane 0 advances by the lane count per
        // word. With two banks, word p is word p >> 1 of bank p & 1; the
        // twins' pointers differ in parity, so they never want one bank.
        self.synapses.read_address.next = self.row_ptr.q.val();
        self.synapses_odd.read_address.next = self.row_ptr_b.q.val() >> self.one.val();
        if self.banked.val() {
            self.synapses.read_address.next = self.row_ptr.q.val() >> self.one.val();
            if self.row_ptr.q.val().get_bit(0) {
                self.synapses.read_address.next = self.row_ptr_b.q.val() >> self.one.val();
                self.synapses_odd.read_address.next = self.row_ptr.q.val() >> self.one.val();
            }
        }
        self.syn_valid.d.next = false;
        self.syn_pair.d.next = self.row_pair.q.val();
        self.syn_sel.d.next = self.banked.val() & self.row_ptr.q.val().get_bit(0);
        self.syn_dense.d.next = self.row_dense.q.val();
        self.syn_slot.d.next = self.row_slot.q.val();
        if self.row_active.q.val() {
            self.syn_valid.d.next = true;
            self.row_ptr.d.next = self.row_ptr.q.val() + self.one.val();
            self.row_ptr_b.d.next = self.row_ptr_b.q.val() + self.one.val();
            self.row_left.d.next = self.row_left.q.val() - self.one.val();
            self.row_last.d.next = self.row_left.q.val() == self.one.val();
            self.row_slot.d.next = self.row_slot.q.val() + self.lanes.val();
            if self.last.val() {
                self.row_active.d.next = false;
                self.row_last.d.next = false;
            }
        }
        if self.consume_e.val() {
            self.row_active.d.next = true;
            self.row_pair.d.next = self.consume_o.val();
            self.row_ptr.d.next = self.e_base.q.val();
            self.row_ptr_b.d.next = self.o_base.q.val();
            self.row_left.d.next = self.e_len.q.val() - self.one.val();
            self.row_last.d.next = self.e_len.q.val() == self.one.val();
            self.row_dense.d.next = self.e_dense.q.val();
            self.row_slot.d.next = self.e_start.q.val();
        } else if self.consume_o.val() {
            self.row_active.d.next = true;
            self.row_pair.d.next = false;
            self.row_ptr.d.next = self.o_base.q.val();
            self.row_left.d.next = self.o_len.q.val() - self.one.val();
            self.row_last.d.next = self.o_len.q.val() == self.one.val();
            self.row_dense.d.next = self.o_dense.q.val();
            self.row_slot.d.next = self.o_start.q.val();
        }

        // Stage 4: decode the word(s) into events for the parity ports and
        // read their accumulators. A twin pair's lane weights are summed
        // (modulo the accumulator width, like every sum the port stores).
        self.word_a.next = self.synapses.read_data.val();
        if self.syn_sel.q.val() {
            self.word_a.next = self.synapses_odd.read_data.val();
        }
        self.target.next =
            self.word_a.val().get_bits::<SLOT_BITS>(self.off_target.val().index()) & self.mask_target.val();
        self.a0.next = self.synapses.read_data.val().get_bits::<X>(0) & self.mask_w.val();
        if (self.a0.val() & self.sign_w.val()).any() {
            self.a0.next = (self.synapses.read_data.val().get_bits::<X>(0) & self.mask_w.val()) | self.ext_w.val();
        }
        self.a1.next = self.synapses.read_data.val().get_bits::<X>(self.off_lane1.val().index()) & self.mask_w.val();
        if (self.a1.val() & self.sign_w.val()).any() {
            self.a1.next = (self.synapses.read_data.val().get_bits::<X>(self.off_lane1.val().index())
                & self.mask_w.val())
                | self.ext_w.val();
        }
        self.b0.next = self.synapses_odd.read_data.val().get_bits::<X>(0) & self.mask_w.val();
        if (self.b0.val() & self.sign_w.val()).any() {
            self.b0.next = (self.synapses_odd.read_data.val().get_bits::<X>(0) & self.mask_w.val()) | self.ext_w.val();
        }
        self.b1.next =
            self.synapses_odd.read_data.val().get_bits::<X>(self.off_lane1.val().index()) & self.mask_w.val();
        if (self.b1.val() & self.sign_w.val()).any() {
            self.b1.next = (self.synapses_odd.read_data.val().get_bits::<X>(self.off_lane1.val().index())
                & self.mask_w.val())
                | self.ext_w.val();
        }
        if !self.syn_pair.q.val() {
            if self.syn_sel.q.val() {
                self.a0.next = self.zero_x.val();
                self.a1.next = self.zero_x.val();
            } else {
                self.b0.next = self.zero_x.val();
                self.b1.next = self.zero_x.val();
            }
        }
        self.w0.next = (self.a0.val() + self.b0.val()) & self.mask_a.val();
        self.w1.next = (self.a1.val() + self.b1.val()) & self.mask_a.val();
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
            & self.fifo_odd.empty.val()
            & !self.ax_pending.q.val()
            & !self.e_valid.q.val()
            & !self.o_valid.q.val()
            & !self.row_active.q.val()
            & !self.syn_valid.q.val()
            & !self.ev_acc_valid.q.val()
            & !self.od_acc_valid.q.val();

        // Configuration writes: with two banks, address a is word a >> 1
        // of bank a & 1.
        self.axons.write_address.next = self.cfg_addr.val().get_bits::<KEY_BITS>(0);
        self.axons.write_data.next = self.cfg_data.val();
        self.axons.write_enable.next = self.cfg_axon_we.val();
        self.synapses.write_address.next = self.cfg_addr.val();
        self.synapses.write_data.next = self.cfg_data.val().get_bits::<SYN_WORD>(0);
        self.synapses.write_enable.next = self.cfg_syn_we.val();
        self.synapses_odd.write_address.next = self.cfg_addr.val() >> self.one.val();
        self.synapses_odd.write_data.next = self.cfg_data.val().get_bits::<SYN_WORD>(0);
        self.synapses_odd.write_enable.next = false;
        if self.banked.val() {
            self.synapses.write_address.next = self.cfg_addr.val() >> self.one.val();
            self.synapses.write_enable.next = self.cfg_syn_we.val() & !self.cfg_addr.val().get_bit(0);
            self.synapses_odd.write_enable.next = self.cfg_syn_we.val() & self.cfg_addr.val().get_bit(0);
        }

        // Word padding above the spec's fields.
        self.unused_ok.next = self.axons.read_data.val().any()
            | self.synapses.read_data.val().any()
            | self.synapses_odd.read_data.val().any()
            | self.fifo.almost_full.val()
            | self.fifo_odd.almost_full.val()
            | self.word_a.val().any();
    }
}
