//! Cost of reporting bad input: `cargo bench -p spikeforge-net`.
//!
//! Error reports must stay linear in the input size and bounded in output,
//! whatever the file looks like. The cases are the shapes that used to be
//! slow: one-line JSON (what Python's `json.dump` writes by default) with
//! many errors, and one bad value in a large one-line file. For each case
//! the bench prints the input size, the time to parse and validate (until
//! the error), the time to render the report as the CLI prints it, and the
//! size of that report. Targets (docs/format.md, "Limits"): 1,000 errors in
//! a 46 KB one-line file rendered in under 1 s with under 64 KB of output;
//! one bad weight in a 12 MB one-line file in under 2 s.
//!
//! `cargo bench` passes `--bench`; `cargo test --benches` does not, and then
//! the same cases run at a tenth of the size (nothing is asserted).

use spikeforge_net::diag::render_plain;
use spikeforge_net::{parse_network, Format};
use std::fmt::Write as _;
use std::time::Instant;

/// `n` populations of one neuron each, every threshold 0 (outside 1..): one
/// validation error per population, all on one line.
fn many_errors(n: usize) -> String {
    let mut s = String::from(r#"{"format": 1, "populations": ["#);
    for i in 0..n {
        if i > 0 {
            s.push_str(", ");
        }
        let _ = write!(s, r#"{{"name": "p{i}", "size": 1, "threshold": 0}}"#);
    }
    s.push_str("]}");
    s
}

/// The same as [`many_errors`] in TOML, one key per line.
fn many_errors_toml(n: usize) -> String {
    let mut s = String::from("format = 1\n");
    for i in 0..n {
        let _ = write!(s, "\n[[populations]]\nname = \"p{i}\"\nsize = 1\nthreshold = 0\n");
    }
    s
}

/// A dense `side` x `side` projection of zeros on one line with a single
/// weight out of range near the end (`bad = false`: a valid network).
fn dense_one_line(side: usize, bad: bool) -> String {
    let mut s = format!(
        r#"{{"format": 1, "populations": [{{"name": "in", "size": {side}, "kind": "input"}}, {{"name": "out", "size": {side}, "threshold": 10}}], "projections": [{{"pre": "in", "post": "out", "kind": "dense", "weights": ["#
    );
    for r in 0..side {
        if r > 0 {
            s.push_str(", ");
        }
        s.push('[');
        for c in 0..side {
            if c > 0 {
                s.push_str(", ");
            }
            s.push_str(if bad && r == side - 2 && c == side / 2 { "999" } else { "0" });
        }
        s.push(']');
    }
    s.push_str("]}]}");
    s
}

/// [`dense_one_line`] in TOML: the matrix on one line.
fn dense_toml(side: usize) -> String {
    let json = dense_one_line(side, true);
    let start = json.find("\"weights\": ").unwrap() + "\"weights\": ".len();
    let matrix = &json[start..json.len() - "}]}".len()];
    format!(
        "format = 1\n\n[[populations]]\nname = \"in\"\nsize = {side}\nkind = \"input\"\n\n[[populations]]\n\
         name = \"out\"\nsize = {side}\nthreshold = 10\n\n[[projections]]\npre = \"in\"\npost = \"out\"\n\
         kind = \"dense\"\nweights = {matrix}\n"
    )
}

/// A stimulus of `n` rows naming an unknown population, and one line of
/// `long` bytes without commas.
fn bad_stimulus(n: usize, long: usize) -> String {
    let mut s = String::from("step,population,index\n");
    for i in 0..n {
        let _ = writeln!(s, "{i},nosuch,0");
    }
    s.push_str(&"x".repeat(long));
    s.push('\n');
    s
}

fn case(name: &str, text: String, format: Format) {
    let bytes = text.len();
    let file = match format {
        Format::Json => "bench.json",
        Format::Toml => "bench.toml",
    };
    let t0 = Instant::now();
    let err = match parse_network(file, text, format) {
        Ok(_) => panic!("{name}: the generated network must be rejected"),
        Err(e) => e,
    };
    let parse = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let report = render_plain(&err);
    let render = t1.elapsed().as_secs_f64();
    println!(
        "  {name:<34} {:>9.1} KB  {:>5} problems  parse {:>7.3} s  render {:>7.3} s  total {:>7.3} s  report {:>8.1} KB",
        bytes as f64 / 1e3,
        err.total(),
        parse,
        render,
        parse + render,
        report.len() as f64 / 1e3
    );
}

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let scale = if quick { 10 } else { 1 };
    // Side of the dense matrix: 2000 x 2000 weights `0, ` is 12 MB.
    let side = if quick { 630 } else { 2000 };
    println!("diagnostics of bad input files{}", if quick { " (quick run: 1/10 size)" } else { "" });
    case("many errors, one-line JSON", many_errors(1000 / scale), Format::Json);
    case("many errors, TOML", many_errors_toml(1000 / scale), Format::Toml);
    case("one bad weight, one-line JSON", dense_one_line(side, true), Format::Json);
    case("one bad weight, one-line TOML", dense_toml(side), Format::Toml);
    // References: the happy path on the same files without the bad weight.
    let valid = dense_one_line(side, false);
    let valid_toml = dense_toml(side).replace("999", "0");
    let mut net = None;
    for (name, text, format) in
        [("valid, one-line JSON", valid, Format::Json), ("valid, one-line TOML", valid_toml, Format::Toml)]
    {
        let bytes = text.len();
        let t0 = Instant::now();
        net = Some(parse_network("bench", text, format).expect("the generated network is valid"));
        println!(
            "  {name:<34} {:>9.1} KB  (reference: without the bad weight)      parse {:>7.3} s",
            bytes as f64 / 1e3,
            t0.elapsed().as_secs_f64()
        );
    }
    let net = net.expect("parsed above");

    let text = bad_stimulus(100_000 / scale, 12_000_000 / scale);
    let bytes = text.len();
    let t0 = Instant::now();
    let err = spikeforge_net::parse_spikes(&net, "bench.csv", text, spikeforge_net::SpikeFileKind::Stimulus)
        .expect_err("the generated stimulus must be rejected");
    let parse = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let report = render_plain(&err);
    println!(
        "  {:<34} {:>9.1} KB  {:>5} problems  parse {:>7.3} s  render {:>7.3} s  total {:>7.3} s  report {:>8.1} KB",
        "many errors and a long line, CSV",
        bytes as f64 / 1e3,
        err.total(),
        parse,
        t1.elapsed().as_secs_f64(),
        parse + t1.elapsed().as_secs_f64(),
        report.len() as f64 / 1e3
    );
}
