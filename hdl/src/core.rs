//! A neuron core: the integrate engine feeding the neuron array's second
//! accumulator bank while the sweep runs on the first, and the route engine
//! turning the sweep's spikes into packets for the interconnect.
//!
//! Step protocol (the controller's job, done by a testbench for now): set
//! `bank`, pulse `start`; packets for the next step may arrive at `in_*`
//! at any time during the step; the step is over when `busy` is low and
//! `idle` is high; the next step uses `!bank`.

use crate::fifo::KeyFifo;
use crate::integrate::{IntegrateInit, Integrator, AXON_WORD, KEY_BITS, SYN_BITS};
use crate::neuron::X;
use crate::route::{RouteInit, Router, CORE_BITS, RIDX_WORD, ROUTE_BITS};
use crate::sweep::{ArrayInit, NeuronArray, IN_FLIGHT, PARAM_BITS, SLOT_BITS};
use rust_hdl::prelude::*;
use spikeforge_hw::HardwareSpec;

/// Depth of the FIFOs the sweep pushes into (route engine, spike reports):
/// the sweep's slots in flight after `hold` plus a few to keep it busy.
pub const SWEEP_FIFO_DEPTH: usize = IN_FLIGHT + 3;

/// See the module docs.
#[derive(LogicBlock)]
pub struct Core {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Incoming packet valid.
    pub in_valid: Signal<In, bool>,
    /// Incoming axon key.
    pub in_key: Signal<In, Bits<KEY_BITS>>,
    /// Room in the input FIFO.
    pub in_ready: Signal<Out, bool>,
    /// Pulse: sweep.
    pub start: Signal<In, bool>,
    /// Bank the sweep reads.
    pub bank: Signal<In, bool>,
    /// Pulse: zero both accumulator banks (see [`NeuronArray::clear`]).
    pub clear: Signal<In, bool>,
    /// Slots in use.
    pub count: Signal<In, Bits<SLOT_BITS>>,
    /// Sweeping.
    pub busy: Signal<Out, bool>,
    /// Integrate engine idle.
    pub idle: Signal<Out, bool>,
    /// Sweep output: valid.
    pub out_valid: Signal<Out, bool>,
    /// Sweep output: slot.
    pub out_slot: Signal<Out, Bits<SLOT_BITS>>,
    /// Sweep output: spiked.
    pub out_spike: Signal<Out, bool>,
    /// Sweep output: `output` bit.
    pub out_output: Signal<Out, bool>,
    /// Configuration: parameter-set write (`cfg_addr`: set index).
    pub cfg_param_sets_we: Signal<In, bool>,
    /// Configuration: neuron word write (`cfg_addr`: slot).
    pub cfg_neurons_we: Signal<In, bool>,
    /// Configuration: potential write.
    pub cfg_v_we: Signal<In, bool>,
    /// Configuration: axon table write.
    pub cfg_axon_we: Signal<In, bool>,
    /// Configuration: synapse memory write.
    pub cfg_syn_we: Signal<In, bool>,
    /// Configuration: route index write.
    pub cfg_ridx_we: Signal<In, bool>,
    /// Configuration: routing entry write.
    pub cfg_route_we: Signal<In, bool>,
    /// Packet to the interconnect: valid.
    pub pkt_valid: Signal<Out, bool>,
    /// Packet: destination core.
    pub pkt_core: Signal<Out, Bits<CORE_BITS>>,
    /// Packet: axon key.
    pub pkt_key: Signal<Out, Bits<KEY_BITS>>,
    /// Packet taken.
    pub pkt_ready: Signal<In, bool>,
    /// Route engine idle.
    pub route_idle: Signal<Out, bool>,
    /// Spike-out: report every spike (monitor) or only `output` neurons.
    pub monitor: Signal<In, bool>,
    /// Spike-out: a reported spike is waiting.
    pub rep_valid: Signal<Out, bool>,
    /// Spike-out: its slot.
    pub rep_slot: Signal<Out, Bits<SLOT_BITS>>,
    /// Spike-out: take it.
    pub rep_pop: Signal<In, bool>,
    /// Potential read: slot (when not sweeping).
    pub peek_slot: Signal<In, Bits<SLOT_BITS>>,
    /// Potential read: data one clock later.
    pub peek_data: Signal<Out, Bits<X>>,
    /// An out-of-range axon key arrived.
    pub bad_key: Signal<Out, bool>,
    /// Configuration address.
    pub cfg_addr: Signal<In, Bits<SYN_BITS>>,
    /// Configuration data.
    pub cfg_data: Signal<In, Bits<PARAM_BITS>>,
    /// Neuron array.
    pub array: NeuronArray,
    /// Integrate engine.
    pub integ: Integrator,
    /// Route engine.
    pub router: Router,
    /// Spikes to report to the host.
    pub reports: KeyFifo,
    report: Signal<Local, bool>,
    unused_ok: Signal<Local, bool>,
}

impl Core {
    /// A core of `spec`, optionally preloaded.
    pub fn new(spec: &HardwareSpec, array: &ArrayInit, integ: &IntegrateInit, route: &RouteInit) -> Core {
        Core {
            clock: Default::default(),
            in_valid: Default::default(),
            in_key: Default::default(),
            in_ready: Default::default(),
            start: Default::default(),
            bank: Default::default(),
            clear: Default::default(),
            count: Default::default(),
            busy: Default::default(),
            idle: Default::default(),
            out_valid: Default::default(),
            out_slot: Default::default(),
            out_spike: Default::default(),
            out_output: Default::default(),
            cfg_param_sets_we: Default::default(),
            cfg_neurons_we: Default::default(),
            cfg_v_we: Default::default(),
            cfg_axon_we: Default::default(),
            cfg_syn_we: Default::default(),
            cfg_ridx_we: Default::default(),
            cfg_route_we: Default::default(),
            pkt_valid: Default::default(),
            pkt_core: Default::default(),
            pkt_key: Default::default(),
            pkt_ready: Default::default(),
            route_idle: Default::default(),
            monitor: Default::default(),
            rep_valid: Default::default(),
            rep_slot: Default::default(),
            rep_pop: Default::default(),
            peek_slot: Default::default(),
            peek_data: Default::default(),
            bad_key: Default::default(),
            cfg_addr: Default::default(),
            cfg_data: Default::default(),
            array: NeuronArray::new(
                spec.neurons_per_core as usize,
                spec.param_sets_per_core as usize,
                spec.potential_bits,
                spec.accumulator_bits,
                spec.current_state,
                array,
            ),
            integ: Integrator::new(
                spec.axons_per_core,
                spec.synapses_per_core,
                spec.synapse_banks(),
                spec.neurons_per_core,
                spec.weight_bits,
                spec.accumulator_bits,
                spec.single_port_synapses,
                integ,
            ),
            router: Router::new(
                spec.neurons_per_core,
                spec.routes_per_core,
                spec.cores(),
                spec.axons_per_core,
                route,
                KeyFifo::new(SWEEP_FIFO_DEPTH, IN_FLIGHT),
            ),
            reports: KeyFifo::new(SWEEP_FIFO_DEPTH, IN_FLIGHT),
            report: Default::default(),
            unused_ok: Default::default(),
        }
    }
}

impl Logic for Core {
    #[hdl_gen]
    fn update(&mut self) {
        self.array.clock.next = self.clock.val();
        self.integ.clock.next = self.clock.val();
        self.integ.in_valid.next = self.in_valid.val();
        self.integ.in_key.next = self.in_key.val();
        self.in_ready.next = self.integ.in_ready.val();
        self.array.start.next = self.start.val();
        self.array.bank.next = self.bank.val();
        self.array.clear.next = self.clear.val();
        self.array.count.next = self.count.val();
        self.busy.next = self.array.busy.val();
        self.idle.next = self.integ.idle.val();
        self.out_valid.next = self.array.out_valid.val();
        self.out_slot.next = self.array.out_slot.val();
        self.out_spike.next = self.array.out_spike.val();
        self.out_output.next = self.array.out_output.val();
        // Integrate engine <-> accumulator bank !bank, one port per slot parity.
        self.array.int_even_read_addr.next = self.integ.acc_even_read_addr.val();
        self.integ.acc_even_read_data.next = self.array.int_even_read_data.val();
        self.array.int_even_write.next = self.integ.acc_even_write.val();
        self.array.int_even_write_addr.next = self.integ.acc_even_write_addr.val();
        self.array.int_even_write_data.next = self.integ.acc_even_write_data.val();
        self.array.int_odd_read_addr.next = self.integ.acc_odd_read_addr.val();
        self.integ.acc_odd_read_data.next = self.array.int_odd_read_data.val();
        self.array.int_odd_write.next = self.integ.acc_odd_write.val();
        self.array.int_odd_write_addr.next = self.integ.acc_odd_write_addr.val();
        self.array.int_odd_write_data.next = self.integ.acc_odd_write_data.val();
        // Configuration.
        self.array.cfg_param_sets_we.next = self.cfg_param_sets_we.val();
        self.array.cfg_neurons_we.next = self.cfg_neurons_we.val();
        self.array.cfg_v_we.next = self.cfg_v_we.val();
        self.array.cfg_slot.next = self.cfg_addr.val().get_bits::<SLOT_BITS>(0);
        self.array.cfg_data.next = self.cfg_data.val();
        self.integ.cfg_axon_we.next = self.cfg_axon_we.val();
        self.integ.cfg_syn_we.next = self.cfg_syn_we.val();
        self.integ.cfg_addr.next = self.cfg_addr.val();
        self.integ.cfg_data.next = self.cfg_data.val().get_bits::<AXON_WORD>(0);
        self.router.cfg_ridx_we.next = self.cfg_ridx_we.val();
        self.router.cfg_route_we.next = self.cfg_route_we.val();
        self.router.cfg_addr.next = self.cfg_addr.val().get_bits::<ROUTE_BITS>(0);
        self.router.cfg_data.next = self.cfg_data.val().get_bits::<RIDX_WORD>(0);
        // Spikes -> route engine -> packets; the sweep holds while it is backed up.
        self.router.clock.next = self.clock.val();
        self.router.spike.next = self.array.out_spike.val();
        self.router.spike_slot.next = self.array.out_slot.val();
        self.array.hold.next = self.router.hold.val() | self.reports.almost_full.val();
        // Reported spikes wait for the host (the sweep holds when they back up).
        self.reports.clock.next = self.clock.val();
        self.report.next = self.array.out_spike.val() & (self.monitor.val() | self.array.out_output.val());
        self.reports.push.next = self.report.val();
        self.reports.data_in.next = self.array.out_slot.val();
        self.reports.pop.next = self.rep_pop.val();
        self.rep_valid.next = !self.reports.empty.val();
        self.rep_slot.next = self.reports.head.val();
        self.unused_ok.next = self.reports.full.val();
        self.array.peek_slot.next = self.peek_slot.val();
        self.peek_data.next = self.array.peek_data.val();
        self.bad_key.next = self.integ.bad_key.val();
        self.pkt_valid.next = self.router.pkt_valid.val();
        self.pkt_core.next = self.router.pkt_core.val();
        self.pkt_key.next = self.router.pkt_key.val();
        self.router.pkt_ready.next = self.pkt_ready.val();
        self.route_idle.next = self.router.idle.val();
    }
}
