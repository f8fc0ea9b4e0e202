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
    buf_valid: Vec<DFF<bool>>,
    buf_x: Vec<DFF<Bits<XY_BITS>>>,
    buf_y: Vec<DFF<Bits<XY_BITS>>>,
    buf_key: Vec<DFF<Bits<16>>>,
    /// Output wanted by each buffer (one-hot over OUTPUTS, as five flags).
    want_w: Vec<Signal<Local, bool>>,
    want_e: Vec<Signal<Local, bool>>,
    want_n: Vec<Signal<Local, bool>>,
    want_s: Vec<Signal<Local, bool>>,
    want_l: Vec<Signal<Local, bool>>,
    /// Buffer granted this clock.
    go: Vec<Signal<Local, bool>>,
    taken: Vec<Signal<Local, bool>>,
    o_valid: Vec<Signal<Local, bool>>,
    o_x: Vec<Signal<Local, Bits<XY_BITS>>>,
    o_y: Vec<Signal<Local, Bits<XY_BITS>>>,
    o_key: Vec<Signal<Local, Bits<16>>>,
    o_ready: Vec<Signal<Local, bool>>,
    zero_xy: Constant<Bits<XY_BITS>>,
    zero_key: Constant<Bits<16>>,
}

impl MeshNode {
    /// A node; its position comes in on `my_x` and `my_y`.
    pub fn new() -> MeshNode {
        let v = |n: usize| -> Vec<Signal<Local, bool>> { (0..n).map(|_| Default::default()).collect() };
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
            buf_valid: (0..INPUTS).map(|_| Default::default()).collect(),
            buf_x: (0..INPUTS).map(|_| Default::default()).collect(),
            buf_y: (0..INPUTS).map(|_| Default::default()).collect(),
            buf_key: (0..INPUTS).map(|_| Default::default()).collect(),
            want_w: v(INPUTS),
            want_e: v(INPUTS),
            want_n: v(INPUTS),
            want_s: v(INPUTS),
            want_l: v(INPUTS),
            go: v(INPUTS),
            taken: v(OUTPUTS),
            o_valid: v(OUTPUTS),
            o_x: (0..OUTPUTS).map(|_| Default::default()).collect(),
            o_y: (0..OUTPUTS).map(|_| Default::default()).collect(),
            o_key: (0..OUTPUTS).map(|_| Default::default()).collect(),
            o_ready: v(OUTPUTS),
            zero_xy: Constant::new(Bits::<XY_BITS>::default()),
            zero_key: Constant::new(Bits::<16>::default()),
        }
    }
}

impl Default for MeshNode {
    fn default() -> MeshNode {
        MeshNode::new()
    }
}

impl Logic for MeshNode {
    #[hdl_gen]
    fn update(&mut self) {
        // Receivers' ready first: the grants below read them (a value read
        // before it is assigned would be the previous evaluation's).
        self.o_ready[0].next = self.out_w_ready.val();
        self.o_ready[1].next = self.out_e_ready.val();
        self.o_ready[2].next = self.out_n_ready.val();
        self.o_ready[3].next = self.out_s_ready.val();
        self.o_ready[4].next = self.out_l_ready.val();
        for i in 0..INPUTS {
            self.buf_valid[i].clock.next = self.clock.val();
            self.buf_x[i].clock.next = self.clock.val();
            self.buf_y[i].clock.next = self.clock.val();
            self.buf_key[i].clock.next = self.clock.val();
            self.buf_valid[i].d.next = self.buf_valid[i].q.val();
            self.buf_x[i].d.next = self.buf_x[i].q.val();
            self.buf_y[i].d.next = self.buf_y[i].q.val();
            self.buf_key[i].d.next = self.buf_key[i].q.val();
            // XY routing: x first, then y.
            self.want_w[i].next = false;
            self.want_e[i].next = false;
            self.want_n[i].next = false;
            self.want_s[i].next = false;
            self.want_l[i].next = false;
            if self.buf_x[i].q.val() < self.my_x.val() {
                self.want_w[i].next = self.buf_valid[i].q.val();
            }
            if self.buf_x[i].q.val() > self.my_x.val() {
                self.want_e[i].next = self.buf_valid[i].q.val();
            }
            if self.buf_x[i].q.val() == self.my_x.val() {
                if self.buf_y[i].q.val() < self.my_y.val() {
                    self.want_n[i].next = self.buf_valid[i].q.val();
                }
                if self.buf_y[i].q.val() > self.my_y.val() {
                    self.want_s[i].next = self.buf_valid[i].q.val();
                }
                if self.buf_y[i].q.val() == self.my_y.val() {
                    self.want_l[i].next = self.buf_valid[i].q.val();
                }
            }
            self.go[i].next = false;
        }
        for o in 0..OUTPUTS {
            self.taken[o].next = false;
            self.o_valid[o].next = false;
            self.o_x[o].next = self.zero_xy.val();
            self.o_y[o].next = self.zero_xy.val();
            self.o_key[o].next = self.zero_key.val();
        }
        // Fixed priority per output: the lowest-numbered buffer that wants it.
        for i in 0..INPUTS {
            if self.want_w[i].val() & !self.taken[0].val() {
                self.taken[0].next = true;
                self.o_valid[0].next = true;
                self.o_x[0].next = self.buf_x[i].q.val();
                self.o_y[0].next = self.buf_y[i].q.val();
                self.o_key[0].next = self.buf_key[i].q.val();
                self.go[i].next = self.o_ready[0].val();
            }
            if self.want_e[i].val() & !self.taken[1].val() {
                self.taken[1].next = true;
                self.o_valid[1].next = true;
                self.o_x[1].next = self.buf_x[i].q.val();
                self.o_y[1].next = self.buf_y[i].q.val();
                self.o_key[1].next = self.buf_key[i].q.val();
                self.go[i].next = self.o_ready[1].val();
            }
            if self.want_n[i].val() & !self.taken[2].val() {
                self.taken[2].next = true;
                self.o_valid[2].next = true;
                self.o_x[2].next = self.buf_x[i].q.val();
                self.o_y[2].next = self.buf_y[i].q.val();
                self.o_key[2].next = self.buf_key[i].q.val();
                self.go[i].next = self.o_ready[2].val();
            }
            if self.want_s[i].val() & !self.taken[3].val() {
                self.taken[3].next = true;
                self.o_valid[3].next = true;
                self.o_x[3].next = self.buf_x[i].q.val();
                self.o_y[3].next = self.buf_y[i].q.val();
                self.o_key[3].next = self.buf_key[i].q.val();
                self.go[i].next = self.o_ready[3].val();
            }
            if self.want_l[i].val() & !self.taken[4].val() {
                self.taken[4].next = true;
                self.o_valid[4].next = true;
                self.o_x[4].next = self.buf_x[i].q.val();
                self.o_y[4].next = self.buf_y[i].q.val();
                self.o_key[4].next = self.buf_key[i].q.val();
                self.go[i].next = self.o_ready[4].val();
            }
        }
        self.empty.next = true;
        for i in 0..INPUTS {
            // A granted packet leaves; an empty buffer takes a new one.
            if self.go[i].val() {
                self.buf_valid[i].d.next = false;
            }
            self.empty.next = self.empty.val() & !self.buf_valid[i].q.val();
        }
        // Ports <-> buffers and outputs (rust-hdl names only first-level
        // vector elements in Verilog, so ports are scalar per direction).
        self.in_w_ready.next = !self.buf_valid[0].q.val();
        if !self.buf_valid[0].q.val() & self.in_w_valid.val() {
            self.buf_valid[0].d.next = true;
            self.buf_x[0].d.next = self.in_w_x.val();
            self.buf_y[0].d.next = self.in_w_y.val();
            self.buf_key[0].d.next = self.in_w_key.val();
        }
        self.in_e_ready.next = !self.buf_valid[1].q.val();
        if !self.buf_valid[1].q.val() & self.in_e_valid.val() {
            self.buf_valid[1].d.next = true;
            self.buf_x[1].d.next = self.in_e_x.val();
            self.buf_y[1].d.next = self.in_e_y.val();
            self.buf_key[1].d.next = self.in_e_key.val();
        }
        self.in_n_ready.next = !self.buf_valid[2].q.val();
        if !self.buf_valid[2].q.val() & self.in_n_valid.val() {
            self.buf_valid[2].d.next = true;
            self.buf_x[2].d.next = self.in_n_x.val();
            self.buf_y[2].d.next = self.in_n_y.val();
            self.buf_key[2].d.next = self.in_n_key.val();
        }
        self.in_s_ready.next = !self.buf_valid[3].q.val();
        if !self.buf_valid[3].q.val() & self.in_s_valid.val() {
            self.buf_valid[3].d.next = true;
            self.buf_x[3].d.next = self.in_s_x.val();
            self.buf_y[3].d.next = self.in_s_y.val();
            self.buf_key[3].d.next = self.in_s_key.val();
        }
        self.in_l_ready.next = !self.buf_valid[4].q.val();
        if !self.buf_valid[4].q.val() & self.in_l_valid.val() {
            self.buf_valid[4].d.next = true;
            self.buf_x[4].d.next = self.in_l_x.val();
            self.buf_y[4].d.next = self.in_l_y.val();
            self.buf_key[4].d.next = self.in_l_key.val();
        }
        self.in_h_ready.next = !self.buf_valid[5].q.val();
        if !self.buf_valid[5].q.val() & self.in_h_valid.val() {
            self.buf_valid[5].d.next = true;
            self.buf_x[5].d.next = self.in_h_x.val();
            self.buf_y[5].d.next = self.in_h_y.val();
            self.buf_key[5].d.next = self.in_h_key.val();
        }
        self.out_w_valid.next = self.o_valid[0].val();
        self.out_w_x.next = self.o_x[0].val();
        self.out_w_y.next = self.o_y[0].val();
        self.out_w_key.next = self.o_key[0].val();
        self.out_e_valid.next = self.o_valid[1].val();
        self.out_e_x.next = self.o_x[1].val();
        self.out_e_y.next = self.o_y[1].val();
        self.out_e_key.next = self.o_key[1].val();
        self.out_n_valid.next = self.o_valid[2].val();
        self.out_n_x.next = self.o_x[2].val();
        self.out_n_y.next = self.o_y[2].val();
        self.out_n_key.next = self.o_key[2].val();
        self.out_s_valid.next = self.o_valid[3].val();
        self.out_s_x.next = self.o_x[3].val();
        self.out_s_y.next = self.o_y[3].val();
        self.out_s_key.next = self.o_key[3].val();
        self.out_l_valid.next = self.o_valid[4].val();
        self.out_l_x.next = self.o_x[4].val();
        self.out_l_y.next = self.o_y[4].val();
        self.out_l_key.next = self.o_key[4].val();
    }
}
