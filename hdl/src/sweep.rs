//! The neuron array of a core: parameter-set, neuron, potential and
//! accumulator memories, and the sweep that updates one neuron per clock.
//!
//! Parameters are shared: `param_sets` holds the core's K parameter sets
//! (`spikeforge_hw::memory::ParamWord`) and `neurons` holds, per slot, the
//! bias and the index of the slot's set (`NeuronWord`). Field positions come
//! from the contract's `Layout`, the same the mapper packs with; P and the
//! accumulator width enter as run-time masks.
//!
//! Accumulators are double-buffered: during step t the sweep reads and
//! clears bank `bank` (the input of step t) while the integrate engine adds
//! the spikes of step t into bank `!bank`. So integration overlaps the sweep
//! without ever touching a neuron the sweep has not reached yet. Each bank
//! is split by slot parity (even slots in one memory, odd slots in the
//! other, address `slot >> 1`), so the integrate engine can add two events
//! per clock (one per parity port), and every memory still has one reader
//! and one writer: one SB_RAM40_4K port pair.
//!
//! Sweep pipeline (one slot k issued per clock):
//! 1. issue: read `neurons[k]`;
//! 2. the neuron word arrives: read `param_sets[set]`, `v[k]` and the
//!    accumulator of k (reading v and the accumulator here rather than in
//!    stage 1 keeps them aligned with the parameter set without registers);
//!    register the slot and the bias;
//! 3. pick the set's fields and the accumulator of the bank, clear the
//!    accumulator, and enter [`NeuronPipe`] (three clocks at the spec's
//!    exact widths, so that no clock holds more than one carry chain or
//!    two);
//! 4. the pipe's registered outputs: write v, report the spike.
//!
//! `hold` stops issue only; the [`IN_FLIGHT`] slots past issue complete,
//! which is what the producers' FIFO margin allows for (`KeyFifo::new`'s
//! `room`).

use crate::mem::SpecRam;
use crate::neuron::{NeuronPipe, PIPE_STAGES, X};
use rust_hdl::prelude::*;
use spikeforge_hw::memory::{addr_bits, Field, NeuronWord, ParamWord};

/// Address width of every neuron-indexed memory port (the top-level slot width).
pub const SLOT_BITS: usize = spikeforge_hw::ports::SLOT_BITS;
/// Parameter-set read port width: the configuration word width (2·32+8
/// bits of fields plus room for a 40-bit slice at any field offset).
pub const PARAM_BITS: usize = spikeforge_hw::ports::CFG_DATA_BITS;
/// Parameter-set index port width: K ≤ 2^16 (the spec's range), the slot
/// width, so one configuration address port serves both.
pub const SET_BITS: usize = SLOT_BITS;
/// Neuron word port: a 40-bit bias slice at 0, a set slice at P ≤ 32.
pub const NEURON_BITS: usize = 48;
/// Slots that may still leave the sweep (and push a spike) after `hold`
/// rises: stages 1 and 2 and the neuron pipe's.
pub const IN_FLIGHT: usize = 2 + PIPE_STAGES;

// The leak shift is sliced with a literal width below (rust-hdl widths are
// const generics); the contract's field must have that width.
const _: () = assert!(spikeforge_hw::memory::LEAK_SHIFT_BITS == 5);

fn c40(v: u64) -> Constant<Bits<X>> {
    Constant::new(Bits::<X>::from(v & ((1u64 << X) - 1)))
}

/// See the module docs.
#[derive(LogicBlock)]
pub struct NeuronArray {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Pulse: start a sweep of slots `0..count`.
    pub start: Signal<In, bool>,
    /// Slots in use (the core's `neuron_count` register).
    pub count: Signal<In, Bits<SLOT_BITS>>,
    /// Accumulator bank the sweep reads (the other one integrates).
    pub bank: Signal<In, bool>,
    /// Pulse (while not sweeping): zero both accumulator banks, one address
    /// of all four memories per clock, ceil(N/2) clocks (`busy` meanwhile).
    /// A network reset: with the potentials rewritten over the configuration
    /// port, the next step starts from the network's initial state. Also
    /// clears power-up garbage (block RAM contents are not defined by every
    /// tool).
    pub clear: Signal<In, bool>,
    /// Pause: issue no new neuron this clock (the two in flight complete).
    pub hold: Signal<In, bool>,
    /// High while sweeping.
    pub busy: Signal<Out, bool>,
    /// A neuron was updated this clock...
    pub out_valid: Signal<Out, bool>,
    /// ...this one...
    pub out_slot: Signal<Out, Bits<SLOT_BITS>>,
    /// ...and it spiked.
    pub out_spike: Signal<Out, bool>,
    /// Its parameter set's `output` bit.
    pub out_output: Signal<Out, bool>,
    /// Integrate port of the even slots (bank `!bank`): read address
    /// (`slot >> 1`; data next clock).
    pub int_even_read_addr: Signal<In, Bits<SLOT_BITS>>,
    /// Even port: accumulator read data, sign-extended.
    pub int_even_read_data: Signal<Out, Bits<X>>,
    /// Even port: write strobe.
    pub int_even_write: Signal<In, bool>,
    /// Even port: write address (`slot >> 1`).
    pub int_even_write_addr: Signal<In, Bits<SLOT_BITS>>,
    /// Even port: value to store (low accumulator-width bits are kept).
    pub int_even_write_data: Signal<In, Bits<X>>,
    /// Integrate port of the odd slots: read address (`slot >> 1`).
    pub int_odd_read_addr: Signal<In, Bits<SLOT_BITS>>,
    /// Odd port: accumulator read data, sign-extended.
    pub int_odd_read_data: Signal<Out, Bits<X>>,
    /// Odd port: write strobe.
    pub int_odd_write: Signal<In, bool>,
    /// Odd port: write address (`slot >> 1`).
    pub int_odd_write_addr: Signal<In, Bits<SLOT_BITS>>,
    /// Odd port: value to store.
    pub int_odd_write_data: Signal<In, Bits<X>>,
    /// Potential read (when not sweeping): slot to read.
    pub peek_slot: Signal<In, Bits<SLOT_BITS>>,
    /// Potential of `peek_slot` one clock after it was presented, sign-extended.
    pub peek_data: Signal<Out, Bits<X>>,
    /// Configuration: write `cfg_data` into parameter set `cfg_slot`.
    pub cfg_param_sets_we: Signal<In, bool>,
    /// Configuration: write `cfg_data` into the neuron word of `cfg_slot`.
    pub cfg_neurons_we: Signal<In, bool>,
    /// Configuration: write the low P bits of `cfg_data` into the potential of `cfg_slot`
    /// (initial state, or a reset of the network; not while sweeping).
    pub cfg_v_we: Signal<In, bool>,
    /// Configuration address: a slot, or a parameter-set index.
    pub cfg_slot: Signal<In, Bits<SLOT_BITS>>,
    /// Configuration data (docs/hardware.md word layout, zero-extended).
    pub cfg_data: Signal<In, Bits<PARAM_BITS>>,
    /// Parameter-set table.
    pub param_sets: SpecRam<SET_BITS, PARAM_BITS>,
    /// Per-neuron words (bias, set).
    pub neurons: SpecRam<SLOT_BITS, NEURON_BITS>,
    /// Potentials.
    pub v: SpecRam<SLOT_BITS, X>,
    /// Accumulator bank 0, even slots.
    pub acc0e: SpecRam<SLOT_BITS, X>,
    /// Accumulator bank 0, odd slots.
    pub acc0o: SpecRam<SLOT_BITS, X>,
    /// Accumulator bank 1, even slots.
    pub acc1e: SpecRam<SLOT_BITS, X>,
    /// Accumulator bank 1, odd slots.
    pub acc1o: SpecRam<SLOT_BITS, X>,
    nu: NeuronPipe,
    running: DFF<bool>,
    rd_slot: DFF<Bits<SLOT_BITS>>,
    s1_valid: DFF<bool>,
    s1_slot: DFF<Bits<SLOT_BITS>>,
    s2_valid: DFF<bool>,
    s2_slot: DFF<Bits<SLOT_BITS>>,
    s2_bias: DFF<Bits<X>>,
    clearing: DFF<bool>,
    clr_addr: DFF<Bits<SLOT_BITS>>,
    last_addr: Constant<Bits<SLOT_BITS>>,
    s1_addr: Signal<Local, Bits<SLOT_BITS>>,
    s2_addr: Signal<Local, Bits<SLOT_BITS>>,
    s2_odd: Signal<Local, bool>,
    acc_sweep: Signal<Local, Bits<X>>,
    acc_int_e: Signal<Local, Bits<X>>,
    acc_int_o: Signal<Local, Bits<X>>,
    nword: Signal<Local, Bits<NEURON_BITS>>,
    word: Signal<Local, Bits<PARAM_BITS>>,
    vv: Signal<Local, Bits<X>>,
    aie: Signal<Local, Bits<X>>,
    aio: Signal<Local, Bits<X>>,
    /// Reads the words' padding above the spec's fields, so that
    /// Verilator's -Wall sees every bit used (its `*unused*` name rule).
    unused_ok: Signal<Local, bool>,
    // Field offsets (spikeforge_hw::memory::{ParamWord, NeuronWord}) and
    // masks for P, K and accumulator bits.
    off_th: Constant<Bits<8>>,
    off_vmin: Constant<Bits<8>>,
    off_leak_en: Constant<Bits<8>>,
    off_leak_shift: Constant<Bits<8>>,
    off_reset_zero: Constant<Bits<8>>,
    off_output: Constant<Bits<8>>,
    off_syn_en: Constant<Bits<8>>,
    off_syn_shift: Constant<Bits<8>>,
    off_bias: Constant<Bits<6>>,
    off_set: Constant<Bits<6>>,
    mask_set: Constant<Bits<SET_BITS>>,
    sign_p: Constant<Bits<X>>,
    /// The potential's bits of a state word (a current may sit above them).
    mask_p: Constant<Bits<X>>,
    ext_p: Constant<Bits<X>>,
    sign_a: Constant<Bits<X>>,
    ext_a: Constant<Bits<X>>,
    zero: Constant<Bits<X>>,
    zero_slot: Constant<Bits<SLOT_BITS>>,
    one: Constant<Bits<SLOT_BITS>>,
}

/// Initial contents of the neuron array's memories (full depth words).
#[derive(Debug, Clone, Default)]
pub struct ArrayInit {
    /// Parameter-set words.
    pub param_sets: Vec<u128>,
    /// Neuron words.
    pub neurons: Vec<u128>,
    /// Potential words (v_init).
    pub v: Vec<u128>,
    /// `$readmemh` files for param_sets, neurons and v, if the emitted
    /// design should boot loaded.
    pub files: Option<(String, String, String)>,
}

impl NeuronArray {
    /// A neuron array of `n` slots and `k` parameter sets for P-bit
    /// potentials and `acc_bits` accumulators; `current`: every slot keeps
    /// a synaptic current too (the spec's `current_state`), in its state
    /// word above the potential.
    pub fn new(n: usize, k: usize, potential_bits: u32, acc_bits: u32, current: bool, init: &ArrayInit) -> NeuronArray {
        let p = potential_bits as u64;
        let a = acc_bits as u64;
        let all = (1u64 << X) - 1;
        let pw = ParamWord::new(potential_bits, current);
        let state_bits = potential_bits + if current { acc_bits } else { 0 };
        let kb = addr_bits(k as u32);
        let nw = NeuronWord::new(potential_bits, kb);
        // Offsets as wide as the index of the port they slice (Verilator's
        // width rule): 8 bits for the parameter word, 6 for the neuron word.
        let off = |field: Field| Constant::new(Bits::<8>::from(field.offset as u64));
        let off6 = |field: Field| Constant::new(Bits::<6>::from(field.offset as u64));
        let (sf, nf, vf) = match &init.files {
            Some((s, n, v)) => (Some(s.clone()), Some(n.clone()), Some(v.clone())),
            None => (None, None, None),
        };
        // Each parity memory holds every other slot.
        let half = n.div_ceil(2);
        let acc = || SpecRam::new(acc_bits as usize, half, &[], None);
        NeuronArray {
            clock: Default::default(),
            start: Default::default(),
            count: Default::default(),
            bank: Default::default(),
            clear: Default::default(),
            hold: Default::default(),
            busy: Default::default(),
            out_valid: Default::default(),
            out_slot: Default::default(),
            out_spike: Default::default(),
            out_output: Default::default(),
            int_even_read_addr: Default::default(),
            int_even_read_data: Default::default(),
            int_even_write: Default::default(),
            int_even_write_addr: Default::default(),
            int_even_write_data: Default::default(),
            int_odd_read_addr: Default::default(),
            int_odd_read_data: Default::default(),
            int_odd_write: Default::default(),
            int_odd_write_addr: Default::default(),
            int_odd_write_data: Default::default(),
            peek_slot: Default::default(),
            peek_data: Default::default(),
            cfg_param_sets_we: Default::default(),
            cfg_neurons_we: Default::default(),
            cfg_v_we: Default::default(),
            cfg_slot: Default::default(),
            cfg_data: Default::default(),
            param_sets: SpecRam::new(pw.width() as usize, k, &init.param_sets, sf),
            neurons: SpecRam::new(nw.width() as usize, n, &init.neurons, nf),
            v: SpecRam::new(state_bits as usize, n, &init.v, vf),
            acc0e: acc(),
            acc0o: acc(),
            acc1e: acc(),
            acc1o: acc(),
            nu: NeuronPipe::new(potential_bits, acc_bits, current),
            running: Default::default(),
            rd_slot: Default::default(),
            s1_valid: Default::default(),
            s1_slot: Default::default(),
            s2_valid: Default::default(),
            s2_slot: Default::default(),
            s2_bias: Default::default(),
            clearing: Default::default(),
            clr_addr: Default::default(),
            last_addr: Constant::new(Bits::<SLOT_BITS>::from(half as u64 - 1)),
            s1_addr: Default::default(),
            s2_addr: Default::default(),
            s2_odd: Default::default(),
            acc_sweep: Default::default(),
            acc_int_e: Default::default(),
            acc_int_o: Default::default(),
            nword: Default::default(),
            word: Default::default(),
            vv: Default::default(),
            aie: Default::default(),
            aio: Default::default(),
            unused_ok: Default::default(),
            off_th: off(pw.threshold),
            off_vmin: off(pw.v_min),
            off_leak_en: off(pw.leak_enable),
            off_leak_shift: off(pw.leak_shift),
            off_reset_zero: off(pw.reset_zero),
            off_output: off(pw.output),
            // Without a current the pipe ignores these inputs.
            off_syn_en: off(pw.syn_enable.unwrap_or(pw.output)),
            off_syn_shift: off(pw.syn_shift.unwrap_or(pw.output)),
            off_bias: off6(nw.bias),
            off_set: off6(nw.set),
            mask_set: Constant::new(Bits::<SET_BITS>::from(nw.set.mask() as u64)),
            sign_p: c40(1 << (p - 1)),
            mask_p: c40((1 << p) - 1),
            ext_p: c40(all & !((1 << p) - 1)),
            sign_a: c40(1 << (a - 1)),
            ext_a: c40(all & !((1 << a) - 1)),
            zero: c40(0),
            zero_slot: Constant::new(Bits::<SLOT_BITS>::default()),
            one: Constant::new(Bits::<SLOT_BITS>::from(1u64)),
        }
    }
}

impl Logic for NeuronArray {
    #[hdl_gen]
    fn update(&mut self) {
        // Clocks and registers.
        self.param_sets.clock.next = self.clock.val();
        self.neurons.clock.next = self.clock.val();
        self.v.clock.next = self.clock.val();
        self.acc0e.clock.next = self.clock.val();
        self.acc0o.clock.next = self.clock.val();
        self.acc1e.clock.next = self.clock.val();
        self.acc1o.clock.next = self.clock.val();
        dff_setup!(self, clock, running, rd_slot, s1_valid, s1_slot, s2_valid, s2_slot, s2_bias, clearing, clr_addr);

        // Stage 1: issue the neuron word read of rd_slot.
        self.neurons.read_address.next = self.rd_slot.q.val();
        if self.start.val() & !self.running.q.val() {
            self.running.d.next = true;
            self.rd_slot.d.next = self.zero_slot.val();
        }
        self.s1_valid.d.next = false;
        if self.running.q.val() & !self.hold.val() {
            if self.rd_slot.q.val() < self.count.val() {
                self.s1_valid.d.next = true;
                self.s1_slot.d.next = self.rd_slot.q.val();
                self.rd_slot.d.next = self.rd_slot.q.val() + self.one.val();
            } else {
                self.running.d.next = false;
            }
        }
        if self.clear.val() & !self.running.q.val() {
            self.clearing.d.next = true;
            self.clr_addr.d.next = self.zero_slot.val();
        }
        if self.clearing.q.val() {
            self.clr_addr.d.next = self.clr_addr.q.val() + self.one.val();
            if self.clr_addr.q.val() == self.last_addr.val() {
                self.clearing.d.next = false;
            }
        }
        self.busy.next = self.running.q.val()
            | self.s1_valid.q.val()
            | self.s2_valid.q.val()
            | self.nu.busy.val()
            | self.clearing.q.val();

        // Stage 2: the neuron word is here; look up its set, read v and the
        // accumulator, keep slot and bias for the next clock.
        self.nword.next = self.neurons.read_data.val();
        self.param_sets.read_address.next =
            self.nword.val().get_bits::<SET_BITS>(self.off_set.val().index()) & self.mask_set.val();
        self.v.read_address.next = self.s1_slot.q.val();
        if !self.s1_valid.q.val() {
            // Between sweeps the potential port serves peeks.
            self.v.read_address.next = self.peek_slot.val();
        }
        self.s1_addr.next = self.s1_slot.q.val() >> self.one.val();
        self.s2_valid.d.next = self.s1_valid.q.val();
        self.s2_slot.d.next = self.s1_slot.q.val();
        self.s2_bias.d.next = self.nword.val().get_bits::<X>(self.off_bias.val().index());

        // Bank routing: the sweep reads/clears `bank` (both parities at
        // s1_addr, the slot's parity picked next clock), integration uses
        // `!bank` through one port per parity.
        self.acc0e.read_address.next = self.int_even_read_addr.val();
        self.acc0o.read_address.next = self.int_odd_read_addr.val();
        self.acc1e.read_address.next = self.s1_addr.val();
        self.acc1o.read_address.next = self.s1_addr.val();
        if !self.bank.val() {
            self.acc0e.read_address.next = self.s1_addr.val();
            self.acc0o.read_address.next = self.s1_addr.val();
            self.acc1e.read_address.next = self.int_even_read_addr.val();
            self.acc1o.read_address.next = self.int_odd_read_addr.val();
        }

        // Stage 3: decode, update, write back.
        self.s2_addr.next = self.s2_slot.q.val() >> self.one.val();
        self.s2_odd.next = self.s2_slot.q.val().get_bit(0);
        self.acc_int_e.next = self.acc0e.read_data.val();
        self.acc_int_o.next = self.acc0o.read_data.val();
        self.acc_sweep.next = self.acc1e.read_data.val();
        if self.s2_odd.val() {
            self.acc_sweep.next = self.acc1o.read_data.val();
        }
        if !self.bank.val() {
            self.acc_int_e.next = self.acc1e.read_data.val();
            self.acc_int_o.next = self.acc1o.read_data.val();
            self.acc_sweep.next = self.acc0e.read_data.val();
            if self.s2_odd.val() {
                self.acc_sweep.next = self.acc0o.read_data.val();
            }
        }
        self.word.next = self.param_sets.read_data.val();
        self.unused_ok.next = self.word.val().any() | self.nword.val().any();
        // Peeks and the integrate ports read sign-extended values; the
        // pipe takes the raw fields (it knows their widths).
        self.vv.next = self.v.read_data.val() & self.mask_p.val();
        if (self.v.read_data.val() & self.sign_p.val()).any() {
            self.vv.next = self.v.read_data.val() | self.ext_p.val();
        }
        self.aie.next = self.acc_int_e.val();
        if (self.acc_int_e.val() & self.sign_a.val()).any() {
            self.aie.next = self.acc_int_e.val() | self.ext_a.val();
        }
        self.aio.next = self.acc_int_o.val();
        if (self.acc_int_o.val() & self.sign_a.val()).any() {
            self.aio.next = self.acc_int_o.val() | self.ext_a.val();
        }
        self.int_even_read_data.next = self.aie.val();
        self.int_odd_read_data.next = self.aio.val();
        self.peek_data.next = self.vv.val();

        self.nu.clock.next = self.clock.val();
        self.nu.in_valid.next = self.s2_valid.q.val();
        self.nu.in_slot.next = self.s2_slot.q.val();
        self.nu.in_output.next = self.word.val().get_bit(self.off_output.val().index());
        self.nu.v.next = self.v.read_data.val();
        self.nu.acc.next = self.acc_sweep.val();
        self.nu.threshold.next = self.word.val().get_bits::<X>(self.off_th.val().index());
        self.nu.bias.next = self.s2_bias.q.val();
        self.nu.v_min.next = self.word.val().get_bits::<X>(self.off_vmin.val().index());
        self.nu.leak_en.next = self.word.val().get_bit(self.off_leak_en.val().index());
        self.nu.leak_shift.next = self.word.val().get_bits::<5>(self.off_leak_shift.val().index());
        self.nu.reset_zero.next = self.word.val().get_bit(self.off_reset_zero.val().index());
        self.nu.syn_en.next = self.word.val().get_bit(self.off_syn_en.val().index());
        self.nu.syn_shift.next = self.word.val().get_bits::<5>(self.off_syn_shift.val().index());

        // Stage 4: the pipe's result.
        self.v.write_address.next = self.nu.out_slot.val();
        self.v.write_data.next = self.nu.v_next.val();
        self.v.write_enable.next = self.nu.out_valid.val();
        if self.cfg_v_we.val() {
            self.v.write_address.next = self.cfg_slot.val();
            self.v.write_data.next = self.cfg_data.val().get_bits::<X>(0);
            self.v.write_enable.next = true;
        }

        // The sweep clears its slot in its bank; the integrate ports write
        // the other bank.
        self.acc0e.write_address.next = self.int_even_write_addr.val();
        self.acc0e.write_data.next = self.int_even_write_data.val();
        self.acc0e.write_enable.next = self.int_even_write.val();
        self.acc0o.write_address.next = self.int_odd_write_addr.val();
        self.acc0o.write_data.next = self.int_odd_write_data.val();
        self.acc0o.write_enable.next = self.int_odd_write.val();
        self.acc1e.write_address.next = self.s2_addr.val();
        self.acc1e.write_data.next = self.zero.val();
        self.acc1e.write_enable.next = self.s2_valid.q.val() & !self.s2_odd.val();
        self.acc1o.write_address.next = self.s2_addr.val();
        self.acc1o.write_data.next = self.zero.val();
        self.acc1o.write_enable.next = self.s2_valid.q.val() & self.s2_odd.val();
        if !self.bank.val() {
            self.acc0e.write_address.next = self.s2_addr.val();
            self.acc0e.write_data.next = self.zero.val();
            self.acc0e.write_enable.next = self.s2_valid.q.val() & !self.s2_odd.val();
            self.acc0o.write_address.next = self.s2_addr.val();
            self.acc0o.write_data.next = self.zero.val();
            self.acc0o.write_enable.next = self.s2_valid.q.val() & self.s2_odd.val();
            self.acc1e.write_address.next = self.int_even_write_addr.val();
            self.acc1e.write_data.next = self.int_even_write_data.val();
            self.acc1e.write_enable.next = self.int_even_write.val();
            self.acc1o.write_address.next = self.int_odd_write_addr.val();
            self.acc1o.write_data.next = self.int_odd_write_data.val();
            self.acc1o.write_enable.next = self.int_odd_write.val();
        }
        if self.clearing.q.val() {
            self.acc0e.write_address.next = self.clr_addr.q.val();
            self.acc0e.write_data.next = self.zero.val();
            self.acc0e.write_enable.next = true;
            self.acc0o.write_address.next = self.clr_addr.q.val();
            self.acc0o.write_data.next = self.zero.val();
            self.acc0o.write_enable.next = true;
            self.acc1e.write_address.next = self.clr_addr.q.val();
            self.acc1e.write_data.next = self.zero.val();
            self.acc1e.write_enable.next = true;
            self.acc1o.write_address.next = self.clr_addr.q.val();
            self.acc1o.write_data.next = self.zero.val();
            self.acc1o.write_enable.next = true;
        }

        // Configuration writes.
        self.param_sets.write_address.next = self.cfg_slot.val();
        self.param_sets.write_data.next = self.cfg_data.val();
        self.param_sets.write_enable.next = self.cfg_param_sets_we.val();
        self.neurons.write_address.next = self.cfg_slot.val();
        self.neurons.write_data.next = self.cfg_data.val().get_bits::<NEURON_BITS>(0);
        self.neurons.write_enable.next = self.cfg_neurons_we.val();

        self.out_valid.next = self.nu.out_valid.val();
        self.out_slot.next = self.nu.out_slot.val();
        self.out_spike.next = self.nu.out_spike.val();
        self.out_output.next = self.nu.out_output.val();
    }
}
