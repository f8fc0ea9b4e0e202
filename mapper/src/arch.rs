//! The architectural model: executes packed memory images the way the
//! hardware will, and must produce exactly the golden model's spikes.
//!
//! Per core and step: every axon key received in the previous step looks up
//! its row in the axon table and adds the row's synapse weights into the
//! target slots' accumulators (a sparse word: one (target, weight); a dense
//! word: the weights of consecutive slots from the row's start slot); then
//! the sweep updates slots `0..neuron_count` from each neuron's word (bias,
//! parameter set) and its parameter set, and every spike is sent to
//! each (core, axon key) of its routing entries, to be integrated in the
//! next step. External input spikes go through the host's input routing
//! table. Only packed words are read, so the bit layout is exercised too.

use spikeforge_hw::config::ConfigWrite;
use spikeforge_hw::memory::{ConfigTarget, Layout, Memory, PackedCore, ParamEntry, DENSE_LANES};
use spikeforge_hw::{HardwareModel, HardwareSpec, NetworkImage, Place, StepReport};

/// Packets sent in one step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StepTraffic {
    /// Core-to-core packets whose destination is another core.
    pub inter_core: u64,
    /// Core-to-core packets to the sending core itself.
    pub local: u64,
    /// Packets from the host (input spikes).
    pub from_host: u64,
    /// Hops summed over all inter-core and host packets.
    pub hops: u64,
    /// Synaptic events (one per sparse word, one per lane of a dense word).
    pub events: u64,
    /// Synapse memory words read.
    pub words: u64,
}

/// Errors the model detects in images (the hardware would raise a sticky flag).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArchError {
    /// An address points past the end of a memory.
    #[error("core {core}: {what} address {addr} is outside the memory (depth {depth})")]
    Address {
        /// Core id (or u32::MAX for the host).
        core: u32,
        /// Which memory.
        what: &'static str,
        /// Address.
        addr: u64,
        /// Depth.
        depth: u64,
    },
    /// An external spike names an input index the host does not have.
    #[error("input index {0} is outside the host's input table")]
    Input(u32),
}

/// Images from [`crate::map`] never raise these; images from elsewhere can.
impl miette::Diagnostic for ArchError {
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(match self {
            ArchError::Address { .. } => "the images do not fit their spec: map the network again for this spec",
            ArchError::Input(_) => "give input spikes only for the input neurons of the mapped network",
        }))
    }
}

struct Core {
    neuron_count: u32,
    axons: Vec<u128>,
    synapses: Vec<u128>,
    param_sets: Vec<u128>,
    neurons: Vec<u128>,
    v_init: Vec<u128>,
    route_index: Vec<u128>,
    routes: Vec<u128>,
    v: Vec<i64>,
    /// Synaptic currents (the potential words' upper field).
    cur: Vec<i64>,
    acc: Vec<i64>,
    inbox: Vec<u32>,
}

/// The model of all cores and the host interface.
pub struct ArchModel {
    spec: HardwareSpec,
    layout: Layout,
    cores: Vec<Core>,
    host_index: Vec<u128>,
    host_routes: Vec<u128>,
    p_min: i64,
    p_max: i64,
    a_min: i64,
    a_max: i64,
}

impl ArchModel {
    /// Loads a network image (one packed core per core of the spec and the
    /// host tables).
    pub fn new(image: &NetworkImage) -> ArchModel {
        let spec = &image.spec;
        let layout = Layout::new(spec);
        let mems = |c: &PackedCore, m: Memory| c.words(m).to_vec();
        let mut m = ArchModel {
            spec: spec.clone(),
            layout,
            cores: image
                .cores
                .iter()
                .map(|c| Core {
                    neuron_count: c.neuron_count,
                    axons: mems(c, Memory::Axons),
                    synapses: mems(c, Memory::Synapses),
                    param_sets: mems(c, Memory::ParamSets),
                    neurons: mems(c, Memory::Neurons),
                    v_init: mems(c, Memory::Potentials),
                    route_index: mems(c, Memory::RouteIndex),
                    routes: mems(c, Memory::Routes),
                    v: vec![0; spec.neurons_per_core as usize],
                    cur: vec![0; spec.neurons_per_core as usize],
                    acc: vec![0; spec.neurons_per_core as usize],
                    inbox: Vec::new(),
                })
                .collect(),
            host_index: image.host.words(Memory::InputRouteIndex).to_vec(),
            host_routes: image.host.words(Memory::InputRoutes).to_vec(),
            p_min: -(1i64 << (spec.potential_bits - 1)),
            p_max: (1i64 << (spec.potential_bits - 1)) - 1,
            a_min: -(1i64 << (spec.accumulator_bits - 1)),
            a_max: (1i64 << (spec.accumulator_bits - 1)) - 1,
        };
        m.reset();
        m
    }

    /// Back to the initial state: v from the v_init memory, no packets in flight.
    pub fn reset(&mut self) {
        let l = self.layout;
        for c in &mut self.cores {
            for ((v, i), &w) in c.v.iter_mut().zip(c.cur.iter_mut()).zip(&c.v_init) {
                *v = l.unpack_potential(w) as i64;
                *i = l.unpack_current(w);
            }
            c.acc.fill(0);
            c.inbox.clear();
        }
    }

    fn word(mem: &[u128], core: u32, what: &'static str, addr: u64) -> Result<u128, ArchError> {
        mem.get(addr as usize).copied().ok_or(ArchError::Address { core, what, addr, depth: mem.len() as u64 })
    }

    /// One step. `inputs` are input indices (the host's numbering) spiking
    /// now. Returns the (core, slot) of every spike, in core then slot order.
    pub fn step(&mut self, inputs: &[u32], spikes: &mut Vec<(u32, u32)>) -> Result<StepTraffic, ArchError> {
        let l = self.layout;
        let mut tr = StepTraffic::default();
        spikes.clear();
        // 1. Integrate the packets of the previous step.
        for (ci, c) in self.cores.iter_mut().enumerate() {
            let ci = ci as u32;
            let depth = c.acc.len() as u64;
            let slot_error = |addr: u64| ArchError::Address { core: ci, what: "neuron slot", addr, depth };
            for &key in &c.inbox {
                let ax = l.unpack_axon(Self::word(&c.axons, ci, "axon table", key as u64)?);
                for (j, i) in (ax.row_base as u64..ax.row_base as u64 + ax.row_len as u64).enumerate() {
                    let word = Self::word(&c.synapses, ci, "synapse", i)?;
                    tr.words += 1;
                    match ax.dense_start {
                        None => {
                            let syn = l.unpack_synapse(word);
                            let a = c.acc.get_mut(syn.target as usize).ok_or(slot_error(syn.target as u64))?;
                            *a += syn.weight as i64;
                            tr.events += 1;
                        }
                        Some(start) => {
                            let first = start as u64 + j as u64 * DENSE_LANES as u64;
                            for (k, w) in l.unpack_dense(word).into_iter().enumerate() {
                                let t = first + k as u64;
                                *c.acc.get_mut(t as usize).ok_or(slot_error(t))? += w as i64;
                                tr.events += 1;
                            }
                        }
                    }
                }
            }
            c.inbox.clear();
        }
        // 2. Sweep.
        let ncores = self.cores.len();
        let mut out: Vec<Vec<u32>> = vec![Vec::new(); ncores];
        for ci in 0..ncores {
            let c = &mut self.cores[ci];
            for slot in 0..c.neuron_count as usize {
                let n = l.unpack_neuron(Self::word(&c.neurons, ci as u32, "neurons", slot as u64)?);
                let set = l.unpack_param(Self::word(&c.param_sets, ci as u32, "parameter sets", n.set as u64)?);
                let p = ParamEntry::join(set, n.bias);
                let v0 = c.v[slot];
                let leak = p.leak.map_or(0, |s| v0 >> s);
                // A current-based neuron integrates its current; the word
                // of any other neuron keeps 0 there.
                let input = match p.syn {
                    Some(k) => {
                        let i0 = c.cur[slot];
                        (i0 - (i0 >> k) + c.acc[slot]).clamp(self.a_min, self.a_max)
                    }
                    None => c.acc[slot],
                };
                c.cur[slot] = if p.syn.is_some() { input } else { 0 };
                let mut v1 = (v0 - leak + input + p.bias as i64).clamp(self.p_min, self.p_max);
                c.acc[slot] = 0;
                if v1 >= p.threshold as i64 {
                    spikes.push((ci as u32, slot as u32));
                    v1 = if p.reset_zero { 0 } else { v1 - p.threshold as i64 };
                    let (base, len) = l.unpack_index(
                        l.route_index,
                        Self::word(&c.route_index, ci as u32, "route index", slot as u64)?,
                    );
                    for r in base as u64..base as u64 + len as u64 {
                        let e = l.unpack_route(Self::word(&c.routes, ci as u32, "routes", r)?);
                        if e.core as usize >= ncores {
                            return Err(ArchError::Address {
                                core: ci as u32,
                                what: "destination core",
                                addr: e.core as u64,
                                depth: ncores as u64,
                            });
                        }
                        out[e.core as usize].push(e.axon);
                        if e.core as usize == ci {
                            tr.local += 1;
                        } else {
                            tr.inter_core += 1;
                            tr.hops += self.spec.hops(ci as u32, e.core) as u64;
                        }
                    }
                }
                c.v[slot] = v1.max(p.v_min as i64);
            }
        }
        // 3. External spikes of this step, through the host's routing table.
        for &i in inputs {
            let w = self.host_index.get(i as usize).copied().ok_or(ArchError::Input(i))?;
            let (base, len) = l.unpack_index(l.input_route_index, w);
            for r in base as u64..base as u64 + len as u64 {
                let e = l.unpack_route(Self::word(&self.host_routes, u32::MAX, "input routes", r)?);
                out.get_mut(e.core as usize)
                    .ok_or(ArchError::Address {
                        core: u32::MAX,
                        what: "destination core",
                        addr: e.core as u64,
                        depth: ncores as u64,
                    })?
                    .push(e.axon);
                tr.from_host += 1;
                tr.hops += self.spec.host_hops(e.core) as u64;
            }
        }
        for (c, o) in self.cores.iter_mut().zip(out) {
            c.inbox = o;
        }
        Ok(tr)
    }

    /// Potential of a slot.
    pub fn potential(&self, core: u32, slot: u32) -> i64 {
        self.cores[core as usize].v[slot as usize]
    }
}

/// The architectural model behind the common interface: no clocks, no
/// error flags (an image fault is an [`ArchError`]).
impl HardwareModel for ArchModel {
    type Error = ArchError;

    fn describe(&self) -> String {
        "the architectural model".into()
    }

    fn load(&mut self, image: &NetworkImage) -> Result<(), ArchError> {
        *self = ArchModel::new(image);
        Ok(())
    }

    fn configure(&mut self, writes: &[ConfigWrite]) -> Result<(), ArchError> {
        for w in writes {
            let core = w.core;
            let bad = |what, depth: usize| ArchError::Address { core, what, addr: w.addr as u64, depth: depth as u64 };
            let (mem, what): (&mut Vec<u128>, &'static str) = match w.target {
                ConfigTarget::NeuronCount => {
                    let c = self.cores.get_mut(core as usize).ok_or(bad("core", 0))?;
                    c.neuron_count = w.data as u32;
                    continue;
                }
                ConfigTarget::Memory(Memory::InputRouteIndex) => (&mut self.host_index, "input route index"),
                ConfigTarget::Memory(Memory::InputRoutes) => (&mut self.host_routes, "input routes"),
                ConfigTarget::Memory(m) => {
                    let c = self.cores.get_mut(core as usize).ok_or(bad("core", 0))?;
                    if m == Memory::Potentials {
                        // The potential memory holds the state: a write sets it now.
                        let depth = c.v.len();
                        let v = c.v.get_mut(w.addr as usize).ok_or(bad("potential", depth))?;
                        *v = self.layout.unpack_potential(w.data) as i64;
                        c.cur[w.addr as usize] = self.layout.unpack_current(w.data);
                        continue;
                    }
                    match m {
                        Memory::Axons => (&mut c.axons, "axon table"),
                        Memory::Synapses => (&mut c.synapses, "synapse"),
                        Memory::ParamSets => (&mut c.param_sets, "parameter sets"),
                        Memory::Neurons => (&mut c.neurons, "neurons"),
                        Memory::RouteIndex => (&mut c.route_index, "route index"),
                        _ => (&mut c.routes, "routes"),
                    }
                }
            };
            let depth = mem.len();
            *mem.get_mut(w.addr as usize).ok_or(bad(what, depth))? = w.data;
        }
        Ok(())
    }

    fn reset(&mut self) -> Result<(), ArchError> {
        ArchModel::reset(self);
        Ok(())
    }

    fn step(&mut self, inputs: &[u32]) -> Result<StepReport, ArchError> {
        let mut spikes = Vec::new();
        ArchModel::step(self, inputs, &mut spikes)?;
        Ok(StepReport { spikes: spikes.into_iter().map(|(core, slot)| Place { core, slot }).collect(), cycles: None })
    }

    fn potentials(&mut self, places: &[Place]) -> Result<Vec<i32>, ArchError> {
        places
            .iter()
            .map(|p| {
                self.cores
                    .get(p.core as usize)
                    .and_then(|c| c.v.get(p.slot as usize))
                    .map(|&v| v as i32)
                    .ok_or(ArchError::Address { core: p.core, what: "neuron slot", addr: p.slot as u64, depth: 0 })
            })
            .collect()
    }
}
