//! The neuron array (memories + sweep) in rust-hdl's simulator against the
//! golden model: parameter-set, neuron and potential words come from the
//! mapper's images; input spikes are integrated through the two integrate
//! ports (even and odd slots) into the bank the next sweep reads, as the
//! integrate engine does.

use rust_hdl::prelude::*;
use spikeforge_hdl::neuron::X;
use spikeforge_hdl::sweep::{ArrayInit, NeuronArray};
use spikeforge_hw::memory::Memory;
use spikeforge_mapper::{map, Algorithm, HardwareSpec, MapOptions};
use spikeforge_net::{parse_network, Format, Network, SpikeFileKind, Stimulus};

fn bits40(v: i64) -> Bits<X> {
    Bits::<X>::from((v as u64) & ((1 << X) - 1))
}

/// Runs `steps` sweeps; before sweep t+1, writes into the other bank the
/// accumulations of the input spikes of step t (one-to-one weights).
/// Returns the spikes as (step, slot).
fn run_array(net: &Network, stim: &Stimulus, steps: u32, via_config: bool) -> (Vec<(u32, u32)>, Vec<u32>) {
    let spec = HardwareSpec { neurons_per_core: 8, ..HardwareSpec::preset("tiny").unwrap() };
    let current = net.populations().iter().any(|p| p.params().is_some_and(|n| n.is_current_based()));
    let spec = HardwareSpec {
        potential_bits: net.fixed_point().potential_bits,
        accumulator_bits: net.fixed_point().accumulator_bits,
        current_state: current,
        ..spec
    };
    let m = map(net, &spec, &MapOptions::new(Algorithm::Greedy)).unwrap();
    let image = m.packed();
    let core = &image.cores[0];
    let sets = core.words(Memory::ParamSets).to_vec();
    let neurons = core.words(Memory::Neurons).to_vec();
    let v_init = core.words(Memory::Potentials).to_vec();
    let init = if via_config {
        ArrayInit::default()
    } else {
        ArrayInit { param_sets: sets.clone(), neurons: neurons.clone(), v: v_init.clone(), files: None }
    };
    let slots_to_global = m.images.cores[0].neurons.clone();
    let count = core.neuron_count;
    // Per step: accumulation per slot from the input spikes (synapses of the network).
    let mut acc: Vec<Vec<i64>> = vec![vec![0; count as usize]; steps as usize + 1];
    let mut syn = Vec::new();
    net.for_each_synapse(|a, b, w| syn.push((a, b, w)));
    for t in 0..steps {
        for &g in stim.at(t) {
            for &(a, b, w) in &syn {
                if a == g {
                    let slot = slots_to_global.iter().position(|&x| x == b).unwrap();
                    acc[t as usize + 1][slot] += w as i64;
                }
            }
        }
    }
    let mut sim: Simulation<NeuronArray> = Simulation::default();
    sim.add_clock(5, |x: &mut Box<NeuronArray>| x.clock.next = !x.clock.val());
    let (tx, rx) = std::sync::mpsc::channel();
    sim.add_testbench(move |mut ep: Sim<NeuronArray>| {
        let mut x = ep.init()?;
        x.count.next = (count as u64).into();
        if via_config {
            // Load the images over the configuration port, one word per clock.
            let word = |w: u128| Bits::<144>::from(w as u64) | (Bits::<144>::from((w >> 64) as u64) << 64u64);
            for (i, &w) in sets.iter().enumerate() {
                x.cfg_slot.next = (i as u64).into();
                x.cfg_data.next = word(w);
                x.cfg_param_sets_we.next = true;
                wait_clock_cycle!(ep, clock, x);
                x.cfg_param_sets_we.next = false;
            }
            for slot in 0..count as usize {
                x.cfg_slot.next = (slot as u64).into();
                x.cfg_data.next = word(neurons[slot]);
                x.cfg_neurons_we.next = true;
                wait_clock_cycle!(ep, clock, x);
                x.cfg_neurons_we.next = false;
                x.cfg_data.next = Bits::<144>::from(v_init[slot] as u64);
                x.cfg_v_we.next = true;
                wait_clock_cycle!(ep, clock, x);
                x.cfg_v_we.next = false;
            }
        }
        let mut bank = false;
        for t in 0..steps {
            // Step t: the sweep reads bank `bank`; the spikes of step t are
            // integrated into the other one.
            x.bank.next = bank;
            // Integrate the accumulations of step t into bank !bank (read-modify-write
            // is the integrate engine's job; here the value is written directly),
            // an even and an odd slot per clock.
            let a = &acc[t as usize + 1];
            for pair in 0..a.len().div_ceil(2) {
                let (e, o) = (a[2 * pair], a.get(2 * pair + 1).copied().unwrap_or(0));
                x.int_even_write.next = e != 0;
                x.int_even_write_addr.next = (pair as u64).into();
                x.int_even_write_data.next = bits40(e);
                x.int_odd_write.next = o != 0;
                x.int_odd_write_addr.next = (pair as u64).into();
                x.int_odd_write_data.next = bits40(o);
                wait_clock_cycle!(ep, clock, x);
            }
            x.int_even_write.next = false;
            x.int_odd_write.next = false;
            x.start.next = true;
            wait_clock_cycle!(ep, clock, x);
            x.start.next = false;
            loop {
                if x.out_valid.val() && x.out_spike.val() {
                    tx.send((t, x.out_slot.val().index() as u32)).unwrap();
                }
                if !x.busy.val() {
                    break;
                }
                wait_clock_cycle!(ep, clock, x);
            }
            bank = !bank;
        }
        ep.done(x)
    });
    let mut uut = NeuronArray::new(
        8,
        spec.param_sets_per_core as usize,
        net.fixed_point().potential_bits,
        net.fixed_point().accumulator_bits,
        current,
        &init,
    );
    uut.connect_all();
    sim.run(Box::new(uut), 2_000_000).unwrap();
    (rx.try_iter().collect(), slots_to_global)
}

fn check(net_text: &str, stim_text: &str, steps: u32) {
    let net = parse_network("t.toml", net_text.into(), Format::Toml).unwrap();
    let stim = Stimulus::from_train(
        &spikeforge_net::parse_spikes(&net, "s.csv", stim_text.into(), SpikeFileKind::Stimulus).unwrap(),
    );
    let golden = spikeforge_golden::run(&net, &stim, steps).unwrap().spikes;
    for via_config in [false, true] {
        let (hw, slots) = run_array(&net, &stim, steps, via_config);
        let mut hw: Vec<(u32, u32)> = hw.into_iter().map(|(t, s)| (t, slots[s as usize])).collect();
        hw.sort_unstable();
        assert_eq!(
            hw,
            golden.pairs().collect::<Vec<_>>(),
            "loaded via {}",
            if via_config { "the config port" } else { "memory init" }
        );
    }
    assert!(!golden.is_empty(), "the case must exercise spikes");
}

#[test]
fn sweep_equals_golden_with_bias_leak_and_resets() {
    check(
        r#"
format = 1
[[populations]]
name = "n"
size = 5
threshold = [10, 7, 20, 3, 100]
bias = [7, -2, 9, 1, 30]
leak_shift = [1, "none", 2, 0, 3]
reset = ["subtract", "zero", "subtract", "zero", "subtract"]
v_init = [0, 5, -7, 2, -90]
v_min = [-32768, -3, -32768, 0, -40]
"#,
        "step,population,index\n",
        30,
    );
}

#[test]
fn sweep_integrates_both_banks_with_negative_and_extreme_weights() {
    // P = 8: saturation at both ends; weights include -128 (most negative).
    check(
        r#"
format = 1
[fixed_point]
potential_bits = 8
accumulator_bits = 12
[[populations]]
name = "in"
size = 3
kind = "input"
[[populations]]
name = "n"
size = 3
threshold = [100, 5, 127]
bias = [1, 0, -3]
leak_shift = [2, "none", 1]
reset = ["subtract", "zero", "subtract"]
[[projections]]
pre = "in"
post = "n"
kind = "dense"
weights = [[127, -128, 90], [127, 6, -128], [-128, 100, 127]]
"#,
        "step,population,index\n0,in,0\n0,in,1\n1,in,2\n2,in,0\n3,in,1\n3,in,2\n5,in,0\n5,in,1\n5,in,2\n8,in,2\n",
        12,
    );
}

#[test]
fn sweep_equals_golden_with_synaptic_currents() {
    // P = 8, A = 12: currents saturate at both ends (±2047) while the
    // potential saturates at ±127; one population without a current shares
    // the core, so its state word keeps 0 above the potential.
    check(
        r#"
format = 1
[fixed_point]
potential_bits = 8
accumulator_bits = 12
[[populations]]
name = "in"
size = 3
kind = "input"
[[populations]]
name = "c"
size = 4
threshold = [100, 5, 127, 40]
bias = [1, 0, -3, 2]
leak_shift = [2, "none", 1, 0]
reset = ["subtract", "zero", "subtract", "zero"]
syn_shift = [0, 1, 3, 11]
v_init = [5, -7, 0, 100]
[[populations]]
name = "plain"
size = 2
threshold = 20
leak_shift = 1
[[projections]]
pre = "in"
post = "c"
kind = "dense"
weights = [[127, -128, 90, 127], [127, 6, -128, 127], [-128, 100, 127, 127]]
[[projections]]
pre = "in"
post = "plain"
kind = "dense"
weights = [[30, -5], [12, 40], [-128, 100]]
"#,
        "step,population,index\n0,in,0\n0,in,1\n1,in,2\n2,in,0\n3,in,1\n3,in,2\n5,in,0\n5,in,1\n5,in,2\n6,in,0\n6,in,1\n7,in,0\n7,in,1\n8,in,2\n",
        16,
    );
}
