//! A 2-D mesh router node with XY routing (for specs with `interconnect =
//! "mesh"`).
//!
//! Six input buffers of one packet each (from the west, east, north and
//! south neighbours, from the local core's route engine, and — at node 0
//! only — from the host's input router) and five outputs (W, E, N, S, local
//! core). A packet carries its destination's mesh coordinates; it first
//! travels in x, then in y (XY routing, deadlock-free on a mesh). Each
//! output takes, by fixed priority, one packet per clock whose next hop it
//! is, when the next buffer is empty (or the local core's FIFO has room).
//! Nothing is dropped: a packet waits in its buffer until it can move.

use rust_hdl::prelude::*;

/// Coordinate width.
pub const XY_BITS: usize = 6;
/// Inputs: 0 from W, 1 from E, 2 from N, 3 from S, 4 local core, 5 host.
pub const INPUTS: usize = 6;
/// Outputs: 0 to W, 1 to E, 2 to N, 3 to S, 4 local core.
pub const OUTPUTS: usize = 5;

/// See the module docs.
#[derive(LogicBlock)]
pub struct MeshNode {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// This node's mesh x. An input, not a constant, so every node is one
    /// module (the parent ties it to the node's column).
    pub my_x: Signal<In, Bits<XY_BITS>>,
    /// This node's mesh y (tied like `my_x`).
    pub my_y: Signal<In, Bits<XY_BITS>>,
    /// Input w: packet valid.
    pub in_w_valid: Signal<In, bool>,
    /// Input w: destination x.
    pub in_w_x: Signal<In, Bits<XY_BITS>>,
    /// Input w: destination y.
    pub in_w_y: Signal<In, Bits<XY_BITS>>,
    /// Input w: axon key.
    pub in_w_key: Signal<In, Bits<16>>,
    /// Input w: its buffer takes a packet this clock.
    pub in_w_ready: Signal<Out, bool>,
    /// Input e: packet valid.
    pub in_e_valid: Signal<In, bool>,
    /// Input e: destination x.
    pub in_e_x: Signal<In, Bits<XY_BITS>>,
    /// Input e: destination y.
    pub in_e_y: Signal<In, Bits<XY_BITS>>,
    /// Input e: axon key.
    pub in_e_key: Signal<In, Bits<16>>,
    /// Input e: its buffer takes a packet this clock.
    pub in_e_ready: Signal<Out, bool>,
    /// Input n: packet valid.
    pub in_n_valid: Signal<In, bool>,
    /// Input n: destination x.
    pub in_n_x: Signal<In, Bits<XY_BITS>>,
    /// Input n: destination y.
    pub in_n_y: Signal<In, Bits<XY_BITS>>,
    /// Input n: axon key.
    pub in_n_key: Signal<In, Bits<16>>,
    /// Input n: its buffer takes a packet this clock.
    pub in_n_ready: Signal<Out, bool>,
    /// Input s: packet valid.
    pub in_s_valid: Signal<In, bool>,
    /// Input s: destination x.
    pub in_s_x: Signal<In, Bits<XY_BITS>>,
    /// Input s: destination y.
    pub in_s_y: Signal<In, Bits<XY_BITS>>,
    /// Input s: axon key.
    pub in_s_key: Signal<In, Bits<16>>,
    /// Input s: its buffer takes a packet this clock.
    pub in_s_ready: Signal<Out, bool>,
    /// Input l: packet valid.
    pub in_l_valid: Signal<In, bool>,
    /// Input l: destination x.
    pub in_l_x: Signal<In, Bits<XY_BITS>>,
    /// Input l: destination y.
    pub in_l_y: Signal<In, Bits<XY_BITS>>,
    /// Input l: axon key.
    pub in_l_key: Signal<In, Bits<16>>,
    /// Input l: its buffer takes a packet this clock.
    pub in_l_ready: Signal<Out, bool>,
    /// Input h: packet valid.
    pub in_h_valid: Signal<In, bool>,
    /// Input h: destination x.
    pub in_h_x: Signal<In, Bits<XY_BITS>>,
    /// Input h: destination y.
    pub in_h_y: Signal<In, Bits<XY_BITS>>,
    /// Input h: axon key.
    pub in_h_key: Signal<In, Bits<16>>,
    /// Input h: its buffer takes a packet this clock.
    pub in_h_ready: Signal<Out, bool>,
    /// Output w: packet valid.
    pub out_w_valid: Signal<Out, bool>,
    /// Output w: destination x.
    pub out_w_x: Signal<Out, Bits<XY_BITS>>,
    /// Output w: destination y.
    pub out_w_y: Signal<Out, Bits<XY_BITS>>,
    /// Output w: axon key.
    pub out_w_key: Signal<Out, Bits<16>>,
    /// Output w: the receiver takes the packet this clock.
    pub out_w_ready: Signal<In, bool>,
    /// Output e: packet valid.
    pub out_e_valid: Signal<Out, bool>,
    /// Output e: destination x.
    pub out_e_x: Signal<Out, Bits<XY_BITS>>,
    /// Output e: destination y.
    pub out_e_y: Signal<Out, Bits<XY_BITS>>,
    /// Output e: axon key.
    pub out_e_key: Signal<Out, Bits<16>>,
    /// Output e: the receiver takes the packet this clock.
    pub out_e_ready: Signal<In, bool>,
    /// Output n: packet valid.
    pub out_n_valid: Signal<Out, bool>,
    /// Output n: destination x.
    pub out_n_x: Signal<Out, Bits<XY_BITS>>,
    /// Output n: destination y.
    pub out_n_y: Signal<Out, Bits<XY_BITS>>,
    /// Output n: axon key.
    pub out_n_key: Signal<Out, Bits<16>>,
    /// Output n: the receiver takes the packet this clock.
    pub out_n_ready: Signal<In, bool>,
    /// Output s: packet valid.
    pub out_s_valid: Signal<Out, bool>,
    /// Output s: destination x.
    pub out_s_x: Signal<Out, Bits<XY_BITS>>,
    /// Output s: destination y.
    pub out_s_y: Signal<Out, Bits<XY_BITS>>,
    /// Output s: axon key.
    pub out_s_key: Signal<Out, Bits<16>>,
    /// Output s: the receiver takes the packet this clock.
    pub out_s_ready: Signal<In, bool>,
    /// Output l: packet valid.
    pub out_l_valid: Signal<Out, bool>,
    /// Output l: destination x.
    pub out_l_x: Signal<Out, Bits<XY_BITS>>,
    /// Output l: destination y.
    pub out_l_y: Signal<Out, Bits<XY_BITS>>,
    /// Output l: axon key.
    pub out_l_key: Signal<Out, Bits<16>>,
    /// Output l: the receiver takes the packet this clock.
    pub out_l_ready: Signal<In, bool>,
    /// All buffers empty.
    pub empty: Signal<Out, bool>,
    /// The model's registers (the Verilog's `v<i>`, `x<i>`, `y<i>`,
    /// `k<i>`): per input buffer valid, destination and key.
    _v: [bool; INPUTS],
    _x: [u64; INPUTS],
    _y: [u64; INPUTS],
    _k: [u64; INPUTS],
}

impl MeshNode {
    /// A node; its position comes in on `my_x` and `my_y`.
    pub fn new() -> MeshNode {
        MeshNode {
            clock: Default::default(),
            my_x: Default::default(),
            my_y: Default::default(),
            in_w_valid: Default::default(),
            in_w_x: Default::default(),
            in_w_y: Default::default(),
            in_w_key: Default::default(),
            in_w_ready: Default::default(),
            in_e_valid: Default::default(),
            in_e_x: Default::default(),
            in_e_y: Default::default(),
            in_e_key: Default::default(),
            in_e_ready: Default::default(),
            in_n_valid: Default::default(),
            in_n_x: Default::default(),
            in_n_y: Default::default(),
            in_n_key: Default::default(),
            in_n_ready: Default::default(),
            in_s_valid: Default::default(),
            in_s_x: Default::default(),
            in_s_y: Default::default(),
            in_s_key: Default::default(),
            in_s_ready: Default::default(),
            in_l_valid: Default::default(),
            in_l_x: Default::default(),
            in_l_y: Default::default(),
            in_l_key: Default::default(),
            in_l_ready: Default::default(),
            in_h_valid: Default::default(),
            in_h_x: Default::default(),
            in_h_y: Default::default(),
            in_h_key: Default::default(),
            in_h_ready: Default::default(),
            out_w_valid: Default::default(),
            out_w_x: Default::default(),
            out_w_y: Default::default(),
            out_w_key: Default::default(),
            out_w_ready: Default::default(),
            out_e_valid: Default::default(),
            out_e_x: Default::default(),
            out_e_y: Default::default(),
            out_e_key: Default::default(),
            out_e_ready: Default::default(),
            out_n_valid: Default::default(),
            out_n_x: Default::default(),
            out_n_y: Default::default(),
            out_n_key: Default::default(),
            out_n_ready: Default::default(),
            out_s_valid: Default::default(),
            out_s_x: Default::default(),
            out_s_y: Default::default(),
            out_s_key: Default::default(),
            out_s_ready: Default::default(),
            out_l_valid: Default::default(),
            out_l_x: Default::default(),
            out_l_y: Default::default(),
            out_l_key: Default::default(),
            out_l_ready: Default::default(),
            empty: Default::default(),
            _v: [false; INPUTS],
            _x: [0; INPUTS],
            _y: [0; INPUTS],
            _k: [0; INPUTS],
        }
    }
}

impl Default for MeshNode {
    fn default() -> MeshNode {
        MeshNode::new()
    }
}

/// The output a buffer's packet wants next (XY routing: x first, then y),
/// or `OUTPUTS` for none (an empty buffer).
fn direction(valid: bool, x: u64, y: u64, my_x: u64, my_y: u64) -> usize {
    match (valid, x.cmp(&my_x), y.cmp(&my_y)) {
        (false, _, _) => OUTPUTS,
        (true, std::cmp::Ordering::Less, _) => 0,
        (true, std::cmp::Ordering::Greater, _) => 1,
        (true, _, std::cmp::Ordering::Less) => 2,
        (true, _, std::cmp::Ordering::Greater) => 3,
        (true, _, std::cmp::Ordering::Equal) => 4,
    }
}

impl MeshNode {
    /// Per output, the buffer it takes a packet from this clock: by fixed
    /// priority the lowest-numbered buffer that wants it.
    fn grants(&self) -> [Option<usize>; OUTPUTS] {
        let (mx, my) = (self.my_x.val().to_u64(), self.my_y.val().to_u64());
        let mut g = [None; OUTPUTS];
        for i in 0..INPUTS {
            let d = direction(self._v[i], self._x[i], self._y[i], mx, my);
            if d < OUTPUTS && g[d].is_none() {
                g[d] = Some(i);
            }
        }
        g
    }

    /// The outputs: functions of the registers (and the node's position).
    fn outputs(&mut self) {
        let g = self.grants();
        let pick = |o: usize, r: &[u64; INPUTS]| g[o].map_or(0, |i| r[i]);
        self.out_w_valid.next = g[0].is_some();
        self.out_w_x.next = pick(0, &self._x).into();
        self.out_w_y.next = pick(0, &self._y).into();
        self.out_w_key.next = pick(0, &self._k).into();
        self.out_e_valid.next = g[1].is_some();
        self.out_e_x.next = pick(1, &self._x).into();
        self.out_e_y.next = pick(1, &self._y).into();
        self.out_e_key.next = pick(1, &self._k).into();
        self.out_n_valid.next = g[2].is_some();
        self.out_n_x.next = pick(2, &self._x).into();
        self.out_n_y.next = pick(2, &self._y).into();
        self.out_n_key.next = pick(2, &self._k).into();
        self.out_s_valid.next = g[3].is_some();
        self.out_s_x.next = pick(3, &self._x).into();
        self.out_s_y.next = pick(3, &self._y).into();
        self.out_s_key.next = pick(3, &self._k).into();
        self.out_l_valid.next = g[4].is_some();
        self.out_l_x.next = pick(4, &self._x).into();
        self.out_l_y.next = pick(4, &self._y).into();
        self.out_l_key.next = pick(4, &self._k).into();
        self.in_w_ready.next = !self._v[0];
        self.in_e_ready.next = !self._v[1];
        self.in_n_ready.next = !self._v[2];
        self.in_s_ready.next = !self._v[3];
        self.in_l_ready.next = !self._v[4];
        self.in_h_ready.next = !self._v[5];
        self.empty.next = self._v.iter().all(|v| !v);
    }
}

impl Logic for MeshNode {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            // Exactly the Verilog's registers: a granted packet leaves when
            // its receiver is ready; an empty buffer takes a new one (a
            // buffer emptied this clock takes one only from the next).
            let ready = [
                self.out_w_ready.val(),
                self.out_e_ready.val(),
                self.out_n_ready.val(),
                self.out_s_ready.val(),
                self.out_l_ready.val(),
            ];
            let ins = [
                (self.in_w_valid.val(), self.in_w_x.val(), self.in_w_y.val(), self.in_w_key.val()),
                (self.in_e_valid.val(), self.in_e_x.val(), self.in_e_y.val(), self.in_e_key.val()),
                (self.in_n_valid.val(), self.in_n_x.val(), self.in_n_y.val(), self.in_n_key.val()),
                (self.in_s_valid.val(), self.in_s_x.val(), self.in_s_y.val(), self.in_s_key.val()),
                (self.in_l_valid.val(), self.in_l_x.val(), self.in_l_y.val(), self.in_l_key.val()),
                (self.in_h_valid.val(), self.in_h_x.val(), self.in_h_y.val(), self.in_h_key.val()),
            ];
            let g = self.grants();
            let was = self._v;
            for (o, gi) in g.iter().enumerate() {
                if let Some(i) = *gi {
                    if ready[o] {
                        self._v[i] = false;
                    }
                }
            }
            for (i, (valid, x, y, k)) in ins.iter().enumerate() {
                if !was[i] && *valid {
                    self._v[i] = true;
                    self._x[i] = x.to_u64();
                    self._y[i] = y.to_u64();
                    self._k[i] = k.to_u64();
                }
            }
        }
        self.outputs();
    }

    fn connect(&mut self) {
        self.in_w_ready.connect();
        self.in_e_ready.connect();
        self.in_n_ready.connect();
        self.in_s_ready.connect();
        self.in_l_ready.connect();
        self.in_h_ready.connect();
        self.out_w_valid.connect();
        self.out_w_x.connect();
        self.out_w_y.connect();
        self.out_w_key.connect();
        self.out_e_valid.connect();
        self.out_e_x.connect();
        self.out_e_y.connect();
        self.out_e_key.connect();
        self.out_n_valid.connect();
        self.out_n_x.connect();
        self.out_n_y.connect();
        self.out_n_key.connect();
        self.out_s_valid.connect();
        self.out_s_x.connect();
        self.out_s_y.connect();
        self.out_s_key.connect();
        self.out_l_valid.connect();
        self.out_l_x.connect();
        self.out_l_y.connect();
        self.out_l_key.connect();
        self.empty.connect();
    }

    /// Hand-written rather than rust-hdl's single `always @(*)`: the
    /// outputs (a function of the registers) and the next state (which
    /// reads the neighbours' `ready`) are separate processes, so a
    /// simulator sees that a node's outputs never depend on its inputs.
    /// In one block the links between neighbours look like combinational
    /// loops, which Verilator had to iterate to a fixed point every clock.
    fn hdl(&self) -> Verilog {
        Verilog::Custom(node_verilog())
    }
}

/// The body of [`MeshNode`]'s Verilog (see `hdl`).
fn node_verilog() -> String {
    use std::fmt::Write;
    const IN: [&str; INPUTS] = ["w", "e", "n", "s", "l", "h"];
    const OUT: [&str; OUTPUTS] = ["w", "e", "n", "s", "l"];
    let xy = XY_BITS - 1;
    let mut s = String::new();
    for i in 0..INPUTS {
        let _ = writeln!(
            s,
            "reg v{i} = 1'b0;\nreg [{xy}:0] x{i} = {XY_BITS}'d0;\nreg [{xy}:0] y{i} = {XY_BITS}'d0;\nreg [15:0] k{i} = 16'd0;"
        );
    }
    let _ = writeln!(s, "// The output each buffer wants (XY routing), {OUTPUTS} for none.");
    for i in 0..INPUTS {
        let _ = writeln!(
            s,
            "wire [2:0] d{i} = !v{i} ? 3'd{OUTPUTS} : (x{i} < my_x) ? 3'd0 : (x{i} > my_x) ? 3'd1 : (y{i} < my_y) ? 3'd2 : (y{i} > my_y) ? 3'd3 : 3'd4;"
        );
    }
    let _ = writeln!(s, "// Buffer i has the highest priority for its output (no lower buffer wants it).");
    for i in 0..INPUTS {
        let lower: Vec<String> = (0..i).map(|j| format!("d{j} != d{i}")).collect();
        let cond = if lower.is_empty() { "1'b1".to_string() } else { lower.join(" && ") };
        let _ = writeln!(s, "wire first{i} = {cond};");
    }
    let _ = writeln!(s, "// Outputs: functions of the registers only.");
    for (o, name) in OUT.iter().enumerate() {
        let wants: Vec<String> = (0..INPUTS).map(|i| format!("d{i} == 3'd{o}")).collect();
        let _ = writeln!(s, "always @(*) out_{name}_valid = {};", wants.join(" || "));
        for (field, zero) in
            [("x", format!("{XY_BITS}'d0")), ("y", format!("{XY_BITS}'d0")), ("key", "16'd0".to_string())]
        {
            let reg = &field[..1];
            let mut e = zero;
            for i in (0..INPUTS).rev() {
                e = format!("d{i} == 3'd{o} ? {reg}{i} : {e}");
            }
            let _ = writeln!(s, "always @(*) out_{name}_{field} = {e};");
        }
    }
    for (i, name) in IN.iter().enumerate() {
        let _ = writeln!(s, "always @(*) in_{name}_ready = !v{i};");
    }
    let all: Vec<String> = (0..INPUTS).map(|i| format!("!v{i}")).collect();
    let _ = writeln!(s, "always @(*) empty = {};", all.join(" && "));
    let _ = writeln!(s, "// Next state: a granted packet leaves when its receiver is ready.");
    // Eight wide, so every value of a 3-bit direction selects a bit.
    let ready: Vec<String> = OUT.iter().rev().map(|n| format!("out_{n}_ready")).collect();
    let _ = writeln!(s, "wire [7:0] ready = {{{}'b0, {}}};", 8 - OUTPUTS, ready.join(", "));
    for i in 0..INPUTS {
        let _ = writeln!(s, "wire go{i} = v{i} && first{i} && ready[d{i}];");
    }
    let _ = writeln!(s, "always @(posedge clock) begin");
    for (i, name) in IN.iter().enumerate() {
        let _ = writeln!(
            s,
            "    if (!v{i} && in_{name}_valid) begin\n        v{i} <= 1'b1;\n        x{i} <= in_{name}_x;\n        y{i} <= in_{name}_y;\n        k{i} <= in_{name}_key;\n    end else if (go{i}) begin\n        v{i} <= 1'b0;\n    end"
        );
    }
    let _ = writeln!(s, "end");
    s
}
