//! Emitted Verilog through Verilator lint (-Wall), Icarus and Yosys.
//! The tools come from Debian (`apt-get install verilator iverilog yosys`;
//! `./dev test` installs them); without them these tests fail with that
//! install command rather than pass silently.

use spikeforge_hdl::{emit_design, fifo::KeyFifo, neuron::NeuronPipe, tools};
use std::path::PathBuf;

fn write(files: &[spikeforge_hdl::emit::VerilogFile], name: &str) -> (PathBuf, Vec<PathBuf>) {
    let dir = std::env::temp_dir().join(format!("sf-hdl-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("verilator.vlt"), spikeforge_hdl::VERILATOR_WAIVERS).unwrap();
    let paths = files
        .iter()
        .map(|f| {
            let p = dir.join(format!("{}.v", f.module));
            std::fs::write(&p, &f.text).unwrap();
            p
        })
        .collect();
    (dir, paths)
}

#[test]
fn neuron_pipe_and_fifo_lint_compile_and_synthesize() {
    for (p, a, current) in [
        (4u32, 4u32, false),
        (8, 16, false),
        (16, 24, false),
        (32, 36, false),
        (4, 4, true),
        (16, 24, true),
        (8, 32, true),
        (12, 20, true),
    ] {
        let top = format!("sf_npipe_p{p}_a{a}{}", if current { "_i" } else { "" });
        let files = emit_design(&mut NeuronPipe::new(p, a, current), &top, &top);
        let (dir, paths) = write(&files, &top);
        tools::verilator_lint(&dir, &paths, &top).unwrap_or_else(|e| panic!("{e}"));
        tools::iverilog(&dir, &paths, &top).unwrap_or_else(|e| panic!("{e}"));
        let r = tools::yosys_ice40(&dir, &paths, &top).unwrap_or_else(|e| panic!("{e}"));
        assert!(r.luts > 20 && r.flip_flops > 0, "{r:?}");
        std::fs::remove_dir_all(&dir).ok();
    }
    for (d, room) in [(4usize, 2usize), (8, 5)] {
        let top = format!("sf_fifo_{d}_{room}");
        let files = emit_design(&mut KeyFifo::new(d, room), &top, &top);
        let (dir, paths) = write(&files, &top);
        tools::verilator_lint(&dir, &paths, &top).unwrap_or_else(|e| panic!("{e}"));
        tools::iverilog(&dir, &paths, &top).unwrap_or_else(|e| panic!("{e}"));
        tools::yosys_ice40(&dir, &paths, &top).unwrap_or_else(|e| panic!("{e}"));
        std::fs::remove_dir_all(&dir).ok();
    }
}

mod ram_top {
    use rust_hdl::prelude::*;
    use spikeforge_hdl::mem::SpecRam;

    /// A memory behind registers, as the core uses them.
    #[derive(LogicBlock)]
    pub struct RamTop {
        pub clock: Signal<In, Clock>,
        pub addr: Signal<In, Bits<8>>,
        pub din: Signal<In, Bits<32>>,
        pub we: Signal<In, bool>,
        pub dout: Signal<Out, Bits<32>>,
        pub ram: SpecRam<8, 32>,
    }

    impl RamTop {
        pub fn new(init_file: Option<String>) -> RamTop {
            RamTop {
                clock: Default::default(),
                addr: Default::default(),
                din: Default::default(),
                we: Default::default(),
                dout: Default::default(),
                ram: SpecRam::new(12, 200, &[5, 0, 0xfff], init_file),
            }
        }
    }

    impl Logic for RamTop {
        #[hdl_gen]
        fn update(&mut self) {
            self.ram.clock.next = self.clock.val();
            self.ram.read_address.next = self.addr.val();
            self.ram.write_address.next = self.addr.val();
            self.ram.write_data.next = self.din.val();
            self.ram.write_enable.next = self.we.val();
            self.dout.next = self.ram.read_data.val();
        }
    }
}

#[test]
fn spec_ram_is_block_ram_and_simulates() {
    use ram_top::RamTop;
    use rust_hdl::prelude::*;
    let top = "sf_ramtest";
    let files = emit_design(&mut RamTop::new(Some("init.hex".into())), top, top);
    let (dir, paths) = write(&files, top);
    std::fs::write(dir.join("init.hex"), "005\n000\nfff\n").unwrap();
    tools::verilator_lint(&dir, &paths, top).unwrap_or_else(|e| panic!("{e}"));
    tools::iverilog(&dir, &paths, top).unwrap_or_else(|e| panic!("{e}"));
    let r = tools::yosys_ice40(&dir, &paths, top).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.brams, 1, "{r:?}");
    std::fs::remove_dir_all(&dir).ok();

    // rust-hdl model: preloaded words, 12-bit storage, one-clock read latency.
    let mut sim: Simulation<RamTop> = Simulation::default();
    sim.add_clock(5, |x: &mut Box<RamTop>| x.clock.next = !x.clock.val());
    sim.add_testbench(move |mut ep: Sim<RamTop>| {
        let mut x = ep.init()?;
        x.addr.next = 2.into();
        wait_clock_cycle!(ep, clock, x);
        wait_clock_cycle!(ep, clock, x);
        sim_assert_eq!(ep, x.dout.val(), 0xfff, x);
        x.addr.next = 7.into();
        x.din.next = 0x1234_5678.into();
        x.we.next = true;
        wait_clock_cycle!(ep, clock, x);
        x.we.next = false;
        wait_clock_cycle!(ep, clock, x);
        wait_clock_cycle!(ep, clock, x);
        sim_assert_eq!(ep, x.dout.val(), 0x678, x);
        ep.done(x)
    });
    let mut uut = RamTop::new(None);
    uut.connect_all();
    sim.run(Box::new(uut), 10_000).unwrap();
}

#[test]
fn neuron_array_lints_compiles_and_maps_to_block_ram() {
    use spikeforge_hdl::sweep::{ArrayInit, NeuronArray};
    use spikeforge_hw::memory::{addr_bits, NeuronWord, ParamWord};
    // K = 16 for both: Yosys keeps a table of a few words in flip-flops.
    for (name, n, k, p, a, current) in
        [("tiny", 16usize, 16usize, 16u32, 24u32, false), ("p8", 64, 16, 8, 12, false), ("cur", 16, 16, 16, 24, true)]
    {
        let top = format!("sf_array_{name}");
        let file = |m: &str| format!("{top}_{m}.hex");
        let init = ArrayInit { files: Some((file("param_sets"), file("neurons"), file("v"))), ..Default::default() };
        let files = emit_design(&mut NeuronArray::new(n, k, p, a, current, &init), &top, &top);
        let (dir, paths) = write(&files, &top);
        // Non-trivial contents: an all-zero ROM would be optimized away.
        let mut rng = spikeforge_net::rng::SplitMix64(1);
        let mut hex = |depth: usize, bits: u32| -> String {
            (0..depth)
                .map(|_| {
                    format!("{:x}\n", (rng.next_u64() as u128 | (rng.next_u64() as u128) << 64) & ((1u128 << bits) - 1))
                })
                .collect()
        };
        let (pw, nw) = (ParamWord::new(p, current).width(), NeuronWord::new(p, addr_bits(k as u32)).width());
        // The state word: the potential, and the current above it.
        let vw = p + if current { a } else { 0 };
        std::fs::write(dir.join(file("param_sets")), hex(k, pw)).unwrap();
        std::fs::write(dir.join(file("neurons")), hex(n, nw)).unwrap();
        std::fs::write(dir.join(file("v")), hex(n, vw)).unwrap();
        tools::verilator_lint(&dir, &paths, &top).unwrap_or_else(|e| panic!("{e}"));
        tools::iverilog(&dir, &paths, &top).unwrap_or_else(|e| panic!("{e}"));
        let r = tools::yosys_ice40(&dir, &paths, &top).unwrap_or_else(|e| panic!("{e}"));
        // Parameter sets, neuron words, v, four accumulator memories (two
        // banks by two parities): all in block RAM, 16-bit-wide slices.
        let slices = |bits: u32| bits.div_ceil(16) as u64;
        let expected = slices(pw) + slices(nw) + slices(vw) + 4 * slices(a);
        assert_eq!(r.brams, expected, "{name}: {r:?}");
        eprintln!("{name}: {r:?}");
        if std::env::var("SF_KEEP").is_err() {
            std::fs::remove_dir_all(&dir).ok();
        }
    }
}

#[test]
fn core_lints_compiles_and_maps_memories_to_block_ram_for_two_specs() {
    use spikeforge_hdl::core::Core;
    use spikeforge_hdl::integrate::IntegrateInit;
    use spikeforge_hdl::sweep::ArrayInit;
    use spikeforge_hw::memory::Memory;
    use spikeforge_mapper::HardwareSpec;
    for name in ["tiny", "ice40"] {
        let spec = HardwareSpec::preset(name).unwrap();
        let top = format!("sf_core_{name}");
        let mut core = Core::new(&spec, &ArrayInit::default(), &IntegrateInit::default(), &Default::default());
        let files = emit_design(&mut core, &top, &top);
        let (dir, paths) = write(&files, &top);
        tools::verilator_lint(&dir, &paths, &top).unwrap_or_else(|e| panic!("{name}: {e}"));
        tools::iverilog(&dir, &paths, &top).unwrap_or_else(|e| panic!("{name}: {e}"));
        let r = tools::yosys_ice40(&dir, &paths, &top).unwrap_or_else(|e| panic!("{name}: {e}"));
        // Every memory of the core in block RAM (each as 16-bit-wide slices,
        // 256+ deep), plus the four accumulator memories (two banks by two
        // slot parities, N/2 deep).
        let l = spikeforge_mapper::image::Layout::new(&spec);
        let slices = |bits: u32, depth: u32| bits.div_ceil(16) as u64 * (depth as u64).div_ceil(256);
        // A table of a few words (the `ice40` preset's 4 parameter sets) is
        // kept in flip-flops by Yosys, which is cheaper than a block RAM.
        let in_bram = |m: &Memory| m.depth(&spec) > 8;
        let expected =
            Memory::CORE.iter().filter(|m| in_bram(m)).map(|&m| slices(m.width(&l), m.depth(&spec))).sum::<u64>()
                + 4 * slices(spec.accumulator_bits, spec.neurons_per_core.div_ceil(2));
        eprintln!("{name}: {r:?}, {expected} BRAM expected");
        assert!(r.brams >= expected, "{name}: {r:?}, expected at least {expected} SB_RAM40_4K");
        if std::env::var("SF_KEEP").is_err() {
            std::fs::remove_dir_all(&dir).ok();
        }
    }
}

#[test]
fn fabric_lints_compiles_and_synthesizes_for_three_specs() {
    use spikeforge_hdl::fabric::{Fabric, FabricInit};
    use spikeforge_mapper::HardwareSpec;
    let mesh = HardwareSpec {
        name: "tiny-mesh".into(),
        interconnect: spikeforge_mapper::Interconnect::Mesh,
        ..HardwareSpec::preset("tiny").unwrap()
    };
    for spec in [HardwareSpec::preset("tiny").unwrap(), HardwareSpec::preset("ice40").unwrap(), mesh] {
        let name = spec.name.replace('-', "_");
        let top = format!("sf_{name}_top");
        let files = emit_design(&mut Fabric::new(&spec, &FabricInit::default()), &format!("sf_{name}"), &top);
        if spec.interconnect == spikeforge_mapper::Interconnect::Mesh {
            // Both module types whose instances should share one function
            // in a Verilator model are found by their names.
            let shared = spikeforge_hdl::emit::shared_instance_config(&files);
            for k in spikeforge_hdl::emit::SHARED_MODULES {
                assert!(shared.contains(&format!("_{k}\" -var")), "{name}: no ports of *_{k} in\n{shared}");
            }
        }
        let (dir, paths) = write(&files, &top);
        let mut lint_files = vec![PathBuf::from("verilator.vlt")];
        lint_files.extend(paths.iter().cloned());
        tools::verilator_lint(&dir, &lint_files, &top).unwrap_or_else(|e| panic!("{name}: {e}"));
        tools::iverilog(&dir, &paths, &top).unwrap_or_else(|e| panic!("{name}: {e}"));
        let r = tools::yosys_ice40(&dir, &paths, &top).unwrap_or_else(|e| panic!("{name}: {e}"));
        eprintln!("{name} top: {r:?}");
        assert!(r.brams >= spec.cores() as u64 * 13, "{name}: every core's memories in BRAM: {r:?}");
        if std::env::var("SF_KEEP").is_err() {
            std::fs::remove_dir_all(&dir).ok();
        }
    }
}

#[test]
fn every_host_input_index_valid_lints_clean() {
    // With 2^16 host inputs every index is valid, so the design has no
    // range check; the unused index must not trip -Wall (it did for
    // `large`).
    use spikeforge_hdl::fabric::{Fabric, FabricInit};
    use spikeforge_mapper::HardwareSpec;
    let spec =
        HardwareSpec { name: "all-inputs".into(), input_neurons: 65536, ..HardwareSpec::preset("tiny").unwrap() };
    let top = "sf_all_inputs_top".to_string();
    let files = emit_design(&mut Fabric::new(&spec, &FabricInit::default()), "sf_all_inputs", &top);
    let (dir, paths) = write(&files, &top);
    tools::verilator_lint(&dir, &paths, &top).unwrap_or_else(|e| panic!("{e}"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn simulation_wrapper_lints_and_compiles() {
    // The Verilator builds' top (spikeforge_hw::ports::sampled_wrapper)
    // around a real design: -Wall clean, and Icarus reads it too.
    use spikeforge_hdl::fabric::{Fabric, FabricInit};
    use spikeforge_mapper::HardwareSpec;
    let spec = HardwareSpec::preset("tiny").unwrap();
    let top = "sf_wrapped_top".to_string();
    let mut files = emit_design(&mut Fabric::new(&spec, &FabricInit::default()), "sf_wrapped", &top);
    let name = format!("{top}_sim");
    files.push(spikeforge_hdl::emit::VerilogFile {
        module: name.clone(),
        text: spikeforge_hw::ports::sampled_wrapper(&top, &name),
    });
    // Every port of the design, plus the clock and the latch input.
    let ports = spikeforge_hw::ports::parse_verilog_ports(&files.last().unwrap().text, &name);
    assert_eq!(ports.len(), spikeforge_hw::ports::PORTS.len() + 2, "{ports:?}");
    let (dir, paths) = write(&files, &name);
    tools::verilator_lint(&dir, &paths, &name).unwrap_or_else(|e| panic!("{e}"));
    tools::iverilog(&dir, &paths, &name).unwrap_or_else(|e| panic!("{e}"));
    std::fs::remove_dir_all(&dir).ok();
}
