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
