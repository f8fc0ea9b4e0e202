//! Configuration decode: turns one configuration write (`cfg_we`,
//! `cfg_core`, `cfg_mem`, codes of `spikeforge_hw::memory`) into the write enable
//! of one memory of one core or of the host input router, and holds each
//! core's `neuron_count` register (written with `ConfigTarget::NeuronCount`).
//! Addresses and data go to every memory unchanged; only the enables are
//! decoded here.

use crate::fabric::c;
use crate::route::CORE_BITS;
use crate::sweep::SLOT_BITS;
use rust_hdl::prelude::*;
use spikeforge_hw::memory::{ConfigTarget, Memory};

/// See the module docs.
#[derive(LogicBlock)]
pub struct ConfigDecode {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Configuration write.
    pub we: Signal<In, bool>,
    /// Configuration: core.
    pub core: Signal<In, Bits<CORE_BITS>>,
    /// Configuration: memory code.
    pub mem: Signal<In, Bits<4>>,
    /// Configuration data, as much as a `neuron_count` needs.
    pub count_data: Signal<In, Bits<SLOT_BITS>>,
    /// Per core: parameter-set write.
    pub param_sets_we: Vec<Signal<Out, bool>>,
    /// Per core: neuron word write.
    pub neurons_we: Vec<Signal<Out, bool>>,
    /// Per core: potential write.
    pub v_we: Vec<Signal<Out, bool>>,
    /// Per core: axon table write.
    pub axon_we: Vec<Signal<Out, bool>>,
    /// Per core: synapse memory write.
    pub syn_we: Vec<Signal<Out, bool>>,
    /// Per core: route index write.
    pub ridx_we: Vec<Signal<Out, bool>>,
    /// Per core: routing entry write.
    pub route_we: Vec<Signal<Out, bool>>,
    /// Per core: its `neuron_count`.
    pub count: Vec<Signal<Out, Bits<SLOT_BITS>>>,
    /// Host input router: route index write.
    pub host_ridx_we: Signal<Out, bool>,
    /// Host input router: routing entry write.
    pub host_route_we: Signal<Out, bool>,
    counts: Vec<DFFWithInit<Bits<SLOT_BITS>>>,
    ids: Vec<Constant<Bits<CORE_BITS>>>,
    hit: Vec<Signal<Local, bool>>,
    m_param_sets: Constant<Bits<4>>,
    m_neurons: Constant<Bits<4>>,
    m_v: Constant<Bits<4>>,
    m_axons: Constant<Bits<4>>,
    m_syn: Constant<Bits<4>>,
    m_ridx: Constant<Bits<4>>,
    m_routes: Constant<Bits<4>>,
    m_in_ridx: Constant<Bits<4>>,
    m_in_routes: Constant<Bits<4>>,
    m_count: Constant<Bits<4>>,
}

impl ConfigDecode {
    /// The decode for cores with these power-up `neuron_count`s (one per core).
    pub fn new(counts: &[u32]) -> ConfigDecode {
        let k = counts.len();
        let v = || -> Vec<Signal<Out, bool>> { (0..k).map(|_| Default::default()).collect() };
        ConfigDecode {
            clock: Default::default(),
            we: Default::default(),
            core: Default::default(),
            mem: Default::default(),
            count_data: Default::default(),
            param_sets_we: v(),
            neurons_we: v(),
            v_we: v(),
            axon_we: v(),
            syn_we: v(),
            ridx_we: v(),
            route_we: v(),
            count: (0..k).map(|_| Default::default()).collect(),
            host_ridx_we: Default::default(),
            host_route_we: Default::default(),
            counts: counts.iter().map(|&n| DFFWithInit::new(Bits::<SLOT_BITS>::from(n as u64))).collect(),
            ids: (0..k).map(|i| c::<CORE_BITS>(i as u64)).collect(),
            hit: (0..k).map(|_| Default::default()).collect(),
            m_param_sets: c::<4>(Memory::ParamSets.code() as u64),
            m_neurons: c::<4>(Memory::Neurons.code() as u64),
            m_v: c::<4>(Memory::Potentials.code() as u64),
            m_axons: c::<4>(Memory::Axons.code() as u64),
            m_syn: c::<4>(Memory::Synapses.code() as u64),
            m_ridx: c::<4>(Memory::RouteIndex.code() as u64),
            m_routes: c::<4>(Memory::Routes.code() as u64),
            m_in_ridx: c::<4>(Memory::InputRouteIndex.code() as u64),
            m_in_routes: c::<4>(Memory::InputRoutes.code() as u64),
            m_count: c::<4>(ConfigTarget::NeuronCount.code() as u64),
        }
    }
}

impl Logic for ConfigDecode {
    #[hdl_gen]
    fn update(&mut self) {
        for i in 0..self.counts.len() {
            self.counts[i].clock.next = self.clock.val();
            self.counts[i].d.next = self.counts[i].q.val();
            self.hit[i].next = self.we.val() & (self.core.val() == self.ids[i].val());
            self.param_sets_we[i].next = self.hit[i].val() & (self.mem.val() == self.m_param_sets.val());
            self.neurons_we[i].next = self.hit[i].val() & (self.mem.val() == self.m_neurons.val());
            self.v_we[i].next = self.hit[i].val() & (self.mem.val() == self.m_v.val());
            self.axon_we[i].next = self.hit[i].val() & (self.mem.val() == self.m_axons.val());
            self.syn_we[i].next = self.hit[i].val() & (self.mem.val() == self.m_syn.val());
            self.ridx_we[i].next = self.hit[i].val() & (self.mem.val() == self.m_ridx.val());
            self.route_we[i].next = self.hit[i].val() & (self.mem.val() == self.m_routes.val());
            if self.hit[i].val() & (self.mem.val() == self.m_count.val()) {
                self.counts[i].d.next = self.count_data.val();
            }
            self.count[i].next = self.counts[i].q.val();
        }
        // The host's memories: `cfg_core` does not matter.
        self.host_ridx_we.next = self.we.val() & (self.mem.val() == self.m_in_ridx.val());
        self.host_route_we.next = self.we.val() & (self.mem.val() == self.m_in_routes.val());
    }
}
