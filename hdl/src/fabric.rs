//! The whole design of a spec: every core, the host's input router, a
//! crossbar or mesh between them, the step controller and the host ports.
//!
//! Host protocol (docs/hardware.md, "Top-level ports"):
//! - configuration: `cfg_we` with `cfg_core`, `cfg_mem`, `cfg_addr`,
//!   `cfg_data` writes one memory word (or a core's `neuron_count`);
//! - spike-in: input indices of step t on `in_*` (valid/ready), then
//!   - `step`: pulse; `done` pulses when step t is complete, `busy` is high
//!     in between, `step_count` counts completed steps;
//! - spike-out: every spike of step t (`monitor` = 1) or only those of
//!   output neurons, as (core, slot) on `out_*` (valid/ready) during step t;
//!   the step does not complete until they are taken.
//!
//! Interconnect: for `crossbar` specs a crossbar: every core's input port
//! takes one packet per clock from the first source (cores in order, the
//! host last) offering one for it, all ports at once; for `mesh` specs a 2-D mesh of
//! [`MeshNode`]s with XY routing, the host attached at node 0. Either way a
//! packet moves only when the next buffer or destination FIFO has room, so
//! backpressure reaches every router and nothing is dropped.
//! Step barrier: a step ends when every sweep has finished and every FIFO,
//! pipeline, router and report queue has been empty for two clocks; then
//! the accumulator banks swap.

use crate::core::Core;
use crate::integrate::{IntegrateInit, KEY_BITS, SYN_BITS};
use crate::mesh::{MeshNode, XY_BITS};
use crate::route::{RouteInit, Router, CORE_BITS, RIDX_WORD, ROUTE_BITS};
use crate::sweep::{ArrayInit, PARAM_BITS, SLOT_BITS};
use rust_hdl::prelude::*;
use spikeforge_hw::memory::Memory;
use spikeforge_hw::{HardwareSpec, Interconnect, NetworkImage};

/// Codes of `cfg_mem`, from the hardware contract (`spikeforge_hw::memory`).
pub mod mem_code {
    use spikeforge_hw::memory::{ConfigTarget, Memory};
    /// Parameter words.
    pub const PARAMS: u64 = Memory::Params.code() as u64;
    /// Potentials (initial state).
    pub const V: u64 = Memory::Potentials.code() as u64;
    /// Axon table.
    pub const AXONS: u64 = Memory::Axons.code() as u64;
    /// Synapse memory.
    pub const SYNAPSES: u64 = Memory::Synapses.code() as u64;
    /// Route index.
    pub const ROUTE_INDEX: u64 = Memory::RouteIndex.code() as u64;
    /// Routing memory.
    pub const ROUTES: u64 = Memory::Routes.code() as u64;
    /// Host input route index (`cfg_core` ignored).
    pub const INPUT_ROUTE_INDEX: u64 = Memory::InputRouteIndex.code() as u64;
    /// Host input routes (`cfg_core` ignored).
    pub const INPUT_ROUTES: u64 = Memory::InputRoutes.code() as u64;
    /// The core's `neuron_count` register (`cfg_addr` ignored).
    pub const NEURON_COUNT: u64 = ConfigTarget::NeuronCount.code() as u64;
}

/// Initial contents of the whole design (a network image), or empty.
#[derive(Debug, Clone, Default)]
pub struct FabricInit {
    /// Per core: neuron array, integrate engine and router contents, and `neuron_count`.
    pub cores: Vec<(ArrayInit, IntegrateInit, RouteInit, u32)>,
    /// Host input routing.
    pub host: RouteInit,
}

impl FabricInit {
    /// The memory contents of a network image (for simulation: words, no files).
    pub fn from_image(image: &NetworkImage) -> FabricInit {
        FabricInit {
            cores: image
                .cores
                .iter()
                .map(|pc| {
                    let w = |m: Memory| pc.words(m).to_vec();
                    (
                        ArrayInit { params: w(Memory::Params), v: w(Memory::Potentials), files: None },
                        IntegrateInit { axons: w(Memory::Axons), synapses: w(Memory::Synapses), files: None },
                        RouteInit { ridx: w(Memory::RouteIndex), routes: w(Memory::Routes), files: None },
                        pc.neuron_count,
                    )
                })
                .collect(),
            host: RouteInit {
                ridx: image.host.words(Memory::InputRouteIndex).to_vec(),
                routes: image.host.words(Memory::InputRoutes).to_vec(),
                files: None,
            },
        }
    }
}

fn c<const N: usize>(v: u64) -> Constant<Bits<N>> {
    let m = if N >= 64 { u64::MAX } else { (1u64 << N) - 1 };
    Constant::new(Bits::<N>::from(v & m))
}

/// See the module docs.
#[derive(LogicBlock)]
pub struct Fabric {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Pulse: run one step.
    pub step: Signal<In, bool>,
    /// Pulse: the step is complete.
    pub done: Signal<Out, bool>,
    /// A step is running.
    pub busy: Signal<Out, bool>,
    /// Completed steps.
    pub step_count: Signal<Out, Bits<32>>,
    /// Spike-in valid.
    pub in_valid: Signal<In, bool>,
    /// Spike-in: input index.
    pub in_index: Signal<In, Bits<SLOT_BITS>>,
    /// Spike-in ready.
    pub in_ready: Signal<Out, bool>,
    /// Spike-out valid.
    pub out_valid: Signal<Out, bool>,
    /// Spike-out core.
    pub out_core: Signal<Out, Bits<CORE_BITS>>,
    /// Spike-out slot.
    pub out_slot: Signal<Out, Bits<SLOT_BITS>>,
    /// Spike-out ready.
    pub out_ready: Signal<In, bool>,
    /// Report every spike, not only output neurons'.
    pub monitor: Signal<In, bool>,
    /// Potential read request (between steps).
    pub peek_req: Signal<In, bool>,
    /// Potential read: core.
    pub peek_core: Signal<In, Bits<CORE_BITS>>,
    /// Potential read: slot.
    pub peek_slot: Signal<In, Bits<SLOT_BITS>>,
    /// Potential read: `peek_data` is valid (one clock after the request).
    pub peek_valid: Signal<Out, bool>,
    /// Potential read: the potential, 32-bit two's complement.
    pub peek_data: Signal<Out, Bits<32>>,
    /// Pulse between steps: network reset. Zeroes every accumulator (a
    /// sweep of `neurons_per_core` clocks, `busy` meanwhile), selects bank
    /// 0 and sets `step_count` to 0; rewrite the potentials over the
    /// configuration port to return to the initial state. During a step it
    /// is ignored and flagged (bit 3).
    pub clear: Signal<In, bool>,
    /// Sticky error flags: bit 0 packet to a core that does not exist (dropped),
    /// bit 1 input index out of range (dropped), bit 2 axon key out of range
    /// at a core (dropped), bit 3 potential read or configuration write while
    /// a step runs (the read is ignored).
    pub errors: Signal<Out, Bits<4>>,
    /// Clear the error flags.
    pub err_clear: Signal<In, bool>,
    /// Configuration write.
    pub cfg_we: Signal<In, bool>,
    /// Configuration: core.
    pub cfg_core: Signal<In, Bits<CORE_BITS>>,
    /// Configuration: memory code.
    pub cfg_mem: Signal<In, Bits<4>>,
    /// Configuration: address.
    pub cfg_addr: Signal<In, Bits<SYN_BITS>>,
    /// Configuration: data.
    pub cfg_data: Signal<In, Bits<PARAM_BITS>>,
    /// The cores.
    pub cores: Vec<Core>,
    /// Host input router.
    pub host: Router,
    /// Mesh router nodes (mesh specs only).
    pub nodes: Vec<MeshNode>,
    xs: Vec<Constant<Bits<XY_BITS>>>,
    ys: Vec<Constant<Bits<XY_BITS>>>,
    inj_ok: Vec<Signal<Local, bool>>,
    inj_x: Vec<Signal<Local, Bits<XY_BITS>>>,
    inj_y: Vec<Signal<Local, Bits<XY_BITS>>>,
    h_ok: Signal<Local, bool>,
    hx: Signal<Local, Bits<XY_BITS>>,
    hy: Signal<Local, Bits<XY_BITS>>,
    bus_on: Constant<bool>,
    mesh_unused: Signal<Local, bool>,
    zero_xy: Constant<Bits<XY_BITS>>,
    _bus_n: usize,
    _mesh_n: usize,
    _mesh_host: usize,
    _links_x: usize,
    _links_y: usize,
    _w: usize,
    _w1: usize,
    counts: Vec<DFFWithInit<Bits<SLOT_BITS>>>,
    ids: Vec<Constant<Bits<CORE_BITS>>>,
    hit: Vec<Signal<Local, bool>>,
    /// Crossbar: core i's input port has chosen a source this clock.
    found: Vec<Signal<Local, bool>>,
    /// Crossbar: core j's packet is for an existing core.
    src_ok: Vec<Signal<Local, bool>>,
    host_ok: Signal<Local, bool>,
    rep_grant: Vec<Signal<Local, bool>>,
    peek_pend: DFF<bool>,
    peek_sel: DFF<Bits<CORE_BITS>>,
    err: DFF<Bits<4>>,
    new_err: Signal<Local, Bits<4>>,
    in_range: Signal<Local, bool>,
    e0: Constant<Bits<4>>,
    e1: Constant<Bits<4>>,
    e2: Constant<Bits<4>>,
    e3: Constant<Bits<4>>,
    zero4: Constant<Bits<4>>,
    n_inputs: Constant<Bits<SLOT_BITS>>,
    running: DFF<bool>,
    /// The clock after a clear pulse (before the cores raise busy).
    clr_wait: DFF<bool>,
    cores_busy: Signal<Local, bool>,
    /// A step pulse not yet acted on (it arrived while the previous step ended).
    req: DFF<bool>,
    started: DFF<bool>,
    quiet1: DFF<bool>,
    bank: DFF<bool>,
    steps: DFF<Bits<32>>,
    rep_taken: Signal<Local, bool>,
    quiet: Signal<Local, bool>,
    unused_ok: Signal<Local, bool>,
    m_params: Constant<Bits<4>>,
    m_v: Constant<Bits<4>>,
    m_axons: Constant<Bits<4>>,
    m_syn: Constant<Bits<4>>,
    m_ridx: Constant<Bits<4>>,
    m_routes: Constant<Bits<4>>,
    m_in_ridx: Constant<Bits<4>>,
    m_in_routes: Constant<Bits<4>>,
    m_count: Constant<Bits<4>>,
    one32: Constant<Bits<32>>,
    zero_word32: Constant<Bits<32>>,
    zero_core: Constant<Bits<CORE_BITS>>,
    zero_key: Constant<Bits<KEY_BITS>>,
    zero_slot: Constant<Bits<SLOT_BITS>>,
}

impl Fabric {
    /// The design of `spec`, optionally preloaded with a mapping's images.
    pub fn new(spec: &HardwareSpec, init: &FabricInit) -> Fabric {
        let k = spec.cores() as usize;
        let mesh = spec.interconnect == Interconnect::Mesh && k > 1;
        let empty = (ArrayInit::default(), IntegrateInit::default(), RouteInit::default(), 0u32);
        let core_init = |i: usize| init.cores.get(i).cloned().unwrap_or_else(|| empty.clone());
        Fabric {
            clock: Default::default(),
            step: Default::default(),
            done: Default::default(),
            busy: Default::default(),
            step_count: Default::default(),
            in_valid: Default::default(),
            in_index: Default::default(),
            in_ready: Default::default(),
            out_valid: Default::default(),
            out_core: Default::default(),
            out_slot: Default::default(),
            out_ready: Default::default(),
            monitor: Default::default(),
            peek_req: Default::default(),
            peek_core: Default::default(),
            peek_slot: Default::default(),
            peek_valid: Default::default(),
            peek_data: Default::default(),
            errors: Default::default(),
            err_clear: Default::default(),
            clear: Default::default(),
            cfg_we: Default::default(),
            cfg_core: Default::default(),
            cfg_mem: Default::default(),
            cfg_addr: Default::default(),
            cfg_data: Default::default(),
            cores: (0..k)
                .map(|i| {
                    let (a, g, r, _) = core_init(i);
                    Core::new(spec, &a, &g, &r)
                })
                .collect(),
            nodes: if mesh {
                (0..k as u32)
                    .map(|i| MeshNode::new(i % spec.mesh_width, i / spec.mesh_width, spec.mesh_width, spec.mesh_height))
                    .collect()
            } else {
                Vec::new()
            },
            xs: (0..if mesh { k as u64 } else { 0 }).map(|i| c::<XY_BITS>(i % spec.mesh_width as u64)).collect(),
            ys: (0..if mesh { k as u64 } else { 0 }).map(|i| c::<XY_BITS>(i / spec.mesh_width as u64)).collect(),
            inj_ok: (0..if mesh { k } else { 0 }).map(|_| Default::default()).collect(),
            inj_x: (0..if mesh { k } else { 0 }).map(|_| Default::default()).collect(),
            inj_y: (0..if mesh { k } else { 0 }).map(|_| Default::default()).collect(),
            h_ok: Default::default(),
            hx: Default::default(),
            hy: Default::default(),
            bus_on: Constant::new(!mesh),
            mesh_unused: Default::default(),
            zero_xy: c::<XY_BITS>(0),
            _bus_n: if mesh { 0 } else { k },
            _mesh_n: if mesh { k } else { 0 },
            _mesh_host: usize::from(mesh),
            _links_x: if mesh { k - 1 } else { 0 },
            _links_y: if mesh { k - spec.mesh_width as usize } else { 0 },
            _w: spec.mesh_width as usize,
            _w1: spec.mesh_width as usize + 1,
            host: Router::new(
                spec.input_neurons.max(1),
                spec.input_routes.max(1),
                spec.cores(),
                spec.axons_per_core,
                &init.host,
            ),
            counts: (0..k).map(|i| DFFWithInit::new(Bits::<SLOT_BITS>::from(core_init(i).3 as u64))).collect(),
            ids: (0..k).map(|i| c::<CORE_BITS>(i as u64)).collect(),
            hit: (0..k).map(|_| Default::default()).collect(),
            found: (0..if mesh { 0 } else { k }).map(|_| Default::default()).collect(),
            src_ok: (0..if mesh { 0 } else { k }).map(|_| Default::default()).collect(),
            host_ok: Default::default(),
            rep_grant: (0..k).map(|_| Default::default()).collect(),
            peek_pend: Default::default(),
            peek_sel: Default::default(),
            err: Default::default(),
            new_err: Default::default(),
            in_range: Default::default(),
            e0: c::<4>(1),
            e1: c::<4>(2),
            e2: c::<4>(4),
            e3: c::<4>(8),
            zero4: c::<4>(0),
            n_inputs: c::<SLOT_BITS>(spec.input_neurons as u64),
            running: Default::default(),
            clr_wait: Default::default(),
            cores_busy: Default::default(),
            req: Default::default(),
            started: Default::default(),
            quiet1: Default::default(),
            bank: Default::default(),
            steps: Default::default(),
            rep_taken: Default::default(),
            quiet: Default::default(),
            unused_ok: Default::default(),
            m_params: c::<4>(mem_code::PARAMS),
            m_v: c::<4>(mem_code::V),
            m_axons: c::<4>(mem_code::AXONS),
            m_syn: c::<4>(mem_code::SYNAPSES),
            m_ridx: c::<4>(mem_code::ROUTE_INDEX),
            m_routes: c::<4>(mem_code::ROUTES),
            m_in_ridx: c::<4>(mem_code::INPUT_ROUTE_INDEX),
            m_in_routes: c::<4>(mem_code::INPUT_ROUTES),
            m_count: c::<4>(mem_code::NEURON_COUNT),
            one32: c::<32>(1),
            zero_word32: c::<32>(0),
            zero_core: c::<CORE_BITS>(0),
            zero_key: c::<KEY_BITS>(0),
            zero_slot: c::<SLOT_BITS>(0),
        }
    }
}

impl Logic for Fabric {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, running, clr_wait, req, started, quiet1, bank, steps, peek_pend, peek_sel, err);
        self.host.clock.next = self.clock.val();

        // Configuration decode.
        for i in 0..self.cores.len() {
            self.cores[i].clock.next = self.clock.val();
            self.counts[i].clock.next = self.clock.val();
            self.counts[i].d.next = self.counts[i].q.val();
            self.hit[i].next = self.cfg_we.val() & (self.cfg_core.val() == self.ids[i].val());
            self.cores[i].cfg_params_we.next = self.hit[i].val() & (self.cfg_mem.val() == self.m_params.val());
            self.cores[i].cfg_v_we.next = self.hit[i].val() & (self.cfg_mem.val() == self.m_v.val());
            self.cores[i].cfg_axon_we.next = self.hit[i].val() & (self.cfg_mem.val() == self.m_axons.val());
            self.cores[i].cfg_syn_we.next = self.hit[i].val() & (self.cfg_mem.val() == self.m_syn.val());
            self.cores[i].cfg_ridx_we.next = self.hit[i].val() & (self.cfg_mem.val() == self.m_ridx.val());
            self.cores[i].cfg_route_we.next = self.hit[i].val() & (self.cfg_mem.val() == self.m_routes.val());
            self.cores[i].cfg_addr.next = self.cfg_addr.val();
            self.cores[i].cfg_data.next = self.cfg_data.val();
            if self.hit[i].val() & (self.cfg_mem.val() == self.m_count.val()) {
                self.counts[i].d.next = self.cfg_data.val().get_bits::<SLOT_BITS>(0);
            }
            self.cores[i].count.next = self.counts[i].q.val();
            self.cores[i].bank.next = self.bank.q.val();
            self.cores[i].monitor.next = self.monitor.val();
        }
        self.host.cfg_ridx_we.next = self.cfg_we.val() & (self.cfg_mem.val() == self.m_in_ridx.val());
        self.host.cfg_route_we.next = self.cfg_we.val() & (self.cfg_mem.val() == self.m_in_routes.val());
        self.host.cfg_addr.next = self.cfg_addr.val().get_bits::<ROUTE_BITS>(0);
        self.host.cfg_data.next = self.cfg_data.val().get_bits::<RIDX_WORD>(0);

        self.new_err.next = self.zero4.val();
        // Spike-in: the host router's spike FIFO takes input indices.
        self.in_range.next = self.in_index.val() < self.n_inputs.val();
        self.host.spike.next = self.in_valid.val() & !self.host.hold.val() & self.in_range.val();
        if self.in_valid.val() & !self.host.hold.val() & !self.in_range.val() {
            self.new_err.next = self.new_err.val() | self.e1.val();
        }
        self.host.spike_slot.next = self.in_index.val();
        self.in_ready.next = !self.host.hold.val();

        // Crossbar (crossbar specs): each core's input port takes, each
        // clock, the first offering source (cores in order, then the host)
        // whose packet is for it. Different ports serve different sources in
        // the same clock, so up to one packet per core moves per clock and a
        // full core only holds back the packets that are for it.
        // A packet for a core that does not exist is dropped and flagged.
        self.host.pkt_ready.next = false;
        for j in 0..self._bus_n {
            self.cores[j].pkt_ready.next = false;
            self.src_ok[j].next = false;
            for i in 0..self._bus_n {
                if self.cores[j].pkt_core.val() == self.ids[i].val() {
                    self.src_ok[j].next = true;
                }
            }
            if self.cores[j].pkt_valid.val() & !self.src_ok[j].val() {
                self.cores[j].pkt_ready.next = true;
                self.new_err.next = self.new_err.val() | self.e0.val();
            }
        }
        self.host_ok.next = false;
        for i in 0..self._bus_n {
            if self.host.pkt_core.val() == self.ids[i].val() {
                self.host_ok.next = true;
            }
        }
        if self.host.pkt_valid.val() & !self.host_ok.val() & self.bus_on.val() {
            self.host.pkt_ready.next = true;
            self.new_err.next = self.new_err.val() | self.e0.val();
        }
        for i in 0..self._bus_n {
            self.found[i].next = false;
            self.cores[i].in_valid.next = false;
            self.cores[i].in_key.next = self.zero_key.val();
            for j in 0..self._bus_n {
                if !self.found[i].val()
                    & self.cores[j].pkt_valid.val()
                    & (self.cores[j].pkt_core.val() == self.ids[i].val())
                {
                    self.found[i].next = true;
                    self.cores[i].in_valid.next = self.cores[i].in_ready.val();
                    self.cores[i].in_key.next = self.cores[j].pkt_key.val();
                    self.cores[j].pkt_ready.next = self.cores[i].in_ready.val();
                }
            }
            if !self.found[i].val() & self.host.pkt_valid.val() & (self.host.pkt_core.val() == self.ids[i].val()) {
                self.found[i].next = true;
                self.cores[i].in_valid.next = self.cores[i].in_ready.val();
                self.cores[i].in_key.next = self.host.pkt_key.val();
                self.host.pkt_ready.next = self.cores[i].in_ready.val();
            }
        }

        // Mesh (specs with interconnect = "mesh"; no iterations otherwise):
        // core i's packets enter node i, the host's enter node 0; each
        // packet carries its destination's (x, y).
        self.mesh_unused.next = false;
        for i in 0..self._mesh_n {
            self.nodes[i].clock.next = self.clock.val();
            // Edge ports (no neighbour there) and routing fields the core does not need.
            self.mesh_unused.next = self.mesh_unused.val()
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

            self.inj_ok[i].next = false;
            self.inj_x[i].next = self.zero_xy.val();
            self.inj_y[i].next = self.zero_xy.val();
            for j in 0..self._mesh_n {
                if self.cores[i].pkt_core.val() == self.ids[j].val() {
                    self.inj_ok[i].next = true;
                    self.inj_x[i].next = self.xs[j].val();
                    self.inj_y[i].next = self.ys[j].val();
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
            self.nodes[i].in_l_valid.next = false;
            self.nodes[i].in_l_x.next = self.zero_xy.val();
            self.nodes[i].in_l_y.next = self.zero_xy.val();
            self.nodes[i].in_l_key.next = self.zero_key.val();
            self.nodes[i].in_h_valid.next = false;
            self.nodes[i].in_h_x.next = self.zero_xy.val();
            self.nodes[i].in_h_y.next = self.zero_xy.val();
            self.nodes[i].in_h_key.next = self.zero_key.val();
            self.nodes[i].out_w_ready.next = false;
            self.nodes[i].out_e_ready.next = false;
            self.nodes[i].out_n_ready.next = false;
            self.nodes[i].out_s_ready.next = false;
            self.nodes[i].in_l_valid.next = self.cores[i].pkt_valid.val() & self.inj_ok[i].val();
            self.nodes[i].in_l_x.next = self.inj_x[i].val();
            self.nodes[i].in_l_y.next = self.inj_y[i].val();
            self.nodes[i].in_l_key.next = self.cores[i].pkt_key.val();
            self.cores[i].pkt_ready.next = self.nodes[i].in_l_ready.val() | !self.inj_ok[i].val();
            if self.cores[i].pkt_valid.val() & !self.inj_ok[i].val() {
                self.new_err.next = self.new_err.val() | self.e0.val();
            }
            self.cores[i].in_valid.next = self.nodes[i].out_l_valid.val();
            self.cores[i].in_key.next = self.nodes[i].out_l_key.val();
            self.nodes[i].out_l_ready.next = self.cores[i].in_ready.val();
        }
        self.h_ok.next = false;
        self.hx.next = self.zero_xy.val();
        self.hy.next = self.zero_xy.val();
        for i in 0..self._mesh_host {
            for j in 0..self._mesh_n {
                if self.host.pkt_core.val() == self.ids[j].val() {
                    self.h_ok.next = true;
                    self.hx.next = self.xs[j].val();
                    self.hy.next = self.ys[j].val();
                }
            }
            self.nodes[i].in_h_valid.next = self.host.pkt_valid.val() & self.h_ok.val();
            self.nodes[i].in_h_x.next = self.hx.val();
            self.nodes[i].in_h_y.next = self.hy.val();
            self.nodes[i].in_h_key.next = self.host.pkt_key.val();
            self.host.pkt_ready.next = self.nodes[i].in_h_ready.val() | !self.h_ok.val();
            if self.host.pkt_valid.val() & !self.h_ok.val() {
                self.new_err.next = self.new_err.val() | self.e0.val();
            }
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

        // Spike-out: the first core with a report wins.
        self.rep_taken.next = false;
        self.out_core.next = self.zero_core.val();
        self.out_slot.next = self.zero_slot.val();
        for i in 0..self.cores.len() {
            self.rep_grant[i].next = false;
            if !self.rep_taken.val() & self.cores[i].rep_valid.val() {
                self.rep_taken.next = true;
                self.rep_grant[i].next = true;
                self.out_core.next = self.ids[i].val();
                self.out_slot.next = self.cores[i].rep_slot.val();
            }
        }
        self.out_valid.next = self.rep_taken.val();
        for i in 0..self.cores.len() {
            self.cores[i].rep_pop.next = self.rep_grant[i].val() & self.out_ready.val();
        }

        // Step controller.
        self.quiet.next = self.host.idle.val() & !self.rep_taken.val();
        for i in 0..self._mesh_n {
            self.quiet.next = self.quiet.val() & self.nodes[i].empty.val();
        }
        for i in 0..self.cores.len() {
            self.quiet.next = self.quiet.val()
                & !self.cores[i].busy.val()
                & self.cores[i].idle.val()
                & self.cores[i].route_idle.val()
                & !self.cores[i].pkt_valid.val();
            self.cores[i].start.next = false;
        }
        self.done.next = false;
        self.cores_busy.next = false;
        for i in 0..self.cores.len() {
            self.cores_busy.next = self.cores_busy.val() | self.cores[i].busy.val();
            self.cores[i].clear.next = false;
        }
        self.clr_wait.d.next = false;
        if self.clear.val() & !self.running.q.val() {
            self.clr_wait.d.next = true;
            self.bank.d.next = false;
            self.steps.d.next = self.zero_word32.val();
            for i in 0..self.cores.len() {
                self.cores[i].clear.next = true;
            }
        }
        if self.step.val() {
            self.req.d.next = true;
        }
        // A step waits for a clear in progress to finish.
        if (self.step.val() | self.req.q.val())
            & !self.running.q.val()
            & !self.clr_wait.q.val()
            & !self.cores_busy.val()
            & !self.clear.val()
        {
            self.req.d.next = false;
            self.running.d.next = true;
            self.started.d.next = false;
            for i in 0..self.cores.len() {
                self.cores[i].start.next = true;
            }
        }
        if self.running.q.val() {
            // The cores raise busy one clock after start.
            self.started.d.next = true;
            self.quiet1.d.next = self.quiet.val();
            if self.started.q.val() & self.quiet.val() & self.quiet1.q.val() {
                self.running.d.next = false;
                self.bank.d.next = !self.bank.q.val();
                self.steps.d.next = self.steps.q.val() + self.one32.val();
                self.done.next = true;
                self.quiet1.d.next = false;
            }
        }
        self.busy.next = self.running.q.val() | self.clr_wait.q.val() | self.cores_busy.val();

        // Potential read: every core reads `peek_slot`; the addressed one answers.
        self.peek_pend.d.next = self.peek_req.val() & !self.running.q.val();
        self.peek_sel.d.next = self.peek_core.val();
        self.peek_valid.next = self.peek_pend.q.val();
        self.peek_data.next = self.zero_word32.val();
        for i in 0..self.cores.len() {
            self.cores[i].peek_slot.next = self.peek_slot.val();
            if self.peek_sel.q.val() == self.ids[i].val() {
                self.peek_data.next = self.cores[i].peek_data.val().get_bits::<32>(0);
            }
            if self.cores[i].bad_key.val() {
                self.new_err.next = self.new_err.val() | self.e2.val();
            }
        }
        if (self.peek_req.val() | self.cfg_we.val() | self.clear.val()) & self.running.q.val() {
            self.new_err.next = self.new_err.val() | self.e3.val();
        }
        self.err.d.next = self.err.q.val() | self.new_err.val();
        if self.err_clear.val() {
            self.err.d.next = self.new_err.val();
        }
        self.errors.next = self.err.q.val();
        self.step_count.next = self.steps.q.val();
        // The cores' per-neuron sweep outputs are for core-level tests only;
        // the locals of the interconnect this spec does not use stay idle.
        self.unused_ok.next = self.mesh_unused.val() | self.h_ok.val() | self.hx.val().any() | self.hy.val().any();
        for i in 0..self.cores.len() {
            self.unused_ok.next = self.unused_ok.val()
                | self.cores[i].out_valid.val()
                | self.cores[i].out_spike.val()
                | self.cores[i].out_output.val()
                | self.cores[i].out_slot.val().any()
                | self.cores[i].peek_data.val().get_bits::<8>(32).any();
        }
    }
}
