//! Fuzz target: stimulus and spike CSV files (`spikeforge_fuzz::stimulus`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| spikeforge_fuzz::stimulus(data));
