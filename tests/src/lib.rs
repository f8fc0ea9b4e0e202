//! Shared test support for spikeforge: proptest generators of small random
//! networks and stimuli, of co-simulation cases (network x spec x mapping x
//! backpressure), and a naive reference model.
//!
//! Every stage's property tests (golden, mapper, simulator) draw networks
//! from [`net_case`], so a bug found by one is reproducible by all. Cases are
//! small on purpose: proptest shrinks them to a minimal failing network, and
//! [`NetCase`]'s `Debug` prints that network as a TOML file and the stimulus
//! as CSV, ready to save and replay with `spikeforge golden`.
//!
//! The simulator's property test and `spikeforge regress` draw their cases
//! from the same [`sim_case`] over the same [`property_specs`] pool, so a
//! regression campaign runs exactly the kind of case `cargo test` runs,
//! only more of them. This is why the crate is a normal library (with
//! proptest a normal dependency), not only a dev-dependency.

pub mod families;

use proptest::prelude::*;
use spikeforge_mapper::{Algorithm, HardwareSpec, Interconnect, MapOptions};
use spikeforge_net::doc::{FixedPointDoc, PopulationDoc, PopulationKind, ProjectionDoc, ProjectionKind};
use spikeforge_net::{Leak, Network, NetworkDoc, PerNeuron, Reset, SpikeTrain};
use std::fmt;

/// A random network with a stimulus and a step count.
#[derive(Clone)]
pub struct NetCase {
    /// The network document (valid by construction).
    pub doc: NetworkDoc,
    /// `(step, global input neuron id)`, sorted, unique.
    pub stimulus: SpikeTrain,
    /// Steps to run (covers the stimulus).
    pub steps: u32,
}

impl NetCase {
    /// The validated network; panics with the validation report if the
    /// generator produced an invalid one (a bug of the generator).
    pub fn network(&self) -> Network {
        Network::from_doc(&self.doc).unwrap_or_else(|e| panic!("generator made an invalid network: {e}\n{self:?}"))
    }
}

impl NetCase {
    /// The network as a TOML network file.
    pub fn net_toml(&self) -> String {
        // A `NetworkDoc` holds only strings, integers, arrays and tables:
        // serializing it cannot fail.
        toml::to_string(&self.doc).expect("a network document serializes to TOML")
    }

    /// The stimulus as a CSV stimulus file of `net` (this case's network).
    pub fn stimulus_csv(&self, net: &Network) -> String {
        spikeforge_net::spikes::spikes_to_csv(net, &self.stimulus)
    }
}

impl fmt::Debug for NetCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "--- net.toml ---")?;
        writeln!(f, "{}", toml::to_string(&self.doc).map_err(|_| fmt::Error)?)?;
        writeln!(f, "--- stimulus.csv ({} steps) ---", self.steps)?;
        match Network::from_doc(&self.doc) {
            Ok(n) => write!(f, "{}", spikeforge_net::spikes::spikes_to_csv(&n, &self.stimulus)),
            Err(_) => write!(f, "{:?}", self.stimulus.pairs().collect::<Vec<_>>()),
        }
    }
}

/// Raw choices for one neuron parameter: scalar or per-neuron.
fn param(size: usize, lo: i64, hi: i64) -> impl Strategy<Value = PerNeuron<i64>> {
    prop_oneof![
        (lo..=hi).prop_map(PerNeuron::Scalar),
        proptest::collection::vec(lo..=hi, size).prop_map(PerNeuron::Array),
    ]
}

/// Random parameters of a neuron population; `syn_bits`: the accumulator
/// width when the population may be current-based (a third of them are).
/// Without `syn_bits` the draws are the same as before current-based
/// neurons existed, so seeds of campaigns on other specs keep their cases.
fn pop_params(size: usize, p_bits: u32, syn_bits: Option<u32>) -> BoxedStrategy<PopulationDoc> {
    let pmax = (1i64 << (p_bits - 1)) - 1;
    let pmin = -(1i64 << (p_bits - 1));
    // Small thresholds make spikes frequent; large ones exercise saturation.
    let th_hi = pmax.min(48);
    let small = 12.min(pmax);
    let base = (
        param(size, 1, th_hi),
        proptest::option::of(param(size, -small, small)),
        proptest::option::of(prop_oneof![
            Just(PerNeuron::Scalar(Leak::None)),
            (0..p_bits as i64).prop_map(|s| PerNeuron::Scalar(Leak::Shift(s))),
            proptest::collection::vec(prop_oneof![Just(Leak::None), (0..p_bits as i64).prop_map(Leak::Shift)], size)
                .prop_map(PerNeuron::Array),
        ]),
        proptest::option::of(prop_oneof![
            Just(PerNeuron::Scalar(Reset::Subtract)),
            Just(PerNeuron::Scalar(Reset::Zero)),
            proptest::collection::vec(prop_oneof![Just(Reset::Subtract), Just(Reset::Zero)], size)
                .prop_map(PerNeuron::Array),
        ]),
        proptest::option::of(param(size, pmin, 0)),
        proptest::option::of(param(size, pmin / 2, pmax / 2)),
        any::<bool>(),
    )
        .prop_map(move |(threshold, bias, leak_shift, reset, v_min, v_init, output)| PopulationDoc {
            name: String::new(),
            size: size as i64,
            kind: PopulationKind::Neuron,
            output,
            threshold: Some(threshold),
            bias,
            leak_shift,
            reset,
            v_min,
            v_init,
            syn_shift: None,
        });
    match syn_bits {
        // Current-based in a third of the populations that may be.
        Some(a) => (base, 0u8..3, param(size, 0, a as i64 - 1))
            .prop_map(|(mut d, c, k)| {
                if c == 0 {
                    d.syn_shift = Some(k);
                }
                d
            })
            .boxed(),
        None => base.boxed(),
    }
}

/// Raw projection choices, mapped onto valid indices once sizes are known.
#[derive(Debug, Clone)]
struct RawProj {
    pre: usize,
    post: usize,
    kind: u8,
    entries: Vec<(usize, usize, i64)>,
}

/// Raw indices are reduced modulo a count of at most 5 populations or 5
/// neurons; 60 is a multiple of every such count, so `0..60` is exactly
/// uniform after the reduction and shrinks in a few steps (a full `usize`
/// takes 64 binary-search steps per index).
const RAW: std::ops::Range<usize> = 0..60;

fn raw_proj(w_lo: i64, w_hi: i64) -> impl Strategy<Value = RawProj> {
    (RAW, RAW, 0u8..3, proptest::collection::vec((RAW, RAW, w_lo..=w_hi), 0..12))
        .prop_map(|(pre, post, kind, entries)| RawProj { pre, post, kind, entries })
}

/// Random small networks (1-2 input and 1-3 neuron populations of 1-5
/// neurons, up to 6 projections of every kind, random W and P) with a random
/// stimulus over up to 24 steps.
///
/// Accumulators are 24 bits, so P + A stays within what a core with
/// `current_state` carries (40 bits) and current-based populations can be
/// mapped onto a spec of the network's own widths.
pub fn net_case() -> impl Strategy<Value = NetCase> {
    net_case_with(2u32..=8, 4u32..=16, 24, true)
}

/// [`net_case`] with fixed-point widths drawn from the given ranges (a
/// hardware spec fixes P, and W up to its weight bits); `current`: some
/// populations may be current-based (`syn_shift`).
pub fn net_case_with(
    w_bits: std::ops::RangeInclusive<u32>,
    p_bits: std::ops::RangeInclusive<u32>,
    accumulator_bits: u32,
    current: bool,
) -> impl Strategy<Value = NetCase> {
    // Fan-in sums stay below 6 projections x 12 entries x 128 < 2^15.
    assert!(accumulator_bits >= 16, "the generator's fan-in needs 16 accumulator bits");
    (
        w_bits,
        p_bits,
        proptest::collection::vec(1usize..=4, 1..=2),
        proptest::collection::vec(1usize..=5, 1..=3),
        1u32..=24,
    )
        .prop_flat_map(move |(w_bits, p_bits, ins, neus, steps)| {
            let w_lo = -(1i64 << (w_bits - 1));
            let w_hi = (1i64 << (w_bits - 1)) - 1;
            let syn = current.then_some(accumulator_bits);
            let params: Vec<_> = neus.iter().map(|&s| pop_params(s, p_bits, syn)).collect();
            let n_in: usize = ins.iter().sum();
            (
                Just((w_bits, p_bits, ins, neus, steps)),
                params,
                proptest::collection::vec(raw_proj(w_lo, w_hi), 0..=6),
                proptest::collection::vec((0..steps, 0..n_in), 0..=(steps as usize * n_in).min(40)),
            )
        })
        .prop_map(move |((w_bits, p_bits, ins, neus, steps), params, raws, stim)| {
            let mut pops: Vec<PopulationDoc> = Vec::new();
            for (i, &s) in ins.iter().enumerate() {
                pops.push(PopulationDoc::input(&format!("in{i}"), s as i64));
            }
            for (i, mut p) in params.into_iter().enumerate() {
                p.name = format!("p{i}");
                pops.push(p);
            }
            let n_pops = pops.len();
            let projections = raws
                .into_iter()
                .map(|r| {
                    let pre = r.pre % n_pops;
                    let post = ins.len() + r.post % neus.len();
                    let (ps, qs) = (pops[pre].size as usize, pops[post].size as usize);
                    let mut d = ProjectionDoc {
                        pre: pops[pre].name.clone(),
                        post: pops[post].name.clone(),
                        kind: ProjectionKind::Sparse,
                        weights: None,
                        synapses: None,
                        weight: None,
                    };
                    match r.kind {
                        0 => {
                            let mut m = vec![vec![0i64; qs]; ps];
                            for (a, b, w) in r.entries {
                                m[a % ps][b % qs] = w;
                            }
                            d.kind = ProjectionKind::Dense;
                            d.weights = Some(m);
                        }
                        2 if ps == qs => {
                            let mut w = vec![0i64; qs];
                            for (k, (a, _, x)) in r.entries.iter().enumerate() {
                                w[(a + k) % qs] = *x;
                            }
                            d.kind = ProjectionKind::OneToOne;
                            d.weight = Some(PerNeuron::Array(w));
                        }
                        _ => {
                            d.synapses = Some(
                                r.entries.into_iter().map(|(a, b, w)| [(a % ps) as i64, (b % qs) as i64, w]).collect(),
                            );
                        }
                    }
                    d
                })
                .collect();
            let mut stim: Vec<(u32, u32)> = stim.into_iter().map(|(s, n)| (s, n as u32)).collect();
            stim.sort_unstable();
            stim.dedup();
            NetCase {
                doc: NetworkDoc {
                    format: 1,
                    name: Some("random".into()),
                    fixed_point: FixedPointDoc { weight_bits: w_bits, potential_bits: p_bits, accumulator_bits },
                    populations: pops,
                    projections,
                },
                stimulus: SpikeTrain::from_pairs(stim),
                steps,
            }
        })
}

/// The spec pool of the co-simulation property test and the default pool
/// of `spikeforge regress`: a bus, a mesh and a narrow crossbar with small
/// widths (one Verilator build each, reused by every case).
pub fn property_specs() -> Vec<HardwareSpec> {
    let base = HardwareSpec {
        name: String::new(),
        mesh_width: 2,
        mesh_height: 2,
        neurons_per_core: 4,
        axons_per_core: 32,
        synapses_per_core: 256,
        routes_per_core: 64,
        param_sets_per_core: 16,
        input_neurons: 16,
        input_routes: 64,
        weight_bits: 8,
        potential_bits: 16,
        accumulator_bits: 32,
        interconnect: Interconnect::Crossbar,
        single_port_synapses: false,
        current_state: false,
    };
    vec![
        HardwareSpec { name: "prop-bus".into(), ..base.clone() },
        HardwareSpec {
            name: "prop-mesh".into(),
            mesh_width: 3,
            mesh_height: 2,
            neurons_per_core: 3,
            weight_bits: 6,
            potential_bits: 12,
            accumulator_bits: 24,
            interconnect: Interconnect::Mesh,
            // The UP5K's SPRAM shape, so every property run covers it.
            single_port_synapses: true,
            // Synaptic currents (P + A = 36 bits of state per slot).
            current_state: true,
            ..base.clone()
        },
        HardwareSpec {
            name: "prop-narrow".into(),
            mesh_width: 2,
            mesh_height: 1,
            neurons_per_core: 8,
            weight_bits: 4,
            potential_bits: 8,
            accumulator_bits: 16,
            current_state: true,
            ..base
        },
    ]
}

/// The fixed-point widths random networks for `spec` are drawn with:
/// weight bits (a range up to the spec's), potential bits (the spec's) and
/// accumulator bits (the spec's). Errs, saying why, for a spec the
/// generator cannot serve.
pub fn case_widths(spec: &HardwareSpec) -> Result<(std::ops::RangeInclusive<u32>, u32, u32), String> {
    let a = spec.accumulator_bits;
    if a < 16 {
        return Err(format!(
            "spec `{}` has accumulator_bits = {a}; random cases need at least 16 (their fan-in sums reach 2^14)",
            spec.name
        ));
    }
    // Up to 72 incoming weights per neuron (6 projections x 12 entries) must
    // sum within the accumulator: 72 * 2^(W-1) < 2^(A-1) when W <= A - 7.
    let w = spec.weight_bits.min(a - 7);
    Ok((w.min(2)..=w, spec.potential_bits, a))
}

/// How a co-simulation case maps its network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapChoice {
    /// The greedy partitioner.
    Greedy,
    /// The multilevel partitioner.
    Multilevel,
    /// A random (valid but arbitrary) packing and placement from a seed.
    Seeded(u64),
}

impl MapChoice {
    /// The mapper's options for this choice.
    pub fn options(self) -> MapOptions {
        match self {
            MapChoice::Greedy => MapOptions::new(Algorithm::Greedy),
            MapChoice::Multilevel => MapOptions::new(Algorithm::Multilevel),
            MapChoice::Seeded(s) => MapOptions { seed: Some(s), ..MapOptions::new(Algorithm::Greedy) },
        }
    }
}

/// Random spike-out backpressure: the host takes a word only in
/// `percent_ready` percent of the clocks, drawn from `seed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stall {
    /// Seed of the ready pattern.
    pub seed: u64,
    /// Chance of ready, 1..=100.
    pub percent_ready: u32,
}

/// One co-simulation case: a network with its stimulus, the spec it runs
/// on (an index into the pool it was drawn from), how it is mapped and the
/// host's backpressure.
#[derive(Clone)]
pub struct SimCase {
    /// Index of the spec in the pool.
    pub spec: usize,
    /// Network, stimulus, steps.
    pub net: NetCase,
    /// Partitioner and seed.
    pub mapping: MapChoice,
    /// Spike-out backpressure, if any.
    pub stall: Option<Stall>,
}

impl fmt::Debug for SimCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "spec #{}, mapping {:?}, backpressure {:?}", self.spec, self.mapping, self.stall)?;
        write!(f, "{:?}", self.net)
    }
}

/// Random co-simulation cases over a spec pool: the spec first (its widths
/// bound the network's), then a network from [`net_case_with`], the
/// partitioner (greedy, multilevel, or seeded random), and for a third of
/// the cases each 30% or 60% spike-out readiness. Errs if a spec of the
/// pool cannot be served (see [`case_widths`]) or the pool is empty.
pub fn sim_case(specs: &[HardwareSpec]) -> Result<impl Strategy<Value = SimCase>, String> {
    if specs.is_empty() {
        return Err("the spec pool is empty".into());
    }
    let widths = specs.iter().map(case_widths).collect::<Result<Vec<_>, _>>()?;
    let current: Vec<bool> = specs.iter().map(|s| s.current_state).collect();
    let net = (0..specs.len()).prop_flat_map(move |i| {
        let (w, p, a) = widths[i].clone();
        (Just(i), net_case_with(w, p..=p, a, current[i]))
    });
    // Seeds do not shrink: a smaller seed is not a simpler case.
    Ok((net, 0u8..3, any::<u64>().no_shrink(), 0u32..3).prop_map(|((spec, net), algo, seed, stall)| SimCase {
        spec,
        net,
        mapping: match algo {
            0 => MapChoice::Greedy,
            1 => MapChoice::Multilevel,
            _ => MapChoice::Seeded(seed),
        },
        stall: (stall > 0).then_some(Stall { seed, percent_ready: 30 * stall }),
    }))
}

/// A 3-input, 7-neuron recurrent ring with every neuron rule in use.
/// Shared by the hdl and sim tests.
pub const RING: &str = r#"
format = 1
[[populations]]
name = "in"
size = 3
kind = "input"
[[populations]]
name = "ring"
size = 7
threshold = [20, 15, 30, 12, 25, 9, 14]
bias = [2, 0, 1, -1, 0, 1, 0]
leak_shift = [3, "none", 2, 1, "none", 2, 4]
reset = ["zero", "subtract", "subtract", "zero", "subtract", "zero", "subtract"]
[[projections]]
pre = "in"
post = "ring"
kind = "dense"
weights = [[22, 0, 9, 0, 3, 0, 4], [0, -30, 16, 5, 0, 8, 0], [7, 7, 7, 7, -128, 7, 7]]
[[projections]]
pre = "ring"
post = "ring"
kind = "sparse"
synapses = [[0, 1, 21], [1, 2, 21], [2, 3, 21], [3, 4, 21], [4, 5, 21], [5, 6, 21], [6, 0, 21], [0, 0, -4], [2, 2, 5], [2, 2, 6], [3, 1, -7], [6, 3, 9]]
"#;

pub const RING_STIM: &str =
    "step,population,index\n0,in,0\n0,in,2\n1,in,1\n2,in,0\n2,in,2\n4,in,2\n5,in,0\n5,in,1\n5,in,2\n9,in,0\n12,in,2\n";

/// Result of a naive run: spikes `(step, id)` and final potentials.
pub type NaiveResult = (SpikeTrain, Vec<i64>);

/// A second, deliberately naive implementation of the semantics (a flat synapse
/// list scanned every step, i64 everywhere, parameters looked up per use),
/// independent of the golden crate's data structures.
pub fn naive_run(net: &Network, stimulus: &SpikeTrain, steps: u32) -> NaiveResult {
    let n = net.neuron_count() as usize;
    let mut syn = Vec::new();
    net.for_each_synapse(|a, b, w| syn.push((a as usize, b as usize, w as i64)));
    let (pmin, pmax) = net.fixed_point().potential_range();
    let (amin, amax) = net.fixed_point().accumulator_range();
    let mut v = vec![0i64; n];
    let mut cur = vec![0i64; n];
    for p in net.populations() {
        if let Some(np) = p.params() {
            for (i, id) in p.ids().enumerate() {
                v[id as usize] = np.v_init.get(i) as i64;
            }
        }
    }
    let mut prev = vec![false; n];
    let mut out = Vec::new();
    for t in 0..steps {
        let mut a = vec![0i64; n];
        for &(pre, post, w) in &syn {
            if prev[pre] {
                a[post] += w;
            }
        }
        let mut now = vec![false; n];
        for p in net.populations() {
            let Some(np) = p.params() else { continue };
            for (i, id) in p.ids().enumerate() {
                let id = id as usize;
                let leak = match np.leak.get(i) {
                    None => 0,
                    Some(s) => v[id].div_euclid(1i64 << s),
                };
                let input = match np.syn(i) {
                    None => a[id],
                    Some(k) => {
                        cur[id] = (cur[id] - cur[id].div_euclid(1i64 << k) + a[id]).clamp(amin, amax);
                        cur[id]
                    }
                };
                let mut x = (v[id] - leak + input + np.bias.get(i) as i64).clamp(pmin, pmax);
                let th = np.threshold.get(i) as i64;
                if x >= th {
                    now[id] = true;
                    out.push((t, id as u32));
                    x = match np.reset.get(i) {
                        Reset::Subtract => x - th,
                        Reset::Zero => 0,
                    };
                }
                v[id] = x.max(np.v_min.get(i) as i64);
            }
        }
        for id in stimulus.at(t) {
            now[id as usize] = true;
        }
        prev = now;
    }
    (SpikeTrain::from_pairs(out), v)
}

/// Configuration writes that make the neuron at (`core`, `slot`) unable to
/// fire: a new parameter set, its own set copied with the threshold at the
/// largest potential, in the last entry of the core's table, and the
/// neuron's word pointed at it (its bias kept). A fault for the
/// co-simulation tests to catch.
///
/// # Panics
/// If the core's parameter-set table has no free entry.
pub fn unable_to_fire(m: &spikeforge_mapper::Mapping, core: u32, slot: u32) -> Vec<spikeforge_hw::config::ConfigWrite> {
    use spikeforge_hw::config::ConfigWrite;
    use spikeforge_hw::memory::{Layout, Memory, NeuronEntry};
    let img = &m.images.cores[core as usize];
    let free = m.spec.param_sets_per_core - 1;
    assert!((img.param_sets.len() as u32) <= free, "a free parameter-set entry on core {core}");
    let l = Layout::new(&m.spec);
    let own = img.neuron_params[slot as usize];
    let mut set = img.param_sets[own.set as usize];
    set.threshold = (1 << (m.spec.potential_bits - 1)) - 1;
    vec![
        ConfigWrite::word(core, Memory::ParamSets, free, l.pack_param(set)),
        ConfigWrite::word(core, Memory::Neurons, slot, l.pack_neuron(NeuronEntry { bias: own.bias, set: free })),
    ]
}
