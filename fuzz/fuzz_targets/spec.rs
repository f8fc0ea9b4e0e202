//! Fuzz target: hardware spec files (`spikeforge_fuzz::spec`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| spikeforge_fuzz::spec(data));
