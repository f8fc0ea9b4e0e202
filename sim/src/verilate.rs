//! Builds a spec's Verilog with Verilator into a shared library, cached.
//!
//! The library is Verilator's C++ model of `sf_<spec>_top_sim` (the design
//! top with its inputs latched: `spikeforge_hw::ports::sampled_wrapper`)
//! plus the fixed shim (`shim.cpp`, with its pin struct `sf_pins.h`
//! generated from the port table `spikeforge_hw::ports`), linked with `-shared` so
//! [`crate::model`] can load it
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
use spikeforge_hdl::tools;
use spikeforge_hw::HardwareSpec;
use std::path::{Path, PathBuf};

/// The shim of a design top, compiled into its model.
pub(crate) const SHIM: &str = include_str!("shim.cpp");
/// The shim of a board top (UART pins), for the simulated UART link.
pub(crate) const BOARD_SHIM: &str = include_str!("board_shim.cpp");

/// What to build.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Target {
    /// The design of a spec (`sf_<spec>_top`), driven port by port.
    Design(HardwareSpec),
    /// The board top around the design of a spec: UART bridge with this
    /// many clocks per bit, driven through its UART pins.
    Board(HardwareSpec, u32),
}

/// Verilator flags of every build, chosen by measurement (the options
/// table in docs/benchmarks.md, `cargo bench -p spikeforge-sim --bench
/// options`). `--x-initial unique` lets a run randomize every uninitialized
/// bit (see [`crate::InitialState`]) at no cost per cycle. `--inline-mult
/// 500` keeps a core a module of its own rather than copying it into the
/// top (Verilator's default 2000 inlines the cores of small specs): faster
/// per cycle on 4 cores, and the same C++ on 64. Tracing is not here: it is
/// a separate build ([`BuildOptions::trace`]).
pub const FLAGS: &[&str] = &[
    "--cc",
    "--exe",
    "-O3",
    "--x-assign",
    "fast",
    "--x-initial",
    "unique",
    "--inline-mult",
    "500",
    "--timescale",
    "1ns/1ns",
];

/// C++ optimisation of the model (Verilator's default is -Os).
pub const MAKEFLAGS: &[&str] = &["OPT_FAST=-O2", "OPT_SLOW=-O1"];

/// How to build a model. Each combination is built and cached on its own.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BuildOptions {
    /// Compile VCD tracing in (`--trace`). Off for plain runs, which are
    /// faster without it; a run that writes a VCD uses the traced build
    /// ([`Built::traced`]).
    pub trace: bool,
    /// More Verilator arguments (benchmarks of Verilator options).
    pub verilator_args: Vec<String>,
    /// More make variables for the C++ build (`OPT_FAST=-O3`).
    pub make_args: Vec<String>,
}

/// What a build is doing, reported to a progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildStage {
    /// Generating the design's Verilog.
    Generating,
    /// Verilator translates the Verilog into C++.
    Verilating,
    /// The C++ compiler has compiled `done` of `total` files (`total` is 0
    /// when it could not be read from Verilator's makefiles).
    Compiling {
        /// Files compiled.
        done: usize,
        /// Files to compile.
        total: usize,
    },
    /// Linking the shared library.
    Linking,
}

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
    /// Set when Verilator is missing and this model was found in the cache
    /// by its sources alone: why Verilator could not be run.
    pub without_verilator: Option<String>,
    /// The options it was built with.
    pub options: BuildOptions,
    target: Target,
    root: PathBuf,
}

impl Built {
    /// The same model with VCD tracing compiled in: itself if it has it,
    /// else the traced build (built once, then cached).
    pub fn traced(&self) -> Result<Built, SimError> {
        if self.options.trace {
            return Ok(self.clone());
        }
        let options = BuildOptions { trace: true, ..self.options.clone() };
        build_target(&self.target, &self.root, &options, &mut |_| {})
    }
}

/// The variable naming the cache root of built models.
pub const CACHE_ENV: &str = "SPIKEFORGE_CACHE";

/// The cache root: `$SPIKEFORGE_CACHE`, else `$XDG_CACHE_HOME/spikeforge`,
/// else `~/.cache/spikeforge`, else a folder in the system temp dir.
pub fn cache_root() -> PathBuf {
    if let Some(p) = std::env::var_os(CACHE_ENV) {
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

/// `verilator --version`, or the missing-tool error.
pub fn verilator_version() -> Result<String, SimError> {
    let v = tools::VERILATOR.check()?;
    if v.starts_with("Verilator") {
        Ok(v.lines().next().unwrap_or_default().to_string())
    } else {
        Err(SimError::Tool(tools::VERILATOR.missing()))
    }
}

/// Builds (or finds in the cache) the model of `spec`, without tracing.
pub fn build(spec: &HardwareSpec) -> Result<Built, SimError> {
    build_in(spec, &cache_root())
}

/// [`build`] with an explicit cache root.
pub fn build_in(spec: &HardwareSpec, root: &Path) -> Result<Built, SimError> {
    build_target(&Target::Design(spec.clone()), root, &BuildOptions::default(), &mut |_| {})
}

/// [`build`] with options, reporting each stage of a fresh build to
/// `progress` (nothing is reported for a model found in the cache).
pub fn build_with(
    spec: &HardwareSpec,
    options: &BuildOptions,
    progress: &mut dyn FnMut(BuildStage),
) -> Result<Built, SimError> {
    build_at(spec, &cache_root(), options, progress)
}

/// [`build_with`] with an explicit cache root.
pub fn build_at(
    spec: &HardwareSpec,
    root: &Path,
    options: &BuildOptions,
    progress: &mut dyn FnMut(BuildStage),
) -> Result<Built, SimError> {
    build_target(&Target::Design(spec.clone()), root, options, progress)
}

/// Builds (or finds in the cache) a target.
pub(crate) fn build_target(
    target: &Target,
    root: &Path,
    options: &BuildOptions,
    progress: &mut dyn FnMut(BuildStage),
) -> Result<Built, SimError> {
    let version = verilator_version();
    let (spec, shim, mut suffix) = match target {
        Target::Design(spec) => (spec, SHIM, String::new()),
        Target::Board(spec, cpb) => (spec, BOARD_SHIM, format!("-board{cpb}")),
    };
    if options.trace {
        suffix.push_str("-trace");
    }
    progress(BuildStage::Generating);
    let mut files = spikeforge_hdl::design(spec, None);
    let design_top = files
        .iter()
        .find(|f| f.module.ends_with("_top"))
        .map(|f| f.module.clone())
        .ok_or_else(|| SimError::Internal("the emitted design has no top module".into()))?;
    let top = match target {
        Target::Design(_) => {
            // The inputs behind a latch (ports::sampled_wrapper): the logic
            // that reads them then runs once per cycle, not once per eval.
            let name = format!("{design_top}_sim");
            files.push(spikeforge_hdl::emit::VerilogFile {
                module: name.clone(),
                text: spikeforge_hw::ports::sampled_wrapper(&design_top, &name),
            });
            name
        }
        Target::Board(_, cpb) => {
            use spikeforge_hdl::board;
            files.push(spikeforge_hdl::emit::VerilogFile {
                module: board::BRIDGE_MODULE.into(),
                text: board::BRIDGE.into(),
            });
            files.push(spikeforge_hdl::emit::VerilogFile {
                module: board::TOP.into(),
                text: board::board_top(&design_top, *cpb, 3, false, board::DesignClock::Divided(1), false),
            });
            board::TOP.to_string()
        }
    };
    let pins = spikeforge_hw::ports::c_pins_header();
    let flags = verilator_flags(options);
    let make = make_flags(options);
    let shared = spikeforge_hdl::emit::shared_instance_config(&files);
    // The key of a build: Verilator's version and every input. The same
    // without the version names the sources, so that a model built earlier
    // can still be found when Verilator is missing.
    let hash = |version: Option<&str>| -> String {
        let mut h = Sha256::new();
        let parts = [shim, &pins, spikeforge_hdl::VERILATOR_WAIVERS, &shared, &flags.join(" "), &make.join(" ")];
        for part in version.into_iter().chain(parts) {
            h.update(part.as_bytes());
            h.update([0]);
        }
        for f in &files {
            h.update(f.module.as_bytes());
            h.update([0]);
            h.update(f.text.as_bytes());
            h.update([0]);
        }
        h.finalize().iter().take(10).map(|b| format!("{b:02x}")).collect()
    };
    let sources = hash(None);
    let base = root.join("verilator");
    let safe_name: String =
        spec.name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
    let prefix = format!("{safe_name}{suffix}-");
    let done = |dir: PathBuf, fresh, without_verilator: Option<String>| Built {
        spec: spec.clone(),
        library: dir.join("libsf.so"),
        dir,
        top: top.clone(),
        fresh,
        without_verilator,
        options: options.clone(),
        target: target.clone(),
        root: root.to_path_buf(),
    };
    let version = match version {
        Ok(v) => v,
        Err(e) => {
            return match cached_by_sources(&base, &prefix, &sources) {
                Some(dir) => Ok(done(dir, false, Some(e.to_string()))),
                None => Err(e),
            }
        }
    };
    let key = hash(Some(&version));
    let dir = base.join(format!("{prefix}{key}"));
    let library = dir.join("libsf.so");
    if library.is_file() {
        return Ok(done(dir, false, None));
    }
    let io = |what: &str, p: &Path, e: std::io::Error| SimError::io(what, p, Some(e));
    std::fs::create_dir_all(&base).map_err(|e| io("cannot create the cache folder", &base, e))?;
    let lock_path = base.join(format!("{safe_name}{suffix}-{key}.lock"));
    let lock = std::fs::File::create(&lock_path).map_err(|e| io("cannot create", &lock_path, e))?;
    lock.lock().map_err(|e| io("cannot lock", &lock_path, e))?;
    // Another process may have finished while we waited for the lock.
    if library.is_file() {
        return Ok(done(dir, false, None));
    }
    // Verilator's `--build` runs make through a shell, and its makefiles
    // refuse folders with spaces: build in a folder whose name we choose
    // (inside the cache when its path is plain, else in the temp folder),
    // with every argument relative to it, then move the result into place.
    let leaf = format!("{safe_name}{suffix}-{key}.tmp{}", std::process::id());
    let tmp = match base.to_str() {
        Some(b) if tools::shell_safe(b) => base.join(&leaf),
        _ => safe_temp_dir().join(format!("spikeforge-verilator-{leaf}")),
    };
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(tmp.join("src")).map_err(|e| io("cannot create", &tmp, e))?;
    let result = verilate_in(&tmp, &files, shim, &top, &flags, &make, progress);
    if let Err(e) = result {
        // Keep the log where the message points; drop the rest.
        let _ = std::fs::remove_dir_all(tmp.join("obj"));
        return Err(e);
    }
    // The object folder is large and never needed again.
    let _ = std::fs::remove_dir_all(tmp.join("obj"));
    let sources_file = tmp.join(SOURCES_FILE);
    std::fs::write(&sources_file, &sources).map_err(|e| io("cannot write", &sources_file, e))?;
    move_dir(&tmp, &dir).map_err(|e| io("cannot move the build into", &dir, e))?;
    drop(lock);
    Ok(done(dir, true, None))
}

/// The file in a build folder naming its sources (the key without
/// Verilator's version).
const SOURCES_FILE: &str = "sources.key";

/// A finished build under `base` named `prefix…` whose sources are
/// `sources` (the newest, when several Verilator versions built them).
fn cached_by_sources(base: &Path, prefix: &str, sources: &str) -> Option<PathBuf> {
    let mut found: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(base)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|d| {
            d.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(prefix) && !n.contains('.'))
                && d.join("libsf.so").is_file()
                && std::fs::read_to_string(d.join(SOURCES_FILE)).is_ok_and(|k| k == sources)
        })
        .map(|d| (d.join("libsf.so").metadata().and_then(|m| m.modified()).unwrap_or(std::time::UNIX_EPOCH), d))
        .collect();
    found.sort();
    found.pop().map(|(_, d)| d)
}

/// Every Verilator argument of a build with `options` but the files.
fn verilator_flags(options: &BuildOptions) -> Vec<String> {
    let mut v: Vec<String> = FLAGS.iter().map(|s| s.to_string()).collect();
    if options.trace {
        v.push("--trace".into());
    }
    v.extend(options.verilator_args.iter().cloned());
    v
}

/// The make variables of a build with `options`.
fn make_flags(options: &BuildOptions) -> Vec<String> {
    MAKEFLAGS.iter().map(|s| s.to_string()).chain(options.make_args.iter().cloned()).collect()
}

/// Runs Verilator, then make for the C++ build, in `tmp` (which holds
/// nothing yet but an empty `src`), leaving `tmp/libsf.so` and
/// `tmp/build.log`. Make runs on its own (not through Verilator's
/// `--build`) so its progress can be followed file by file.
fn verilate_in(
    tmp: &Path,
    files: &[spikeforge_hdl::emit::VerilogFile],
    shim: &str,
    top: &str,
    flags: &[String],
    make: &[String],
    progress: &mut dyn FnMut(BuildStage),
) -> Result<(), SimError> {
    let io = |what: &str, p: &Path, e: std::io::Error| SimError::io(what, p, Some(e));
    let mut list = String::new();
    for f in files {
        let rel = format!("src/{}.v", f.module);
        let p = tmp.join(&rel);
        std::fs::write(&p, &f.text).map_err(|e| io("cannot write", &p, e))?;
        list.push_str(&rel);
        list.push('\n');
    }
    // A file list, never an argument list: a design's module files must
    // never meet the kernel's argument limit.
    let list_path = tmp.join("src/files.f");
    std::fs::write(&list_path, list).map_err(|e| io("cannot write", &list_path, e))?;
    let vlt = tmp.join("src/verilator.vlt");
    std::fs::write(&vlt, spikeforge_hdl::VERILATOR_WAIVERS).map_err(|e| io("cannot write", &vlt, e))?;
    // Sharing one function among the instances of a core or a mesh node
    // (see `shared_instance_config`): a simulation-speed setting only.
    let shared = tmp.join("src/shared.vlt");
    std::fs::write(&shared, spikeforge_hdl::emit::shared_instance_config(files))
        .map_err(|e| io("cannot write", &shared, e))?;
    let shim_path = tmp.join("src/shim.cpp");
    std::fs::write(&shim_path, shim).map_err(|e| io("cannot write", &shim_path, e))?;
    // The pin struct the shim includes, generated from the port table.
    let pins_path = tmp.join("src/sf_pins.h");
    std::fs::write(&pins_path, spikeforge_hw::ports::c_pins_header()).map_err(|e| io("cannot write", &pins_path, e))?;
    let class = format!("V{top}");
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get()).min(4);
    let tool = tools::VERILATOR;
    if let Ok(root) = std::env::var("VERILATOR_ROOT") {
        // Its makefiles paste VERILATOR_ROOT into compiler command lines.
        tool.require_shell_safe("VERILATOR_ROOT", &root, "install Verilator in a plain path or unset VERILATOR_ROOT")?;
    }
    progress(BuildStage::Verilating);
    let mut cmd = tool.command(tmp);
    cmd.args(flags)
        .args(["--Mdir", "obj", "--top-module", top])
        .arg("-CFLAGS")
        .arg(format!("-fPIC -DSF_TOP={class} -DSF_TOP_H='\"{class}.h\"'"))
        .args(["-LDFLAGS", "-shared", "-o", "libsf.so"]);
    cmd.args(["src/verilator.vlt", "src/shared.vlt", "-f", "src/files.f", "src/shim.cpp"]);
    let out = tool.output(&mut cmd)?;
    let mut log = format!(
        "{:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        cmd,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let log_path = tmp.join("build.log");
    let fail = |log: &str| {
        let tail: String =
            log.lines().rev().take(30).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n");
        let (cause, help) = diagnose_build_log(log);
        SimError::BuildFailed { log: log_path.clone(), tail, cause, help }
    };
    if !out.status.success() {
        std::fs::write(&log_path, &log).map_err(|e| io("cannot write", &log_path, e))?;
        return Err(fail(&log));
    }
    let obj = tmp.join("obj");
    let total = compile_units(&obj, &class);
    let mut done = 0;
    progress(BuildStage::Compiling { done, total });
    let mut cmd = tools::MAKE.command(&obj);
    cmd.args(["-f", &format!("{class}.mk"), "-j", &jobs.to_string()]).args(make);
    let out = tools::MAKE.output_lines(&mut cmd, &mut |line| {
        if line.contains(" -o libsf.so") {
            progress(BuildStage::Linking);
        } else if line.contains(" -c ") && line.contains(".cpp") {
            done += 1;
            progress(BuildStage::Compiling { done, total: total.max(done) });
        }
    })?;
    log.push_str(&format!(
        "\n{:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        cmd,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ));
    std::fs::write(&log_path, &log).map_err(|e| io("cannot write", &log_path, e))?;
    let built_lib = obj.join("libsf.so");
    if !out.status.success() || !built_lib.is_file() {
        return Err(fail(&log));
    }
    std::fs::rename(&built_lib, tmp.join("libsf.so")).map_err(|e| io("cannot move", &built_lib, e))?;
    Ok(())
}

/// How many C++ files make will compile: the entries of the class, support,
/// global and user lists in Verilator's makefiles (0 if unreadable).
fn compile_units(obj: &Path, class: &str) -> usize {
    let lists = [
        "VM_CLASSES_FAST",
        "VM_CLASSES_SLOW",
        "VM_SUPPORT_FAST",
        "VM_SUPPORT_SLOW",
        "VM_GLOBAL_FAST",
        "VM_GLOBAL_SLOW",
        "VM_USER_CLASSES",
    ];
    let mut n = 0;
    for file in [format!("{class}.mk"), format!("{class}_classes.mk")] {
        let Ok(text) = std::fs::read_to_string(obj.join(file)) else { continue };
        let mut counting = false;
        for line in text.lines() {
            let t = line.trim();
            if let Some((name, rest)) = t.split_once('=') {
                let name = name.trim_end_matches('+').trim();
                if !name.contains(char::is_whitespace) && name.starts_with("VM_") {
                    counting = lists.contains(&name);
                    if counting {
                        n += rest.trim_end_matches('\\').split_whitespace().count();
                    }
                    counting &= t.ends_with('\\');
                    continue;
                }
            }
            if counting {
                n += t.trim_end_matches('\\').split_whitespace().count();
                counting = t.ends_with('\\');
            }
        }
    }
    n
}

/// A temp folder whose path a shell would read as itself: `$TMPDIR` when it
/// is plain, else `/tmp`.
fn safe_temp_dir() -> PathBuf {
    let t = std::env::temp_dir();
    match t.to_str() {
        Some(s) if tools::shell_safe(s) => t,
        _ => PathBuf::from("/tmp"),
    }
}

/// Renames `from` to `to`, copying across file systems when needed.
fn move_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    if std::fs::rename(from, to).is_ok() {
        return Ok(());
    }
    // Across file systems: copy next to the target, then rename there so
    // the target appears complete or not at all.
    let parent = to.parent().unwrap_or(Path::new("."));
    let staging = parent.join(format!(".incoming-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    copy_tree(from, &staging)?;
    std::fs::rename(&staging, to)?;
    std::fs::remove_dir_all(from)
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let target = to.join(e.file_name());
        if e.file_type()?.is_dir() {
            copy_tree(&e.path(), &target)?;
        } else {
            std::fs::copy(e.path(), target)?;
        }
    }
    Ok(())
}

/// The likely cause of a failed Verilator build and how to fix it, read
/// from its log (most specific first).
pub(crate) fn diagnose_build_log(log: &str) -> (String, String) {
    let has = |s: &str| log.contains(s);
    let missing_cxx = [
        "make: g++: No such file or directory",
        "make: c++: No such file or directory",
        "g++: not found",
        "g++: command not found",
        "c++: not found",
        "c++: command not found",
    ];
    if missing_cxx.iter().any(|s| has(s)) {
        return ("no C++ compiler".into(), "install one with `sudo apt-get install build-essential`".into());
    }
    if has("make: not found") || has("make: command not found") || has("Can't exec \"make\"") {
        return ("`make` is not installed".into(), "install it with `sudo apt-get install make`".into());
    }
    if has("No space left on device") {
        return (
            "the disk is full".into(),
            "free space in the cache folder (SPIKEFORGE_CACHE) and the temp folder, then retry".into(),
        );
    }
    if has("virtual memory exhausted") || has("Cannot allocate memory") || has("out of memory") || has("Killed signal")
    {
        return (
            "the compiler ran out of memory".into(),
            "close other programs or build on a machine with more memory; smaller specs need less".into(),
        );
    }
    if has("Permission denied") {
        return (
            "permission denied".into(),
            "make the cache folder writable or point SPIKEFORGE_CACHE at one that is".into(),
        );
    }
    if let Some(l) =
        log.lines().find(|l| l.starts_with("%Error") && !l.contains("exited with") && !l.contains("Command Failed"))
    {
        return (
            format!("Verilator rejected the Verilog: {}", l.trim()),
            "this is a bug in spikeforge if the Verilog came from `spikeforge hdl`; please report it with the log"
                .into(),
        );
    }
    if let Some(l) = log.lines().find(|l| l.contains(": error:") || l.contains("fatal error:")) {
        return (
            format!("the C++ compiler failed: {}", l.trim()),
            "check the compiler installation (`sudo apt-get install build-essential`); if it works for other programs, report it with the log".into(),
        );
    }
    ("unknown (see the log)".into(), "read the log above; if the cause is not in your setup, report it".into())
}

#[cfg(test)]
mod tests {
    use super::diagnose_build_log;

    #[test]
    fn build_failures_name_their_cause() {
        let cases = [
            ("make: g++: No such file or directory\nmake: *** [Vt.mk:63: shim.o] Error 127\n%Error: make -C obj -f Vt.mk -j 2 exited with 2", "no C++ compiler"),
            ("/bin/sh: 1: g++: not found", "no C++ compiler"),
            ("sh: 1: make: not found\n%Error: make -C obj -f Vt.mk -j 2 exited with 127", "`make` is not installed"),
            ("cc1plus: fatal error: Vt__ALL.cpp: No space left on device", "the disk is full"),
            ("g++: fatal error: Killed signal terminated program cc1plus", "the compiler ran out of memory"),
            ("virtual memory exhausted: Cannot allocate memory", "the compiler ran out of memory"),
            ("%Error: src/t.v:3:1: syntax error, unexpected endmodule\n%Error: Exiting due to 1 error(s)", "Verilator rejected the Verilog: %Error: src/t.v:3:1"),
            ("shim.cpp:12:5: error: 'foo' was not declared in this scope", "the C++ compiler failed: shim.cpp:12:5"),
            ("something else entirely", "unknown (see the log)"),
        ];
        for (log, cause) in cases {
            let (got, help) = diagnose_build_log(log);
            assert!(got.starts_with(cause), "{log:?}: got {got:?}, want {cause:?}");
            assert!(!help.is_empty());
            if cause != "no C++ compiler" {
                assert!(!got.contains("C++ compiler") || cause.contains("C++ compiler"), "{got}");
            }
        }
    }
}
