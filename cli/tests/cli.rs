//! The command line as a user runs it: exit codes, outputs, files.

use std::path::PathBuf;
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_spikeforge"))
}

fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).current_dir(root()).output().expect("spikeforge runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn check_valid_network() {
    let o = run(&["check", "examples/recurrent/net.json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("synapses     16 in 4 projections"), "{}", stdout(&o));
    let o = run(&["check", "examples/recurrent/net.json", "--json"]);
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["ok"], true);
    assert_eq!(j["stats"]["synapses"], 16);
    assert_eq!(j["stats"]["max_fan_in"], 4);
    assert_eq!(j["stats"]["neurons"], 7);
}

#[test]
fn invalid_input_exits_1_with_a_located_message() {
    let o = run(&["check", "tests/corpus/invalid/unknown_population.toml"]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.contains("unknown population `hiden`"), "{e}");
    assert!(e.contains("unknown_population.toml:15:8"), "{e}");
    assert!(e.contains("known populations: in, hidden"), "{e}");
    let o = run(&["check", "tests/corpus/invalid/unknown_population.toml", "--json"]);
    assert_eq!(o.status.code(), Some(1));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["ok"], false);
    assert_eq!(j["error"]["errors"][0]["line"], 15);
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(run(&["check"]).status.code(), Some(2));
    assert_eq!(run(&["golden", "examples/feedforward/net.toml"]).status.code(), Some(2));
    assert_eq!(run(&["golden", "examples/feedforward/net.toml", "--steps", "x"]).status.code(), Some(2));
    assert_eq!(run(&["frobnicate"]).status.code(), Some(2));
}

#[test]
fn golden_writes_the_expected_files() {
    let dir = std::env::temp_dir().join(format!("spikeforge-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (s, p) = (dir.join("s.csv"), dir.join("p.csv"));
    let o = run(&[
        "golden",
        "examples/recurrent/net.json",
        "--steps",
        "16",
        "--stimulus",
        "examples/recurrent/stimulus.csv",
        "--spikes-out",
        s.to_str().unwrap(),
        "--potentials-out",
        p.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["spikes"], 5);
    assert_eq!(j["outputs"][0]["population"], "ring");
    assert_eq!(j["outputs"][0]["counts"], serde_json::json!([2, 2, 0, 0]));
    let read = |f: &PathBuf| std::fs::read_to_string(f).unwrap();
    assert_eq!(read(&s), read(&root().join("examples/recurrent/expected.csv")));
    assert_eq!(read(&p), read(&root().join("examples/recurrent/expected_potentials.csv")));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn stimulus_past_the_run_is_refused() {
    let o = run(&[
        "golden",
        "examples/feedforward/net.toml",
        "--steps",
        "5",
        "--stimulus",
        "examples/feedforward/stimulus.csv",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.contains("spikes up to step 7"), "{e}");
    assert!(e.contains("--steps 8"), "{e}");
}

#[test]
fn stimulus_far_past_the_run_is_refused_before_indexing() {
    // The per-step index of a spike at step 4e9 would take 16 GB.
    let o = run(&[
        "golden",
        "examples/feedforward/net.toml",
        "--steps",
        "5",
        "--stimulus",
        "tests/corpus/fuzz/stimulus/step_4e9.csv",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("spikes up to step 4000000000"), "{}", stderr(&o));
    assert!(stderr(&o).contains("--steps 4000000001"), "{}", stderr(&o));
}

#[test]
fn bad_stimulus_is_located() {
    let o = run(&[
        "golden",
        "tests/corpus/stimulus/net.toml",
        "--steps",
        "5",
        "--stimulus",
        "tests/corpus/stimulus/unsorted.csv",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("unsorted.csv:4:1"), "{}", stderr(&o));
}

#[test]
fn schema_is_json_schema() {
    let o = run(&["schema"]);
    assert_eq!(o.status.code(), Some(0));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(j["$schema"].as_str().unwrap().contains("json-schema.org"));
    assert!(j["properties"]["populations"].is_object());
    assert_eq!(j["required"], serde_json::json!(["format", "populations"]));
}

#[test]
fn demo_runs_the_whole_pipeline_on_a_reduced_sample() {
    let dir = std::env::temp_dir().join(format!("spikeforge-demo-{}", std::process::id()));
    let o = run(&["demo", "--json", "--samples", "3", "--out", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["ok"], true);
    assert!((j["ann_accuracy"].as_f64().unwrap() - 0.98).abs() < 1e-9, "{j}");
    for t in ["8", "16", "32", "64"] {
        assert!(j["snn_accuracy"]["bias"][t].as_f64().unwrap() > 0.95, "{j}");
    }
    let t32 = j["snn_accuracy"]["bias"]["32"].as_f64().unwrap();
    assert!(t32 >= 0.97, "calibrated SNN at T=32: {t32}");
    assert_eq!(j["cosim"]["runs_equal"], 3);
    assert_eq!(j["cosim"]["classes_equal"], 3);
    assert_eq!(j["cosim"]["hardware_equals_golden"], true);
    assert!(j["cosim"]["cycles_per_inference"].as_f64().unwrap() > 32.0);
    assert!(j["resources"]["luts"].as_u64().unwrap() > 1000, "{}", j["resources"]);
    assert_eq!(j["resources"]["pass"], true);
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert_eq!(html.matches("<svg").count(), 3);
    assert!(html.contains("spikes of one inference"));
    assert!(dir.join("fpga-ulx3s/Makefile").exists() && dir.join("fpga-ulx3s/ulx3s.lpf").exists());
    // The deployed network file is a valid network.
    let o = run(&["check", dir.join("digits_snn_t32.toml").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn convert_writes_a_network_that_runs_on_the_hardware() {
    let dir = std::env::temp_dir().join(format!("spikeforge-convert-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (net, stim) = (dir.join("d.json"), dir.join("stim.csv"));
    let o = run(&[
        "convert",
        "convert/models/digits_mlp.onnx",
        "--data",
        "digits",
        "--steps",
        "16",
        "--out",
        net.to_str().unwrap(),
        "--stimulus",
        stim.to_str().unwrap(),
        "--sample",
        "5",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["layers"].as_array().unwrap().len(), 2);
    assert_eq!(j["layers"][0]["source"], "fc1+relu1");
    assert!(j["snn_accuracy"].as_f64().unwrap() > 0.95, "{j}");
    assert_eq!(j["fits_spec"], 3);
    let o = run(&[
        "sim",
        net.to_str().unwrap(),
        "--spec",
        "medium",
        "--steps",
        "16",
        "--stimulus",
        stim.to_str().unwrap(),
        "--verify",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("hardware = golden"), "{}", stdout(&o));
    // The integer first layer: the sample is in the first layer's biases.
    let sample = dir.join("sample.toml");
    let o = run(&[
        "convert",
        "convert/models/digits_mlp.onnx",
        "--data",
        "digits",
        "--steps",
        "8",
        "--input",
        "integer",
        "--out",
        net.to_str().unwrap(),
        "--sample-net",
        sample.to_str().unwrap(),
        "--sample",
        "5",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = run(&["sim", sample.to_str().unwrap(), "--spec", "medium", "--steps", "8", "--verify"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("hardware = golden"), "{}", stdout(&o));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn convert_errors_are_clear() {
    let dir = std::env::temp_dir().join(format!("spikeforge-convert-err-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.onnx");
    std::fs::write(&bad, b"\x08\x07garbage\xff\xff").unwrap();
    let out = dir.join("o.toml");
    let conv = |model: &str, extra: &[&str]| {
        let mut args = vec!["convert", model, "--steps", "8", "--out", out.to_str().unwrap()];
        args.extend_from_slice(extra);
        if !extra.contains(&"--data") {
            args.extend_from_slice(&["--data", "digits"]);
        }
        run(&args)
    };
    let o = conv(bad.to_str().unwrap(), &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains(&format!("{}: not an ONNX model", bad.display())), "{}", stderr(&o));
    let o = conv("convert/models/fashion_mlp.onnx", &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("the data has 64 values per sample but the model takes 784"), "{}", stderr(&o));
    let o = conv("convert/models/digits_mlp.onnx", &["--method", "magic"]);
    assert!(stderr(&o).contains("methods: none, shift, bias, potential, all"), "{}", stderr(&o));
    let o = conv("convert/models/digits_mlp.onnx", &["--threshold", "p200"]);
    assert!(stderr(&o).contains("--threshold p200: expected max or a percentile"), "{}", stderr(&o));
    let o = conv("convert/models/digits_mlp.onnx", &["--input", "integer", "--stimulus", "s.csv"]);
    assert!(stderr(&o).contains("with --input integer a sample enters as first-layer biases"), "{}", stderr(&o));
    let o = conv("convert/models/digits_mlp.onnx", &["--data", "fashion-mnist:/nonexistent"]);
    assert!(stderr(&o).contains("apt-get install dataset-fashion-mnist"), "{}", stderr(&o));
    let csv = dir.join("d.csv");
    std::fs::write(&csv, "train,1,0.5\ntest,x,0.5\n").unwrap();
    let o = conv("convert/models/digits_mlp.onnx", &["--data", csv.to_str().unwrap()]);
    assert!(stderr(&o).contains(&format!("{}:2: column 2 is \"x\"", csv.display())), "{}", stderr(&o));
    assert!(!out.exists(), "nothing is written on an error");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn spec_list_and_print() {
    let o = run(&["spec", "--list"]);
    assert_eq!(o.status.code(), Some(0));
    let s = stdout(&o);
    for p in ["tiny", "ice40", "large"] {
        assert!(s.contains(p), "{s}");
    }
    let o = run(&["spec", "tiny"]);
    assert!(stdout(&o).contains("neurons_per_core = 16"), "{}", stdout(&o));
    let o = run(&["spec", "huge"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("presets: tiny, ice40, medium, large"), "{}", stderr(&o));
}

#[test]
fn map_writes_images_and_checks_the_arch_model() {
    let dir = std::env::temp_dir().join(format!("spikeforge-map-{}", std::process::id()));
    let o = run(&[
        "map",
        "examples/recurrent/net.json",
        "--spec",
        "tiny",
        "--stimulus",
        "examples/recurrent/stimulus.csv",
        "--steps",
        "16",
        "--out",
        dir.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["measured"]["arch_equals_golden"], true);
    assert_eq!(j["report"]["cores_used"], 1);
    let synapses = std::fs::read_to_string(dir.join("core0_synapses.hex")).unwrap();
    assert_eq!(synapses.lines().count(), 128, "full depth of the tiny spec");
    assert!(synapses.lines().all(|l| l.len() == 3), "4 + 8 bits -> 3 hex digits");
    let mapping: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("mapping.json")).unwrap()).unwrap();
    assert_eq!(mapping["images"]["cores"][0]["neurons"].as_array().unwrap().len(), 5);
    // Deterministic: a second run writes the same bytes.
    let dir2 = dir.with_extension("2");
    let o = run(&["map", "examples/recurrent/net.json", "--spec", "tiny", "--out", dir2.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    let o = run(&["map", "examples/recurrent/net.json", "--spec", "tiny", "--out", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    for f in std::fs::read_dir(&dir).unwrap() {
        let f = f.unwrap().path();
        let name = f.file_name().unwrap();
        assert_eq!(std::fs::read(&f).unwrap(), std::fs::read(dir2.join(name)).unwrap(), "{name:?}");
    }
    std::fs::remove_dir_all(&dir).ok();
    std::fs::remove_dir_all(&dir2).ok();
}

#[test]
fn map_that_does_not_fit_names_the_limit_and_a_preset() {
    let o = run(&["map", "tests/corpus/map/too_many_cores.toml", "--spec", "tiny"]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.contains("needs 7 cores"), "{e}");
    assert!(e.contains("--spec ice40"), "{e}");
    let o = run(&["map", "examples/feedforward/net.toml", "--spec", "nope.toml"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("cannot read the file"), "{}", stderr(&o));
}

#[test]
fn hdl_writes_a_preloaded_design_deterministically() {
    let base = std::env::temp_dir().join(format!("spikeforge-hdl-{}", std::process::id()));
    let (m, a, b) = (base.join("map"), base.join("a"), base.join("b"));
    let o = run(&["map", "examples/recurrent/net.json", "--spec", "tiny", "--out", m.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for d in [&a, &b] {
        let o =
            run(&["hdl", "--spec", "tiny", "--out", d.to_str().unwrap(), "--mapping", m.to_str().unwrap(), "--json"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(j["top"], "sf_tiny_top");
        assert_eq!(j["hex_files"], 8);
    }
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(a.join("manifest.json")).unwrap()).unwrap();
    let ports: Vec<&str> = manifest["ports"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    for p in ["clock", "step", "done", "in_valid", "out_valid", "cfg_we", "cfg_data"] {
        assert!(ports.contains(&p), "{p} missing from {ports:?}");
    }
    let top = std::fs::read_to_string(a.join("sf_tiny_top.v")).unwrap();
    assert!(top.contains("module sf_tiny_top("));
    assert!(!top.contains('$'));
    let params = std::fs::read_to_string(a.join("sf_tiny_cores_0_array_params.v")).unwrap();
    assert!(params.contains("$readmemh(\"core0_params.hex\", mem);"), "{params}");
    // Same inputs, same bytes.
    for f in std::fs::read_dir(&a).unwrap() {
        let f = f.unwrap().path();
        assert_eq!(std::fs::read(&f).unwrap(), std::fs::read(b.join(f.file_name().unwrap())).unwrap(), "{f:?}");
    }
    // A mapping made for another spec is refused.
    let o = run(&["hdl", "--spec", "ice40", "--out", a.to_str().unwrap(), "--mapping", m.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("was mapped for spec `tiny`"), "{}", stderr(&o));
    std::fs::remove_dir_all(&base).ok();
}

#[test]
fn sim_verifies_the_hardware_against_golden() {
    let base = std::env::temp_dir().join(format!("spikeforge-sim-{}", std::process::id()));
    std::fs::create_dir_all(&base).unwrap();
    let (vcd, spikes) = (base.join("w.vcd"), base.join("spikes.csv"));
    let o = run(&[
        "sim",
        "examples/recurrent/net.json",
        "--spec",
        "tiny",
        "--steps",
        "16",
        "--stimulus",
        "examples/recurrent/stimulus.csv",
        "--verify",
        "--vcd",
        vcd.to_str().unwrap(),
        "--vcd-steps",
        "2..5",
        "--spikes-out",
        spikes.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["verdict"], "equal");
    assert_eq!(j["cycles_per_step"].as_array().unwrap().len(), 16);
    assert_eq!(j["vcd"]["first_step"], 2);
    assert_eq!(j["vcd"]["last_step"], 4);
    assert!(j["simulated_cycles_per_second"].as_f64().unwrap() > 0.0);
    // The hardware's spikes are the independent reference's.
    let expected = std::fs::read_to_string(root().join("examples/recurrent/expected.csv")).unwrap();
    assert_eq!(std::fs::read_to_string(&spikes).unwrap(), expected);
    assert!(std::fs::read_to_string(&vcd).unwrap().contains("$enddefinitions"));
    std::fs::remove_dir_all(&base).ok();
}

#[test]
fn sim_input_errors_are_explained() {
    let net = "examples/recurrent/net.json";
    let stim = "examples/recurrent/stimulus.csv";
    let cases: &[(&[&str], &str)] = &[
        (
            &["sim", net, "--spec", "tiny", "--steps", "30", "--vcd", "x.vcd", "--vcd-steps", "5..2"],
            "is not a step range",
        ),
        (
            &["sim", net, "--spec", "tiny", "--steps", "30", "--vcd", "x.vcd", "--vcd-steps", "40"],
            "the run has steps 0..30",
        ),
        (&["sim", net, "--spec", "tiny", "--steps", "30", "--vcd-steps", "1..3"], "--vcd-steps needs --vcd FILE"),
        (&["sim", net, "--spec", "tiny", "--steps", "3", "--stimulus", stim], "use --steps"),
        (&["sim", net, "--spec", "tiny", "--steps", "30", "--backpressure", "0"], "must be 1..=100 percent"),
        (&["sim", net, "--spec", "nosuch", "--steps", "30"], "nosuch"),
    ];
    for (args, msg) in cases {
        let o = run(args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(msg), "{args:?}: expected `{msg}` in:\n{}", stderr(&o));
    }
    // No Verilator: the message says how to install it.
    let o = bin()
        .args(["sim", net, "--spec", "tiny", "--steps", "30"])
        .env("VERILATOR", "/nonexistent/verilator")
        .current_dir(root())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("apt-get install verilator"), "{}", stderr(&o));
}

/// `spikeforge run --port` against the board top under Verilator: a
/// pseudo-terminal pair, one end given to `run`, the other bridged to the
/// simulated UART pins by this test.
#[test]
fn run_talks_to_a_simulated_board_through_a_serial_port() {
    use serialport::SerialPort;
    use spikeforge_fpga::protocol::Link;
    use std::io::{Read, Write};
    let spec = spikeforge_mapper::HardwareSpec::preset("tiny").unwrap();
    let built = spikeforge_sim::uart::build_board(&spec).unwrap_or_else(|e| panic!("{e}"));
    let (mut master, slave) = serialport::TTYPort::pair().expect("a pseudo-terminal pair");
    let slave_name = slave.name().expect("a pty name");
    master.set_timeout(std::time::Duration::from_millis(1)).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = stop.clone();
    let bridge = std::thread::spawn(move || {
        let mut sim = spikeforge_sim::uart::SimLink::new(&built).unwrap();
        let mut buf = [0u8; 256];
        while !stop2.load(std::sync::atomic::Ordering::Relaxed) {
            if let Ok(n) = master.read(&mut buf) {
                sim.send(&buf[..n]).unwrap();
            }
            // About 3 byte times of board time per turn.
            while let Some(b) = sim.recv(std::time::Duration::from_micros(250)).unwrap() {
                master.write_all(&[b]).unwrap();
            }
        }
    });
    let o = run(&[
        "run",
        "examples/recurrent/net.json",
        "--spec",
        "tiny",
        "--port",
        &slave_name,
        "--stimulus",
        "examples/recurrent/stimulus.csv",
        "--steps",
        "16",
        "--json",
    ]);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    bridge.join().unwrap();
    drop(slave);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["board_equals_golden"], true);
    assert_eq!(j["cycles_per_step"].as_array().unwrap().len(), 16);
}

#[test]
fn run_without_a_board_says_so() {
    let o = run(&[
        "run",
        "examples/recurrent/net.json",
        "--spec",
        "tiny",
        "--port",
        "/dev/nonexistent-tty",
        "--steps",
        "3",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("cannot open serial port /dev/nonexistent-tty"), "{}", stderr(&o));
}

#[test]
fn fpga_lists_boards_writes_projects_and_explains_errors() {
    let o = run(&["fpga", "--list-boards"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for b in ["icebreaker", "ice40-hx8k", "arty-a7", "ulx3s"] {
        assert!(stdout(&o).contains(b), "{b} missing:\n{}", stdout(&o));
    }
    let dir = std::env::temp_dir().join(format!("spikeforge-fpga-{}", std::process::id()));
    let out = dir.to_str().unwrap();
    let o = run(&["fpga", "examples/feedforward/net.toml", "--board", "icebreaker", "--out", out, "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["spec"], "ice40");
    let files: Vec<&str> = j["files"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
    for f in ["icebreaker.pcf", "Makefile", "sf_board_top.v", "spikeforge_icebreaker.core", "core0_synapses.hex"] {
        assert!(files.contains(&f), "{f} missing from {files:?}");
    }
    // Unknown board.
    let o = run(&["fpga", "examples/feedforward/net.toml", "--board", "de10", "--out", out]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("unknown board `de10`; boards: icebreaker, ice40-hx8k, arty-a7, ulx3s"),
        "{}",
        stderr(&o)
    );
    // A network too big for the board's spec names the limit.
    let o = run(&["fpga", "examples/recurrent/net.json", "--board", "icebreaker", "--out", out, "--spec", "nosuch"]);
    assert_eq!(o.status.code(), Some(1));
    // --build without the tools says what to install.
    let o = bin()
        .args(["fpga", "examples/feedforward/net.toml", "--board", "icebreaker", "--out", out, "--build"])
        .env("PATH", "/nonexistent")
        .current_dir(root())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("is not installed")
            && stderr(&o).contains("apt-get install yosys nextpnr-ice40 fpga-icestorm"),
        "{}",
        stderr(&o)
    );
    std::fs::remove_dir_all(&dir).ok();
}
