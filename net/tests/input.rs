//! Bounded reads of hostile paths: devices, FIFOs, files over the limit.
//! Each would make a plain `read_to_string` hang or grow without bound, so
//! every blocking-prone call runs on a thread the test gives up on after a
//! few seconds (a failure, not a hang).

use spikeforge_net::input::{read_file, InputError};
use spikeforge_net::{load_network, load_spikes, SpikeFileKind};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

/// A fresh folder for one test.
fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("spikeforge-input-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs `f` on a thread; fails if it takes more than 10 s.
fn within<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(10)).expect("the read blocked or ran away instead of being refused")
}

fn net_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus/stimulus/net.toml")
}

#[cfg(unix)]
#[test]
fn symlink_to_dev_zero_is_refused_as_network_and_stimulus() {
    let d = dir("zero");
    let (n, s) = (d.join("net.json"), d.join("stim.csv"));
    std::os::unix::fs::symlink("/dev/zero", &n).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &s).unwrap();
    let e = within(move || load_network(&n).unwrap_err());
    assert!(e.to_string().ends_with("the network file is a character device, not a regular file; spikeforge reads inputs from regular files only"), "{e}");
    let net = load_network(&net_path()).unwrap();
    let e = within(move || load_spikes(&net, &s, SpikeFileKind::Stimulus).unwrap_err());
    assert!(e.to_string().contains("the stimulus is a character device"), "{e}");
    assert!(e.diags[0].help.as_deref().unwrap().contains("regular file"));
}

#[cfg(unix)]
#[test]
fn fifo_is_refused_without_blocking() {
    let d = dir("fifo");
    let f = d.join("net.toml");
    let ok = std::process::Command::new("mkfifo").arg(&f).status().expect("mkfifo runs").success();
    assert!(ok, "mkfifo failed");
    // Opening a FIFO for reading blocks until a writer appears: the
    // metadata check must refuse it before any open.
    let g = f.clone();
    let e = within(move || read_file(&g, "network file", 1 << 20).unwrap_err());
    assert!(matches!(e, InputError::NotRegular { kind: "a FIFO (named pipe)", .. }), "{e}");
    let e = within(move || load_network(&f).unwrap_err());
    assert!(e.to_string().contains("is a FIFO (named pipe), not a regular file"), "{e}");
}

#[test]
fn directories_and_missing_files_are_named() {
    let d = dir("kinds");
    let e = read_file(&d, "network file", 100).unwrap_err();
    assert!(e.to_string().contains("the network file is a directory"), "{e}");
    let e = read_file(&d.join("none.toml"), "network file", 100).unwrap_err();
    assert!(e.is_not_found(), "{e}");
    assert!(e.to_string().contains("cannot read the network file: "), "{e}");
}

#[test]
fn over_the_limit_is_refused_with_the_size_and_the_fix() {
    let d = dir("limit");
    let f = d.join("net.toml");
    std::fs::write(&f, "x".repeat(5000)).unwrap();
    let e = read_file(&f, "network file", 4096).unwrap_err();
    assert_eq!(
        e,
        InputError::TooLarge {
            file: f.display().to_string(),
            what: "network file".into(),
            size: Some(5000),
            limit: 4096
        }
    );
    assert!(
        e.to_string()
            .ends_with("the network file is 4.9 KiB (5000 bytes), larger than the input limit of 4 KiB (4096 bytes)"),
        "{e}"
    );
    assert!(e.help().unwrap().contains("--max-input-size SIZE or SPIKEFORGE_MAX_INPUT_BYTES=SIZE"));
    // At the limit exactly is fine.
    assert_eq!(read_file(&f, "network file", 5000).unwrap().len(), 5000);
}

/// A file whose size the metadata does not tell (`/proc` files report 0):
/// the bounded read itself stops at the limit.
#[cfg(target_os = "linux")]
#[test]
fn a_file_larger_than_its_metadata_says_is_bounded_by_the_read() {
    let e = read_file(Path::new("/proc/self/status"), "stimulus", 16).unwrap_err();
    assert!(matches!(e, InputError::TooLarge { size: None, limit: 16, .. }), "{e}");
    assert!(e.to_string().contains("holds more than 16 bytes"), "{e}");
}
