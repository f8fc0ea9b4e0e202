//! Snapshot of the emitted Verilog of a `tiny` core: any change to the
//! generated hardware shows up as a reviewable diff (`cargo insta review`).
//! Also checks that emission is deterministic.

use spikeforge_hdl::core::Core;
use spikeforge_hdl::emit_design;
use spikeforge_mapper::HardwareSpec;

fn emit() -> String {
    let spec = HardwareSpec::preset("tiny").unwrap();
    let mut core = Core::new(&spec, &Default::default(), &Default::default(), &Default::default());
    emit_design(&mut core, "sf_tiny_core", "sf_tiny_core")
        .into_iter()
        .map(|f| format!("// ===== {}.v =====\n{}", f.module, f.text))
        .collect()
}

#[test]
fn tiny_core_verilog() {
    let a = emit();
    assert_eq!(a, emit(), "emission is deterministic");
    insta::assert_snapshot!(a);
}

/// The neuron pipe of a core with synaptic currents (`current_state`):
/// the state word `{i, v}` and the current's update.
#[test]
fn current_state_pipe_verilog() {
    let mut pipe = spikeforge_hdl::neuron::NeuronPipe::new(16, 24, true);
    let text: String = emit_design(&mut pipe, "sf_cur_pipe", "sf_cur_pipe")
        .into_iter()
        .map(|f| format!("// ===== {}.v =====\n{}", f.module, f.text))
        .collect();
    insta::assert_snapshot!(text);
}

/// The whole emitted design for `tiny`, as `spikeforge hdl --spec tiny` writes it.
#[test]
fn tiny_design_verilog() {
    let spec = HardwareSpec::preset("tiny").unwrap();
    let text: String = spikeforge_hdl::design(&spec, None)
        .into_iter()
        .map(|f| format!("// ===== {}.v =====\n{}", f.module, f.text))
        .collect();
    insta::assert_snapshot!(text);
}

/// The emitted top module has exactly the ports of the hardware contract's
/// table (`spikeforge_hw::ports`), for a crossbar and a mesh spec: the
/// shim, the testbench and the bridge are generated from or checked
/// against the same table.
#[test]
fn top_ports_are_the_port_table() {
    use spikeforge_hw::ports::{parse_verilog_ports, Dir, CLOCK, PORTS};
    for name in ["tiny", "large"] {
        let spec = HardwareSpec { mesh_width: 2, mesh_height: 2, ..HardwareSpec::preset(name).unwrap() };
        let files = spikeforge_hdl::design(&spec, None);
        let top = files.iter().find(|f| f.module.ends_with("_top")).expect("a top module");
        let mut got = parse_verilog_ports(&top.text, &top.module);
        got.sort();
        let mut want: Vec<(String, Dir, usize)> = PORTS.iter().map(|p| (p.name.to_string(), p.dir, p.width)).collect();
        want.push((CLOCK.to_string(), Dir::In, 1));
        want.sort();
        assert_eq!(got, want, "{name}");
    }
}
