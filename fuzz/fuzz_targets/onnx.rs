//! Fuzz target: the ONNX importer, from bytes (`spikeforge_fuzz::onnx`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| spikeforge_fuzz::onnx(data));
