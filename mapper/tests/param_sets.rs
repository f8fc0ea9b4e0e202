//! The parameter-set table as a per-core capacity: a core holds neurons of
//! at most `param_sets_per_core` distinct parameter sets.

use spikeforge_mapper::image::ParamEntry;
use spikeforge_mapper::{map, Algorithm, HardwareSpec, MapError, MapOptions, Mapping};
use spikeforge_net::doc::{FixedPointDoc, PerNeuron, PopulationDoc, ProjectionDoc};
use spikeforge_net::{Network, NetworkDoc, SpikeTrain, Stimulus};
use std::collections::{BTreeMap, BTreeSet};

/// One input driving `a` (8 neurons, 8 distinct thresholds) and `b` (8
/// neurons, one threshold): 9 parameter sets, 16 neurons.
fn network() -> Network {
    let mut a = PopulationDoc::neurons("a", 8, 1);
    a.threshold = Some(PerNeuron::Array((1..=8).collect()));
    let b = PopulationDoc::neurons("b", 8, 20);
    let doc = NetworkDoc {
        format: 1,
        name: None,
        fixed_point: FixedPointDoc { weight_bits: 8, potential_bits: 16, accumulator_bits: 24 },
        populations: vec![PopulationDoc::input("in", 1), a, b],
        projections: vec![
            ProjectionDoc::sparse("in", "a", (0..8).map(|i| [0, i, 4]).collect()),
            ProjectionDoc::sparse("a", "b", (0..8).map(|i| [i, 7 - i, 2]).collect()),
        ],
    };
    Network::from_doc(&doc).unwrap()
}

fn spec(w: u32, h: u32, k: u32) -> HardwareSpec {
    HardwareSpec { mesh_width: w, mesh_height: h, param_sets_per_core: k, ..HardwareSpec::preset("tiny").unwrap() }
}

/// Distinct parameter sets per used core, from the placement and the network.
fn sets_per_core(net: &Network, m: &Mapping) -> BTreeMap<u32, usize> {
    let mut sets: BTreeMap<u32, BTreeSet<_>> = BTreeMap::new();
    for p in net.populations() {
        let Some(np) = p.params() else { continue };
        for (i, g) in p.ids().enumerate() {
            let (core, _) = m.placement[g as usize].unwrap();
            sets.entry(core).or_default().insert(ParamEntry::of(np, i, p.is_output()).split().0);
        }
    }
    sets.into_iter().map(|(c, s)| (c, s.len())).collect()
}

#[test]
fn parameter_sets_need_more_cores_than_neurons() {
    let net = network();
    let stim = Stimulus::from_train(&SpikeTrain::from_pairs((0..6).map(|t| (t, 0))));
    let golden = spikeforge_golden::run(&net, &stim, 8).unwrap();
    // Neurons alone: 16 fit one tiny core.
    let m = map(&net, &spec(4, 4, 16), &MapOptions::new(Algorithm::Greedy)).unwrap();
    assert_eq!(m.report.cores_used, 1);
    assert_eq!(m.report.per_core[0].param_sets, 9);
    // Two sets per core: 9 sets need 5 cores.
    let spec = spec(4, 4, 2);
    for opts in [
        MapOptions::new(Algorithm::Greedy),
        MapOptions::new(Algorithm::Multilevel),
        MapOptions { seed: Some(7), ..MapOptions::new(Algorithm::Greedy) },
    ] {
        let m = map(&net, &spec, &opts).unwrap();
        // A random packing order may need more.
        if opts.seed.is_none() {
            assert_eq!(m.report.cores_used, 5, "{opts:?}");
        }
        assert!(m.report.cores_used >= 5, "{opts:?}");
        let used = sets_per_core(&net, &m);
        assert!(used.values().all(|&n| n <= 2), "{used:?}");
        for c in &m.report.per_core {
            assert_eq!(c.param_sets as usize, used[&c.core], "report of core {}", c.core);
        }
        assert_eq!(m.report.capacity.param_sets, 2);
        let run = m.run_arch(&stim, 8).unwrap();
        assert_eq!(run.spikes, golden.spikes, "{opts:?}");
        assert_eq!(run.potentials, golden.potentials, "{opts:?}");
    }
}

#[test]
fn too_many_parameter_sets_are_reported_with_their_numbers() {
    let net = network();
    let spec = spec(2, 1, 2);
    for algorithm in [Algorithm::Greedy, Algorithm::Multilevel] {
        let e = map(&net, &spec, &MapOptions::new(algorithm)).unwrap_err();
        assert_eq!(
            e,
            MapError::ParamSets {
                sets: 9,
                cap: 2,
                needed: 5,
                cores: 2,
                over: 3,
                w: 2,
                h: 1,
                spec_name: "tiny".into(),
                population: "a".into(),
                population_sets: 8,
                fits_with: 5,
            }
        );
        assert_eq!(
            e.to_string(),
            "the network's neurons have 9 distinct parameter sets (population `a`: 8) and a core holds 2 \
             (param_sets_per_core), so they need 5 cores; the spec `tiny` has 2, 3 too few"
        );
        assert_eq!(
            e.help(),
            "set param_sets_per_core = 5 or more, or use more cores: mesh_width = 5 and mesh_height = 1 (5 cores)"
        );
        // The suggested K fits.
        let fixed = HardwareSpec { param_sets_per_core: 5, ..spec.clone() };
        let m = map(&net, &fixed, &MapOptions::new(algorithm)).unwrap();
        assert!(sets_per_core(&net, &m).values().all(|&n| n <= 5));
    }
}

#[test]
fn interleaved_parameter_sets_are_packed_by_set() {
    // Thresholds 1, 2, 3, 4, 1, 2, ...: in network order a core of two sets
    // takes two neurons; grouped by set, two cores hold all sixteen.
    let mut a = PopulationDoc::neurons("a", 16, 1);
    a.threshold = Some(PerNeuron::Array((0..16).map(|i| i % 4 + 1).collect()));
    let doc = NetworkDoc {
        format: 1,
        name: None,
        fixed_point: FixedPointDoc { weight_bits: 8, potential_bits: 16, accumulator_bits: 24 },
        populations: vec![PopulationDoc::input("in", 1), a],
        projections: vec![ProjectionDoc::sparse("in", "a", (0..16).map(|i| [0, i, 1]).collect())],
    };
    let net = Network::from_doc(&doc).unwrap();
    let spec = spec(2, 1, 2);
    for algorithm in [Algorithm::Greedy, Algorithm::Multilevel] {
        let m = map(&net, &spec, &MapOptions::new(algorithm)).unwrap();
        assert_eq!(m.report.cores_used, 2);
        assert!(sets_per_core(&net, &m).values().all(|&n| n <= 2));
    }
}
