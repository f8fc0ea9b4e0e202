//! Fuzz target: the host-protocol reply decoder and the client's reply
//! handling (`spikeforge_fuzz::protocol`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| spikeforge_fuzz::protocol(data));
