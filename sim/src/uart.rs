//! The board top under Verilator with a simulated UART: the host side is
//! the protocol client of the hardware contract (`spikeforge_hw::protocol`),
//! the same code that talks to a real board over a serial port; here its bytes become bits on the board's
//! `uart_rx` pin and the bits of `uart_tx` become bytes again.
//!
//! The bridge is built with a few clocks per bit (not a board's 12 to 25)
//! so simulation is fast; time-outs are converted to clocks at that bit
//! rate and [`BAUD`], so they mean the same number of bit times as on a
//! board. The link counts the bytes each way and the clocks, which is what
//! the protocol's cost is measured in (sim/tests/uart.rs).

use crate::verilate::{Built, Target};
use crate::SimError;
use spikeforge_hw::protocol::{Link, ProtocolError, BAUD};
use spikeforge_hw::HardwareSpec;
use std::collections::VecDeque;
use std::ffi::c_void;
use std::time::Duration;

/// Clocks per UART bit of the simulated boards.
pub const SIM_CLOCKS_PER_BIT: u32 = 4;

type NewFn = unsafe extern "C" fn() -> *mut c_void;
type CycleFn = unsafe extern "C" fn(*mut c_void, u32) -> u32;
type FreeFn = unsafe extern "C" fn(*mut c_void);

/// Builds (or takes from the cache) the board top of `spec` for simulation.
pub fn build_board(spec: &HardwareSpec) -> Result<Built, SimError> {
    crate::verilate::build_target(
        &Target::Board(spec.clone(), SIM_CLOCKS_PER_BIT),
        &crate::verilate::cache_root(),
        &Default::default(),
        &mut |_| {},
    )
}

/// A board top under Verilator with a host-side UART on its pins.
pub struct SimLink {
    ptr: *mut c_void,
    cycle_fn: CycleFn,
    free_fn: FreeFn,
    _lib: libloading::Library,
    cpb: u32,
    // Host -> board line: (level, clocks) segments still to drive.
    line: VecDeque<(u8, u32)>,
    // Board -> host deserializer.
    rx_state: Option<(u32, u32, u8)>, // (bit index, clocks to next sample, byte)
    rx_prev: u32,
    /// Clock cycles run.
    pub cycles: u64,
    /// Bytes the host put on the line.
    pub sent: u64,
    /// Bytes the host received.
    pub received: u64,
    /// LEDs at the last clock.
    pub leds: u32,
}

impl SimLink {
    /// A fresh board (power-on reset included) from a board build.
    pub fn new(built: &Built) -> Result<SimLink, SimError> {
        let load = |e: libloading::Error| SimError::Load { library: built.library.clone(), detail: e.to_string() };
        // SAFETY: a library spikeforge built from its board shim; the symbol
        // types match board_shim.cpp.
        unsafe {
            let lib = libloading::Library::new(&built.library).map_err(load)?;
            let new_fn: NewFn = *lib.get::<NewFn>(b"sf_board_new\0").map_err(load)?;
            let cycle_fn: CycleFn = *lib.get::<CycleFn>(b"sf_board_cycle\0").map_err(load)?;
            let free_fn: FreeFn = *lib.get::<FreeFn>(b"sf_board_free\0").map_err(load)?;
            let ptr = new_fn();
            let mut l = SimLink {
                ptr,
                cycle_fn,
                free_fn,
                _lib: lib,
                cpb: SIM_CLOCKS_PER_BIT,
                line: VecDeque::new(),
                rx_state: None,
                rx_prev: 1,
                cycles: 0,
                sent: 0,
                received: 0,
                leds: 0,
            };
            // Power-on reset and the clear that follows it.
            for _ in 0..2000 {
                l.cycle();
            }
            Ok(l)
        }
    }

    /// Clocks per second of board time: the baud rate times clocks per bit.
    fn clocks_per_second(&self) -> f64 {
        BAUD as f64 * self.cpb as f64
    }

    /// One clock; returns a byte the board finished sending, if any.
    fn cycle(&mut self) -> Option<u8> {
        // Host transmitter: the line level of the current segment (idle high).
        let rx = match self.line.front_mut() {
            Some((level, left)) => {
                let l = *level as u32;
                *left -= 1;
                if *left == 0 {
                    self.line.pop_front();
                }
                l
            }
            None => 1,
        };
        // SAFETY: live board model.
        let out = unsafe { (self.cycle_fn)(self.ptr, rx) };
        self.cycles += 1;
        self.leds = out >> 1;
        // Host receiver: sample in the middle of each bit.
        let line = out & 1;
        let mut got = None;
        match self.rx_state {
            None => {
                if self.rx_prev == 1 && line == 0 {
                    self.rx_state = Some((0, self.cpb / 2, 0));
                }
            }
            Some((bit, wait, byte)) => {
                if wait > 1 {
                    self.rx_state = Some((bit, wait - 1, byte));
                } else if bit == 0 {
                    // Middle of the start bit.
                    self.rx_state = if line == 0 { Some((1, self.cpb, 0)) } else { None };
                } else if bit <= 8 {
                    self.rx_state = Some((bit + 1, self.cpb, byte | ((line as u8) << (bit - 1))));
                } else {
                    if line == 1 {
                        got = Some(byte);
                        self.received += 1;
                    }
                    self.rx_state = None;
                }
            }
        }
        self.rx_prev = line;
        got
    }
}

impl SimLink {
    /// Queues `bytes` as 8N1 characters of `clocks_per_bit` clocks per bit
    /// (the bridge's own rate is [`SIM_CLOCKS_PER_BIT`]; another one is a
    /// host at the wrong baud rate).
    pub fn send_at(&mut self, bytes: &[u8], clocks_per_bit: u32) {
        let cpb = clocks_per_bit.max(1);
        self.sent += bytes.len() as u64;
        for &b in bytes {
            self.line.push_back((0, cpb));
            for i in 0..8 {
                self.line.push_back(((b >> i) & 1, cpb));
            }
            self.line.push_back((1, cpb));
        }
    }

    /// Queues the line at `level` (0 or 1) for `clocks` clocks: a glitch,
    /// a break, or an idle gap.
    pub fn send_level(&mut self, level: u8, clocks: u32) {
        if clocks > 0 {
            self.line.push_back((level & 1, clocks));
        }
    }

    /// Clocks per UART bit of this link.
    pub fn clocks_per_bit(&self) -> u32 {
        self.cpb
    }

    /// Runs `clocks` clocks, returning the bytes the board sent meanwhile.
    pub fn run_clocks(&mut self, clocks: u64) -> Vec<u8> {
        (0..clocks).filter_map(|_| self.cycle()).collect()
    }

    /// Runs until the host line is idle and the board has sent nothing for
    /// `quiet_bits` bit times; returns what it sent.
    pub fn drain(&mut self, quiet_bits: u32) -> Vec<u8> {
        let quiet = quiet_bits as u64 * self.cpb as u64;
        let mut got = Vec::new();
        let mut silent = 0;
        while silent < quiet || !self.line.is_empty() {
            match self.cycle() {
                Some(b) => {
                    got.push(b);
                    silent = 0;
                }
                None if self.line.is_empty() => silent += 1,
                None => silent = 0,
            }
        }
        got
    }
}

impl Link for SimLink {
    fn send(&mut self, bytes: &[u8]) -> Result<(), ProtocolError> {
        let cpb = self.cpb;
        self.send_at(bytes, cpb);
        Ok(())
    }

    fn recv(&mut self, timeout: Duration) -> Result<Option<u8>, ProtocolError> {
        let limit = (timeout.as_secs_f64() * self.clocks_per_second()) as u64;
        for _ in 0..limit.max(1) {
            if let Some(b) = self.cycle() {
                return Ok(Some(b));
            }
        }
        Ok(None)
    }
}

impl Drop for SimLink {
    fn drop(&mut self) {
        // SAFETY: freed once.
        unsafe { (self.free_fn)(self.ptr) };
    }
}
