//! Constant folding for the ONNX importer: the shape arithmetic exporters
//! write (torch's `x.view(x.size(0), -1)` becomes Shape → Gather →
//! Unsqueeze → Concat → Reshape), transposed weights and scaled constants
//! are evaluated here, once the batch is fixed at 1, so that the layer walk
//! only ever sees constants where it needs them.
//!
//! Values are held as f64: every integer a shape computation produces is
//! far below 2^53, so they are exact; integer tensors remember that they
//! are integers so that Div and Cast truncate as ONNX does.

use onnx_protobuf::NodeProto;

/// A constant tensor (row-major).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tensor {
    pub(crate) dims: Vec<usize>,
    pub(crate) data: Vec<f64>,
    /// An integer tensor (int32/int64/bool): Div truncates.
    pub(crate) int: bool,
}

impl Tensor {
    pub(crate) fn float(dims: Vec<usize>, data: Vec<f64>) -> Tensor {
        Tensor { dims, data, int: false }
    }

    pub(crate) fn ints(dims: Vec<usize>, data: Vec<f64>) -> Tensor {
        Tensor { dims, data, int: true }
    }

    /// The values as i64 (indices, axes, shapes).
    fn i64s(&self) -> Vec<i64> {
        self.data.iter().map(|&v| v as i64).collect()
    }
}

/// Most values a folded constant may have: folding is for shapes and
/// weights, and a hostile file must not make it allocate without bound.
const MAX_FOLDED: usize = 1 << 24;

/// Most work one fold may do, counted as values times rank (the index
/// arithmetic per value walks every dimension): a rank-64 result may have
/// 2^22 values.
const MAX_FOLD_WORK: usize = 1 << 28;

/// Most work the folds of one model may do together (same count): a file
/// of a few kilobytes must not make the importer compute for minutes. It
/// is four folds of the largest size, a few seconds, and far above the
/// shape computations and weight rescalings of a model that fits neuron
/// cores ([`MAX_TOTAL_FOLDED`] binds first on weights).
pub(crate) const MAX_TOTAL_FOLD_WORK: usize = 1 << 30;

/// Most values the folded constants of one model may hold together (256 MB
/// as f64): two of the largest, so that a short file cannot fill the memory
/// with copies.
pub(crate) const MAX_TOTAL_FOLDED: usize = 1 << 25;

/// ONNX element types that are integers (int8..int64, uint8..uint64, bool).
pub(crate) fn is_int_type(t: i64) -> bool {
    matches!(t, 2..=7 | 9 | 12 | 13)
}

/// Name of an ONNX element type, for messages.
pub(crate) fn type_name(t: i64) -> String {
    match t {
        1 => "FLOAT".into(),
        2 => "UINT8".into(),
        3 => "INT8".into(),
        4 => "UINT16".into(),
        5 => "INT16".into(),
        6 => "INT32".into(),
        7 => "INT64".into(),
        9 => "BOOL".into(),
        10 => "FLOAT16".into(),
        11 => "DOUBLE".into(),
        12 => "UINT32".into(),
        13 => "UINT64".into(),
        16 => "BFLOAT16".into(),
        t => format!("type {t}"),
    }
}

/// Operators [`fold`] evaluates.
pub(crate) const FOLDABLE: &[&str] = &[
    "Identity",
    "Cast",
    "CastLike",
    "Reshape",
    "Flatten",
    "Unsqueeze",
    "Squeeze",
    "Concat",
    "Gather",
    "Slice",
    "Transpose",
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Neg",
    "Sqrt",
    "Reciprocal",
    "Shape",
    "Size",
    "ConstantOfShape",
    "Range",
];

fn attr<'a>(node: &'a NodeProto, name: &str) -> Option<&'a onnx_protobuf::AttributeProto> {
    node.attribute.iter().find(|a| a.name == name)
}

/// Flatten's axis of a rank-`rank` tensor: in `-rank..=rank`, a negative
/// one counting from the end (`-1` leaves the last dimension alone).
pub(crate) fn flatten_axis(a: i64, rank: usize) -> Result<usize, String> {
    let r = rank as i64;
    let k = if a < 0 { a + r } else { a };
    if !(0..=r).contains(&k) {
        return Err(format!("Flatten axis {a} is outside -{rank}..={rank}"));
    }
    Ok(k as usize)
}

/// Normalizes a possibly negative axis of a rank-`rank` tensor.
pub(crate) fn axis(a: i64, rank: usize) -> Result<usize, String> {
    let r = rank as i64;
    let k = if a < 0 { a + r } else { a };
    if !(0..r).contains(&k) {
        return Err(format!("axis {a} is outside a rank-{rank} tensor"));
    }
    Ok(k as usize)
}

fn strides(dims: &[usize]) -> Vec<usize> {
    let mut s = vec![1; dims.len()];
    for k in (0..dims.len().saturating_sub(1)).rev() {
        s[k] = s[k + 1] * dims[k + 1];
    }
    s
}

/// Most dimensions a folded constant may have (numpy's limit): the
/// per-value index arithmetic costs time in proportion to the rank.
pub(crate) const MAX_RANK: usize = 64;

/// The product of a shape's nonzero dimensions (None on overflow). It
/// bounds every product and sum of its dimensions, which an empty tensor's
/// element count (0) does not: `[0, 2^40, 2^40]` holds no values, yet its
/// strides overflow.
fn extent(dims: &[usize]) -> Option<usize> {
    dims.iter().filter(|&&d| d != 0).try_fold(1usize, |n, &d| n.checked_mul(d))
}

/// The element count of a shape a constant may have: at most [`MAX_RANK`]
/// dimensions whose nonzero ones multiply to at most `max`.
fn shape_within(dims: &[usize], max: usize, what: &str) -> Result<usize, String> {
    if dims.len() > MAX_RANK {
        return Err(format!("{what} has rank {}; at most {MAX_RANK} dimensions are supported", dims.len()));
    }
    let e = extent(dims).filter(|&e| e <= max);
    match e {
        Some(_) if dims.contains(&0) => Ok(0),
        Some(e) => Ok(e),
        None if dims.contains(&0) => {
            Err(format!("{what} {dims:?} is empty, but its other dimensions multiply past {max}"))
        }
        None => Err(format!("{what} {dims:?} would have more than {max} values")),
    }
}

/// Element count of a folded result, bounded by [`MAX_FOLDED`] and by
/// [`MAX_FOLD_WORK`].
fn count(dims: &[usize]) -> Result<usize, String> {
    shape_within(dims, MAX_FOLDED.min(MAX_FOLD_WORK / dims.len().max(1)), "its result")
}

/// The work a folded tensor cost, as [`MAX_FOLD_WORK`] counts it. An empty
/// result counts its nonzero dimensions' product: its fold may still have
/// walked them.
pub(crate) fn work(t: &Tensor) -> usize {
    let values = t.data.len().max(extent(&t.dims).unwrap_or(usize::MAX));
    values.saturating_mul(t.dims.len().max(1))
}

/// Checks a constant read from a file or built by the importer before
/// anything is computed from its shape: its dimensions must multiply to its
/// values without overflow, and an empty one's other dimensions must stay
/// within [`MAX_FOLDED`] (a file can declare `[0, 2^62]` for no values).
pub(crate) fn check_shape(dims: &[usize], values: usize, what: &str) -> Result<(), String> {
    let n = shape_within(dims, if dims.contains(&0) { MAX_FOLDED } else { usize::MAX }, what)?;
    if n != values {
        return Err(format!("{what} holds {values} values but its shape {dims:?} needs {n}"));
    }
    Ok(())
}

/// The shape two tensors broadcast to (numpy rules).
pub(crate) fn broadcast_shape(a: &[usize], b: &[usize]) -> Result<Vec<usize>, String> {
    let r = a.len().max(b.len());
    let at = |d: &[usize], k: usize| if k + d.len() >= r { d[k + d.len() - r] } else { 1 };
    (0..r)
        .map(|k| match (at(a, k), at(b, k)) {
            (x, y) if x == y => Ok(x),
            (1, y) => Ok(y),
            (x, 1) => Ok(x),
            (x, y) => Err(format!("shapes {a:?} and {b:?} do not broadcast ({x} against {y})")),
        })
        .collect()
}

/// `t`'s values at every position of `shape` (numpy broadcasting; `t`'s
/// rank may exceed `shape`'s only by leading 1s).
pub(crate) fn broadcast_to(t: &Tensor, shape: &[usize]) -> Result<Vec<f64>, String> {
    let mut td = t.dims.clone();
    while td.len() > shape.len() && td[0] == 1 {
        td.remove(0);
    }
    if broadcast_shape(&td, shape)? != shape {
        return Err(format!("a constant of shape {:?} does not broadcast to {shape:?}", t.dims));
    }
    let n = count(shape)?;
    let off = shape.len() - td.len();
    let ts = strides(&td);
    let os = strides(shape);
    Ok((0..n)
        .map(|i| {
            let mut j = 0;
            for (k, &d) in td.iter().enumerate() {
                if d != 1 {
                    j += (i / os[k + off] % shape[k + off]) * ts[k];
                }
            }
            t.data[j]
        })
        .collect())
}

fn binary(a: &Tensor, b: &Tensor, f: impl Fn(f64, f64) -> f64) -> Result<Tensor, String> {
    let shape = broadcast_shape(&a.dims, &b.dims)?;
    let (x, y) = (broadcast_to(a, &shape)?, broadcast_to(b, &shape)?);
    Ok(Tensor { dims: shape, data: x.iter().zip(&y).map(|(&p, &q)| f(p, q)).collect(), int: a.int && b.int })
}

/// The tensor of ONNX ints attribute `name`, or input `k`.
fn ints_from(node: &NodeProto, name: &str, inputs: &[Option<&Tensor>], k: usize) -> Option<Vec<i64>> {
    match inputs.get(k).copied().flatten() {
        Some(t) => Some(t.i64s()),
        None => attr(node, name).map(|a| a.ints.clone()),
    }
}

/// Evaluates a node whose data inputs are all constants. `inputs[k]` is
/// input k (None when absent or empty); `shape_of` gives the shape
/// (batch included) of an input that is not a constant, for Shape and
/// Size. Returns the node's first output.
pub(crate) fn fold(
    node: &NodeProto,
    inputs: &[Option<&Tensor>],
    shape_of: Option<Vec<usize>>,
) -> Result<Tensor, String> {
    for t in inputs.iter().flatten() {
        check_shape(&t.dims, t.data.len(), "an input of shape")?;
    }
    let t = evaluate(node, inputs, shape_of)?;
    // Operators that only move or map values (Identity, Cast, Transpose,
    // Unsqueeze...) do not call `count`; their results are held to the
    // same rank and work.
    if t.dims.len() > MAX_RANK {
        return Err(format!("its result has rank {}; at most {MAX_RANK} dimensions are supported", t.dims.len()));
    }
    if work(&t) > MAX_FOLD_WORK {
        return Err(format!(
            "its result {:?} is too large to fold ({} values, {} dimensions; at most {MAX_FOLD_WORK} values × \
             dimensions)",
            t.dims,
            t.data.len(),
            t.dims.len()
        ));
    }
    Ok(t)
}

/// [`fold`]'s operators, on inputs already checked.
fn evaluate(node: &NodeProto, inputs: &[Option<&Tensor>], shape_of: Option<Vec<usize>>) -> Result<Tensor, String> {
    let op = node.op_type.as_str();
    let x = || inputs.first().copied().flatten().ok_or_else(|| format!("{op} has no input"));
    let y = || inputs.get(1).copied().flatten().ok_or_else(|| format!("{op} needs a second input"));
    let attr_i = |n: &str, d: i64| attr(node, n).map_or(d, |a| a.i);
    match op {
        "Identity" => Ok(x()?.clone()),
        "Cast" | "CastLike" => {
            let to = if op == "Cast" {
                attr_i("to", 1)
            } else if y()?.int {
                7
            } else {
                1
            };
            let mut t = x()?.clone();
            t.int = is_int_type(to);
            if t.int {
                t.data.iter_mut().for_each(|v| *v = v.trunc());
            }
            Ok(t)
        }
        "Shape" | "Size" => {
            let dims = match shape_of {
                Some(d) => d,
                None => x()?.dims.clone(),
            };
            if op == "Size" {
                let n = dims.iter().try_fold(1usize, |n, &d| n.checked_mul(d)).ok_or("Size overflows")?;
                return Ok(Tensor::ints(vec![], vec![n as f64]));
            }
            let r = dims.len() as i64;
            let clamp = |v: i64| (if v < 0 { v + r } else { v }).clamp(0, r) as usize;
            let (s, e) = (clamp(attr_i("start", 0)), clamp(attr_i("end", r)));
            let d: Vec<f64> = dims[s..e.max(s)].iter().map(|&v| v as f64).collect();
            Ok(Tensor::ints(vec![d.len()], d))
        }
        "Reshape" => {
            let t = x()?;
            let target = y()?.i64s();
            let n = t.data.len();
            let mut out = Vec::with_capacity(target.len());
            let mut infer = None;
            for (k, &d) in target.iter().enumerate() {
                match d {
                    -1 if infer.is_none() => infer = Some(k),
                    0 => out.push(*t.dims.get(k).ok_or("a 0 in the target shape copies a missing dimension")?),
                    d if d > 0 => out.push(d as usize),
                    d => return Err(format!("dimension {d} of the target shape {target:?} is invalid")),
                }
            }
            let known = count(&out)?;
            if let Some(k) = infer {
                if known == 0 || n % known != 0 {
                    return Err(format!("cannot reshape {:?} to {target:?}", t.dims));
                }
                out.insert(k, n / known);
            }
            if count(&out)? != n {
                return Err(format!("cannot reshape {:?} to {target:?}", t.dims));
            }
            Ok(Tensor { dims: out, ..t.clone() })
        }
        "Flatten" => {
            let t = x()?;
            let k = flatten_axis(attr_i("axis", 1), t.dims.len())?;
            let (a, b) = (t.dims[..k].iter().product(), t.dims[k..].iter().product());
            Ok(Tensor { dims: vec![a, b], ..t.clone() })
        }
        "Unsqueeze" => {
            let t = x()?;
            let axes = ints_from(node, "axes", inputs, 1).ok_or("Unsqueeze has no axes")?;
            let r = t.dims.len() + axes.len();
            if r > MAX_RANK {
                return Err(format!("Unsqueeze to rank {r}; at most {MAX_RANK} dimensions are supported"));
            }
            let ks = distinct_axes(&axes, r, op)?;
            let mut dims = t.dims.clone();
            for k in ks {
                if k > dims.len() {
                    return Err(format!("Unsqueeze axes {axes:?} do not fit rank {}", t.dims.len()));
                }
                dims.insert(k, 1);
            }
            Ok(Tensor { dims, ..t.clone() })
        }
        "Squeeze" => {
            let t = x()?;
            let dims = match ints_from(node, "axes", inputs, 1) {
                None => t.dims.iter().copied().filter(|&d| d != 1).collect(),
                Some(axes) => {
                    let ks = distinct_axes(&axes, t.dims.len(), op)?;
                    if ks.iter().any(|&k| t.dims[k] != 1) {
                        return Err(format!("Squeeze axes {axes:?} of {:?} are not all 1", t.dims));
                    }
                    t.dims.iter().enumerate().filter(|(k, _)| !ks.contains(k)).map(|(_, &d)| d).collect()
                }
            };
            Ok(Tensor { dims, ..t.clone() })
        }
        "Concat" => {
            let parts: Vec<&Tensor> = inputs.iter().flatten().copied().collect();
            let first = parts.first().ok_or("Concat has no inputs")?;
            let rank = first.dims.len();
            let k = axis(attr_i("axis", 0), rank)?;
            for p in &parts {
                if p.dims.len() != rank
                    || p.dims.iter().zip(&first.dims).enumerate().any(|(j, (a, b))| j != k && a != b)
                {
                    return Err(format!("Concat inputs {:?} and {:?} differ off axis {k}", first.dims, p.dims));
                }
            }
            let mut dims = first.dims.clone();
            dims[k] = parts.iter().try_fold(0usize, |n, p| n.checked_add(p.dims[k])).ok_or("Concat overflows")?;
            if count(&dims)? == 0 {
                // Without values, the loop below could still run 2^24 times a part.
                return Ok(Tensor { dims, data: vec![], int: parts.iter().all(|p| p.int) });
            }
            let outer: usize = first.dims[..k].iter().product();
            // Only parts with values (every other one is empty along `k`):
            // a file can name an empty part thousands of times.
            let full: Vec<&&Tensor> = parts.iter().filter(|p| !p.data.is_empty()).collect();
            let mut data = Vec::new();
            for o in 0..outer {
                for p in &full {
                    let inner: usize = p.dims[k..].iter().product();
                    data.extend_from_slice(&p.data[o * inner..(o + 1) * inner]);
                }
            }
            Ok(Tensor { dims, data, int: parts.iter().all(|p| p.int) })
        }
        "Gather" => {
            let (t, idx) = (x()?, y()?);
            if t.dims.is_empty() {
                return Err("Gather on a scalar".into());
            }
            let k = axis(attr_i("axis", 0), t.dims.len())?;
            let n = t.dims[k] as i64;
            let mut dims: Vec<usize> = t.dims[..k].to_vec();
            dims.extend_from_slice(&idx.dims);
            dims.extend_from_slice(&t.dims[k + 1..]);
            if count(&dims)? == 0 {
                return Ok(Tensor { dims, data: vec![], int: t.int });
            }
            let outer: usize = t.dims[..k].iter().product();
            let inner: usize = t.dims[k + 1..].iter().product();
            let mut data = Vec::new();
            let idx = idx.i64s();
            for o in 0..outer {
                for &i in &idx {
                    let i = if i < 0 { i + n } else { i };
                    if !(0..n).contains(&i) {
                        return Err(format!("Gather index {i} is outside 0..{n}"));
                    }
                    let start = (o * t.dims[k] + i as usize) * inner;
                    data.extend_from_slice(&t.data[start..start + inner]);
                }
            }
            Ok(Tensor { dims, data, int: t.int })
        }
        "Slice" => {
            let t = x()?;
            let rank = t.dims.len();
            let starts = ints_from(node, "starts", inputs, 1).ok_or("Slice has no starts")?;
            let ends = ints_from(node, "ends", inputs, 2).ok_or("Slice has no ends")?;
            let axes = ints_from(node, "axes", inputs, 3).unwrap_or_else(|| (0..starts.len() as i64).collect());
            let steps = inputs.get(4).copied().flatten().map_or_else(|| vec![1; starts.len()], |s| s.i64s());
            if [ends.len(), axes.len(), steps.len()].iter().any(|&l| l != starts.len()) {
                return Err("Slice's starts, ends, axes and steps differ in length".into());
            }
            distinct_axes(&axes, rank, op)?;
            // Per axis: the kept indices, `first + i * step` for `i < len`
            // (no list: an axis may be 2^24 long on an empty tensor).
            let mut keep: Vec<(i64, i64, usize)> = t.dims.iter().map(|&d| (0, 1, d)).collect();
            for j in 0..starts.len() {
                let k = axis(axes[j], rank)?;
                let d = t.dims[k] as i64;
                let step = steps[j];
                if step == 0 {
                    return Err("Slice step 0".into());
                }
                if d == 0 {
                    continue;
                }
                let fix = |v: i64, lo: i64, hi: i64| (if v < 0 { v.saturating_add(d) } else { v }).clamp(lo, hi);
                let (first, end) = if step > 0 {
                    (fix(starts[j], 0, d), fix(ends[j], 0, d))
                } else {
                    (fix(starts[j], 0, d - 1), fix(ends[j], -1, d - 1))
                };
                // Both within -1..=d, so the differences cannot overflow.
                let span = if step > 0 { end - first } else { first - end };
                let len = if span <= 0 { 0 } else { (span - 1) / step.unsigned_abs().min(i64::MAX as u64) as i64 + 1 };
                keep[k] = (first, step, len as usize);
            }
            let dims: Vec<usize> = keep.iter().map(|&(_, _, len)| len).collect();
            let n = count(&dims)?;
            let (os, is) = (strides(&dims), strides(&t.dims));
            let at = |k: usize, i: usize| (keep[k].0 + i as i64 * keep[k].1) as usize;
            let data =
                (0..n).map(|o| t.data[(0..rank).map(|k| at(k, o / os[k] % dims[k]) * is[k]).sum::<usize>()]).collect();
            Ok(Tensor { dims, data, int: t.int })
        }
        "Transpose" => {
            let t = x()?;
            let perm = permutation(node, t.dims.len())?;
            let dims: Vec<usize> = perm.iter().map(|&p| t.dims[p]).collect();
            let (os, is) = (strides(&dims), strides(&t.dims));
            let data = (0..t.data.len())
                .map(|o| t.data[(0..dims.len()).map(|k| o / os[k] % dims[k] * is[perm[k]]).sum::<usize>()])
                .collect();
            Ok(Tensor { dims, data, int: t.int })
        }
        "Add" => binary(x()?, y()?, |a, b| a + b),
        "Sub" => binary(x()?, y()?, |a, b| a - b),
        "Mul" => binary(x()?, y()?, |a, b| a * b),
        "Div" => {
            let (a, b) = (x()?, y()?);
            let int = a.int && b.int;
            binary(a, b, |p, q| if int { (p / q).trunc() } else { p / q })
        }
        "Neg" => Ok(Tensor { data: x()?.data.iter().map(|v| -v).collect(), ..x()?.clone() }),
        "Sqrt" => Ok(Tensor { data: x()?.data.iter().map(|v| v.sqrt()).collect(), ..x()?.clone() }),
        "Reciprocal" => Ok(Tensor { data: x()?.data.iter().map(|v| 1.0 / v).collect(), ..x()?.clone() }),
        "ConstantOfShape" => {
            let dims: Vec<usize> = x()?.i64s().iter().map(|&d| d.max(0) as usize).collect();
            let n = count(&dims)?;
            let (v, int) = match attr(node, "value").and_then(|a| a.t.as_ref()) {
                Some(t) => {
                    let v = crate::onnx::tensor(t)?;
                    (v.data.first().copied().unwrap_or(0.0), v.int)
                }
                None => (0.0, false),
            };
            Ok(Tensor { dims, data: vec![v; n], int })
        }
        "Range" => {
            let (s, l, d) = (x()?, y()?, inputs.get(2).copied().flatten().ok_or("Range needs a delta")?);
            let first = |t: &Tensor| t.data.first().copied().ok_or("Range takes scalars");
            let (s0, l0, d0) = (first(s)?, first(l)?, first(d)?);
            let n = if d0 == 0.0 { 0.0 } else { ((l0 - s0) / d0).ceil().max(0.0) };
            count(&[n as usize])?;
            let data: Vec<f64> = (0..n as usize).map(|i| s0 + i as f64 * d0).collect();
            Ok(Tensor { dims: vec![data.len()], data, int: s.int })
        }
        other => Err(format!("cannot evaluate {other} on constants")),
    }
}

/// The axes of a Squeeze, Unsqueeze or Slice of a rank-`rank` tensor,
/// normalized, sorted and checked to be distinct (ONNX requires it; a
/// repeated axis would also let a short file ask for millions of passes).
fn distinct_axes(axes: &[i64], rank: usize, op: &str) -> Result<Vec<usize>, String> {
    let mut ks: Vec<usize> = axes.iter().map(|&a| axis(a, rank)).collect::<Result<_, _>>()?;
    ks.sort_unstable();
    if ks.windows(2).any(|w| w[0] == w[1]) {
        return Err(format!("{op} axes {axes:?} repeat an axis"));
    }
    Ok(ks)
}

/// The `perm` attribute of a Transpose of a rank-`rank` tensor (default:
/// reversed), checked to be a permutation.
pub(crate) fn permutation(node: &NodeProto, rank: usize) -> Result<Vec<usize>, String> {
    let perm: Vec<usize> = match attr(node, "perm") {
        Some(a) => a.ints.iter().map(|&p| axis(p, rank)).collect::<Result<_, _>>()?,
        None => (0..rank).rev().collect(),
    };
    let mut seen = perm.clone();
    seen.sort_unstable();
    if seen != (0..rank).collect::<Vec<_>>() {
        return Err(format!("perm {perm:?} is not a permutation of a rank-{rank} tensor"));
    }
    Ok(perm)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(dims: &[usize], data: &[f64]) -> Tensor {
        Tensor::float(dims.to_vec(), data.to_vec())
    }

    #[test]
    fn broadcasting_follows_numpy() {
        // [2, 1] against [3]: outer sum.
        let s = binary(&t(&[2, 1], &[10.0, 20.0]), &t(&[3], &[1.0, 2.0, 3.0]), |a, b| a + b).unwrap();
        assert_eq!(s.dims, vec![2, 3]);
        assert_eq!(s.data, vec![11.0, 12.0, 13.0, 21.0, 22.0, 23.0]);
        // A per-channel [C, 1, 1] constant over [1, C, H, W].
        let v = broadcast_to(&t(&[2, 1, 1], &[1.0, 2.0]), &[1, 2, 2, 2]).unwrap();
        assert_eq!(v, vec![1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0]);
        assert!(broadcast_to(&t(&[3], &[1.0; 3]), &[1, 2]).is_err());
    }

    #[test]
    fn transpose_and_gather_and_slice() {
        let mut n = NodeProto::new();
        n.op_type = "Transpose".into();
        let m = fold(&n, &[Some(&t(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]))], None).unwrap();
        assert_eq!((m.dims.clone(), m.data.clone()), (vec![3, 2], vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]));
        n.op_type = "Gather".into();
        let g = fold(&n, &[Some(&t(&[3], &[1.0, 64.0, 7.0])), Some(&Tensor::ints(vec![], vec![-2.0]))], None);
        assert_eq!(g.unwrap().data, vec![64.0]);
        n.op_type = "Slice".into();
        let s = fold(
            &n,
            &[Some(&t(&[4], &[0.0, 1.0, 2.0, 3.0])), Some(&t(&[1], &[-1.0])), Some(&t(&[1], &[-5.0])), None, {
                Some(&t(&[1], &[-2.0]))
            }],
            None,
        );
        assert_eq!(s.unwrap().data, vec![3.0, 1.0]);
        let ten = t(&[10], &(0..10).map(f64::from).collect::<Vec<_>>());
        for (start, end, step, want) in [
            (1.0, 9.0, 3.0, vec![1.0, 4.0, 7.0]),
            (8.0, 0.0, -3.0, vec![8.0, 5.0, 2.0]),
            (-1.0, -100.0, -4.0, vec![9.0, 5.0, 1.0]),
            (2.0, 1e18, 100.0, vec![2.0]),
            (5.0, 5.0, 1.0, vec![]),
            (-1e18, 1e18, 9e18, vec![0.0]),
        ] {
            let (s, e, st) = (t(&[1], &[start]), t(&[1], &[end]), t(&[1], &[step]));
            let got = fold(&n, &[Some(&ten), Some(&s), Some(&e), None, Some(&st)], None).unwrap();
            assert_eq!(got.data, want, "{start}:{end}:{step}");
        }
    }

    fn op(name: &str) -> NodeProto {
        let mut n = NodeProto::new();
        n.op_type = name.into();
        n
    }

    #[test]
    fn hostile_shapes_are_refused_not_overflowed() {
        // Found by the onnx fuzz target: Concat of empty constants whose
        // other dimension is huge overflowed the summed axis.
        let empty = Tensor::float(vec![0, 1 << 62], vec![]);
        let e = fold(&op("Concat"), &[Some(&empty), Some(&empty)], None).unwrap_err();
        assert!(e.contains("is empty, but its other dimensions multiply past 16777216"), "{e}");
        // Results with such shapes are refused too.
        let shape = Tensor::ints(vec![3], vec![0.0, (1u64 << 40) as f64, (1u64 << 40) as f64]);
        let e = fold(&op("ConstantOfShape"), &[Some(&shape)], None).unwrap_err();
        assert!(e.contains("is empty, but"), "{e}");
        let e = fold(&op("Reshape"), &[Some(&Tensor::float(vec![0], vec![])), Some(&shape)], None).unwrap_err();
        assert!(e.contains("is empty, but"), "{e}");
        // An empty result of modest shape is fine.
        let small = Tensor::ints(vec![2], vec![0.0, 7.0]);
        let ok = fold(&op("ConstantOfShape"), &[Some(&small)], None).unwrap();
        assert_eq!((ok.dims, ok.data.len()), (vec![0, 7], 0));
        // A rank past 64, and the work bound: a rank-64 result of 2^23 values.
        let ones = Tensor::ints(vec![65], vec![1.0; 65]);
        let e = fold(&op("ConstantOfShape"), &[Some(&ones)], None).unwrap_err();
        assert!(e.contains("rank 65"), "{e}");
        let mut deep = vec![1.0; 64];
        deep[0] = (1 << 23) as f64;
        let e = fold(&op("ConstantOfShape"), &[Some(&Tensor::ints(vec![64], deep))], None).unwrap_err();
        assert!(e.contains("would have more than 4194304 values"), "{e}");
        // A data tensor whose shape does not match its values (an internal
        // bug) is an error, not an out-of-bounds read.
        let e = fold(&op("Identity"), &[Some(&Tensor::float(vec![2, 3], vec![1.0]))], None).unwrap_err();
        assert!(e.contains("holds 1 values but its shape [2, 3] needs 6"), "{e}");
    }

    #[test]
    fn repeated_axes_are_refused() {
        // A repeated axis is invalid ONNX, and 2^24 of them (a folded
        // constant) made Unsqueeze and Slice quadratic.
        let x = Tensor::float(vec![1, 4], vec![0.0; 4]);
        let axes = Tensor::ints(vec![2], vec![0.0, 0.0]);
        let e = fold(&op("Unsqueeze"), &[Some(&x), Some(&axes)], None).unwrap_err();
        assert!(e.contains("Unsqueeze axes [0, 0] repeat an axis"), "{e}");
        let e = fold(&op("Squeeze"), &[Some(&x), Some(&axes)], None).unwrap_err();
        assert!(e.contains("repeat an axis"), "{e}");
        let two = Tensor::ints(vec![2], vec![0.0, 0.0]);
        let ends = Tensor::ints(vec![2], vec![1.0, 1.0]);
        let e = fold(&op("Slice"), &[Some(&x), Some(&two), Some(&ends), Some(&axes)], None).unwrap_err();
        assert!(e.contains("Slice axes [0, 0] repeat an axis"), "{e}");
        let many = Tensor::ints(vec![70], (0..70).map(f64::from).collect());
        let e = fold(&op("Unsqueeze"), &[Some(&x), Some(&many)], None).unwrap_err();
        assert!(e.contains("rank 72"), "{e}");
        // Axes of a scalar, and a backwards Slice of an empty axis.
        let scalar = Tensor::float(vec![], vec![1.0]);
        let e = fold(&op("Concat"), &[Some(&scalar)], None).unwrap_err();
        assert!(e.contains("axis 0 is outside a rank-0 tensor"), "{e}");
        let (zero, back) = (Tensor::ints(vec![1], vec![0.0]), Tensor::ints(vec![1], vec![-1.0]));
        let args = |t| [Some(t), Some(&zero), Some(&zero), None, Some(&back)];
        assert!(fold(&op("Slice"), &args(&scalar), None).unwrap_err().contains("rank-0"));
        let empty = Tensor::float(vec![0], vec![]);
        assert_eq!(fold(&op("Slice"), &args(&empty), None).unwrap().dims, vec![0]);
        // Flatten's negative axis counts from the end.
        let mut flat = op("Flatten");
        flat.attribute.push(crate::onnx_build::int_attr("axis", -1));
        let two = Tensor::float(vec![2, 3], vec![0.0; 6]);
        assert_eq!(fold(&flat, &[Some(&two)], None).unwrap().dims, vec![2, 3]);
        // Concat reads only the parts with values: 3,000 empty parts of a
        // 2^24-row tensor cost nothing (they made 5e10 idle steps).
        let (rows, empty) =
            (Tensor::float(vec![1 << 24, 1], vec![1.0; 1 << 24]), Tensor::float(vec![1 << 24, 0], vec![]));
        let mut cat = op("Concat");
        cat.attribute.push(crate::onnx_build::int_attr("axis", 1));
        let parts: Vec<Option<&Tensor>> = std::iter::once(Some(&rows)).chain((0..3000).map(|_| Some(&empty))).collect();
        assert_eq!(fold(&cat, &parts, None).unwrap().data.len(), 1 << 24);
        // Distinct axes still work.
        let ok = fold(&op("Unsqueeze"), &[Some(&x), Some(&Tensor::ints(vec![2], vec![0.0, 3.0]))], None).unwrap();
        assert_eq!(ok.dims, vec![1, 1, 4, 1]);
    }
}
