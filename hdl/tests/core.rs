//! One core (integrate engine + neuron array) in rust-hdl's simulator
//! against the golden model. The testbench plays interconnect: it feeds the
//! host's input packets and delivers the core's packets back to it, taking
//! them with pseudo-random backpressure.

use rust_hdl::prelude::*;
use spikeforge_hdl::core::Core;
use spikeforge_hdl::integrate::IntegrateInit;
use spikeforge_hdl::route::RouteInit;
use spikeforge_hdl::sweep::ArrayInit;
use spikeforge_hw::memory::Memory;
use spikeforge_mapper::{map, Algorithm, HardwareSpec, MapOptions};
use spikeforge_net::{parse_network, Format, SpikeFileKind, Stimulus};
use std::collections::VecDeque;

fn check(net_text: &str, stim_text: &str, steps: u32) {
    let net = parse_network("t.toml", net_text.into(), Format::Toml).unwrap();
    let stim = Stimulus::from_train(
        &spikeforge_net::parse_spikes(&net, "s.csv", stim_text.into(), SpikeFileKind::Stimulus).unwrap(),
    );
    let golden = spikeforge_golden::run(&net, &stim, steps).unwrap().spikes;
    assert!(!golden.is_empty(), "the case must exercise spikes");
    let spec = HardwareSpec {
        mesh_width: 1,
        mesh_height: 1,
        potential_bits: net.fixed_point().potential_bits,
        ..HardwareSpec::preset("tiny").unwrap()
    };
    let m = map(&net, &spec, &MapOptions::new(Algorithm::Greedy)).unwrap();
    let image = m.packed();
    let pc = &image.cores[0];
    let img = &m.images.cores[0];
    let words = |x: Memory| pc.words(x).to_vec();
    let array = ArrayInit {
        param_sets: words(Memory::ParamSets),
        neurons: words(Memory::Neurons),
        v: words(Memory::Potentials),
        files: None,
    };
    let integ = IntegrateInit { axons: words(Memory::Axons), synapses: words(Memory::Synapses), files: None };
    let route = RouteInit { ridx: words(Memory::RouteIndex), routes: words(Memory::Routes), files: None };
    // Host input routing, as the host interface will apply it.
    let host = &m.images.host;
    let input_keys: Vec<(u32, Vec<u32>)> = host
        .inputs
        .iter()
        .zip(&host.route_index)
        .map(|(&g, &(b, l))| (g, host.routes[b as usize..(b + l) as usize].iter().map(|r| r.axon).collect()))
        .collect();
    let mut per_step_inputs: Vec<Vec<u32>> = vec![Vec::new(); steps as usize];
    for t in 0..steps {
        for &g in stim.at(t) {
            let keys = &input_keys.iter().find(|(x, _)| *x == g).unwrap().1;
            per_step_inputs[t as usize].extend(keys);
        }
    }
    let count = pc.neuron_count;
    let slots = img.neurons.clone();

    let mut sim: Simulation<Core> = Simulation::default();
    sim.add_clock(5, |x: &mut Box<Core>| x.clock.next = !x.clock.val());
    let (tx, rx) = std::sync::mpsc::channel();
    sim.add_testbench(move |mut ep: Sim<Core>| {
        let mut x = ep.init()?;
        x.count.next = (count as u64).into();
        x.rep_pop.next = true; // drain the spike reports; this test watches the sweep directly
        let mut bank = false;
        for t in 0..steps {
            x.bank.next = bank;
            x.start.next = true;
            let mut queue: VecDeque<u32> = per_step_inputs[t as usize].iter().copied().collect();
            let mut started = false;
            let mut rng = spikeforge_net::rng::SplitMix64(t as u64 + 17);
            loop {
                // Offer the queue head; take a packet from the core with probability 3/4.
                let offered = queue.front().copied();
                let in_ready = x.in_ready.val();
                let (pkt_valid, pkt_key) = (x.pkt_valid.val(), x.pkt_key.val().index() as u32);
                let take = rng.below(4) != 0;
                x.in_valid.next = offered.is_some();
                x.in_key.next = (offered.unwrap_or(0) as u64).into();
                x.pkt_ready.next = take;
                wait_clock_cycle!(ep, clock, x);
                if offered.is_some() && in_ready {
                    queue.pop_front();
                }
                if pkt_valid && take {
                    queue.push_back(pkt_key);
                }
                if started {
                    x.start.next = false;
                }
                started = true;
                if x.out_valid.val() && x.out_spike.val() {
                    tx.send((t, x.out_slot.val().index() as u32)).unwrap();
                }
                let quiet = !x.busy.val() && x.idle.val() && x.route_idle.val() && !x.pkt_valid.val();
                if quiet && queue.is_empty() && !x.start.val() {
                    // Two more clocks: the last write of the pipeline lands.
                    x.in_valid.next = false;
                    wait_clock_cycle!(ep, clock, x);
                    wait_clock_cycle!(ep, clock, x);
                    if x.idle.val() {
                        break;
                    }
                }
            }
            bank = !bank;
        }
        ep.done(x)
    });
    let mut uut = Core::new(&spec, &array, &integ, &route);
    uut.connect_all();
    sim.run(Box::new(uut), 50_000_000).unwrap();
    let mut hw: Vec<(u32, u32)> = rx.try_iter().map(|(t, s)| (t, slots[s as usize])).collect();
    hw.sort_unstable();
    assert_eq!(hw, golden.pairs().collect::<Vec<_>>());
}

#[test]
fn core_with_inputs_and_recurrence_equals_golden() {
    check(
        r#"
format = 1
[[populations]]
name = "in"
size = 3
kind = "input"
[[populations]]
name = "ring"
size = 5
threshold = [20, 15, 30, 12, 25]
bias = [2, 0, 1, -1, 0]
leak_shift = [3, "none", 2, 1, "none"]
reset = ["zero", "subtract", "subtract", "zero", "subtract"]
[[projections]]
pre = "in"
post = "ring"
kind = "dense"
weights = [[22, 0, 9, 0, 3], [0, -30, 16, 5, 0], [7, 7, 7, 7, -128]]
[[projections]]
pre = "ring"
post = "ring"
kind = "sparse"
synapses = [[0, 1, 21], [1, 2, 21], [2, 3, 21], [3, 4, 21], [4, 0, 21], [0, 0, -4], [2, 2, 5], [2, 2, 6], [3, 1, -7]]
"#,
        "step,population,index\n0,in,0\n0,in,2\n1,in,1\n2,in,0\n2,in,2\n4,in,2\n5,in,0\n5,in,1\n5,in,2\n9,in,0\n12,in,2\n",
        20,
    );
}
