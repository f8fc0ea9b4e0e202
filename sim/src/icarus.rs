//! The same Verilog under Icarus Verilog: a cross-check of the simulator
//! (two simulators, one answer) and the speed baseline of the benchmarks.
//!
//! A generic testbench (`sf_tb`, its port declarations generated from the
//! port table `spikeforge_hw::ports`) replays a host program read with
//! `$readmemh`: configuration writes, clears, input spikes, steps and
//! potential reads, with the same handshakes and the same clocking as
//! [`crate::Hardware`] (inputs applied, outputs sampled half a cycle later
//! just before the rising edge). It prints every spike-out word, the cycles
//! of each step and the potentials read. [`IcarusModel`] is this batch run
//! behind the common [`HardwareModel`] interface: the whole program runs
//! when the comparator hands over the input schedule, and the steps are
//! then replayed from its output.

use crate::SimError;
use spikeforge_hdl::tools;
use spikeforge_hw::config::{config_writes, reset_writes, ConfigWrite};
use spikeforge_hw::ports::{
    verilog_connections, verilog_declarations, CFG_ADDR_BITS, CFG_DATA_BITS, CFG_MEM_BITS, CORE_BITS,
};
use spikeforge_hw::{HardwareModel, HardwareSpec, NetworkImage, Place, StepReport};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// One host operation of a program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Configuration write.
    Config(ConfigWrite),
    /// Network reset (`clear`).
    Clear,
    /// One input spike (host input index).
    Input(u32),
    /// A step; spike-out always ready.
    Step,
    /// Read the potential of a place.
    Peek(Place),
}

/// The host program of a run: load `image`, apply `extra` writes, clear,
/// then per scheduled step its inputs and the step (a schedule that starts
/// again at step 0 resets the network state first), then read `peeks`.
pub fn program(image: &NetworkImage, extra: &[ConfigWrite], schedule: &[(u32, Vec<u32>)], peeks: &[Place]) -> Vec<Op> {
    let mut ops: Vec<Op> = config_writes(image).into_iter().chain(extra.iter().copied()).map(Op::Config).collect();
    ops.push(Op::Clear);
    for (i, (t, inputs)) in schedule.iter().enumerate() {
        if i > 0 && *t == 0 {
            ops.extend(reset_writes(image).into_iter().map(Op::Config));
            ops.push(Op::Clear);
        }
        ops.extend(inputs.iter().map(|&x| Op::Input(x)));
        ops.push(Op::Step);
    }
    ops.extend(peeks.iter().map(|&p| Op::Peek(p)));
    ops
}

/// Bits of a program word: `{op[3:0], core, mem, addr, pad, data}` with the
/// port widths of the contract, 192 bits in all.
const OP_BITS: usize = 192;
const _: () = assert!(4 + CORE_BITS + CFG_MEM_BITS + CFG_ADDR_BITS + CFG_DATA_BITS <= OP_BITS);
/// Lowest bit of each field of a program word.
const OP_AT: usize = OP_BITS - 4;
const CORE_AT: usize = OP_AT - CORE_BITS;
const MEM_AT: usize = CORE_AT - CFG_MEM_BITS;
const ADDR_AT: usize = MEM_AT - CFG_ADDR_BITS;

/// `$readmemh` text of a program: one 192-bit word per op,
/// `{op[3:0], core[11:0], mem[3:0], addr[23:0], pad, data[143:0]}`.
pub fn program_hex(ops: &[Op]) -> String {
    let mut s = String::new();
    let word = |op: u32, core: u32, mem: u8, addr: u32, data: u128| {
        // The upper 64 bits hold op, core, mem and addr.
        let hi: u64 = ((op as u64 & 0xf) << (OP_AT - 128))
            | ((core as u64 & ((1 << CORE_BITS) - 1)) << (CORE_AT - 128))
            | ((mem as u64 & ((1 << CFG_MEM_BITS) - 1)) << (MEM_AT - 128))
            | ((addr as u64 & ((1 << CFG_ADDR_BITS) - 1)) << (ADDR_AT - 128));
        // data is at most 128 bits here: bits 143..128 are zero.
        format!("{hi:016x}{data:032x}\n")
    };
    for op in ops {
        s.push_str(&match *op {
            Op::Config(w) => word(0, w.core, w.target.code(), w.addr, w.data),
            Op::Input(i) => word(1, 0, 0, i, 0),
            Op::Step => word(2, 0, 0, 0, 0),
            Op::Clear => word(3, 0, 0, 0, 0),
            Op::Peek(p) => word(4, p.core, 0, p.slot, 0),
        });
    }
    s.push_str(&word(15, 0, 0, 0, 0));
    s
}

/// The testbench around `top` for a program of `n_ops` operations.
pub fn testbench(top: &str, n_ops: usize) -> String {
    format!(
        r#"// spikeforge host-program testbench (Icarus cross-check). Generated.
`timescale 1ns/1ns
module sf_tb;
    reg clock = 1'b0;
{decls}    {top} dut(.clock(clock),
{conns}    );

    reg [{op_hi}:0] ops [0:{last}];
    reg [{op_hi}:0] op;
    reg s_done, s_busy, s_in_ready, s_out_valid;
    reg [{core_hi}:0] s_out_core;
    reg [{slot_hi}:0] s_out_slot;
    reg [31:0] s_peek_data;
    integer pc, nstep, cycles, t0, f, finished, counting;

    // One clock: inputs are already applied; outputs are sampled just
    // before the rising edge (as the Verilator driver does).
    task tick;
        begin
            clock = 1'b0;
            #5;
            s_done = done; s_busy = busy; s_in_ready = in_ready; s_out_valid = out_valid;
            s_out_core = out_core; s_out_slot = out_slot; s_peek_data = peek_data;
            clock = 1'b1;
            #5;
            cycles = cycles + 1;
        end
    endtask

    initial begin
        $readmemh("program.hex", ops);
        f = $fopen("icarus_out.txt", "w");
        monitor = 1'b1;
        pc = 0; nstep = 0; cycles = 0; finished = 0; counting = 0;
        while (finished == 0) begin
            op = ops[pc];
            pc = pc + 1;
            case (op[{op_hi}:{op_at}])
                4'd0: begin
                    cfg_we = 1'b1; cfg_core = op[{core_hi2}:{core_at}]; cfg_mem = op[{mem_hi}:{mem_at}];
                    cfg_addr = op[{addr_hi}:{addr_at}]; cfg_data = op[{data_hi}:0];
                    tick;
                    cfg_we = 1'b0;
                end
                4'd1: begin
                    // A step's clocks start with its input hand-over.
                    if (counting == 0) begin t0 = cycles; counting = 1; end
                    in_valid = 1'b1; in_index = op[{slot_hi_addr}:{addr_at}];
                    tick;
                    while (!s_in_ready) tick;
                    in_valid = 1'b0;
                end
                4'd2: begin
                    if (counting == 0) t0 = cycles;
                    counting = 0;
                    step = 1'b1; out_ready = 1'b1;
                    s_done = 1'b0;
                    while (!s_done) begin
                        tick;
                        step = 1'b0;
                        if (s_out_valid) $fdisplay(f, "S %0d %0d %0d", nstep, s_out_core, s_out_slot);
                    end
                    out_ready = 1'b0;
                    $fdisplay(f, "D %0d %0d", nstep, cycles - t0);
                    nstep = nstep + 1;
                end
                4'd3: begin
                    clear = 1'b1;
                    tick;
                    clear = 1'b0;
                    tick;
                    while (s_busy) tick;
                end
                4'd4: begin
                    peek_req = 1'b1; peek_core = op[{core_hi2}:{core_at}]; peek_slot = op[{slot_hi_addr}:{addr_at}];
                    tick;
                    peek_req = 1'b0;
                    tick;
                    $fdisplay(f, "P %0d %0d %0d", op[{core_hi2}:{core_at}], op[{slot_hi_addr}:{addr_at}], $signed(s_peek_data));
                end
                default: begin
                    $fdisplay(f, "E %0d", cycles);
                    finished = 1;
                end
            endcase
        end
        $fclose(f);
        $finish;
    end
endmodule
"#,
        last = n_ops, // the END word follows the ops
        decls = verilog_declarations(true, "    "),
        conns = verilog_connections("        "),
        op_hi = OP_BITS - 1,
        op_at = OP_AT,
        core_hi = CORE_BITS - 1,
        slot_hi = spikeforge_hw::ports::SLOT_BITS - 1,
        core_hi2 = OP_AT - 1,
        core_at = CORE_AT,
        mem_hi = CORE_AT - 1,
        mem_at = MEM_AT,
        addr_hi = MEM_AT - 1,
        addr_at = ADDR_AT,
        slot_hi_addr = ADDR_AT + spikeforge_hw::ports::SLOT_BITS - 1,
        data_hi = CFG_DATA_BITS - 1,
    )
}

/// What the testbench printed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IcarusOutput {
    /// Spike-out words of each step, in arrival order.
    pub spikes: Vec<Vec<Place>>,
    /// Clocks of each step.
    pub cycles_per_step: Vec<u64>,
    /// The potentials read, by place.
    pub potentials: HashMap<Place, i32>,
    /// Clocks of the whole program.
    pub total_cycles: u64,
    /// Wall-clock seconds of `vvp`.
    pub seconds: f64,
}

/// Compiles the design of `spec` with the testbench and runs `ops` under
/// Icarus in `dir`.
pub fn run_program(dir: &Path, spec: &HardwareSpec, ops: &[Op]) -> Result<IcarusOutput, SimError> {
    let io = |what: &str, p: &Path, e: std::io::Error| SimError::io(what, p, Some(e));
    std::fs::create_dir_all(dir).map_err(|e| io("cannot create", dir, e))?;
    let files = spikeforge_hdl::design(spec, None);
    let top = files
        .iter()
        .find(|f| f.module.ends_with("_top"))
        .map(|f| f.module.clone())
        .ok_or_else(|| SimError::Internal("no top module".into()))?;
    // Relative names in a command file: the folder's name (the user's)
    // never reaches the iverilog driver, which runs its stages through
    // `system()`, and thousands of modules never hit the argument limit.
    let mut list = String::from("sf_tb.v\n");
    for f in &files {
        let name = format!("{}.v", f.module);
        let p = dir.join(&name);
        std::fs::write(&p, &f.text).map_err(|e| io("cannot write", &p, e))?;
        list.push_str(&name);
        list.push('\n');
    }
    let list_path = dir.join("files.f");
    std::fs::write(&list_path, list).map_err(|e| io("cannot write", &list_path, e))?;
    let hex = dir.join("program.hex");
    std::fs::write(&hex, program_hex(ops)).map_err(|e| io("cannot write", &hex, e))?;
    let tb = dir.join("sf_tb.v");
    std::fs::write(&tb, testbench(&top, ops.len())).map_err(|e| io("cannot write", &tb, e))?;
    let mut cmd = tools::IVERILOG.command(dir);
    cmd.args(["-g2005", "-o", "sf_tb.vvp", "-s", "sf_tb", "-c", "files.f"]);
    let out = tools::IVERILOG.output(&mut cmd)?;
    if !out.status.success() {
        return Err(SimError::Icarus {
            stage: "iverilog failed",
            detail: String::from_utf8_lossy(&out.stderr).into_owned(),
        });
    }
    let t = Instant::now();
    let io_err = |e: std::io::Error| SimError::io("cannot run vvp in", dir, Some(e));
    let mut child = tools::VVP
        .command(dir)
        .args(["-n", "sf_tb.vvp"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => SimError::Tool(tools::VVP.missing()),
            _ => io_err(e),
        })?;
    // A zero-delay loop would never return: give up after a generous limit.
    let limit = std::time::Duration::from_secs(
        std::env::var("SF_ICARUS_TIMEOUT").ok().and_then(|v| v.parse().ok()).unwrap_or(900),
    );
    let status = loop {
        match child.try_wait().map_err(io_err)? {
            Some(st) => break st,
            None if t.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(SimError::Icarus {
                    stage: "vvp did not finish",
                    detail: format!(
                        "no result within {} s (simulation time stuck or far too slow); files in {}",
                        limit.as_secs(),
                        dir.display()
                    ),
                });
            }
            None => std::thread::sleep(std::time::Duration::from_millis(20)),
        }
    };
    let seconds = t.elapsed().as_secs_f64();
    if !status.success() {
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            use std::io::Read;
            let _ = e.read_to_string(&mut err);
        }
        return Err(SimError::Icarus { stage: "vvp failed", detail: err });
    }
    let text_path = dir.join("icarus_out.txt");
    let text = std::fs::read_to_string(&text_path).map_err(|e| io("cannot read", &text_path, e))?;
    let steps = ops.iter().filter(|o| matches!(o, Op::Step)).count();
    let mut r = IcarusOutput { seconds, spikes: vec![Vec::new(); steps], ..Default::default() };
    let bad = |l: &str| SimError::Icarus { stage: "unexpected testbench output", detail: format!("line `{l}`") };
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let num = |i: usize| f.get(i).and_then(|x| x.parse::<i64>().ok()).ok_or_else(|| bad(line));
        match f.first().copied() {
            Some("S") => {
                let step = num(1)? as usize;
                let place = Place { core: num(2)? as u32, slot: num(3)? as u32 };
                r.spikes.get_mut(step).ok_or_else(|| bad(line))?.push(place);
            }
            Some("D") => r.cycles_per_step.push(num(2)? as u64),
            Some("P") => {
                r.potentials.insert(Place { core: num(1)? as u32, slot: num(2)? as u32 }, num(3)? as i32);
            }
            Some("E") => r.total_cycles = num(1)? as u64,
            _ => return Err(bad(line)),
        }
    }
    if r.cycles_per_step.len() != steps {
        return Err(SimError::Icarus {
            stage: "the testbench stopped early",
            detail: format!("it finished {} of {steps} steps", r.cycles_per_step.len()),
        });
    }
    Ok(r)
}

/// Icarus as a [`HardwareModel`]: a batch model. [`HardwareModel::plan`]
/// runs the whole program (load, the scheduled steps, then a read of every
/// slot in use); the steps then replay its output. Potentials are
/// available after the last step only.
pub struct IcarusModel {
    dir: PathBuf,
    image: Option<NetworkImage>,
    extra: Vec<ConfigWrite>,
    out: Option<IcarusOutput>,
    next: usize,
    steps: usize,
    cycles: u64,
}

impl IcarusModel {
    /// A model that builds and runs in `dir`.
    pub fn new(dir: &Path) -> IcarusModel {
        IcarusModel { dir: dir.to_path_buf(), image: None, extra: Vec::new(), out: None, next: 0, steps: 0, cycles: 0 }
    }

    /// The output of the program run by [`HardwareModel::plan`].
    pub fn output(&self) -> Option<&IcarusOutput> {
        self.out.as_ref()
    }

    fn planned(&self) -> Result<&IcarusOutput, SimError> {
        self.out.as_ref().ok_or_else(|| SimError::Internal("Icarus: a step before the schedule was planned".into()))
    }
}

impl HardwareModel for IcarusModel {
    type Error = SimError;

    fn describe(&self) -> String {
        "Icarus Verilog".into()
    }

    fn load(&mut self, image: &NetworkImage) -> Result<(), SimError> {
        self.image = Some(image.clone());
        Ok(())
    }

    fn configure(&mut self, writes: &[ConfigWrite]) -> Result<(), SimError> {
        self.extra.extend_from_slice(writes);
        Ok(())
    }

    fn reset(&mut self) -> Result<(), SimError> {
        // The planned program already resets where the schedule restarts.
        Ok(())
    }

    fn plan(&mut self, schedule: &[(u32, Vec<u32>)]) -> Result<(), SimError> {
        let image = self.image.as_ref().ok_or_else(|| SimError::Internal("Icarus: plan before load".into()))?;
        let peeks: Vec<Place> = image
            .cores
            .iter()
            .enumerate()
            .flat_map(|(c, pc)| (0..pc.neuron_count).map(move |slot| Place { core: c as u32, slot }))
            .collect();
        let ops = program(image, &self.extra, schedule, &peeks);
        self.out = Some(run_program(&self.dir, &image.spec, &ops)?);
        self.steps = schedule.len();
        Ok(())
    }

    fn step(&mut self, _inputs: &[u32]) -> Result<StepReport, SimError> {
        let i = self.next;
        let out = self.planned()?;
        let spikes =
            out.spikes.get(i).cloned().ok_or_else(|| SimError::Internal("Icarus: more steps than planned".into()))?;
        let cycles = out.cycles_per_step[i];
        self.cycles += cycles;
        self.next += 1;
        Ok(StepReport { spikes, cycles: Some(cycles) })
    }

    fn potentials(&mut self, places: &[Place]) -> Result<Vec<i32>, SimError> {
        if self.next < self.steps {
            return Err(SimError::Internal("Icarus reports potentials only after the last step".into()));
        }
        let out = self.planned()?;
        places
            .iter()
            .map(|p| {
                out.potentials.get(p).copied().ok_or_else(|| {
                    SimError::Internal(format!("Icarus: no potential read for core {} slot {}", p.core, p.slot))
                })
            })
            .collect()
    }

    fn potentials_every_step(&self) -> bool {
        false
    }

    fn cycles(&self) -> Option<u64> {
        self.out.as_ref().map(|_| self.cycles)
    }
}

/// Runs `net` (mapped as `m`) under Icarus in `dir` through the lockstep
/// comparator (against golden with `opts.verify`); the figures are
/// Icarus's own: clocks of the whole program, seconds of `vvp`.
pub fn run(
    dir: &Path,
    net: &spikeforge_net::Network,
    m: &spikeforge_mapper::Mapping,
    stimulus: &spikeforge_net::Stimulus,
    opts: &crate::RunOptions,
) -> Result<crate::SimRun, SimError> {
    let mut model = IcarusModel::new(dir);
    let mut r = crate::lockstep(&mut model, net, m, stimulus, opts, None, &mut |_| {}).map_err(SimError::from)?;
    if let Some(out) = model.output() {
        r.total_cycles = out.total_cycles;
        r.seconds = out.seconds;
    }
    Ok(r)
}
