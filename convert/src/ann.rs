//! The ANN IR: a chain of linear layers, each a sparse matrix plus bias and
//! followed by an activation.
//!
//! Guarantees (what the importer establishes and the converter relies on):
//! - every layer is affine (`y = W x + b`) with `W` stored sparsely by output
//!   row; Conv, AveragePool and Gemm are all lowered to this form, batch norm
//!   is already folded in, and two affine ops with no activation between them
//!   are composed into one;
//! - activations are `Relu` or `Clip(0, max)`; only the last layer may be
//!   `Linear` (its outputs are the logits);
//! - vectors are flat, in ONNX's C-order (channel, row, column).

/// What follows a layer's affine map.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Act {
    /// No activation (the logits of the last layer).
    Linear,
    /// `max(0, x)`.
    Relu,
    /// `min(max(0, x), max)`.
    Clip(f64),
}

impl Act {
    pub fn apply(self, x: f64) -> f64 {
        match self {
            Act::Linear => x,
            Act::Relu => x.max(0.0),
            Act::Clip(m) => x.clamp(0.0, m),
        }
    }
}

/// One affine layer with its activation.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    /// The ONNX nodes it came from, joined by `+`.
    pub name: String,
    /// Output shape (without the batch dimension).
    pub shape: Vec<usize>,
    pub inputs: usize,
    /// Row starts into `cols`/`vals`, one row per output (CSR).
    pub starts: Vec<usize>,
    pub cols: Vec<u32>,
    pub vals: Vec<f64>,
    pub bias: Vec<f64>,
    pub act: Act,
}

impl Layer {
    pub fn outputs(&self) -> usize {
        self.bias.len()
    }

    /// A layer from dense rows (`rows[o][i]`); zeros are dropped.
    pub fn from_dense(name: &str, inputs: usize, rows: &[Vec<f64>], bias: Vec<f64>) -> Layer {
        let mut starts = vec![0];
        let (mut cols, mut vals) = (Vec::new(), Vec::new());
        for r in rows {
            for (i, &w) in r.iter().enumerate() {
                if w != 0.0 {
                    cols.push(i as u32);
                    vals.push(w);
                }
            }
            starts.push(cols.len());
        }
        Layer { name: name.into(), shape: vec![rows.len()], inputs, starts, cols, vals, bias, act: Act::Linear }
    }

    /// `(input, weight)` pairs of output `o`.
    pub fn row(&self, o: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        let (lo, hi) = (self.starts[o], self.starts[o + 1]);
        self.cols[lo..hi].iter().zip(&self.vals[lo..hi]).map(|(&c, &v)| (c as usize, v))
    }

    /// Pre-activations `W x + b`.
    pub fn affine(&self, x: &[f64]) -> Vec<f64> {
        (0..self.outputs()).map(|o| self.bias[o] + self.row(o).map(|(i, w)| w * x[i]).sum::<f64>()).collect()
    }

    /// Largest |weight|.
    pub fn max_abs_weight(&self) -> f64 {
        self.vals.iter().fold(0.0, |m, v| m.max(v.abs()))
    }

    /// The multiply-adds [`Layer::compose`] takes: each entry of
    /// `second` reads a whole row of `first`.
    pub fn compose_cost(first: &Layer, second: &Layer) -> usize {
        second.cols.iter().map(|&k| first.starts[k as usize + 1] - first.starts[k as usize]).sum()
    }

    /// `self` after `first` (no activation between): one affine map.
    pub fn compose(first: &Layer, second: &Layer) -> Layer {
        let mut starts = vec![0];
        let (mut cols, mut vals) = (Vec::new(), Vec::new());
        let mut bias = Vec::with_capacity(second.outputs());
        let mut acc = vec![0.0; first.inputs];
        let mut touched = Vec::new();
        for o in 0..second.outputs() {
            let mut b = second.bias[o];
            for (k, w2) in second.row(o) {
                b += w2 * first.bias[k];
                for (i, w1) in first.row(k) {
                    if acc[i] == 0.0 {
                        touched.push(i);
                    }
                    acc[i] += w2 * w1;
                }
            }
            touched.sort_unstable();
            touched.dedup();
            for &i in &touched {
                if acc[i] != 0.0 {
                    cols.push(i as u32);
                    vals.push(acc[i]);
                }
                acc[i] = 0.0;
            }
            touched.clear();
            starts.push(cols.len());
            bias.push(b);
        }
        Layer {
            name: format!("{}+{}", first.name, second.name),
            shape: second.shape.clone(),
            inputs: first.inputs,
            starts,
            cols,
            vals,
            bias,
            act: second.act,
        }
    }
}

/// An imported ANN.
#[derive(Debug, Clone, PartialEq)]
pub struct Ann {
    /// Input shape without the batch dimension.
    pub input_shape: Vec<usize>,
    pub layers: Vec<Layer>,
}

impl Ann {
    pub fn inputs(&self) -> usize {
        self.input_shape.iter().product()
    }

    pub fn outputs(&self) -> usize {
        self.layers.last().map_or(0, |l| l.outputs())
    }

    /// Every layer's post-activation output for one input; the last entry
    /// is the logits.
    pub fn forward(&self, x: &[f64]) -> Vec<Vec<f64>> {
        let mut outs: Vec<Vec<f64>> = Vec::with_capacity(self.layers.len());
        for l in &self.layers {
            let input = outs.last().map_or(x, |v| v.as_slice());
            let mut y = l.affine(input);
            for v in &mut y {
                *v = l.act.apply(*v);
            }
            outs.push(y);
        }
        outs
    }

    /// Index of the largest logit (the first on ties).
    pub fn classify(&self, x: &[f64]) -> usize {
        argmax(self.forward(x).last().map_or(&[][..], |v| v.as_slice()))
    }

    /// Synapses the SNN will have.
    pub fn synapses(&self) -> usize {
        self.layers.iter().map(|l| l.vals.len()).sum()
    }
}

/// Index of the largest value, the first on ties (0 for an empty slice).
pub fn argmax(v: &[f64]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compose_equals_two_affine_maps() {
        let a = Layer::from_dense("a", 3, &[vec![1.0, 0.0, 2.0], vec![0.0, -1.0, 0.5]], vec![0.5, -1.0]);
        let b = Layer::from_dense("b", 2, &[vec![2.0, 1.0], vec![0.0, 3.0], vec![1.0, -1.0]], vec![0.0, 1.0, 2.0]);
        let c = Layer::compose(&a, &b);
        let x = [0.3, -0.7, 1.1];
        let two = b.affine(&a.affine(&x));
        let one = c.affine(&x);
        for (p, q) in two.iter().zip(&one) {
            assert!((p - q).abs() < 1e-12);
        }
        assert_eq!(c.name, "a+b");
    }
}
