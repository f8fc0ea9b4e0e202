//! Snapshot tests of error messages, driven by files: every file in
//! `tests/corpus/invalid/` is a bad network and every `*.csv` in
//! `tests/corpus/stimulus/` a stimulus read against `stimulus/net.toml`.
//! Adding a case is adding a file (then `cargo insta review`). Files named
//! `ok_*` must be accepted instead. Files are read as bytes and decoded as
//! the loaders do, so a file that is not UTF-8 is a case too.

use spikeforge_net::diag::render_plain;
use spikeforge_net::{parse_network, parse_spikes, FileErrors, Format, SpikeFileKind};
use std::path::Path;

/// The file's text as the loaders decode it (invalid UTF-8 is an error).
fn text(path: &Path, name: &str, what: &str) -> Result<String, FileErrors> {
    spikeforge_net::input::text_from_bytes(name, what, std::fs::read(path).unwrap())
}

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
        let err = match text(path, &name, "network file").and_then(|t| parse_network(&name, t, format)) {
            Ok(_) => panic!("{name} should be rejected"),
            Err(e) => e,
        };
        // Never more than the cap, and a long line is never quoted whole.
        assert!(err.diags.len() <= spikeforge_net::diag::MAX_DIAGS_PER_FILE);
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
        let result = text(path, &name, "stimulus").and_then(|t| parse_spikes(&net, &name, t, SpikeFileKind::Stimulus));
        let ok = path.file_name().unwrap().to_string_lossy().starts_with("ok_");
        match result {
            Ok(list) => {
                assert!(ok, "{name} should be rejected");
                insta::assert_snapshot!(spikeforge_net::spikes::spikes_to_csv(&net, &list));
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

#[test]
fn one_line_json_reports_are_capped_and_windowed() {
    let name = "invalid/many_problems_one_line.json";
    let text = std::fs::read_to_string(corpus().join(name)).unwrap();
    let e = parse_network(name, text, Format::Json).unwrap_err();
    assert_eq!((e.diags.len(), e.more), (50, 10));
    assert_eq!(e.to_json()["more"], 10);
    let out = render_plain(&e);
    assert!(out.contains("and 10 more problems"), "{out}");
    assert!(out.lines().all(|l| l.chars().count() < 200), "a line of the report is too long:\n{out}");
    // Positions stay exact after windowing: the 50th population starts at
    // the byte after the 49th's `, `.
    let j = e.to_json();
    let col49 = j["errors"][49]["column"].as_u64().unwrap();
    let col48 = j["errors"][48]["column"].as_u64().unwrap();
    assert_eq!(col49 - col48, r#"{"name": "p48", "size": 1, "threshold": 0}, "#.len() as u64);
}

#[test]
fn stimulus_rows_past_the_run_are_located() {
    let net = spikeforge_net::load_network(&corpus().join("stimulus/net.toml")).unwrap();
    let text = "step,population,index\n0,in,0\n3,in,1\n4,in,2\n9,in,0\n".to_string();
    let e = spikeforge_net::spikes::parse_stimulus(&net, "s.csv", text.clone(), 4).unwrap_err();
    insta::assert_snapshot!(render_plain(&e));
    assert!(spikeforge_net::spikes::parse_stimulus(&net, "s.csv", text, 10).is_ok());
}
