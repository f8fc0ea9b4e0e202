//! Labelled data sets for calibration and evaluation.
//!
//! - `digits`: the 1797 8×8 images of scikit-learn's digits set, from the
//!   `smartcore` crate (compiled in, no file needed); test = every 4th image
//!   (index % 4 == 0, 450 images), train = the other 1347. Pixels / 16.
//! - `fashion-mnist`: Debian's `dataset-fashion-mnist` IDX files
//!   (`/usr/share/datasets/fashion-mnist`, or a directory given as
//!   `fashion-mnist:DIR`), 60k train / 10k test, pixels / 255.
//! - a CSV file: one sample per line, `split,label,x1,...,xn` with split
//!   `train` or `test`; values as the model expects them.

use std::io::Read;
use std::path::{Path, PathBuf};

/// Samples of one split: `data[i*dim..(i+1)*dim]` is sample `i`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Split {
    pub dim: usize,
    pub data: Vec<f32>,
    pub labels: Vec<u8>,
}

impl Split {
    pub fn len(&self) -> usize {
        self.labels.len()
    }
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
    pub fn x(&self, i: usize) -> Vec<f64> {
        self.data[i * self.dim..(i + 1) * self.dim].iter().map(|&v| v as f64).collect()
    }
    /// The first `n` samples (all if fewer).
    pub fn take(&self, n: usize) -> Split {
        let n = n.min(self.len());
        Split { dim: self.dim, data: self.data[..n * self.dim].to_vec(), labels: self.labels[..n].to_vec() }
    }
    fn push(&mut self, x: &[f32], label: u8) {
        self.data.extend_from_slice(x);
        self.labels.push(label);
    }
}

/// A data set.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub name: String,
    pub train: Split,
    pub test: Split,
}

/// Why a data set could not be loaded (a fix, where there is one, is part
/// of `msg`).
#[derive(Debug, thiserror::Error, miette::Diagnostic, PartialEq)]
#[error("{file}{}: {msg}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct DataError {
    pub file: String,
    pub line: Option<usize>,
    pub msg: String,
}

/// Where Debian's `dataset-fashion-mnist` puts the files.
pub const FASHION_DIR: &str = "/usr/share/datasets/fashion-mnist";

/// Loads `digits`, `fashion-mnist[:DIR]` or a CSV file.
pub fn load(spec: &str) -> Result<Dataset, DataError> {
    match spec {
        "digits" => Ok(digits()),
        "fashion-mnist" => fashion_mnist(Path::new(FASHION_DIR), usize::MAX),
        s if s.starts_with("fashion-mnist:") => fashion_mnist(Path::new(&s["fashion-mnist:".len()..]), usize::MAX),
        path => csv(Path::new(path)),
    }
}

/// The digits set with the fixed index % 4 split.
pub fn digits() -> Dataset {
    let d = smartcore::dataset::digits::load_dataset();
    let dim = d.num_features;
    let (mut train, mut test) = (Split { dim, ..Split::default() }, Split { dim, ..Split::default() });
    for i in 0..d.num_samples {
        let x: Vec<f32> = d.data[i * dim..(i + 1) * dim].iter().map(|v| v / 16.0).collect();
        let split = if i % 4 == 0 { &mut test } else { &mut train };
        split.push(&x, d.target[i] as u8);
    }
    Dataset { name: "digits".into(), train, test }
}

/// Fashion-MNIST from IDX files (gzipped or not); at most `limit` training images.
pub fn fashion_mnist(dir: &Path, limit: usize) -> Result<Dataset, DataError> {
    let split = |prefix: &str, limit: usize| -> Result<Split, DataError> {
        let images = read_idx(&dir.join(format!("{prefix}-images-idx3-ubyte")), 3)?;
        let labels = read_idx(&dir.join(format!("{prefix}-labels-idx1-ubyte")), 1)?;
        let (n, dim) = (images.0[0].min(limit), images.0[1] * images.0[2]);
        if labels.0[0] < n {
            return Err(DataError {
                file: dir.display().to_string(),
                line: None,
                msg: format!("{prefix}: {} labels for {} images", labels.0[0], images.0[0]),
            });
        }
        Ok(Split {
            dim,
            data: images.1[..n * dim].iter().map(|&p| p as f32 / 255.0).collect(),
            labels: labels.1[..n].to_vec(),
        })
    };
    Ok(Dataset { name: "fashion-mnist".into(), train: split("train", limit)?, test: split("t10k", usize::MAX)? })
}

/// A file refused or not read by the bounded reader (spikeforge_net::input).
fn input_error(e: spikeforge_net::input::InputError) -> DataError {
    DataError {
        file: e.file().unwrap_or_default().to_string(),
        line: None,
        msg: match e.help() {
            Some(h) => format!("{}; {h}", e.message()),
            None => e.message(),
        },
    }
}

/// An IDX file (`name` or `name.gz`): dimensions and unsigned bytes. Both
/// the file and the decompressed data are bounded by the input limit.
fn read_idx(base: &Path, rank: usize) -> Result<(Vec<usize>, Vec<u8>), DataError> {
    use spikeforge_net::input::{max_input_bytes, read_file};
    let gz = PathBuf::from(format!("{}.gz", base.display()));
    let limit = max_input_bytes().map_err(input_error)?;
    let (path, bytes) = match read_file(base, "IDX file", limit) {
        Ok(b) => (base.to_path_buf(), b),
        Err(e) if e.is_not_found() => match read_file(&gz, "IDX file", limit) {
            Ok(b) => {
                let bad = |msg: String| DataError { file: gz.display().to_string(), line: None, msg };
                let mut out = Vec::new();
                flate2::read::GzDecoder::new(&b[..])
                    .take(limit.saturating_add(1))
                    .read_to_end(&mut out)
                    .map_err(|e| bad(format!("not a gzip file: {e}")))?;
                if out.len() as u64 > limit {
                    return Err(bad(format!(
                        "decompresses to more than {limit} bytes, the input limit; if the file is right, \
                         raise it with --max-input-size SIZE or {}=SIZE",
                        spikeforge_net::input::MAX_INPUT_ENV
                    )));
                }
                (gz, out)
            }
            Err(e) if e.is_not_found() => {
                return Err(DataError {
                    file: gz.display().to_string(),
                    line: None,
                    msg: format!(
                        "cannot read it or {}: no such file; install the data with `sudo apt-get install dataset-fashion-mnist`",
                        base.display()
                    ),
                })
            }
            Err(e) => return Err(input_error(e)),
        },
        Err(e) => return Err(input_error(e)),
    };
    let bad = |msg: String| DataError { file: path.display().to_string(), line: None, msg };
    if bytes.len() < 4 + 4 * rank || bytes[0] != 0 || bytes[1] != 0 || bytes[2] != 8 || bytes[3] as usize != rank {
        return Err(bad(format!("not an IDX file of unsigned bytes with {rank} dimensions (bad header)")));
    }
    let dims: Vec<usize> = (0..rank)
        .map(|k| u32::from_be_bytes(bytes[4 + 4 * k..8 + 4 * k].try_into().expect("4 bytes")) as usize)
        .collect();
    let n: usize = dims.iter().product();
    let body = &bytes[4 + 4 * rank..];
    if body.len() != n {
        return Err(bad(format!("header says {dims:?} ({n} bytes) but the file holds {}", body.len())));
    }
    Ok((dims, body.to_vec()))
}

/// A field quoted in a message, cut to 40 characters.
fn short(s: &str) -> String {
    match s.char_indices().nth(40) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_string(),
    }
}

/// A CSV data set: `split,label,x1,...,xn`.
pub fn csv(path: &Path) -> Result<Dataset, DataError> {
    let file = path.display().to_string();
    let bytes = spikeforge_net::input::read_input(path, "data file").map_err(|e| match e {
        spikeforge_net::input::InputError::Io { detail, .. } => DataError {
            file: file.clone(),
            line: None,
            msg: format!("cannot read it: {detail} (--data takes digits, fashion-mnist[:DIR] or a CSV file)"),
        },
        e => input_error(e),
    })?;
    let text = spikeforge_net::input::text_from_bytes(&file, "data file", bytes).map_err(|e| {
        let d = &e.diags[0];
        DataError { file: file.clone(), line: d.line_col().map(|(l, _)| l), msg: d.message.clone() }
    })?;
    let (mut train, mut test) = (Split::default(), Split::default());
    let mut dim = None;
    for (k, line) in text.lines().enumerate() {
        let bad = |msg: String| DataError { file: file.clone(), line: Some(k + 1), msg };
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() < 3 {
            return Err(bad("expected split,label,x1,...,xn".into()));
        }
        let split = match fields[0] {
            "train" => &mut train,
            "test" => &mut test,
            other => return Err(bad(format!("column 1 is \"{}\"; the split must be train or test", short(other)))),
        };
        let label: u8 = fields[1].parse().map_err(|_| {
            bad(format!("column 2 is \"{}\"; the label must be a class number 0..255", short(fields[1])))
        })?;
        let x: Vec<f32> = fields[2..]
            .iter()
            .enumerate()
            .map(|(j, f)| {
                f.parse::<f32>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| bad(format!("column {} is \"{}\", not a finite number", j + 3, short(f))))
            })
            .collect::<Result<_, _>>()?;
        match dim {
            None => dim = Some(x.len()),
            Some(d) if d != x.len() => {
                return Err(bad(format!("{} features; earlier lines have {d}", x.len())));
            }
            _ => {}
        }
        split.push(&x, label);
    }
    let dim = dim.ok_or_else(|| DataError { file: file.clone(), line: None, msg: "no samples".into() })?;
    if train.is_empty() || test.is_empty() {
        return Err(DataError {
            file,
            line: None,
            msg: "it needs both train samples (for calibration) and test samples".into(),
        });
    }
    train.dim = dim;
    test.dim = dim;
    Ok(Dataset { name: path.display().to_string(), train, test })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_split_and_scale() {
        let d = digits();
        assert_eq!((d.train.len(), d.test.len(), d.test.dim), (1347, 450, 64));
        assert!(d.train.data.iter().all(|&v| (0.0..=1.0).contains(&v)));
        // sklearn's first image is a 0; it is test sample 0.
        assert_eq!(d.test.labels[0], 0);
    }

    #[test]
    fn csv_errors_name_the_line_and_column() {
        let dir = std::env::temp_dir().join(format!("sf-data-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("d.csv");
        std::fs::write(&p, "train,1,0.5,0.25\ntest,0,0.1,x\n").unwrap();
        let e = csv(&p).unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(e.msg.contains("column 4 is \"x\""), "{e}");
        std::fs::write(&p, "train,1,0.5,0.25\nvalid,0,0.1,0.2\n").unwrap();
        assert!(csv(&p).unwrap_err().to_string().contains(":2: column 1 is \"valid\""));
        std::fs::write(&p, "train,1,0.5,0.25\ntest,0,0.1\n").unwrap();
        assert!(csv(&p).unwrap_err().msg.contains("1 features; earlier lines have 2"));
        std::fs::write(&p, "train,1,0.5,0.25\ntest,0,0.1,0.2\n").unwrap();
        let d = csv(&p).unwrap();
        assert_eq!((d.train.len(), d.test.len(), d.test.x(0)[1] as f32), (1, 1, 0.2));
        let missing = fashion_mnist(&dir, 10).unwrap_err();
        assert!(missing.msg.contains("apt-get install dataset-fashion-mnist"), "{missing}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
