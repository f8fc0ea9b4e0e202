//! Property tests of the network IR and the golden model.
//!
//! Case counts follow proptest's defaults (256); set `PROPTEST_CASES` to run
//! more (e.g. `PROPTEST_CASES=20000 cargo test -p spikeforge-tests`).

use proptest::prelude::*;
use spikeforge_golden::run;
use spikeforge_net::doc::ProjectionDoc;
use spikeforge_net::rng::SplitMix64;
use spikeforge_net::{source, Format, Network, NetworkDoc, Stimulus};
use spikeforge_tests::{naive_run, net_case, NetCase};

fn golden(net: &Network, case: &NetCase) -> (spikeforge_net::SpikeTrain, Vec<i32>) {
    let r = run(net, &Stimulus::from_train(&case.stimulus), case.steps).expect("valid stimulus");
    (r.spikes, r.potentials)
}

/// Every projection rewritten as a sparse list of its non-zero synapses.
fn as_sparse_lists(net: &Network) -> Vec<(String, String, Vec<[i64; 3]>)> {
    let pops = net.populations();
    let mut out: Vec<(String, String, Vec<[i64; 3]>)> = Vec::new();
    for (k, pr) in net.projections().iter().enumerate() {
        let (po, qo) = (pops[pr.pre].offset(), pops[pr.post].offset());
        let mut list = Vec::new();
        // Reuse for_each_synapse on a one-projection view: collect all, keep this one's.
        let single = {
            let mut doc = net.to_doc();
            doc.projections = vec![doc.projections[k].clone()];
            Network::from_doc(&doc).expect("subset of a valid network is valid")
        };
        single.for_each_synapse(|a, b, w| list.push([(a - po) as i64, (b - qo) as i64, w as i64]));
        out.push((pops[pr.pre].name().to_string(), pops[pr.post].name().to_string(), list));
    }
    out
}

proptest! {
    /// The golden model equals an independent naive implementation.
    #[test]
    fn golden_equals_naive_reference(case in net_case()) {
        let net = case.network();
        let (spikes, v) = golden(&net, &case);
        let (nspikes, nv) = naive_run(&net, &case.stimulus, case.steps);
        prop_assert_eq!(&spikes, &nspikes);
        prop_assert_eq!(v.iter().map(|&x| x as i64).collect::<Vec<_>>(), nv);
    }

    /// Delivery order cannot matter: all synapses of the network in one
    /// shuffled list per (pre, post) pair give the same spikes and potentials.
    #[test]
    fn shuffling_synapses_changes_nothing(case in net_case(), seed in any::<u64>()) {
        let net = case.network();
        let expected = golden(&net, &case);
        let mut doc: NetworkDoc = net.to_doc();
        doc.projections = as_sparse_lists(&net)
            .into_iter()
            .map(|(a, b, mut list)| { SplitMix64(seed).shuffle(&mut list); ProjectionDoc::sparse(&a, &b, list) })
            .collect();
        // Also shuffle the order of the projections themselves.
        SplitMix64(seed ^ 0x5555).shuffle(&mut doc.projections);
        let shuffled = Network::from_doc(&doc).expect("still valid");
        prop_assert_eq!(golden(&shuffled, &case), expected);
    }

    /// Splitting a projection into several (as a mapper splitting a
    /// population across cores would) changes nothing.
    #[test]
    fn splitting_projections_changes_nothing(case in net_case(), cuts in proptest::collection::vec(any::<usize>(), 1..4)) {
        let net = case.network();
        let expected = golden(&net, &case);
        let mut doc: NetworkDoc = net.to_doc();
        doc.projections = Vec::new();
        for (a, b, list) in as_sparse_lists(&net) {
            let mut at: Vec<usize> = cuts.iter().map(|c| c % (list.len() + 1)).collect();
            at.sort_unstable();
            let mut start = 0;
            for c in at.into_iter().chain([list.len()]) {
                doc.projections.push(ProjectionDoc::sparse(&a, &b, list[start..c].to_vec()));
                start = c;
            }
        }
        let split = Network::from_doc(&doc).expect("still valid");
        prop_assert_eq!(golden(&split, &case), expected);
    }

    /// JSON and TOML both round-trip to the same validated network.
    #[test]
    fn json_and_toml_round_trip(case in net_case()) {
        let net = case.network();
        let from_json = source::parse_network("x.json", source::to_json(&net), Format::Json);
        let from_toml = source::parse_network("x.toml", source::to_toml(&net), Format::Toml);
        prop_assert_eq!(from_json.as_ref().ok(), Some(&net));
        prop_assert_eq!(from_toml.as_ref().ok(), Some(&net));
        // And the writer is deterministic.
        prop_assert_eq!(source::to_toml(&net), source::to_toml(&from_toml.unwrap()));
    }

    /// A spike file written by the writer parses back to the same spikes.
    #[test]
    fn spike_csv_round_trips(case in net_case()) {
        let net = case.network();
        let (spikes, _) = golden(&net, &case);
        let csv = spikeforge_net::spikes::spikes_to_csv(&net, &spikes);
        let back = spikeforge_net::parse_spikes(&net, "s.csv", csv, spikeforge_net::SpikeFileKind::Spikes);
        prop_assert_eq!(back.ok(), Some(spikes));
        let stim = spikeforge_net::spikes::spikes_to_csv(&net, &case.stimulus);
        let back = spikeforge_net::parse_spikes(&net, "s.csv", stim, spikeforge_net::SpikeFileKind::Stimulus);
        prop_assert_eq!(back.ok(), Some(case.stimulus.clone()));
    }
}
