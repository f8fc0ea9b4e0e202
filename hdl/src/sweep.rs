//! The neuron array of a core: parameter, potential and two accumulator
//! memories, and the sweep that updates one neuron per clock.
//!
//! Accumulators are double-buffered: during step t the sweep reads and
//! clears bank `bank` (the input of step t) while the integrate engine adds
//! the spikes of step t into bank `!bank` through the integrate port. So
//! integration overlaps the sweep without ever touching a neuron the sweep
//! has not reached yet, and each bank has one reader and one writer — one
//! SB_RAM40_4K port pair.
//!
//! Sweep pipeline: cycle k issues the reads of slot k; cycle k+1 decodes the
//! parameter word (field positions from `spikeforge_hw::memory::ParamWord`,
//! the same the mapper packs with; P from the spec), runs
//! [`NeuronUpdate`], writes v and clears the accumulator, and reports a spike.

use crate::mem::SpecRam;
use crate::neuron::{NeuronUpdate, X};
use rust_hdl::prelude::*;

/// Address width of every neuron-indexed memory port (the top-level slot width).
pub const SLOT_BITS: usize = spikeforge_hw::ports::SLOT_BITS;
/// Parameter read port width: the configuration word, 3·32+8 bits plus room
/// for a 40-bit slice at any field offset.
pub const PARAM_BITS: usize = spikeforge_hw::ports::CFG_DATA_BITS;

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
    /// Pulse (while not sweeping): zero both accumulator banks, one slot per
    /// clock over the whole depth (`busy` meanwhile). A network reset: with
    /// the potentials rewritten over the configuration port, the next step
    /// starts from the network's initial state. Also clears power-up garbage
    /// (block RAM contents are not defined by every tool).
    pub clear: Signal<In, bool>,
    /// Pause: issue no new neuron this clock (the one in flight completes).
    pub hold: Signal<In, bool>,
    /// High while sweeping.
    pub busy: Signal<Out, bool>,
    /// A neuron was updated this clock...
    pub out_valid: Signal<Out, bool>,
    /// ...this one...
    pub out_slot: Signal<Out, Bits<SLOT_BITS>>,
    /// ...and it spiked.
    pub out_spike: Signal<Out, bool>,
    /// Its `output` parameter bit.
    pub out_output: Signal<Out, bool>,
    /// Integrate port on bank `!bank`: read address (data next clock).
    pub int_read_slot: Signal<In, Bits<SLOT_BITS>>,
    /// Integrate port: accumulator read data, sign-extended.
    pub int_read_data: Signal<Out, Bits<X>>,
    /// Integrate port: write strobe, address and value.
    pub int_write: Signal<In, bool>,
    /// Integrate port: write address.
    pub int_write_slot: Signal<In, Bits<SLOT_BITS>>,
    /// Integrate port: value to store (low accumulator-width bits are kept).
    pub int_write_data: Signal<In, Bits<X>>,
    /// Potential read (when not sweeping): slot to read.
    pub peek_slot: Signal<In, Bits<SLOT_BITS>>,
    /// Potential of `peek_slot` one clock after it was presented, sign-extended.
    pub peek_data: Signal<Out, Bits<X>>,
    /// Configuration: write `cfg_data` into the parameter word of `cfg_slot`.
    pub cfg_params_we: Signal<In, bool>,
    /// Configuration: write the low P bits of `cfg_data` into the potential of `cfg_slot`
    /// (initial state, or a reset of the network; not while sweeping).
    pub cfg_v_we: Signal<In, bool>,
    /// Configuration address.
    pub cfg_slot: Signal<In, Bits<SLOT_BITS>>,
    /// Configuration data (docs/hardware.md word layout, zero-extended).
    pub cfg_data: Signal<In, Bits<PARAM_BITS>>,
    /// Parameter memory.
    pub params: SpecRam<SLOT_BITS, PARAM_BITS>,
    /// Potentials.
    pub v: SpecRam<SLOT_BITS, X>,
    /// Accumulator bank 0.
    pub acc0: SpecRam<SLOT_BITS, X>,
    /// Accumulator bank 1.
    pub acc1: SpecRam<SLOT_BITS, X>,
    nu: NeuronUpdate,
    running: DFF<bool>,
    rd_slot: DFF<Bits<SLOT_BITS>>,
    s1_valid: DFF<bool>,
    s1_slot: DFF<Bits<SLOT_BITS>>,
    clearing: DFF<bool>,
    clr_slot: DFF<Bits<SLOT_BITS>>,
    last_slot: Constant<Bits<SLOT_BITS>>,
    acc_sweep: Signal<Local, Bits<X>>,
    acc_int: Signal<Local, Bits<X>>,
    word: Signal<Local, Bits<PARAM_BITS>>,
    th: Signal<Local, Bits<X>>,
    bi: Signal<Local, Bits<X>>,
    vm: Signal<Local, Bits<X>>,
    vv: Signal<Local, Bits<X>>,
    aa: Signal<Local, Bits<X>>,
    ai: Signal<Local, Bits<X>>,
    /// Reads the parameter word's padding above the spec's fields, so that
    /// Verilator's -Wall sees every bit used (its `*unused*` name rule).
    unused_ok: Signal<Local, bool>,
    // Parameter word field offsets (spikeforge_hw::memory::ParamWord) and
    // sign-extension masks for P and accumulator bits.
    off_th: Constant<Bits<8>>,
    off_bias: Constant<Bits<8>>,
    off_vmin: Constant<Bits<8>>,
    off_leak_en: Constant<Bits<8>>,
    off_leak_shift: Constant<Bits<8>>,
    off_reset_zero: Constant<Bits<8>>,
    off_output: Constant<Bits<8>>,
    mask_p: Constant<Bits<X>>,
    sign_p: Constant<Bits<X>>,
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
    /// Parameter words.
    pub params: Vec<u128>,
    /// Potential words (v_init).
    pub v: Vec<u128>,
    /// `$readmemh` files for params and v, if the emitted design should boot loaded.
    pub files: Option<(String, String)>,
}

impl NeuronArray {
    /// A neuron array of `n` slots for P-bit potentials and `acc_bits` accumulators.
    pub fn new(n: usize, potential_bits: u32, acc_bits: u32, init: &ArrayInit) -> NeuronArray {
        let p = potential_bits as u64;
        let a = acc_bits as u64;
        let all = (1u64 << X) - 1;
        let f = spikeforge_hw::memory::ParamWord::new(potential_bits);
        let off = |field: spikeforge_hw::memory::Field| Constant::new(Bits::<8>::from(field.offset as u64));
        let (pf, vf) = match &init.files {
            Some((pf, vf)) => (Some(pf.clone()), Some(vf.clone())),
            None => (None, None),
        };
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
            int_read_slot: Default::default(),
            int_read_data: Default::default(),
            int_write: Default::default(),
            int_write_slot: Default::default(),
            int_write_data: Default::default(),
            peek_slot: Default::default(),
            peek_data: Default::default(),
            cfg_params_we: Default::default(),
            cfg_v_we: Default::default(),
            cfg_slot: Default::default(),
            cfg_data: Default::default(),
            params: SpecRam::new(f.width() as usize, n, &init.params, pf),
            v: SpecRam::new(potential_bits as usize, n, &init.v, vf),
            acc0: SpecRam::new(acc_bits as usize, n, &[], None),
            acc1: SpecRam::new(acc_bits as usize, n, &[], None),
            nu: NeuronUpdate::new(potential_bits),
            running: Default::default(),
            rd_slot: Default::default(),
            s1_valid: Default::default(),
            s1_slot: Default::default(),
            clearing: Default::default(),
            clr_slot: Default::default(),
            last_slot: Constant::new(Bits::<SLOT_BITS>::from(n as u64 - 1)),
            acc_sweep: Default::default(),
            acc_int: Default::default(),
            word: Default::default(),
            th: Default::default(),
            bi: Default::default(),
            vm: Default::default(),
            vv: Default::default(),
            aa: Default::default(),
            ai: Default::default(),
            unused_ok: Default::default(),
            off_th: off(f.threshold),
            off_bias: off(f.bias),
            off_vmin: off(f.v_min),
            off_leak_en: off(f.leak_enable),
            off_leak_shift: off(f.leak_shift),
            off_reset_zero: off(f.reset_zero),
            off_output: off(f.output),
            mask_p: c40((1 << p) - 1),
            sign_p: c40(1 << (p - 1)),
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
        self.params.clock.next = self.clock.val();
        self.v.clock.next = self.clock.val();
        self.acc0.clock.next = self.clock.val();
        self.acc1.clock.next = self.clock.val();
        dff_setup!(self, clock, running, rd_slot, s1_valid, s1_slot, clearing, clr_slot);

        // Stage 0: issue reads of rd_slot.
        self.params.read_address.next = self.rd_slot.q.val();
        self.v.read_address.next = self.rd_slot.q.val();
        if !self.running.q.val() {
            self.v.read_address.next = self.peek_slot.val();
        }
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
            self.clr_slot.d.next = self.zero_slot.val();
        }
        if self.clearing.q.val() {
            self.clr_slot.d.next = self.clr_slot.q.val() + self.one.val();
            if self.clr_slot.q.val() == self.last_slot.val() {
                self.clearing.d.next = false;
            }
        }
        self.busy.next = self.running.q.val() | self.s1_valid.q.val() | self.clearing.q.val();

        // Bank routing: the sweep reads/clears `bank`, integration uses `!bank`.
        self.acc0.read_address.next = self.int_read_slot.val();
        self.acc1.read_address.next = self.rd_slot.q.val();
        self.acc_sweep.next = self.acc1.read_data.val();
        self.acc_int.next = self.acc0.read_data.val();
        if !self.bank.val() {
            self.acc0.read_address.next = self.rd_slot.q.val();
            self.acc1.read_address.next = self.int_read_slot.val();
            self.acc_sweep.next = self.acc0.read_data.val();
            self.acc_int.next = self.acc1.read_data.val();
        }

        // Stage 1: decode, update, write back.
        self.word.next = self.params.read_data.val();
        self.unused_ok.next = self.word.val().any();
        self.th.next = self.word.val().get_bits::<X>(self.off_th.val().index()) & self.mask_p.val();
        if (self.th.val() & self.sign_p.val()).any() {
            self.th.next =
                (self.word.val().get_bits::<X>(self.off_th.val().index()) & self.mask_p.val()) | self.ext_p.val();
        }
        self.bi.next = self.word.val().get_bits::<X>(self.off_bias.val().index()) & self.mask_p.val();
        if (self.bi.val() & self.sign_p.val()).any() {
            self.bi.next =
                (self.word.val().get_bits::<X>(self.off_bias.val().index()) & self.mask_p.val()) | self.ext_p.val();
        }
        self.vm.next = self.word.val().get_bits::<X>(self.off_vmin.val().index()) & self.mask_p.val();
        if (self.vm.val() & self.sign_p.val()).any() {
            self.vm.next =
                (self.word.val().get_bits::<X>(self.off_vmin.val().index()) & self.mask_p.val()) | self.ext_p.val();
        }
        self.vv.next = self.v.read_data.val();
        if (self.v.read_data.val() & self.sign_p.val()).any() {
            self.vv.next = self.v.read_data.val() | self.ext_p.val();
        }
        self.aa.next = self.acc_sweep.val();
        if (self.acc_sweep.val() & self.sign_a.val()).any() {
            self.aa.next = self.acc_sweep.val() | self.ext_a.val();
        }
        self.ai.next = self.acc_int.val();
        if (self.acc_int.val() & self.sign_a.val()).any() {
            self.ai.next = self.acc_int.val() | self.ext_a.val();
        }
        self.int_read_data.next = self.ai.val();
        self.peek_data.next = self.vv.val();

        self.nu.v.next = self.vv.val();
        self.nu.acc.next = self.aa.val();
        self.nu.threshold.next = self.th.val();
        self.nu.bias.next = self.bi.val();
        self.nu.v_min.next = self.vm.val();
        self.nu.leak_en.next = self.word.val().get_bit(self.off_leak_en.val().index());
        self.nu.leak_shift.next = self.word.val().get_bits::<5>(self.off_leak_shift.val().index());
        self.nu.reset_zero.next = self.word.val().get_bit(self.off_reset_zero.val().index());

        self.v.write_address.next = self.s1_slot.q.val();
        self.v.write_data.next = self.nu.v_next.val();
        self.v.write_enable.next = self.s1_valid.q.val();
        if self.cfg_v_we.val() {
            self.v.write_address.next = self.cfg_slot.val();
            self.v.write_data.next = self.cfg_data.val().get_bits::<X>(0);
            self.v.write_enable.next = true;
        }

        // The sweep clears its bank; the integrate port writes the other.
        self.acc0.write_address.next = self.int_write_slot.val();
        self.acc0.write_data.next = self.int_write_data.val();
        self.acc0.write_enable.next = self.int_write.val();
        self.acc1.write_address.next = self.s1_slot.q.val();
        self.acc1.write_data.next = self.zero.val();
        self.acc1.write_enable.next = self.s1_valid.q.val();
        if !self.bank.val() {
            self.acc0.write_address.next = self.s1_slot.q.val();
            self.acc0.write_data.next = self.zero.val();
            self.acc0.write_enable.next = self.s1_valid.q.val();
            self.acc1.write_address.next = self.int_write_slot.val();
            self.acc1.write_data.next = self.int_write_data.val();
            self.acc1.write_enable.next = self.int_write.val();
        }
        if self.clearing.q.val() {
            self.acc0.write_address.next = self.clr_slot.q.val();
            self.acc0.write_data.next = self.zero.val();
            self.acc0.write_enable.next = true;
            self.acc1.write_address.next = self.clr_slot.q.val();
            self.acc1.write_data.next = self.zero.val();
            self.acc1.write_enable.next = true;
        }
        self.params.write_address.next = self.cfg_slot.val();
        self.params.write_data.next = self.cfg_data.val();
        self.params.write_enable.next = self.cfg_params_we.val();

        self.out_valid.next = self.s1_valid.q.val();
        self.out_slot.next = self.s1_slot.q.val();
        self.out_spike.next = self.s1_valid.q.val() & self.nu.spike.val();
        self.out_output.next = self.word.val().get_bit(self.off_output.val().index());
    }
}
