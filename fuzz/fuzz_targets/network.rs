//! Fuzz target: network files, parsed and validated as JSON and as TOML
//! (`spikeforge_fuzz::network` says what must hold).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| spikeforge_fuzz::network(data));
