//! ANN → integer SNN: threshold balancing, reset by subtraction, shifted
//! bias, per-layer quantization, calibration (bias correction, potential
//! initialization), rate-coded input and the readout.
//!
//! Every step is an [`Options`] field so its effect can be measured alone.
//! The result is an ordinary network (the `net` IR): the hardware needs
//! nothing new, since calibration only changes biases and initial potentials.
//!
//! Units: layer `l`'s ANN activation `a` maps to a firing rate `a / λ_l`
//! (`λ_l` = the balanced threshold). With per-layer scale `k_l`, the integer
//! weights are `round(k_l · W · λ_{l-1})`, biases `round(k_l · b)`, threshold
//! `round(k_l · λ_l)`: one scale per layer shared by W, b, θ and v_init.

use crate::ann::{argmax, Act, Ann, Layer};
use crate::data::Split;
use rayon::prelude::*;
use spikeforge_golden::early_exit::{exit_step, margin, EarlyExit, Watch};
use spikeforge_golden::Model;
use spikeforge_net::doc::{FixedPointDoc, PopulationDoc, ProjectionDoc};
use spikeforge_net::progress::{Progress, Quiet};
use spikeforge_net::{Network, NetworkDoc, PerNeuron, Reset};

/// How each layer's threshold is chosen from calibration activations.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Threshold {
    /// The largest activation.
    Max,
    /// A percentile (e.g. 99.9) of the positive activations.
    Percentile(f64),
}

/// How the class is read from the output layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readout {
    /// Non-spiking output neurons (θ at its maximum); argmax of the
    /// potentials after the last step.
    Potential,
    /// Spiking output neurons; argmax of the spike counts, ties broken by
    /// the higher potential, then the lower index.
    Count,
}

/// How a sample enters the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputCoding {
    /// Deterministic rate coding: each input value drives an input neuron
    /// whose spikes are those of an IF neuron with bias = the value's level
    /// and θ = full scale (computed on the host, sent as stimulus spikes).
    Rate,
    /// The first layer computed in integers: its input current
    /// `round(Σ w · level / Q)` is written into its neurons' biases before
    /// the run (the hardware's configuration port does this), and no input
    /// spikes are sent.
    Integer,
}

/// Conversion settings. `Options::new(T)` is the recommended set.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Time steps per inference (T).
    pub steps: u32,
    pub threshold: Threshold,
    /// `Subtract` is the conversion's soft reset; `Zero` to measure its effect.
    pub reset: Reset,
    /// Add θ/(2T) to every bias (Deng & Gu 2021), and start the input
    /// encoders half-charged, so rates round instead of floor.
    pub shift_bias: bool,
    /// Subtract each neuron's mean rate error on calibration data from its
    /// bias, layer by layer (Li, Deng et al. 2021).
    pub bias_correction: bool,
    /// Set each neuron's initial potential from the same residual.
    pub potential_init: bool,
    /// Weight calibration, layer by layer (the "advanced pipeline" of Li,
    /// Deng et al. 2021): each layer's integer weights are refitted by least
    /// squares so that the input they integrate from the SNN's actual spike
    /// counts matches the ANN's weighted input sum on calibration samples.
    pub weight_calibration: bool,
    pub readout: Readout,
    pub input: InputCoding,
    /// Give every layer T steps of input: the run is T + D steps (D = the
    /// output's latency, [`Snn::latency`]) and each layer's start potential
    /// is set back by its bias over its latency, so every layer integrates
    /// T steps of input and bias, as in the delay-free simulations of the
    /// conversion literature. Without it the T steps include the pipeline's
    /// latency and layer l sees only T − d_l steps of input.
    pub add_latency: bool,
    pub fixed_point: FixedPointDoc,
    /// Training samples whose ANN activations balance the thresholds.
    pub balance_samples: usize,
    /// Training samples simulated for bias correction / potential init.
    pub calibration_samples: usize,
}

impl Options {
    pub fn new(steps: u32) -> Options {
        Options {
            steps,
            threshold: Threshold::Percentile(99.9),
            reset: Reset::Subtract,
            shift_bias: true,
            bias_correction: true,
            potential_init: false,
            weight_calibration: false,
            readout: Readout::Potential,
            input: InputCoding::Rate,
            add_latency: false,
            fixed_point: FixedPointDoc::default(),
            balance_samples: 5000,
            calibration_samples: 256,
        }
    }

    /// The named method presets of `spikeforge convert --method` and of the
    /// accuracy table: `none`, `shift`, `bias` (shift + bias correction),
    /// `potential` (shift + potential init), `weights` (shift + weight
    /// calibration), `all` (shift + weights + bias + potential, in that
    /// order per layer); joined with `+` they compose (`weights+bias`).
    pub fn method(mut self, name: &str) -> Option<Options> {
        self.shift_bias = false;
        self.bias_correction = false;
        self.potential_init = false;
        self.weight_calibration = false;
        for part in name.split('+') {
            match part {
                "none" => {}
                "shift" => self.shift_bias = true,
                "bias" => (self.shift_bias, self.bias_correction) = (true, true),
                "potential" => (self.shift_bias, self.potential_init) = (true, true),
                "weights" => (self.shift_bias, self.weight_calibration) = (true, true),
                "all" => {
                    self.shift_bias = true;
                    self.weight_calibration = true;
                    self.bias_correction = true;
                    self.potential_init = true;
                }
                _ => return None,
            }
        }
        Some(self)
    }
}

/// Gradient steps of [`Snn::calibrate_weights`] per neuron.
const WEIGHT_CALIBRATION_ITERATIONS: usize = 80;

/// The method names [`Options::method`] takes.
pub const METHODS: &[&str] = &["none", "shift", "bias", "potential", "weights", "weights+bias", "all"];

/// Why a conversion failed. Where the message already ends in its fix
/// (`; use the data set ...`) there is no separate help line.
#[derive(Debug, thiserror::Error, miette::Diagnostic, PartialEq)]
pub enum ConvertError {
    #[error(
        "the data has {data} values per sample but the model takes {model}; use the data set the model was trained on"
    )]
    InputSize { data: usize, model: usize },
    #[error("the data has no training samples to calibrate with")]
    #[diagnostic(help("give data with a training split (in a CSV file, rows that start with `train,`)"))]
    NoCalibration,
    #[error("layer {layer} ({name}) never activates on the calibration data, so its threshold cannot be balanced; check that the data is scaled as in training")]
    DeadLayer { layer: usize, name: String },
    #[error("steps must be at least 1")]
    #[diagnostic(help("a run has at least one time step"))]
    NoSteps,
    #[error("the converted network is invalid: {0}; choose a spec with wider accumulator or potential bits")]
    Invalid(String),
}

/// One converted layer.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerInfo {
    /// Population name in the network.
    pub population: String,
    /// The ONNX nodes it came from.
    pub source: String,
    /// Global id of its first neuron.
    pub offset: u32,
    pub size: u32,
    /// Integer units per activation unit (k_l).
    pub scale: f64,
    /// Balanced threshold in activation units (λ_l).
    pub lambda: f64,
    pub threshold: i64,
    pub synapses: usize,
}

/// A converted SNN with what it takes to run inferences on it.
#[derive(Debug, Clone)]
pub struct Snn {
    pub net: Network,
    pub layers: Vec<LayerInfo>,
    /// T: the steps of input every layer integrates ([`Snn::run_steps`] is
    /// the length of a run).
    pub steps: u32,
    pub readout: Readout,
    pub input: InputCoding,
    /// [`Options::add_latency`].
    pub add_latency: bool,
    /// Input scale λ_0 (the largest input value maps to full rate).
    pub input_scale: f64,
    /// Input encoder full scale Q = 2^(P-2) (an IF neuron with θ = Q, bias = level).
    pub full_scale: i64,
    /// Initial charge of the input encoders (Q/2 with the shifted bias).
    pub input_phase: i64,
    // Integer parameters, kept to rebuild the network after calibration.
    weights: Vec<Vec<[i64; 3]>>,
    biases: Vec<Vec<i64>>,
    v_init: Vec<Vec<i64>>,
    reset: Reset,
    fixed_point: FixedPointDoc,
    name: String,
}

/// One inference's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Inference {
    pub class: usize,
    /// Spike count of every neuron (global ids; inputs included).
    pub counts: Vec<u32>,
    /// Potentials after the last step.
    pub potentials: Vec<i32>,
    /// `(step, global id)` of every spike, inputs included, if recorded.
    pub raster: spikeforge_net::SpikeTrain,
    /// Output-layer potentials after each step, if recorded.
    pub output_trace: Vec<Vec<i32>>,
    /// Steps run: [`Snn::run_steps`], or fewer with early exit.
    pub steps: u32,
}

/// A point of the accuracy-versus-steps curve of early exit.
#[derive(Debug, Clone, PartialEq)]
pub struct AnytimePoint {
    pub rule: EarlyExit,
    /// Fraction classified correctly.
    pub accuracy: f64,
    /// Mean steps run per inference.
    pub mean_steps: f64,
}

/// Converts `ann` with calibration samples from `train`.
pub fn convert(ann: &Ann, train: &Split, opts: &Options) -> Result<Snn, ConvertError> {
    convert_with(ann, train, opts, &Quiet)
}

/// [`convert`], reporting its stages (balancing, each calibration pass,
/// sample by sample) to `progress`.
pub fn convert_with(ann: &Ann, train: &Split, opts: &Options, progress: &dyn Progress) -> Result<Snn, ConvertError> {
    check_inputs(ann, train, opts)?;
    progress.stage("threshold balancing", None);
    let bal = balance(ann, train, opts)?;
    let mut snn = input_coding(opts, bal.input_scale)?;
    quantize(ann, &bal, opts, &mut snn);
    snn.rebuild()?;
    if opts.bias_correction || opts.potential_init || opts.weight_calibration {
        calibrate(ann, train, opts, &mut snn, progress)?;
    }
    Ok(snn)
}

/// Refuses settings and data no conversion can use. Guarantees to the
/// phases after it: T ≥ 1, samples of the model's input size, and at least
/// one training sample.
fn check_inputs(ann: &Ann, train: &Split, opts: &Options) -> Result<(), ConvertError> {
    if opts.steps == 0 {
        return Err(ConvertError::NoSteps);
    }
    if train.dim != ann.inputs() {
        return Err(ConvertError::InputSize { data: train.dim, model: ann.inputs() });
    }
    if train.is_empty() {
        return Err(ConvertError::NoCalibration);
    }
    Ok(())
}

/// The balanced thresholds, in activation units.
struct Balance {
    /// λ_0: the largest input value.
    input_scale: f64,
    /// λ_l of every layer.
    lambdas: Vec<f64>,
    /// Largest |logit| with [`Readout::Potential`] (0 otherwise).
    zmax: f64,
}

/// Threshold balancing on the ANN activations of `balance_samples` training
/// samples. Guarantees to quantization: λ_0 > 0 and every λ_l > 0 (a layer
/// that never activates is refused), a Clip layer's λ_l at most its max;
/// with the potential readout the output's λ is the logit range.
fn balance(ann: &Ann, train: &Split, opts: &Options) -> Result<Balance, ConvertError> {
    let bal = train.take(opts.balance_samples);
    let outs: Vec<Vec<Vec<f64>>> = (0..bal.len()).into_par_iter().map(|i| ann.forward(&bal.x(i))).collect();
    let input_scale = bal.data.iter().fold(0.0f64, |m, &v| m.max(v as f64));
    if input_scale <= 0.0 {
        return Err(ConvertError::DeadLayer { layer: 0, name: "input".into() });
    }
    let n_layers = ann.layers.len();
    let mut lambdas = Vec::with_capacity(n_layers);
    let mut zmax = 0.0f64;
    for (l, layer) in ann.layers.iter().enumerate() {
        if l + 1 == n_layers && opts.readout == Readout::Potential {
            // Non-spiking readout: λ only sets the scale via the logit range.
            for o in &outs {
                zmax = o[l].iter().fold(zmax, |m, v| m.max(v.abs()));
            }
            lambdas.push(zmax.max(f64::MIN_POSITIVE));
            continue;
        }
        let acts: Vec<f64> = outs.iter().flat_map(|o| o[l].iter().copied()).filter(|&v| v > 0.0).collect();
        if acts.is_empty() {
            return Err(ConvertError::DeadLayer { layer: l + 1, name: layer.name.clone() });
        }
        let lambda = threshold(acts, opts.threshold);
        lambdas.push(match layer.act {
            Act::Clip(m) => lambda.min(m),
            _ => lambda,
        });
    }
    Ok(Balance { input_scale, lambdas, zmax })
}

/// The threshold `how` picks from a layer's positive activations (not empty).
fn threshold(mut acts: Vec<f64>, how: Threshold) -> f64 {
    match how {
        Threshold::Max => acts.iter().fold(0.0f64, |m, &v| m.max(v)),
        Threshold::Percentile(p) => {
            acts.sort_by(|a, b| a.total_cmp(b));
            let k = ((p / 100.0) * (acts.len() - 1) as f64).round() as usize;
            acts[k.min(acts.len() - 1)]
        }
    }
}

/// The network before quantization: only an input population, and the input
/// coding every later phase reads (λ_0, full scale Q, encoder phase).
fn input_coding(opts: &Options, input_scale: f64) -> Result<Snn, ConvertError> {
    let fp = opts.fixed_point;
    Ok(Snn {
        net: Network::from_doc(&NetworkDoc {
            format: 1,
            name: None,
            fixed_point: fp,
            populations: vec![PopulationDoc::input("input", 1)],
            projections: vec![],
        })
        .map_err(|e| ConvertError::Invalid(format!("{e:?}")))?,
        layers: Vec::new(),
        steps: opts.steps,
        readout: opts.readout,
        input: opts.input,
        add_latency: opts.add_latency,
        input_scale,
        // 2^(P-2): an encoder's v + level then stays inside P bits, so the
        // encoders could be on-chip neurons with exactly these spikes.
        full_scale: 1 << (fp.potential_bits - 2),
        input_phase: if opts.shift_bias && opts.input == InputCoding::Rate { 1 << (fp.potential_bits - 3) } else { 0 },
        weights: Vec::new(),
        biases: Vec::new(),
        v_init: Vec::new(),
        reset: opts.reset,
        fixed_point: fp,
        name: "converted".into(),
    })
}

/// Per-layer quantization, one scale per layer. Guarantees to calibration:
/// one [`LayerInfo`] and integer weights, biases (shifted if asked) and
/// zero initial potentials per layer, populations numbered after the
/// inputs, the last one `output`; the network itself is not rebuilt yet.
fn quantize(ann: &Ann, bal: &Balance, opts: &Options, snn: &mut Snn) {
    let mut offset = ann.inputs() as u32;
    for (l, layer) in ann.layers.iter().enumerate() {
        let last = l + 1 == ann.layers.len();
        let q = quantize_layer(layer, l, bal, last && opts.readout == Readout::Potential, opts);
        let name = if last { "output".to_string() } else { format!("hidden{}", l + 1) };
        snn.layers.push(LayerInfo {
            population: name,
            source: layer.name.clone(),
            offset,
            size: layer.outputs() as u32,
            scale: q.scale,
            lambda: bal.lambdas[l],
            threshold: q.threshold,
            synapses: q.synapses.len(),
        });
        offset += layer.outputs() as u32;
        snn.weights.push(q.synapses);
        snn.biases.push(q.bias);
        snn.v_init.push(vec![0; layer.outputs()]);
    }
}

/// One layer's integer parameters.
struct Quantized {
    /// k_l: integer units per activation unit.
    scale: f64,
    threshold: i64,
    /// `[pre, post, weight]`, zero weights left out.
    synapses: Vec<[i64; 3]>,
    bias: Vec<i64>,
}

/// Quantizes layer `l`: its scale fits the largest weight into the weight
/// bits and leaves the potential room above θ (or, for a non-spiking
/// output, T steps of the largest logit within half the range).
fn quantize_layer(layer: &Layer, l: usize, bal: &Balance, potential_out: bool, opts: &Options) -> Quantized {
    let fp = opts.fixed_point;
    let t = opts.steps as f64;
    let wmax = ((1i64 << (fp.weight_bits - 1)) - 1) as f64;
    let pmax = (1i64 << (fp.potential_bits - 1)) - 1;
    let lambda = bal.lambdas[l];
    let lam_in = if l == 0 { bal.input_scale } else { bal.lambdas[l - 1] };
    let wt = layer.max_abs_weight() * lam_in;
    let mut k = if wt > 0.0 { wmax / wt } else { f64::INFINITY };
    let threshold = if potential_out {
        // Keep |v| within half the range over T steps of the largest logit.
        k = k.min(pmax as f64 * 0.5 / (t * bal.zmax.max(f64::MIN_POSITIVE)));
        pmax
    } else {
        // Leave room above θ for one step's input.
        k = k.min((1i64 << (fp.potential_bits - 2)) as f64 / lambda);
        ((k * lambda).round() as i64).clamp(1, pmax)
    };
    let mut synapses = Vec::with_capacity(layer.vals.len());
    for o in 0..layer.outputs() {
        for (i, w) in layer.row(o) {
            let q = (k * w * lam_in).round() as i64;
            if q != 0 {
                synapses.push([i as i64, o as i64, q]);
            }
        }
    }
    let shift = if opts.shift_bias && !potential_out { k * lambda / (2.0 * t) } else { 0.0 };
    let bias = layer.bias.iter().map(|&b| ((k * b + shift).round() as i64).clamp(-pmax - 1, pmax)).collect();
    Quantized { scale: k, threshold, synapses, bias }
}

/// Calibration on `calibration_samples` training samples, layer by layer:
/// each layer is corrected with the layers before it already corrected.
/// Only biases and initial potentials change, each within the potential
/// range, and the network is rebuilt after every pass.
fn calibrate(
    ann: &Ann,
    train: &Split,
    opts: &Options,
    snn: &mut Snn,
    progress: &dyn Progress,
) -> Result<(), ConvertError> {
    let cal = train.take(opts.calibration_samples);
    let targets = targets(ann, &cal);
    let layers = ann.layers.len();
    let pass = |l: usize, what: &str| {
        progress.stage(&format!("calibration, layer {} of {layers}: {what}", l + 1), Some(cal.len() as u64))
    };
    for l in 0..layers {
        // An integer first layer computes its input exactly: nothing to fit.
        if opts.weight_calibration && !(l == 0 && snn.input == InputCoding::Integer) {
            pass(l, "weight calibration");
            snn.calibrate_weights(ann, l, &cal, &targets, progress);
            snn.rebuild()?;
        }
        if opts.bias_correction {
            pass(l, "bias correction");
            let resid = snn.residual(l, &cal, &targets, progress);
            snn.correct_bias(l, &resid);
            snn.rebuild()?;
        }
        if opts.potential_init {
            pass(l, "potential initialization");
            let resid = snn.residual(l, &cal, &targets, progress);
            snn.init_potential(l, &resid);
            snn.rebuild()?;
        }
    }
    Ok(())
}

impl Snn {
    /// Rebuilds the network from the integer parameters.
    fn rebuild(&mut self) -> Result<(), ConvertError> {
        self.net = self.build(None)?;
        Ok(())
    }

    /// Largest potential: 2^(P-1) - 1.
    fn pmax(&self) -> i64 {
        (1i64 << (self.fixed_point.potential_bits - 1)) - 1
    }

    /// Weight calibration of layer `l`: with the layers before it as they
    /// now are, the spike counts c of its inputs over T steps are recorded
    /// for every calibration sample; each neuron's integer weights q are
    /// then fitted by gradient descent (started at the quantized weights,
    /// step 1/L per row, a fixed number of iterations: early stopping is
    /// the regularization) so that Σ_j q_j c_j approaches k·T·Σ_j w_j a_j,
    /// the ANN's weighted input sum in the layer's integer units; rounded
    /// and clamped to the weight range. Synapses stay where they are.
    fn calibrate_weights(
        &mut self,
        ann: &Ann,
        l: usize,
        cal: &Split,
        targets: &[Vec<Vec<f64>>],
        progress: &dyn Progress,
    ) {
        let info = &self.layers[l];
        let t = self.steps as f64;
        let (in_off, in_size) = if l == 0 {
            (0usize, ann.inputs())
        } else {
            (self.layers[l - 1].offset as usize, self.layers[l - 1].size as usize)
        };
        // Counts of the layer's inputs per sample.
        let counts: Vec<Vec<f64>> = self.per_sample(cal, progress, |inf, _| {
            inf.counts[in_off..in_off + in_size].iter().map(|&c| c as f64).collect()
        });
        let layer = &ann.layers[l];
        let k = info.scale;
        // The ANN's weighted input sums (bias excluded), in integer units over T steps.
        let wanted: Vec<Vec<f64>> = (0..cal.len())
            .into_par_iter()
            .map(|i| {
                let a: Vec<f64> = if l == 0 { cal.x(i) } else { targets[i][l - 1].clone() };
                (0..layer.outputs()).map(|o| k * t * layer.row(o).map(|(j, w)| w * a[j]).sum::<f64>()).collect()
            })
            .collect();
        let wmax = (1i64 << (self.fixed_point.weight_bits - 1)) - 1;
        // Synapses grouped by post neuron: (index into the layer's list, pre).
        let syn = &self.weights[l];
        let mut rows: Vec<Vec<(usize, usize)>> = vec![Vec::new(); layer.outputs()];
        for (s, w) in syn.iter().enumerate() {
            rows[w[1] as usize].push((s, w[0] as usize));
        }
        let fitted: Vec<Vec<(usize, i64)>> = rows
            .par_iter()
            .enumerate()
            .map(|(o, row)| {
                let mut q: Vec<f64> = row.iter().map(|&(s, _)| syn[s][2] as f64).collect();
                // A hidden neuron's rate is 0 wherever the ANN's is: only
                // the samples where the ANN neuron is active are fitted.
                let active: Vec<bool> =
                    (0..counts.len()).map(|i| l + 1 == self.layers.len() || targets[i][l][o] > 0.0).collect();
                let lip: f64 = counts
                    .iter()
                    .zip(&active)
                    .filter(|p| *p.1)
                    .map(|(c, _)| row.iter().map(|&(_, j)| c[j] * c[j]).sum::<f64>())
                    .sum();
                if lip <= 0.0 {
                    return Vec::new();
                }
                let mut grad = vec![0.0; q.len()];
                for _ in 0..WEIGHT_CALIBRATION_ITERATIONS {
                    grad.iter_mut().for_each(|g| *g = 0.0);
                    for ((c, y), _) in counts.iter().zip(&wanted).zip(&active).filter(|p| *p.1) {
                        let e = row.iter().zip(&q).map(|(&(_, j), qj)| qj * c[j]).sum::<f64>() - y[o];
                        for (g, &(_, j)) in grad.iter_mut().zip(row) {
                            *g += e * c[j];
                        }
                    }
                    for (qj, g) in q.iter_mut().zip(&grad) {
                        *qj -= g / lip;
                    }
                }
                row.iter().zip(q).map(|(&(s, _), v)| (s, (v.round() as i64).clamp(-wmax, wmax))).collect()
            })
            .collect();
        for (s, v) in fitted.into_iter().flatten() {
            self.weights[l][s][2] = v;
        }
    }

    /// Bias correction of layer `l`: subtracts each neuron's residual (in
    /// integer units) from its bias.
    fn correct_bias(&mut self, l: usize, resid: &[f64]) {
        let (k, pmax) = (self.layers[l].scale, self.pmax());
        for (b, e) in self.biases[l].iter_mut().zip(resid) {
            *b = (*b - (k * e).round() as i64).clamp(-pmax - 1, pmax);
        }
    }

    /// Potential initialization of layer `l`: subtracts T steps of each
    /// neuron's residual from its initial potential, kept within ±θ (±the
    /// potential range for a non-spiking output).
    fn init_potential(&mut self, l: usize, resid: &[f64]) {
        let (k, t, pmax) = (self.layers[l].scale, self.steps as f64, self.pmax());
        let theta = self.layers[l].threshold;
        let cap = if theta >= pmax { pmax } else { theta };
        for (v, e) in self.v_init[l].iter_mut().zip(resid) {
            *v = (*v - (k * t * e).round() as i64).clamp(-cap, cap);
        }
    }

    /// The first step (0-based) in which layer `l` can receive input: l + 1
    /// with rate-coded input (every projection delivers in the step after
    /// the spike), l with the integer first layer (its input is a bias from
    /// step 0). [`Snn::warmup`] is the output layer's.
    pub fn latency(&self, l: usize) -> u32 {
        l as u32 + u32::from(self.input == InputCoding::Rate)
    }

    /// Steps of one inference: T, plus the output's latency with
    /// [`Options::add_latency`].
    pub fn run_steps(&self) -> u32 {
        match (self.add_latency, self.layers.len()) {
            (true, n) if n > 0 => self.steps + self.latency(n - 1),
            _ => self.steps,
        }
    }

    /// The steps of the run in which neuron `id` integrates the sample:
    /// all of them, or with [`Options::add_latency`] its layer's T steps
    /// from its latency on (the encoders: the first T). Spike counts for
    /// the readout and for calibration are taken over this window.
    fn window(&self, id: u32) -> std::ops::Range<u32> {
        if !self.add_latency {
            return 0..self.run_steps();
        }
        let l = self.layers.partition_point(|x| x.offset <= id);
        let start = if l == 0 { 0 } else { self.latency(l - 1) };
        start..start + self.steps
    }

    /// Layer `l`'s start potentials in the network: its initial potentials,
    /// with [`Options::add_latency`] set back by d_l steps of `bias` (the
    /// layer integrates only its bias before its input arrives), so that
    /// after d_l steps it holds the initial potential. The potential moves
    /// monotonically in those steps, so it is kept below θ after the first
    /// and the last of them (the warmup never fires) and inside the
    /// potential range after both (it never saturates); only where these
    /// bounds cut the start is the shift not exact.
    fn start_potentials(&self, l: usize, bias: &[i64]) -> Vec<i64> {
        let d = if self.add_latency { self.latency(l) as i64 } else { 0 };
        let (pmax, theta) = (self.pmax(), self.layers[l].threshold);
        self.v_init[l]
            .iter()
            .zip(bias)
            .map(|(&v, &b)| {
                if d == 0 {
                    return v;
                }
                let (lo, hi) = (b.min(d * b), b.max(d * b));
                (v - d * b).min(theta - 1 - hi).min(pmax - hi).max(-pmax - 1 - lo).clamp(-pmax - 1, pmax)
            })
            .collect()
    }

    /// The network, with the first layer's biases replaced if given.
    fn build(&self, first_bias: Option<Vec<i64>>) -> Result<Network, ConvertError> {
        let n_in = self.layers.first().map_or(0, |l| l.offset) as i64;
        let mut pops = vec![PopulationDoc::input("input", n_in)];
        let mut projs = Vec::new();
        let mut pre = "input".to_string();
        for (l, info) in self.layers.iter().enumerate() {
            let mut p = PopulationDoc::neurons(&info.population, info.size as i64, info.threshold);
            let bias = match (&first_bias, l) {
                (Some(b), 0) => b.clone(),
                _ => self.biases[l].clone(),
            };
            let v_init = self.start_potentials(l, &bias);
            p.bias = Some(PerNeuron::Array(bias));
            if v_init.iter().any(|&v| v != 0) {
                p.v_init = Some(PerNeuron::Array(v_init));
            }
            if self.reset != Reset::Subtract {
                p.reset = Some(PerNeuron::Scalar(self.reset));
            }
            p.output = l + 1 == self.layers.len();
            pops.push(p);
            projs.push(ProjectionDoc::sparse(&pre, &info.population, self.weights[l].clone()));
            pre = info.population.clone();
        }
        let doc = NetworkDoc {
            format: 1,
            name: Some(self.name.clone()),
            fixed_point: self.fixed_point,
            populations: pops,
            projections: projs,
        };
        Network::from_doc(&doc).map_err(|e| {
            ConvertError::Invalid(
                e.0.iter().map(|i| format!("{}: {}", i.path, i.problem)).collect::<Vec<_>>().join("; "),
            )
        })
    }

    /// With [`InputCoding::Integer`]: the first layer's biases for sample
    /// `x`, `bias + round(Σ w · level / Q)` (exact integer arithmetic,
    /// rounding half away from zero), clamped to the potential range.
    pub fn first_layer_bias(&self, x: &[f64]) -> Vec<i64> {
        let levels = self.levels(x);
        let q = self.full_scale as i128;
        let mut cur = vec![0i128; self.biases[0].len()];
        for &[i, o, w] in &self.weights[0] {
            cur[o as usize] += w as i128 * levels[i as usize] as i128;
        }
        let p = self.fixed_point.potential_bits;
        let (lo, hi) = (-(1i128 << (p - 1)), (1i128 << (p - 1)) - 1);
        self.biases[0]
            .iter()
            .zip(cur)
            .map(|(&b, c)| {
                let r = if c >= 0 { (2 * c + q) / (2 * q) } else { -((-2 * c + q) / (2 * q)) };
                (b as i128 + r).clamp(lo, hi) as i64
            })
            .collect()
    }

    /// The network that runs sample `x`: the network itself with rate
    /// coding, or with the first layer's biases set for `x` with the
    /// integer first layer. What a host loads into the hardware.
    pub fn network_for(&self, x: &[f64]) -> Result<Network, ConvertError> {
        match self.input {
            InputCoding::Rate => Ok(self.net.clone()),
            InputCoding::Integer => self.build(Some(self.first_layer_bias(x))),
        }
    }

    /// Sets the network's name (written into the network file).
    pub fn set_name(&mut self, name: &str) -> Result<(), ConvertError> {
        self.name = name.into();
        self.rebuild()
    }

    /// Input level of each value: `round(x / λ_0 · Q)`, clamped to 0..=Q.
    pub fn levels(&self, x: &[f64]) -> Vec<i64> {
        let q = self.full_scale as f64;
        x.iter().map(|&v| ((v / self.input_scale).clamp(0.0, 1.0) * q).round() as i64).collect()
    }

    /// Deterministic rate coding: input `i` is an IF neuron with bias
    /// `levels[i]`, θ = Q and initial charge `input_phase`, computed on the
    /// host; returns the input ids that fire in each of the T steps.
    pub fn encode(&self, x: &[f64]) -> Vec<Vec<u32>> {
        let levels = self.levels(x);
        let mut v = vec![self.input_phase; levels.len()];
        (0..self.steps)
            .map(|_| {
                let mut fired = Vec::new();
                for (i, (vi, q)) in v.iter_mut().zip(&levels).enumerate() {
                    *vi += q;
                    if *vi >= self.full_scale {
                        *vi -= self.full_scale;
                        fired.push(i as u32);
                    }
                }
                fired
            })
            .collect()
    }

    /// The stimulus of one sample, as `(step, input id)` pairs.
    pub fn stimulus(&self, x: &[f64]) -> spikeforge_net::SpikeTrain {
        if self.input == InputCoding::Integer {
            return spikeforge_net::SpikeTrain::default();
        }
        let mut list = Vec::new();
        for (s, ids) in self.encode(x).into_iter().enumerate() {
            list.extend(ids.into_iter().map(|i| (s as u32, i)));
        }
        spikeforge_net::SpikeTrain::from_pairs(list)
    }

    /// Runs one inference through the golden model.
    pub fn infer(&self, model: &mut Model, x: &[f64], record: bool) -> Inference {
        self.infer_until(model, x, record, &mut |_, _| false)
    }

    /// [`Snn::infer`] with early exit: the inference stops after the first
    /// step at which `rule` holds on the readout's scores ([`Snn::scores`]).
    pub fn infer_early(&self, model: &mut Model, x: &[f64], rule: EarlyExit) -> Inference {
        let mut watch = Watch::new(rule);
        self.infer_until(model, x, false, &mut |counts, potentials| watch.observe(&self.scores(counts, potentials)))
    }

    /// Runs up to [`Snn::run_steps`] steps, asking `stop(counts,
    /// potentials)` after each.
    fn infer_until(
        &self,
        model: &mut Model,
        x: &[f64],
        record: bool,
        stop: &mut dyn FnMut(&[u32], &[i32]) -> bool,
    ) -> Inference {
        model.reset();
        let mut counts = vec![0u32; self.net.neuron_count() as usize];
        let mut raster = spikeforge_net::SpikeTrain::new();
        let mut output_trace = Vec::new();
        let out = self.layers.last().map_or(0..0, |l| l.offset as usize..(l.offset + l.size) as usize);
        let mut steps = 0;
        let spikes = match self.input {
            InputCoding::Rate => self.encode(x),
            InputCoding::Integer => {
                let first = self.layers[0].offset;
                for (k, b) in self.first_layer_bias(x).into_iter().enumerate() {
                    model.set_bias(first + k as u32, b).expect("first-layer biases are clamped to the potential range");
                }
                Vec::new()
            }
        };
        let run = self.run_steps() as usize;
        let none = Vec::new();
        for s in 0..run {
            let inputs = spikes.get(s).unwrap_or(&none);
            let fired = model.step(inputs).expect("encoder ids are input neurons");
            for &n in fired.iter().chain(inputs) {
                if !self.add_latency || self.window(n).contains(&(s as u32)) {
                    counts[n as usize] += 1;
                }
            }
            if record {
                let both: Vec<u32> = fired.iter().chain(inputs).copied().collect();
                raster.push_step(s as u32, &both);
            }
            if record {
                output_trace.push(model.potentials()[out.clone()].to_vec());
            }
            steps = s as u32 + 1;
            if stop(&counts, model.potentials()) {
                break;
            }
        }
        let potentials = model.potentials().to_vec();
        let class = self.classify(&counts, &potentials);
        Inference { class, counts, potentials, raster, output_trace, steps }
    }

    /// The class a readout of (counts, potentials) gives.
    pub fn classify(&self, counts: &[u32], potentials: &[i32]) -> usize {
        let out = self.layers.last().expect("a converted network has layers");
        let r = out.offset as usize..(out.offset + out.size) as usize;
        match self.readout {
            Readout::Potential => argmax(&potentials[r].iter().map(|&v| v as f64).collect::<Vec<_>>()),
            Readout::Count => {
                let mut best = 0;
                for (k, n) in r.clone().enumerate() {
                    let b = r.start + best;
                    if (counts[n], potentials[n]) > (counts[b], potentials[b]) {
                        best = k;
                    }
                }
                best
            }
        }
    }

    /// The readout's scores of the output neurons: potentials, or spike
    /// counts; what early exit's margin is taken over.
    pub fn scores(&self, counts: &[u32], potentials: &[i32]) -> Vec<i64> {
        let out = self.layers.last().expect("a converted network has layers");
        let r = out.offset as usize..(out.offset + out.size) as usize;
        match self.readout {
            Readout::Potential => potentials[r].iter().map(|&v| v as i64).collect(),
            Readout::Count => counts[r].iter().map(|&v| v as i64).collect(),
        }
    }

    /// Early-exit rules over a range of margins, with `patience`: for the
    /// potential readout multiples of the output scale (potentials grow by
    /// about scale × logit each step, so a margin of c × scale is a lead of
    /// c logit-steps), for the count readout spike counts.
    pub fn anytime_sweep(&self, patience: u32) -> Vec<EarlyExit> {
        let margins: Vec<i64> = match self.readout {
            Readout::Potential => {
                let unit = self.layers.last().map_or(1.0, |l| l.scale);
                [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0].iter().map(|c| (c * unit).round() as i64).collect()
            }
            Readout::Count => vec![1, 2, 3, 4, 6, 8, 12, 16],
        };
        let warmup = self.warmup();
        margins.into_iter().map(|margin| EarlyExit { margin, patience, warmup }).collect()
    }

    /// The steps before the outputs can see the sample, which early exit
    /// does not observe: the output layer's distance from the input
    /// population ([`spikeforge_golden::early_exit::warmup`], L for L
    /// layers), one less with the integer first layer (its input is a bias
    /// from step 0). Before then the scores are the same for every sample.
    pub fn warmup(&self) -> u32 {
        let out = self.net.population("output").map_or(0, |(id, _)| id);
        let from_input = spikeforge_golden::early_exit::warmup(&self.net, out);
        match self.input {
            InputCoding::Rate => from_input,
            InputCoding::Integer => from_input.saturating_sub(1),
        }
    }

    /// Accuracy and mean steps on `split` for each early-exit rule: one
    /// full inference per sample records the class and margin after every
    /// step, and each rule is applied to that record (the same stops as
    /// [`Snn::infer_early`], without a run per rule).
    pub fn anytime(&self, split: &Split, rules: &[EarlyExit]) -> Vec<AnytimePoint> {
        let records: Vec<Vec<(usize, i64)>> = (0..split.len())
            .into_par_iter()
            .map_init(
                || Model::new(&self.net),
                |m, i| {
                    let mut per_step = Vec::with_capacity(self.run_steps() as usize);
                    self.infer_until(m, &split.x(i), false, &mut |counts, potentials| {
                        per_step.push((self.classify(counts, potentials), margin(&self.scores(counts, potentials))));
                        false
                    });
                    per_step
                },
            )
            .collect();
        rules
            .iter()
            .map(|&rule| {
                let (mut correct, mut steps) = (0usize, 0usize);
                for (rec, &label) in records.iter().zip(&split.labels) {
                    let margins: Vec<i64> = rec.iter().map(|r| r.1).collect();
                    let t = exit_step(&margins, rule);
                    steps += t;
                    correct += usize::from(rec.get(t.wrapping_sub(1)).is_some_and(|r| r.0 == label as usize));
                }
                let n = split.len().max(1) as f64;
                AnytimePoint { rule, accuracy: correct as f64 / n, mean_steps: steps as f64 / n }
            })
            .collect()
    }

    /// Predicted classes of every sample of `split` (golden model, in parallel).
    pub fn predict(&self, split: &Split) -> Vec<usize> {
        self.predict_with(split, &Quiet)
    }

    /// [`Snn::predict`], reporting each sample done to `progress`.
    pub fn predict_with(&self, split: &Split, progress: &dyn Progress) -> Vec<usize> {
        (0..split.len())
            .into_par_iter()
            .map_init(
                || Model::new(&self.net),
                |m, i| {
                    let class = self.infer(m, &split.x(i), false).class;
                    progress.advance(1);
                    class
                },
            )
            .collect()
    }

    /// Fraction of `split` classified correctly.
    pub fn accuracy(&self, split: &Split) -> f64 {
        accuracy(&self.predict(split), &split.labels)
    }

    /// [`Snn::accuracy`], as a stage of `progress` with one unit per sample.
    pub fn accuracy_with(&self, split: &Split, progress: &dyn Progress) -> f64 {
        progress.stage(&format!("evaluating {} samples (golden model)", split.len()), Some(split.len() as u64));
        accuracy(&self.predict_with(split, progress), &split.labels)
    }

    /// `f(inference, sample index)` of a full inference of every sample of
    /// `cal` (golden model, in parallel, in sample order), one unit of
    /// `progress` per sample.
    fn per_sample<R: Send>(
        &self,
        cal: &Split,
        progress: &dyn Progress,
        f: impl Fn(&Inference, usize) -> R + Sync,
    ) -> Vec<R> {
        (0..cal.len())
            .into_par_iter()
            .map_init(
                || Model::new(&self.net),
                |m, i| {
                    let inf = self.infer(m, &cal.x(i), false);
                    progress.advance(1);
                    f(&inf, i)
                },
            )
            .collect()
    }

    /// Mean over `cal` of (SNN estimate − ANN target) for each neuron of layer `l`.
    fn residual(&self, l: usize, cal: &Split, targets: &[Vec<Vec<f64>>], progress: &dyn Progress) -> Vec<f64> {
        let info = &self.layers[l];
        let t = self.steps as f64;
        let last = l + 1 == self.layers.len();
        let sums: Vec<Vec<f64>> = self.per_sample(cal, progress, |inf, i| {
            (0..info.size as usize)
                .map(|n| {
                    let id = info.offset as usize + n;
                    let target = targets[i][l][n];
                    if last && self.readout == Readout::Potential {
                        inf.potentials[id] as f64 / (info.scale * t) - target
                    } else {
                        inf.counts[id] as f64 * info.lambda / t - target.clamp(0.0, info.lambda)
                    }
                })
                .collect::<Vec<f64>>()
        });
        // Summed in sample order: a parallel reduction's order (and so the
        // last bits, and a rounding of the bias) would vary from run to run.
        let mut total = vec![0.0; info.size as usize];
        for per in &sums {
            for (t, v) in total.iter_mut().zip(per) {
                *t += v;
            }
        }
        total.into_iter().map(|s| s / cal.len() as f64).collect()
    }

    /// Mean |residual| of layer `l` on `cal` (what calibration reduces).
    pub fn mean_residual(&self, ann: &Ann, l: usize, cal: &Split) -> f64 {
        let targets = targets(ann, cal);
        let r = self.residual(l, cal, &targets, &Quiet);
        r.iter().map(|v| v.abs()).sum::<f64>() / r.len().max(1) as f64
    }

    /// Synapses in the network.
    pub fn synapses(&self) -> usize {
        self.weights.iter().map(Vec::len).sum()
    }
}

/// Calibration targets: every layer's ANN activation per sample, except the
/// output layer's, which is its pre-activation (the logits).
fn targets(ann: &Ann, cal: &Split) -> Vec<Vec<Vec<f64>>> {
    (0..cal.len())
        .into_par_iter()
        .map(|i| {
            let x = cal.x(i);
            let mut outs = ann.forward(&x);
            let last = ann.layers.len() - 1;
            let prev = if last == 0 { x } else { outs[last - 1].clone() };
            outs[last] = ann.layers[last].affine(&prev);
            outs
        })
        .collect()
}

/// Fraction of `pred` equal to `labels`.
pub fn accuracy(pred: &[usize], labels: &[u8]) -> f64 {
    if pred.is_empty() {
        return 0.0;
    }
    pred.iter().zip(labels).filter(|(p, l)| **p == **l as usize).count() as f64 / pred.len() as f64
}

/// ANN accuracy on `split`.
pub fn ann_accuracy(ann: &Ann, split: &Split) -> f64 {
    let pred: Vec<usize> = (0..split.len()).into_par_iter().map(|i| ann.classify(&split.x(i))).collect();
    accuracy(&pred, &split.labels)
}
