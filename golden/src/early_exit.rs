//! Early exit (anytime inference): the rule that ends an inference once its
//! answer is clear, the same on every rung that runs one (the golden
//! model's inferences in `convert`, the co-simulation and the board's
//! host driver), so their step counts can be compared.
//!
//! After each step the readout's scores (the output neurons' potentials,
//! or their spike counts) are observed; the margin is the leading score
//! minus the runner-up. The inference stops after the first step at which
//! the margin has been at least `margin` for `patience` consecutive steps,
//! not counting the first `warmup` steps: those before any input spike can
//! have reached the outputs ([`warmup`]), when the scores are the same for
//! every input (biases and initial potentials only) and a lead says
//! nothing about it. Integers throughout: hardware read-back and golden
//! give the same scores, so they stop at the same step.

use spikeforge_net::Network;

/// The rule: stop once `margin` has held for `patience` consecutive steps
/// after the first `warmup` steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EarlyExit {
    /// Least lead of the best score over the runner-up (potential or count units).
    pub margin: i64,
    /// Consecutive steps the lead must hold (at least 1).
    pub patience: u32,
    /// Steps at the start that are not observed (see [`warmup`]).
    pub warmup: u32,
}

impl EarlyExit {
    /// Parses `MARGIN` or `MARGIN:PATIENCE` (patience 1 by default; no
    /// warmup: a driver sets it from the network with [`warmup`]).
    pub fn parse(s: &str) -> Result<EarlyExit, String> {
        let (m, k) = s.split_once(':').unwrap_or((s, "1"));
        let margin = m.trim().parse::<i64>().map_err(|_| format!("margin `{m}` is not an integer"))?;
        let patience = k.trim().parse::<u32>().map_err(|_| format!("patience `{k}` is not a whole number"))?;
        if margin < 0 || patience == 0 {
            return Err("the margin is at least 0 and the patience at least 1 (MARGIN or MARGIN:PATIENCE)".into());
        }
        Ok(EarlyExit { margin, patience, warmup: 0 })
    }
}

/// The steps before any input spike can reach population number `outputs`
/// of `net` (the index [`Network::population`] returns): its distance in
/// projections from the nearest input population (every projection
/// delivers in the step after the spike, and input spikes are given in
/// step 0). 0 when no input population reaches it.
pub fn warmup(net: &Network, outputs: usize) -> u32 {
    let pops = net.populations();
    let mut dist: Vec<Option<u32>> = pops.iter().map(|p| p.is_input().then_some(0)).collect();
    // Bellman-Ford over the projections: at most one pass per population.
    for _ in 0..pops.len() {
        let mut changed = false;
        for pr in net.projections() {
            if let Some(d) = dist[pr.pre] {
                if dist[pr.post].is_none_or(|e| d + 1 < e) {
                    dist[pr.post] = Some(d + 1);
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    dist.get(outputs).copied().flatten().unwrap_or(0)
}

/// What a driver reads as an output's score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitReadout {
    /// The output neuron's potential (read back after each step).
    Potential,
    /// Its spike count so far.
    Count,
}

/// Early exit as a hardware driver applies it: the rule, the output
/// neurons (global ids, in class order) and how their scores are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExitSpec {
    pub rule: EarlyExit,
    pub outputs: Vec<u32>,
    pub readout: ExitReadout,
}

/// The lead of the largest score over the second largest (0 with fewer
/// than two scores, or a tie).
pub fn margin(scores: &[i64]) -> i64 {
    let (mut best, mut second) = (i64::MIN, i64::MIN);
    for &s in scores {
        if s > best {
            second = best;
            best = s;
        } else if s > second {
            second = s;
        }
    }
    if second == i64::MIN {
        0
    } else {
        best.saturating_sub(second)
    }
}

/// One inference's watch of the rule.
#[derive(Debug, Clone)]
pub struct Watch {
    rule: EarlyExit,
    held: u32,
    /// Steps observed so far.
    steps: u32,
}

impl Watch {
    pub fn new(rule: EarlyExit) -> Watch {
        Watch { rule, held: 0, steps: 0 }
    }

    /// Observes the scores after a step; true when the inference stops here.
    pub fn observe(&mut self, scores: &[i64]) -> bool {
        self.observe_margin(margin(scores))
    }

    /// [`Watch::observe`] of a step whose margin is known.
    pub fn observe_margin(&mut self, m: i64) -> bool {
        self.steps += 1;
        if self.steps <= self.rule.warmup {
            return false;
        }
        self.held = if m >= self.rule.margin { self.held + 1 } else { 0 };
        self.held >= self.rule.patience
    }
}

/// The step (1-based count of steps run) at which `rule` stops an
/// inference whose margins after each step are `margins`; the last step
/// when it never does.
pub fn exit_step(margins: &[i64], rule: EarlyExit) -> usize {
    let mut w = Watch::new(rule);
    margins.iter().position(|&m| w.observe_margin(m)).map_or(margins.len(), |t| t + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn margin_and_patience() {
        assert_eq!(margin(&[3, 9, 4]), 5);
        assert_eq!(margin(&[7, 7]), 0);
        assert_eq!(margin(&[5]), 0);
        let rule = EarlyExit { margin: 4, patience: 2, warmup: 0 };
        let mut w = Watch::new(rule);
        let steps = [[1, 6], [0, 5], [3, 4], [0, 9], [0, 9]];
        let stops: Vec<bool> = steps.iter().map(|s| w.observe(s)).collect();
        assert_eq!(stops, [false, true, false, false, true]);
        assert_eq!(exit_step(&[5, 5, 1, 9, 9], rule), 2);
        assert_eq!(exit_step(&[5, 1, 5, 1], rule), 4);
        assert_eq!(EarlyExit::parse("40:3"), Ok(EarlyExit { margin: 40, patience: 3, warmup: 0 }));
        assert_eq!(EarlyExit::parse("12"), Ok(EarlyExit { margin: 12, patience: 1, warmup: 0 }));
        assert!(EarlyExit::parse("x").is_err() && EarlyExit::parse("3:0").is_err());
        // The first `warmup` steps do not count, even with a lead.
        let late = EarlyExit { warmup: 2, ..rule };
        assert_eq!(exit_step(&[9, 9, 9, 9, 9], late), 4);
        assert_eq!(exit_step(&[9, 9, 1, 9, 9], late), 5);
    }

    /// input -> a -> b, input -> b: b is one step from the input; c, fed
    /// only by b, two; d, fed by nothing, 0.
    #[test]
    fn warmup_is_the_distance_from_the_inputs() {
        use spikeforge_net::doc::{NetworkDoc, PopulationDoc, ProjectionDoc};
        let pop = |n: &str| PopulationDoc::neurons(n, 1, 100);
        let proj = |a: &str, b: &str| ProjectionDoc::sparse(a, b, vec![[0, 0, 1]]);
        let doc = NetworkDoc {
            format: 1,
            name: None,
            fixed_point: Default::default(),
            populations: vec![PopulationDoc::input("in", 1), pop("a"), pop("b"), pop("c"), pop("d")],
            projections: vec![proj("in", "a"), proj("a", "b"), proj("in", "b"), proj("b", "c")],
        };
        let net = Network::from_doc(&doc).unwrap();
        let w = |name: &str| warmup(&net, net.population(name).unwrap().0);
        assert_eq!([w("in"), w("a"), w("b"), w("c"), w("d")], [0, 1, 1, 2, 0]);
    }
}
