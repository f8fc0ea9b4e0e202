//! Shows the library stages' progress reports ([`Progress`]): a progress
//! bar (indicatif) on a terminal, one line per stage in a log, or nothing.
//!
//! `SPIKEFORGE_PROGRESS` chooses: `auto` (the default: bars when stderr is
//! a terminal, nothing otherwise), `plain` (a line per stage with the time
//! since the command started, for CI logs), `off`.

use indicatif::{ProgressBar, ProgressStyle};
use spikeforge_net::progress::Progress;
use std::io::IsTerminal;
use std::time::Instant;

/// The environment variable that chooses the display.
pub const PROGRESS_ENV: &str = "SPIKEFORGE_PROGRESS";

enum Mode {
    Bars(ProgressBar),
    Plain,
    Off,
}

/// A display of one command's stages; cleared when dropped.
pub struct Display {
    mode: Mode,
    what: String,
    start: Instant,
}

impl Display {
    /// A display for `what` (the command); `show` is false where bars
    /// would be in the way (`--json`), which leaves only the plain lines.
    pub fn new(what: &str, show: bool) -> Display {
        let mode = match std::env::var(PROGRESS_ENV).as_deref() {
            Ok("plain") => Mode::Plain,
            Ok("off") => Mode::Off,
            _ if show && std::io::stderr().is_terminal() => {
                let bar = ProgressBar::new_spinner();
                bar.enable_steady_tick(std::time::Duration::from_millis(200));
                Mode::Bars(bar)
            }
            _ => Mode::Off,
        };
        Display { mode, what: what.into(), start: Instant::now() }
    }
}

impl Display {
    /// Runs `f` with the bar hidden: for work that draws a bar of its own
    /// (the Verilator build).
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.mode {
            Mode::Bars(bar) => bar.suspend(f),
            _ => f(),
        }
    }
}

impl Progress for Display {
    fn stage(&self, name: &str, total: Option<u64>) {
        match &self.mode {
            Mode::Bars(bar) => {
                let template = match total {
                    Some(_) => "{spinner} {prefix}: {msg} {wide_bar} {pos}/{len} {elapsed}",
                    None => "{spinner} {prefix}: {msg} {elapsed}",
                };
                bar.set_style(ProgressStyle::with_template(template).expect("a valid progress template"));
                bar.set_prefix(self.what.clone());
                bar.set_message(name.to_string());
                bar.set_length(total.unwrap_or(0));
                bar.set_position(0);
                bar.reset_elapsed();
            }
            Mode::Plain => {
                let units = total.map_or(String::new(), |n| format!(" ({n})"));
                eprintln!("[{:>7.1} s] {}: {name}{units}", self.start.elapsed().as_secs_f64(), self.what);
            }
            Mode::Off => {}
        }
    }

    fn advance(&self, n: u64) {
        if let Mode::Bars(bar) = &self.mode {
            bar.inc(n);
        }
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        if let Mode::Bars(bar) = &self.mode {
            bar.finish_and_clear();
        }
    }
}
