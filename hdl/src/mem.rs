//! Block RAM with a spec-dependent word width and depth.
//!
//! rust-hdl's `RAM` fixes width and depth as const generics; a spec is read
//! at run time, so this block has fixed port widths (`AW` address bits,
//! `DW` data bits) and emits a memory of exactly `width` × `depth` bits, the
//! rest of the port zero-extended or ignored. One synchronous read port and
//! one write port on the same clock: the shape Yosys maps to SB_RAM40_4K.
//! With `init_file`, `$readmemh` preloads it (a design that boots with a
//! network); the simulation model preloads the same words.
//!
//! [`SpecRam::single_port`] makes it a single-port memory (one address, a
//! write holds the read data): the shape Yosys maps to the UP5K's
//! SB_SPRAM256KA (16K × 16 each, cascaded and side by side as the shape
//! needs, with `synth_ice40 -spram`). Right for memories that are written
//! only between steps (configuration) and read during them. SPRAM has no
//! initial contents in a bitstream: a preloaded single-port memory stays in
//! block RAM, so a design meant for SPRAM is loaded over the configuration
//! port instead.

use rust_hdl::prelude::*;
use std::collections::BTreeMap;

/// See the module docs.
#[derive(LogicBlock)]
pub struct SpecRam<const AW: usize, const DW: usize> {
    /// Clock of both ports.
    pub clock: Signal<In, Clock>,
    /// Read address (registered read: data one clock later).
    pub read_address: Signal<In, Bits<AW>>,
    /// Read data, zero-extended to the port width.
    pub read_data: Signal<Out, Bits<DW>>,
    /// Write address.
    pub write_address: Signal<In, Bits<AW>>,
    /// Write data (bits above `width` are ignored).
    pub write_data: Signal<In, Bits<DW>>,
    /// Write strobe.
    pub write_enable: Signal<In, bool>,
    _width: usize,
    _depth: usize,
    _init_file: Option<String>,
    _single_port: bool,
    _mem: BTreeMap<u64, u128>,
}

fn bits_for(depth: usize) -> usize {
    (usize::BITS - depth.saturating_sub(1).leading_zeros()).max(1) as usize
}

impl<const AW: usize, const DW: usize> SpecRam<AW, DW> {
    /// A `width` × `depth` memory holding `init` (missing words are 0),
    /// loaded from `init_file` by `$readmemh` in the emitted Verilog.
    pub fn new(width: usize, depth: usize, init: &[u128], init_file: Option<String>) -> Self {
        assert!(width >= 1 && width <= DW && depth >= 1 && bits_for(depth) <= AW, "memory shape fits its ports");
        SpecRam {
            clock: Default::default(),
            read_address: Default::default(),
            read_data: Default::default(),
            write_address: Default::default(),
            write_data: Default::default(),
            write_enable: Default::default(),
            _width: width,
            _depth: depth,
            _init_file: init_file,
            _single_port: false,
            _mem: init.iter().enumerate().filter(|(_, w)| **w != 0).map(|(i, &w)| (i as u64, w)).collect(),
        }
    }

    /// The same memory as a single-port memory (see the module docs): one
    /// address, a write holds `read_data`.
    pub fn single_port(mut self) -> Self {
        self._single_port = true;
        self
    }

    fn mask(&self) -> u128 {
        if self._width >= 128 {
            u128::MAX
        } else {
            (1u128 << self._width) - 1
        }
    }
}

fn to_u128<const N: usize>(b: Bits<N>) -> u128 {
    let mut v = 0u128;
    for i in (0..N.min(128)).rev() {
        v = v << 1 | b.get_bit(i) as u128;
    }
    v
}

fn from_u128<const N: usize>(v: u128) -> Bits<N> {
    let mut b = Bits::<N>::default();
    for i in 0..N.min(128) {
        if v >> i & 1 == 1 {
            b = b.replace_bit(i, true);
        }
    }
    b
}

impl<const AW: usize, const DW: usize> Logic for SpecRam<AW, DW> {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            let ab = bits_for(self._depth);
            let addr_mask = (1u64 << ab) - 1;
            let ra = self.read_address.val().to_u64() & addr_mask;
            if !(self._single_port && self.write_enable.val()) {
                self.read_data.next = from_u128(*self._mem.get(&ra).unwrap_or(&0));
            }
            if self.write_enable.val() {
                let wa = self.write_address.val().to_u64() & addr_mask;
                let w = to_u128(self.write_data.val()) & self.mask();
                self._mem.insert(wa, w);
            }
        }
    }

    fn connect(&mut self) {
        self.read_data.connect();
    }

    fn hdl(&self) -> Verilog {
        let (w, d, ab) = (self._width, self._depth, bits_for(self._depth));
        let init = match &self._init_file {
            Some(f) => format!("initial $readmemh(\"{f}\", mem);\n"),
            None => String::new(),
        };
        let read = if w < DW {
            format!("{{{}'d0, mem[read_address[{}:0]]}}", DW - w, ab - 1)
        } else {
            format!("mem[read_address[{}:0]]", ab - 1)
        };
        // Port bits the memory does not use are collected into one wire whose
        // name Verilator's lint treats as intentionally unused.
        let mut unused = Vec::new();
        if ab < AW {
            unused.push(format!("read_address[{}:{ab}]", AW - 1));
            unused.push(format!("write_address[{}:{ab}]", AW - 1));
        }
        if w < DW {
            unused.push(format!("write_data[{}:{w}]", DW - 1));
        }
        let unused = if unused.is_empty() {
            String::new()
        } else {
            format!("wire unused_ok = &{{1'b0, {}, 1'b0}};\n", unused.join(", "))
        };
        if self._single_port {
            // One address: the write's while writing, else the read's; the
            // read data holds during a write (Yosys' `rdwr no_change` SPRAM rule).
            let read = read.replace("read_address", "addr");
            return Verilog::Custom(format!(
                "{unused}reg [{wm}:0] mem [0:{dm}];\n{init}wire [{am}:0] addr = write_enable ? write_address[{am}:0] : read_address[{am}:0];\nalways @(posedge clock) begin\n    if (write_enable) mem[addr] <= write_data[{wm}:0];\n    else read_data <= {read};\nend\n",
                wm = w - 1,
                dm = d - 1,
                am = ab - 1,
            ));
        }
        Verilog::Custom(format!(
            "{unused}reg [{wm}:0] mem [0:{dm}];\n{init}always @(posedge clock) begin\n    if (write_enable) mem[write_address[{am}:0]] <= write_data[{wm}:0];\n    read_data <= {read};\nend\n",
            wm = w - 1,
            dm = d - 1,
            am = ab - 1,
        ))
    }
}
