//! Emitted Verilog through Verilator lint (-Wall), Icarus and Yosys.
//! The tools come from Debian (`apt-get install verilator iverilog yosys`;
//! `./dev test` installs them); without them these tests fail with that
//! install command rather than pass silently.

use spikeforge_hdl::{emit_design, neuron::NeuronUpdate, tools};
use std::path::PathBuf;

fn write(files: &[spikeforge_hdl::emit::VerilogFile], name: &str) -> (PathBuf, Vec<PathBuf>) {
    let dir = std::env::temp_dir().join(format!("sf-hdl-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let paths = files
        .iter()
        .map(|f| {
            let p = dir.join(format!("{}.v", f.module));
            std::fs::write(&p, &f.text).unwrap();
            p
        })
        .collect();
    (dir, paths)
}

#[test]
fn neuron_datapath_lints_compiles_and_synthesizes() {
    for p in [8u32, 16] {
        let top = format!("sf_neuron_p{p}");
        let files = emit_design(&mut NeuronUpdate::new(p), &top, &top);
        assert!(files.iter().all(|f| !f.text.contains('$')));
        let (dir, paths) = write(&files, &top);
        tools::verilator_lint(&dir, &paths, &top).unwrap_or_else(|e| panic!("{e}"));
        tools::iverilog(&dir, &paths, &top).unwrap_or_else(|e| panic!("{e}"));
        let r = tools::yosys_ice40(&dir, &paths, &top).unwrap_or_else(|e| panic!("{e}"));
        assert!(r.luts > 50, "{r:?}");
        assert_eq!(r.flip_flops, 0, "combinational");
        std::fs::remove_dir_all(&dir).ok();
    }
}
