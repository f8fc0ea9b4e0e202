//! Dense rows: a fully connected layer whose targets sit in consecutive
//! slots takes half the synapse words, so a network that does not fit with
//! one word per synapse fits with dense rows, and runs equal to golden.

use spikeforge_mapper::image::{SynapseWordEntry, DENSE_LANES};
use spikeforge_mapper::{map, Algorithm, HardwareSpec, MapError, MapOptions};
use spikeforge_net::doc::{FixedPointDoc, PopulationDoc, ProjectionDoc};
use spikeforge_net::{Network, NetworkDoc, SpikeTrain, Stimulus};

/// `inputs` inputs fully connected to 16 neurons (weights 1..=16 cycling).
fn network(inputs: u32) -> Network {
    let syn = (0..inputs).flat_map(|i| (0..16).map(move |j| [i as i64, j, 1 + (i as i64 + j) % 16])).collect();
    let doc = NetworkDoc {
        format: 1,
        name: None,
        fixed_point: FixedPointDoc { weight_bits: 8, potential_bits: 16, accumulator_bits: 24 },
        populations: vec![PopulationDoc::input("in", inputs as i64), PopulationDoc::neurons("out", 16, 40)],
        projections: vec![ProjectionDoc::sparse("in", "out", syn)],
    };
    Network::from_doc(&doc).unwrap()
}

fn one_core() -> HardwareSpec {
    HardwareSpec { mesh_width: 1, mesh_height: 1, ..HardwareSpec::preset("tiny").unwrap() }
}

#[test]
fn a_dense_layer_fits_in_half_the_words() {
    // 16 × 16 = 256 synapses, S = 128 words: only dense rows fit.
    let net = network(16);
    let spec = one_core();
    for algorithm in [Algorithm::Greedy, Algorithm::Multilevel] {
        let m = map(&net, &spec, &MapOptions::new(algorithm)).unwrap();
        let core = &m.images.cores[0];
        assert_eq!(core.synapses.len(), 128);
        assert!(core.synapses.iter().all(|w| matches!(w, SynapseWordEntry::Dense(_))));
        assert!(core.axons.iter().all(|a| a.dense_start == Some(0) && a.row_len == 16 / DENSE_LANES));
        let stim = Stimulus::from_train(&SpikeTrain::from_pairs((0..8).flat_map(|t| [(t, t % 16), (t, 3)])));
        let golden = spikeforge_golden::run(&net, &stim, 10).unwrap();
        let arch = m.run_arch(&stim, 10).unwrap();
        assert_eq!(arch.spikes, golden.spikes);
        assert_eq!(arch.potentials, golden.potentials);
    }
}

#[test]
fn too_many_words_even_dense_is_an_error() {
    // 17 × 16 synapses: 136 dense words, S = 128.
    let e = map(&network(17), &one_core(), &MapOptions::new(Algorithm::Greedy)).unwrap_err();
    assert!(matches!(e, MapError::Cores { .. }), "{e:?}");
}
