//! The convert stage: trained ANNs (ONNX) to integer SNNs in the `net` IR.
//!
//! `onnx` imports a model into the ANN IR (`ann`), `snn` converts it with
//! the selectable methods of the conversion literature and runs inferences
//! on the golden model, `data` loads the data sets. This crate knows the
//! network IR and the golden model, never the mapper, HDL or simulators.

pub mod ann;
pub mod data;
pub mod nir;
pub mod onnx;
pub mod onnx_build;
mod onnx_fold;
pub mod snn;

pub use ann::{Act, Ann, Layer};
pub use data::{Dataset, Split};
pub use onnx::{import, import_bytes, import_bytes_with, import_with, ImportOptions, Imported, OnnxError};
pub use snn::{
    convert, convert_with, AnytimePoint, ConvertError, Inference, InputCoding, LayerInfo, Options, Readout, Snn,
    Threshold, METHODS,
};
