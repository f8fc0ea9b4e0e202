//! Property test: random networks x random specs x random mappings on the
//! Verilator model equal golden, spikes every step and final potentials.
//!
//! Specs come from a fixed pool (one Verilator build each, reused by every
//! case); networks, their bit widths within the spec, the partitioner and
//! the placement seed are random. `SF_SIM_CASES` sets the number of cases
//! (default 240). A failure prints the minimal network as TOML and its
//! stimulus as CSV.

mod common;
use proptest::prelude::*;
use spikeforge_mapper::{map, Algorithm, HardwareSpec, Interconnect, MapError, MapOptions};
use spikeforge_net::Stimulus;
use spikeforge_sim::{run, Backpressure, Built, RunOptions, Verdict};
use std::sync::OnceLock;

/// The spec pool: a bus, a mesh and a narrow crossbar with small widths.
fn specs() -> &'static [(HardwareSpec, Built)] {
    static POOL: OnceLock<Vec<(HardwareSpec, Built)>> = OnceLock::new();
    POOL.get_or_init(|| {
        let base = HardwareSpec {
            name: String::new(),
            mesh_width: 2,
            mesh_height: 2,
            neurons_per_core: 4,
            axons_per_core: 32,
            synapses_per_core: 256,
            routes_per_core: 64,
            input_neurons: 16,
            input_routes: 64,
            weight_bits: 8,
            potential_bits: 16,
            accumulator_bits: 32,
            interconnect: Interconnect::Crossbar,
        };
        let specs = vec![
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
                ..base
            },
        ];
        specs.into_iter().map(|s| (s.clone(), common::built(&s))).collect()
    })
}

/// Cases that did not fit their spec (reported, kept rare by the pool's sizes).
static SKIPPED: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

static RUN: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

fn case() -> impl Strategy<Value = (usize, spikeforge_tests::NetCase)> {
    // Widths are fixed per spec: draw the spec first.
    (0usize..3).prop_flat_map(|i| {
        let (w, p, a) = [(8, 16, 32), (6, 12, 24), (4, 8, 16)][i];
        (Just(i), spikeforge_tests::net_case_with(2..=w, p..=p, a))
    })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("SF_SIM_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(240),
        ..ProptestConfig::default()
    })]
    #[test]
    fn verilator_equals_golden((spec_i, case) in case(), algo in 0u8..3, seed in any::<u64>(), stall in 0u32..3) {
        let (spec, built) = &specs()[spec_i];
        let n = RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let skipped = SKIPPED.load(std::sync::atomic::Ordering::Relaxed);
        // Most cases must reach the hardware, or the test proves little.
        prop_assert!(n < 50 || skipped * 5 < n, "{skipped} of {n} cases did not fit their spec");
        let net = case.network();
        let opts = match algo {
            0 => MapOptions::new(Algorithm::Greedy),
            1 => MapOptions::new(Algorithm::Multilevel),
            _ => MapOptions { seed: Some(seed), ..MapOptions::new(Algorithm::Greedy) },
        };
        let m = match map(&net, spec, &opts) {
            Ok(m) => m,
            Err(e @ MapError::Bits { .. }) => panic!("generator and spec disagree: {e}"),
            // Networks bigger than the spec are the mapper's business (tested there).
            Err(_) => {
                SKIPPED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                return Ok(());
            }
        };
        let stim = Stimulus::from_list(&case.stimulus);
        let mut o = RunOptions::verified(case.steps);
        o.potentials_every_step = true;
        // A third of the cases take spike-out words only some clocks.
        if stall > 0 {
            o.backpressure = Backpressure::Random { seed, percent_ready: 30 * stall };
        }
        let r = run(built, &net, &m, &stim, &o, &mut |_| {}).unwrap();
        prop_assert!(r.verdict == Verdict::Equal, "spec {}: {}", spec.name, match &r.verdict {
            Verdict::Mismatch(mm) => mm.to_string(),
            v => format!("{v:?}"),
        });
        prop_assert_eq!(r.errors, 0);
    }
}
