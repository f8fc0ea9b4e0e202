//! The whole design (cores, bus, host router, step controller) in
//! rust-hdl's simulator against the golden model, on a network spread over
//! several cores, preloaded with the mapper's images. Spike-out is taken
//! with pseudo-random backpressure.

use rust_hdl::prelude::*;
use spikeforge_hdl::fabric::{Fabric, FabricInit};
use spikeforge_mapper::{map, Algorithm, HardwareSpec, MapOptions, Mapping};
use spikeforge_net::{parse_network, Format, SpikeFileKind, Stimulus};

fn check(net_text: &str, stim_text: &str, steps: u32, spec: HardwareSpec) {
    let net = parse_network("t.toml", net_text.into(), Format::Toml).unwrap();
    let stim = Stimulus::from_train(
        &spikeforge_net::parse_spikes(&net, "s.csv", stim_text.into(), SpikeFileKind::Stimulus).unwrap(),
    );
    let m = map(&net, &spec, &MapOptions::new(Algorithm::Greedy)).unwrap();
    assert!(m.report.cores_used >= 2, "the case must span cores");
    assert!(!spikeforge_golden::run(&net, &stim, steps).unwrap().spikes.is_empty());
    run_fabric(&net, &stim, steps, &spec, &m);
}

/// Runs the whole design preloaded with `m` and compares spikes and final
/// potentials with the golden model.
fn run_fabric(net: &spikeforge_net::Network, stim: &Stimulus, steps: u32, spec: &HardwareSpec, m: &Mapping) {
    let spec = spec.clone();
    let m = m.clone();
    let run = spikeforge_golden::run(net, stim, steps).unwrap();
    let golden = run.spikes.clone();
    let placed: Vec<(u32, u32, u32)> =
        (0..net.neuron_count()).filter_map(|g| m.placement[g as usize].map(|(c, s)| (g, c, s))).collect();
    let placed_tb = placed.clone();
    let (ptx, prx) = std::sync::mpsc::channel();
    let inputs: Vec<Vec<u32>> =
        (0..steps).map(|t| stim.at(t).iter().map(|&g| m.input_index[g as usize].unwrap()).collect()).collect();
    let mut sim: Simulation<Fabric> = Simulation::default();
    sim.add_clock(5, |x: &mut Box<Fabric>| x.clock.next = !x.clock.val());
    let (tx, rx) = std::sync::mpsc::channel();
    sim.add_testbench(move |mut ep: Sim<Fabric>| {
        let mut x = ep.init()?;
        x.monitor.next = true;
        let mut rng = spikeforge_net::rng::SplitMix64(5);
        for (t, ins) in inputs.iter().enumerate() {
            // Inputs of step t, then the step pulse.
            for &i in ins {
                x.in_valid.next = true;
                x.in_index.next = (i as u64).into();
                loop {
                    let ready = x.in_ready.val();
                    wait_clock_cycle!(ep, clock, x);
                    if ready {
                        break;
                    }
                }
            }
            x.in_valid.next = false;
            x.step.next = true;
            let mut first = true;
            loop {
                let take = rng.below(3) != 0;
                let (valid, core, slot) = (x.out_valid.val(), x.out_core.val().index(), x.out_slot.val().index());
                x.out_ready.next = take;
                wait_clock_cycle!(ep, clock, x);
                if first {
                    x.step.next = false;
                    first = false;
                }
                if valid && take {
                    tx.send((t as u32, core as u32, slot as u32)).unwrap();
                }
                if x.done.val() {
                    break;
                }
            }
        }
        wait_clock_cycle!(ep, clock, x);
        sim_assert_eq!(ep, x.step_count.val().index(), inputs.len(), x);
        // Read back every potential.
        for &(g, c, s) in &placed_tb {
            x.peek_req.next = true;
            x.peek_core.next = (c as u64).into();
            x.peek_slot.next = (s as u64).into();
            wait_clock_cycle!(ep, clock, x);
            x.peek_req.next = false;
            sim_assert!(ep, x.peek_valid.val(), x);
            ptx.send((g, x.peek_data.val().to_u32() as i32)).unwrap();
        }
        sim_assert_eq!(ep, x.errors.val().index(), 0, x);
        // An input index beyond the host table is dropped and flagged.
        x.in_valid.next = true;
        x.in_index.next = 60000u64.into();
        wait_clock_cycle!(ep, clock, x);
        x.in_valid.next = false;
        wait_clock_cycle!(ep, clock, x);
        sim_assert_eq!(ep, x.errors.val().index(), 2, x);
        x.err_clear.next = true;
        wait_clock_cycle!(ep, clock, x);
        x.err_clear.next = false;
        wait_clock_cycle!(ep, clock, x);
        sim_assert_eq!(ep, x.errors.val().index(), 0, x);
        ep.done(x)
    });
    let mut uut = Fabric::new(&spec, &FabricInit::from_image(&m.packed()));
    uut.connect_all();
    sim.run(Box::new(uut), 20_000_000).unwrap();
    let mut hw: Vec<(u32, u32)> = rx.try_iter().map(|(t, c, s)| (t, m.neuron_at(c, s))).collect();
    hw.sort_unstable();
    assert_eq!(hw, golden.pairs().collect::<Vec<_>>());
    let potentials: Vec<(u32, i32)> = prx.try_iter().collect();
    assert_eq!(potentials.len(), placed.len());
    for (g, v) in potentials {
        assert_eq!(v, run.potentials[g as usize], "potential of {}", net.neuron_name(g));
    }
}

#[test]
fn fabric_equals_golden_across_cores() {
    fabric_case(HardwareSpec { neurons_per_core: 3, ..HardwareSpec::preset("tiny").unwrap() });
}

#[test]
fn mesh_fabric_equals_golden_across_cores() {
    // A 3x2 mesh: packets cross up to three hops with XY routing.
    fabric_case(HardwareSpec {
        neurons_per_core: 2,
        mesh_width: 3,
        mesh_height: 2,
        interconnect: spikeforge_mapper::Interconnect::Mesh,
        ..HardwareSpec::preset("tiny").unwrap()
    });
}

fn fabric_case(spec: HardwareSpec) {
    check(spikeforge_tests::RING, spikeforge_tests::RING_STIM, 20, spec);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig {
        cases: std::env::var("SF_HDL_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64),
        ..Default::default()
    })]
    /// Random networks on small random specs, greedy or multilevel mappings:
    /// the whole design equals golden (spikes and final potentials).
    /// `SF_HDL_CASES` scales the count (rust-hdl's simulator is slow).
    #[test]
    fn fabric_equals_golden_on_random_networks(
        case in spikeforge_tests::net_case(),
        n_per in 1u32..=4,
        multilevel in proptest::prelude::any::<bool>(),
        mesh in proptest::prelude::any::<bool>(),
    ) {
        let net = case.network();
        let st = net.stats();
        let computed = (st.neurons - st.input_neurons) as u32;
        let cores_needed = computed.div_ceil(n_per).max(1);
        let w = (cores_needed as f64).sqrt().ceil() as u32;
        let spec = HardwareSpec {
            name: "prop".into(),
            mesh_width: w,
            mesh_height: cores_needed.div_ceil(w),
            neurons_per_core: n_per,
            axons_per_core: 32,
            synapses_per_core: (st.max_fan_in as u32).max(1) * n_per,
            routes_per_core: 64,
            param_sets_per_core: 16,
            input_neurons: 16,
            input_routes: 64,
            weight_bits: net.fixed_point().weight_bits,
            potential_bits: net.fixed_point().potential_bits,
            // Current-based populations need the network's own width.
            accumulator_bits: net.fixed_point().accumulator_bits,
            interconnect: if mesh { spikeforge_mapper::Interconnect::Mesh } else { spikeforge_mapper::Interconnect::Crossbar },
            single_port_synapses: false,
            current_state: net.populations().iter().any(|p| p.params().is_some_and(|n| n.is_current_based())),
        };
        let algo = if multilevel { Algorithm::Multilevel } else { Algorithm::Greedy };
        let m = map(&net, &spec, &MapOptions::new(algo)).unwrap();
        let stim = Stimulus::from_train(&case.stimulus);
        run_fabric(&net, &stim, case.steps, &spec, &m);
    }
}
