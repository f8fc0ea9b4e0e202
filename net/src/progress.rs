//! Progress of long work, reported to whoever shows it.
//!
//! Library stages (conversion, mapping, the FPGA flow) report named
//! stages and units done through a [`Progress`]; they never draw anything.
//! The command line implements it with progress bars (indicatif) on a
//! terminal, or one line per stage in logs. [`Quiet`] reports nothing.
//! It lives in the IR crate because every stage depends on it and on
//! nothing else.

/// A receiver of progress reports. `Sync`: parallel work (rayon) reports
/// units from several threads.
pub trait Progress: Sync {
    /// A new stage begins; `total` units when known.
    fn stage(&self, name: &str, total: Option<u64>);
    /// `n` more units of the current stage are done.
    fn advance(&self, n: u64);
}

/// Reports nothing.
pub struct Quiet;

impl Progress for Quiet {
    fn stage(&self, _name: &str, _total: Option<u64>) {}
    fn advance(&self, _n: u64) {}
}
