//! The neuron update datapath (docs/format.md, "Semantics"), in rust-hdl.
//!
//! Combinational: given a neuron's potential, accumulator and parameters it
//! computes the next potential and whether it spikes, exactly as the golden
//! model does. The core's sweep registers around it.
//!
//! Widths are fixed (40 bits everywhere: |u| < 2^34 for 32-bit v, a, b) and the spec's P
//! enters as run-time constants (the saturation bounds), because rust-hdl
//! widths are const generics while specs are read at run time; Yosys keeps
//! only what the constants leave alive. Every value is two's complement in
//! plain `Bits`: rust-hdl's signed type mis-simulates the most negative value
//! (`signed_bit_cast` recursion), so signs are extended by hand and signed
//! comparisons are unsigned comparisons with the sign bit flipped.

use rust_hdl::prelude::*;

/// Internal width: |u| < 2^34 for 32-bit v, a, b, so 40 bits are exact.
pub const X: usize = 40;

/// See the module docs. Inputs are P-bit (or accumulator-width) values
/// sign-extended to 40 bits; so is the output.
#[derive(LogicBlock)]
pub struct NeuronUpdate {
    /// Potential v.
    pub v: Signal<In, Bits<X>>,
    /// Accumulated input a of this step.
    pub acc: Signal<In, Bits<X>>,
    /// Threshold θ.
    pub threshold: Signal<In, Bits<X>>,
    /// Bias b.
    pub bias: Signal<In, Bits<X>>,
    /// Lower clamp.
    pub v_min: Signal<In, Bits<X>>,
    /// Leak enabled.
    pub leak_en: Signal<In, bool>,
    /// Leak shift λ.
    pub leak_shift: Signal<In, Bits<5>>,
    /// Reset to zero (else subtract θ).
    pub reset_zero: Signal<In, bool>,
    /// Next potential, sign-extended to 40 bits.
    pub v_next: Signal<Out, Bits<X>>,
    /// The neuron spikes in this step.
    pub spike: Signal<Out, bool>,
    leak40: Signal<Local, Bits<X>>,
    u40: Signal<Local, Bits<X>>,
    sat40: Signal<Local, Bits<X>>,
    after40: Signal<Local, Bits<X>>,
    out40: Signal<Local, Bits<X>>,
    /// Zero, at the datapath width (a literal would be 32 bits wide).
    zero: Constant<Bits<X>>,
    /// All ones, for the arithmetic shift.
    ones: Constant<Bits<X>>,
    /// The sign bit, flipped to compare signed values as unsigned.
    sign: Constant<Bits<X>>,
    /// −2^(P−1) and 2^(P−1)−1, 40-bit two's complement.
    p_min: Constant<Bits<X>>,
    p_max: Constant<Bits<X>>,
}

fn tc(v: i64) -> Bits<X> {
    Bits::<X>::from((v as u64) & ((1u64 << X) - 1))
}

impl NeuronUpdate {
    /// The datapath for potentials of `potential_bits` bits.
    pub fn new(potential_bits: u32) -> NeuronUpdate {
        NeuronUpdate {
            v: Default::default(),
            acc: Default::default(),
            threshold: Default::default(),
            bias: Default::default(),
            v_min: Default::default(),
            leak_en: Default::default(),
            leak_shift: Default::default(),
            reset_zero: Default::default(),
            v_next: Default::default(),
            spike: Default::default(),
            leak40: Default::default(),
            u40: Default::default(),
            sat40: Default::default(),
            after40: Default::default(),
            out40: Default::default(),
            zero: Constant::new(tc(0)),
            ones: Constant::new(tc(-1)),
            sign: Constant::new(tc(1 << (X - 1))),
            p_min: Constant::new(tc(-(1i64 << (potential_bits - 1)))),
            p_max: Constant::new(tc((1i64 << (potential_bits - 1)) - 1)),
        }
    }
}

impl Logic for NeuronUpdate {
    #[hdl_gen]
    fn update(&mut self) {
        // Leak: arithmetic shift right (floor), i.e. logical shift plus sign fill.
        self.leak40.next = self.zero.val();
        if self.leak_en.val() {
            self.leak40.next = self.v.val() >> self.leak_shift.val();
            if self.v.val().get_bit(39) {
                self.leak40.next =
                    (self.v.val() >> self.leak_shift.val()) | !(self.ones.val() >> self.leak_shift.val());
            }
        }
        // Exact update, then saturation to P bits.
        self.u40.next = self.v.val() - self.leak40.val() + self.acc.val() + self.bias.val();
        self.sat40.next = self.u40.val();
        if (self.u40.val() ^ self.sign.val()) < (self.p_min.val() ^ self.sign.val()) {
            self.sat40.next = self.p_min.val();
        }
        if (self.u40.val() ^ self.sign.val()) > (self.p_max.val() ^ self.sign.val()) {
            self.sat40.next = self.p_max.val();
        }
        // Threshold (inclusive) and reset.
        self.spike.next = (self.sat40.val() ^ self.sign.val()) >= (self.threshold.val() ^ self.sign.val());
        self.after40.next = self.sat40.val();
        if (self.sat40.val() ^ self.sign.val()) >= (self.threshold.val() ^ self.sign.val()) {
            self.after40.next = self.sat40.val() - self.threshold.val();
            if self.reset_zero.val() {
                self.after40.next = self.zero.val();
            }
        }
        // Lower clamp.
        self.out40.next = self.after40.val();
        if (self.after40.val() ^ self.sign.val()) < (self.v_min.val() ^ self.sign.val()) {
            self.out40.next = self.v_min.val();
        }
        self.v_next.next = self.out40.val();
    }
}
