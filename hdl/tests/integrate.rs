//! The integrate engine's two row formats and its throughput, in one core
//! with hand-packed words (`Layout`'s pack functions): dense rows (even and
//! odd start slots) take one clock per word and deliver two synaptic events
//! in it, sparse rows one event per clock, rows follow each other without a
//! bubble, and a sparse row hitting one slot back to back accumulates
//! through the forwarding path. The sums are checked through a sweep whose
//! neurons copy their input into their potential.

use rust_hdl::prelude::*;
use spikeforge_hdl::core::Core;
use spikeforge_hdl::integrate::IntegrateInit;
use spikeforge_hdl::sweep::ArrayInit;
use spikeforge_hw::memory::{AxonEntry, Layout, NeuronEntry, ParamSetEntry, SynapseEntry, DENSE_LANES};
use spikeforge_mapper::HardwareSpec;

/// What the testbench measured.
#[derive(Debug, Default)]
struct Measured {
    /// Potential per slot after the sweep.
    v: Vec<i64>,
    /// Clocks from the first accumulator write to the last, inclusive.
    write_span: u64,
    /// Accumulator writes (synaptic events).
    events: u64,
    /// Clocks with two writes.
    double: u64,
    /// Clocks from the start pulse until the sweep is no longer busy.
    sweep: u64,
}

/// A neuron array whose neurons copy their input into their potential:
/// one parameter set with no leak and no reset within reach.
fn copy_array(l: &Layout, n: u32) -> ArrayInit {
    let set =
        ParamSetEntry { threshold: 32767, v_min: -32768, leak: None, reset_zero: false, output: false, syn: None };
    ArrayInit {
        param_sets: vec![l.pack_param(set)],
        neurons: vec![l.pack_neuron(NeuronEntry { bias: 0, set: 0 }); n as usize],
        v: vec![],
        files: None,
    }
}

/// Runs `keys` through one core (after writing `syn_writes` over the
/// configuration port), integrating into bank 1, then sweeps bank 1 and
/// reads every slot's potential.
fn measure(
    spec: &HardwareSpec,
    array: &ArrayInit,
    integ: &IntegrateInit,
    syn_writes: Vec<(u32, u128)>,
    keys: &[u32],
) -> Measured {
    let n = spec.neurons_per_core;
    let keys = keys.to_vec();
    let (tx, rx) = std::sync::mpsc::channel();
    let mut sim: Simulation<Core> = Simulation::default();
    sim.add_clock(5, |x: &mut Box<Core>| x.clock.next = !x.clock.val());
    sim.add_testbench(move |mut ep: Sim<Core>| {
        let mut x = ep.init()?;
        let mut m = Measured::default();
        let mut clock = 0u64;
        for &(a, w) in &syn_writes {
            x.cfg_syn_we.next = true;
            x.cfg_addr.next = (a as u64).into();
            x.cfg_data.next = (w as u64).into();
            wait_clock_cycle!(ep, clock, x);
        }
        x.cfg_syn_we.next = false;
        x.count.next = (n as u64).into();
        x.rep_pop.next = true;
        x.pkt_ready.next = true;
        // Integrate into bank 1 (the sweep's bank is 0), keys back to back.
        x.bank.next = false;
        let (mut first, mut last) = (None, 0u64);
        let mut queue = keys.clone();
        loop {
            x.in_valid.next = !queue.is_empty();
            x.in_key.next = (queue.first().copied().unwrap_or(0) as u64).into();
            let ready = x.in_ready.val();
            wait_clock_cycle!(ep, clock, x);
            clock += 1;
            if ready && !queue.is_empty() {
                queue.remove(0);
            }
            let (e, o) = (x.integ.acc_even_write.val(), x.integ.acc_odd_write.val());
            if e || o {
                first.get_or_insert(clock);
                last = clock;
                m.events += e as u64 + o as u64;
                m.double += (e && o) as u64;
            }
            if queue.is_empty() && x.idle.val() && first.is_some() && clock > last + 2 {
                break;
            }
        }
        x.in_valid.next = false;
        m.write_span = last + 1 - first.unwrap();
        // Sweep bank 1.
        x.bank.next = true;
        x.start.next = true;
        wait_clock_cycle!(ep, clock, x);
        x.start.next = false;
        m.sweep = 1;
        while x.busy.val() {
            wait_clock_cycle!(ep, clock, x);
            m.sweep += 1;
        }
        for s in 0..n {
            x.peek_slot.next = (s as u64).into();
            wait_clock_cycle!(ep, clock, x);
            wait_clock_cycle!(ep, clock, x);
            let v = x.peek_data.val().to_u64() as i64;
            m.v.push(if v >> 39 & 1 == 1 { v - (1 << 40) } else { v });
        }
        tx.send(m).unwrap();
        ep.done(x)
    });
    let mut uut = Core::new(spec, array, integ, &Default::default());
    uut.connect_all();
    sim.run(Box::new(uut), 1_000_000).unwrap();
    let m = rx.try_recv().unwrap();
    eprintln!("{m:?}");
    m
}

#[test]
fn dense_and_sparse_rows_integrate_at_one_word_per_clock() {
    let spec = HardwareSpec { mesh_width: 1, mesh_height: 1, ..HardwareSpec::preset("tiny").unwrap() };
    let n = spec.neurons_per_core;
    let l = Layout::new(&spec);
    // Rows: key 0 dense from slot 0 (8 words, every slot), key 1 dense from
    // slot 1 (7 words, slots 1..=14), key 2 sparse (4 words, slot 3 twice in a row).
    let dense0: Vec<[i32; 2]> = (0..8).map(|j| [j * 18 - 70, j * 18 - 61]).collect();
    let dense1: Vec<[i32; 2]> = (0..7).map(|j| [4 - 2 * j, 3 - 2 * j]).collect();
    let sparse = [(3u32, 100i32), (3, -128), (8, 7), (13, 1)];
    let mut syn: Vec<u128> = Vec::new();
    syn.extend(dense0.iter().map(|&w| l.pack_dense(w)));
    syn.extend(dense1.iter().map(|&w| l.pack_dense(w)));
    syn.extend(sparse.iter().map(|&(target, weight)| l.pack_synapse(SynapseEntry { target, weight })));
    let axons = vec![
        l.pack_axon(AxonEntry { row_base: 0, row_len: 8, dense_start: Some(0) }),
        l.pack_axon(AxonEntry { row_base: 8, row_len: 7, dense_start: Some(1) }),
        l.pack_axon(AxonEntry { row_base: 15, row_len: 4, dense_start: None }),
    ];
    let keys = [0u32, 1, 2, 0];
    let mut want = vec![0i64; n as usize];
    for &k in &keys {
        match k {
            0 | 1 => {
                let (rows, start) = if k == 0 { (&dense0, 0) } else { (&dense1, 1) };
                for (j, w) in rows.iter().enumerate() {
                    for lane in 0..DENSE_LANES as usize {
                        want[start + DENSE_LANES as usize * j + lane] += w[lane] as i64;
                    }
                }
            }
            _ => sparse.iter().for_each(|&(t, w)| want[t as usize] += w as i64),
        }
    }
    let array = copy_array(&l, n);
    let integ = IntegrateInit { axons, synapses: syn, files: None };
    let m = measure(&spec, &array, &integ, Vec::new(), &keys);
    eprintln!("{m:?}");
    assert_eq!(m.v, want, "potentials = accumulated input");
    let words = (dense0.len() + dense1.len() + sparse.len() + dense0.len()) as u64;
    assert_eq!(m.write_span, words, "one synapse word per clock, no bubble between rows");
    let dense_words = (2 * dense0.len() + dense1.len()) as u64;
    assert_eq!(m.double, dense_words, "two events per dense word, in one clock");
    assert_eq!(m.events, 2 * dense_words + sparse.len() as u64);
    assert_eq!(
        m.sweep,
        n as u64 + 3 + spikeforge_hdl::neuron::PIPE_STAGES as u64,
        "one neuron per clock, three sweep stages and the neuron pipe"
    );
}

/// Twin rows on a two-bank core (`single_port_synapses`): the rows of keys
/// 0 and 1 (dense, same start and length, bases of different parity) are
/// read in the same clocks and their lane weights summed, so a pair of
/// 8-word rows takes 8 clocks; a sparse row and an unmatched dense row run
/// alone; the sums equal the per-event sums. The memories are written over
/// the configuration port (two banks are never preloaded).
#[test]
fn twin_rows_read_two_words_per_clock_from_two_banks() {
    let spec = HardwareSpec {
        mesh_width: 1,
        mesh_height: 1,
        single_port_synapses: true,
        ..HardwareSpec::preset("tiny").unwrap()
    };
    assert_eq!(spec.synapse_banks(), 2);
    let n = spec.neurons_per_core;
    let l = Layout::new(&spec);
    let row = |seed: i32| -> Vec<[i32; 2]> {
        (0..8).map(|j| [(j * 37 + seed * 11) % 255 - 127, (j * 53 + seed * 7) % 255 - 127]).collect()
    };
    // key 0: dense at 0 (even); pad at 8; key 1: dense at 9 (odd);
    // key 2: sparse at 17; key 3: dense at 21 (odd), 7 words from slot 2
    // (no twin); key 4: dense at 28 (even), a twin of key 1's shape.
    let (r0, r1, r4) = (row(1), row(2), row(4));
    let r3: Vec<[i32; 2]> = row(3).into_iter().take(7).collect();
    let sparse = [(5u32, 90i32), (5, -100), (6, 3), (15, -1)];
    let mut syn: Vec<(u32, u128)> = Vec::new();
    let mut put = |at: u32, words: Vec<u128>| {
        for (i, w) in words.into_iter().enumerate() {
            syn.push((at + i as u32, w));
        }
    };
    put(0, r0.iter().map(|&w| l.pack_dense(w)).collect());
    put(9, r1.iter().map(|&w| l.pack_dense(w)).collect());
    put(17, sparse.iter().map(|&(target, weight)| l.pack_synapse(SynapseEntry { target, weight })).collect());
    put(21, r3.iter().map(|&w| l.pack_dense(w)).collect());
    put(28, r4.iter().map(|&w| l.pack_dense(w)).collect());
    let axons = vec![
        l.pack_axon(AxonEntry { row_base: 0, row_len: 8, dense_start: Some(0) }),
        l.pack_axon(AxonEntry { row_base: 9, row_len: 8, dense_start: Some(0) }),
        l.pack_axon(AxonEntry { row_base: 17, row_len: 4, dense_start: None }),
        l.pack_axon(AxonEntry { row_base: 21, row_len: 7, dense_start: Some(2) }),
        l.pack_axon(AxonEntry { row_base: 28, row_len: 8, dense_start: Some(0) }),
    ];
    let keys = [0u32, 1, 2, 3, 4, 1];
    let mut want = vec![0i64; n as usize];
    let mut add_dense = |rows: &[[i32; 2]], start: usize| {
        for (j, w) in rows.iter().enumerate() {
            for lane in 0..2 {
                want[start + 2 * j + lane] += w[lane] as i64;
            }
        }
    };
    for &k in &keys {
        match k {
            0 => add_dense(&r0, 0),
            1 => add_dense(&r1, 0),
            3 => add_dense(&r3, 2),
            4 => add_dense(&r4, 0),
            _ => {}
        }
    }
    for &(t, w) in &sparse {
        want[t as usize] += w as i64;
    }
    let array = copy_array(&l, n);
    let integ = IntegrateInit { axons, synapses: vec![], files: None };
    let m = measure(&spec, &array, &integ, syn, &keys);
    eprintln!("{m:?}");
    assert_eq!(m.v, want, "potentials = accumulated input, twins summed lane by lane");
    // Keys 0+1 twins (8 clocks), 2 sparse (4), 3 alone (7: start 2, no
    // twin), 4+1 twins (8): 27 clocks of writes for 43 words.
    assert_eq!(m.write_span, 27, "twin rows share clocks, no bubble between rows");
    // Accumulator writes: two per dense clock (a twin clock carries four
    // synaptic events, summed into the two ports), one per sparse word.
    assert_eq!(m.double, 8 + 7 + 8, "both ports write on every dense clock");
    assert_eq!(m.events, 2 * (8 + 7 + 8) + 4);
}
