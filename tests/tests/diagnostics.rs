//! Snapshot tests of error messages, driven by files: every file in
//! `tests/corpus/invalid/` is a bad network and every `*.csv` in
//! `tests/corpus/stimulus/` a stimulus read against `stimulus/net.toml`.
//! Adding a case is adding a file (then `cargo insta review`). Files named
//! `ok_*` must be accepted instead.

use spikeforge_net::diag::render_plain;
use spikeforge_net::{parse_network, parse_spikes, Format, SpikeFileKind};
use std::path::Path;

fn corpus() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/corpus"))
}

/// Name shown in messages: relative to the corpus, with `/`, so snapshots
/// do not depend on where the checkout lives.
fn shown(path: &Path) -> String {
    path.strip_prefix(corpus()).unwrap().to_string_lossy().replace('\\', "/")
}

#[test]
fn invalid_networks() {
    insta::glob!("../corpus", "invalid/*", |path| {
        let name = shown(path);
        let format = Format::from_path(&name).expect("corpus files are .json or .toml");
        let text = std::fs::read_to_string(path).unwrap();
        let err = match parse_network(&name, text, format) {
            Ok(_) => panic!("{name} should be rejected"),
            Err(e) => e,
        };
        // Every diagnostic of a network file has a place in the file and a help line.
        for d in &err.diags {
            assert!(d.line_col().is_some(), "{name}: no location for `{}`", d.message);
            assert!(d.help.is_some(), "{name}: no help for `{}`", d.message);
        }
        insta::assert_snapshot!(render_plain(&err));
    });
}

#[test]
fn stimulus_files() {
    let net_path = corpus().join("stimulus/net.toml");
    let net = spikeforge_net::load_network(&net_path).unwrap();
    insta::glob!("../corpus", "stimulus/*.csv", |path| {
        let name = shown(path);
        let text = std::fs::read_to_string(path).unwrap();
        let result = parse_spikes(&net, &name, text, SpikeFileKind::Stimulus);
        let ok = path.file_name().unwrap().to_string_lossy().starts_with("ok_");
        match result {
            Ok(list) => {
                assert!(ok, "{name} should be rejected");
                insta::assert_snapshot!(spikeforge_net::spikes::spikes_to_csv(&net, &list.0));
            }
            Err(e) => {
                assert!(!ok, "{name} should be accepted: {e}");
                for d in &e.diags {
                    assert!(d.line_col().is_some() && d.help.is_some(), "{name}: `{}` lacks place or help", d.message);
                }
                insta::assert_snapshot!(render_plain(&e));
            }
        }
    });
}

#[test]
fn spike_files_reject_input_populations() {
    let net = spikeforge_net::load_network(&corpus().join("stimulus/net.toml")).unwrap();
    let e = parse_spikes(&net, "run.csv", "step,population,index\n0,in,1\n".into(), SpikeFileKind::Spikes).unwrap_err();
    insta::assert_snapshot!(render_plain(&e));
}

#[test]
fn unknown_extension_and_missing_file() {
    let e = spikeforge_net::load_network(Path::new("network.yaml")).unwrap_err();
    assert_eq!(e.to_string(), "network.yaml: unknown network file type");
    let e = spikeforge_net::load_network(Path::new("/nonexistent/net.toml")).unwrap_err();
    assert!(e.to_string().starts_with("/nonexistent/net.toml: cannot read the network file: "), "{e}");
}

#[test]
fn json_error_report_has_line_and_column() {
    let text = std::fs::read_to_string(corpus().join("invalid/sparse_index.json")).unwrap();
    let e = parse_network("sparse_index.json", text, Format::Json).unwrap_err();
    let j = e.to_json();
    assert_eq!(j["errors"][0]["line"], 9);
    assert_eq!(j["errors"][0]["column"], 46);
    assert_eq!(j["errors"][0]["help"], "indices run from 0 to 1");
    assert_eq!(j["errors"][0]["message"], "post index 2 is out of range for population `out` of size 2");
}
