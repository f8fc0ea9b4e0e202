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
//! Blocks, each with its own logic; [`Fabric`]'s update only wires them
//! (and distributes the clock):
//! - the cores ([`Core`]) and the host input router ([`Router`]);
//! - the interconnect ([`Interconnect`], `interconnect.rs`): a crossbar
//!   (`xbar.rs`) or a 2-D mesh of `MeshNode`s (`meshnet.rs`) behind one
//!   fixed port bundle; either way a packet moves only when the next buffer
//!   or destination FIFO has room, so backpressure reaches every router and
//!   nothing is dropped;
//! - configuration decode and the `neuron_count` registers
//!   ([`ConfigDecode`], `config.rs`);
//! - the step controller ([`StepControl`], `step.rs`). Step barrier: a step
//!   ends when every sweep has finished and every FIFO, pipeline, router
//!   and report queue has been empty for two clocks; then the accumulator
//!   banks swap;
//! - spike-in and spike-out ([`SpikeIo`], `spikeio.rs`);
//! - potential read and error flags ([`PeekErrors`], `peek.rs`).

use crate::config::ConfigDecode;
use crate::core::Core;
use crate::integrate::{IntegrateInit, SYN_BITS};
use crate::interconnect::Interconnect;
use crate::peek::PeekErrors;
use crate::route::{RouteInit, Router, CORE_BITS, RIDX_WORD, ROUTE_BITS};
use crate::spikeio::SpikeIo;
use crate::step::StepControl;
use crate::sweep::{ArrayInit, PARAM_BITS, SLOT_BITS};
use rust_hdl::prelude::*;
use spikeforge_hw::memory::Memory;
use spikeforge_hw::{HardwareSpec, NetworkImage};

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
                        ArrayInit {
                            param_sets: w(Memory::ParamSets),
                            neurons: w(Memory::Neurons),
                            v: w(Memory::Potentials),
                            files: None,
                        },
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

/// A width-exact constant (`v` masked to `N` bits), for every block of the fabric.
pub(crate) fn c<const N: usize>(v: u64) -> Constant<Bits<N>> {
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
    /// sweep of ⌈neurons_per_core/2⌉ clocks, `busy` meanwhile), selects bank
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
    /// The interconnect between cores and host router (crossbar or mesh).
    pub net: Interconnect,
    /// Configuration decode and `neuron_count` registers.
    pub decode: ConfigDecode,
    /// Step controller.
    pub ctl: StepControl,
    /// Spike-in and spike-out.
    pub spikes: SpikeIo,
    /// Potential read and error flags.
    pub peek: PeekErrors,
    unused_ok: Signal<Local, bool>,
}

impl Fabric {
    /// The design of `spec`, optionally preloaded with a mapping's images.
    pub fn new(spec: &HardwareSpec, init: &FabricInit) -> Fabric {
        let k = spec.cores() as usize;
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
            host: Router::new(
                spec.input_neurons.max(1),
                spec.input_routes.max(1),
                spec.cores(),
                spec.axons_per_core,
                &init.host,
                // Spike-in pushes only while not held: nothing in flight.
                crate::fifo::KeyFifo::default(),
            ),
            net: Interconnect::new(spec),
            decode: ConfigDecode::new(&(0..k).map(|i| core_init(i).3).collect::<Vec<_>>()),
            ctl: StepControl::new(k),
            spikes: SpikeIo::new(k, spec.input_neurons),
            peek: PeekErrors::new(k),
            unused_ok: Default::default(),
        }
    }
}

impl Logic for Fabric {
    #[hdl_gen]
    fn update(&mut self) {
        // Wiring only: each piece of logic lives in its block.
        self.host.clock.next = self.clock.val();
        self.net.clock.next = self.clock.val();
        self.decode.clock.next = self.clock.val();
        self.ctl.clock.next = self.clock.val();
        self.peek.clock.next = self.clock.val();

        // Host ports.
        self.decode.we.next = self.cfg_we.val();
        self.decode.core.next = self.cfg_core.val();
        self.decode.mem.next = self.cfg_mem.val();
        self.decode.count_data.next = self.cfg_data.val().get_bits::<SLOT_BITS>(0);
        self.ctl.step.next = self.step.val();
        self.ctl.clear.next = self.clear.val();
        self.done.next = self.ctl.done.val();
        self.busy.next = self.ctl.busy.val();
        self.step_count.next = self.ctl.step_count.val();
        self.spikes.in_valid.next = self.in_valid.val();
        self.spikes.in_index.next = self.in_index.val();
        self.in_ready.next = self.spikes.in_ready.val();
        self.out_valid.next = self.spikes.out_valid.val();
        self.out_core.next = self.spikes.out_core.val();
        self.out_slot.next = self.spikes.out_slot.val();
        self.spikes.out_ready.next = self.out_ready.val();
        self.peek.peek_req.next = self.peek_req.val();
        self.peek.peek_core.next = self.peek_core.val();
        self.peek_valid.next = self.peek.peek_valid.val();
        self.peek_data.next = self.peek.peek_data.val();
        self.peek.cfg_we.next = self.cfg_we.val();
        self.peek.clear.next = self.clear.val();
        self.peek.err_clear.next = self.err_clear.val();
        self.errors.next = self.peek.errors.val();

        // Host input router.
        self.host.cfg_ridx_we.next = self.decode.host_ridx_we.val();
        self.host.cfg_route_we.next = self.decode.host_route_we.val();
        self.host.cfg_addr.next = self.cfg_addr.val().get_bits::<ROUTE_BITS>(0);
        self.host.cfg_data.next = self.cfg_data.val().get_bits::<RIDX_WORD>(0);
        self.host.spike.next = self.spikes.host_spike.val();
        self.host.spike_slot.next = self.in_index.val();
        self.spikes.host_hold.next = self.host.hold.val();
        self.net.host_valid.next = self.host.pkt_valid.val();
        self.net.host_core.next = self.host.pkt_core.val();
        self.net.host_key.next = self.host.pkt_key.val();
        self.host.pkt_ready.next = self.net.host_ready.val();
        self.ctl.host_idle.next = self.host.idle.val();

        // Between blocks.
        self.ctl.net_empty.next = self.net.empty.val();
        self.ctl.reporting.next = self.spikes.out_valid.val();
        self.peek.running.next = self.ctl.running.val();
        self.peek.missing.next = self.net.missing.val();
        self.peek.bad_input.next = self.spikes.bad_input.val();

        // Each core.
        self.unused_ok.next = false;
        for i in 0..self.cores.len() {
            self.cores[i].clock.next = self.clock.val();
            self.cores[i].cfg_param_sets_we.next = self.decode.param_sets_we[i].val();
            self.cores[i].cfg_neurons_we.next = self.decode.neurons_we[i].val();
            self.cores[i].cfg_v_we.next = self.decode.v_we[i].val();
            self.cores[i].cfg_axon_we.next = self.decode.axon_we[i].val();
            self.cores[i].cfg_syn_we.next = self.decode.syn_we[i].val();
            self.cores[i].cfg_ridx_we.next = self.decode.ridx_we[i].val();
            self.cores[i].cfg_route_we.next = self.decode.route_we[i].val();
            self.cores[i].cfg_addr.next = self.cfg_addr.val();
            self.cores[i].cfg_data.next = self.cfg_data.val();
            self.cores[i].count.next = self.decode.count[i].val();
            self.cores[i].bank.next = self.ctl.bank.val();
            self.cores[i].monitor.next = self.monitor.val();
            self.cores[i].start.next = self.ctl.start.val();
            self.cores[i].clear.next = self.ctl.clear_cores.val();
            self.cores[i].peek_slot.next = self.peek_slot.val();
            self.net.src_valid[i].next = self.cores[i].pkt_valid.val();
            self.net.src_core[i].next = self.cores[i].pkt_core.val();
            self.net.src_key[i].next = self.cores[i].pkt_key.val();
            self.cores[i].pkt_ready.next = self.net.src_ready[i].val();
            self.cores[i].in_valid.next = self.net.dst_valid[i].val();
            self.cores[i].in_key.next = self.net.dst_key[i].val();
            self.net.dst_ready[i].next = self.cores[i].in_ready.val();
            self.spikes.rep_valid[i].next = self.cores[i].rep_valid.val();
            self.spikes.rep_slot[i].next = self.cores[i].rep_slot.val();
            self.cores[i].rep_pop.next = self.spikes.rep_pop[i].val();
            self.ctl.core_busy[i].next = self.cores[i].busy.val();
            self.ctl.core_idle[i].next = self.cores[i].idle.val();
            self.ctl.core_route_idle[i].next = self.cores[i].route_idle.val();
            self.ctl.core_pkt_valid[i].next = self.cores[i].pkt_valid.val();
            self.peek.core_data[i].next = self.cores[i].peek_data.val();
            self.peek.bad_key[i].next = self.cores[i].bad_key.val();
            // The cores' per-neuron sweep outputs are for core-level tests only.
            self.unused_ok.next = self.unused_ok.val()
                | self.cores[i].out_valid.val()
                | self.cores[i].out_spike.val()
                | self.cores[i].out_output.val()
                | self.cores[i].out_slot.val().any();
        }
    }
}
