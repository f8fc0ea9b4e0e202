//! The boards spikeforge writes projects for: device, clock, pins.
//!
//! Reset buttons: iCEBreaker BTN_N, Arty `ck_rst`, ULX3S BTN0 (PWR), all
//! active low; the HX8K breakout has none (power-on reset only).
//! Pins come from the boards' published constraint files (iCEBreaker
//! `icebreaker.pcf`, the iCE40-HX8K breakout board's user guide, Digilent's
//! Arty A7 master XDC, the ULX3S `ulx3s_v20.lpf`).

/// FPGA family and its open or vendor flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Lattice iCE40 UltraPlus / HX: yosys + nextpnr-ice40 + icepack.
    Ice40,
    /// Xilinx 7 series: Vivado (non-project Tcl); checked here with `yosys synth_xilinx`.
    Xilinx7,
    /// Lattice ECP5: yosys + nextpnr-ecp5 + ecppack; checked here with `yosys synth_ecp5`.
    Ecp5,
}

impl Family {
    /// Bits of one block RAM as the fit report counts them: SB_RAM40_4K
    /// (4 Kbit), RAMB36 (36 Kbit; two RAMB18 count as one), DP16KD (18 Kbit).
    pub fn bram_bits(self) -> u64 {
        match self {
            Family::Ice40 => 4096,
            Family::Xilinx7 => 36 * 1024,
            Family::Ecp5 => 18 * 1024,
        }
    }
}

/// One board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Board {
    /// Name on the command line.
    pub name: &'static str,
    /// Human description.
    pub description: &'static str,
    /// Family.
    pub family: Family,
    /// Device as the place-and-route tool names it (`up5k`, `hx8k`,
    /// `xc7a35ticsg324-1L`, `85k`).
    pub device: &'static str,
    /// Package.
    pub package: &'static str,
    /// Board clock in Hz.
    pub clock_hz: u32,
    /// Clock pin.
    pub clock_pin: &'static str,
    /// UART pin the FPGA receives on (the host's TX).
    pub rx_pin: &'static str,
    /// UART pin the FPGA sends on.
    pub tx_pin: &'static str,
    /// Reset button pin (active low), if the board has one for the user.
    pub reset_pin: Option<&'static str>,
    /// LED pins (activity, busy, error, ...).
    pub led_pins: &'static [&'static str],
    /// LEDs light on a low level.
    pub leds_active_low: bool,
    /// The design runs at the board clock divided by this (a toggle flip-flop
    /// on a global net): on the UP5K the neuron datapath reaches 8.5-9 MHz,
    /// under its 12 MHz board clock; the HX8K reaches 22 MHz (docs/benchmarks.md).
    pub clock_div: u32,
    /// Default hardware spec preset for this board.
    pub spec: &'static str,
    /// Logic cells (LUT4 for iCE40, LUT6 for 7-series, LUT4 for ECP5).
    pub luts: u32,
    /// Block RAMs (SB_RAM40_4K, RAMB36, DP16KD).
    pub brams: u32,
}

pub use spikeforge_hw::protocol::BAUD;

/// Every supported board.
pub const BOARDS: &[Board] = &[
    Board {
        name: "icebreaker",
        description: "1BitSquared iCEBreaker (iCE40 UP5K, 12 MHz, FTDI UART)",
        family: Family::Ice40,
        device: "up5k",
        package: "sg48",
        clock_hz: 12_000_000,
        clock_pin: "35",
        rx_pin: "6",
        tx_pin: "9",
        reset_pin: Some("10"),
        led_pins: &["11", "37"],
        leds_active_low: true,
        clock_div: 2,
        spec: "ice40",
        luts: 5280,
        brams: 30,
    },
    Board {
        name: "ice40-hx8k",
        description: "Lattice iCE40-HX8K breakout board (12 MHz, FTDI UART)",
        family: Family::Ice40,
        device: "hx8k",
        package: "ct256",
        clock_hz: 12_000_000,
        clock_pin: "J3",
        rx_pin: "B10",
        tx_pin: "B12",
        reset_pin: None,
        led_pins: &["B5", "B4", "A2", "A1", "C5", "C4", "B3", "C3"],
        leds_active_low: false,
        clock_div: 1,
        spec: "ice40",
        luts: 7680,
        brams: 32,
    },
    Board {
        name: "arty-a7",
        description: "Digilent Arty A7-35T (Artix-7, 100 MHz, USB UART)",
        family: Family::Xilinx7,
        device: "xc7a35ticsg324-1L",
        package: "csg324",
        clock_hz: 100_000_000,
        clock_pin: "E3",
        rx_pin: "A9",
        tx_pin: "D10",
        reset_pin: Some("C2"),
        led_pins: &["H5", "J5", "T9", "T10"],
        leds_active_low: false,
        clock_div: 4,
        spec: "tiny",
        luts: 20800,
        brams: 50,
    },
    Board {
        name: "ulx3s",
        description: "Radiona ULX3S (ECP5 LFE5U-85F, 25 MHz, FTDI UART)",
        family: Family::Ecp5,
        device: "85k",
        package: "CABGA381",
        clock_hz: 25_000_000,
        clock_pin: "G2",
        rx_pin: "M1",
        tx_pin: "L4",
        reset_pin: Some("D6"),
        led_pins: &["B2", "C2", "C1", "D2", "D1", "E2", "E1", "H3"],
        leds_active_low: false,
        clock_div: 2,
        spec: "tiny",
        luts: 83640,
        brams: 208,
    },
];

/// A board name that is not in [`BOARDS`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, miette::Diagnostic)]
#[error("unknown board `{name}`; boards: {known}")]
#[diagnostic(
    code(spikeforge::fpga::unknown_board),
    help("`spikeforge fpga --list-boards` lists them with their devices")
)]
pub struct UnknownBoard {
    /// The name given.
    pub name: String,
    /// The boards there are.
    pub known: String,
}

/// The board of a name.
pub fn board(name: &str) -> Result<&'static Board, UnknownBoard> {
    BOARDS.iter().find(|b| b.name == name).ok_or_else(|| UnknownBoard {
        name: name.to_string(),
        known: BOARDS.iter().map(|b| b.name).collect::<Vec<_>>().join(", "),
    })
}

impl Board {
    /// The design clock in Hz.
    pub fn design_clock_hz(&self) -> u32 {
        self.clock_hz / self.clock_div
    }
}

/// Clocks per UART bit at a clock (rounded).
pub fn clocks_per_bit(clock_hz: u32) -> u32 {
    (clock_hz + BAUD / 2) / BAUD
}
