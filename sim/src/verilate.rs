//! Builds a spec's Verilog with Verilator into a shared library, cached.
//!
//! The library is Verilator's C++ model of `sf_<spec>_top` plus the fixed
//! shim (`shim.cpp`), linked with `-shared` so [`crate::model`] can load it
//! at run time: no build script, no per-spec Rust code. The design is
//! emitted without preloaded memories; a network is loaded over the
//! configuration port.
//!
//! Cache: `<cache>/verilator/<spec>-<key>/libsf.so`, where the key hashes
//! the Verilog, the shim, the flags and `verilator --version`, so any change
//! of those rebuilds and nothing stale is ever loaded. Builds run in a
//! private temporary folder renamed into place when complete, under an
//! exclusive file lock per key: two processes (or test threads) asking for
//! the same build wait for one build instead of racing.

use crate::SimError;
use sha2::{Digest, Sha256};
use spikeforge_mapper::HardwareSpec;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The shim of a design top, compiled into its model.
pub const SHIM: &str = include_str!("shim.cpp");
/// The shim of a board top (UART pins), for the simulated UART link.
pub const BOARD_SHIM: &str = include_str!("board_shim.cpp");

/// What to build.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// The design of a spec (`sf_<spec>_top`), driven port by port.
    Design(HardwareSpec),
    /// The board top around the design of a spec: UART bridge with this
    /// many clocks per bit, driven through its UART pins.
    Board(HardwareSpec, u32),
}

/// Verilator flags. `--x-initial unique` lets a run randomize every
/// uninitialized bit (see [`crate::ModelOptions::random_init`]); `--trace`
/// makes VCD windows possible (tracing costs nothing until a file is open
/// beyond the change-tracking Verilator adds, measured in docs/benchmarks.md).
pub const FLAGS: &[&str] = &[
    "--cc",
    "--exe",
    "--build",
    "-O3",
    "--x-assign",
    "fast",
    "--x-initial",
    "unique",
    "--trace",
    "--timescale",
    "1ns/1ns",
];

/// C++ optimisation of the model (Verilator's default is -Os).
const MAKEFLAGS: &[&str] = &["OPT_FAST=-O2", "OPT_SLOW=-O1"];

/// A built model: the shared library and the sources it came from.
#[derive(Debug, Clone)]
pub struct Built {
    /// The spec.
    pub spec: HardwareSpec,
    /// Folder of the build (Verilog sources, `build.log`, `libsf.so`).
    pub dir: PathBuf,
    /// The shared library.
    pub library: PathBuf,
    /// Top module name.
    pub top: String,
    /// Whether this call built it (false: taken from the cache).
    pub fresh: bool,
}

/// The cache root: `$SPIKEFORGE_CACHE`, else `$XDG_CACHE_HOME/spikeforge`,
/// else `~/.cache/spikeforge`, else a folder in the system temp dir.
pub fn cache_root() -> PathBuf {
    if let Some(p) = std::env::var_os("SPIKEFORGE_CACHE") {
        return PathBuf::from(p);
    }
    if let Some(p) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(p).join("spikeforge");
    }
    if let Some(h) = std::env::var_os("HOME") {
        return PathBuf::from(h).join(".cache").join("spikeforge");
    }
    std::env::temp_dir().join("spikeforge-cache")
}

/// The `verilator` executable: `$VERILATOR` or `verilator` on the PATH.
pub fn verilator_command() -> String {
    std::env::var("VERILATOR").unwrap_or_else(|_| "verilator".into())
}

/// `verilator --version`, or the missing-tool error.
pub fn verilator_version() -> Result<String, SimError> {
    let cmd = verilator_command();
    match Command::new(&cmd).arg("--version").output() {
        Ok(o) if o.status.success() => Ok(String::from_utf8_lossy(&o.stdout).trim().to_string()),
        Ok(o) => Err(SimError::VerilatorMissing {
            command: cmd,
            detail: format!("`--version` failed: {}", String::from_utf8_lossy(&o.stderr).trim()),
        }),
        Err(e) => Err(SimError::VerilatorMissing { command: cmd, detail: e.to_string() }),
    }
}

/// Builds (or finds in the cache) the model of `spec`.
pub fn build(spec: &HardwareSpec) -> Result<Built, SimError> {
    build_in(spec, &cache_root())
}

/// [`build`] with an explicit cache root.
pub fn build_in(spec: &HardwareSpec, root: &Path) -> Result<Built, SimError> {
    build_target(&Target::Design(spec.clone()), root)
}

/// Builds (or finds in the cache) a target.
pub fn build_target(target: &Target, root: &Path) -> Result<Built, SimError> {
    let version = verilator_version()?;
    let (spec, mut files, shim, suffix) = match target {
        Target::Design(spec) => (spec, spikeforge_hdl::design(spec, None), SHIM, String::new()),
        Target::Board(spec, cpb) => (spec, spikeforge_hdl::design(spec, None), BOARD_SHIM, format!("-board{cpb}")),
    };
    let design_top = files
        .iter()
        .find(|f| f.module.ends_with("_top"))
        .map(|f| f.module.clone())
        .ok_or_else(|| SimError::Internal("the emitted design has no top module".into()))?;
    let top = match target {
        Target::Design(_) => design_top,
        Target::Board(_, cpb) => {
            files.push(spikeforge_hdl::emit::VerilogFile {
                module: "sf_uart_bridge".into(),
                text: spikeforge_fpga::top::BRIDGE.into(),
            });
            files.push(spikeforge_hdl::emit::VerilogFile {
                module: spikeforge_fpga::project::TOP.into(),
                text: spikeforge_fpga::top::board_top(&design_top, *cpb, 3, false, 1, false),
            });
            spikeforge_fpga::project::TOP.to_string()
        }
    };
    let mut h = Sha256::new();
    for part in [version.as_str(), shim, spikeforge_hdl::VERILATOR_WAIVERS, &FLAGS.join(" "), &MAKEFLAGS.join(" ")] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    for f in &files {
        h.update(f.module.as_bytes());
        h.update([0]);
        h.update(f.text.as_bytes());
        h.update([0]);
    }
    let key: String = h.finalize().iter().take(10).map(|b| format!("{b:02x}")).collect();
    let base = root.join("verilator");
    let safe_name: String =
        spec.name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
    let dir = base.join(format!("{safe_name}{suffix}-{key}"));
    let library = dir.join("libsf.so");
    let done =
        |fresh| Built { spec: spec.clone(), dir: dir.clone(), library: library.clone(), top: top.clone(), fresh };
    if library.is_file() {
        return Ok(done(false));
    }
    let io = |what: &str, p: &Path, e: std::io::Error| SimError::Io(format!("{what} {}: {e}", p.display()));
    std::fs::create_dir_all(&base).map_err(|e| io("cannot create the cache folder", &base, e))?;
    let lock_path = base.join(format!("{safe_name}{suffix}-{key}.lock"));
    let lock = std::fs::File::create(&lock_path).map_err(|e| io("cannot create", &lock_path, e))?;
    lock.lock().map_err(|e| io("cannot lock", &lock_path, e))?;
    // Another process may have finished while we waited for the lock.
    if library.is_file() {
        return Ok(done(false));
    }
    let tmp = base.join(format!("{safe_name}{suffix}-{key}.tmp{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(tmp.join("src")).map_err(|e| io("cannot create", &tmp, e))?;
    let mut sources = Vec::new();
    for f in &files {
        let p = tmp.join("src").join(format!("{}.v", f.module));
        std::fs::write(&p, &f.text).map_err(|e| io("cannot write", &p, e))?;
        sources.push(p);
    }
    let vlt = tmp.join("src").join("verilator.vlt");
    std::fs::write(&vlt, spikeforge_hdl::VERILATOR_WAIVERS).map_err(|e| io("cannot write", &vlt, e))?;
    let shim_path = tmp.join("src").join("shim.cpp");
    std::fs::write(&shim_path, shim).map_err(|e| io("cannot write", &shim_path, e))?;
    let class = format!("V{top}");
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get()).min(4);
    let mut cmd = Command::new(verilator_command());
    cmd.args(FLAGS)
        .arg("-j")
        .arg(jobs.to_string())
        .arg("--Mdir")
        .arg(tmp.join("obj"))
        .arg("--top-module")
        .arg(&top)
        .arg("-CFLAGS")
        .arg(format!("-fPIC -DSF_TOP={class} -DSF_TOP_H='\"{class}.h\"'"))
        .arg("-LDFLAGS")
        .arg("-shared")
        .arg("-o")
        .arg("libsf.so");
    for m in MAKEFLAGS {
        cmd.arg("-MAKEFLAGS").arg(m);
    }
    cmd.arg(&vlt).args(&sources).arg(&shim_path);
    let out =
        cmd.output().map_err(|e| SimError::VerilatorMissing { command: verilator_command(), detail: e.to_string() })?;
    let log = format!(
        "{:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        cmd,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let log_path = tmp.join("build.log");
    std::fs::write(&log_path, &log).map_err(|e| io("cannot write", &log_path, e))?;
    let built_lib = tmp.join("obj").join("libsf.so");
    if !out.status.success() || !built_lib.is_file() {
        let tail: String =
            log.lines().rev().take(30).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n");
        return Err(SimError::BuildFailed { log: log_path, tail });
    }
    std::fs::rename(&built_lib, tmp.join("libsf.so")).map_err(|e| io("cannot move", &built_lib, e))?;
    // The object folder is large and never needed again.
    let _ = std::fs::remove_dir_all(tmp.join("obj"));
    std::fs::rename(&tmp, &dir).map_err(|e| io("cannot move the build into", &dir, e))?;
    drop(lock);
    Ok(done(true))
}
