//! `spikeforge regress`: a regression campaign of random co-simulation
//! cases (network x spec x mapping x backpressure) under Verilator in
//! lockstep with golden.
//!
//! Cases come from the generator of the simulator's property test
//! (`spikeforge_tests::sim_case`) and are numbered: case `i` of seed `S` is
//! drawn from a ChaCha RNG seeded from `(S, i)` alone, so any process on any
//! machine draws the same case, and shard `I/K` runs exactly the indices
//! `i ≡ I (mod K)` — a CI matrix over shards is the distributed engine
//! (docs/ci.md). A case that differs from golden is shrunk with proptest's
//! value tree (every candidate co-simulated again, a bounded number of
//! steps), and the minimal case is saved with the command that replays it
//! with `spikeforge sim`.
//!
//! `--inject-fault` exists only to test this harness: it corrupts one
//! neuron's parameter word after loading ([`choose_fault`]), so the failure
//! path (shrink, save, replay) can be exercised on correct hardware.

use crate::args::JsonArg;
use crate::common::{check_out_dir, check_out_file, other, Command, Failure};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::json;
use spikeforge_hw::config::ConfigWrite;
use spikeforge_hw::memory::{Layout, Memory};
use spikeforge_mapper::spec::{load_spec, to_toml};
use spikeforge_mapper::{map, Algorithm, HardwareSpec, MapError, Mapping};
use spikeforge_net::{Network, Stimulus};
use spikeforge_sim::{Backpressure, Built, Mismatch, RunOptions, SimError, Verdict};
use spikeforge_tests::{MapChoice, SimCase, Stall};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Which cases of a campaign this process runs: indices `i` with
/// `i % count == index`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// I, 0-based.
    pub index: u64,
    /// K, at least 1.
    pub count: u64,
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("`{s}` is not a shard: write I/K with 0 <= I < K, e.g. 0/4");
        let (i, k) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) = (i.trim().parse::<u64>().map_err(|_| bad())?, k.trim().parse::<u64>().map_err(|_| bad())?);
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

/// `spikeforge regress`'s arguments.
#[derive(clap::Args)]
pub struct RegressArgs {
    /// Number of cases of the campaign (case indices 0..N).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub cases: u64,
    /// Campaign seed: case I of seed S is the same case on every machine.
    #[arg(long)]
    pub seed: u64,
    /// Run only the cases whose index is I modulo K (0 <= I < K).
    #[arg(long, default_value = "0/1", value_name = "I/K")]
    pub shard: Shard,
    /// Spec presets or spec files to draw from (default: the property-test pool).
    #[arg(long = "spec", id = "spec", value_name = "NAME_OR_FILE", num_args = 1..)]
    pub specs: Vec<String>,
    /// Write a JUnit XML report here (one testcase per case).
    #[arg(long)]
    pub junit: Option<PathBuf>,
    /// Folder for the minimal failing cases (one subfolder per case).
    #[arg(long, default_value = "regress-failures")]
    pub out: PathBuf,
    /// Co-simulations spent shrinking each failing case at most.
    #[arg(long, default_value_t = 2000)]
    pub shrink_steps: u32,
    /// For testing this harness only: corrupt one neuron's bias word in every
    /// case (chosen from this seed so that golden shows a difference).
    #[arg(long)]
    pub inject_fault: Option<u64>,
    #[command(flatten)]
    pub output: JsonArg,
}

impl Command for RegressArgs {
    fn json(&self) -> bool {
        self.output.json
    }

    fn run(&self) -> Result<crate::common::Outcome, Failure> {
        check_out_dir(&self.out, "--out")?;
        if let Some(j) = &self.junit {
            check_out_file(j, "--junit")?;
        }
        regress(self)
    }
}

/// The name of case `index` of campaign `seed` (its folder, its JUnit test).
fn case_id(seed: u64, index: u64) -> String {
    format!("seed-{seed}-case-{index}")
}

/// splitmix64's output function: spreads (seed, index) over the RNG seed.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The RNG of case `index` of campaign `seed`: a function of the two only,
/// so shards and machines agree on every case.
fn case_rng(seed: u64, index: u64) -> TestRng {
    let base = mix(seed) ^ mix(index.wrapping_add(0x5EED));
    let mut bytes = [0u8; 32];
    for (k, chunk) in bytes.chunks_mut(8).enumerate() {
        chunk.copy_from_slice(&mix(base.wrapping_add(k as u64)).to_le_bytes());
    }
    TestRng::from_seed(RngAlgorithm::ChaCha, &bytes)
}

/// A fault injected to test the harness: neuron `neuron`'s bias becomes
/// `bias` through one configuration write after loading.
#[derive(Debug, Clone)]
pub struct Fault {
    /// Global id.
    pub neuron: u32,
    /// `population[index]`.
    pub name: String,
    /// The corrupted bias.
    pub bias: i32,
    /// The configuration write for `RunOptions::extra_writes`.
    pub write: ConfigWrite,
}

/// Does golden with neuron `id`'s bias set to `bias` differ (spikes or any
/// potential, at any step) from golden as the network says?
fn bias_changes_run(net: &Network, stim: &Stimulus, steps: u32, id: u32, bias: i64) -> bool {
    let mut a = spikeforge_golden::Model::new(net);
    let mut b = spikeforge_golden::Model::new(net);
    if b.set_bias(id, bias).is_err() {
        return false;
    }
    for t in 0..steps {
        let (Ok(fa), Ok(fb)) = (a.step(stim.at(t)).map(<[u32]>::to_vec), b.step(stim.at(t))) else { return false };
        if fa.as_slice() != fb || a.potentials() != b.potentials() {
            return true;
        }
    }
    false
}

/// The fault `seed` picks for this run: the bias word of a computed neuron
/// (starting at `seed % n` in id order) set to the largest or smallest
/// potential, the first such change that golden shows to alter the run —
/// so correct hardware given the corrupted word must differ from golden,
/// and the harness must report it. `None` if no bias change alters the run.
pub fn choose_fault(net: &Network, m: &Mapping, stim: &Stimulus, steps: u32, seed: u64) -> Option<Fault> {
    let ids: Vec<u32> = (0..net.neuron_count()).filter(|&i| m.placement[i as usize].is_some()).collect();
    if ids.is_empty() {
        return None;
    }
    let n = ids.len() as u64;
    let (pmin, pmax) = net.fixed_point().potential_range();
    let biases = if (seed / n).is_multiple_of(2) { [pmax, pmin] } else { [pmin, pmax] };
    let image = m.packed();
    let layout = Layout::new(&m.spec);
    for k in 0..n {
        let id = ids[((seed % n + k) % n) as usize];
        for bias in biases {
            if !bias_changes_run(net, stim, steps, id, bias) {
                continue;
            }
            let (core, slot) = m.placement[id as usize]?;
            let words = image.cores.get(core as usize)?.words(Memory::Neurons);
            let mut e = layout.unpack_neuron(*words.get(slot as usize)?);
            e.bias = bias as i32;
            let word = layout.pack_neuron(e);
            return Some(Fault {
                neuron: id,
                name: net.neuron_name(id),
                bias: bias as i32,
                write: ConfigWrite::word(core, Memory::Neurons, slot, word),
            });
        }
    }
    None
}

/// What one co-simulation of a case gave.
#[derive(Debug, Clone)]
enum Outcome {
    /// Hardware = golden at every step.
    Equal,
    /// The network does not fit the spec (the mapper's reason).
    Skipped(String),
    /// The first divergence.
    Mismatch(Box<Mismatch>),
    /// The hardware hung or raised error flags, spikeforge panicked, or
    /// the harness's own determinism check failed.
    Error(String),
}

impl Outcome {
    fn failed(&self) -> bool {
        matches!(self, Outcome::Mismatch(_) | Outcome::Error(_))
    }
    fn verdict(&self) -> &'static str {
        match self {
            Outcome::Equal => "equal",
            Outcome::Skipped(_) => "skipped",
            Outcome::Mismatch(_) => "mismatch",
            Outcome::Error(_) => "error",
        }
    }
    fn message(&self) -> Option<String> {
        match self {
            Outcome::Equal => None,
            Outcome::Skipped(m) | Outcome::Error(m) => Some(m.clone()),
            Outcome::Mismatch(mm) => Some(mm.to_string()),
        }
    }
}

/// The specs of a campaign with their models, built on first use.
struct Pool {
    specs: Vec<HardwareSpec>,
    built: Vec<Option<Built>>,
    build_seconds: f64,
    fresh_builds: u32,
    /// Builds run inside the campaign, whose own bar is on screen: no
    /// second bar.
    show_builds: bool,
}

impl Pool {
    fn model(&mut self, i: usize) -> Result<&Built, Failure> {
        if self.built[i].is_none() {
            let t0 = Instant::now();
            let b = crate::common::build_model(&self.specs[i], false, self.show_builds)?;
            self.build_seconds += t0.elapsed().as_secs_f64();
            self.fresh_builds += b.fresh as u32;
            self.built[i] = Some(b);
        }
        Ok(self.built[i].as_ref().expect("built above"))
    }

    /// The names of the specs, in pool order.
    fn names(&self) -> Vec<String> {
        self.specs.iter().map(|s| s.name.clone()).collect()
    }
}

/// The message of the last panic inside [`execute`] (any thread: the
/// mapper refines in rayon workers).
static LAST_PANIC: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// One co-simulation of `case`, with a panic anywhere in mapping or
/// simulation recorded as the case's error (a bug found by the campaign,
/// shrunk and saved like a mismatch) instead of ending the campaign.
fn execute(
    pool: &mut Pool,
    case: &SimCase,
    inject: Option<u64>,
    vcd: Option<&Path>,
) -> Result<(Outcome, Option<Fault>), Failure> {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|info| {
        if let Ok(mut l) = LAST_PANIC.lock() {
            *l = Some(info.to_string());
        }
    }));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| execute_case(pool, case, inject, vcd)));
    std::panic::set_hook(previous);
    r.unwrap_or_else(|_| {
        let why = LAST_PANIC.lock().ok().and_then(|mut l| l.take()).unwrap_or_else(|| "unknown panic".into());
        Ok((Outcome::Error(format!("spikeforge panicked (a bug, please report it): {why}")), None))
    })
}

/// [`execute`] without the panic guard: map, (fault,) run in lockstep with golden.
fn execute_case(
    pool: &mut Pool,
    case: &SimCase,
    inject: Option<u64>,
    vcd: Option<&Path>,
) -> Result<(Outcome, Option<Fault>), Failure> {
    let net = Network::from_doc(&case.net.doc).map_err(|e| {
        other(
            format!("internal error (a bug in spikeforge's case generator, please report it): invalid network: {e}"),
            None,
        )
    })?;
    let spec = &pool.specs[case.spec];
    let m = match map(&net, spec, &case.mapping.options()) {
        Ok(m) => m,
        Err(e @ MapError::Bits { .. }) => {
            return Err(other(
                format!("internal error (the case generator and spec `{}` disagree): {e}", spec.name),
                None,
            ))
        }
        Err(e) => return Ok((Outcome::Skipped(e.to_string()), None)),
    };
    let stim = Stimulus::from_train(&case.net.stimulus);
    let steps = case.net.steps;
    let fault = inject.and_then(|f| choose_fault(&net, &m, &stim, steps, f));
    let mut o = RunOptions::verified(steps);
    o.potentials_every_step = true;
    if let Some(s) = case.stall {
        o.backpressure = Backpressure::Random { seed: s.seed, percent_ready: s.percent_ready };
    }
    o.mismatch_vcd = vcd.map(Path::to_path_buf);
    o.extra_writes = fault.iter().map(|f| f.write).collect();
    let built = pool.model(case.spec)?;
    let outcome = match spikeforge_sim::run(built, &net, &m, &stim, &o, &mut |_| {}) {
        Ok(r) => match r.verdict {
            Verdict::Mismatch(mm) => Outcome::Mismatch(mm),
            _ if r.errors != 0 => Outcome::Error(format!(
                "the hardware equals golden but raised error flags {:#06b} (docs/hardware.md, `errors`)",
                r.errors
            )),
            _ => Outcome::Equal,
        },
        Err(e @ (SimError::Hung { .. } | SimError::Internal(_))) => Outcome::Error(e.to_string()),
        Err(e) => return Err(e.into()),
    };
    Ok((outcome, fault))
}

/// A case's record for the reports: what identifies and sizes it, not the
/// case itself (a shard of a large campaign keeps hundreds of thousands).
struct Record {
    index: u64,
    spec: String,
    neurons: u32,
    synapses: u64,
    steps: u32,
    mapping: MapChoice,
    stall: Option<Stall>,
    outcome: Outcome,
    fault: Option<Fault>,
    seconds: f64,
    /// For a failure: the saved folder, shrink steps run, and the minimal case's size.
    saved: Option<Saved>,
}

struct Saved {
    folder: PathBuf,
    /// The minimal case's spec (shrinking may move to a simpler spec of the pool).
    spec: String,
    shrink_steps: u32,
    neurons: u32,
    synapses: u64,
    steps: u32,
}

fn describe_mapping(c: MapChoice) -> serde_json::Value {
    match c {
        MapChoice::Greedy => json!({"algorithm": "greedy"}),
        MapChoice::Multilevel => json!({"algorithm": "multilevel"}),
        MapChoice::Seeded(s) => json!({"algorithm": "greedy", "seed": s}),
    }
}

fn size(case: &SimCase) -> (u32, u64) {
    match Network::from_doc(&case.net.doc) {
        Ok(n) => (n.neuron_count(), n.stats().synapses),
        Err(_) => (0, 0),
    }
}

/// How big a case is, for keeping the smallest failing one: neurons,
/// synapses, steps and stimulus spikes.
fn weight(case: &SimCase) -> u64 {
    let (n, s) = size(case);
    n as u64 + s + case.net.steps as u64 + case.net.stimulus.len() as u64
}

/// Shrinks a failing case: proptest's simplify/complicate walk over the
/// value tree, co-simulating every candidate (at most `max_steps`); a
/// candidate counts as failing if it fails the same way (a mismatch, or an
/// error). Returns the smallest failing case seen (the walk's last failure
/// is not always the smallest: simplifying one part can regenerate
/// another) and the steps run.
fn shrink(
    pool: &mut Pool,
    tree: &mut impl ValueTree<Value = SimCase>,
    first: &Outcome,
    inject: Option<u64>,
    max_steps: u32,
    progress: &mut dyn FnMut(u32),
) -> Result<(SimCase, u32), Failure> {
    let mut best = tree.current();
    let mut best_weight = weight(&best);
    let same = |o: &Outcome| std::mem::discriminant(o) == std::mem::discriminant(first);
    let mut steps = 0;
    if tree.simplify() {
        while steps < max_steps {
            steps += 1;
            progress(steps);
            let candidate = tree.current();
            let (o, _) = execute(pool, &candidate, inject, None)?;
            if same(&o) {
                if weight(&candidate) <= best_weight {
                    best_weight = weight(&candidate);
                    best = candidate;
                }
                if !tree.simplify() {
                    break;
                }
            } else if !tree.complicate() {
                break;
            }
        }
    }
    Ok((best, steps))
}

/// The `spikeforge sim` arguments that replay `case` (files named as saved).
fn replay_args(case: &SimCase, fault: Option<u64>) -> Vec<String> {
    let mut a: Vec<String> = [
        "sim",
        "net.toml",
        "--spec",
        "spec.toml",
        "--steps",
        &case.net.steps.to_string(),
        "--stimulus",
        "stimulus.csv",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    a.push("--verify".into());
    let opts = case.mapping.options();
    a.push("--algorithm".into());
    a.push(match opts.algorithm {
        Algorithm::Greedy => "greedy".into(),
        Algorithm::Multilevel => "multilevel".into(),
    });
    if let Some(s) = opts.seed {
        a.extend(["--map-seed".into(), s.to_string()]);
    }
    if let Some(s) = case.stall {
        a.extend([
            "--backpressure".into(),
            s.percent_ready.to_string(),
            "--backpressure-seed".into(),
            s.seed.to_string(),
        ]);
    }
    if let Some(f) = fault {
        a.extend(["--inject-fault".into(), f.to_string()]);
    }
    a.extend(["--mismatch-vcd".into(), "replay.vcd".into()]);
    a
}

fn write(dir: &Path, name: &str, text: &str) -> Result<(), Failure> {
    let p = dir.join(name);
    std::fs::write(&p, text).map_err(|e| other(format!("cannot write {}: {e}", p.display()), None))
}

/// Shrinks failing case `index` and saves the minimal case under `out`.
#[allow(clippy::too_many_arguments)]
fn save_failure(
    pool: &mut Pool,
    a: &RegressArgs,
    index: u64,
    tree: &mut impl ValueTree<Value = SimCase>,
    original: &SimCase,
    first: &Outcome,
    progress: &mut dyn FnMut(u32),
) -> Result<(Outcome, Option<Fault>, Saved), Failure> {
    let (min, shrink_steps) = shrink(pool, tree, first, a.inject_fault, a.shrink_steps, progress)?;
    let id = case_id(a.seed, index);
    let dir = a.out.join(&id);
    // Only this case's own folder is replaced: a re-run leaves no stale files.
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| other(format!("cannot clear {}: {e}", dir.display()), None))?;
    }
    std::fs::create_dir_all(dir.join("original"))
        .map_err(|e| other(format!("cannot create {}: {e}", dir.display()), None))?;
    // The minimal case once more, now with the VCD window of its divergence.
    let (outcome, fault) = execute(pool, &min, a.inject_fault, Some(&dir.join("window.vcd")))?;
    let (outcome, fault, min) = if outcome.failed() {
        (outcome, fault, min)
    } else {
        // Cannot happen with a deterministic model; keep the original then.
        let (o, f) = execute(pool, original, a.inject_fault, Some(&dir.join("window.vcd")))?;
        (o, f, original.clone())
    };
    let spec = &pool.specs[min.spec];
    let net = Network::from_doc(&min.net.doc).map_err(|e| other(format!("internal error: {e}"), None))?;
    write(&dir, "net.toml", &min.net.net_toml())?;
    write(&dir, "stimulus.csv", &min.net.stimulus_csv(&net))?;
    write(&dir, "spec.toml", &to_toml(spec))?;
    if let Ok(onet) = Network::from_doc(&original.net.doc) {
        write(&dir.join("original"), "net.toml", &original.net.net_toml())?;
        write(&dir.join("original"), "stimulus.csv", &original.net.stimulus_csv(&onet))?;
    }
    let opts = min.mapping.options();
    let mut mapping = format!(
        "# How `spikeforge regress` ran case {index} of seed {} (after shrinking).\nalgorithm = \"{}\"\n",
        a.seed,
        match opts.algorithm {
            Algorithm::Greedy => "greedy",
            Algorithm::Multilevel => "multilevel",
        }
    );
    if let Some(s) = opts.seed {
        let _ = writeln!(mapping, "map_seed = {s}");
    }
    let _ = writeln!(mapping, "steps = {}", min.net.steps);
    if let Some(s) = min.stall {
        let _ = writeln!(mapping, "backpressure_percent_ready = {}\nbackpressure_seed = {}", s.percent_ready, s.seed);
    }
    if let Some(f) = a.inject_fault {
        let _ = writeln!(mapping, "inject_fault = {f}");
    }
    write(&dir, "mapping.toml", &mapping)?;
    let (neurons, synapses) = (net.neuron_count(), net.stats().synapses);
    let (on, os) = size(original);
    let report = format!(
        "{}\n\nshrunk from {on} neurons, {os} synapses, {} steps to {neurons} neurons, {synapses} synapses, {} steps in {shrink_steps} co-simulations\n",
        outcome.message().unwrap_or_default(),
        original.net.steps,
        min.net.steps
    );
    write(&dir, "report.txt", &report)?;
    let args = replay_args(&min, a.inject_fault);
    let fault_note = match (&fault, a.inject_fault) {
        (Some(f), Some(s)) => format!(
            "\nThis failure was made on purpose: `--inject-fault {s}` sets the bias of {} to {} through one \
             configuration write after loading (it tests the regression harness, not the hardware).\n",
            f.name, f.bias
        ),
        _ => String::new(),
    };
    let (title, expect) = match &outcome {
        Outcome::Mismatch(_) => (
            "hardware differs from golden",
            "It exits with status 3 and prints the first divergence (the same as `report.txt`);\n\
             `replay.vcd` then holds the waveform of the steps before it.",
        ),
        _ => ("the run failed", "It fails the same way (`report.txt` has the message)."),
    };
    let readme = format!(
        "# {id}: {title}\n\n\
         Case {index} of `spikeforge regress --seed {seed}` on spec `{spec}`, shrunk to its smallest failing form.\n\
         {fault_note}\n\
         ## Replay\n\nFrom this folder:\n\n```sh\nspikeforge {cmd}\n```\n\n\
         {expect}\n\n\
         ## Files\n\n\
         - `net.toml`, `stimulus.csv`: the minimal network and its stimulus\n\
         - `spec.toml`: the hardware spec\n\
         - `mapping.toml`: partitioner, mapping seed, backpressure (as the command line above)\n\
         - `report.txt`: the first divergence (step, core, slot, neuron, expected vs got) or the error, and the shrink summary\n\
         - `window.vcd`: the waveform of the steps up to the divergence (mismatches only)\n\
         - `original/`: the case before shrinking\n",
        seed = a.seed,
        spec = spec.name,
        cmd = args.join(" "),
    );
    write(&dir, "README.md", &readme)?;
    let saved = Saved { folder: dir, spec: spec.name.clone(), shrink_steps, neurons, synapses, steps: min.net.steps };
    Ok((outcome, fault, saved))
}

/// XML text with the five special characters escaped and characters XML
/// cannot hold (controls other than tab, newline, return) dropped.
fn xml(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            '\t' | '\n' | '\r' => o.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => o.push(c),
        }
    }
    o
}

/// The JUnit XML report: one testsuite, one testcase per case.
fn junit(a: &RegressArgs, records: &[Record], seconds: f64) -> String {
    let count = |v: &str| records.iter().filter(|r| r.outcome.verdict() == v).count();
    let (failures, errors, skipped) = (count("mismatch"), count("error"), count("skipped"));
    let suite = format!("spikeforge regress seed {} shard {}/{}", a.seed, a.shard.index, a.shard.count);
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        "<testsuites name=\"spikeforge regress\" tests=\"{n}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{seconds:.3}\">",
        n = records.len()
    );
    let _ = writeln!(
        x,
        "  <testsuite name=\"{}\" tests=\"{n}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{seconds:.3}\">",
        xml(&suite),
        n = records.len()
    );
    for r in records {
        let _ = write!(
            x,
            "    <testcase name=\"{}\" classname=\"regress.{}\" time=\"{:.3}\"",
            xml(&case_id(a.seed, r.index)),
            xml(&r.spec),
            r.seconds
        );
        let mut body = r.outcome.message().unwrap_or_default();
        if let Some(s) = &r.saved {
            let _ = write!(body, "\n\nminimal case and replay command: {}", s.folder.display());
        }
        let first = body.lines().next().unwrap_or("").to_string();
        match &r.outcome {
            Outcome::Equal => x.push_str("/>\n"),
            Outcome::Skipped(m) => {
                let _ = writeln!(
                    x,
                    ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                    xml(&format!("does not fit: {m}"))
                );
            }
            Outcome::Mismatch(_) => {
                let _ = writeln!(
                    x,
                    ">\n      <failure message=\"{}\" type=\"mismatch\">{}</failure>\n    </testcase>",
                    xml(&first),
                    xml(&body)
                );
            }
            Outcome::Error(_) => {
                let _ = writeln!(
                    x,
                    ">\n      <error message=\"{}\" type=\"error\">{}</error>\n    </testcase>",
                    xml(&first),
                    xml(&body)
                );
            }
        }
    }
    x.push_str("  </testsuite>\n</testsuites>\n");
    x
}

/// Runs the campaign; `Differs` if some case failed (exit status 3).
fn regress(a: &RegressArgs) -> Result<crate::common::Outcome, Failure> {
    let (pool, strategy) = plan(a)?;
    let mut c = Campaign::new(a, pool);
    let started = Instant::now();
    for index in (a.shard.index..a.cases).step_by(a.shard.count as usize) {
        c.run_case(&strategy, index)?;
    }
    if let Some(b) = c.bar.take() {
        b.finish_and_clear();
    }
    write_reports(&c, started.elapsed().as_secs_f64())?;
    Ok(crate::common::Outcome::equal(c.failed == 0))
}

/// The spec pool (no model built yet) and the case generator over it.
/// Fails before any case runs if a `--spec` does not load, the generator
/// cannot draw cases for the pool, or the `--junit` folder does not exist.
fn plan(a: &RegressArgs) -> Result<(Pool, impl Strategy<Value = SimCase>), Failure> {
    let specs = if a.specs.is_empty() {
        spikeforge_tests::property_specs()
    } else {
        a.specs.iter().map(|s| load_spec(s).map_err(Failure::from)).collect::<Result<Vec<_>, _>>()?
    };
    let strategy = spikeforge_tests::sim_case(&specs).map_err(|e| {
        other(
            format!("cannot draw random cases: {e}"),
            Some("use a spec with accumulator_bits of 16 or more (the random networks' fan-in needs them)"),
        )
    })?;
    let pool = Pool { built: vec![None; specs.len()], specs, build_seconds: 0.0, fresh_builds: 0, show_builds: false };
    Ok((pool, strategy))
}

/// This process's part of the campaign, while it runs and after.
struct Campaign<'a> {
    a: &'a RegressArgs,
    pool: Pool,
    /// On a terminal only; taken when the campaign ends.
    bar: Option<indicatif::ProgressBar>,
    /// One per case run, in index order.
    records: Vec<Record>,
    /// Cases whose first run failed.
    failed: usize,
}

impl<'a> Campaign<'a> {
    /// No case run yet; the progress bar (text output on a terminal only)
    /// counts the cases of this shard.
    fn new(a: &'a RegressArgs, pool: Pool) -> Campaign<'a> {
        let in_shard = a.cases.saturating_sub(a.shard.index).div_ceil(a.shard.count);
        let bar = crate::common::progress_bar(
            !a.output.json,
            in_shard,
            "{spinner} case {pos}/{len} {wide_bar} {msg} eta {eta}",
        );
        Campaign { a, pool, bar, records: Vec::new(), failed: 0 }
    }

    /// Draws case `index` and co-simulates it; a failure is shrunk and
    /// saved. Adds its record (time includes shrinking); `Err` only for
    /// what stops the whole campaign.
    fn run_case(&mut self, strategy: &impl Strategy<Value = SimCase>, index: u64) -> Result<(), Failure> {
        let a = self.a;
        let mut runner = TestRunner::new_with_rng(Config::default(), case_rng(a.seed, index));
        let mut tree = strategy
            .new_tree(&mut runner)
            .map_err(|e| other(format!("internal error: the case generator rejected case {index}: {e}"), None))?;
        let case = tree.current();
        let t0 = Instant::now();
        let (outcome, fault) = execute(&mut self.pool, &case, a.inject_fault, None)?;
        let (neurons, synapses) = size(&case);
        let mut rec = Record {
            index,
            spec: self.pool.specs[case.spec].name.clone(),
            neurons,
            synapses,
            steps: case.net.steps,
            mapping: case.mapping,
            stall: case.stall,
            outcome,
            fault,
            seconds: 0.0,
            saved: None,
        };
        if rec.outcome.failed() {
            self.failed += 1;
            self.shrink_and_save(&mut rec, &mut tree, &case)?;
        }
        rec.seconds = t0.elapsed().as_secs_f64();
        if let Some(b) = &self.bar {
            b.inc(1);
        }
        self.records.push(rec);
        Ok(())
    }

    /// Shrinks the failing case of `rec` (drawn as `case` from `tree`) and
    /// saves the minimal one; `rec` then holds the minimal case's outcome,
    /// fault and folder. The progress bar tells which case is shrinking.
    fn shrink_and_save(
        &mut self,
        rec: &mut Record,
        tree: &mut impl ValueTree<Value = SimCase>,
        case: &SimCase,
    ) -> Result<(), Failure> {
        let (a, failed, index) = (self.a, self.failed, rec.index);
        let bar = &self.bar;
        if let Some(b) = bar {
            b.set_message(format!("{failed} failed; shrinking {}", case_id(a.seed, index)));
        }
        let first = rec.outcome.clone();
        let (outcome, fault, saved) = save_failure(&mut self.pool, a, index, tree, case, &first, &mut |s| {
            if let Some(b) = bar {
                b.set_message(format!("{failed} failed; shrinking {} ({s})", case_id(a.seed, index)));
            }
        })?;
        rec.outcome = outcome;
        rec.fault = fault;
        rec.saved = Some(saved);
        if let Some(b) = bar {
            b.set_message(format!("{failed} failed"));
        }
        Ok(())
    }
}

/// The campaign's totals, as both outputs print them.
struct Summary {
    /// Wall time of the cases, model builds included.
    seconds: f64,
    equal: usize,
    skipped: usize,
    mismatched: usize,
    errors: usize,
    /// Cases per hour, model builds excluded.
    per_hour: f64,
}

/// Writes the JUnit report (if asked), prints the result (JSON or text) and
/// then, on stderr, one error line per failed case with its replay folder.
fn write_reports(c: &Campaign<'_>, seconds: f64) -> Result<(), Failure> {
    let (a, records) = (c.a, &c.records);
    // Model builds are a one-off per spec and machine (cached): the rate is
    // of the cases alone.
    let case_seconds = (seconds - c.pool.build_seconds).max(1e-9);
    let count = |v: &str| records.iter().filter(|r| r.outcome.verdict() == v).count();
    let s = Summary {
        seconds,
        equal: count("equal"),
        skipped: count("skipped"),
        mismatched: count("mismatch"),
        errors: count("error"),
        per_hour: records.len() as f64 / case_seconds * 3600.0,
    };
    if let Some(f) = &a.junit {
        std::fs::write(f, junit(a, records, seconds))
            .map_err(|e| other(format!("cannot write {}: {e}", f.display()), None))?;
    }
    if a.output.json {
        print_json(c, &s);
    } else {
        print_text(c, &s);
    }
    for r in records.iter().filter(|r| r.outcome.failed()) {
        let folder = r.saved.as_ref().map(|s| s.folder.display().to_string()).unwrap_or_default();
        eprintln!(
            "error: {}: {}\n  replay: see {folder}/README.md",
            case_id(a.seed, r.index),
            r.outcome.message().unwrap_or_default()
        );
    }
    Ok(())
}

/// One case of the `--json` output: what was drawn, the verdict, the
/// divergence of a mismatch and the saved minimal case of a failure.
fn case_json(seed: u64, r: &Record) -> serde_json::Value {
    let mut j = json!({
        "index": r.index,
        "id": case_id(seed, r.index),
        "spec": r.spec,
        "verdict": r.outcome.verdict(),
        "neurons": r.neurons,
        "synapses": r.synapses,
        "steps": r.steps,
        "mapping": describe_mapping(r.mapping),
        "backpressure": r.stall.map(|s| json!({"percent_ready": s.percent_ready, "seed": s.seed})),
        "seconds": r.seconds,
        "message": r.outcome.message(),
        "fault": r.fault.as_ref().map(|f| json!({"neuron": f.name, "id": f.neuron, "bias": f.bias})),
    });
    if let Outcome::Mismatch(mm) = &r.outcome {
        j["divergence"] = json!({
            "step": mm.step,
            "core": mm.place.map(|p| p.0),
            "slot": mm.place.map(|p| p.1),
            "neuron": mm.name,
        });
    }
    if let Some(s) = &r.saved {
        j["saved"] = json!({
            "folder": s.folder.display().to_string(),
            "spec": s.spec,
            "shrink_steps": s.shrink_steps,
            "neurons": s.neurons,
            "synapses": s.synapses,
            "steps": s.steps,
        });
    }
    j
}

/// Prints the `--json` result: the campaign, its summary and every case.
fn print_json(c: &Campaign<'_>, s: &Summary) {
    let a = c.a;
    let cases: Vec<_> = c.records.iter().map(|r| case_json(a.seed, r)).collect();
    let j = json!({
        "ok": c.failed == 0,
        "seed": a.seed,
        "cases_total": a.cases,
        "shard": {"index": a.shard.index, "count": a.shard.count},
        "specs": c.pool.names(),
        "inject_fault": a.inject_fault,
        "summary": {
            "run": c.records.len(),
            "equal": s.equal,
            "skipped": s.skipped,
            "mismatched": s.mismatched,
            "errors": s.errors,
            "seconds": s.seconds,
            "build_seconds": c.pool.build_seconds,
            "models_built": c.pool.fresh_builds,
            "cases_per_hour": s.per_hour,
        },
        "cases": cases,
    });
    println!("{}", serde_json::to_string_pretty(&j).expect("JSON"));
}

/// Prints the text result: the campaign, one line per failed case with its
/// minimal form and folder, the summary and the JUnit file.
fn print_text(c: &Campaign<'_>, s: &Summary) {
    let (a, records) = (c.a, &c.records);
    println!(
        "regress      seed {}, cases {} of 0..{} (shard {}/{}), specs {}",
        a.seed,
        records.len(),
        a.cases,
        a.shard.index,
        a.shard.count,
        c.pool.names().join(", ")
    );
    for r in records.iter().filter(|r| r.outcome.failed()) {
        let s = r.saved.as_ref().expect("failures are saved");
        println!(
            "{:<12} {} on {}: shrunk to {} neurons, {} synapses, {} steps on {} in {} co-simulations; saved in {}",
            if matches!(r.outcome, Outcome::Mismatch(_)) { "MISMATCH" } else { "ERROR" },
            case_id(a.seed, r.index),
            r.spec,
            s.neurons,
            s.synapses,
            s.steps,
            s.spec,
            s.shrink_steps,
            s.folder.display()
        );
    }
    let Summary { equal, skipped, mismatched, errors, seconds, per_hour } = s;
    println!(
        "summary      {} cases run: {equal} equal, {skipped} skipped (network did not fit), {mismatched} mismatched{}; {seconds:.1} s, {per_hour:.0} cases/hour{}",
        records.len(),
        if *errors > 0 { format!(", {errors} errors (hang, error flags or panic)") } else { String::new() },
        if c.pool.fresh_builds > 0 {
            format!(" (plus {:.1} s building {} Verilator models)", c.pool.build_seconds, c.pool.fresh_builds)
        } else {
            String::new()
        }
    );
    if let Some(f) = &a.junit {
        println!("junit        {}", f.display());
    }
}
