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
    // At the first row past the run, with its file and line.
    assert!(e.contains("examples/feedforward/stimulus.csv:11:1: step 5 is past the end of the run"), "{e}");
}

#[test]
fn zero_steps_is_a_usage_error_in_every_command() {
    let net = "examples/feedforward/net.toml";
    let cases: &[&[&str]] = &[
        &["golden", net, "--steps", "0"],
        &["sim", net, "--spec", "tiny", "--steps", "0"],
        &["map", net, "--spec", "tiny", "--stimulus", "examples/feedforward/stimulus.csv", "--steps", "0"],
        &["run", net, "--port", "/nonexistent", "--spec", "tiny", "--steps", "0"],
        &["convert", "convert/models/digits_mlp.onnx", "--data", "digits", "--steps", "0", "--out", "x.toml"],
    ];
    for args in cases {
        let o = run(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("steps must be at least 1"), "{args:?}: {}", stderr(&o));
    }
}

/// Paths that would make a plain read hang or exhaust memory: a link to
/// /dev/zero, a FIFO, a file over the input limit. Each is refused fast,
/// whatever kind of input it is given as.
#[cfg(unix)]
#[test]
fn hostile_input_paths_are_refused() {
    let dir = std::env::temp_dir().join(format!("spikeforge-hostile-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let link = |name: &str| {
        let p = dir.join(name);
        std::os::unix::fs::symlink("/dev/zero", &p).unwrap();
        p.to_str().unwrap().to_string()
    };
    let (net, stim, spec, model, data) =
        (link("net.json"), link("stim.csv"), link("spec.toml"), link("model.onnx"), link("data.csv"));
    let fifo = dir.join("fifo.toml");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let ok_net = "examples/feedforward/net.toml";
    let out = dir.join("o.toml");
    let out = out.to_str().unwrap();
    let cases: Vec<(Vec<&str>, String)> = vec![
        (vec!["check", &net], format!("{net}: the network file is a character device, not a regular file")),
        (vec!["check", fifo.to_str().unwrap()], "the network file is a FIFO (named pipe)".into()),
        (
            vec!["golden", ok_net, "--steps", "8", "--stimulus", &stim],
            format!("{stim}: the stimulus is a character device"),
        ),
        (vec!["map", ok_net, "--spec", &spec], format!("{spec}: the hardware spec is a character device")),
        (
            vec!["convert", &model, "--data", "digits", "--steps", "8", "--out", out],
            format!("{model}: the ONNX model is a character device"),
        ),
        (
            vec!["convert", "convert/models/digits_mlp.onnx", "--data", &data, "--steps", "8", "--out", out],
            format!("{data}: the data file is a character device"),
        ),
    ];
    for (args, msg) in &cases {
        let t0 = std::time::Instant::now();
        // A small limit as well: should the refusal ever regress, the read
        // still stops at 1 MB instead of filling memory from /dev/zero.
        let mut args = args.clone();
        args.extend_from_slice(&["--max-input-size", "1M"]);
        let o = run(&args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(msg.as_str()), "{args:?}: expected `{msg}` in:\n{}", stderr(&o));
        assert!(t0.elapsed().as_secs() < 60, "{args:?} took {:?}", t0.elapsed());
    }
    // Over the limit, by flag and by environment variable.
    let o = run(&["check", ok_net, "--max-input-size", "100"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("larger than the input limit of 100 bytes"), "{}", stderr(&o));
    assert!(stderr(&o).contains("--max-input-size SIZE or SPIKEFORGE_MAX_INPUT_BYTES=SIZE"), "{}", stderr(&o));
    let o =
        bin().args(["check", ok_net]).env("SPIKEFORGE_MAX_INPUT_BYTES", "100").current_dir(root()).output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("larger than the input limit of 100 bytes"), "{}", stderr(&o));
    let o =
        bin().args(["check", ok_net]).env("SPIKEFORGE_MAX_INPUT_BYTES", "lots").current_dir(root()).output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("`lots` is not a size"), "{}", stderr(&o));
    // The flag wins over the variable; a bad flag value is a usage error.
    let o = bin()
        .args(["check", ok_net, "--max-input-size", "1M"])
        .env("SPIKEFORGE_MAX_INPUT_BYTES", "100")
        .current_dir(root())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(run(&["check", ok_net, "--max-input-size", "huge"]).status.code(), Some(2));
    // Files of a mapping folder go through the same reader.
    let (maps, hdl) = (dir.join("map"), dir.join("hdl"));
    let o = run(&["map", ok_net, "--spec", "tiny", "--out", maps.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    std::os::unix::fs::symlink("/dev/zero", maps.join("zz.hex")).unwrap();
    let o = run(&["hdl", "--spec", "tiny", "--out", hdl.to_str().unwrap(), "--mapping", maps.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("zz.hex: the memory image is a character device"), "{}", stderr(&o));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn invalid_utf8_is_located_and_empty_maps_print_no_negative_zero() {
    let dir = std::env::temp_dir().join(format!("spikeforge-utf8-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("net.toml");
    std::fs::write(&bad, b"format = 1\n\n[[populations]]\nname = \"in\xe9\"\nsize = 1\nkind = \"input\"\n").unwrap();
    let o = run(&["check", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("not valid UTF-8: byte 0xe9 at line 4, column 11 (byte offset 38)"), "{}", stderr(&o));
    let empty = dir.join("empty.toml");
    std::fs::write(&empty, "format = 1\npopulations = []\n").unwrap();
    for extra in [&[][..], &["--json"][..]] {
        let mut args = vec!["map", empty.to_str().unwrap(), "--spec", "tiny"];
        args.extend_from_slice(extra);
        let o = run(&args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(!stdout(&o).contains("-0"), "{}", stdout(&o));
    }
    std::fs::remove_dir_all(&dir).unwrap();
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
    assert_eq!(run(&["schema", "--json"]).stdout, o.stdout, "--json prints the same schema");
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(j["$schema"].as_str().unwrap().contains("json-schema.org"));
    assert!(j["properties"]["populations"].is_object());
    assert_eq!(j["required"], serde_json::json!(["format", "populations"]));
}

/// One run of the whole demo (`--samples 3`, with the yosys estimate),
/// shared by the tests that read it: its output and the files they check,
/// kept in memory so that the folder goes as soon as the run is read.
struct DemoRun {
    output: Output,
    report: String,
    /// `spikeforge check` of the deployed network file.
    network_check: Output,
    /// Whether the iCEBreaker project's Makefile and pin constraints were written.
    fpga_files: bool,
}

fn demo_run() -> &'static DemoRun {
    static RUN: std::sync::OnceLock<DemoRun> = std::sync::OnceLock::new();
    RUN.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("spikeforge-demo-{}", std::process::id()));
        let output = bin()
            .args(["demo", "--json", "--samples", "3", "--out", dir.to_str().unwrap()])
            .env("SPIKEFORGE_PROGRESS", "plain")
            .current_dir(root())
            .output()
            .unwrap();
        let run = DemoRun {
            output,
            report: std::fs::read_to_string(dir.join("report.html")).unwrap_or_default(),
            network_check: run(&["check", dir.join("digits_snn_t32.toml").to_str().unwrap()]),
            fpga_files: dir.join("fpga-icebreaker/Makefile").exists()
                && dir.join("fpga-icebreaker/icebreaker.pcf").exists(),
        };
        std::fs::remove_dir_all(&dir).ok();
        run
    })
}

#[test]
fn demo_runs_the_whole_pipeline_on_a_reduced_sample() {
    let d = demo_run();
    let o = &d.output;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(o));
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
    // Raster, potentials, accuracy, early exit, confusion matrix (of the hardware) and cycles per step.
    let html = &d.report;
    assert_eq!(html.matches("<svg").count(), 6);
    assert!(html.contains("early exit: accuracy vs mean steps"));
    // Early exit: more steps for larger margins, and the largest keeps the full accuracy.
    let exits = j["early_exit"].as_array().unwrap();
    let steps: Vec<f64> = exits.iter().map(|p| p["mean_steps"].as_f64().unwrap()).collect();
    assert!(steps.windows(2).all(|w| w[0] <= w[1]) && steps[0] < 32.0, "{steps:?}");
    let last = exits.last().unwrap()["accuracy"].as_f64().unwrap();
    assert!(last >= t32 - 0.005, "early exit at the largest margin {last} vs T = 32 {t32}");
    assert!(html.contains("spikes of one inference"));
    assert!(html.contains("confusion matrix of the T = 32 SNN: the first 3 test images on the hardware (Verilator)"));
    assert!(html.contains("clock cycles per time step on the hardware (Verilator, 3 test images, T = 32)"));
    // Every plot scales with the page: a viewBox, no fixed size.
    for tag in html.split("<svg").skip(1).map(|t| &t[..t.find('>').unwrap()]) {
        assert!(tag.contains(" viewBox=\"0 0 900 ") && tag.contains(" width=\"100%\""), "{tag}");
        assert!(!tag.contains("height="), "{tag}");
    }
    assert!(d.fpga_files);
    // Its stages, in order, as the progress display names them.
    let e = stderr(o);
    let mut at = 0;
    for stage in [
        "demo: converting and measuring: no calibration, T = 8",
        "demo: partitioning",
        "demo: the Verilator model",
        "demo: co-simulating 3 test images against golden (3)",
        "demo: FPGA sources",
        "demo: resource estimate (yosys)",
        "demo: report",
    ] {
        at += e[at..].find(stage).unwrap_or_else(|| panic!("{stage} missing or out of order in {e}"));
    }
    // The deployed network file is a valid network.
    assert_eq!(d.network_check.status.code(), Some(0), "{}", stderr(&d.network_check));
}

/// What `page` looks like in headless Chromium (Debian's `chromium`): a
/// copy of it with a probe that records script errors and failed loads, and
/// after loading writes, for every <svg>, its rendered size, its viewBox,
/// how many shapes and texts it drew, and where its coloured shapes are
/// (left of its `data-legend-x`, the data; right of it, the legend; across
/// it, a legend over data), as JSON into the page, read back from
/// `--dump-dom`. The window is 480 px wide, narrower than the plots' 900
/// units, so the plots have to scale to fit.
fn render_in_chromium(page: &str) -> serde_json::Value {
    let Some(chromium) =
        std::env::split_paths(&std::env::var_os("PATH").unwrap()).map(|d| d.join("chromium")).find(|p| p.is_file())
    else {
        panic!("chromium is not installed (needed to render the demo report); install it with `sudo apt-get install chromium`")
    };
    let dir = std::env::temp_dir().join(format!("sf-chromium-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // The error listener goes first, in <head>, to see every error after it;
    // in the capture phase it also sees elements that fail to load.
    let listen = r#"<head><script>
window.__errors = [];
window.addEventListener('error', function (e) {
  var t = e.target;
  window.__errors.push(t && t !== window && (t.src || t.href) ? 'cannot load ' + (t.src || t.href) : String(e.message));
}, true);
window.addEventListener('unhandledrejection', function (e) { window.__errors.push('unhandled rejection: ' + e.reason); });
var consoleError = console.error;
console.error = function () { window.__errors.push('console.error: ' + Array.from(arguments).join(' ')); consoleError.apply(console, arguments); };
</script>"#;
    let probe = r#"<script>
// Coloured: not white, grey or black (axes, grid, text, empty cells).
function chromatic(c) {
  var m = /rgba?\((\d+), (\d+), (\d+)/.exec(c);
  return !!m && Math.max(+m[1], +m[2], +m[3]) - Math.min(+m[1], +m[2], +m[3]) > 30;
}
window.addEventListener('load', function () {
  var de = document.documentElement;
  var svgs = Array.from(document.querySelectorAll('svg')).map(function (s) {
    var r = s.getBoundingClientRect(), vb = s.viewBox.baseVal;
    var shapes = s.querySelectorAll('path, rect, circle, line, polyline, polygon');
    var lx = parseFloat(s.getAttribute('data-legend-x')), data = 0, legend = 0, across = [];
    shapes.forEach(function (e) {
      var st = getComputedStyle(e);
      if (!chromatic(st.fill) && !chromatic(st.stroke)) return;
      var b = e.getBBox();
      if (b.x + b.width <= lx + 0.5) data++;
      else if (b.x >= lx - 0.5) legend++;
      else across.push(e.tagName + ' x ' + b.x + ' to ' + (b.x + b.width));
    });
    return { label: s.getAttribute('aria-label'), width: r.width, height: r.height,
             view_width: vb ? vb.width : 0, view_height: vb ? vb.height : 0,
             shapes: shapes.length, texts: s.querySelectorAll('text').length,
             legend_x: lx, data: data, legend: legend, across: across };
  });
  var out = document.createElement('pre');
  out.id = 'verdict';
  out.textContent = JSON.stringify({ errors: window.__errors, client_width: de.clientWidth,
                                     scroll_width: de.scrollWidth, svgs: svgs });
  document.body.appendChild(out);
});
</script></body>"#;
    assert!(page.contains("<head>") && page.contains("</body>"), "not an HTML page");
    let file = dir.join("report.html");
    std::fs::write(&file, page.replacen("<head>", listen, 1).replacen("</body>", probe, 1)).unwrap();
    let mut child = Command::new(&chromium)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=480,2000"])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .args(["--virtual-time-budget=5000", "--dump-dom"])
        .arg(format!("file://{}", file.display()))
        // To files: the dumped page is far larger than a pipe's buffer.
        .stdout(std::fs::File::create(dir.join("dom.html")).unwrap())
        .stderr(std::fs::File::create(dir.join("stderr.txt")).unwrap())
        .spawn()
        .unwrap();
    // A hung browser fails the test instead of stalling the suite.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().ok();
            panic!("chromium did not finish within 120 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let status = child.wait().unwrap();
    let (dom, err) = (std::fs::read_to_string(dir.join("dom.html")), std::fs::read_to_string(dir.join("stderr.txt")));
    let (dom, err) = (dom.unwrap(), err.unwrap());
    std::fs::remove_dir_all(&dir).ok();
    let Some(start) = dom.find("<pre id=\"verdict\">") else {
        panic!("chromium wrote no verdict ({status}):\n{dom}\n{err}")
    };
    let text = &dom[start + "<pre id=\"verdict\">".len()..];
    let text = &text[..text.find("</pre>").unwrap()];
    // --dump-dom escapes text as HTML.
    let json = text.replace("&lt;", "<").replace("&gt;", ">").replace("&nbsp;", "\u{a0}").replace("&amp;", "&");
    serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"))
}

/// The demo's report in a real browser: it loads without errors, nothing
/// overflows a narrow window, and every plot is drawn, scaled to the page
/// with its own aspect ratio, and not empty. It reads the demo run of
/// `demo_runs_the_whole_pipeline_on_a_reduced_sample` (a runner with one
/// process per test, like nextest, runs the demo again).
#[test]
fn demo_report_renders_in_chromium() {
    // The probe sees what it is meant to catch: a missing file and a script error.
    let broken =
        "<!DOCTYPE html><html><head></head><body><img src=\"missing.png\"><script>nosuch()</script></body></html>";
    let errors = render_in_chromium(broken)["errors"].to_string();
    assert!(errors.contains("cannot load") && errors.contains("nosuch"), "{errors}");
    let d = demo_run();
    assert_eq!(d.output.status.code(), Some(0), "{}", stderr(&d.output));
    let v = render_in_chromium(&d.report);
    assert_eq!(v["errors"], serde_json::json!([]), "{v}");
    assert!(v["scroll_width"].as_f64().unwrap() <= v["client_width"].as_f64().unwrap(), "overflows: {v}");
    let svgs = v["svgs"].as_array().unwrap();
    assert_eq!(svgs.len(), 6, "{v}");
    for s in svgs {
        let f = |k: &str| s[k].as_f64().unwrap();
        assert!(f("width") > 100.0 && f("height") > 50.0, "not drawn: {s}");
        assert!(f("width") < f("view_width"), "does not scale down to the window: {s}");
        let aspect = (f("height") / f("width")) / (f("view_height") / f("view_width"));
        assert!((aspect - 1.0).abs() < 0.02, "distorted: {s}");
        assert!(f("shapes") >= 40.0 && f("texts") >= 10.0, "no axes: {s}");
        // Coloured shapes left of the legend column (series, spikes, bars,
        // filled cells), a legend right of it, and nothing across.
        assert!(f("data") >= 1.0 && f("legend") >= 1.0, "empty plot or no legend: {s}");
        assert_eq!(s["across"], serde_json::json!([]), "legend over data: {s}");
    }
}

/// Without yosys the demo runs the rest and says how to install it: a
/// PATH with every program of the test's own PATH except yosys.
#[test]
fn demo_without_yosys_runs_the_rest_and_says_what_it_skipped() {
    let dir = std::env::temp_dir().join(format!("spikeforge-demo-noyosys-{}", std::process::id()));
    let bin_dir = dir.join("bin");
    std::fs::create_dir_all(&bin_dir).unwrap();
    for d in std::env::split_paths(&std::env::var_os("PATH").unwrap()) {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let name = e.file_name();
            if !name.to_string_lossy().starts_with("yosys") && !bin_dir.join(&name).exists() {
                std::os::unix::fs::symlink(e.path(), bin_dir.join(&name)).unwrap();
            }
        }
    }
    let o = bin()
        .args(["demo", "--json", "--samples", "1", "--out", dir.join("out").to_str().unwrap()])
        .env("PATH", &bin_dir)
        .current_dir(root())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["ok"], true, "{j}");
    assert_eq!(j["cosim"]["hardware_equals_golden"], true, "the co-simulation still ran: {j}");
    let r = &j["resources"];
    assert!(r["error"].as_str().unwrap().contains("yosys"), "{r}");
    assert!(r["help"].as_str().unwrap().contains("apt-get install yosys"), "{r}");
    let html = std::fs::read_to_string(dir.join("out/report.html")).unwrap();
    assert!(
        html.contains("not estimated") && html.contains("apt-get install yosys"),
        "the report says what was skipped"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn demo_without_verilator_runs_the_rest_and_says_what_it_skipped() {
    let dir = std::env::temp_dir().join(format!("spikeforge-demo-nov-{}", std::process::id()));
    let cache = dir.join("empty-cache");
    let o = bin()
        .args(["demo", "--json", "--samples", "2", "--no-synth", "--out", dir.to_str().unwrap()])
        .env(spikeforge_hdl::tools::VERILATOR.env_override.unwrap(), "/nonexistent/verilator")
        .env(spikeforge_sim::verilate::CACHE_ENV, &cache)
        .current_dir(root())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["ok"], true, "{j}");
    let skipped = j["cosim"]["skipped"].as_str().unwrap();
    assert!(skipped.contains("is not installed") && skipped.contains("apt-get install verilator"), "{skipped}");
    assert!(j["snn_accuracy"]["bias"]["32"].as_f64().unwrap() >= 0.97, "{j}");
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("not co-simulated"), "the report says what was skipped");
    // No cycles plot: a sentence instead; the confusion matrix is golden's.
    assert_eq!(html.matches("<svg").count(), 5);
    assert!(html.contains("<b>clock cycles per time step</b>: not measured, since the hardware was not co-simulated"));
    assert!(html.contains("the first 2 test images on the golden model (not co-simulated)"));
    assert!(dir.join("fpga-icebreaker/Makefile").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// ONNX files as exporters write them convert as they come: skl2onnx's
/// MLPClassifier (Cast, Softmax, ArgMax/ZipMap label branch) and a graph
/// with two outputs converted up to the one named by --output.
#[test]
fn convert_takes_exporters_onnx_as_it_comes() {
    let dir = std::env::temp_dir().join(format!("spikeforge-convert-skl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let net = dir.join("skl.json");
    let o = run(&[
        "convert",
        "convert/tests/onnx/skl_mlp_relu.onnx",
        "--data",
        "digits",
        "--steps",
        "32",
        "--out",
        net.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let notes = j["import_notes"].to_string();
    assert!(notes.contains("ZipMap") && notes.contains("Softmax"), "{notes}");
    let (ann, snn) = (j["ann_accuracy"].as_f64().unwrap(), j["snn_accuracy"].as_f64().unwrap());
    assert!(ann > 0.95 && snn > ann - 0.02, "ANN {ann}, SNN {snn}");
    // Two graph outputs: the one to convert is named.
    let o = run(&[
        "convert",
        "convert/tests/onnx/flatten_axis.onnx",
        "--output",
        "fc2_bias",
        "--data",
        "digits",
        "--steps",
        "8",
        "--eval",
        "20",
        "--out",
        net.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("import: converted up to \"logits\""), "{}", stdout(&o));
    let o = run(&[
        "convert",
        "convert/tests/onnx/flatten_axis.onnx",
        "--output",
        "fc9",
        "--data",
        "digits",
        "--steps",
        "8",
        "--out",
        net.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("convert/tests/onnx/flatten_axis.onnx: --output fc9: no node or tensor has this name"),
        "{}",
        stderr(&o)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Long work reports its stages: bars on a terminal, and with
/// SPIKEFORGE_PROGRESS=plain one line per stage (what CI logs show).
#[test]
fn progress_lines_name_the_stages() {
    let dir = std::env::temp_dir().join(format!("spikeforge-progress-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let net = dir.join("d.json");
    let o = bin()
        .args(["convert", "convert/models/digits_mlp.onnx", "--data", "digits", "--steps", "8", "--method", "all"])
        .args(["--eval", "20", "--out", net.to_str().unwrap()])
        .env("SPIKEFORGE_PROGRESS", "plain")
        .current_dir(root())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let e = stderr(&o);
    for stage in [
        "convert: threshold balancing",
        "convert: calibration, layer 2 of 2: potential initialization (256)",
        "convert: evaluating 20 samples (golden model) (20)",
    ] {
        assert!(e.contains(stage), "{stage} not in {e}");
    }
    let o = bin()
        .args(["map", net.to_str().unwrap(), "--spec", "medium", "--out", dir.join("m").to_str().unwrap()])
        .env("SPIKEFORGE_PROGRESS", "plain")
        .current_dir(root())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for stage in ["map: connectivity", "map: partitioning", "map: placement", "map: memory images"] {
        assert!(stderr(&o).contains(stage), "{stage} not in {}", stderr(&o));
    }
    // Off by default when stderr is not a terminal.
    let o = run(&["map", net.to_str().unwrap(), "--spec", "medium", "--out", dir.join("m").to_str().unwrap()]);
    assert!(!stderr(&o).contains("map: connectivity"), "{}", stderr(&o));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Runs `net` with the stimulus file `stim` for `steps` steps on the
/// `medium` spec's hardware, verified against golden.
fn verify_on_hardware(net: &std::path::Path, stim: &std::path::Path, steps: u32) {
    let steps = steps.to_string();
    let o = run(&[
        "sim",
        net.to_str().unwrap(),
        "--spec",
        "medium",
        "--steps",
        &steps,
        "--stimulus",
        stim.to_str().unwrap(),
        "--verify",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("hardware = golden"), "{}", stdout(&o));
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
    verify_on_hardware(&net, &stim, 16);
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
    let (hw_v, golden_v) = (dir.join("hw_v.csv"), dir.join("golden_v.csv"));
    let o = run(&[
        "sim",
        sample.to_str().unwrap(),
        "--spec",
        "medium",
        "--steps",
        "8",
        "--verify",
        "--potentials-out",
        hw_v.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("hardware = golden"), "{}", stdout(&o));
    // The hardware's potentials, read back, in golden's format and equal to it.
    let o = run(&["golden", sample.to_str().unwrap(), "--steps", "8", "--potentials-out", golden_v.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let (hw_v, golden_v) = (std::fs::read_to_string(hw_v).unwrap(), std::fs::read_to_string(golden_v).unwrap());
    assert!(hw_v.lines().count() > 10, "{hw_v}");
    assert_eq!(hw_v, golden_v);
    // With the latency added: T = 8 steps of input for every layer in runs
    // of 8 + 2 steps, which the hardware runs as it is.
    let args = |json: bool| {
        let mut v = vec!["convert", "convert/models/digits_mlp.onnx", "--data", "digits", "--steps", "8"];
        v.extend(["--add-latency", "--out", net.to_str().unwrap(), "--stimulus", stim.to_str().unwrap()]);
        v.extend(["--sample", "5", "--eval", "200"]);
        if json {
            v.push("--json");
        }
        v
    };
    let o = run(&args(true));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!((j["steps"].as_u64(), j["run_steps"].as_u64()), (Some(8), Some(10)), "{j}");
    assert!(j["snn_accuracy"].as_f64().unwrap() > 0.95, "{j}");
    let o = run(&args(false));
    assert!(stdout(&o).contains("T = 8 in runs of 10 steps"), "{}", stdout(&o));
    assert!(stdout(&o).contains("run each sample for 10 steps (--steps 10 in sim and run)"), "{}", stdout(&o));
    verify_on_hardware(&net, &stim, 10);
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
    assert!(stderr(&o).contains("methods: none, shift, bias, potential, weights, weights+bias, all"), "{}", stderr(&o));
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
    // A network that does not fit the spec is still written; --json says why
    // it does not fit and what would.
    let o = conv("convert/models/digits_mlp.onnx", &["--spec", "tiny", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["fits_spec"], serde_json::Value::Null, "{j}");
    assert!(j["fit_error"]["message"].as_str().unwrap().contains("axons_per_core"), "{j}");
    assert!(!j["fit_error"]["help"].as_str().unwrap().is_empty(), "{j}");
    let o = conv("convert/models/digits_mlp.onnx", &["--spec", "medium", "--json"]);
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["fit_error"], serde_json::Value::Null, "{j}");
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
    assert!(stderr(&o).contains("presets: tiny, ice40, up5k, medium, ecp5, large"), "{}", stderr(&o));
    // --json: the error report on stdout, and the presets as specs.
    let o = run(&["spec", "huge", "--json"]);
    assert_eq!(o.status.code(), Some(1));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["ok"], false, "{j}");
    let o = run(&["spec", "--json"]);
    assert_eq!(o.status.code(), Some(0));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let names: Vec<&str> = j["presets"].as_array().unwrap().iter().map(|p| p["preset"].as_str().unwrap()).collect();
    assert_eq!(names, spikeforge_mapper::spec::PRESETS);
    for p in j["presets"].as_array().unwrap() {
        let spec: spikeforge_mapper::HardwareSpec = serde_json::from_value(p["spec"].clone()).unwrap();
        assert_eq!(spec, spikeforge_mapper::HardwareSpec::preset(p["preset"].as_str().unwrap()).unwrap());
        assert_eq!(p["cores"], spec.cores());
    }
    let o = run(&["spec", "tiny", "--json"]);
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["spec"]["neurons_per_core"], 16, "{j}");
}

#[test]
fn output_paths_are_checked_before_any_work() {
    // Every input here is missing too: an error about the output path
    // shows that it was checked first, before anything was read or run.
    let (net, gone) = ("/nonexistent/net.json", "/nonexistent/out");
    let cases: &[&[&str]] = &[
        &["convert", "/nonexistent/m.onnx", "--data", "digits", "--steps", "8", "--out", "/nonexistent/out/n.json"],
        &["golden", net, "--steps", "4", "--spikes-out", "/nonexistent/out/s.csv"],
        &["golden", net, "--steps", "4", "--potentials-out", "/nonexistent/out/v.csv"],
        &["map", net, "--spec", "tiny", "--out", "/dev/null/images"],
        &["hdl", "--spec", "/nonexistent/spec.toml", "--out", "/dev/null"],
        &["sim", net, "--spec", "tiny", "--steps", "2", "--vcd", "/nonexistent/out/w.vcd"],
        &["sim", net, "--spec", "tiny", "--steps", "2", "--spikes-out", "/nonexistent/out/s.csv"],
        &[
            "run",
            net,
            "--spec",
            "tiny",
            "--port",
            "/nonexistent/tty",
            "--steps",
            "2",
            "--spikes-out",
            "/nonexistent/out/s.csv",
        ],
        &["fpga", net, "--board", "icebreaker", "--out", "/dev/null/x"],
        &["regress", "--cases", "1", "--seed", "1", "--out", "/dev/null"],
        &["import", "/nonexistent/m.nir", "--out", "/nonexistent/out/n.json"],
        &["export", net, "--nir", "/nonexistent/out/m.nir"],
        &["completions", "bash", "--out", "/nonexistent/out/sf.bash"],
        &["demo", "--out", "/dev/null/report"],
    ];
    for args in cases {
        let o = run(args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains(&format!("the folder {gone} does not exist"))
                || err.contains("/dev/null: is a file")
                || err.contains("/dev/null is a file"),
            "{args:?}: {err}"
        );
    }
    // An existing folder named as an output file.
    let o = run(&["golden", net, "--steps", "4", "--spikes-out", "/tmp"]);
    assert!(stderr(&o).contains("--spikes-out /tmp: is a folder, not a file"), "{}", stderr(&o));
}

#[test]
fn sim_uses_the_cached_model_when_verilator_is_missing() {
    let cache = std::env::temp_dir().join(format!("sf-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);
    let sim = |verilator: Option<&str>| {
        let mut c = bin();
        c.args(["sim", "examples/feedforward/net.toml", "--spec", "tiny", "--steps", "10", "--verify"]);
        c.args(["--stimulus", "examples/feedforward/stimulus.csv"]);
        c.env(spikeforge_sim::verilate::CACHE_ENV, &cache).current_dir(root());
        if let Some(v) = verilator {
            c.env(spikeforge_hdl::tools::VERILATOR.env_override.unwrap(), v);
        }
        c.output().expect("spikeforge runs")
    };
    // Nothing cached and no Verilator: the install advice.
    let o = sim(Some("/nonexistent/verilator"));
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("is not installed"), "{}", stderr(&o));
    assert!(stderr(&o).contains("apt-get install verilator"), "{}", stderr(&o));
    // Built once, the model runs without Verilator, and says so.
    let o = sim(None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = sim(Some("/nonexistent/verilator"));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("hardware = golden"), "{}", stdout(&o));
    assert!(stderr(&o).contains("is not installed") && stderr(&o).contains("using the cached"), "{}", stderr(&o));
    std::fs::remove_dir_all(&cache).unwrap();
}

#[test]
fn help_lists_the_environment() {
    let o = run(&["--help"]);
    assert_eq!(o.status.code(), Some(0));
    let help = stdout(&o);
    let verilator = spikeforge_hdl::tools::VERILATOR.env_override.unwrap();
    for var in [spikeforge_net::input::MAX_INPUT_ENV, spikeforge_sim::verilate::CACHE_ENV, verilator, "TMPDIR"] {
        assert!(help.contains(&format!("\n  {var} ")), "--help does not list {var}:\n{help}");
    }
    let o = run(&["man"]);
    assert!(stdout(&o).contains("SPIKEFORGE_CACHE"), "the man page lists the environment too");
}

#[test]
fn completions_and_man_pages_cover_every_subcommand() {
    let subcommands = [
        "check",
        "golden",
        "schema",
        "spec",
        "hdl",
        "map",
        "sim",
        "regress",
        "fpga",
        "run",
        "convert",
        "import",
        "export",
        "demo",
        "completions",
        "man",
    ];
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let o = run(&["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}: {}", stderr(&o));
        let script = stdout(&o);
        for sub in subcommands {
            assert!(script.contains(sub), "{shell} completions miss `{sub}`");
        }
    }
    let o = run(&["completions", "bash", "--json"]);
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(j["script"].as_str().unwrap().contains("_spikeforge()"), "{j}");
    let o = run(&["completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2), "an unknown shell is a usage error");
    let o = run(&["man"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains(".TH spikeforge 1"), "{}", stdout(&o));
    let dir = std::env::temp_dir().join(format!("sf-man-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let o = run(&["man", "--out", dir.to_str().unwrap(), "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["files"].as_array().unwrap().len(), subcommands.len() + 1, "{j}");
    for sub in subcommands {
        let page = std::fs::read_to_string(dir.join(format!("spikeforge-{sub}.1"))).unwrap();
        assert!(page.contains(&format!(".TH spikeforge-{sub} 1")), "{sub}: {page}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
    let o = run(&["man", "--out", "/nonexistent/dir"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("/nonexistent/dir: not a directory"), "{}", stderr(&o));
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
    assert!(synapses.lines().all(|l| l.len() == 4), "max(4 + 8, 2 x 8) bits -> 4 hex digits");
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
    assert!(stderr(&o).contains("nope.toml: cannot read the hardware spec: "), "{}", stderr(&o));
}

#[test]
fn map_json_failure_carries_the_bound_and_checked_advice_that_maps() {
    let o = run(&["map", "tests/corpus/map/too_many_cores.toml", "--spec", "tiny", "--json"]);
    assert_eq!(o.status.code(), Some(1));
    let j: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON on stdout");
    let e = &j["error"];
    assert_eq!(j["ok"], false);
    assert!(e["cores"]["bound"].as_u64().unwrap() <= e["cores"]["needed"].as_u64().unwrap(), "{e}");
    assert!(!e["advice"]["changes"].as_array().unwrap().is_empty(), "{e}");
    // The advised spec, written as a spec file, takes the network.
    let spec: spikeforge_mapper::HardwareSpec = serde_json::from_value(e["advice"]["spec"].clone()).unwrap();
    let path = std::env::temp_dir().join(format!("spikeforge-advised-{}.toml", std::process::id()));
    std::fs::write(&path, spikeforge_mapper::spec::to_toml(&spec)).unwrap();
    let o = run(&["map", "tests/corpus/map/too_many_cores.toml", "--spec", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("lower bound"), "{}", stdout(&o));
    std::fs::remove_file(&path).ok();
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
        assert_eq!(j["hex_files"], 9);
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
    let params = std::fs::read_to_string(a.join("sf_tiny_cores_0_array_param_sets.v")).unwrap();
    assert!(params.contains("$readmemh(\"core0_param_sets.hex\", mem);"), "{params}");
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
    let sim = |extra: &[&str]| {
        let mut args = vec!["sim", "examples/recurrent/net.json", "--spec", "tiny", "--steps", "16"];
        args.extend_from_slice(&["--stimulus", "examples/recurrent/stimulus.csv", "--vcd", vcd.to_str().unwrap()]);
        args.extend_from_slice(extra);
        run(&args)
    };
    let o = sim(&["--verify", "--vcd-steps", "2..5", "--spikes-out", spikes.to_str().unwrap(), "--json"]);
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
    // The design's signals only, each value change of a declared one;
    // --vcd-all keeps the generator's internals too.
    let names = |text: &str| -> (Vec<String>, bool) {
        let (mut names, mut ids, mut body, mut ok) = (Vec::new(), std::collections::HashSet::new(), false, true);
        for line in text.lines() {
            let f: Vec<&str> = line.split_whitespace().collect();
            match f.first().copied() {
                Some("$var") => {
                    ids.insert(f[3].to_string());
                    names.push(f[4].to_string());
                }
                Some("$enddefinitions") => body = true,
                Some(w) if body && w.starts_with(['b', 'r']) => ok &= ids.contains(f[1]),
                Some(w) if body && w.starts_with(['0', '1', 'x', 'z']) => ok &= ids.contains(&line[1..]),
                _ => {}
            }
        }
        (names, ok)
    };
    let internal = |n: &String| spikeforge_sim::vcd::is_internal(n);
    let (trimmed, ok) = names(&std::fs::read_to_string(&vcd).unwrap());
    assert!(ok, "a value change of an undeclared signal");
    assert!(trimmed.len() > 100 && !trimmed.iter().any(internal), "{} signals", trimmed.len());
    let o = sim(&["--vcd-all"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let (all, _) = names(&std::fs::read_to_string(&vcd).unwrap());
    assert_eq!(all.iter().filter(|n| !internal(n)).count(), trimmed.len());
    assert!(all.iter().filter(|n| internal(n)).count() > 100, "{} signals in all", all.len());
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
    // No Verilator: the message says how to install it. An empty cache of
    // its own: a model other tests built in the shared cache would run
    // without Verilator (by design), and which test runs first is not fixed.
    let cache = std::env::temp_dir().join(format!("sf-nocache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);
    let o = bin()
        .args(["sim", net, "--spec", "tiny", "--steps", "30"])
        .env("VERILATOR", "/nonexistent/verilator")
        .env(spikeforge_sim::verilate::CACHE_ENV, &cache)
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
            // About 25 byte times of board time per turn at 1 Mbaud.
            while let Some(b) = sim.recv(std::time::Duration::from_micros(250)).unwrap() {
                master.write_all(&[b]).unwrap();
            }
        }
    });
    let board_run = |net: &str, extra: &[&str]| {
        let mut args = vec![
            "run",
            net,
            "--spec",
            "tiny",
            "--port",
            &slave_name,
            "--stimulus",
            "examples/recurrent/stimulus.csv",
            "--steps",
            "16",
            "--json",
        ];
        args.extend_from_slice(extra);
        run(&args)
    };
    let o = board_run("examples/recurrent/net.json", &["--potentials-every-step"]);
    // Early exit through the host driver: the board stops where golden's
    // spike counts of `ring` first lead by 1 (the ring's counts take turns).
    let early = board_run(
        "examples/recurrent/net.json",
        &["--early-exit", "1", "--exit-readout", "count", "--exit-outputs", "ring"],
    );
    // The board keeps that network; compared with a network whose ring
    // cannot fire (--no-load: only its state is reset), the first
    // divergence is reported by step, core, slot and neuron, as `sim` does.
    let dir = std::env::temp_dir().join(format!("spikeforge-run-diverge-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut other: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("examples/recurrent/net.json")).unwrap()).unwrap();
    other["populations"][1]["threshold"] = serde_json::json!(30000);
    let other_net = dir.join("quiet-ring.json");
    std::fs::write(&other_net, other.to_string()).unwrap();
    let d = board_run(other_net.to_str().unwrap(), &["--no-load"]);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    bridge.join().unwrap();
    drop(slave);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["board_equals_golden"], true);
    assert_eq!(j["cycles_per_step"].as_array().unwrap().len(), 16);
    assert_eq!(early.status.code(), Some(0), "{}", stderr(&early));
    let je: serde_json::Value = serde_json::from_slice(&early.stdout).unwrap();
    let golden_exit = {
        use spikeforge_golden::early_exit::{exit_step, margin, EarlyExit};
        let net = spikeforge_net::load_network(&root().join("examples/recurrent/net.json")).unwrap();
        let stim =
            spikeforge_net::spikes::load_stimulus(&net, &root().join("examples/recurrent/stimulus.csv"), 16).unwrap();
        let stim = spikeforge_net::Stimulus::from_train(&stim);
        let (_, ring) = net.population("ring").unwrap();
        let ids: Vec<u32> = (ring.offset()..ring.offset() + ring.size()).collect();
        let mut g = spikeforge_golden::Model::new(&net);
        let mut counts = vec![0i64; ids.len()];
        let mut margins = Vec::new();
        for t in 0..16 {
            let fired = g.step(stim.at(t)).unwrap().to_vec();
            for (k, id) in ids.iter().enumerate() {
                counts[k] += fired.iter().filter(|&f| f == id).count() as i64;
            }
            margins.push(margin(&counts));
        }
        let warmup = spikeforge_golden::early_exit::warmup(&net, net.population("ring").unwrap().0);
        exit_step(&margins, EarlyExit { margin: 1, patience: 1, warmup })
    };
    assert!(golden_exit < 16, "the example stops early under this rule: {golden_exit}");
    assert_eq!(je["steps_run"], golden_exit, "{je}");
    assert_eq!(je["board_equals_golden"], true, "{je}");
    assert_eq!(d.status.code(), Some(3), "{}", stderr(&d));
    let j: serde_json::Value = serde_json::from_slice(&d.stdout).unwrap();
    assert_eq!(j["board_equals_golden"], false);
    let mm = &j["mismatch"];
    assert_eq!(mm["what"]["kind"], "spike", "{mm}");
    assert_eq!((mm["what"]["expected"].as_bool(), mm["what"]["got"].as_bool()), (Some(false), Some(true)), "{mm}");
    assert!(mm["neuron"].as_str().unwrap().starts_with("ring["), "{mm}");
    assert!(mm["core"].is_u64() && mm["slot"].is_u64() && mm["step"].is_u64(), "{mm}");
    assert!(stderr(&d).contains("differs from golden at step"), "{}", stderr(&d));
    let _ = std::fs::remove_dir_all(&dir);
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
        stderr(&o).contains("`make` is not installed (needed for running the build)")
            && stderr(&o).contains("sudo apt-get install make"),
        "{}",
        stderr(&o)
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// Paths are data, never commands: a cache, network, stimulus, `--out`
/// and `--vcd` under folders whose names hold spaces, quotes, `;`,
/// `$(...)`, backticks and non-ASCII letters work end to end — a first
/// Verilator build, `hdl --report`, `fpga --build` with the whole iCE40
/// flow — and none of the commands in the names runs. Each would touch a
/// marker file whose absolute path is in the environment.
#[test]
fn hostile_paths_are_data_not_commands() {
    let tmp = std::env::temp_dir().join(format!("sf-hostile-{}", std::process::id()));
    let marks: Vec<PathBuf> = (1..=4).map(|i| tmp.join(format!("PWNED{i}"))).collect();
    let base = tmp
        .join("Ada Lovelace's \"dir\"; touch $SF_MARK1; ü")
        .join("x $(touch $SF_MARK2) `touch $SF_MARK3` |touch $SF_MARK4");
    std::fs::create_dir_all(&base).unwrap();
    let net = base.join("net $(touch $SF_MARK2);.json");
    let stim = base.join("stim `touch $SF_MARK3`.csv");
    std::fs::copy(root().join("examples/recurrent/net.json"), &net).unwrap();
    std::fs::copy(root().join("examples/recurrent/stimulus.csv"), &stim).unwrap();
    let cache = base.join("cache; touch $SF_MARK1");
    let vcd = base.join("w $(touch $SF_MARK4).vcd");
    let hostile = |args: &[&std::ffi::OsStr]| {
        let mut c = bin();
        c.args(args).current_dir(root()).env("SPIKEFORGE_CACHE", &cache).env("TMPDIR", base.join("tmp;$(x)"));
        // Stage lines on stderr (the iCE40 flow's are checked below).
        c.env("SPIKEFORGE_PROGRESS", "plain");
        for (i, m) in marks.iter().enumerate() {
            c.env(format!("SF_MARK{}", i + 1), m);
        }
        std::fs::create_dir_all(base.join("tmp;$(x)")).unwrap();
        c.output().unwrap()
    };
    let os = |s: &str| std::ffi::OsString::from(s);
    // A first build of a spec's model into the hostile cache, with a VCD.
    let o = hostile(&[
        &os("sim"),
        net.as_os_str(),
        &os("--spec"),
        &os("tiny"),
        &os("--steps"),
        &os("16"),
        &os("--stimulus"),
        stim.as_os_str(),
        &os("--verify"),
        &os("--vcd"),
        vcd.as_os_str(),
        &os("--vcd-steps"),
        &os("2..5"),
        &os("--json"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["verdict"], "equal");
    assert!(std::fs::read_to_string(&vcd).unwrap().contains("$enddefinitions"));
    let cached: Vec<_> = std::fs::read_dir(cache.join("verilator")).unwrap().flatten().collect();
    assert!(cached.iter().any(|e| e.path().join("libsf.so").is_file()), "no model in the cache: {cached:?}");
    // Verilog with Verilator lint, Icarus and Yosys figures.
    let hdl = base.join("hdl $(touch $SF_MARK2)");
    let o = hostile(&[&os("hdl"), &os("--spec"), &os("tiny"), &os("--out"), hdl.as_os_str(), &os("--report")]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // A whole iCE40 flow (yosys, nextpnr, icepack through make) in a
    // hostile project folder: the bitstream fits and meets timing.
    let fpga = base.join("fpga; touch $SF_MARK1");
    let o = hostile(&[
        &os("fpga"),
        &os("examples/feedforward/net.toml"),
        &os("--board"),
        &os("icebreaker"),
        &os("--out"),
        fpga.as_os_str(),
        &os("--build"),
        &os("--json"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let r = &j["report"];
    assert_eq!(r["pass"], true, "{j}");
    // The flow's stages, in order, as the progress display shows them.
    let e = stderr(&o);
    let at = |stage: &str| e.find(&format!("fpga: {stage}")).unwrap_or_else(|| panic!("no {stage} in {e}"));
    assert!(at("synthesis (yosys)") < at("placement (nextpnr)"), "{e}");
    assert!(at("placement (nextpnr)") < at("routing (nextpnr)") && at("routing (nextpnr)") < at("packing (icepack)"));
    let bin_path = fpga.join("build/sf_board_top.bin");
    // An UP5K bitstream is about 104 kB.
    assert!(std::fs::metadata(&bin_path).unwrap().len() > 100_000);
    assert!(r["luts"].as_u64() <= r["luts_available"].as_u64(), "{j}");
    assert!(r["brams"].as_u64() <= r["brams_available"].as_u64() && r["brams"].as_u64() >= Some(20), "{j}");
    assert!(r["fmax_mhz"].as_f64().unwrap() >= r["clock_mhz"].as_f64().unwrap(), "{j}");
    for m in &marks {
        assert!(!m.exists(), "a command in a path ran: {} exists", m.display());
    }
    std::fs::remove_dir_all(&tmp).ok();
}

/// A failed Verilator build says why: here the C++ compiler is missing
/// (a PATH with Verilator, make and Python but no g++).
#[test]
fn sim_build_failure_names_the_cause() {
    let tmp = std::env::temp_dir().join(format!("sf-nocxx-{}", std::process::id()));
    let bin_dir = tmp.join("bin");
    std::fs::create_dir_all(&bin_dir).unwrap();
    for t in ["verilator", "make", "python3", "perl", "ar"] {
        let Some(p) =
            std::env::split_paths(&std::env::var_os("PATH").unwrap()).map(|d| d.join(t)).find(|p| p.is_file())
        else {
            panic!("{t} is not installed")
        };
        std::os::unix::fs::symlink(&p, bin_dir.join(t)).unwrap();
    }
    let o = bin()
        .args(["sim", "examples/recurrent/net.json", "--spec", "tiny", "--steps", "4"])
        .current_dir(root())
        .env("PATH", &bin_dir)
        .env("SPIKEFORGE_CACHE", tmp.join("cache"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("the Verilator build failed: no C++ compiler")
            && stderr(&o).contains("sudo apt-get install build-essential"),
        "{}",
        stderr(&o)
    );
    std::fs::remove_dir_all(&tmp).ok();
}

/// The cases of a `regress --json` run by index: identity, spec, size,
/// mapping, backpressure and verdict.
fn regress_cases(args: &[&str]) -> Vec<(u64, serde_json::Value)> {
    let o = run(args);
    assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["ok"], true);
    let cases = j["cases"].as_array().unwrap();
    assert_eq!(j["summary"]["run"], cases.len());
    cases
        .iter()
        .map(|c| {
            let key = serde_json::json!([
                c["id"],
                c["spec"],
                c["verdict"],
                c["neurons"],
                c["synapses"],
                c["steps"],
                c["mapping"],
                c["backpressure"]
            ]);
            (c["index"].as_u64().unwrap(), key)
        })
        .collect()
}

#[test]
fn regress_shards_together_run_exactly_the_unsharded_cases() {
    let whole = regress_cases(&["regress", "--cases", "6", "--seed", "11", "--spec", "tiny", "--json"]);
    assert_eq!(whole.iter().map(|c| c.0).collect::<Vec<_>>(), vec![0, 1, 2, 3, 4, 5]);
    assert!(whole.iter().any(|c| c.1[2] == "equal"), "no case reached the hardware: {whole:?}");
    let mut union = Vec::new();
    for i in 0..3u64 {
        let shard = format!("{i}/3");
        let part =
            regress_cases(&["regress", "--cases", "6", "--seed", "11", "--spec", "tiny", "--shard", &shard, "--json"]);
        assert!(part.iter().all(|c| c.0 % 3 == i), "shard {shard} ran {part:?}");
        assert_eq!(part.len(), 2);
        union.extend(part);
    }
    union.sort_by_key(|c| c.0);
    assert_eq!(union, whole, "the shards drew other cases or verdicts than the whole run");
    // Another seed is another campaign: other networks.
    let other = regress_cases(&["regress", "--cases", "6", "--seed", "12", "--spec", "tiny", "--json"]);
    let sizes = |v: &[(u64, serde_json::Value)]| {
        v.iter().map(|c| (c.1[3].clone(), c.1[4].clone(), c.1[5].clone())).collect::<Vec<_>>()
    };
    assert_ne!(sizes(&other), sizes(&whole));
}

/// The README's command in a saved failure folder replays it with
/// `spikeforge sim` from that folder: exit status 3, the same first line
/// of the report (step, core, slot, neuron, values), a VCD window.
fn replays(folder: &std::path::Path, report: &str) {
    let readme = std::fs::read_to_string(folder.join("README.md")).unwrap();
    let cmd = readme.lines().find_map(|l| l.strip_prefix("spikeforge sim ")).expect("a replay command");
    let r = bin().arg("sim").args(cmd.split_whitespace()).current_dir(folder).output().unwrap();
    assert_eq!(r.status.code(), Some(3), "{cmd}: {}", stderr(&r));
    let first = report.lines().next().unwrap();
    assert!(stderr(&r).starts_with(&format!("  × {first}\n")), "replay gave\n{}\nsaved\n{report}", stderr(&r));
    assert!(folder.join("replay.vcd").is_file());
}

#[test]
fn regress_shrinks_saves_and_replays_an_injected_fault() {
    let dir = std::env::temp_dir().join(format!("spikeforge-regress-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let junit = dir.join("junit.xml");
    let out = dir.join("failures");
    let o = run(&[
        "regress",
        "--cases",
        "2",
        "--seed",
        "1",
        "--spec",
        "tiny",
        "--inject-fault",
        "3",
        "--out",
        out.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["ok"], false);
    let cases = j["cases"].as_array().unwrap();
    // Every case the fault could be injected into was caught.
    let faulted: Vec<_> = cases.iter().filter(|c| !c["fault"].is_null()).collect();
    assert!(!faulted.is_empty(), "no fault injected: {cases:?}");
    assert!(faulted.iter().all(|c| c["verdict"] == "mismatch"), "{cases:?}");
    assert_eq!(j["summary"]["mismatched"], faulted.len());
    let x = std::fs::read_to_string(&junit).unwrap();
    assert!(
        x.contains(&format!("<testsuites name=\"spikeforge regress\" tests=\"2\" failures=\"{}\"", faulted.len())),
        "{x}"
    );
    for c in &faulted {
        let id = c["id"].as_str().unwrap();
        assert!(x.contains(&format!("<testcase name=\"{id}\" classname=\"regress.tiny\"")), "{x}");
        let saved = &c["saved"];
        let folder = PathBuf::from(saved["folder"].as_str().unwrap());
        assert_eq!(folder, out.join(id));
        for f in ["net.toml", "stimulus.csv", "spec.toml", "mapping.toml", "report.txt", "window.vcd", "README.md"] {
            assert!(folder.join(f).is_file(), "{id}: no {f}");
        }
        // Shrunk: never bigger than the drawn case.
        assert!(saved["neurons"].as_u64() <= c["neurons"].as_u64(), "{c}");
        assert!(saved["steps"].as_u64() <= c["steps"].as_u64(), "{c}");
        let report = std::fs::read_to_string(folder.join("report.txt")).unwrap();
        let step = &c["divergence"]["step"];
        assert!(report.starts_with(&format!("hardware differs from golden at step {step}, ")), "{report}");
        assert!(std::fs::read_to_string(folder.join("window.vcd")).unwrap().contains("$enddefinitions"));
        replays(&folder, &report);
    }
    // Unshrunk (--shrink-steps 0), case 2 of seed 1 keeps its seeded random
    // mapping and backpressure: the replay must place and stall exactly
    // as regress did, or core, slot or step would differ.
    let out = dir.join("unshrunk");
    let o = run(&[
        "regress",
        "--cases",
        "3",
        "--seed",
        "1",
        "--shard",
        "2/3",
        "--spec",
        "tiny",
        "--inject-fault",
        "3",
        "--shrink-steps",
        "0",
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let c = &j["cases"][0];
    assert_eq!(c["id"], "seed-1-case-2");
    assert!(c["mapping"]["seed"].is_u64() && c["backpressure"]["seed"].is_u64(), "{c}");
    assert_eq!(c["verdict"], "mismatch");
    assert_eq!((&c["saved"]["neurons"], &c["saved"]["steps"]), (&c["neurons"], &c["steps"]));
    let folder = out.join("seed-1-case-2");
    let readme = std::fs::read_to_string(folder.join("README.md")).unwrap();
    assert!(readme.contains(&format!("--map-seed {}", c["mapping"]["seed"])), "{readme}");
    assert!(readme.contains(&format!("--backpressure-seed {}", c["backpressure"]["seed"])), "{readme}");
    replays(&folder, &std::fs::read_to_string(folder.join("report.txt")).unwrap());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sim_takes_the_backpressure_seed_regress_replays_with() {
    let cycles = |seed: &str| {
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
            "--backpressure",
            "3",
            "--backpressure-seed",
            seed,
            "--json",
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(j["verdict"], "equal");
        j["cycles"]["total"].as_u64().unwrap()
    };
    // Another ready pattern stalls other clocks; the same one the same clocks.
    assert_ne!(cycles("1"), cycles("2"));
    assert_eq!(cycles("2"), cycles("2"));
    let o = run(&["sim", "examples/recurrent/net.json", "--spec", "tiny", "--steps", "4", "--backpressure-seed", "2"]);
    assert_eq!(o.status.code(), Some(2), "--backpressure-seed needs --backpressure");
}

#[test]
fn regress_usage_and_input_errors() {
    for bad in [["--shard", "3/3"], ["--shard", "1"], ["--shard", "0/0"], ["--cases", "0"]] {
        let mut args = vec!["regress", "--cases", "2", "--seed", "1"];
        args.extend(bad);
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{bad:?}: {}", stderr(&o));
    }
    let o = run(&["regress", "--cases", "2", "--seed", "1", "--shard", "5/4"]);
    assert!(stderr(&o).contains("`5/4` is not a shard: write I/K with 0 <= I < K"), "{}", stderr(&o));
    // A spec the generator cannot serve is refused before anything runs.
    let dir = std::env::temp_dir().join(format!("spikeforge-regress-spec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let spec = dir.join("narrow.toml");
    std::fs::write(
        &spec,
        "name = \"narrow\"\nmesh_width = 1\nmesh_height = 1\nneurons_per_core = 4\naxons_per_core = 8\n\
         synapses_per_core = 32\nroutes_per_core = 8\ninput_neurons = 4\ninput_routes = 8\nweight_bits = 4\n\
         potential_bits = 12\naccumulator_bits = 12\ninterconnect = \"crossbar\"\n",
    )
    .unwrap();
    let o = run(&["regress", "--cases", "2", "--seed", "1", "--spec", spec.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("accumulator_bits = 12; random cases need at least 16"), "{}", stderr(&o));
    let o = run(&["regress", "--cases", "2", "--seed", "1", "--spec", "nope"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let o = run(&["regress", "--cases", "2", "--seed", "1", "--junit", "no/such/folder/j.xml"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--junit no/such/folder/j.xml: the folder no/such/folder does not exist"),
        "{}",
        stderr(&o)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn nir_import_and_export_from_the_command_line() {
    let dir = std::env::temp_dir().join(format!("spikeforge-nir-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let net = dir.join("net.json");
    let back = dir.join("back.nir");
    let o = run(&["import", "convert/tests/nir/if_chain.nir", "--out", net.to_str().unwrap(), "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["ok"], true);
    assert_eq!(j["populations"][2]["name"], "if2");
    assert_eq!(j["populations"][2]["latency"], 2);
    assert_eq!(j["fidelity"]["spike_agreement"], 1.0);
    assert!(net.exists());
    let o = run(&["export", net.to_str().unwrap(), "--nir", back.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("13 neurons"), "{}", stdout(&o));
    // Refusals exit 1 with the file and the node.
    let o = run(&["import", "convert/tests/nir/bad_unknown_node.nir", "--out", net.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("node \"fc2\" (Mystery)"), "{}", stderr(&o));
    // A current-based graph imports, and says which spec it needs.
    let o = run(&["import", "convert/tests/nir/recurrent_cubalif.nir", "--out", net.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("CubaLIF"), "{}", stdout(&o));
    // Output folders are checked before any work.
    let o = run(&["import", "convert/tests/nir/if_chain.nir", "--out", "/nonexistent-dir/x.json"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("does not exist"), "{}", stderr(&o));
    let o = run(&["export", "examples/feedforward/net.toml", "--nir", back.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("resets by subtracting"), "{}", stderr(&o));
    assert!(back.exists(), "a refused export leaves the earlier file in place");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Early exit on the hardware: the co-simulation (`sim --verify
/// --early-exit`) stops at the step golden's `infer_early` stops at, for
/// both readouts, with hardware = golden up to there; the class read off
/// the hardware's potentials is golden's.
#[test]
fn sim_early_exit_stops_where_golden_does() {
    use spikeforge_convert::{data, snn, Options, Readout};
    use spikeforge_golden::early_exit::EarlyExit;
    let dir = std::env::temp_dir().join(format!("spikeforge-exit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ann = spikeforge_convert::import(&root().join("convert/models/digits_mlp.onnx")).unwrap();
    let d = data::digits();
    for readout in [Readout::Potential, Readout::Count] {
        let mut opts = Options::new(16);
        opts.readout = readout;
        let s = snn::convert(&ann, &d.train, &opts).unwrap();
        let net = dir.join("net.json");
        std::fs::write(&net, spikeforge_net::source::to_json(&s.net)).unwrap();
        let rule = s.anytime_sweep(2)[2];
        let mut model = spikeforge_golden::Model::new(&s.net);
        let mut stops = Vec::new();
        for i in 0..4 {
            let x = d.test.x(i);
            let golden = s.infer_early(&mut model, &x, rule);
            let stim = dir.join("stim.csv");
            std::fs::write(&stim, spikeforge_net::spikes::spikes_to_csv(&s.net, &s.stimulus(&x))).unwrap();
            let how = if readout == Readout::Count { "count" } else { "potential" };
            let spec = format!("{}:{}", rule.margin, rule.patience);
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
                "--early-exit",
                &spec,
                "--exit-readout",
                how,
                "--json",
            ]);
            assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
            let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
            assert_eq!(j["verdict"], "equal", "{j}");
            assert_eq!(j["steps_run"], golden.steps, "{readout:?} image {i}: {j}");
            let exited = j["early_exit"]["exited_at"].as_u64();
            assert_eq!(exited, (golden.steps < 16).then_some(golden.steps as u64), "{j}");
            stops.push(golden.steps);
        }
        assert!(stops.iter().any(|&t| t < 16), "{readout:?}: the rule never stopped early: {stops:?}");
    }
    // A rule on a population that is not there is refused by name.
    let o = run(&[
        "sim",
        dir.join("net.json").to_str().unwrap(),
        "--spec",
        "medium",
        "--steps",
        "4",
        "--early-exit",
        "5",
        "--exit-outputs",
        "logits",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--exit-outputs logits: the network has no population of that name"), "{}", stderr(&o));
    assert!(EarlyExit::parse("5:0").is_err());
    std::fs::remove_dir_all(&dir).ok();
}
