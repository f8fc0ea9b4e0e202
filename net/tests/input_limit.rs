//! The process-wide input limit (what `--max-input-size` sets) applies to
//! every loader. Its own test binary: the setting is global to the process.

use spikeforge_net::input::set_max_input_bytes;
use std::path::Path;

#[test]
fn the_process_limit_applies_to_networks_and_stimuli() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus/stimulus");
    let net = spikeforge_net::load_network(&corpus.join("net.toml")).unwrap();
    set_max_input_bytes(10);
    let e = spikeforge_net::load_network(&corpus.join("net.toml")).unwrap_err();
    assert!(e.to_string().contains("larger than the input limit of 10 bytes"), "{e}");
    let e = spikeforge_net::load_spikes(&net, &corpus.join("duplicate.csv"), spikeforge_net::SpikeFileKind::Stimulus)
        .unwrap_err();
    assert!(e.to_string().contains("the stimulus is"), "{e}");
    assert!(e.to_string().contains("larger than the input limit of 10 bytes"), "{e}");
}
