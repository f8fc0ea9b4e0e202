//! What to change when a network does not fit: spec changes that are
//! checked by mapping onto them before they are printed.
//!
//! From the error, candidate specs are derived (more cores on the mesh,
//! larger cores, a larger table), each inside the spec's limits
//! ([`HardwareSpec::problems`]). Each is mapped with the greedy algorithm;
//! the first that maps is the advice. The multilevel mapper fits whenever
//! the greedy one does (it keeps the greedy packings among its candidates),
//! so the advice holds for both. When a candidate fails for another reason
//! (more cores, then too few routing entries), that error's fix is added to
//! it and tried again, a few rounds deep.

use crate::{map, Algorithm, HardwareSpec, MapError, MapOptions};
use spikeforge_net::Network;

/// A spec the network maps onto, and how it differs from the one tried.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Advice {
    /// The changed spec (checked: the network maps onto it).
    pub spec: HardwareSpec,
    /// The changed fields and their new values, in spec-file order.
    pub changes: Vec<Change>,
}

/// One changed field of a spec.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Change {
    /// Spec-file field name.
    pub field: &'static str,
    /// Its new value (`current_state`: 1 for true, 0 for false).
    pub value: u32,
}

/// Spec fields that are switches, printed as `true`/`false`.
const SWITCHES: &[&str] = &["current_state"];

impl Advice {
    /// "set a = 1 and b = 2", with the core count after the last mesh field.
    pub fn sentence(&self) -> String {
        let last_mesh = self.changes.iter().rposition(|c| c.field.starts_with("mesh_"));
        let mut s = String::from("set ");
        for (i, c) in self.changes.iter().enumerate() {
            if i > 0 {
                s.push_str(if i + 1 == self.changes.len() { " and " } else { ", " });
            }
            if SWITCHES.contains(&c.field) {
                s.push_str(&format!("{} = {}", c.field, c.value != 0));
            } else {
                s.push_str(&format!("{} = {}", c.field, c.value));
            }
            if Some(i) == last_mesh {
                s.push_str(&format!(" ({} cores)", self.spec.cores()));
            }
        }
        s
    }
}

/// The numeric fields of a spec, in spec-file order, for the change list.
fn fields(s: &HardwareSpec) -> [(&'static str, u32); 13] {
    [
        ("mesh_width", s.mesh_width),
        ("mesh_height", s.mesh_height),
        ("neurons_per_core", s.neurons_per_core),
        ("axons_per_core", s.axons_per_core),
        ("synapses_per_core", s.synapses_per_core),
        ("routes_per_core", s.routes_per_core),
        ("param_sets_per_core", s.param_sets_per_core),
        ("input_neurons", s.input_neurons),
        ("input_routes", s.input_routes),
        ("weight_bits", s.weight_bits),
        ("potential_bits", s.potential_bits),
        ("accumulator_bits", s.accumulator_bits),
        ("current_state", s.current_state as u32),
    ]
}

fn changes(from: &HardwareSpec, to: &HardwareSpec) -> Vec<Change> {
    fields(from)
        .iter()
        .zip(fields(to))
        .filter(|(a, b)| a.1 != b.1)
        .map(|(_, (field, value))| Change { field, value })
        .collect()
}

/// The smallest meshes at least `w`x`h` with at least `needed` cores, each
/// side at most 64, smallest first (at most three).
fn meshes(needed: u32, w: u32, h: u32) -> Vec<(u32, u32)> {
    let (w, h) = (w.max(1), h.max(1));
    let mut all: Vec<(u32, u32)> = (w..=64)
        .filter_map(|nw| {
            let nh = h.max(needed.div_ceil(nw));
            (nh <= 64).then_some((nw, nh))
        })
        .collect();
    all.sort_by_key(|&(a, b)| (a * b, a.abs_diff(b), a));
    all.dedup_by_key(|m| m.0 * m.1);
    all.truncate(3);
    all
}

/// Candidate specs that address `e` on `spec`, most direct first.
fn candidates(spec: &HardwareSpec, e: &MapError) -> Vec<HardwareSpec> {
    let with = |f: &dyn Fn(&mut HardwareSpec)| {
        let mut s = spec.clone();
        f(&mut s);
        s
    };
    let grow = |needs: u64, by: f64| (needs as f64 * by).ceil().min(u32::MAX as f64) as u32;
    let more_cores = |needed: u32| -> Vec<HardwareSpec> {
        let mut v: Vec<HardwareSpec> = Vec::new();
        for n in [needed, needed + needed.div_ceil(8), needed + needed.div_ceil(3)] {
            for (nw, nh) in meshes(n, spec.mesh_width, spec.mesh_height) {
                v.push(with(&|s| {
                    s.mesh_width = nw;
                    s.mesh_height = nh;
                }));
            }
        }
        v
    };
    let mut out: Vec<HardwareSpec> = match e {
        MapError::Bits { what, net: n, .. } => vec![with(&|s| match *what {
            "potential_bits" => s.potential_bits = *n,
            "weight_bits" => s.weight_bits = *n,
            _ => s.accumulator_bits = *n,
        })],
        MapError::Inputs { needs, .. } => vec![with(&|s| s.input_neurons = *needs as u32)],
        MapError::NeuronTooBig { field, needs, .. } => {
            let n = *needs as u32;
            vec![with(&|s| match *field {
                "axons_per_core" => s.axons_per_core = n,
                "param_sets_per_core" => s.param_sets_per_core = n,
                _ => s.synapses_per_core = n,
            })]
        }
        MapError::Cores { needed, bound, .. } => {
            // The lower bound first: the multilevel mapper may reach it.
            let mut v = if bound > &spec.cores() && bound < needed { more_cores(*bound) } else { Vec::new() };
            v.truncate(1);
            v.extend(more_cores(*needed));
            // Or larger cores on the same mesh.
            let f = needed.div_ceil(spec.cores().max(1)) as u64;
            for by in [f, f + 1] {
                let scale = |x: u32| (x as u64 * by).min(u32::MAX as u64) as u32;
                v.push(with(&|s| {
                    s.neurons_per_core = scale(s.neurons_per_core);
                    s.synapses_per_core = scale(s.synapses_per_core);
                    s.axons_per_core = scale(s.axons_per_core);
                    s.routes_per_core = scale(s.routes_per_core);
                }));
            }
            v
        }
        MapError::ParamSets { needed, fits_with, .. } => {
            let mut v = vec![with(&|s| s.param_sets_per_core = *fits_with as u32)];
            v.extend(more_cores(*needed));
            v
        }
        MapError::Routes { needs, .. } => {
            let mut v: Vec<HardwareSpec> =
                [1.0, 1.25, 2.0].iter().map(|&by| with(&|s| s.routes_per_core = grow(*needs, by))).collect();
            v.extend(more_cores(spec.cores() + spec.cores().div_ceil(4)));
            v
        }
        MapError::InputRoutes { needs, .. } => vec![with(&|s| s.input_routes = *needs as u32)],
        MapError::Current { .. } => vec![with(&|s| s.current_state = true)],
    };
    out.retain(|s| s.problems().is_empty() && s != spec);
    out
}

/// A checked spec change that makes `net` map with `algorithm`, starting
/// from the error `e` it got on `spec`; `None` if none is found within the
/// spec's limits. Candidates are checked with the greedy mapper first (fast;
/// what fits for it fits for every algorithm); for another algorithm, the
/// candidates before the first that the greedy mapper fits (smaller
/// changes) are then tried with that algorithm, at most two.
pub fn advise(net: &Network, spec: &HardwareSpec, e: &MapError, algorithm: Algorithm) -> Option<Advice> {
    let greedy = MapOptions::new(Algorithm::Greedy);
    let advice = |cand: &HardwareSpec| Advice { changes: changes(spec, cand), spec: cand.clone() };
    let mut frontier: Vec<(HardwareSpec, MapError)> = vec![(spec.clone(), e.clone())];
    for round in 0..4 {
        let mut next: Vec<(HardwareSpec, MapError)> = Vec::new();
        for (s, err) in &frontier {
            let cands = candidates(s, err);
            for (i, cand) in cands.iter().enumerate() {
                match map(net, cand, &greedy) {
                    Ok(_) => {
                        if round == 0 && algorithm != Algorithm::Greedy {
                            let smaller = cands[..i].iter().rev().take(2).collect::<Vec<_>>();
                            for c in smaller.into_iter().rev() {
                                if map(net, c, &MapOptions::new(algorithm)).is_ok() {
                                    return Some(advice(c));
                                }
                            }
                        }
                        return Some(advice(cand));
                    }
                    // A different problem now: fix that one too, next round.
                    Err(e2) if std::mem::discriminant(&e2) != std::mem::discriminant(err) => {
                        next.push((cand.clone(), e2))
                    }
                    Err(_) => {}
                }
                if next.len() >= 2 {
                    break;
                }
            }
        }
        if next.is_empty() {
            return None;
        }
        frontier = next;
    }
    None
}
