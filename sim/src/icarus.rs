//! The same Verilog under Icarus Verilog: a cross-check of the simulator
//! (two simulators, one answer) and the speed baseline of the benchmarks.
//!
//! A generic testbench (`sf_tb`) replays a host program read with
//! `$readmemh`: configuration writes, clears, input spikes, steps and
//! potential reads, with the same handshakes and the same clocking as
//! [`crate::Hardware`] (inputs applied, outputs sampled half a cycle later
//! just before the rising edge). It prints every spike-out word, the cycles
//! of each step and the potentials read.

use crate::SimError;
use spikeforge_hdl::tools;
use spikeforge_mapper::Mapping;
use spikeforge_net::{SpikeTrain, Stimulus};
use std::path::Path;
use std::time::Instant;

/// One host operation of a program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Configuration write (core, memory code, address, data).
    Config(u32, u64, u32, u128),
    /// Network reset (`clear`).
    Clear,
    /// One input spike (host input index).
    Input(u32),
    /// A step; spike-out always ready.
    Step,
    /// Read the potential of (core, slot).
    Peek(u32, u32),
}

/// The host program of a run: load `m`, clear, then per step its inputs and
/// the step, then read every potential.
pub fn program(m: &Mapping, stimulus: &Stimulus, steps: u32) -> Vec<Op> {
    let mut ops: Vec<Op> =
        spikeforge_hdl::fabric::config_writes(m).into_iter().map(|(c, code, a, w)| Op::Config(c, code, a, w)).collect();
    ops.push(Op::Clear);
    for t in 0..steps {
        for &g in stimulus.at(t) {
            if let Some(i) = m.input_index[g as usize] {
                ops.push(Op::Input(i));
            }
        }
        ops.push(Op::Step);
    }
    for p in m.placement.iter().flatten() {
        ops.push(Op::Peek(p.0, p.1));
    }
    ops
}

/// `$readmemh` text of a program: one 192-bit word per op,
/// `{op[3:0], core[11:0], mem[3:0], addr[23:0], data[143:0]}`.
pub fn program_hex(ops: &[Op]) -> String {
    let mut s = String::new();
    let word = |op: u32, core: u32, mem: u64, addr: u32, data: u128| {
        let hi: u64 = ((op as u64 & 0xf) << 60)
            | ((core as u64 & 0xfff) << 48)
            | ((mem & 0xf) << 44)
            | ((addr as u64 & 0xff_ffff) << 20);
        // data is at most 128 bits here: bits 143..128 are zero.
        format!("{hi:016x}{data:032x}\n")
    };
    for op in ops {
        s.push_str(&match *op {
            Op::Config(c, m, a, d) => word(0, c, m, a, d),
            Op::Input(i) => word(1, 0, 0, i, 0),
            Op::Step => word(2, 0, 0, 0, 0),
            Op::Clear => word(3, 0, 0, 0, 0),
            Op::Peek(c, sl) => word(4, c, 0, sl, 0),
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
    reg step = 1'b0, in_valid = 1'b0, out_ready = 1'b0, monitor = 1'b1, peek_req = 1'b0;
    reg err_clear = 1'b0, clear = 1'b0, cfg_we = 1'b0;
    reg [15:0] in_index = 16'd0, peek_slot = 16'd0;
    reg [11:0] peek_core = 12'd0, cfg_core = 12'd0;
    reg [3:0] cfg_mem = 4'd0;
    reg [23:0] cfg_addr = 24'd0;
    reg [143:0] cfg_data = 144'd0;
    wire done, busy, in_ready, out_valid, peek_valid;
    wire [31:0] step_count, peek_data;
    wire [11:0] out_core;
    wire [15:0] out_slot;
    wire [3:0] errors;
    {top} dut(.clock(clock), .step(step), .done(done), .busy(busy), .step_count(step_count),
        .in_valid(in_valid), .in_index(in_index), .in_ready(in_ready),
        .out_valid(out_valid), .out_core(out_core), .out_slot(out_slot), .out_ready(out_ready),
        .monitor(monitor), .peek_req(peek_req), .peek_core(peek_core), .peek_slot(peek_slot),
        .peek_valid(peek_valid), .peek_data(peek_data), .errors(errors), .err_clear(err_clear),
        .clear(clear), .cfg_we(cfg_we), .cfg_core(cfg_core), .cfg_mem(cfg_mem), .cfg_addr(cfg_addr),
        .cfg_data(cfg_data));

    reg [191:0] ops [0:{last}];
    reg [191:0] op;
    reg s_done, s_busy, s_in_ready, s_out_valid;
    reg [11:0] s_out_core;
    reg [15:0] s_out_slot;
    reg [31:0] s_peek_data;
    integer pc, nstep, cycles, t0, f, finished;

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
        pc = 0; nstep = 0; cycles = 0; finished = 0;
        while (finished == 0) begin
            op = ops[pc];
            pc = pc + 1;
            case (op[191:188])
                4'd0: begin
                    cfg_we = 1'b1; cfg_core = op[187:176]; cfg_mem = op[175:172];
                    cfg_addr = op[171:148]; cfg_data = op[143:0];
                    tick;
                    cfg_we = 1'b0;
                end
                4'd1: begin
                    in_valid = 1'b1; in_index = op[163:148];
                    tick;
                    while (!s_in_ready) tick;
                    in_valid = 1'b0;
                end
                4'd2: begin
                    step = 1'b1; out_ready = 1'b1; t0 = cycles;
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
                    peek_req = 1'b1; peek_core = op[187:176]; peek_slot = op[163:148];
                    tick;
                    peek_req = 1'b0;
                    tick;
                    $fdisplay(f, "P %0d %0d %0d", op[187:176], op[163:148], $signed(s_peek_data));
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
        last = n_ops // the END word follows the ops
    )
}

/// What an Icarus run printed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IcarusRun {
    /// Every spike the testbench printed, by global id (`u32::MAX` for a
    /// slot that holds no neuron).
    pub spikes: SpikeTrain,
    /// Clocks of each step.
    pub cycles_per_step: Vec<u64>,
    /// Final potentials by global id.
    pub potentials: Vec<i32>,
    /// Clocks of the whole program.
    pub total_cycles: u64,
    /// Wall-clock seconds of `vvp`.
    pub seconds: f64,
}

/// Compiles the design of `m.spec` with the testbench and runs the program
/// of `(m, stimulus, steps)` under Icarus in `dir`.
pub fn run(dir: &Path, m: &Mapping, stimulus: &Stimulus, steps: u32) -> Result<IcarusRun, SimError> {
    let io = |what: &str, p: &Path, e: std::io::Error| SimError::Io(format!("{what} {}: {e}", p.display()));
    std::fs::create_dir_all(dir).map_err(|e| io("cannot create", dir, e))?;
    let files = spikeforge_hdl::design(&m.spec, None);
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
    let ops = program(m, stimulus, steps);
    let hex = dir.join("program.hex");
    std::fs::write(&hex, program_hex(&ops)).map_err(|e| io("cannot write", &hex, e))?;
    let tb = dir.join("sf_tb.v");
    std::fs::write(&tb, testbench(&top, ops.len())).map_err(|e| io("cannot write", &tb, e))?;
    let mut cmd = tools::IVERILOG.command(dir);
    cmd.args(["-g2005", "-o", "sf_tb.vvp", "-s", "sf_tb", "-c", "files.f"]);
    let out = tools::IVERILOG.output(&mut cmd)?;
    if !out.status.success() {
        return Err(SimError::Icarus(format!("iverilog failed:\n{}", String::from_utf8_lossy(&out.stderr))));
    }
    let t = Instant::now();
    let io_err = |e: std::io::Error| SimError::Io(format!("cannot run vvp in {}: {e}", dir.display()));
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
                return Err(SimError::Icarus(format!(
                    "vvp did not finish within {} s (simulation time stuck or far too slow); files in {}",
                    limit.as_secs(),
                    dir.display()
                )));
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
        return Err(SimError::Icarus(format!("vvp failed:\n{err}")));
    }
    let text_path = dir.join("icarus_out.txt");
    let text = std::fs::read_to_string(&text_path).map_err(|e| io("cannot read", &text_path, e))?;
    let mut r = IcarusRun { potentials: vec![0; m.placement.len()], seconds, ..Default::default() };
    let mut spikes = Vec::new();
    let bad = |l: &str| SimError::Icarus(format!("unexpected testbench output line `{l}`"));
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let num = |i: usize| f.get(i).and_then(|x| x.parse::<i64>().ok()).ok_or_else(|| bad(line));
        match f.first().copied() {
            Some("S") => {
                let (c, s) = (num(2)? as usize, num(3)? as usize);
                let g = m.images.cores.get(c).and_then(|x| x.neurons.get(s)).copied().unwrap_or(u32::MAX);
                spikes.push((num(1)? as u32, g));
            }
            Some("D") => r.cycles_per_step.push(num(2)? as u64),
            Some("P") => {
                let (c, s, v) = (num(1)? as u32, num(2)? as u32, num(3)? as i32);
                if let Some(&g) = m.images.cores.get(c as usize).and_then(|x| x.neurons.get(s as usize)) {
                    r.potentials[g as usize] = v;
                }
            }
            Some("E") => r.total_cycles = num(1)? as u64,
            _ => return Err(bad(line)),
        }
    }
    if r.cycles_per_step.len() != steps as usize {
        return Err(SimError::Icarus(format!("the testbench finished {} of {steps} steps", r.cycles_per_step.len())));
    }
    r.spikes = SpikeTrain::from_pairs(spikes);
    Ok(r)
}
