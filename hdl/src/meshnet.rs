//! The mesh interconnect (specs with `interconnect = "mesh"` and more than
//! one core): a `mesh_width` × `mesh_height` grid of [`MeshNode`]s with XY
//! routing. Core i's packets enter node i, the host's enter node 0; each
//! packet carries its destination's (x, y), looked up here from its
//! destination core. A packet moves only when the next buffer or the
//! destination core's FIFO has room, so backpressure reaches every router
//! and nothing is dropped but packets for missing cores.
//!
//! Two descriptions of one design: [`MeshNetModel`], the rust-hdl block
//! that rust-hdl simulates, and `net_verilog`, its Verilog written as text
//! (node instances and continuous assignments). rust-hdl's own Verilog of
//! the model took time quadratic in cores to generate (see `impl Block for
//! MeshNet`); the text is linear. Every co-simulation of a mesh spec
//! (Verilator, Icarus) checks the text against golden, and the rust-hdl
//! fabric tests check the model.
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

/// See the module docs: the rust-hdl simulation model ([`MeshNetModel`])
/// and the Verilog of the same logic, written as text (`net_verilog`).
pub struct MeshNet {
    model: MeshNetModel,
}

/// The rust-hdl model of the mesh: the nodes and the wiring between them,
/// simulated by rust-hdl. Its Verilog is not used (see [`MeshNet`]).
#[derive(LogicBlock)]
struct MeshNetModel {
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
            model: MeshNetModel {
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
            },
        }
    }
}

impl Deref for MeshNet {
    type Target = NetPorts;
    fn deref(&self) -> &NetPorts {
        &self.model.io
    }
}

impl DerefMut for MeshNet {
    fn deref_mut(&mut self) -> &mut NetPorts {
        &mut self.model.io
    }
}

impl Deref for MeshNetModel {
    type Target = NetPorts;
    fn deref(&self) -> &NetPorts {
        &self.io
    }
}

impl DerefMut for MeshNetModel {
    fn deref_mut(&mut self) -> &mut NetPorts {
        &mut self.io
    }
}

impl Topology for MeshNet {}

impl Logic for MeshNetModel {
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

impl Logic for MeshNet {
    // The model's own update runs in `update_all`.
    fn update(&mut self) {}

    fn hdl(&self) -> Verilog {
        let m = &self.model;
        Verilog::Wrapper(Wrapper { code: net_verilog(m._w, m._h1 + 1, m._n), cores: node_module() })
    }
}

// Simulation goes to the model; code generation sees only the ports, so
// rust-hdl neither walks the model's code (a regular expression per
// indexed name, once per node) nor matches every port against every
// node's ports (quadratic in cores): the text below is linear in cores.
impl Block for MeshNet {
    fn connect_all(&mut self) {
        self.model.connect_all();
    }
    fn update_all(&mut self) {
        self.model.update_all();
    }
    fn has_changed(&self) -> bool {
        self.model.has_changed()
    }
    fn accept(&self, name: &str, probe: &mut dyn Probe) {
        probe.visit_start_scope(name, self);
        self.model.io.accept("io", probe);
        probe.visit_end_scope(name, self);
    }
}

/// The module name of a node in rust-hdl's path form; the emitter makes it
/// `<prefix>_net_nodes`, the name `emit::SHARED_MODULES` knows.
const NODE_MODULE: &str = "top$net$nodes";

/// [`MeshNode`]'s whole module (rust-hdl writes its ports around the
/// hand-written body), named [`NODE_MODULE`].
fn node_module() -> String {
    let text = generate_verilog_unchecked(&MeshNode::new());
    text.replacen("module top(", &format!("module {NODE_MODULE}("), 1)
}

/// The Verilog of [`MeshNetModel::update`] for a `w` × `h` mesh of `k`
/// nodes: the same wiring, as continuous assignments. The co-simulations
/// of mesh specs under Verilator and Icarus check it against golden.
fn net_verilog(w: usize, h: usize, k: usize) -> String {
    use std::fmt::Write;
    const DIRS: [&str; 4] = ["w", "e", "n", "s"];
    let (xy, key, core) = (XY_BITS, KEY_BITS, CORE_BITS);
    let zero = |f: &str| match f {
        "valid" => "1'b0".to_string(),
        "key" => format!("{key}'d0"),
        _ => format!("{xy}'d0"),
    };
    let width = |f: &str| match f {
        "valid" | "ready" => String::new(),
        "key" => format!("[{}:0] ", key - 1),
        _ => format!("[{}:0] ", xy - 1),
    };
    // Destination (x, y) of a core id: the last row whose first core is
    // not above it, x the offset from that core (low XY_BITS bits).
    let lookup = |id: &str, out: &str| -> String {
        let mut x = format!("{id}[{}:0]", xy - 1);
        let mut y = format!("{xy}'d0");
        for j in 1..h {
            let cond = format!("({id} >= {core}'d{})", j * w);
            x = format!("{cond} ? ({id}[{}:0] - {xy}'d{}) : {x}", xy - 1, (j * w) % (1 << xy));
            y = format!("{cond} ? {xy}'d{j} : {y}");
        }
        format!("wire [{}:0] {out}_x = {x};\nwire [{}:0] {out}_y = {y};\n", xy - 1, xy - 1)
    };
    let mut s = String::new();
    let last = k - 1;
    let _ = writeln!(s, "// Node outputs.");
    for i in 0..k {
        for d in DIRS.iter().chain(&["l", "h"]) {
            let _ = writeln!(s, "wire nodes${i}$in_{d}_ready;");
        }
        for d in DIRS.iter().chain(&["l"]) {
            for f in ["valid", "x", "y", "key"] {
                let _ = writeln!(s, "wire {}nodes${i}$out_{d}_{f};", width(f));
            }
        }
        let _ = writeln!(s, "wire nodes${i}$empty;");
    }
    let _ = writeln!(s, "// Injection: a packet for a core that does not exist is dropped.");
    for i in 0..k {
        let _ = writeln!(s, "wire inj_ok${i} = src_core${i} <= {core}'d{last};");
        s.push_str(&lookup(&format!("src_core${i}"), &format!("inj${i}")));
    }
    let _ = writeln!(s, "wire h_ok = host_core <= {core}'d{last};");
    s.push_str(&lookup("host_core", "h"));
    let _ = writeln!(s, "// Nodes: node i at (i % {w}, i / {w}); links between i and i+1, and i and i+{w}.");
    for i in 0..k {
        // The neighbour each input comes from (and each output goes to),
        // with the port on its side.
        let from = |d: &str| -> Option<(usize, &str)> {
            match d {
                "w" => (i >= 1).then(|| (i - 1, "e")),
                "e" => (i + 1 < k).then(|| (i + 1, "w")),
                "n" => (i >= w).then(|| (i - w, "s")),
                _ => (i + w < k).then(|| (i + w, "n")),
            }
        };
        let mut ports =
            vec![".clock(clock)".to_string(), format!(".my_x({xy}'d{})", i % w), format!(".my_y({xy}'d{})", i / w)];
        for d in DIRS {
            for f in ["valid", "x", "y", "key"] {
                let src = from(d).map_or(zero(f), |(j, o)| format!("nodes${j}$out_{o}_{f}"));
                ports.push(format!(".in_{d}_{f}({src})"));
            }
            ports.push(format!(".in_{d}_ready(nodes${i}$in_{d}_ready)"));
        }
        ports.push(format!(".in_l_valid(src_valid${i} & inj_ok${i})"));
        ports.push(format!(".in_l_x(inj${i}_x)"));
        ports.push(format!(".in_l_y(inj${i}_y)"));
        ports.push(format!(".in_l_key(src_key${i})"));
        ports.push(format!(".in_l_ready(nodes${i}$in_l_ready)"));
        if i == 0 {
            ports.extend([
                ".in_h_valid(host_valid & h_ok)".to_string(),
                ".in_h_x(h_x)".to_string(),
                ".in_h_y(h_y)".to_string(),
                ".in_h_key(host_key)".to_string(),
            ]);
        } else {
            ports.extend(["valid", "x", "y", "key"].map(|f| format!(".in_h_{f}({})", zero(f))));
        }
        ports.push(format!(".in_h_ready(nodes${i}$in_h_ready)"));
        for d in DIRS.iter().chain(&["l"]) {
            for f in ["valid", "x", "y", "key"] {
                ports.push(format!(".out_{d}_{f}(nodes${i}$out_{d}_{f})"));
            }
            let ready = match *d {
                "l" => format!("dst_ready${i}"),
                _ => from(d).map_or("1'b0".to_string(), |(j, o)| format!("nodes${j}$in_{o}_ready")),
            };
            ports.push(format!(".out_{d}_ready({ready})"));
        }
        ports.push(format!(".empty(nodes${i}$empty)"));
        let _ = writeln!(s, "{NODE_MODULE} nodes${i}(\n    {}\n);", ports.join(",\n    "));
    }
    let _ = writeln!(s, "// Ports.");
    for i in 0..k {
        let _ = writeln!(s, "assign src_ready${i} = nodes${i}$in_l_ready | !inj_ok${i};");
        let _ = writeln!(s, "assign dst_valid${i} = nodes${i}$out_l_valid;");
        let _ = writeln!(s, "assign dst_key${i} = nodes${i}$out_l_key;");
    }
    let _ = writeln!(s, "assign host_ready = nodes$0$in_h_ready | !h_ok;");
    let missing: Vec<String> = (0..k).map(|i| format!("(src_valid${i} & !inj_ok${i})")).collect();
    let _ = writeln!(s, "assign missing = {} | (host_valid & !h_ok);", missing.join(" | "));
    let empty: Vec<String> = (0..k).map(|i| format!("nodes${i}$empty")).collect();
    let _ = writeln!(s, "assign empty = {};", empty.join(" & "));
    // Edge ports (no neighbour there) and routing fields the core does not
    // need; Verilator's lint takes names with `unused` as read on purpose.
    for i in 0..k {
        let mut unused: Vec<String> =
            DIRS.iter().chain(&["l", "h"]).map(|d| format!("nodes${i}$in_{d}_ready")).collect();
        for d in DIRS {
            unused.push(format!("nodes${i}$out_{d}_valid"));
            unused.extend(["x", "y", "key"].map(|f| format!("(|nodes${i}$out_{d}_{f})")));
        }
        unused.push(format!("(|nodes${i}$out_l_x)"));
        unused.push(format!("(|nodes${i}$out_l_y)"));
        let _ = writeln!(s, "wire unused_ok${i} = {};", unused.join(" | "));
    }
    s
}
