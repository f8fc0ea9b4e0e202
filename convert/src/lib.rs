//! ANN-to-SNN conversion (not built yet).
//!
//! Will own: ONNX import, batch-norm folding, threshold balancing, soft
//! reset, shifted bias, calibration by bias correction and potential
//! initialization, and quantization to a spec's weight and potential bits,
//! producing an ordinary `spikeforge-net` network.
//!
//! Must not know about hardware: its output is a network file like any other.
