//! Co-simulation benchmark (figures printed, nothing asserted).
//!
//! A 4-core design (the `medium` preset: 2x2, 64 neurons, 1024 synapses per
//! core) runs a reference network: four blocks of 60 recurrently connected
//! neurons with their own 16 inputs and a few links to the next block,
//! fan-in 12, driven by random input at 20% per input and step.
//!
//! 1. Speed: simulated clock cycles per second and synaptic events per
//!    second under Verilator, and the same Verilog and host program under
//!    Icarus Verilog in the same run; the ratio.
//! 2. Cycles per step (input hand-over included) against the lower bound
//!    max over cores of (synaptic events delivered to the core + its
//!    neurons): a core sweeps one neuron and integrates one sparse synapse
//!    word per clock; the ratio says how close a step comes to it.
//! 3. The route-bound case: every neuron fires every step with one target
//!    on the next core, with the monitor off (as deployed) and on (every
//!    spike reported, as co-simulation runs).
//!
//! `cargo bench -p spikeforge-sim` runs the full figures; without `--bench`
//! (as `cargo test --benches` runs it) a quick version checks it works.

use spikeforge_mapper::{map, Algorithm, HardwareSpec, MapOptions};
use spikeforge_net::doc::{FixedPointDoc, PopulationDoc, ProjectionDoc};
use spikeforge_net::{Network, NetworkDoc, PerNeuron, Reset, SpikeTrain, Stimulus};
use spikeforge_sim::{icarus, run, RunOptions};

mod common;

use common::{bounds, reference_network, stimulus};

/// The route-bound case: every neuron fires every step and has exactly one
/// target, on the next core (slot i of core c feeds slot i of core c+1), so
/// each core sends and receives one packet per neuron per step.
fn route_bound_network(cores: u64, per_core: u64) -> Network {
    let n = cores * per_core;
    let syn = (0..n).map(|i| [i as i64, ((i + per_core) % n) as i64, 1]).collect();
    let mut x = PopulationDoc::neurons("x", n as i64, 16);
    x.bias = Some(PerNeuron::Scalar(16));
    x.reset = Some(PerNeuron::Scalar(Reset::Subtract));
    let doc = NetworkDoc {
        format: 1,
        name: Some("route-bound".into()),
        fixed_point: FixedPointDoc { weight_bits: 8, potential_bits: 16, accumulator_bits: 24 },
        populations: vec![PopulationDoc::input("in", 1), x],
        projections: vec![ProjectionDoc::sparse("x", "x", syn)],
    };
    Network::from_doc(&doc).expect("valid route-bound network")
}

/// Cycles per step of the route-bound network against the bound, with
/// every spike reported (`monitor` = 1, as co-simulation runs) and with
/// only output neurons' spikes reported (`monitor` = 0, as a deployed
/// design runs; this network has none).
fn route_bound(built: &spikeforge_sim::Built, spec: &HardwareSpec, quick: bool) {
    use spikeforge_hw::model::{HardwareModel, Place};
    let steps: u32 = if quick { 10 } else { 200 };
    let net = route_bound_network(spec.cores() as u64, spec.neurons_per_core as u64);
    let stim = Stimulus::from_train(&SpikeTrain::from_pairs(Vec::new()));
    let m = map(&net, spec, &MapOptions::new(Algorithm::Greedy)).expect("the route-bound network fits");
    let v = run(built, &net, &m, &stim, &RunOptions::verified(steps), &mut |_| {}).expect("run");
    assert!(matches!(v.verdict, spikeforge_sim::Verdict::Equal), "hardware differs from golden");
    // Monitor off: the same run, no spike reports; the final potentials
    // must still equal golden's.
    let mut hw = spikeforge_sim::Hardware::new(
        spikeforge_sim::Model::new(built, spikeforge_sim::InitialState::Zeros).expect("model"),
    );
    hw.model.pins.monitor = 0;
    HardwareModel::load(&mut hw, &m.packed()).expect("load");
    let quiet: Vec<u64> = (0..steps)
        .map(|_| {
            let r = HardwareModel::step(&mut hw, &[]).expect("step");
            assert!(r.spikes.is_empty(), "monitor off: no output neurons, no reports");
            r.cycles.expect("Verilator counts cycles")
        })
        .collect();
    // The verified run's final potentials are golden's (its verdict is Equal).
    let places: Vec<(usize, Place)> =
        m.placement.iter().enumerate().filter_map(|(n, p)| p.map(|(core, slot)| (n, Place { core, slot }))).collect();
    let got = HardwareModel::potentials(&mut hw, &places.iter().map(|x| x.1).collect::<Vec<_>>()).expect("potentials");
    for ((n, _), got) in places.iter().zip(got) {
        assert_eq!(got, v.potentials[*n], "monitor off: potential of neuron {n} differs from golden");
    }
    // The same per-step bound as the reference network's.
    let b = bounds(&net, &m, &stim, steps);
    let bound = b.iter().sum::<u64>() as f64 / steps as f64;
    let mean = |c: &[u64]| c.iter().sum::<u64>() as f64 / steps as f64;
    println!(
        "route-bound network: {} neurons on {} cores, every neuron fires every step with one target on the next core",
        net.stats().neurons - 1,
        m.report.cores_used
    );
    println!(
        "  bound                       {bound:.1} clocks per step, mean of max over cores of (events + neurons); {steps} steps, input hand-over included"
    );
    println!(
        "  monitor off (deployed)      {:.1} clocks per step, {:.3} x the bound (aim: at most 1.3); final potentials = golden",
        mean(&quiet),
        mean(&quiet) / bound
    );
    println!(
        "  monitor on (every spike)    {:.1} clocks per step, {:.3} x the bound; hardware = golden every step \
         (the spike-out port reports one spike per clock for the whole design: {} per step here)",
        mean(&v.cycles_per_step),
        mean(&v.cycles_per_step) / bound,
        spec.cores() * spec.neurons_per_core
    );
}

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let steps: u32 = if quick { 20 } else { 3000 };
    let icarus_steps: u32 = if quick { 3 } else { 60 };
    let net = reference_network();
    let spec = HardwareSpec::preset("medium").expect("preset");
    let stim = stimulus(&net, steps);
    let m = map(&net, &spec, &MapOptions::new(Algorithm::Multilevel)).expect("the reference network fits");
    let built = spikeforge_sim::build(&spec).unwrap_or_else(|e| panic!("{e}"));
    println!(
        "co-simulation benchmark: {} on spec `{}` ({} cores), {} cores used",
        net.name().unwrap_or(""),
        spec.name,
        spec.cores(),
        m.report.cores_used
    );
    let st = net.stats();
    println!(
        "  network                     {} neurons ({} inputs), {} synapses",
        st.neurons, st.input_neurons, st.synapses
    );

    route_bound(&built, &spec, quick);

    // 1. Verified run (golden beside it) for the cycle figures and events.
    let verified = run(&built, &net, &m, &stim, &RunOptions::verified(steps), &mut |_| {}).expect("run");
    assert!(matches!(verified.verdict, spikeforge_sim::Verdict::Equal), "hardware differs from golden");
    // 2. The same without golden: the model's own speed.
    let r = run(&built, &net, &m, &stim, &plain_with(steps), &mut |_| {}).expect("run");
    let events = verified.events;
    println!(
        "  verified                    hardware = golden for {steps} steps, {} spikes, {events} synaptic events",
        verified.spikes.len()
    );
    println!(
        "  Verilator                   {:.2} M cycles/s, {:.2} M synaptic events/s ({} cycles in {:.2} s)",
        r.cycles_per_second() / 1e6,
        events as f64 / r.seconds / 1e6,
        r.total_cycles,
        r.seconds
    );
    // 3. Icarus on the same Verilog and host program (fewer steps: it is slow).
    let dir = std::env::temp_dir().join(format!("sf-bench-icarus-{}", std::process::id()));
    let istim = stimulus(&net, icarus_steps);
    match icarus::run(&dir, &net, &m, &istim, &plain_with(icarus_steps)) {
        Ok(i) => {
            let rate = i.total_cycles as f64 / i.seconds;
            let vr = run(&built, &net, &m, &istim, &plain_with(icarus_steps), &mut |_| {}).expect("run");
            let same = vr.spikes == i.spikes && vr.cycles_per_step == i.cycles_per_step;
            println!(
                "  Icarus                      {:.4} M cycles/s ({} cycles in {:.2} s; spikes and cycles {} Verilator's)",
                rate / 1e6,
                i.total_cycles,
                i.seconds,
                if same { "equal to" } else { "DIFFER from" }
            );
            println!("  Verilator / Icarus          {:.0}x (aim: at least 30x)", r.cycles_per_second() / rate);
        }
        Err(e) => println!("  Icarus                      not measured: {e}"),
    }
    let _ = std::fs::remove_dir_all(&dir);

    // 4. Cycles per step against the bound.
    let b = bounds(&net, &m, &stim, steps);
    let cyc = &verified.cycles_per_step;
    let (sc, sb): (u64, u64) = (cyc.iter().sum(), b.iter().sum());
    let worst = cyc.iter().zip(&b).map(|(&c, &x)| c as f64 / x as f64).fold(0.0f64, f64::max);
    let constant = cyc.iter().zip(&b).map(|(&c, &x)| c as f64 - 1.1 * x as f64).fold(f64::MIN, f64::max);
    println!(
        "  cycles per step             {:.1} mean, bound max_c(events_c + neurons_c) {:.1} mean",
        sc as f64 / steps as f64,
        sb as f64 / steps as f64
    );
    println!(
        "  cycles / bound              {:.3} over the run, {:.3} worst step; cycles <= 1.1 x bound + {:.0} in every step",
        sc as f64 / sb as f64,
        worst,
        constant.max(0.0)
    );
    println!(
        "  other clocks                {:.1} per step on average (load excluded; between one step's end and the next one's input, and the final read-back)",
        (r.total_cycles - r.load_cycles - sc) as f64 / steps as f64
    );
    if quick {
        println!("  (quick run: `cargo bench -p spikeforge-sim` measures {} steps)", 3000);
    }
}

fn plain_with(steps: u32) -> RunOptions {
    let mut o = RunOptions::verified(steps);
    o.verify = false;
    o
}
