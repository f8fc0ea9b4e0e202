//! The files of a board project: Verilog (the design preloaded with the
//! mapping's memory images, the UART bridge, the board top), the memory
//! images, pin constraints, build scripts and a FuseSoC core file. A pure
//! function of (board, network, mapping): same inputs, same bytes.

use crate::boards::{Board, Family};
pub use spikeforge_hdl::board::TOP;
use spikeforge_hdl::board::{board_top, DesignClock, BRIDGE, BRIDGE_MODULE};
use spikeforge_hw::memory::Memory;
use spikeforge_mapper::Mapping;
use spikeforge_net::Network;
use std::collections::BTreeMap;

/// The project files, name -> contents, sorted by name.
pub fn files(board: &Board, net: &Network, m: &Mapping) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let counts: Vec<u32> = m.images.cores.iter().map(|c| c.neurons.len() as u32).collect();
    let design = spikeforge_hdl::design(&m.spec, Some(&counts));
    let design_top = design.iter().find(|f| f.module.ends_with("_top")).map(|f| f.module.clone()).expect("a top");
    let mut verilog: Vec<String> = Vec::new();
    for f in &design {
        out.insert(format!("{}.v", f.module), f.text.clone());
        verilog.push(format!("{}.v", f.module));
    }
    out.insert(format!("{BRIDGE_MODULE}.v"), BRIDGE.to_string());
    out.insert(
        format!("{TOP}.v"),
        board_top(
            &design_top,
            board.clocks_per_bit(),
            board.led_pins.len(),
            board.leds_active_low,
            design_clock(board),
            board.reset_pin.is_some(),
        ),
    );
    verilog.push(format!("{BRIDGE_MODULE}.v"));
    verilog.push(format!("{TOP}.v"));
    let mut hex: Vec<String> = Vec::new();
    // The .hex images and mapping.json (which neuron is where).
    // A single-port synapse memory is never preloaded (the host loads it).
    let skipped: Vec<String> = if m.spec.single_port_synapses {
        (0..m.spec.cores()).map(|c| Memory::Synapses.file_name(c)).collect()
    } else {
        Vec::new()
    };
    for (name, text) in m.files(net) {
        if skipped.contains(&name) {
            continue;
        }
        if name.ends_with(".hex") {
            hex.push(name.clone());
        }
        out.insert(name, text);
    }
    out.insert("verilator.vlt".into(), spikeforge_hdl::VERILATOR_WAIVERS.to_string());
    out.insert("files.f".into(), verilog.iter().map(|v| format!("{v}\n")).collect());
    let (cname, constraints) = constraints(board);
    out.insert(cname.clone(), constraints);
    match board.family {
        Family::Ice40 => {
            out.insert("Makefile".into(), makefile_ice40(board, &cname));
            out.insert(CLOCKS_PY.into(), clocks_py(board));
        }
        Family::Ecp5 => {
            out.insert("Makefile".into(), makefile_ecp5(board, &cname));
        }
        Family::Xilinx7 => {
            out.insert("build.tcl".into(), vivado_tcl(board, &cname));
            out.insert("Makefile".into(), makefile_xilinx(board));
        }
    }
    out.insert(format!("{}.core", core_name(board)), fusesoc_core(board, &verilog, &hex, &cname, net));
    out.insert("README.md".into(), readme(board, net, m));
    out
}

/// The board top's clocking: the PLL where the board has one, else the divider.
fn design_clock(board: &Board) -> DesignClock {
    match board.pll() {
        Some(p) => DesignClock::Ice40Pll { divr: p.divr, divf: p.divf, divq: p.divq, filter_range: p.filter_range },
        None => DesignClock::Divided(board.clock_div),
    }
}

/// The FuseSoC core's name (VLNV `spikeforge:snn:NAME:0.1.0`) and file stem.
fn core_name(board: &Board) -> String {
    format!("spikeforge_{}", core_target(board))
}

/// The core's build target: the board's name, `-` made `_` (a target name
/// is an identifier to FuseSoC).
fn core_target(board: &Board) -> String {
    board.name.replace('-', "_")
}

/// Pin constraints: (file name, contents).
pub fn constraints(board: &Board) -> (String, String) {
    let mut s = format!("# spikeforge board constraints: {}\n", board.description);
    let leds = board.led_pins.len();
    match board.family {
        Family::Ice40 => {
            s.push_str(&format!(
                "set_io clk {}\nset_io uart_rx {}\nset_io uart_tx {}\n",
                board.clock_pin, board.rx_pin, board.tx_pin
            ));
            if let Some(p) = board.reset_pin {
                s.push_str(&format!("set_io btn_reset_n {p}\n"));
            }
            for (i, p) in board.led_pins.iter().enumerate() {
                if leds == 1 {
                    s.push_str(&format!("set_io led {p}\n"));
                } else {
                    s.push_str(&format!("set_io led[{i}] {p}\n"));
                }
            }
            (format!("{}.pcf", board.name), s)
        }
        Family::Xilinx7 => {
            let period = 1e9 / board.clock_hz as f64;
            s.push_str(&format!(
                "set_property -dict {{ PACKAGE_PIN {} IOSTANDARD LVCMOS33 }} [get_ports clk]\n\
                 create_clock -add -name sys_clk -period {period:.2} -waveform {{0 {:.2}}} [get_ports clk]\n\
                 set_property -dict {{ PACKAGE_PIN {} IOSTANDARD LVCMOS33 }} [get_ports uart_rx]\n\
                 set_property -dict {{ PACKAGE_PIN {} IOSTANDARD LVCMOS33 }} [get_ports uart_tx]\n",
                board.clock_pin,
                period / 2.0,
                board.rx_pin,
                board.tx_pin
            ));
            if let Some(p) = board.reset_pin {
                s.push_str(&format!(
                    "set_property -dict {{ PACKAGE_PIN {p} IOSTANDARD LVCMOS33 }} [get_ports btn_reset_n]\n"
                ));
            }
            for (i, p) in board.led_pins.iter().enumerate() {
                s.push_str(&format!(
                    "set_property -dict {{ PACKAGE_PIN {p} IOSTANDARD LVCMOS33 }} [get_ports {{led[{i}]}}]\n"
                ));
            }
            (format!("{}.xdc", board.name), s)
        }
        Family::Ecp5 => {
            s.push_str(&format!(
                "LOCATE COMP \"clk\" SITE \"{}\";\nIOBUF PORT \"clk\" IO_TYPE=LVCMOS33;\nFREQUENCY PORT \"clk\" {} MHZ;\n\
                 LOCATE COMP \"uart_rx\" SITE \"{}\";\nIOBUF PORT \"uart_rx\" IO_TYPE=LVCMOS33;\n\
                 LOCATE COMP \"uart_tx\" SITE \"{}\";\nIOBUF PORT \"uart_tx\" IO_TYPE=LVCMOS33;\n",
                board.clock_pin,
                board.clock_hz / 1_000_000,
                board.rx_pin,
                board.tx_pin
            ));
            if let Some(p) = board.reset_pin {
                s.push_str(&format!(
                    "LOCATE COMP \"btn_reset_n\" SITE \"{p}\";\nIOBUF PORT \"btn_reset_n\" IO_TYPE=LVCMOS33 PULLMODE=UP;\n"
                ));
            }
            for (i, p) in board.led_pins.iter().enumerate() {
                s.push_str(&format!(
                    "LOCATE COMP \"led[{i}]\" SITE \"{p}\";\nIOBUF PORT \"led[{i}]\" IO_TYPE=LVCMOS33;\n"
                ));
            }
            (format!("{}.lpf", board.name), s)
        }
    }
}

/// The iCE40 projects' nextpnr script with the per-clock constraints
/// (`--pre-pack`): `--freq` would hold every clock to one frequency, and the
/// board clock and the PLL's design clock differ.
pub const CLOCKS_PY: &str = "clocks.py";

/// nextpnr's options besides the pin constraints, the netlist and the
/// outputs: device, package and how the clocks are constrained. The
/// Makefile and the FuseSoC core both pass exactly these, so the two builds
/// are held to the same clocks. iCE40: per clock, [`CLOCKS_PY`]; ECP5: the
/// LPF's `FREQUENCY PORT` for the board clock and `--freq` (the board
/// clock) for the others. Empty for Xilinx (Vivado, the XDC's clocks).
pub fn nextpnr_options(board: &Board) -> Vec<String> {
    let device = vec![format!("--{}", board.device), "--package".into(), board.package.into()];
    match board.family {
        Family::Ice40 => [device, vec!["--pre-pack".into(), CLOCKS_PY.into()]].concat(),
        Family::Ecp5 => [device, vec!["--freq".into(), mhz(board.clock_hz)]].concat(),
        Family::Xilinx7 => Vec::new(),
    }
}

/// A frequency in MHz as nextpnr takes it: `12`, `27`, `12.5`.
fn mhz(hz: u32) -> String {
    (hz as f64 / 1e6).to_string()
}

/// nextpnr's per-clock constraints: the board clock and the design clock.
fn clocks_py(board: &Board) -> String {
    let mut s = format!(
        "# spikeforge: clock constraints for nextpnr (--pre-pack).\nctx.addClock(\"clk\", {})\n",
        mhz(board.clock_hz)
    );
    if board.clock_div > 1 || board.pll_hz.is_some() {
        s.push_str(&format!("ctx.addClock(\"clk_design\", {})\n", mhz(board.design_clock_hz())));
    }
    s
}

fn makefile_ice40(board: &Board, pcf: &str) -> String {
    format!(
        "# spikeforge project for {desc}.\n\
         # make        synthesize, place and route, pack: build/{top}.bin\n\
         # make prog   program the board (iceprog)\n\
         SOURCES := $(shell cat files.f)\n\n\
         all: build/{top}.bin\n\n\
         build/{top}.json: $(SOURCES) files.f\n\
         \tmkdir -p build\n\
         \tyosys -q -l build/yosys.log -p '{synth} -json build/{top}.json' $(SOURCES)\n\n\
         build/{top}.asc: build/{top}.json {pcf} {clocks}\n\
         \tnextpnr-ice40 {pnr} --pcf {pcf} --json build/{top}.json \\\n\
         \t\t--asc build/{top}.asc --report build/report.json -l build/nextpnr.log -q\n\n\
         build/{top}.bin: build/{top}.asc\n\
         \ticepack build/{top}.asc build/{top}.bin\n\n\
         prog: build/{top}.bin\n\
         \ticeprog build/{top}.bin\n\n\
         clean:\n\
         \trm -rf build\n\n\
         .PHONY: all prog clean\n",
        desc = board.description,
        top = TOP,
        synth = board.yosys_synth(TOP),
        clocks = CLOCKS_PY,
        pnr = nextpnr_options(board).join(" "),
    )
}

fn makefile_ecp5(board: &Board, lpf: &str) -> String {
    format!(
        "# spikeforge project for {desc}.\n\
         # make        synthesize, place and route, pack: build/{top}.bit (needs nextpnr-ecp5, ecppack)\n\
         # make check  synthesis only (yosys synth_ecp5) and its resource estimate\n\
         SOURCES := $(shell cat files.f)\n\n\
         all: build/{top}.bit\n\n\
         build/{top}.json: $(SOURCES) files.f\n\
         \tmkdir -p build\n\
         \tyosys -q -l build/yosys.log -p '{synth} -json build/{top}.json' $(SOURCES)\n\n\
         check: build/{top}.json\n\
         \tgrep -A40 'Printing statistics' build/yosys.log | tail -40\n\n\
         build/{top}.config: build/{top}.json {lpf}\n\
         \tnextpnr-ecp5 {pnr} --lpf {lpf} --json build/{top}.json \\\n\
         \t\t--textcfg build/{top}.config --report build/report.json -l build/nextpnr.log -q\n\n\
         build/{top}.bit: build/{top}.config\n\
         \tecppack build/{top}.config build/{top}.bit\n\n\
         prog: build/{top}.bit\n\
         \tfujprog build/{top}.bit\n\n\
         clean:\n\
         \trm -rf build\n\n\
         .PHONY: all check prog clean\n",
        desc = board.description,
        top = TOP,
        synth = board.yosys_synth(TOP),
        pnr = nextpnr_options(board).join(" "),
    )
}

fn makefile_xilinx(board: &Board) -> String {
    format!(
        "# spikeforge project for {desc}.\n\
         # make        Vivado non-project build (build.tcl): build/{top}.bit\n\
         # make check  synthesis only with yosys synth_xilinx and its resource estimate\n\
         SOURCES := $(shell cat files.f)\n\n\
         all:\n\
         \tvivado -mode batch -source build.tcl\n\n\
         check:\n\
         \tmkdir -p build\n\
         \tyosys -q -l build/yosys.log -p 'synth_xilinx -family xc7 -flatten -top {top}; stat' $(SOURCES)\n\
         \tgrep -A40 'Printing statistics' build/yosys.log | tail -40\n\n\
         clean:\n\
         \trm -rf build\n\n\
         .PHONY: all check clean\n",
        desc = board.description,
        top = TOP,
    )
}

fn vivado_tcl(board: &Board, xdc: &str) -> String {
    format!(
        "# spikeforge: Vivado non-project build for {desc}.\n\
         # vivado -mode batch -source build.tcl\n\
         file mkdir build\n\
         set fp [open files.f r]\n\
         foreach f [split [string trim [read $fp]] \"\\n\"] {{ read_verilog $f }}\n\
         close $fp\n\
         read_xdc {xdc}\n\
         synth_design -top {top} -part {part}\n\
         opt_design\n\
         place_design\n\
         route_design\n\
         report_utilization -file build/utilization.txt\n\
         report_timing_summary -file build/timing.txt\n\
         write_bitstream -force build/{top}.bit\n",
        desc = board.description,
        top = TOP,
        part = board.device,
    )
}

/// The FuseSoC core (CAPI2) with one target for the board, built with
/// edalize's flow API (`flow:` with `flow_options`; the `tools:` section is
/// the deprecated tool API). The target constrains place and route exactly
/// as the Makefile does ([`nextpnr_options`], the same constraint files);
/// nextpnr fails on a clock that misses its constraint, and so the build.
fn fusesoc_core(board: &Board, verilog: &[String], hex: &[String], constraints: &str, net: &Network) -> String {
    let mut s = format!(
        "CAPI=2:\n# Generated by spikeforge: the neuron-core design loaded with network `{}`, for {}.\n\
         name: spikeforge:snn:{}:0.1.0\n\
         description: spikeforge neuron cores with a UART host bridge\n\n\
         filesets:\n  rtl:\n    file_type: verilogSource\n    files:\n",
        net.name().unwrap_or("network"),
        board.description,
        core_name(board)
    );
    for v in verilog.iter().filter(|v| !v.starts_with("sf_board_top") && !v.starts_with("sf_uart_bridge")) {
        s.push_str(&format!("      - {v}\n"));
    }
    s.push_str("  mem:\n    files:\n");
    for h in hex {
        s.push_str(&format!("      - {h}: {{file_type: user, copyto: {h}}}\n"));
    }
    s.push_str(
        "  board:\n    file_type: verilogSource\n    files:\n      - sf_uart_bridge.v\n      - sf_board_top.v\n",
    );
    let (ftype, flow) = match board.family {
        Family::Ice40 => ("PCF", "icestorm"),
        Family::Ecp5 => ("LPF", "trellis"),
        Family::Xilinx7 => ("xdc", "vivado"),
    };
    s.push_str(&format!("  constraints:\n    files:\n      - {constraints}: {{file_type: {ftype}}}\n"));
    if board.family == Family::Ice40 {
        // edalize's nextpnr has no file type for a --pre-pack script: it is
        // copied into the build folder, where nextpnr_options names it.
        s.push_str(&format!("      - {CLOCKS_PY}: {{file_type: user, copyto: {CLOCKS_PY}}}\n"));
    }
    s.push_str("\ntargets:\n  default:\n    filesets: [rtl, mem]\n");
    s.push_str(&format!(
        "  {}:\n    flow: {flow}\n    filesets: [rtl, mem, board, constraints]\n    toplevel: {TOP}\n    flow_options:\n",
        core_target(board)
    ));
    // YAML would read `25` or `12.5` as a number; edalize wants strings.
    let list = |v: &[String]| {
        v.iter()
            .map(|o| if o.parse::<f64>().is_ok() { format!("'{o}'") } else { o.clone() })
            .collect::<Vec<_>>()
            .join(", ")
    };
    match board.family {
        Family::Ice40 | Family::Ecp5 => {
            s.push_str(&format!("      nextpnr_options: [{}]\n", list(&nextpnr_options(board))));
            let synth: Vec<String> = board.yosys_synth_options().iter().map(|o| o.to_string()).collect();
            if !synth.is_empty() {
                s.push_str(&format!("      yosys_synth_options: [{}]\n", list(&synth)));
            }
        }
        Family::Xilinx7 => s.push_str(&format!("      part: {}\n", board.device)),
    }
    s
}

fn readme(board: &Board, net: &Network, m: &Mapping) -> String {
    format!(
        "# spikeforge project: {} on {}\n\n\
         Generated by `spikeforge fpga`. The design boots with the network loaded\n\
         (memory images in the `.hex` files, `mapping.json` says which neuron is\n\
         where). The host talks to it over the board's USB UART at {} baud,\n\
         8N1, with the protocol of spikeforge's docs/host-protocol.md\n\
         (`--board` gives `spikeforge run` this rate):\n\n\
         ```sh\nmake              # bitstream ({})\nmake prog         # program the board\n\
         fusesoc --cores-root . run --build --target {} spikeforge:snn:{}:0.1.0   # the same, through FuseSoC\n\
         spikeforge run NET --board {} --spec SPEC --port /dev/ttyUSB1 --stimulus STIM.csv --steps T\n```\n\n\
         Spec `{}`: {} cores, {} neurons per core. LEDs: 0 toggles on every good\n\
         request, 1 lit while a step runs, 2 lit when an error flag is set.\n{}",
        net.name().unwrap_or("network"),
        board.description,
        board.baud,
        match board.family {
            Family::Ice40 => "yosys, nextpnr-ice40, icepack",
            Family::Ecp5 => "yosys, nextpnr-ecp5, ecppack",
            Family::Xilinx7 => "Vivado, build.tcl; `make check` runs yosys synth_xilinx",
        },
        core_target(board),
        core_name(board),
        board.name,
        m.spec.name,
        m.spec.cores(),
        m.spec.neurons_per_core,
        if m.spec.single_port_synapses {
            "\nThe synapse memory is single-port RAM (SPRAM on the UP5K), which a\n\
             bitstream cannot preload: the design boots with empty synapse rows and\n\
             `spikeforge run` loads the whole network over the UART before the first\n\
             step (there is no synapse `.hex` file).\n"
        } else {
            ""
        }
    )
}
