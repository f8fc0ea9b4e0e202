//! Snapshot tests of "does not fit" messages, driven by files: every
//! network in `tests/corpus/map/` names the spec it is mapped onto in its
//! first line (`# spec: NAME`) and must be rejected. Adding a case is
//! adding a file.

use spikeforge_mapper::{explain, map, Algorithm, HardwareSpec, MapOptions};

#[test]
fn networks_that_do_not_fit() {
    insta::glob!("../../tests/corpus", "map/*.toml", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        let spec_name =
            text.lines().next().and_then(|l| l.strip_prefix("# spec: ")).expect("first line names the spec");
        let spec = HardwareSpec::preset(spec_name.trim()).expect("a preset");
        let net = spikeforge_net::load_network(path).unwrap();
        for algorithm in [Algorithm::Greedy, Algorithm::Multilevel] {
            let e = map(&net, &spec, &MapOptions::new(algorithm)).expect_err("must not fit");
            insta::assert_snapshot!(format!("error: {e}\nhelp: {}\n", explain(&net, &spec, &e, algorithm)));
        }
    });
}

#[test]
fn spec_files_are_checked_with_locations() {
    let e = spikeforge_mapper::spec::parse_spec(
        "bad.toml",
        spikeforge_mapper::spec::to_toml(&HardwareSpec::preset("tiny").unwrap())
            .replace("mesh_width = 2", "mesh_width = 0"),
    )
    .unwrap_err();
    insta::assert_snapshot!(spikeforge_net::diag::render_plain(&e));
    let e = spikeforge_mapper::spec::parse_spec("bad.toml", "name = \"x\"\nmesh_width = 2\n".into()).unwrap_err();
    insta::assert_snapshot!(spikeforge_net::diag::render_plain(&e));
    // An integer beyond u32 says so and gives the range, not "invalid value ... expected u32".
    let e = spikeforge_mapper::spec::parse_spec(
        "big.toml",
        spikeforge_mapper::spec::to_toml(&HardwareSpec::preset("tiny").unwrap())
            .replace("mesh_width = 2", "mesh_width = 99999999999999999999999"),
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("the number 99999999999999999999999 is too large: spec sizes and widths are 0..=4294967295"),
        "{e}"
    );
    let e = spikeforge_mapper::spec::load_spec("no-such-preset").unwrap_err();
    assert!(e.to_string().contains("not a preset name"), "{e}");
}

#[test]
fn presets_are_valid_and_round_trip() {
    for name in spikeforge_mapper::spec::PRESETS {
        let s = HardwareSpec::preset(name).unwrap();
        assert!(s.problems().is_empty(), "{name}: {:?}", s.problems());
        let back = spikeforge_mapper::spec::parse_spec("x.toml", spikeforge_mapper::spec::to_toml(&s)).unwrap();
        assert_eq!(back, s);
    }
}
