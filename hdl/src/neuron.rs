//! The neuron update datapath (docs/format.md, "Semantics"): [`NeuronPipe`],
//! given a neuron's potential, accumulator and parameters, computes the
//! next potential and whether it spikes, exactly as the golden model does,
//! in a three-clock pipeline at the spec's exact widths.
//!
//! rust-hdl widths are const generics while specs are read at run time, so
//! the block's Verilog is generated at run time (`Verilog::Custom`) with the
//! spec's P and accumulator widths, and its ports carry values in the low
//! bits of fixed 40-bit `Bits` (|u| < 2^34 for 32-bit v, a, b). rust-hdl's
//! signed type mis-simulates the most negative value (`signed_bit_cast`
//! recursion), so the rest of the core extends signs by hand in plain `Bits`.
//!
//! For a spec with `current_state` the pipe also updates the synaptic
//! current: the potential word carries it above the potential (`v` in, and
//! `v_next` out, are `{i, v}`), so the state memory's one read and one
//! write per slot serve both and the sweep does not change shape.

use rust_hdl::prelude::*;

/// Internal width: |u| < 2^34 for 32-bit v, a, b, so 40 bits are exact.
pub const X: usize = 40;

/// Clocks from [`NeuronPipe`]'s inputs to its registered outputs.
pub const PIPE_STAGES: usize = 3;

/// The neuron update, pipelined over three clocks and at
/// the exact widths of the spec (P-bit potentials and parameters, A-bit
/// accumulators), so that place and route sees short carry chains instead
/// of 40-bit ones. Inputs are the raw P- or A-bit fields in the low bits of
/// the ports (their sign bit is the field's top bit; higher port bits are
/// ignored); `v_next` is the exact result sign-extended to 40 bits. A neuron entering on clock c leaves on the outputs
/// after the clock edge c+3; one neuron per clock.
///
/// Stages:
/// 1. leak `v >>> λ` and `d = v − leak`; `ab = a + b`; `vth = v_min + θ`;
/// 2. `u = d + ab`, saturated to P bits (only the top bits of `u` decide);
/// 3. threshold, subtract or reset, and the lower clamp, with the clamp's
///    compare of `sat − θ` done as `sat < v_min + θ`, so no compare waits
///    for a subtraction.
///
/// The Verilog is generated at run time (`Verilog::Custom`), as `SpecRam`'s
/// is; `update()` is its bit-exact rust-hdl model.
#[derive(LogicBlock)]
pub struct NeuronPipe {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// A neuron enters this clock.
    pub in_valid: Signal<In, bool>,
    /// Its slot (carried along).
    pub in_slot: Signal<In, Bits<16>>,
    /// Its parameter set's `output` bit (carried along).
    pub in_output: Signal<In, bool>,
    /// Potential v (low P bits).
    pub v: Signal<In, Bits<X>>,
    /// Accumulated input a (low A bits).
    pub acc: Signal<In, Bits<X>>,
    /// Threshold θ (low P bits).
    pub threshold: Signal<In, Bits<X>>,
    /// Bias b (low P bits).
    pub bias: Signal<In, Bits<X>>,
    /// Lower clamp (low P bits).
    pub v_min: Signal<In, Bits<X>>,
    /// Leak enabled.
    pub leak_en: Signal<In, bool>,
    /// Leak shift λ.
    pub leak_shift: Signal<In, Bits<5>>,
    /// Reset to zero (else subtract θ).
    pub reset_zero: Signal<In, bool>,
    /// Current-based neuron (specs with `current_state`; else unused).
    pub syn_en: Signal<In, bool>,
    /// Its current's decay shift k_syn.
    pub syn_shift: Signal<In, Bits<5>>,
    /// A neuron leaves.
    pub out_valid: Signal<Out, bool>,
    /// Its slot.
    pub out_slot: Signal<Out, Bits<16>>,
    /// Its `output` bit.
    pub out_output: Signal<Out, bool>,
    /// It spiked (low when `out_valid` is).
    pub out_spike: Signal<Out, bool>,
    /// Its next potential, sign-extended to 40 bits.
    pub v_next: Signal<Out, Bits<X>>,
    /// A neuron is in stage 2, 3 or on the outputs.
    pub busy: Signal<Out, bool>,
    _p: u32,
    _a: u32,
    _current: bool,
    _s1: Option<Stage1>,
    _s2: Option<Stage2>,
    _out: Option<(u64, bool, bool, i64, i64)>,
}

/// Stage-1 registers of the model (the Verilog's `v_min + θ` is not needed
/// here). With a current: `d` = v − leak + b and `ab` = i − (i >> k) + a
/// (or a), unsaturated; without: `d` = v − leak and `ab` = a + b.
#[derive(Clone, Copy)]
struct Stage1 {
    slot: u64,
    output: bool,
    d: i64,
    ab: i64,
    en: bool,
    th: i64,
    vm: i64,
    rz: bool,
}

/// Stage-2 registers of the model: the saturated sum and what stage 3 needs.
#[derive(Clone, Copy)]
struct Stage2 {
    slot: u64,
    output: bool,
    sat: i64,
    /// The current to store (0 for a neuron without one).
    cur: i64,
    th: i64,
    vm: i64,
    rz: bool,
}

/// The low `bits` bits of `v` as a signed number.
fn sext(v: u64, bits: u32) -> i64 {
    ((v << (64 - bits)) as i64) >> (64 - bits)
}

impl NeuronPipe {
    /// The pipeline for P-bit potentials and A-bit accumulators; `current`:
    /// with synaptic currents (A-bit, above the potential in `v`).
    pub fn new(potential_bits: u32, acc_bits: u32, current: bool) -> NeuronPipe {
        assert!((2..=32).contains(&potential_bits) && (2..=36).contains(&acc_bits), "P 2..32, A 2..36");
        assert!(!current || potential_bits + acc_bits <= X as u32, "P + A <= {X} with a current");
        NeuronPipe {
            clock: Default::default(),
            in_valid: Default::default(),
            in_slot: Default::default(),
            in_output: Default::default(),
            v: Default::default(),
            acc: Default::default(),
            threshold: Default::default(),
            bias: Default::default(),
            v_min: Default::default(),
            leak_en: Default::default(),
            leak_shift: Default::default(),
            reset_zero: Default::default(),
            syn_en: Default::default(),
            syn_shift: Default::default(),
            out_valid: Default::default(),
            out_slot: Default::default(),
            out_output: Default::default(),
            out_spike: Default::default(),
            v_next: Default::default(),
            busy: Default::default(),
            _p: potential_bits,
            _a: acc_bits,
            _current: current,
            _s1: None,
            _s2: None,
            _out: None,
        }
    }
}

impl Logic for NeuronPipe {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            let (p, a, current) = (self._p, self._a, self._current);
            let (lo, hi) = (-(1i64 << (p - 1)), (1i64 << (p - 1)) - 1);
            let (alo, ahi) = (-(1i64 << (a - 1)), (1i64 << (a - 1)) - 1);
            // Stage 3 on the stage-2 registers.
            self._out = self._s2.map(|s| {
                let spike = s.sat >= s.th;
                let after = if !spike {
                    s.sat
                } else if s.rz {
                    0
                } else {
                    s.sat - s.th
                };
                (s.slot, s.output, spike, after.max(s.vm), s.cur)
            });
            // Stage 2 on the stage-1 registers.
            self._s2 = self._s1.map(|s| {
                let input = if current { s.ab.clamp(alo, ahi) } else { s.ab };
                Stage2 {
                    slot: s.slot,
                    output: s.output,
                    sat: (s.d + input).clamp(lo, hi),
                    cur: if s.en { input } else { 0 },
                    th: s.th,
                    vm: s.vm,
                    rz: s.rz,
                }
            });
            // Stage 1 on the inputs.
            self._s1 = self.in_valid.val().then(|| {
                let v = sext(self.v.val().to_u64(), p);
                let leak = if self.leak_en.val() { v >> self.leak_shift.val().to_u64() } else { 0 };
                let th = sext(self.threshold.val().to_u64(), p);
                let vm = sext(self.v_min.val().to_u64(), p);
                let (acc, b) = (sext(self.acc.val().to_u64(), a), sext(self.bias.val().to_u64(), p));
                let en = current && self.syn_en.val();
                let (d, ab) = if current {
                    let i = sext(self.v.val().to_u64() >> p, a);
                    let ci = if en { i - (i >> self.syn_shift.val().to_u64()) + acc } else { acc };
                    (v - leak + b, ci)
                } else {
                    (v - leak, acc + b)
                };
                Stage1 {
                    slot: self.in_slot.val().to_u64(),
                    output: self.in_output.val(),
                    d,
                    ab,
                    en,
                    th,
                    vm,
                    rz: self.reset_zero.val(),
                }
            });
            let (slot, output, spike, v, cur) = self._out.unwrap_or((0, false, false, 0, 0));
            // With a current the word is {i, v}; without, v sign-extended.
            let v = if current { (v & ((1 << p) - 1)) | ((cur & ((1 << a) - 1)) << p) } else { v };
            // The registers keep their last contents when nothing flows, as
            // the Verilog's do; only valid and spike are cleared.
            self.out_valid.next = self._out.is_some();
            if self._out.is_some() {
                self.out_slot.next = Bits::<16>::from(slot);
                self.out_output.next = output;
                self.v_next.next = Bits::<X>::from((v as u64) & ((1u64 << X) - 1));
            }
            self.out_spike.next = self._out.is_some() && spike;
            self.busy.next = self._s1.is_some() || self._s2.is_some() || self._out.is_some();
        }
    }

    fn connect(&mut self) {
        self.out_valid.connect();
        self.out_slot.connect();
        self.out_output.connect();
        self.out_spike.connect();
        self.v_next.connect();
        self.busy.connect();
    }

    fn hdl(&self) -> Verilog {
        if self._current {
            return Verilog::Custom(self.verilog_with_current());
        }
        let (p, a) = (self._p as usize, self._a as usize);
        let m = p.max(a); // ab has m+1 bits, u m+2
        let sx = sign_extend;
        let pm = p - 1;
        let mut s = String::new();
        s.push_str(&format!(
            "// Port bits above the fields (P = {p}, A = {a}) are not used, nor the\n\
             // synaptic-current inputs (this spec has no current_state).\n\
             wire unused_ok = &{{1'b0, v[{x}:{p}], acc[{x}:{a}], threshold[{x}:{p}], bias[{x}:{p}], v_min[{x}:{p}], syn_en, syn_shift, 1'b0}};\n",
            x = X - 1
        ));
        // Stage 1.
        s.push_str(&format!(
            "// Stage 1: leak and v - leak; a + b; v_min + threshold.\n\
             wire signed [{pm}:0] s1_v = v[{pm}:0];\n\
             wire signed [{pm}:0] s1_sh = s1_v >>> leak_shift;\n\
             wire [{pm}:0] s1_leak = leak_en ? s1_sh : {p}'d0;\n\
             wire [{p}:0] s1_d = {} - {};\n\
             wire [{m}:0] s1_ab = {} + {};\n\
             wire [{p}:0] s1_vth = {} + {};\n\
             reg r1_valid = 1'b0;\nreg [15:0] r1_slot = 16'd0;\nreg r1_output = 1'b0;\nreg [{p}:0] r1_d = {p1}'d0;\n\
             reg [{m}:0] r1_ab = {m1}'d0;\nreg [{pm}:0] r1_th = {p}'d0;\nreg [{pm}:0] r1_vm = {p}'d0;\nreg [{p}:0] r1_vth = {p1}'d0;\nreg r1_rz = 1'b0;\n\
             always @(posedge clock) begin\n    r1_valid <= in_valid;\n    r1_slot <= in_slot;\n    r1_output <= in_output;\n    r1_d <= s1_d;\n    r1_ab <= s1_ab;\n\
             \x20   r1_th <= threshold[{pm}:0];\n    r1_vm <= v_min[{pm}:0];\n    r1_vth <= s1_vth;\n    r1_rz <= reset_zero;\nend\n",
            sx("s1_v", &format!("s1_v[{pm}]"), p, p + 1),
            sx("s1_leak", &format!("s1_leak[{pm}]"), p, p + 1),
            sx(&format!("acc[{}:0]", a - 1), &format!("acc[{}]", a - 1), a, m + 1),
            sx(&format!("bias[{pm}:0]"), &format!("bias[{pm}]"), p, m + 1),
            sx(&format!("v_min[{pm}:0]"), &format!("v_min[{pm}]"), p, p + 1),
            sx(&format!("threshold[{pm}:0]"), &format!("threshold[{pm}]"), p, p + 1),
            p1 = p + 1,
            m1 = m + 1,
        ));
        // Stage 2: u has m+2 bits; it fits P bits iff bits m+1..P-1 are all equal.
        let top = m + 2 - (p - 1);
        s.push_str(&format!(
            "// Stage 2: u = d + ab, saturated to P bits.\n\
             wire [{u}:0] s2_u = {} + {};\n\
             wire s2_fits = (s2_u[{u}:{pm}] == {{{top}{{s2_u[{u}]}}}});\n\
             wire [{pm}:0] s2_sat = s2_fits ? s2_u[{pm}:0] : (s2_u[{u}] ? {{1'b1, {pm}'d0}} : {{1'b0, {{{pm}{{1'b1}}}}}});\n\
             reg r2_valid = 1'b0;\nreg [15:0] r2_slot = 16'd0;\nreg r2_output = 1'b0;\nreg [{pm}:0] r2_sat = {p}'d0;\n\
             reg [{pm}:0] r2_th = {p}'d0;\nreg [{pm}:0] r2_vm = {p}'d0;\nreg [{p}:0] r2_vth = {p1}'d0;\nreg r2_rz = 1'b0;\n\
             always @(posedge clock) begin\n    r2_valid <= r1_valid;\n    r2_slot <= r1_slot;\n    r2_output <= r1_output;\n    r2_sat <= s2_sat;\n\
             \x20   r2_th <= r1_th;\n    r2_vm <= r1_vm;\n    r2_vth <= r1_vth;\n    r2_rz <= r1_rz;\nend\n",
            sx("r1_d", &format!("r1_d[{p}]"), p + 1, m + 2),
            sx("r1_ab", &format!("r1_ab[{m}]"), m + 1, m + 2),
            u = m + 1,
            p1 = p + 1,
        ));
        // Stage 3.
        s.push_str(&format!(
            "// Stage 3: threshold, reset, clamp (sat - th < v_min as sat < v_min + th).\n\
             {}\
             initial begin\n    out_valid = 1'b0;\n    out_spike = 1'b0;\n    out_slot = 16'd0;\n    out_output = 1'b0;\n    v_next = {x}'d0;\nend\n\
             always @(posedge clock) begin\n    out_valid <= r2_valid;\n    out_spike <= r2_valid && s3_spike;\n\
             \x20   if (r2_valid) begin\n        out_slot <= r2_slot;\n        out_output <= r2_output;\n        v_next <= {};\n    end\nend\n\
             always @(*) busy = r1_valid || r2_valid || out_valid;\n",
            stage3_decide(p),
            sx("s3_out", &format!("s3_out[{p}]"), p + 1, X),
            x = X,
        ));
        Verilog::Custom(s)
    }
}

/// Stage 3's decision on the stage-2 registers, in Verilog: spike,
/// subtract or zero reset, and the lower clamp, into `s3_out` (P+1 bits).
/// The compare of `sat − θ` against v_min is done as `sat < v_min + θ`, so
/// no compare waits for a subtraction.
fn stage3_decide(p: usize) -> String {
    let pm = p - 1;
    format!(
        "wire [{p}:0] s3_sat = {{r2_sat[{pm}], r2_sat}};\n\
             wire [{p}:0] s3_th = {{r2_th[{pm}], r2_th}};\n\
             wire [{p}:0] s3_vm = {{r2_vm[{pm}], r2_vm}};\n\
             wire s3_spike = $signed(s3_sat) >= $signed(s3_th);\n\
             wire [{p}:0] s3_diff = s3_sat - s3_th;\n\
             wire s3_lt_sat = $signed(s3_sat) < $signed(s3_vm);\n\
             wire s3_lt_diff = $signed(s3_sat) < $signed(r2_vth);\n\
             wire s3_lt_zero = !r2_vm[{pm}] && (r2_vm != {p}'d0);\n\
             wire [{p}:0] s3_after = s3_spike ? (r2_rz ? {p1}'d0 : s3_diff) : s3_sat;\n\
             wire s3_lt = s3_spike ? (r2_rz ? s3_lt_zero : s3_lt_diff) : s3_lt_sat;\n\
             wire [{p}:0] s3_out = s3_lt ? s3_vm : s3_after;\n",
        p1 = p + 1
    )
}

/// Sign extension of `e` (an expression `w` bits wide whose sign bit is
/// `sign`) to `to` bits, in Verilog.
fn sign_extend(e: &str, sign: &str, w: usize, to: usize) -> String {
    if to == w {
        e.to_string()
    } else {
        format!("{{{{{}{{{sign}}}}}, {e}}}", to - w)
    }
}

impl NeuronPipe {
    /// The Verilog of the pipe with a synaptic current (`current_state`):
    /// stage 1 computes `d = v − leak + b` and `c = i − (i >>> k) + a` (or
    /// `a`); stage 2 saturates `c` to A bits (the new current) and
    /// `d + i'` to P bits; stage 3 is the pipe's usual threshold, reset and
    /// clamp, and the result word is `{i', v'}`.
    fn verilog_with_current(&self) -> String {
        let (p, a) = (self._p as usize, self._a as usize);
        let sx = sign_extend;
        let (pm, am) = (p - 1, a - 1);
        let x = X - 1;
        let mut s = String::new();
        let above = if p + a < X { format!(" v[{x}:{}],", p + a) } else { String::new() };
        s.push_str(&format!(
            "// Port bits above the fields (P = {p}, A = {a}; v carries {{i, v}}) are not used.\n\
             wire unused_ok = &{{1'b0,{above} acc[{x}:{a}], threshold[{x}:{p}], bias[{x}:{p}], v_min[{x}:{p}], 1'b0}};\n"
        ));
        s.push_str(&format!(
            "// Stage 1: d = v - leak + b; c = i - (i >>> k_syn) + a, or a; v_min + threshold.\n\
             wire signed [{pm}:0] s1_v = v[{pm}:0];\n\
             wire signed [{am}:0] s1_i = v[{pa}:{p}];\n\
             wire signed [{pm}:0] s1_sh = s1_v >>> leak_shift;\n\
             wire [{pm}:0] s1_leak = leak_en ? s1_sh : {p}'d0;\n\
             wire [{p1}:0] s1_d = {} - {} + {};\n\
             wire signed [{am}:0] s1_ish = s1_i >>> syn_shift;\n\
             wire [{a1}:0] s1_a = {};\n\
             wire [{a1}:0] s1_c = syn_en ? {} - {} + s1_a : s1_a;\n\
             wire [{p}:0] s1_vth = {} + {};\n\
             reg r1_valid = 1'b0;\nreg [15:0] r1_slot = 16'd0;\nreg r1_output = 1'b0;\nreg [{p1}:0] r1_d = {p2}'d0;\n\
             reg [{a1}:0] r1_c = {a2}'d0;\nreg r1_en = 1'b0;\nreg [{pm}:0] r1_th = {p}'d0;\nreg [{pm}:0] r1_vm = {p}'d0;\nreg [{p}:0] r1_vth = {pp1}'d0;\nreg r1_rz = 1'b0;\n\
             always @(posedge clock) begin\n    r1_valid <= in_valid;\n    r1_slot <= in_slot;\n    r1_output <= in_output;\n    r1_d <= s1_d;\n    r1_c <= s1_c;\n    r1_en <= syn_en;\n\
             \x20   r1_th <= threshold[{pm}:0];\n    r1_vm <= v_min[{pm}:0];\n    r1_vth <= s1_vth;\n    r1_rz <= reset_zero;\nend\n",
            sx("s1_v", &format!("s1_v[{pm}]"), p, p + 2),
            sx("s1_leak", &format!("s1_leak[{pm}]"), p, p + 2),
            sx(&format!("bias[{pm}:0]"), &format!("bias[{pm}]"), p, p + 2),
            sx(&format!("acc[{am}:0]"), &format!("acc[{am}]"), a, a + 2),
            sx("s1_i", &format!("s1_i[{am}]"), a, a + 2),
            sx("s1_ish", &format!("s1_ish[{am}]"), a, a + 2),
            sx(&format!("v_min[{pm}:0]"), &format!("v_min[{pm}]"), p, p + 1),
            sx(&format!("threshold[{pm}:0]"), &format!("threshold[{pm}]"), p, p + 1),
            pa = p + a - 1,
            p1 = p + 1,
            p2 = p + 2,
            a1 = a + 1,
            a2 = a + 2,
            pp1 = p + 1,
        ));
        // Stage 2: c has A+2 bits and fits A bits iff bits A+1..A-1 agree;
        // u = d + i' has max(P+2, A)+1 bits.
        let uw = (p + 2).max(a) + 1;
        let u = uw - 1;
        let top = uw - pm;
        s.push_str(&format!(
            "// Stage 2: i' = c saturated to A bits; u = d + i', saturated to P bits.\n\
             wire s2_cfits = (r1_c[{a1}:{am}] == {{3{{r1_c[{a1}]}}}});\n\
             wire [{am}:0] s2_i = s2_cfits ? r1_c[{am}:0] : (r1_c[{a1}] ? {{1'b1, {am}'d0}} : {{1'b0, {{{am}{{1'b1}}}}}});\n\
             wire [{u}:0] s2_u = {} + {};\n\
             wire s2_fits = (s2_u[{u}:{pm}] == {{{top}{{s2_u[{u}]}}}});\n\
             wire [{pm}:0] s2_sat = s2_fits ? s2_u[{pm}:0] : (s2_u[{u}] ? {{1'b1, {pm}'d0}} : {{1'b0, {{{pm}{{1'b1}}}}}});\n\
             reg r2_valid = 1'b0;\nreg [15:0] r2_slot = 16'd0;\nreg r2_output = 1'b0;\nreg [{pm}:0] r2_sat = {p}'d0;\nreg [{am}:0] r2_i = {a}'d0;\n\
             reg [{pm}:0] r2_th = {p}'d0;\nreg [{pm}:0] r2_vm = {p}'d0;\nreg [{p}:0] r2_vth = {p1}'d0;\nreg r2_rz = 1'b0;\n\
             always @(posedge clock) begin\n    r2_valid <= r1_valid;\n    r2_slot <= r1_slot;\n    r2_output <= r1_output;\n    r2_sat <= s2_sat;\n\
             \x20   r2_i <= r1_en ? s2_i : {a}'d0;\n    r2_th <= r1_th;\n    r2_vm <= r1_vm;\n    r2_vth <= r1_vth;\n    r2_rz <= r1_rz;\nend\n",
            sx("r1_d", &format!("r1_d[{}]", p + 1), p + 2, uw),
            sx("s2_i", &format!("s2_i[{am}]"), a, uw),
            a1 = a + 1,
            p1 = p + 1,
        ));
        let pad = if p + a < X { format!("{}'d0, ", X - p - a) } else { String::new() };
        s.push_str(&format!(
            "// Stage 3: threshold, reset, clamp (sat - th < v_min as sat < v_min + th); out {{i', v'}}.\n\
             {}\
             // The result fits P bits: its sign copy above them is not needed.\n\
             wire unused_s3_top = s3_out[{p}];\n\
             initial begin\n    out_valid = 1'b0;\n    out_spike = 1'b0;\n    out_slot = 16'd0;\n    out_output = 1'b0;\n    v_next = {X}'d0;\nend\n\
             always @(posedge clock) begin\n    out_valid <= r2_valid;\n    out_spike <= r2_valid && s3_spike;\n\
             \x20   if (r2_valid) begin\n        out_slot <= r2_slot;\n        out_output <= r2_output;\n        v_next <= {{{pad}r2_i, s3_out[{pm}:0]}};\n    end\nend\n\
             always @(*) busy = r1_valid || r2_valid || out_valid;\n",
            stage3_decide(p),
        ));
        s
    }
}
