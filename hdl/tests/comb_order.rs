//! No combinational block of an emitted design reads a variable before it
//! assigns it (see `emit::reads_before_writes`): every simulator, event
//! driven or not, then computes the same values.

use spikeforge_mapper::{HardwareSpec, Interconnect};

#[test]
fn no_variable_is_read_before_it_is_assigned() {
    let mesh = HardwareSpec {
        name: "tiny-mesh".into(),
        mesh_width: 3,
        mesh_height: 2,
        interconnect: Interconnect::Mesh,
        ..HardwareSpec::preset("tiny").unwrap()
    };
    for spec in [HardwareSpec::preset("tiny").unwrap(), mesh] {
        for f in spikeforge_hdl::design(&spec, None) {
            let bad = spikeforge_hdl::emit::reads_before_writes(&f.text);
            assert!(bad.is_empty(), "{}: {} read before assigned: {:?}", spec.name, f.module, bad);
        }
    }
}

#[test]
fn the_check_finds_a_read_before_write() {
    let m = "module m(a,y);\n    input wire  a;\n    output reg  y;\n    reg  r;\n    always @(*) begin\n        y = r;\n        r = a;\n    end\nendmodule\n";
    assert_eq!(spikeforge_hdl::emit::reads_before_writes(m), vec!["r".to_string()]);
}
