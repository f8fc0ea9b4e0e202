//! The one place where spikeforge starts external programs (Verilator,
//! Icarus Verilog, Yosys, nextpnr, icepack, make), and the Verilator lint,
//! Icarus compile and Yosys `synth_ice40` checks of emitted Verilog.
//!
//! Every program runs from an argument vector, never through a shell, in a
//! working folder, with file arguments *relative to that folder*. Some tools
//! start a shell themselves (Verilator's `--build` runs make, make runs each
//! recipe line through `/bin/sh`, the iverilog driver runs its stages with
//! `system()`): with relative names only, the name of the working folder —
//! which comes from the user (`--out`, `$SPIKEFORGE_CACHE`, `$HOME`) and may
//! hold spaces, quotes, `;` or `$(...)` — never appears in any command line a
//! shell parses. Environment values that such tools paste into shell
//! commands (`TMPDIR`) are replaced by a plain one when they are not
//! shell-safe. A missing program is reported the same way for every tool:
//! [`ToolError::Missing`], with the Debian package that provides it.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// An external program spikeforge runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tool {
    /// Command name on the PATH.
    pub program: &'static str,
    /// Environment variable that overrides the command, if any.
    pub env_override: Option<&'static str>,
    /// Debian package that provides it.
    pub package: &'static str,
    /// What spikeforge needs it for (completes "needed for ...").
    pub purpose: &'static str,
    /// Argument that makes it print its version and exit 0.
    pub version_arg: &'static str,
}

/// Verilator (lint, and the C++ model of `spikeforge sim`).
pub const VERILATOR: Tool = Tool {
    program: "verilator",
    env_override: Some("VERILATOR"),
    package: "verilator",
    purpose: "linting the Verilog and building the co-simulation model",
    version_arg: "--version",
};
/// The Icarus Verilog compiler.
pub const IVERILOG: Tool = Tool {
    program: "iverilog",
    env_override: None,
    package: "iverilog",
    purpose: "the Icarus Verilog cross-check",
    version_arg: "-V",
};
/// The Icarus Verilog runtime.
pub const VVP: Tool = Tool {
    program: "vvp",
    env_override: None,
    package: "iverilog",
    purpose: "the Icarus Verilog cross-check",
    version_arg: "-V",
};
/// Yosys.
pub const YOSYS: Tool =
    Tool { program: "yosys", env_override: None, package: "yosys", purpose: "synthesis", version_arg: "-V" };
/// nextpnr for iCE40.
pub const NEXTPNR_ICE40: Tool = Tool {
    program: "nextpnr-ice40",
    env_override: None,
    package: "nextpnr-ice40",
    purpose: "iCE40 place and route",
    version_arg: "--version",
};
/// icepack from Project IceStorm.
pub const ICEPACK: Tool = Tool {
    program: "icepack",
    env_override: None,
    package: "fpga-icestorm",
    purpose: "packing the iCE40 bitstream",
    version_arg: "-h",
};
/// GNU make (board project Makefiles; Verilator's C++ build).
pub const MAKE: Tool = Tool {
    program: "make",
    env_override: None,
    package: "make",
    purpose: "running the build",
    version_arg: "--version",
};

/// A tool failed or is missing.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ToolError {
    /// Not installed.
    #[error("`{tool}` is not installed (needed for {purpose})")]
    #[diagnostic(code(spikeforge::tool_missing), help("install it with `sudo apt-get install {package}`{hint}"))]
    Missing {
        /// Command.
        tool: String,
        /// What it is needed for.
        purpose: &'static str,
        /// Debian package.
        package: &'static str,
        /// Extra advice (an override variable), starting with a newline or empty.
        hint: String,
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
    /// An argument or environment value would reach a shell the tool starts.
    #[error("refusing to run `{tool}`: {what} `{value}` contains characters a shell would interpret")]
    #[diagnostic(code(spikeforge::unsafe_path), help("{help}"))]
    Unsafe {
        /// Command.
        tool: &'static str,
        /// What the value is.
        what: String,
        /// The value.
        value: String,
        /// How to avoid it.
        help: String,
    },
}

/// True if `s` can be pasted into a POSIX shell command unquoted and mean
/// itself: letters, digits and `-_./+=,:@%` only (no spaces, quotes, `$`,
/// backticks, `;`, `&`, `|`, globs, redirections or non-ASCII).
pub fn shell_safe(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./+=,:@%".contains(&b))
}

impl Tool {
    /// The command to run: the override variable if set, else the name.
    pub fn command_name(&self) -> OsString {
        self.env_override.and_then(std::env::var_os).unwrap_or_else(|| self.program.into())
    }

    /// The "not installed" error of this tool.
    pub fn missing(&self) -> ToolError {
        let hint = match self.env_override {
            Some(v) => format!(", or set {v} to its path"),
            None => String::new(),
        };
        ToolError::Missing {
            tool: self.command_name().to_string_lossy().into_owned(),
            purpose: self.purpose,
            package: self.package,
            hint,
        }
    }

    /// A command for this tool running in `dir`, with a shell-safe
    /// `TMPDIR`. Pass file arguments relative to `dir` (see [`relative`]).
    pub fn command(&self, dir: &Path) -> Command {
        let mut c = Command::new(self.command_name());
        c.current_dir(dir);
        if let Some(t) = std::env::var_os("TMPDIR") {
            if !t.to_str().is_some_and(shell_safe) {
                c.env("TMPDIR", "/tmp");
            }
        }
        c
    }

    /// Runs `cmd` (made by [`Tool::command`]) to completion; a program that
    /// cannot be found is [`ToolError::Missing`].
    pub fn output(&self, cmd: &mut Command) -> Result<Output, ToolError> {
        cmd.output().map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => self.missing(),
            _ => ToolError::Io { tool: self.program, error: e.to_string() },
        })
    }

    /// [`Tool::output`], calling `on_line` with each line of standard
    /// output as it is printed (progress of long builds); the returned
    /// output holds all of it.
    pub fn output_lines(&self, cmd: &mut Command, on_line: &mut dyn FnMut(&str)) -> Result<Output, ToolError> {
        use std::io::{BufRead, Read};
        use std::process::Stdio;
        let io = |e: std::io::Error| match e.kind() {
            std::io::ErrorKind::NotFound => self.missing(),
            _ => ToolError::Io { tool: self.program, error: e.to_string() },
        };
        let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().map_err(io)?;
        let mut err_pipe = child.stderr.take().expect("stderr is piped");
        // stderr drains on its own thread so neither pipe can fill and stall the tool.
        let err_thread = std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = err_pipe.read_to_end(&mut v);
            v
        });
        let mut stdout = Vec::new();
        let mut reader = std::io::BufReader::new(child.stdout.take().expect("stdout is piped"));
        let mut line = Vec::new();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) => break,
                Ok(_) => {
                    on_line(String::from_utf8_lossy(&line).trim_end());
                    stdout.extend_from_slice(&line);
                }
                Err(e) => return Err(io(e)),
            }
        }
        let status = child.wait().map_err(io)?;
        let stderr = err_thread.join().unwrap_or_default();
        Ok(Output { status, stdout, stderr })
    }

    /// Checks that the tool starts (its version query succeeds).
    pub fn check(&self) -> Result<String, ToolError> {
        let mut c = Command::new(self.command_name());
        c.arg(self.version_arg);
        let o = self.output(&mut c)?;
        let text = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
        // icepack -h exits 1 after printing its usage; it is there.
        if o.status.success() || !text.trim().is_empty() {
            Ok(text.trim().to_string())
        } else {
            Err(self.missing())
        }
    }

    /// Refuses `value` if it is not [`shell_safe`] (for values this tool
    /// pastes into a shell command).
    pub fn require_shell_safe(&self, what: &str, value: &str, help: &str) -> Result<(), ToolError> {
        if shell_safe(value) {
            Ok(())
        } else {
            Err(ToolError::Unsafe { tool: self.program, what: what.into(), value: value.into(), help: help.into() })
        }
    }
}

/// `path` relative to `dir` when it lies inside it (else unchanged): file
/// arguments of tools that run in `dir`.
pub fn relative(dir: &Path, path: &Path) -> PathBuf {
    path.strip_prefix(dir).map(Path::to_path_buf).unwrap_or_else(|_| path.to_path_buf())
}

fn run(tool: Tool, args: &[&str], dir: &Path) -> Result<String, ToolError> {
    let mut cmd = tool.command(dir);
    cmd.args(args);
    let out = tool.output(&mut cmd)?;
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    if out.status.success() {
        Ok(text)
    } else {
        Err(ToolError::Failed { tool: tool.program, output: text })
    }
}

fn names(dir: &Path, files: &[PathBuf]) -> Vec<String> {
    files.iter().map(|f| relative(dir, f).display().to_string()).collect()
}

/// `verilator --lint-only -Wall` over `files` (in `dir`) with `top`.
pub fn verilator_lint(dir: &Path, files: &[PathBuf], top: &str) -> Result<(), ToolError> {
    let mut args = vec!["--lint-only", "-Wall", "--top-module", top];
    let names = names(dir, files);
    args.extend(names.iter().map(String::as_str));
    run(VERILATOR, &args, dir).map(|_| ())
}

/// `iverilog -g2005` compile of `files`.
pub fn iverilog(dir: &Path, files: &[PathBuf], top: &str) -> Result<(), ToolError> {
    let out = format!("{top}.vvp");
    let mut args = vec!["-g2005", "-s", top, "-o", &out];
    let names = names(dir, files);
    args.extend(names.iter().map(String::as_str));
    run(IVERILOG, &args, dir).map(|_| ())
}

/// Bits of one iCE40 SB_RAM40_4K block RAM.
pub const ICE40_BRAM_BITS: u64 = 4096;

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
    // File names go to yosys as arguments (read by file name, no script
    // parsing), so spaces and quotes in them are harmless.
    let script = format!("synth_ice40 -top {top}; stat");
    let names = names(dir, files);
    let mut args = vec!["-p", script.as_str()];
    args.extend(names.iter().map(String::as_str));
    let out = run(YOSYS, &args, dir)?;
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
