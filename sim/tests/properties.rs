//! Property test: random networks x random specs x random mappings on the
//! Verilator model equal golden, spikes every step and final potentials.
//!
//! Cases come from `spikeforge_tests::sim_case` over the shared spec pool
//! (`property_specs`: one Verilator build each, reused by every case), the
//! same generator `spikeforge regress` runs campaigns with; networks, their
//! bit widths within the spec, the partitioner and the placement seed are
//! random. `SF_SIM_CASES` sets the number of cases (default 240). A failure
//! prints the minimal network as TOML and its stimulus as CSV.

mod common;
use proptest::prelude::*;
use spikeforge_mapper::{map, HardwareSpec, MapError};
use spikeforge_net::Stimulus;
use spikeforge_sim::{run, Backpressure, Built, RunOptions, Verdict};
use std::sync::OnceLock;

/// The shared spec pool with its models.
fn specs() -> &'static [(HardwareSpec, Built)] {
    static POOL: OnceLock<Vec<(HardwareSpec, Built)>> = OnceLock::new();
    POOL.get_or_init(|| {
        spikeforge_tests::property_specs().into_iter().map(|s| (s.clone(), common::built(&s))).collect()
    })
}

/// Cases that did not fit their spec (reported, kept rare by the pool's sizes).
static SKIPPED: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

static RUN: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

fn case() -> impl Strategy<Value = spikeforge_tests::SimCase> {
    spikeforge_tests::sim_case(&spikeforge_tests::property_specs()).expect("the property pool suits the generator")
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("SF_SIM_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(240),
        ..ProptestConfig::default()
    })]
    #[test]
    fn verilator_equals_golden(c in case()) {
        let (spec, built) = &specs()[c.spec];
        let n = RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let skipped = SKIPPED.load(std::sync::atomic::Ordering::Relaxed);
        // Most cases must reach the hardware, or the test proves little.
        prop_assert!(n < 50 || skipped * 5 < n, "{skipped} of {n} cases did not fit their spec");
        let net = c.net.network();
        let m = match map(&net, spec, &c.mapping.options()) {
            Ok(m) => m,
            Err(e @ MapError::Bits { .. }) => panic!("generator and spec disagree: {e}"),
            // Networks bigger than the spec are the mapper's business (tested there).
            Err(_) => {
                SKIPPED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                return Ok(());
            }
        };
        let stim = Stimulus::from_train(&c.net.stimulus);
        let mut o = RunOptions::verified(c.net.steps);
        o.potentials_every_step = true;
        // A third of the cases take spike-out words only some clocks.
        if let Some(s) = c.stall {
            o.backpressure = Backpressure::Random { seed: s.seed, percent_ready: s.percent_ready };
        }
        let r = run(built, &net, &m, &stim, &o, &mut |_| {}).unwrap();
        prop_assert!(r.verdict == Verdict::Equal, "spec {}: {}", spec.name, match &r.verdict {
            Verdict::Mismatch(mm) => mm.to_string(),
            v => format!("{v:?}"),
        });
        prop_assert_eq!(r.errors, 0);
    }
}
