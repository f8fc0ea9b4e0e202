//! Reading a mapping folder back: `mapping.json` as [`Mapping::files`]
//! writes it (`spikeforge map --out DIR`), into typed structs.
//!
//! The file is read through the bounded reader like every input
//! (`spikeforge_net::input`); errors name the file, the JSON path and line
//! of a value of the wrong shape, and how to get a good file.

use crate::image::Images;
use crate::{HardwareSpec, Mapping, Report};
use serde::{Deserialize, Deserializer};
use spikeforge_net::input::InputError;
use spikeforge_net::FileErrors;
use std::path::Path;

/// The file of a mapping folder that [`Mapping::load`] reads.
pub const MAPPING_FILE: &str = "mapping.json";

/// Where the neurons of one computed population sit.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlacedPopulation {
    /// Population name.
    pub population: String,
    /// `[core, slot]` of each neuron, by index in the population.
    pub core_slot: Vec<[u32; 2]>,
}

/// The contents of `mapping.json`: what [`Mapping::files`] wrote.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadedMapping {
    /// The spec the network was mapped onto (checked: `problems()` is empty).
    pub spec: HardwareSpec,
    /// The mapper's report.
    pub report: Report,
    /// Core and slot of every computed neuron, by population.
    pub placement: Vec<PlacedPopulation>,
    /// The memory images, one core image per core of `spec`.
    pub images: Images,
}

/// Why a mapping folder could not be read back.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum MapLoadError {
    /// The folder has no `mapping.json`.
    #[error("{0}")]
    #[diagnostic(help("--mapping takes the folder written by `spikeforge map --out DIR`"))]
    Missing(InputError),
    /// The bounded reader refused the file (not a regular file, too large,
    /// not UTF-8), with its located diagnostic.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Input(FileErrors),
    /// The file is not JSON.
    #[error("{file}: not a mapping file: {error}")]
    #[diagnostic(help("--mapping takes the folder written by `spikeforge map --out DIR`"))]
    Syntax {
        /// The file.
        file: String,
        /// serde_json's error (with its line and column).
        error: serde_json::Error,
    },
    /// A value is missing or of the wrong type.
    #[error("{file}:{line}:{column}: `{path}` is not as `spikeforge map` writes it: {detail}")]
    #[diagnostic(help(
        "write the folder again with `spikeforge map --out DIR`; mapping.json is not meant to be edited"
    ))]
    Shape {
        /// The file.
        file: String,
        /// JSON path of the value, e.g. `images.cores[0].neurons`.
        path: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong with it.
        detail: String,
    },
    /// The spec inside the file fails its checks.
    #[error("{file}: the spec in the mapping is not valid: {problem}")]
    #[diagnostic(help(
        "write the folder again with `spikeforge map --out DIR`; mapping.json is not meant to be edited"
    ))]
    BadSpec {
        /// The file.
        file: String,
        /// The first problem of `HardwareSpec::problems`.
        problem: String,
    },
    /// The images do not match the spec's core count.
    #[error("{file}: the mapping has {images} core images, its spec `{spec}` has {cores} cores")]
    #[diagnostic(help(
        "write the folder again with `spikeforge map --out DIR`; mapping.json is not meant to be edited"
    ))]
    CoreCount {
        /// The file.
        file: String,
        /// Core images in the file.
        images: usize,
        /// Spec name.
        spec: String,
        /// Cores of the spec.
        cores: u32,
    },
    /// The mapping was made for another spec than the one given.
    #[error("{file} was mapped for spec `{mapped}`, not for `{wanted}`")]
    #[diagnostic(help("map the network with the same --spec, or pass the spec the mapping was made for"))]
    SpecMismatch {
        /// The file.
        file: String,
        /// Name of the spec in the file.
        mapped: String,
        /// Name of the spec given.
        wanted: String,
    },
}

/// A report figure serde_json wrote as `null` (a NaN: no baseline) reads back as NaN.
pub(crate) fn f64_or_nan<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

impl Mapping {
    /// Reads `DIR/mapping.json` of a folder written by [`Mapping::files`]
    /// and checks its spec and that there is one core image per core.
    pub fn load(dir: &Path) -> Result<LoadedMapping, MapLoadError> {
        let path = dir.join(MAPPING_FILE);
        let file = path.display().to_string();
        let bytes = match spikeforge_net::input::read_input(&path, "mapping file") {
            Ok(b) => b,
            Err(e) if e.is_not_found() => return Err(MapLoadError::Missing(e)),
            Err(e) => return Err(MapLoadError::Input(e.into())),
        };
        let text = spikeforge_net::input::text_from_bytes(&file, "mapping file", bytes).map_err(MapLoadError::Input)?;
        let mut de = serde_json::Deserializer::from_str(&text);
        let loaded: LoadedMapping = serde_path_to_error::deserialize(&mut de)
            .map_err(|e| {
                let path = e.path().to_string();
                shape_or_syntax(&file, path, e.into_inner())
            })
            .and_then(|m| de.end().map(|_| m).map_err(|error| MapLoadError::Syntax { file: file.clone(), error }))?;
        if let Some((_, problem, _)) = loaded.spec.problems().into_iter().next() {
            return Err(MapLoadError::BadSpec { file, problem });
        }
        if loaded.images.cores.len() != loaded.spec.cores() as usize {
            return Err(MapLoadError::CoreCount {
                file,
                images: loaded.images.cores.len(),
                spec: loaded.spec.name.clone(),
                cores: loaded.spec.cores(),
            });
        }
        Ok(loaded)
    }
}

/// A syntax error is "not a mapping file"; a data error names its path.
fn shape_or_syntax(file: &str, path: String, error: serde_json::Error) -> MapLoadError {
    use serde_json::error::Category;
    match error.classify() {
        Category::Data => {
            // serde_json appends the position, which the message shows in front.
            let text = error.to_string();
            let suffix = format!(" at line {} column {}", error.line(), error.column());
            let detail = text.strip_suffix(&suffix).unwrap_or(&text).to_string();
            MapLoadError::Shape { file: file.to_string(), path, line: error.line(), column: error.column(), detail }
        }
        Category::Io | Category::Syntax | Category::Eof => MapLoadError::Syntax { file: file.to_string(), error },
    }
}

impl LoadedMapping {
    /// Refuses a mapping made for another spec than `spec`; `file` names
    /// the mapping in the message.
    pub fn expect_spec(&self, spec: &HardwareSpec, dir: &Path) -> Result<(), MapLoadError> {
        if &self.spec == spec {
            return Ok(());
        }
        Err(MapLoadError::SpecMismatch {
            file: dir.join(MAPPING_FILE).display().to_string(),
            mapped: self.spec.name.clone(),
            wanted: spec.name.clone(),
        })
    }

    /// Neurons loaded into each core (its `neuron_count` register).
    pub fn neuron_counts(&self) -> Vec<u32> {
        self.images.cores.iter().map(|c| c.neurons.len() as u32).collect()
    }
}
