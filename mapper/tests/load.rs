//! `Mapping::load`: a folder written by `Mapping::files` reads back as the
//! same spec and images, and every kind of bad folder gets its own error
//! naming the file (and, for a wrong value, its JSON path and line).

use miette::Diagnostic;
use spikeforge_mapper::{map, Algorithm, HardwareSpec, MapLoadError, MapOptions, Mapping};
use std::path::{Path, PathBuf};

/// A fresh folder under the temp dir for one test.
fn folder(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("spikeforge-load-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Maps the recurrent example onto `tiny` and writes its files into `dir`.
fn write_mapping(dir: &Path) -> Mapping {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let net = spikeforge_net::load_network(&root.join("examples/recurrent/net.json")).unwrap();
    let m = map(&net, &HardwareSpec::preset("tiny").unwrap(), &MapOptions::new(Algorithm::Multilevel)).unwrap();
    for (name, text) in m.files(&net) {
        std::fs::write(dir.join(name), text).unwrap();
    }
    m
}

fn help(e: &MapLoadError) -> String {
    e.help().map(|h| h.to_string()).unwrap_or_default()
}

#[test]
fn round_trip_gives_the_same_spec_and_images() {
    let dir = folder("round-trip");
    let m = write_mapping(&dir);
    let loaded = Mapping::load(&dir).unwrap();
    assert_eq!(loaded.spec, m.spec);
    assert_eq!(loaded.images, m.images);
    assert_eq!(loaded.report.cores_used, m.report.cores_used);
    assert_eq!(loaded.neuron_counts(), m.images.cores.iter().map(|c| c.neurons.len() as u32).collect::<Vec<_>>());
    let placed: usize = loaded.placement.iter().map(|p| p.core_slot.len()).sum();
    assert_eq!(placed, m.placement.iter().flatten().count());
    loaded.expect_spec(&m.spec, &dir).unwrap();
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_folder_without_mapping_json_says_what_to_pass() {
    let dir = folder("missing");
    let e = Mapping::load(&dir).unwrap_err();
    assert!(matches!(e, MapLoadError::Missing(_)), "{e:?}");
    let file = dir.join("mapping.json").display().to_string();
    assert!(e.to_string().starts_with(&format!("{file}: cannot read the mapping file: ")), "{e}");
    assert_eq!(help(&e), "--mapping takes the folder written by `spikeforge map --out DIR`");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_file_that_is_not_json_is_not_a_mapping_file() {
    let dir = folder("not-json");
    std::fs::write(dir.join("mapping.json"), "hello\n").unwrap();
    let e = Mapping::load(&dir).unwrap_err();
    let file = dir.join("mapping.json").display().to_string();
    assert_eq!(e.to_string(), format!("{file}: not a mapping file: expected value at line 1 column 1"));
    assert!(help(&e).contains("spikeforge map --out DIR"), "{}", help(&e));
    // Trailing text after a good document is a syntax error too.
    write_mapping(&dir);
    let mut text = std::fs::read_to_string(dir.join("mapping.json")).unwrap();
    text.push_str("}\n");
    std::fs::write(dir.join("mapping.json"), text).unwrap();
    assert!(matches!(Mapping::load(&dir).unwrap_err(), MapLoadError::Syntax { .. }));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_value_of_the_wrong_shape_is_named_by_its_path_and_line() {
    let dir = folder("shape");
    write_mapping(&dir);
    let p = dir.join("mapping.json");
    let text = std::fs::read_to_string(&p).unwrap();
    // The first neuron list of core 0 becomes a string.
    let at = text.find("\"neurons\": [").unwrap();
    let end = at + text[at..].find(']').unwrap() + 1;
    let line = text[..at].lines().count();
    std::fs::write(&p, format!("{}\"neurons\": \"five\"{}", &text[..at], &text[end..])).unwrap();
    let e = Mapping::load(&dir).unwrap_err();
    match &e {
        MapLoadError::Shape { path, line: l, detail, .. } => {
            assert_eq!(path, "images.cores[0].neurons");
            assert_eq!(*l, line);
            assert!(detail.contains("invalid type: string \"five\""), "{detail}");
        }
        e => panic!("{e:?}"),
    }
    let file = p.display().to_string();
    assert!(e.to_string().starts_with(&format!("{file}:{line}:")), "{e}");
    // A missing field, and a spec that fails its checks.
    std::fs::write(&p, "{\"spec\": {}}").unwrap();
    let e = Mapping::load(&dir).unwrap_err();
    assert!(matches!(&e, MapLoadError::Shape { path, .. } if path == "spec"), "{e:?}");
    assert!(e.to_string().contains("missing field `name`"), "{e}");
    let bad_spec = text.replacen("\"mesh_width\": 2", "\"mesh_width\": 0", 1);
    std::fs::write(&p, bad_spec).unwrap();
    let e = Mapping::load(&dir).unwrap_err();
    assert!(e.to_string().contains("the spec in the mapping is not valid: mesh_width = 0 is outside 1..=64"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_mapping_for_another_spec_is_refused() {
    let dir = folder("spec");
    write_mapping(&dir);
    let loaded = Mapping::load(&dir).unwrap();
    let e = loaded.expect_spec(&HardwareSpec::preset("ice40").unwrap(), &dir).unwrap_err();
    let file = dir.join("mapping.json").display().to_string();
    assert_eq!(e.to_string(), format!("{file} was mapped for spec `tiny`, not for `ice40`"));
    assert_eq!(help(&e), "map the network with the same --spec, or pass the spec the mapping was made for");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_fifo_is_refused_by_the_bounded_reader() {
    #[cfg(unix)]
    {
        let dir = folder("fifo");
        assert!(std::process::Command::new("mkfifo").arg(dir.join("mapping.json")).status().unwrap().success());
        let e = Mapping::load(&dir).unwrap_err();
        assert!(matches!(e, MapLoadError::Input(_)), "{e:?}");
        assert!(e.to_string().contains("the mapping file is a FIFO (named pipe)"), "{e}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
