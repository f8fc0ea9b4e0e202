//! Replays every seed and every committed fuzz finding through the target
//! checks with a normal build, and keeps the binary seeds equal to their
//! generators.

use super::*;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Files of `dir` (relative to the repository) ending in one of `exts`
/// (any file when `exts` is empty), sorted.
fn files(dir: &str, exts: &[&str]) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(repo().join(dir)) else { return Vec::new() };
    let mut v: Vec<PathBuf> = rd
        .map(|e| e.expect("readable folder").path())
        .filter(|p| p.is_file())
        .filter(|p| exts.is_empty() || exts.iter().any(|x| p.extension().is_some_and(|e| e == *x)))
        .collect();
    v.sort();
    v
}

fn replay(target: fn(&[u8]), paths: &[PathBuf]) {
    assert!(!paths.is_empty(), "no inputs to replay");
    for p in paths {
        let data = std::fs::read(p).expect("readable input");
        eprintln!("replaying {}", p.display());
        target(&data);
    }
}

/// The seeds `./dev fuzz` gives a target.
fn seeds(target: &str) -> Vec<PathBuf> {
    let mut v = match target {
        "network" => [
            files("examples/feedforward", &["toml", "json"]),
            files("examples/recurrent", &["toml", "json"]),
            files("examples/saturation", &["toml", "json"]),
            files("examples/current", &["toml", "json"]),
            files("tests/corpus/invalid", &[]),
            files("tests/corpus/map", &[]),
        ]
        .concat(),
        "stimulus" => [
            files("tests/corpus/stimulus", &["csv"]),
            files("examples/feedforward", &["csv"]),
            files("examples/recurrent", &["csv"]),
        ]
        .concat(),
        "onnx" => {
            [files("fuzz/seeds/onnx", &[]), files("convert/models", &["onnx"]), files("convert/tests/onnx", &["onnx"])]
                .concat()
        }
        _ => files(&format!("fuzz/seeds/{target}"), &[]),
    };
    v.extend(files(&format!("tests/corpus/fuzz/{target}"), &[]));
    v
}

#[test]
fn network_seeds() {
    replay(network, &seeds("network"));
}

#[test]
fn stimulus_seeds() {
    replay(stimulus, &seeds("stimulus"));
}

#[test]
fn spec_seeds() {
    replay(spec, &seeds("spec"));
}

#[test]
fn onnx_seeds() {
    replay(onnx, &seeds("onnx"));
}

#[test]
fn protocol_seeds() {
    replay(protocol, &seeds("protocol"));
}

#[test]
fn generated_onnx_seeds_import() {
    for (name, bytes) in seeds::onnx() {
        if let Err(e) = spikeforge_convert::import_bytes(&name, &bytes) {
            panic!("seed {name} does not import: {e}");
        }
    }
}

#[test]
fn protocol_session_seed_reads_as_a_client_would() {
    use spikeforge_fpga::protocol::Client;
    let (_, bytes) = seeds::protocol().into_iter().find(|(n, _)| n == "session.bin").expect("the session seed");
    let mut c = Client::new(Scripted { bytes: bytes.iter() }, 115_200);
    let step = c.step().expect("a step");
    assert_eq!((step.spikes, step.step_count, step.cycles), (vec![(0, 2), (1, 0)], 1, 40));
    assert_eq!(c.peek(0, 0), Ok(17));
    assert_eq!(c.status().map(|s| s.step_count), Ok(1));
}

#[test]
fn seeds_are_generated() {
    let write = std::env::var_os("SPIKEFORGE_WRITE_SEEDS").is_some();
    for (dir, generated) in [("protocol", seeds::protocol()), ("onnx", seeds::onnx()), ("spec", seeds::spec())] {
        let folder = repo().join("fuzz/seeds").join(dir);
        if write {
            let _ = std::fs::remove_dir_all(&folder);
            std::fs::create_dir_all(&folder).expect("seed folder");
            for (name, bytes) in &generated {
                std::fs::write(folder.join(name), bytes).expect("seed written");
            }
        }
        let mut names: Vec<String> = generated.iter().map(|(n, _)| n.clone()).collect();
        names.sort();
        let on_disk: Vec<String> = files(&format!("fuzz/seeds/{dir}"), &[])
            .iter()
            .map(|p| p.file_name().expect("a file").to_string_lossy().into_owned())
            .collect();
        assert_eq!(on_disk, names, "fuzz/seeds/{dir} differs from its generator (SPIKEFORGE_WRITE_SEEDS=1 rewrites)");
        for (name, bytes) in generated {
            let disk = std::fs::read(folder.join(&name)).expect("seed readable");
            assert!(disk == bytes, "fuzz/seeds/{dir}/{name} differs from its generator");
        }
    }
}
