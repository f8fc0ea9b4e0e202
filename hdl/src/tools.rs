//! Running the external tools on emitted Verilog: Verilator lint, Icarus
//! compile, Yosys `synth_ice40` with its resource figures.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A tool failed or is missing.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// Not installed.
    #[error("`{tool}` is not installed; install it with `apt-get install {package}`")]
    Missing {
        /// Command.
        tool: &'static str,
        /// Debian package.
        package: &'static str,
    },
    /// Ran and reported problems.
    #[error("`{tool}` rejected the design:\n{output}")]
    Failed {
        /// Command.
        tool: &'static str,
        /// What it printed.
        output: String,
    },
    /// Could not be started.
    #[error("cannot run `{tool}`: {error}")]
    Io {
        /// Command.
        tool: &'static str,
        /// OS error.
        error: String,
    },
}

fn run(tool: &'static str, package: &'static str, args: &[&str], dir: &Path) -> Result<String, ToolError> {
    let out = match Command::new(tool).args(args).current_dir(dir).output() {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(ToolError::Missing { tool, package }),
        Err(e) => return Err(ToolError::Io { tool, error: e.to_string() }),
    };
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    if out.status.success() {
        Ok(text)
    } else {
        Err(ToolError::Failed { tool, output: text })
    }
}

/// `verilator --lint-only -Wall` over `files` (in `dir`) with `top`.
pub fn verilator_lint(dir: &Path, files: &[PathBuf], top: &str) -> Result<(), ToolError> {
    let mut args = vec!["--lint-only", "-Wall", "--top-module", top];
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    args.extend(names.iter().map(String::as_str));
    run("verilator", "verilator", &args, dir).map(|_| ())
}

/// `iverilog -g2005` compile of `files`.
pub fn iverilog(dir: &Path, files: &[PathBuf], top: &str) -> Result<(), ToolError> {
    let out = dir.join(format!("{top}.vvp")).display().to_string();
    let mut args = vec!["-g2005", "-s", top, "-o", &out];
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    args.extend(names.iter().map(String::as_str));
    run("iverilog", "iverilog", &args, dir).map(|_| ())
}

/// Resource figures of an iCE40 synthesis.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ice40Resources {
    /// SB_LUT4 cells.
    pub luts: u64,
    /// Flip-flops (every SB_DFF* variant).
    pub flip_flops: u64,
    /// SB_RAM40_4K block RAMs.
    pub brams: u64,
    /// SB_CARRY cells.
    pub carries: u64,
}

/// `yosys synth_ice40` of `files` with `top`; parses the final statistics.
pub fn yosys_ice40(dir: &Path, files: &[PathBuf], top: &str) -> Result<Ice40Resources, ToolError> {
    let reads: Vec<String> = files.iter().map(|f| format!("read_verilog {};", f.display())).collect();
    let script = format!("{} synth_ice40 -top {top}; stat", reads.join(" "));
    let out = run("yosys", "yosys", &["-p", &script], dir)?;
    // The last "Printing statistics" block is the whole design.
    if let Some(line) = out.lines().find(|l| l.contains("logic loop")) {
        return Err(ToolError::Failed { tool: "yosys", output: format!("combinational loop: {line}") });
    }
    let stats = out.rsplit("Printing statistics").next().unwrap_or("");
    let mut r = Ice40Resources::default();
    for line in stats.lines() {
        let mut it = line.split_whitespace();
        let (Some(name), Some(count)) = (it.next(), it.next()) else { continue };
        let Ok(n) = count.parse::<u64>() else { continue };
        match name {
            "SB_LUT4" => r.luts += n,
            "SB_RAM40_4K" => r.brams += n,
            "SB_CARRY" => r.carries += n,
            x if x.starts_with("SB_DFF") => r.flip_flops += n,
            _ => {}
        }
    }
    Ok(r)
}
