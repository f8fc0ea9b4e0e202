//! Trimming a waveform to the design's own signals. The generated Verilog
//! carries the generator's internals beside every register (`x__d`,
//! `x__q`: its next and current value; `*_sfn`: the wires of a shared
//! function's instance); they double the signal list of a VCD and say
//! nothing the design's names do not. [`drop_internals`] removes them.

use std::collections::HashSet;
use std::io::{BufRead, BufWriter, Write};
use std::path::Path;

/// Whether a signal name is a generator internal.
pub fn is_internal(name: &str) -> bool {
    name.ends_with("__d") || name.ends_with("__q") || name.ends_with("_sfn")
}

/// What [`drop_internals`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trimmed {
    /// Signals kept.
    pub kept: usize,
    /// Signals removed.
    pub dropped: usize,
}

/// Rewrites the VCD at `path` without the generator's internal signals
/// ([`is_internal`]): their `$var` lines go, and so do the value changes
/// of identifier codes that no kept signal shares (Verilator gives equal
/// signals one code).
pub fn drop_internals(path: &Path) -> std::io::Result<Trimmed> {
    let reader = std::io::BufReader::new(std::fs::File::open(path)?);
    let mut lines = reader.lines();
    let mut header: Vec<String> = Vec::new();
    let (mut kept_ids, mut dropped_ids) = (HashSet::new(), HashSet::new());
    let mut t = Trimmed { kept: 0, dropped: 0 };
    for line in lines.by_ref() {
        let line = line?;
        let end = line.trim_start().starts_with("$enddefinitions");
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.first() == Some(&"$var") && f.len() >= 5 {
            if is_internal(f[4]) {
                dropped_ids.insert(f[3].to_string());
                t.dropped += 1;
                continue;
            }
            kept_ids.insert(f[3].to_string());
            t.kept += 1;
        }
        header.push(line);
        if end {
            break;
        }
    }
    let gone: HashSet<String> = dropped_ids.difference(&kept_ids).cloned().collect();
    let tmp = path.with_extension("vcd.trim");
    let mut out = BufWriter::new(std::fs::File::create(&tmp)?);
    for line in header {
        writeln!(out, "{line}")?;
    }
    for line in lines {
        let line = line?;
        // A value change: `0id` (scalar) or `b0101 id` / `r1.5 id`.
        let id = match line.as_bytes().first() {
            Some(b'0' | b'1' | b'x' | b'X' | b'z' | b'Z') => Some(&line[1..]),
            Some(b'b' | b'B' | b'r' | b'R') => line.split_once(' ').map(|(_, id)| id),
            _ => None,
        };
        if id.is_some_and(|id| gone.contains(id.trim())) {
            continue;
        }
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    drop(out);
    std::fs::rename(&tmp, path)?;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internals_go_and_shared_codes_stay() {
        let dir = std::env::temp_dir().join(format!("sf-vcd-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("w.vcd");
        let vcd = "$timescale 1ps $end\n$scope module top $end\n\
                   $var wire 1 ! clk $end\n$var wire 4 \" count $end\n$var wire 4 # count__d $end\n\
                   $var wire 4 \" count__q $end\n$var wire 8 $ f_sfn $end\n$upscope $end\n$enddefinitions $end\n\
                   #0\n$dumpvars\n0!\nb0000 \"\nb0001 #\nb00000000 $\n$end\n#1\n1!\nb0001 \"\nb0010 #\nb00000001 $\n";
        std::fs::write(&path, vcd).unwrap();
        let t = drop_internals(&path).unwrap();
        assert_eq!(t, Trimmed { kept: 2, dropped: 3 });
        let out = std::fs::read_to_string(&path).unwrap();
        assert!(!out.contains("count__d") && !out.contains("count__q") && !out.contains("f_sfn"), "{out}");
        // `"` is shared by count and count__q: its changes stay; # and $ go.
        assert_eq!(out.matches(" \"\n").count(), 2, "{out}");
        assert!(!out.contains(" #\n") && !out.contains(" $\n"), "{out}");
        assert!(out.contains("#1\n1!\n"), "timestamps and scalars stay: {out}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
