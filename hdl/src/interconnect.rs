//! The interconnect between the cores and the host's input router, behind
//! one fixed port bundle ([`NetPorts`]) that every topology implements.
//!
//! Per core i the bundle has the core's outgoing packet (`src_valid[i]`,
//! `src_core[i]`, `src_key[i]`, and `src_ready[i]` back to it) and the
//! delivery into the core (`dst_valid[i]`, `dst_key[i]`, and the core's
//! `dst_ready[i]` = its `in_ready`); then the host router's packet
//! (`host_valid`, `host_core`, `host_key`, `host_ready`), `missing` (this
//! clock a packet for a core that does not exist is dropped: error bit 0)
//! and `empty` (nothing in flight inside the interconnect, for the step
//! barrier). A packet moves only when its receiver has room, so nothing is
//! dropped but packets for missing cores.
//!
//! Topologies: [`Crossbar`] (`xbar.rs`) and [`MeshNet`] (`meshnet.rs`).
//! A new topology is one file with a block that embeds a [`NetPorts`] as
//! its field `io`, derefs to it (`Deref`/`DerefMut`) and implements
//! [`Topology`], plus one match arm in [`Interconnect::new`]; the fabric's
//! wiring does not change. The bundle includes `clock`: a topology without
//! registers reads it into `unused_ok` (see [`Crossbar`]).
//!
//! How one field holds either block: rust-hdl's `#[derive(LogicBlock)]`
//! needs a concrete type per field, and a `Vec<Crossbar>` + `Vec<MeshNet>`
//! pair (0 or 1 long) cannot be wired, because codegen substitutes a loop
//! variable only in the first index of a path (`xbar[n].src_valid[i]` is
//! not emitted right) and would also need one copy of the wiring per
//! topology in the fabric. So [`Interconnect`] is a box of any
//! [`Topology`], with `Block` implemented by hand as a transparent wrapper
//! (the Verilog module is the topology's own, named after the field), and
//! it derefs to the topology's [`NetPorts`], so the fabric writes
//! `self.net.src_valid[i]` whatever the topology. [`NetPorts`] likewise
//! implements `Block` by hand so that its signals are the module's ports
//! with their own names (no `io$` prefix): the names the fabric's code and
//! the topology's code (through `Deref`) both produce.

use crate::integrate::KEY_BITS;
use crate::meshnet::MeshNet;
use crate::route::CORE_BITS;
use crate::xbar::Crossbar;
use rust_hdl::prelude::*;
use spikeforge_hw::{HardwareSpec, Interconnect as Kind};
use std::ops::{Deref, DerefMut};

/// Declares [`NetPorts`] and its hand-written `Block` impl from one field list.
macro_rules! net_ports {
    ($k:ident; $($(#[$doc:meta])* $name:ident: $ty:ty = $init:expr,)*) => {
        /// The fixed port bundle of every interconnect (see the module docs).
        /// Per-core ports are vectors indexed by core.
        pub struct NetPorts {
            $($(#[$doc])* pub $name: $ty,)*
        }

        impl NetPorts {
            /// The ports for `k` cores.
            pub fn new($k: usize) -> NetPorts {
                NetPorts { $($name: $init,)* }
            }
        }

        impl Block for NetPorts {
            fn connect_all(&mut self) {
                $(self.$name.connect_all();)*
            }
            fn update_all(&mut self) {
                $(self.$name.update_all();)*
            }
            fn has_changed(&self) -> bool {
                false $(|| self.$name.has_changed())*
            }
            // No scope and no namespace: the signals are the enclosing
            // block's own ports, under their own names.
            fn accept(&self, _name: &str, probe: &mut dyn Probe) {
                $(self.$name.accept(stringify!($name), probe);)*
            }
        }
    };
}

fn per_core<D: Direction, T: Synth>(k: usize) -> Vec<Signal<D, T>> {
    (0..k).map(|_| Default::default()).collect()
}

net_ports! {
    k;
    /// Clock.
    clock: Signal<In, Clock> = Default::default(),
    /// Core i's outgoing packet: valid.
    src_valid: Vec<Signal<In, bool>> = per_core(k),
    /// Core i's outgoing packet: destination core.
    src_core: Vec<Signal<In, Bits<CORE_BITS>>> = per_core(k),
    /// Core i's outgoing packet: axon key.
    src_key: Vec<Signal<In, Bits<KEY_BITS>>> = per_core(k),
    /// Core i's outgoing packet is taken (or dropped) this clock.
    src_ready: Vec<Signal<Out, bool>> = per_core(k),
    /// Delivery into core i: valid (only when `dst_ready[i]`).
    dst_valid: Vec<Signal<Out, bool>> = per_core(k),
    /// Delivery into core i: axon key.
    dst_key: Vec<Signal<Out, Bits<KEY_BITS>>> = per_core(k),
    /// Core i has room for a packet (its `in_ready`).
    dst_ready: Vec<Signal<In, bool>> = per_core(k),
    /// The host input router's packet: valid.
    host_valid: Signal<In, bool> = Default::default(),
    /// The host's packet: destination core.
    host_core: Signal<In, Bits<CORE_BITS>> = Default::default(),
    /// The host's packet: axon key.
    host_key: Signal<In, Bits<KEY_BITS>> = Default::default(),
    /// The host's packet is taken (or dropped) this clock.
    host_ready: Signal<Out, bool> = Default::default(),
    /// A packet for a core that does not exist is dropped this clock.
    missing: Signal<Out, bool> = Default::default(),
    /// No packet in flight inside the interconnect.
    empty: Signal<Out, bool> = Default::default(),
}

impl Logic for NetPorts {
    fn update(&mut self) {}
}

/// A topology: a block whose ports are exactly a [`NetPorts`] (its field
/// `io`, reached through `Deref`).
pub trait Topology: Block + DerefMut<Target = NetPorts> + Send {}

/// Any topology, as one field of the fabric (see the module docs).
pub struct Interconnect(Box<dyn Topology>);

impl Interconnect {
    /// The interconnect `spec` asks for. A one-core mesh is a crossbar of
    /// one port: there is no link to route over.
    pub fn new(spec: &HardwareSpec) -> Interconnect {
        let k = spec.cores() as usize;
        Interconnect(match spec.interconnect {
            Kind::Mesh if k > 1 => Box::new(MeshNet::new(spec.mesh_width, spec.mesh_height, k)),
            Kind::Crossbar | Kind::Mesh => Box::new(Crossbar::new(k)),
        })
    }
}

impl Deref for Interconnect {
    type Target = NetPorts;
    fn deref(&self) -> &NetPorts {
        &self.0
    }
}

impl DerefMut for Interconnect {
    fn deref_mut(&mut self) -> &mut NetPorts {
        &mut self.0
    }
}

impl Logic for Interconnect {
    // `update_all` below runs the topology's own update.
    fn update(&mut self) {}
}

// Transparent: everything goes to the topology, which opens its own scope.
impl Block for Interconnect {
    fn connect_all(&mut self) {
        self.0.connect_all();
    }
    fn update_all(&mut self) {
        self.0.update_all();
    }
    fn has_changed(&self) -> bool {
        self.0.has_changed()
    }
    fn accept(&self, name: &str, probe: &mut dyn Probe) {
        self.0.accept(name, probe);
    }
}
