//! The top-level ports of every design: one table, the source of truth.
//!
//! All specs share one port list (fixed maximum widths; a spec uses the low
//! bits), so one simulator shim, one testbench and one UART bridge serve
//! every spec. The RTL (`spikeforge-hdl`'s fabric) declares these ports and
//! a test checks the emitted top module against [`PORTS`]; the Verilator
//! shim's pin struct and copy code ([`c_pins_header`]), the Icarus
//! testbench's declarations and the board top's wiring
//! ([`verilog_declarations`], [`verilog_connections`]) are generated from
//! it; a test checks the hand-written UART bridge's ports against it.

/// Bits of a core id (`cfg_core`, `out_core`, `peek_core`): up to 4096 cores.
pub const CORE_BITS: usize = 12;
/// Bits of a neuron slot or input index (`in_index`, `out_slot`, `peek_slot`).
pub const SLOT_BITS: usize = 16;
/// Bits of a configuration word address (`cfg_addr`).
pub const CFG_ADDR_BITS: usize = 24;
/// Bits of a configuration word (`cfg_data`): the widest memory word.
pub const CFG_DATA_BITS: usize = 144;
/// Bits of a configuration target code (`cfg_mem`).
pub const CFG_MEM_BITS: usize = 4;
/// Bits of the sticky error flags (`errors`).
pub const ERROR_BITS: usize = 4;
/// Bits of `step_count` and `peek_data`.
pub const WORD_BITS: usize = 32;

/// Error flag bits of `errors` (docs/hardware.md).
pub mod error_flag {
    /// A packet to a core that does not exist (dropped).
    pub const NO_SUCH_CORE: u32 = 1 << 0;
    /// An input index out of range (dropped).
    pub const INPUT_RANGE: u32 = 1 << 1;
    /// An axon key out of range at a core (dropped).
    pub const AXON_RANGE: u32 = 1 << 2;
    /// A potential read, configuration write or clear while a step runs.
    pub const DURING_STEP: u32 = 1 << 3;
}

/// What each error flag bit means, bit 0 first.
pub const ERROR_FLAG_NAMES: [&str; ERROR_BITS] = [
    "packet to a core that does not exist",
    "input index out of range",
    "axon key out of range at a core",
    "access while a step runs",
];

/// The error flags set in `flags`, named.
pub fn error_flag_text(flags: u32) -> String {
    let v: Vec<&str> = (0..ERROR_BITS).filter(|b| flags & (1 << b) != 0).map(|b| ERROR_FLAG_NAMES[b]).collect();
    v.join(", ")
}

/// Port direction, seen from the design.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Dir {
    /// Driven by the host.
    In,
    /// Driven by the design.
    Out,
}

/// One top-level port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Port {
    /// Name in the Verilog.
    pub name: &'static str,
    /// Direction.
    pub dir: Dir,
    /// Bits.
    pub width: usize,
    /// Meaning.
    pub doc: &'static str,
}

const fn p(name: &'static str, dir: Dir, width: usize, doc: &'static str) -> Port {
    Port { name, dir, width, doc }
}

/// The clock port (rising edge; the only clock).
pub const CLOCK: &str = "clock";

/// The extra input of the simulation wrapper ([`sampled_wrapper`]): its
/// rising edge latches every design input.
pub const SAMPLE: &str = "sample";

/// Every top-level port except the clock: inputs first, then outputs, in
/// the order of the simulator's pin struct.
pub const PORTS: &[Port] = &[
    p("step", Dir::In, 1, "pulse: run one step"),
    p("in_valid", Dir::In, 1, "spike-in valid"),
    p("in_index", Dir::In, SLOT_BITS, "spike-in input index (host numbering)"),
    p("out_ready", Dir::In, 1, "spike-out ready"),
    p("monitor", Dir::In, 1, "1: report every spike; 0: only output neurons'"),
    p("peek_req", Dir::In, 1, "potential read request (between steps)"),
    p("peek_core", Dir::In, CORE_BITS, "potential read: core"),
    p("peek_slot", Dir::In, SLOT_BITS, "potential read: slot"),
    p("err_clear", Dir::In, 1, "clear the error flags"),
    p("clear", Dir::In, 1, "pulse between steps: network reset"),
    p("cfg_we", Dir::In, 1, "write one configuration word"),
    p("cfg_core", Dir::In, CORE_BITS, "configuration: core"),
    p("cfg_mem", Dir::In, CFG_MEM_BITS, "configuration: target code"),
    p("cfg_addr", Dir::In, CFG_ADDR_BITS, "configuration: word address"),
    p("cfg_data", Dir::In, CFG_DATA_BITS, "configuration: word, zero-extended"),
    p("done", Dir::Out, 1, "pulse: the step is complete"),
    p("busy", Dir::Out, 1, "a step or clear is running"),
    p("step_count", Dir::Out, WORD_BITS, "completed steps"),
    p("in_ready", Dir::Out, 1, "spike-in ready"),
    p("out_valid", Dir::Out, 1, "spike-out valid"),
    p("out_core", Dir::Out, CORE_BITS, "spike-out core"),
    p("out_slot", Dir::Out, SLOT_BITS, "spike-out slot"),
    p("peek_valid", Dir::Out, 1, "potential read: data valid"),
    p("peek_data", Dir::Out, WORD_BITS, "potential read: value, two's complement"),
    p("errors", Dir::Out, ERROR_BITS, "sticky error flags"),
];

/// The port named `name`.
pub fn port(name: &str) -> Option<&'static Port> {
    PORTS.iter().find(|p| p.name == name)
}

/// 32-bit words a port takes in the simulator's pin struct.
pub fn pin_words(width: usize) -> usize {
    width.div_ceil(32)
}

fn range(width: usize) -> String {
    if width == 1 {
        String::new()
    } else {
        format!("[{}:0] ", width - 1)
    }
}

/// The C header of the Verilator shim: `struct SfPins` (every port as
/// `uint32_t` words, least significant first) and the macros that copy the
/// inputs into the model and sample its outputs.
///
/// # Panics
/// If a port is 33 to 64 bits wide (Verilator would use a `uint64_t`; no
/// port is).
pub fn c_pins_header() -> String {
    let mut s = String::from(
        "// Generated by spikeforge from spikeforge_hw::ports::PORTS. Do not edit.\n\
         // Port values exchanged once per clock cycle, all uint32_t words, least\n\
         // significant first; outputs are sampled just before the rising edge.\n\
         #pragma once\n#include <cstdint>\n\nstruct SfPins {\n",
    );
    for port in PORTS {
        let words = pin_words(port.width);
        assert!(port.width <= 32 || port.width > 64, "port {} of 33..64 bits", port.name);
        if words == 1 {
            s.push_str(&format!("    uint32_t {};\n", port.name));
        } else {
            s.push_str(&format!("    uint32_t {}[{words}];\n", port.name));
        }
    }
    s.push_str("};\n\n#define SF_APPLY_INPUTS(t, p) do { \\\n");
    for port in PORTS.iter().filter(|p| p.dir == Dir::In) {
        let words = pin_words(port.width);
        if words == 1 {
            s.push_str(&format!("    (t)->{0} = (p)->{0}; \\\n", port.name));
        } else {
            s.push_str(&format!("    for (int i = 0; i < {words}; i++) (t)->{0}[i] = (p)->{0}[i]; \\\n", port.name));
        }
    }
    s.push_str(&format!("}} while (0)\n\n// The simulation wrapper's input latch (ports::sampled_wrapper).\n#define SF_SAMPLE_PIN {SAMPLE}\n"));
    s.push_str("\n#define SF_SAMPLE_OUTPUTS(t, p) do { \\\n");
    for port in PORTS.iter().filter(|p| p.dir == Dir::Out) {
        let words = pin_words(port.width);
        if words == 1 {
            s.push_str(&format!("    (p)->{0} = (t)->{0}; \\\n", port.name));
        } else {
            s.push_str(&format!("    for (int i = 0; i < {words}; i++) (p)->{0}[i] = (t)->{0}[i]; \\\n", port.name));
        }
    }
    s.push_str("} while (0)\n");
    s
}

/// A simulation-only top module `name` around the design top `design`:
/// the same ports plus [`SAMPLE`], every input held in a register loaded on
/// the rising edge of `sample`, the outputs passed through.
///
/// Why: Verilator 5.006 evaluates all logic that reads a top-level input
/// (its "ico" region) on every `eval()`, and a cycle takes two (clock low,
/// clock high), so the input-dependent logic ran twice per cycle with the
/// same inputs. With the inputs in registers the simulator shim can raise
/// `sample` (latch this cycle's inputs) together with the clock's rising
/// edge of the previous cycle, in one evaluation: the design's registers
/// take the latch's old value (nonblocking), then everything settles once
/// on the new state and the new inputs, and the outputs are sampled. The
/// second evaluation of the cycle lowers both and triggers nothing. The
/// design sees exactly what it saw without the wrapper, one cycle after
/// another. Not part of the FPGA sources.
pub fn sampled_wrapper(design: &str, name: &str) -> String {
    let mut s = format!(
        "// Generated by spikeforge from spikeforge_hw::ports::PORTS. Do not edit.\n\
         // Simulation only: the inputs of {design}, latched on the rising edge of\n\
         // `{SAMPLE}` (see spikeforge_hw::ports::sampled_wrapper).\n\
         module {name} (\n    input wire {CLOCK},\n    input wire {SAMPLE}"
    );
    for port in PORTS {
        let dir = if port.dir == Dir::In { "input" } else { "output" };
        s.push_str(&format!(",\n    {dir} wire {}{}", range(port.width), port.name));
    }
    s.push_str("\n);\n");
    for port in PORTS.iter().filter(|p| p.dir == Dir::In) {
        s.push_str(&format!("    reg {}{}_q = {}'d0;\n", range(port.width), port.name, port.width));
    }
    s.push_str(&format!("    always @(posedge {SAMPLE}) begin\n"));
    for port in PORTS.iter().filter(|p| p.dir == Dir::In) {
        s.push_str(&format!("        {0}_q <= {0};\n", port.name));
    }
    s.push_str("    end\n");
    s.push_str(&format!("    {design} dut (\n        .{CLOCK}({CLOCK})"));
    for port in PORTS {
        let wire = if port.dir == Dir::In { format!("{}_q", port.name) } else { port.name.to_string() };
        s.push_str(&format!(",\n        .{}({wire})", port.name));
    }
    s.push_str("\n    );\nendmodule\n");
    s
}

/// Verilog declarations of a variable per port, as a host sees them: inputs
/// of the design as `reg`s initialized to zero (a testbench) when `regs`,
/// else every port as a `wire` (a wrapper connecting the design to a
/// bridge). Outputs are always wires. One declaration per line, indented.
pub fn verilog_declarations(regs: bool, indent: &str) -> String {
    let mut s = String::new();
    for port in PORTS {
        if regs && port.dir == Dir::In {
            s.push_str(&format!("{indent}reg {}{} = {}'d0;\n", range(port.width), port.name, port.width));
        } else {
            s.push_str(&format!("{indent}wire {}{};\n", range(port.width), port.name));
        }
    }
    s
}

/// `.name(name)` for every port (not the clock), comma-separated, wrapped
/// at about 100 columns with `indent`.
pub fn verilog_connections(indent: &str) -> String {
    let mut lines = vec![String::new()];
    for (i, port) in PORTS.iter().enumerate() {
        let item = format!(".{0}({0}){1}", port.name, if i + 1 < PORTS.len() { "," } else { "" });
        let line = lines.last_mut().expect("a line");
        if !line.is_empty() && indent.len() + line.len() + item.len() > 100 {
            lines.push(String::new());
        }
        let line = lines.last_mut().expect("a line");
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&item);
    }
    lines.iter().map(|l| format!("{indent}{l}\n")).collect()
}

/// The ports of a Verilog module, as (name, direction, width): `input` /
/// `output` declarations with an optional `wire`/`reg` and `[H:0]` range,
/// in an ANSI header or, for a header of names only, in the declarations
/// before the first process, function or assignment. Used by tests that
/// check RTL written elsewhere (the emitted top, the UART bridge) against
/// [`PORTS`].
pub fn parse_verilog_ports(text: &str, module: &str) -> Vec<(String, Dir, usize)> {
    let Some(start) = text.find(&format!("module {module}")) else { return Vec::new() };
    let body = &text[start..];
    let header_end = body.find(");").map_or(body.len(), |i| i + 2);
    let ansi = body[..header_end].contains("input ") || body[..header_end].contains("output ");
    let mut decls = String::new();
    for line in body[if ansi { 0 } else { header_end }..].lines() {
        let code = line.split("//").next().unwrap_or("");
        let t = code.trim_start();
        if ["function", "task", "always", "initial", "assign", "endmodule"].iter().any(|k| t.starts_with(k)) {
            break;
        }
        decls.push_str(code);
        decls.push('\n');
        if ansi && code.contains(");") {
            break;
        }
    }
    let mut out = Vec::new();
    for raw in decls.split([',', ';', '\n', '(', ')']) {
        let t = raw.trim();
        let (dir, rest) = if let Some(r) = t.strip_prefix("input ") {
            (Dir::In, r)
        } else if let Some(r) = t.strip_prefix("output ") {
            (Dir::Out, r)
        } else {
            continue;
        };
        let rest = rest.trim().trim_start_matches("wire ").trim_start_matches("reg ").trim();
        let (width, name) = match rest.strip_prefix('[') {
            Some(r) => {
                let (hi, after) = r.split_once(':').unwrap_or(("0", r));
                let name = after.split_once(']').map_or("", |(_, n)| n).trim();
                (hi.trim().parse::<usize>().map_or(0, |h| h + 1), name)
            }
            None => (1, rest),
        };
        out.push((name.to_string(), dir, width));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique() {
        for (i, a) in PORTS.iter().enumerate() {
            assert!(PORTS[i + 1..].iter().all(|b| b.name != a.name), "{} twice", a.name);
            assert_ne!(a.name, CLOCK);
        }
        // Inputs first: the pin struct's layout.
        let first_out = PORTS.iter().position(|p| p.dir == Dir::Out).unwrap();
        assert!(PORTS[first_out..].iter().all(|p| p.dir == Dir::Out));
    }

    #[test]
    fn generated_text_is_deterministic_and_complete() {
        let h = c_pins_header();
        assert_eq!(h, c_pins_header());
        assert!(h.contains("uint32_t cfg_data[5];"));
        assert!(h.contains("(t)->step = (p)->step;"));
        assert!(h.contains("(p)->errors = (t)->errors;"));
        let c = verilog_connections("  ");
        for port in PORTS {
            assert!(c.contains(&format!(".{0}({0})", port.name)));
        }
        let d = verilog_declarations(true, "");
        assert!(d.contains("reg [143:0] cfg_data = 144'd0;"));
        assert!(d.contains("wire [31:0] step_count;"));
        let parsed = parse_verilog_ports(
            "module m (\n    input  wire clock,\n    input  wire [143:0] cfg_data,\n    output wire done\n);\nendmodule\n",
            "m",
        );
        assert_eq!(
            parsed,
            [("clock".to_string(), Dir::In, 1), ("cfg_data".into(), Dir::In, 144), ("done".into(), Dir::Out, 1)]
        );
    }
}
