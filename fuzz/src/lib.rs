//! The checks behind spikeforge's fuzz targets (docs/fuzzing.md).
//!
//! Each public function takes the fuzzer's bytes, feeds them to one entry
//! point the way the CLI does, and panics when something that must hold
//! does not: besides "no panic", a parsed value round-trips through its
//! writer, a rejected input's diagnostics render, a decoded frame is
//! exactly the frame its bytes encode. The targets in `fuzz_targets/` are
//! one line each, so `cargo test` here replays every seed and every
//! committed crash through the very same code without libFuzzer.

use spikeforge_net::diag::render_plain;
use spikeforge_net::source::{to_json, to_toml};
use spikeforge_net::spikes::spikes_to_csv;
use spikeforge_net::{parse_network, parse_spikes, FileErrors, Format, Network, SpikeFileKind, Stimulus};
use std::sync::OnceLock;

pub mod seeds;

/// Renders rejected-input diagnostics every way the CLI does; rendering
/// must not panic on any input, however odd its spans.
fn render(errs: &FileErrors) {
    assert!(!errs.diags.is_empty(), "an error without a diagnostic");
    let _ = errs.to_string();
    let _ = errs.to_json();
    let _ = render_plain(errs);
    for d in &errs.diags {
        let _ = d.one_line();
        let _ = d.line_col();
        let _ = render_plain(d);
    }
}

/// The network parser and validator: the bytes as JSON and as TOML.
///
/// A network that parses writes back to JSON and to TOML, and both re-parse
/// to an equal network.
pub fn network(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for format in [Format::Json, Format::Toml] {
        match parse_network("fuzz", text.to_string(), format) {
            Ok(net) => round_trip(&net),
            Err(errs) => render(&errs),
        }
    }
}

fn round_trip(net: &Network) {
    let json = to_json(net);
    match parse_network("fuzz.json", json.clone(), Format::Json) {
        Ok(back) => assert_eq!(&back, net, "JSON round trip changed the network:\n{json}"),
        Err(e) => panic!("the JSON written for a valid network is rejected: {e}\n{json}"),
    }
    let toml = to_toml(net);
    match parse_network("fuzz.toml", toml.clone(), Format::Toml) {
        Ok(back) => assert_eq!(&back, net, "TOML round trip changed the network:\n{toml}"),
        Err(e) => panic!("the TOML written for a valid network is rejected: {e}\n{toml}"),
    }
}

/// The network stimulus and spike files are read against (it has input and
/// neuron populations, so both kinds of file can be valid).
fn stimulus_network() -> &'static Network {
    static NET: OnceLock<Network> = OnceLock::new();
    NET.get_or_init(|| {
        let text = include_str!("../../tests/corpus/stimulus/net.toml");
        parse_network("net.toml", text.into(), Format::Toml).expect("the stimulus corpus network is valid")
    })
}

/// The spike CSV parser, as a stimulus and as a spike file.
///
/// An accepted list is strictly sorted by (step, global id), names only
/// neurons of the right kind, writes back to the same list, and indexes by
/// step (what the CLI does with a stimulus right after reading it).
pub fn stimulus(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let net = stimulus_network();
    for kind in [SpikeFileKind::Stimulus, SpikeFileKind::Spikes] {
        let list = match parse_spikes(net, "fuzz.csv", text.to_string(), kind) {
            Ok(list) => list,
            Err(errs) => {
                render(&errs);
                continue;
            }
        };
        assert!(list.as_slice().windows(2).all(|w| w[0] < w[1]), "spike list not strictly sorted: {list:?}");
        for id in list.iter().map(|s| s.neuron) {
            let (p, _) = net.locate(id).expect("spike id outside the network");
            assert_eq!(net.populations()[p].is_input(), kind == SpikeFileKind::Stimulus, "spike of the wrong kind");
        }
        let csv = spikes_to_csv(net, &list);
        let back = parse_spikes(net, "fuzz.csv", csv.clone(), kind).unwrap_or_else(|e| panic!("{e}\n{csv}"));
        assert_eq!(back, list, "CSV round trip changed the spikes:\n{csv}");
        let span = list.step_span();
        if let Some(last) = list.as_slice().last().map(|s| s.step) {
            assert!(span > last, "step span {span} not past the last step {last}");
        }
        // The CLI indexes a stimulus only after checking it against --steps
        // (the index has one entry per step); mirror that with a modest run.
        if kind == SpikeFileKind::Stimulus && span <= 1 << 16 {
            let stim = Stimulus::from_train(&list);
            assert_eq!(stim.len(), list.len());
            assert_eq!(stim.step_span(), span);
            for (step, id) in list.pairs() {
                assert!(stim.at(step).contains(&id), "stimulus lost spike ({step}, {id})");
            }
        }
    }
}

/// The hardware spec parser.
///
/// An accepted spec has no problems and writes back to TOML that re-parses
/// to an equal spec.
pub fn spec(data: &[u8]) {
    use spikeforge_mapper::spec::{parse_spec, to_toml};
    let Ok(text) = std::str::from_utf8(data) else { return };
    match parse_spec("fuzz.toml", text.to_string()) {
        Ok(spec) => {
            assert!(spec.problems().is_empty(), "accepted spec has problems: {:?}", spec.problems());
            let toml = to_toml(&spec);
            let back = parse_spec("fuzz.toml", toml.clone()).unwrap_or_else(|e| panic!("{e}\n{toml}"));
            assert_eq!(back, spec, "TOML round trip changed the spec:\n{toml}");
        }
        Err(errs) => render(&errs),
    }
}

/// The ONNX importer, from bytes.
///
/// An imported ANN holds the guarantees of `spikeforge_convert::ann`: a
/// chain of well-formed sparse layers whose sizes connect, only the last
/// one linear; and a forward pass gives one value per output.
pub fn onnx(data: &[u8]) {
    let Ok(ann) = spikeforge_convert::import_bytes("fuzz.onnx", data) else { return };
    assert!(!ann.layers.is_empty(), "imported ANN without layers");
    let mut inputs = ann.inputs();
    assert!(inputs > 0, "imported ANN without inputs");
    for (i, l) in ann.layers.iter().enumerate() {
        assert_eq!(l.inputs, inputs, "layer {i} ({}) reads {} values, the previous gives {inputs}", l.name, l.inputs);
        let outputs = l.outputs();
        assert_eq!(l.shape.iter().product::<usize>(), outputs, "layer {i}: shape {:?} vs {outputs} biases", l.shape);
        assert_eq!(l.starts.len(), outputs + 1, "layer {i}: row starts");
        assert_eq!(l.starts[0], 0);
        assert!(l.starts.windows(2).all(|w| w[0] <= w[1]), "layer {i}: row starts decrease");
        assert_eq!(l.starts[outputs], l.cols.len(), "layer {i}: row starts vs columns");
        assert_eq!(l.cols.len(), l.vals.len(), "layer {i}: columns vs values");
        assert!(l.cols.iter().all(|&c| (c as usize) < inputs), "layer {i}: column out of range");
        let last = i + 1 == ann.layers.len();
        assert!(last || l.act != spikeforge_convert::Act::Linear, "layer {i} is linear but not the last");
        inputs = outputs;
    }
    // Bounded so that a huge but valid model does not make one input slow.
    if ann.synapses() + ann.inputs() < 1 << 20 {
        let out = ann.forward(&vec![0.5; ann.inputs()]);
        assert_eq!(out.last().map(Vec::len), Some(ann.outputs()));
    }
}

/// The host-protocol reply decoder, and the client's reply handling.
///
/// Every reply the decoder yields is exactly the last bytes pushed and
/// equals `reply_frame(kind, payload)` (so its CRC is right and decoding
/// then encoding gives the bytes back). After any bytes, 12 zero bytes
/// (longer than the longest frame) bring it back in step: a valid frame
/// then decodes to itself. The client's step, peek and status then read
/// the same bytes as replies and must fail cleanly, never panic.
pub fn protocol(data: &[u8]) {
    use spikeforge_fpga::protocol::{reply_frame, Decoder, Reply};
    let mut dec = Decoder::default();
    let mut pushed: Vec<u8> = Vec::with_capacity(data.len() + 32);
    let mut feed = |dec: &mut Decoder, b: u8| {
        pushed.push(b);
        let r = dec.push(b);
        if let Some(Ok(reply)) = &r {
            assert!(reply.payload.len() <= 8, "reply with {} payload bytes", reply.payload.len());
            let frame = reply_frame(reply.kind, &reply.payload);
            assert!(pushed.ends_with(&frame), "decoded {reply:?}, which is not the bytes that were pushed");
        }
        r
    };
    for &b in data {
        feed(&mut dec, b);
    }
    for _ in 0..12 {
        feed(&mut dec, 0);
    }
    let want = Reply { kind: 0x85, payload: vec![0xAA, 0x55, 0, 7] };
    let got: Vec<_> = reply_frame(want.kind, &want.payload).into_iter().filter_map(|b| feed(&mut dec, b)).collect();
    assert_eq!(got, [Ok(want)], "the decoder did not resynchronize");

    client(data);
}

/// A link that answers with the fuzzer's bytes and accepts every request.
struct Scripted<'a> {
    bytes: std::slice::Iter<'a, u8>,
}

impl spikeforge_fpga::protocol::Link for Scripted<'_> {
    fn send(&mut self, _bytes: &[u8]) -> Result<(), spikeforge_fpga::protocol::ProtocolError> {
        Ok(())
    }
    fn recv(&mut self, _timeout: std::time::Duration) -> Result<Option<u8>, spikeforge_fpga::protocol::ProtocolError> {
        Ok(self.bytes.next().copied())
    }
}

fn client(data: &[u8]) {
    use spikeforge_fpga::protocol::Client;
    let mut c = Client::new(Scripted { bytes: data.iter() }, 115_200);
    // Until the bytes run out (a time-out); every call must return.
    for round in 0.. {
        let r = match round % 3 {
            0 => c.step().map(|s| s.spikes.len()),
            1 => c.peek(1, 2).map(|_| 0),
            _ => c.status().map(|_| 0),
        };
        if let Err(e) = r {
            let _ = e.to_string();
            if c.link.bytes.len() == 0 {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests;
