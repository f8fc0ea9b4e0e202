//! Fit benchmark (figures printed, nothing asserted): the default example
//! (examples/feedforward) on every board with the board's spec — LUTs,
//! flip-flops, block RAMs and, for iCE40 boards, fmax after place and route
//! against the board clock.
//!
//! `cargo bench -p spikeforge-fpga` runs the flows (several minutes); without
//! `--bench` (as `cargo test --benches` runs it) it only writes the projects.

use spikeforge_fpga::{flow, project, Family, BOARDS};
use spikeforge_mapper::{map, Algorithm, HardwareSpec, MapOptions};
use std::path::Path;
use std::time::Instant;

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let net = spikeforge_net::load_network(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/feedforward/net.toml"
    )))
    .expect("the default example");
    println!("fit of the default example (examples/feedforward) per board");
    println!(
        "  {:<11} {:<7} {:>13} {:>6} {:>11} {:>18} {:>7} {:>6}",
        "board", "spec", "logic", "FFs", "block RAM", "fmax / clock", "kind", "time"
    );
    for b in BOARDS {
        let spec = HardwareSpec::preset(b.spec).expect("preset");
        let m = map(&net, &spec, &MapOptions::new(Algorithm::Multilevel)).expect("fits");
        let dir = std::env::temp_dir().join(format!("sf-fit-{}-{}", b.name, std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        for (n, t) in project::files(b, &net, &m) {
            std::fs::write(dir.join(n), t).expect("write");
        }
        if quick {
            println!(
                "  {:<11} {:<7} project written (quick run: `cargo bench -p spikeforge-fpga` runs the flows)",
                b.name, b.spec
            );
            let _ = std::fs::remove_dir_all(&dir);
            continue;
        }
        let t = Instant::now();
        let r = match b.family {
            Family::Ice40 => flow::build_ice40(&dir, b),
            _ => flow::synth_check(&dir, b),
        };
        match r {
            Ok(r) => {
                let pct = |a: u64, n: u64| 100.0 * a as f64 / n.max(1) as f64;
                println!(
                    "  {:<11} {:<7} {:>5} ({:>3.0}%) {:>6} {:>3}/{:<3}({:>3.0}%) {:>18} {:>7} {:>5.0}s",
                    b.name,
                    b.spec,
                    r.luts,
                    pct(r.luts, r.luts_available),
                    r.flip_flops,
                    r.brams,
                    r.brams_available,
                    pct(r.brams, r.brams_available),
                    match r.fmax_mhz {
                        Some(f) => format!("{f:.1} / {:.0} MHz", r.clock_mhz),
                        None => format!("- / {:.0} MHz", r.clock_mhz),
                    },
                    if r.kind == "place-and-route" { "P&R" } else { "synth" },
                    t.elapsed().as_secs_f64()
                );
            }
            Err(e) => println!("  {:<11} {:<7} FAILED: {e}", b.name, b.spec),
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    println!("  (logic: iCE40 logic cells after packing, LUTs after synthesis otherwise; P&R: nextpnr; synth: yosys estimate)");
}
