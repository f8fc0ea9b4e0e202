//! One test per rule of the semantics (docs/format.md), each with values computed by hand in the
//! comments. These pin the semantics; the property tests and the examples
//! check the rest.

use spikeforge_golden::{run, GoldenError, Model};
use spikeforge_net::{parse_network, Format, Network, SpikeFileKind, Stimulus};

fn net(toml: &str) -> Network {
    match parse_network("test.toml", toml.to_string(), Format::Toml) {
        Ok(n) => n,
        Err(e) => panic!("{}", spikeforge_net::diag::render_plain(&e)),
    }
}

/// Potential of neuron `id` after each of `steps` steps with no input.
fn trace(n: &Network, id: u32, steps: u32) -> (Vec<i32>, Vec<u32>) {
    let mut m = Model::new(n);
    let mut v = Vec::new();
    let mut fired_at = Vec::new();
    for t in 0..steps {
        if m.step(&[]).unwrap().contains(&id) {
            fired_at.push(t);
        }
        v.push(m.potentials()[id as usize]);
    }
    (v, fired_at)
}

fn one(params: &str) -> Network {
    net(&format!("format = 1\n[[populations]]\nname = \"n\"\nsize = 1\n{params}\n"))
}

#[test]
fn soft_reset_subtracts_threshold() {
    // b = 7, θ = 10: 7, 14 -> fire, 4; 11 -> fire, 1; 8; 15 -> fire, 5
    let (v, f) = trace(&one("threshold = 10\nbias = 7"), 0, 5);
    assert_eq!(v, [7, 4, 1, 8, 5]);
    assert_eq!(f, [1, 2, 4]);
}

#[test]
fn hard_reset_goes_to_zero() {
    // b = 7, θ = 10, reset zero: 7, 14 -> fire, 0; 7; 14 -> fire, 0; 7
    let (v, f) = trace(&one("threshold = 10\nbias = 7\nreset = \"zero\""), 0, 5);
    assert_eq!(v, [7, 0, 7, 0, 7]);
    assert_eq!(f, [1, 3]);
}

#[test]
fn leak_shift_floors_on_negative_potentials() {
    // v = -5, λ = 2: -5 - floor(-5/4) = -5 + 2 = -3; -3 + 1 = -2; -2 + 1 = -1;
    // -1 - floor(-1/4) = -1 + 1 = 0; then 0 forever.
    let (v, _) = trace(&one("threshold = 100\nleak_shift = 2\nv_init = -5"), 0, 6);
    assert_eq!(v, [-3, -2, -1, 0, 0, 0]);
    // Positive side truncates towards zero too (floor): 5 - 1 = 4; 4 - 1 = 3; 3 - 0 = 3.
    let (v, _) = trace(&one("threshold = 100\nleak_shift = 2\nv_init = 5"), 0, 4);
    assert_eq!(v, [4, 3, 3, 3]);
    // λ = 0 removes the whole potential every step: only a + b remain.
    let (v, _) = trace(&one("threshold = 100\nleak_shift = 0\nv_init = 50\nbias = 3"), 0, 3);
    assert_eq!(v, [3, 3, 3]);
}

#[test]
fn leak_applies_before_input_and_bias() {
    // v = 40, λ = 1, b = 10: 40 - 20 + 10 = 30; 30 - 15 + 10 = 25; 25 - 12 + 10 = 23
    let (v, _) = trace(&one("threshold = 1000\nleak_shift = 1\nv_init = 40\nbias = 10"), 0, 3);
    assert_eq!(v, [30, 25, 23]);
}

#[test]
fn saturates_at_both_ends_before_threshold() {
    // P = 8 (-128..127). b = 100, θ = 127: 100; 200 saturates to 127 -> fire,
    // 127 - 127 = 0 (not 73: the threshold sees the saturated value).
    let fp = "[fixed_point]\npotential_bits = 8\n";
    let n =
        net(&format!("format = 1\n{fp}[[populations]]\nname = \"n\"\nsize = 2\nthreshold = 127\nbias = [100, -100]\n"));
    let (v, f) = trace(&n, 0, 3);
    assert_eq!(v, [100, 0, 100]);
    assert_eq!(f, [1]);
    // b = -100: -100; -200 saturates to -128; stays -128.
    let (v, f) = trace(&n, 1, 3);
    assert_eq!(v, [-100, -128, -128]);
    assert!(f.is_empty());
}

#[test]
fn v_min_clamps_after_reset() {
    // b = -100, v_min = -50: clamped to -50 every step.
    let (v, _) = trace(&one("threshold = 10\nbias = -100\nv_min = -50"), 0, 3);
    assert_eq!(v, [-50, -50, -50]);
    // The clamp applies after a hard reset: b = 12, θ = 10, v_min = 3:
    // 0 + 12 = 12 -> fire -> 0 -> max(0, 3) = 3; 3 + 12 = 15 -> fire -> 0 -> 3.
    let (v, f) = trace(&one("threshold = 10\nbias = 12\nv_min = 3\nreset = \"zero\""), 0, 2);
    assert_eq!(v, [3, 3]);
    assert_eq!(f, [0, 1]);
}

#[test]
fn v_init_is_the_starting_potential() {
    // v_init = 9, θ = 10, b = 1: fires in step 0.
    let (v, f) = trace(&one("threshold = 10\nbias = 1\nv_init = 9"), 0, 2);
    assert_eq!(v, [0, 1]);
    assert_eq!(f, [0]);
}

#[test]
fn threshold_is_inclusive() {
    // v' = θ exactly fires.
    let (_, f) = trace(&one("threshold = 5\nbias = 5"), 0, 1);
    assert_eq!(f, [0]);
}

const CHAIN: &str = r#"
format = 1
[[populations]]
name = "in"
size = 1
kind = "input"
[[populations]]
name = "a"
size = 1
threshold = 10
[[populations]]
name = "b"
size = 1
threshold = 10
[[projections]]
pre = "in"
post = "a"
kind = "one_to_one"
weight = 10
[[projections]]
pre = "a"
post = "b"
kind = "one_to_one"
weight = 10
"#;

#[test]
fn one_step_synaptic_delay_everywhere() {
    // in spikes at step 0 (stimulus) -> a fires at 1 -> b fires at 2.
    let n = net(CHAIN);
    let stim =
        spikeforge_net::parse_spikes(&n, "s.csv", "step,population,index\n0,in,0\n".into(), SpikeFileKind::Stimulus)
            .unwrap();
    let r = run(&n, &Stimulus::from_train(&stim), 4).unwrap();
    assert_eq!(r.spikes.pairs().collect::<Vec<_>>(), [(1, 1), (2, 2)]);
    assert_eq!(r.events, 2);
}

#[test]
fn input_neurons_only_fire_from_the_stimulus() {
    let n = net(CHAIN);
    let mut m = Model::new(&n);
    // Input neurons never appear among computed spikes, and read potential 0.
    assert_eq!(m.step(&[0]).unwrap(), &[] as &[u32]);
    assert_eq!(m.potentials()[0], 0);
    // Driving a computed neuron as if it were an input is refused.
    assert_eq!(m.step(&[1]), Err(GoldenError::NotAnInput { neuron: "a[0]".into() }));
    assert!(matches!(m.step(&[7]), Err(GoldenError::NotAnInput { .. })));
}

#[test]
fn accumulation_is_exact_before_saturation() {
    // P = 8, v_init = 100; in the same step +127 +127 -128 -128 arrive:
    // exact sum -2, so u = 98 (a saturating running sum would give 127 - 128 - 128 ...).
    let n = net(r#"
format = 1
[fixed_point]
potential_bits = 8
[[populations]]
name = "in"
size = 4
kind = "input"
[[populations]]
name = "n"
size = 1
threshold = 127
v_init = 100
[[projections]]
pre = "in"
post = "n"
kind = "dense"
weights = [[127], [127], [-128], [-128]]
"#);
    let mut m = Model::new(&n);
    m.step(&[0, 1, 2, 3]).unwrap();
    assert_eq!(m.potentials()[4], 100);
    m.step(&[]).unwrap();
    assert_eq!(m.potentials()[4], 98);
}

#[test]
fn stimulus_beyond_the_run_is_an_error_not_a_truncation() {
    let n = net(CHAIN);
    let stim =
        spikeforge_net::parse_spikes(&n, "s.csv", "step,population,index\n5,in,0\n".into(), SpikeFileKind::Stimulus)
            .unwrap();
    assert_eq!(run(&n, &Stimulus::from_train(&stim), 5), Err(GoldenError::StimulusBeyondRun { last: 5, steps: 5 }));
    assert!(run(&n, &Stimulus::from_train(&stim), 6).is_ok());
}

#[test]
fn reset_restores_the_initial_state() {
    let n = one("threshold = 10\nbias = 7\nv_init = 2");
    let mut m = Model::new(&n);
    for _ in 0..3 {
        m.step(&[]).unwrap();
    }
    m.reset();
    assert_eq!(m.potentials(), &[2]);
    assert_eq!(m.steps_run(), 0);
}

#[test]
fn bias_write_between_steps() {
    // b = 7 for two steps (7, 14 -> fire, 4), then b = 3 (7, 10 -> fire, 0).
    let n = net("format = 1\n[[populations]]\nname = \"in\"\nsize = 1\nkind = \"input\"\n[[populations]]\nname = \"n\"\nsize = 1\nthreshold = 10\nbias = 7\n");
    let mut m = Model::new(&n);
    let mut v = Vec::new();
    for t in 0..4 {
        if t == 2 {
            m.set_bias(1, 3).unwrap();
        }
        m.step(&[]).unwrap();
        v.push(m.potentials()[1]);
    }
    assert_eq!(v, [7, 4, 7, 0]);
    // Kept across a reset; the same as a network built with that bias.
    m.reset();
    m.step(&[]).unwrap();
    assert_eq!(m.potentials()[1], 3);
    let e = m.set_bias(0, 1).unwrap_err();
    assert_eq!(e.to_string(), "cannot set the bias of in[0] to 1: it is an input neuron or does not exist");
    assert!(matches!(m.set_bias(1, 40000), Err(GoldenError::BadWrite { .. })));
}
