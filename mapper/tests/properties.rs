//! Property tests of the mapper on random networks, random specs and random
//! mappings. `PROPTEST_CASES` scales the count (default 256).

use proptest::prelude::*;
use spikeforge_mapper::conn::Conn;
use spikeforge_mapper::image::{Layout, ParamEntry, ParamSetEntry, SynapseWordEntry, DENSE_LANES};
use spikeforge_mapper::pack;
use spikeforge_mapper::partition::Caps;
use spikeforge_mapper::{map, Algorithm, HardwareSpec, Interconnect, MapError, MapOptions, Mapping, Search};
use spikeforge_net::{Network, Stimulus};
use spikeforge_tests::{net_case, NetCase};
use std::collections::{BTreeMap, BTreeSet};

/// Random spec sizes: neurons per core, extra synapse entries and axons
/// over the largest neuron's, mesh (else crossbar), parameter sets per core.
type Knobs = (u32, u32, u32, bool, u32);

fn knobs() -> impl Strategy<Value = Knobs> {
    (1u32..=8, 0u32..40, 0u32..8, any::<bool>(), 1u32..=8)
}

/// A spec that the network surely fits, with random (often tight) sizes.
fn spec_for(net: &Network, knobs: Knobs) -> HardwareSpec {
    let st = net.stats();
    let conn = spikeforge_mapper::conn::Conn::new(net);
    let max_src = (0..conn.n as u32).map(|v| conn.sources(v).len() as u32).max().unwrap_or(0);
    let computed = (st.neurons - st.input_neurons) as u32;
    let (n_per, extra_s, extra_a, mesh, sets) = knobs;
    let n_per = n_per.clamp(1, 8);
    // Enough cores for one neuron each: every packing order fits (one
    // neuron needs one parameter set).
    let cores = computed.max(1);
    let w = (cores as f64).sqrt().ceil() as u32;
    let h = cores.div_ceil(w);
    HardwareSpec {
        name: "random".into(),
        mesh_width: w,
        mesh_height: h,
        neurons_per_core: n_per,
        axons_per_core: max_src.max(1) + extra_a,
        synapses_per_core: (st.max_fan_in as u32).max(1) + extra_s,
        routes_per_core: n_per * w * h,
        param_sets_per_core: sets.clamp(1, n_per),
        input_neurons: st.input_neurons as u32 + 1,
        input_routes: (st.input_neurons as u32 + 1) * w * h,
        weight_bits: net.fixed_point().weight_bits,
        potential_bits: net.fixed_point().potential_bits,
        accumulator_bits: net.fixed_point().accumulator_bits,
        interconnect: if mesh { Interconnect::Mesh } else { Interconnect::Crossbar },
        // Two synapse banks (twin-row layout) on the mesh half of the cases.
        single_port_synapses: mesh,
        current_state: net.populations().iter().any(|p| p.params().is_some_and(|n| n.is_current_based())),
    }
}

fn caps(spec: &HardwareSpec) -> Caps {
    Caps::of(spec)
}

fn golden(net: &Network, case: &NetCase) -> (spikeforge_net::SpikeTrain, Vec<i32>) {
    let r = spikeforge_golden::run(net, &Stimulus::from_train(&case.stimulus), case.steps).unwrap();
    (r.spikes, r.potentials)
}

fn check_invariants(net: &Network, m: &Mapping) {
    let spec = &m.spec;
    // Every computed neuron exactly once; inputs nowhere.
    let mut seen = vec![0u32; net.neuron_count() as usize];
    for c in &m.images.cores {
        assert!(c.neurons.len() as u32 <= spec.neurons_per_core, "neurons over capacity");
        assert!(c.synapses.len() as u32 <= spec.synapses_per_core, "synapses over capacity");
        assert!(c.axons.len() as u32 <= spec.axons_per_core, "axons over capacity");
        assert!(c.routes.len() as u32 <= spec.routes_per_core, "routes over capacity");
        for &g in &c.neurons {
            seen[g as usize] += 1;
        }
    }
    assert!(m.images.host.routes.len() as u32 <= spec.input_routes);
    // Distinct parameter sets per core, from the placement and the network.
    let mut sets: BTreeMap<u32, BTreeSet<ParamSetEntry>> = BTreeMap::new();
    for p in net.populations() {
        let Some(np) = p.params() else { continue };
        for (i, g) in p.ids().enumerate() {
            let (core, _) = m.placement[g as usize].expect("computed neuron placed");
            sets.entry(core).or_default().insert(ParamEntry::of(np, i, p.is_output()).split().0);
        }
    }
    for (core, s) in &sets {
        assert!(s.len() as u32 <= spec.param_sets_per_core, "core {core}: {} parameter sets over capacity", s.len());
    }
    for c in &m.report.per_core {
        assert_eq!(c.param_sets as usize, sets[&c.core].len(), "reported parameter sets of core {}", c.core);
    }
    for p in net.populations() {
        for g in p.ids() {
            assert_eq!(
                seen[g as usize],
                if p.is_input() { 0 } else { 1 },
                "neuron {g} placed {} times",
                seen[g as usize]
            );
        }
    }
    // Every synapse exactly once: the multiset from the images equals the
    // network's. A dense word cannot tell a weight-0 synapse from none, and
    // adding 0 changes nothing, so weight-0 synapses are left out on both sides.
    let mut from_net = Vec::new();
    net.for_each_synapse(|a, b, w| {
        if w != 0 {
            from_net.push((a, b, w))
        }
    });
    let mut from_img = Vec::new();
    for c in &m.images.cores {
        for (key, ax) in c.axons.iter().enumerate() {
            let src = c.axon_sources[key];
            let words = &c.synapses[ax.row_base as usize..(ax.row_base + ax.row_len) as usize];
            for (j, e) in words.iter().enumerate() {
                match (*e, ax.dense_start) {
                    (SynapseWordEntry::Sparse(e), None) => {
                        if e.weight != 0 {
                            from_img.push((src, c.neurons[e.target as usize], e.weight));
                        }
                    }
                    (SynapseWordEntry::Dense(ws), Some(start)) => {
                        for (k, w) in ws.into_iter().enumerate() {
                            let slot = start + j as u32 * DENSE_LANES + k as u32;
                            assert!(slot < spec.neurons_per_core, "a dense lane past the core");
                            if w != 0 {
                                from_img.push((src, c.neurons[slot as usize], w));
                            }
                        }
                    }
                    (e, d) => panic!("word {e:?} in a row with dense_start {d:?}"),
                }
            }
        }
        // Rows tile the synapse memory exactly, except (two banks) single
        // zero words before dense rows, which then start at their key's parity.
        let total: u32 = c.axons.iter().map(|a| a.row_len).sum();
        let pads = c.synapses.len() - total as usize;
        if spec.synapse_banks() == 1 {
            assert_eq!(pads, 0, "rows tile the memory");
        } else {
            let mut at = 0u32;
            for (key, ax) in c.axons.iter().enumerate() {
                if ax.row_base == at + 1 {
                    assert!(ax.dense_start.is_some(), "a pad before a sparse row");
                    assert_eq!(c.synapses[at as usize], SynapseWordEntry::Dense([0; DENSE_LANES as usize]));
                } else {
                    assert_eq!(ax.row_base, at, "rows in key order, at most one pad between");
                }
                if pads > 0 && ax.dense_start.is_some() {
                    assert_eq!(ax.row_base % 2, key as u32 % 2, "dense row of key {key} at the key's parity");
                }
                at = ax.row_base + ax.row_len;
            }
            assert_eq!(at as usize, c.synapses.len());
        }
    }
    from_net.sort_unstable();
    from_img.sort_unstable();
    assert_eq!(from_net, from_img);
    // Packing is lossless.
    let l = Layout::new(spec);
    for c in &m.images.cores {
        for &e in &c.synapses {
            match e {
                SynapseWordEntry::Sparse(e) => assert_eq!(l.unpack_synapse(l.pack_synapse(e)), e),
                SynapseWordEntry::Dense(w) => assert_eq!(l.unpack_dense(l.pack_dense(w)), w),
            }
        }
        for &e in &c.param_sets {
            assert_eq!(l.unpack_param(l.pack_param(e)), e);
        }
        for &e in &c.neuron_params {
            assert_eq!(l.unpack_neuron(l.pack_neuron(e)), e);
            assert!(e.set < c.param_sets.len() as u32, "set index in the table");
        }
        assert!(c.param_sets.len() as u32 <= spec.param_sets_per_core, "parameter sets over capacity");
        for &e in &c.axons {
            assert_eq!(l.unpack_axon(l.pack_axon(e)), e);
        }
        for &e in &c.routes {
            assert_eq!(l.unpack_route(l.pack_route(e)), e);
        }
        for &v in &c.v_init {
            assert_eq!(l.unpack_potential(l.pack_potential(v)), v);
        }
    }
}

proptest! {
    /// Greedy, multilevel and random mappings all satisfy the invariants and
    /// make the architectural model equal the golden model, every step.
    #[test]
    fn arch_model_equals_golden_for_every_mapping(
        case in net_case(),
        knobs in knobs(),
        seed in any::<u64>(),
    ) {
        let net = case.network();
        let spec = spec_for(&net, knobs);
        let expected = golden(&net, &case);
        let stim = Stimulus::from_train(&case.stimulus);
        for opts in [
            MapOptions::new(Algorithm::Greedy),
            MapOptions::new(Algorithm::Multilevel),
            MapOptions { search: Search { flows: true, ..Search::default() }, ..MapOptions::new(Algorithm::Multilevel) },
            MapOptions { seed: Some(seed), ..MapOptions::new(Algorithm::Greedy) },
        ] {
            let m = map(&net, &spec, &opts).unwrap_or_else(|e| panic!("{e}\n{case:?}\nspec {spec:?}"));
            check_invariants(&net, &m);
            let run = m.run_arch(&stim, case.steps).unwrap();
            prop_assert_eq!(&run.spikes, &expected.0, "spikes differ ({:?})", opts);
            prop_assert_eq!(&run.potentials, &expected.1, "potentials differ ({:?})", opts);
        }
    }

    /// With tight routing tables the mapper either maps correctly or says
    /// which limit failed; it never produces an over-full core.
    #[test]
    fn tight_specs_map_or_fail_cleanly(case in net_case(), routes in 1u32..6, n_per in 1u32..4, sets in 1u32..4) {
        let net = case.network();
        let mut spec = spec_for(&net, (n_per, 0, 0, true, sets));
        spec.routes_per_core = routes;
        match map(&net, &spec, &MapOptions::new(Algorithm::Multilevel)) {
            Ok(m) => {
                check_invariants(&net, &m);
                let run = m.run_arch(&Stimulus::from_train(&case.stimulus), case.steps).unwrap();
                prop_assert_eq!(run.spikes, golden(&net, &case).0);
            }
            Err(MapError::Routes { needs, cap, .. }) => prop_assert!(needs > cap),
            Err(e) => prop_assert!(false, "unexpected error {e}"),
        }
    }

    /// The optimized mapping never costs more traffic than the baseline
    /// with the same number of cores or fewer.
    #[test]
    fn multilevel_is_never_worse_than_greedy(case in net_case(), knobs in knobs()) {
        let net = case.network();
        let spec = spec_for(&net, knobs);
        let g = map(&net, &spec, &MapOptions::new(Algorithm::Greedy)).unwrap();
        let m = map(&net, &spec, &MapOptions::new(Algorithm::Multilevel)).unwrap();
        prop_assert!(m.report.cores_used <= g.report.cores_used);
        if m.report.cores_used == g.report.cores_used {
            prop_assert!(m.report.packets_per_step <= g.report.packets_per_step + 1e-9);
        }
    }

    /// `map` never says "does not fit" when first fit decreasing packs the
    /// network into the spec's cores (routing tables large enough not to
    /// bind), and never uses fewer cores than the lower bound.
    #[test]
    fn map_fits_whenever_a_decreasing_packing_does(case in net_case(), knobs in knobs(), spare in 0u32..2) {
        let net = case.network();
        let mut spec = spec_for(&net, knobs);
        let conn = Conn::new(&net);
        let c0 = caps(&spec);
        let order = pack::decreasing_order(&conn, &c0);
        let (_, k) = pack::first_fit(&conn, &Caps { cores: u32::MAX, ..c0 }, &order).unwrap();
        spec.mesh_width = (k as u32 + spare).max(1);
        spec.mesh_height = 1;
        spec.routes_per_core = spec.neurons_per_core * spec.mesh_width;
        spec.input_routes = (spec.input_neurons + 1) * spec.mesh_width;
        let bound = pack::CoreBound::new(&conn, &caps(&spec));
        for algorithm in [Algorithm::Greedy, Algorithm::Multilevel] {
            let m = map(&net, &spec, &MapOptions::new(algorithm))
                .unwrap_or_else(|e| panic!("{algorithm:?}: {e}\n{case:?}\nspec {spec:?}"));
            check_invariants(&net, &m);
            prop_assert!(m.report.cores_used >= bound.cores, "below the bound {bound:?}");
        }
    }

    /// Advice is checked: a network that does not fit maps onto the spec
    /// the advice gives, and that spec is valid. Advice for the greedy
    /// mapper holds for both algorithms; advice for the multilevel mapper
    /// may count on it reaching fewer cores.
    #[test]
    fn following_the_advice_maps(case in net_case(), n_per in 1u32..4, routes in 1u32..6, sets in 1u32..3, cut in 1u32..4) {
        let net = case.network();
        let mut spec = spec_for(&net, (n_per, 0, 0, true, sets));
        spec.routes_per_core = routes;
        spec.mesh_width = (spec.mesh_width / cut).max(1);
        spec.mesh_height = (spec.mesh_height / cut).max(1);
        for (advised_for, checked_with) in [
            (Algorithm::Greedy, &[Algorithm::Greedy, Algorithm::Multilevel][..]),
            (Algorithm::Multilevel, &[Algorithm::Multilevel][..]),
        ] {
            let Err(e) = map(&net, &spec, &MapOptions::new(advised_for)) else { continue };
            let Some(a) = spikeforge_mapper::advice::advise(&net, &spec, &e, advised_for) else { continue };
            prop_assert!(a.spec.problems().is_empty(), "{:?}", a.spec.problems());
            prop_assert!(!a.changes.is_empty());
            for &algorithm in checked_with {
                let m = map(&net, &a.spec, &MapOptions::new(algorithm)).unwrap_or_else(|e2| {
                    panic!("advice `{}` for `{e}` ({advised_for:?}) fails with {algorithm:?}: {e2}", a.sentence())
                });
                check_invariants(&net, &m);
            }
        }
    }

    /// Same inputs, same bytes.
    #[test]
    fn mapping_files_are_deterministic(case in net_case()) {
        let net = case.network();
        let spec = spec_for(&net, (4, 8, 2, true, 2));
        let a = map(&net, &spec, &MapOptions::new(Algorithm::Multilevel)).unwrap().files(&net);
        let b = map(&net, &spec, &MapOptions::new(Algorithm::Multilevel)).unwrap().files(&net);
        prop_assert_eq!(a, b);
    }
}
