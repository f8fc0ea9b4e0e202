//! Network families of realistic size for mapping tests and benchmarks:
//! scale-free (Barabási–Albert), small-world (Watts–Strogatz), a 3-D
//! locally connected grid, and 2-D locally connected layers. Deterministic
//! for a given seed; every family has a population of input neurons that
//! drives part of the network, as real networks do.

use spikeforge_net::doc::{FixedPointDoc, PopulationDoc, ProjectionDoc};
use spikeforge_net::rng::SplitMix64;
use spikeforge_net::{Network, NetworkDoc};

fn network(name: &str, populations: Vec<PopulationDoc>, projections: Vec<ProjectionDoc>) -> Network {
    let doc = NetworkDoc {
        format: 1,
        name: Some(name.into()),
        fixed_point: FixedPointDoc { weight_bits: 8, potential_bits: 16, accumulator_bits: 32 },
        populations,
        projections,
    };
    Network::from_doc(&doc).expect("generated network is valid")
}

/// `n` neurons `x` with recurrent synapses `rec`, driven by `n / 100`
/// input neurons with 10 random targets each.
fn recurrent_with_inputs(name: &str, n: usize, rec: Vec<[i64; 3]>, rng: &mut SplitMix64) -> Network {
    let inputs = (n / 100).max(1);
    let mut inp = Vec::with_capacity(inputs * 10);
    for pre in 0..inputs {
        for _ in 0..10 {
            inp.push([pre as i64, rng.below(n as u64) as i64, 1]);
        }
    }
    network(
        name,
        vec![PopulationDoc::input("in", inputs as i64), PopulationDoc::neurons("x", n as i64, 100)],
        vec![ProjectionDoc::sparse("in", "x", inp), ProjectionDoc::sparse("x", "x", rec)],
    )
}

/// Barabási–Albert: `n` neurons; each new neuron sends `m` synapses to
/// earlier neurons chosen in proportion to their degree (so early neurons
/// become hubs with a large fan-in), plus `n / 100` inputs with 10 targets.
pub fn barabasi_albert(n: usize, m: usize, seed: u64) -> Network {
    let mut rng = SplitMix64(seed);
    let m = m.max(1);
    let n = n.max(m + 1);
    // Every endpoint of every edge so far: drawing from it is preferential attachment.
    let mut ends: Vec<u32> = (0..=m as u32).collect();
    let mut rec = Vec::with_capacity(n * m);
    for v in (m + 1)..n {
        let mut chosen: Vec<u32> = Vec::with_capacity(m);
        while chosen.len() < m {
            let t = ends[rng.below(ends.len() as u64) as usize];
            if !chosen.contains(&t) {
                chosen.push(t);
            }
        }
        for &t in &chosen {
            rec.push([v as i64, t as i64, 1]);
            ends.push(t);
            ends.push(v as u32);
        }
    }
    recurrent_with_inputs("barabasi-albert", n, rec, &mut rng)
}

/// Watts–Strogatz: a ring of `n` neurons, each sending to its `k` nearest
/// neighbours (k/2 on each side), every synapse rewired to a random target
/// with probability `p_percent`%; plus `n / 100` inputs with 10 targets.
pub fn small_world(n: usize, k: usize, p_percent: u64, seed: u64) -> Network {
    let mut rng = SplitMix64(seed);
    let rec = ring(n, k, p_percent, &mut rng, |v| v);
    recurrent_with_inputs("small-world", n, rec, &mut rng)
}

/// [`small_world`] with the neurons numbered in a random order: the
/// network order holds no ring segments (as in a file made elsewhere).
pub fn small_world_shuffled(n: usize, k: usize, p_percent: u64, seed: u64) -> Network {
    let mut rng = SplitMix64(seed);
    let mut perm: Vec<i64> = (0..n as i64).collect();
    rng.shuffle(&mut perm);
    let rec = ring(n, k, p_percent, &mut rng, |v| perm[v as usize]);
    recurrent_with_inputs("small-world", n, rec, &mut rng)
}

/// The synapses of [`small_world`]'s rewired ring, each neuron `v` named `id(v)`.
fn ring(n: usize, k: usize, p_percent: u64, rng: &mut SplitMix64, id: impl Fn(i64) -> i64) -> Vec<[i64; 3]> {
    let half = (k / 2).max(1) as i64;
    let mut rec = Vec::with_capacity(n * k);
    for v in 0..n as i64 {
        for d in 1..=half {
            for t in [v + d, v - d] {
                let t = if rng.below(100) < p_percent { rng.below(n as u64) as i64 } else { t.rem_euclid(n as i64) };
                if t != v {
                    rec.push([id(v), id(t), 1]);
                }
            }
        }
    }
    rec
}

/// A `side`³ grid, each neuron sending to its 26 neighbours (3×3×3 without
/// itself), numbered x fastest; the `side`² inputs drive the z = 0 plane.
pub fn grid3d(side: usize) -> Network {
    let s = side as i64;
    let id = |x: i64, y: i64, z: i64| (z * s + y) * s + x;
    let mut rec = Vec::new();
    for z in 0..s {
        for y in 0..s {
            for x in 0..s {
                for dz in -1..=1 {
                    for dy in -1..=1 {
                        for dx in -1..=1 {
                            let (a, b, c) = (x + dx, y + dy, z + dz);
                            if (dx, dy, dz) != (0, 0, 0) && [a, b, c].iter().all(|v| (0..s).contains(v)) {
                                rec.push([id(x, y, z), id(a, b, c), 1]);
                            }
                        }
                    }
                }
            }
        }
    }
    let inp: Vec<[i64; 3]> = (0..s * s).map(|i| [i, i, 1]).collect();
    network(
        "grid3d",
        vec![PopulationDoc::input("in", s * s), PopulationDoc::neurons("x", s * s * s, 100)],
        vec![ProjectionDoc::sparse("in", "x", inp), ProjectionDoc::sparse("x", "x", rec)],
    )
}

/// `layers` g×g layers (the first of them inputs), each neuron fed by the
/// (2r+1)² neighbourhood of the layer below: a convolution-like network.
pub fn local2d(g: usize, layers: usize, r: i64) -> Network {
    let g = g as i64;
    let names: Vec<String> = (0..layers.max(2)).map(|l| format!("g{l}")).collect();
    let pops = names
        .iter()
        .enumerate()
        .map(|(i, n)| if i == 0 { PopulationDoc::input(n, g * g) } else { PopulationDoc::neurons(n, g * g, 100) })
        .collect();
    let projs = (0..names.len() - 1)
        .map(|l| {
            let mut s = Vec::new();
            for y in 0..g {
                for x in 0..g {
                    for dy in -r..=r {
                        for dx in -r..=r {
                            let (sx, sy) = (x + dx, y + dy);
                            if (0..g).contains(&sx) && (0..g).contains(&sy) {
                                s.push([sy * g + sx, y * g + x, 1]);
                            }
                        }
                    }
                }
            }
            ProjectionDoc::sparse(&names[l], &names[l + 1], s)
        })
        .collect();
    network("local2d", pops, projs)
}
