//! The mesh interconnect (specs with `interconnect = "mesh"` and more than
//! one core): a `mesh_width` × `mesh_height` grid of [`MeshNode`]s with XY
//! routing. Core i's packets enter node i, the host's enter node 0; each
//! packet carries its destination's (x, y), looked up here from its
//! destination core. A packet moves only when the next buffer or the
//! destination core's FIFO has room, so backpressure reaches every router
//! and nothing is dropped but packets for missing cores.
//!
//! No lint waiver: a node's outputs are computed apart from its next state
//! (see [`MeshNode`]'s hand-written Verilog), so the links between
//! neighbours form no combinational loop, true or apparent.

use crate::fabric::c;
use crate::integrate::KEY_BITS;
use crate::interconnect::{NetPorts, Topology};
use crate::mesh::{MeshNode, XY_BITS};
use crate::route::CORE_BITS;
use rust_hdl::prelude::*;
use std::ops::{Deref, DerefMut};

/// See the module docs.
#[derive(LogicBlock)]
pub struct MeshNet {
    /// The ports (see [`NetPorts`]).
    pub io: NetPorts,
    /// Router nodes, node i at (i % width, i / width).
    pub nodes: Vec<MeshNode>,
    /// Each node's (x, y), tied to its `my_x`, `my_y`.
    xs: Vec<Constant<Bits<XY_BITS>>>,
    ys: Vec<Constant<Bits<XY_BITS>>>,
    /// First core id of mesh rows 1.. (row j starts at core j * width),
    /// its low XY_BITS bits, and the row's y.
    row_start: Vec<Constant<Bits<CORE_BITS>>>,
    row_start_x: Vec<Constant<Bits<XY_BITS>>>,
    row_y: Vec<Constant<Bits<XY_BITS>>>,
    last_core: Constant<Bits<CORE_BITS>>,
    inj_ok: Vec<Signal<Local, bool>>,
    inj_x: Vec<Signal<Local, Bits<XY_BITS>>>,
    inj_y: Vec<Signal<Local, Bits<XY_BITS>>>,
    h_ok: Signal<Local, bool>,
    hx: Signal<Local, Bits<XY_BITS>>,
    hy: Signal<Local, Bits<XY_BITS>>,
    unused_ok: Signal<Local, bool>,
    zero_xy: Constant<Bits<XY_BITS>>,
    zero_key: Constant<Bits<KEY_BITS>>,
    _n: usize,
    _links_x: usize,
    _links_y: usize,
    _w: usize,
    _w1: usize,
    _h1: usize,
}

impl MeshNet {
    /// A `w` × `h` mesh between `k` cores (`k` > 1) and the host.
    pub fn new(w: u32, h: u32, k: usize) -> MeshNet {
        let v = |n: usize| -> Vec<Signal<Local, bool>> { (0..n).map(|_| Default::default()).collect() };
        MeshNet {
            io: NetPorts::new(k),
            nodes: (0..k).map(|_| MeshNode::new()).collect(),
            xs: (0..k as u64).map(|i| c::<XY_BITS>(i % w as u64)).collect(),
            ys: (0..k as u64).map(|i| c::<XY_BITS>(i / w as u64)).collect(),
            row_start: (1..h as u64).map(|j| c::<CORE_BITS>(j * w as u64)).collect(),
            row_start_x: (1..h as u64).map(|j| c::<XY_BITS>(j * w as u64 % (1 << XY_BITS))).collect(),
            row_y: (1..h as u64).map(c::<XY_BITS>).collect(),
            last_core: c::<CORE_BITS>(k as u64 - 1),
            inj_ok: v(k),
            inj_x: (0..k).map(|_| Default::default()).collect(),
            inj_y: (0..k).map(|_| Default::default()).collect(),
            h_ok: Default::default(),
            hx: Default::default(),
            hy: Default::default(),
            unused_ok: Default::default(),
            zero_xy: c::<XY_BITS>(0),
            zero_key: c::<KEY_BITS>(0),
            _n: k,
            _links_x: k - 1,
            _links_y: k - w as usize,
            _w: w as usize,
            _w1: w as usize + 1,
            _h1: h as usize - 1,
        }
    }
}

impl Deref for MeshNet {
    type Target = NetPorts;
    fn deref(&self) -> &NetPorts {
        &self.io
    }
}

impl DerefMut for MeshNet {
    fn deref_mut(&mut self) -> &mut NetPorts {
        &mut self.io
    }
}

impl Topology for MeshNet {}

impl Logic for MeshNet {
    #[hdl_gen]
    fn update(&mut self) {
        self.missing.next = false;
        self.unused_ok.next = false;
        for i in 0..self._n {
            self.nodes[i].clock.next = self.clock.val();
            self.nodes[i].my_x.next = self.xs[i].val();
            self.nodes[i].my_y.next = self.ys[i].val();
            // Edge ports (no neighbour there) and routing fields the core does not need.
            self.unused_ok.next = self.unused_ok.val()
                | self.nodes[i].in_w_ready.val()
                | self.nodes[i].in_e_ready.val()
                | self.nodes[i].in_n_ready.val()
                | self.nodes[i].in_s_ready.val()
                | self.nodes[i].in_l_ready.val()
                | self.nodes[i].in_h_ready.val()
                | self.nodes[i].out_w_valid.val()
                | self.nodes[i].out_w_x.val().any()
                | self.nodes[i].out_w_y.val().any()
                | self.nodes[i].out_w_key.val().any()
                | self.nodes[i].out_e_valid.val()
                | self.nodes[i].out_e_x.val().any()
                | self.nodes[i].out_e_y.val().any()
                | self.nodes[i].out_e_key.val().any()
                | self.nodes[i].out_n_valid.val()
                | self.nodes[i].out_n_x.val().any()
                | self.nodes[i].out_n_y.val().any()
                | self.nodes[i].out_n_key.val().any()
                | self.nodes[i].out_s_valid.val()
                | self.nodes[i].out_s_x.val().any()
                | self.nodes[i].out_s_y.val().any()
                | self.nodes[i].out_s_key.val().any()
                | self.nodes[i].out_l_x.val().any()
                | self.nodes[i].out_l_y.val().any();

            // Destination (x, y) = (core mod W, core div W): the last row
            // whose first core is not above it, x the offset from that core
            // (linear in cores, not a lookup over every core; x < 2^XY_BITS,
            // so the low bits of the subtraction are enough).
            self.inj_ok[i].next = self.src_core[i].val() <= self.last_core.val();
            self.inj_y[i].next = self.zero_xy.val();
            self.inj_x[i].next = self.src_core[i].val().get_bits::<XY_BITS>(0);
            for j in 0..self._h1 {
                if self.src_core[i].val() >= self.row_start[j].val() {
                    self.inj_y[i].next = self.row_y[j].val();
                    self.inj_x[i].next = self.src_core[i].val().get_bits::<XY_BITS>(0) - self.row_start_x[j].val();
                }
            }
            self.nodes[i].in_w_valid.next = false;
            self.nodes[i].in_w_x.next = self.zero_xy.val();
            self.nodes[i].in_w_y.next = self.zero_xy.val();
            self.nodes[i].in_w_key.next = self.zero_key.val();
            self.nodes[i].in_e_valid.next = false;
            self.nodes[i].in_e_x.next = self.zero_xy.val();
            self.nodes[i].in_e_y.next = self.zero_xy.val();
            self.nodes[i].in_e_key.next = self.zero_key.val();
            self.nodes[i].in_n_valid.next = false;
            self.nodes[i].in_n_x.next = self.zero_xy.val();
            self.nodes[i].in_n_y.next = self.zero_xy.val();
            self.nodes[i].in_n_key.next = self.zero_key.val();
            self.nodes[i].in_s_valid.next = false;
            self.nodes[i].in_s_x.next = self.zero_xy.val();
            self.nodes[i].in_s_y.next = self.zero_xy.val();
            self.nodes[i].in_s_key.next = self.zero_key.val();
            self.nodes[i].in_h_valid.next = false;
            self.nodes[i].in_h_x.next = self.zero_xy.val();
            self.nodes[i].in_h_y.next = self.zero_xy.val();
            self.nodes[i].in_h_key.next = self.zero_key.val();
            self.nodes[i].out_w_ready.next = false;
            self.nodes[i].out_e_ready.next = false;
            self.nodes[i].out_n_ready.next = false;
            self.nodes[i].out_s_ready.next = false;
            self.nodes[i].in_l_valid.next = self.src_valid[i].val() & self.inj_ok[i].val();
            self.nodes[i].in_l_x.next = self.inj_x[i].val();
            self.nodes[i].in_l_y.next = self.inj_y[i].val();
            self.nodes[i].in_l_key.next = self.src_key[i].val();
            self.src_ready[i].next = self.nodes[i].in_l_ready.val() | !self.inj_ok[i].val();
            if self.src_valid[i].val() & !self.inj_ok[i].val() {
                self.missing.next = true;
            }
            self.dst_valid[i].next = self.nodes[i].out_l_valid.val();
            self.dst_key[i].next = self.nodes[i].out_l_key.val();
            self.nodes[i].out_l_ready.next = self.dst_ready[i].val();
        }
        // The host's packets enter node 0.
        self.h_ok.next = self.host_core.val() <= self.last_core.val();
        self.hy.next = self.zero_xy.val();
        self.hx.next = self.host_core.val().get_bits::<XY_BITS>(0);
        for j in 0..self._h1 {
            if self.host_core.val() >= self.row_start[j].val() {
                self.hy.next = self.row_y[j].val();
                self.hx.next = self.host_core.val().get_bits::<XY_BITS>(0) - self.row_start_x[j].val();
            }
        }
        self.nodes[0].in_h_valid.next = self.host_valid.val() & self.h_ok.val();
        self.nodes[0].in_h_x.next = self.hx.val();
        self.nodes[0].in_h_y.next = self.hy.val();
        self.nodes[0].in_h_key.next = self.host_key.val();
        self.host_ready.next = self.nodes[0].in_h_ready.val() | !self.h_ok.val();
        if self.host_valid.val() & !self.h_ok.val() {
            self.missing.next = true;
        }
        // East-west links between node i and node i+1 (across a row end the
        // link exists but XY routing never uses it).
        for i in 0..self._links_x {
            self.nodes[i + 1].in_w_valid.next = self.nodes[i].out_e_valid.val();
            self.nodes[i + 1].in_w_x.next = self.nodes[i].out_e_x.val();
            self.nodes[i + 1].in_w_y.next = self.nodes[i].out_e_y.val();
            self.nodes[i + 1].in_w_key.next = self.nodes[i].out_e_key.val();
            self.nodes[i].out_e_ready.next = self.nodes[i + 1].in_w_ready.val();
            self.nodes[i].in_e_valid.next = self.nodes[i + 1].out_w_valid.val();
            self.nodes[i].in_e_x.next = self.nodes[i + 1].out_w_x.val();
            self.nodes[i].in_e_y.next = self.nodes[i + 1].out_w_y.val();
            self.nodes[i].in_e_key.next = self.nodes[i + 1].out_w_key.val();
            self.nodes[i + 1].out_w_ready.next = self.nodes[i].in_e_ready.val();
        }
        // North-south links between node i and node i+W. (rust-hdl can only
        // do arithmetic on loop variables in an index, so W enters as the
        // single value of an inner loop.)
        for i in 0..self._links_y {
            for w in self._w..self._w1 {
                self.nodes[i + w].in_n_valid.next = self.nodes[i].out_s_valid.val();
                self.nodes[i + w].in_n_x.next = self.nodes[i].out_s_x.val();
                self.nodes[i + w].in_n_y.next = self.nodes[i].out_s_y.val();
                self.nodes[i + w].in_n_key.next = self.nodes[i].out_s_key.val();
                self.nodes[i].out_s_ready.next = self.nodes[i + w].in_n_ready.val();
                self.nodes[i].in_s_valid.next = self.nodes[i + w].out_n_valid.val();
                self.nodes[i].in_s_x.next = self.nodes[i + w].out_n_x.val();
                self.nodes[i].in_s_y.next = self.nodes[i + w].out_n_y.val();
                self.nodes[i].in_s_key.next = self.nodes[i + w].out_n_key.val();
                self.nodes[i + w].out_n_ready.next = self.nodes[i].in_s_ready.val();
            }
        }
        self.empty.next = true;
        for i in 0..self._n {
            self.empty.next = self.empty.val() & self.nodes[i].empty.val();
        }
    }
}
