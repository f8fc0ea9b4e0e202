//! The boards spikeforge writes projects for: device, clock, pins.
//!
//! Reset buttons: iCEBreaker BTN_N, Arty `ck_rst`, ULX3S BTN0 (PWR), all
//! active low; the HX8K breakout has none (power-on reset only).
//! Pins come from the boards' published constraint files (iCEBreaker
//! `icebreaker.pcf`, the iCE40-HX8K breakout board's user guide, Digilent's
//! Arty A7 master XDC, the ULX3S `ulx3s_v20.lpf`).
//!
//! UART rates: the bridge divides its clock by a whole number of clocks
//! per bit, so a board's rate is the fastest standard one that its design
//! clock divides within 2% (test `uart_rates_divide_the_design_clocks`)
//! and that its USB UART makes: the FT2232H (iCEBreaker, HX8K breakout,
//! Arty) and the FT231X (ULX3S) make 1 Mbaud and 500 kbaud exactly.

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
    /// on a global net), where it cannot meet timing at the board clock.
    pub clock_div: u32,
    /// iCE40 only: the design clock comes from the PLL at this frequency
    /// (instead of the divider), where the design is faster than the board
    /// clock: the iCEBreaker's UP5K runs it at 27 MHz from its 12 MHz
    /// oscillator (docs/benchmarks.md).
    pub pll_hz: Option<u32>,
    /// Default hardware spec preset for this board.
    pub spec: &'static str,
    /// Logic cells (LUT4 for iCE40, LUT6 for 7-series, LUT4 for ECP5).
    pub luts: u32,
    /// Block RAMs (SB_RAM40_4K, RAMB36, DP16KD).
    pub brams: u32,
    /// UART baud rate of the board's projects: the bridge's divider, the
    /// README and `spikeforge run --board`'s default.
    pub baud: u32,
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
        clock_div: 1,
        pll_hz: Some(27_000_000),
        spec: "ice40",
        luts: 5280,
        brams: 30,
        // 27 clocks a bit at the 27 MHz PLL clock.
        baud: BAUD,
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
        pll_hz: None,
        spec: "ice40",
        luts: 7680,
        brams: 32,
        // 12 clocks a bit at 12 MHz.
        baud: BAUD,
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
        pll_hz: None,
        spec: "ice40",
        luts: 20800,
        brams: 50,
        // 25 clocks a bit at 25 MHz.
        baud: BAUD,
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
        pll_hz: None,
        spec: "ecp5",
        luts: 83640,
        brams: 208,
        // The design runs at 12.5 MHz: 1 Mbaud would be 12.5 clocks a bit
        // (13: 3.8% off, too far for the receivers); 500 kbaud is 25 exactly.
        baud: 500_000,
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
    /// The design clock in Hz: the PLL's output if there is one (exactly
    /// what its dividers make), else the divided board clock.
    pub fn design_clock_hz(&self) -> u32 {
        match self.pll() {
            Some(p) => p.out_hz,
            None => self.clock_hz / self.clock_div,
        }
    }

    /// The yosys synthesis command for the board, top module `top`: on a
    /// device with SPRAM, `-spram` lets yosys put single-port memories
    /// (`HardwareSpec::single_port_synapses`) there.
    pub fn yosys_synth(&self, top: &str) -> String {
        let synth = match self.family {
            Family::Xilinx7 => "synth_xilinx -family xc7 -flatten",
            Family::Ecp5 => "synth_ecp5",
            Family::Ice40 => "synth_ice40",
        };
        let opts: String = self.yosys_synth_options().iter().map(|o| format!(" {o}")).collect();
        format!("{synth}{opts} -top {top}")
    }

    /// Options of the synthesis command beyond the family's defaults and
    /// the top module: `-spram` where the device has SPRAM. The Makefile's
    /// yosys command and the FuseSoC core's `yosys_synth_options` both take
    /// them from here.
    pub fn yosys_synth_options(&self) -> Vec<&'static str> {
        if self.sprams() > 0 {
            vec!["-spram"]
        } else {
            Vec::new()
        }
    }

    /// Single-port RAMs of the device: the iCE40 UltraPlus UP5K's four
    /// SB_SPRAM256KA (256 kbit each); none elsewhere.
    pub fn sprams(&self) -> u64 {
        if self.family == Family::Ice40 && self.device == "up5k" {
            4
        } else {
            0
        }
    }

    /// Clocks per UART bit of the bridge at the design clock and the board's rate.
    pub fn clocks_per_bit(&self) -> u32 {
        clocks_per_bit(self.design_clock_hz(), self.baud)
    }

    /// The iCE40 PLL settings for [`Board::pll_hz`], if the board uses the PLL.
    pub fn pll(&self) -> Option<Ice40Pll> {
        let hz = self.pll_hz?;
        assert_eq!(self.family, Family::Ice40, "{}: a PLL only for iCE40 boards", self.name);
        Some(ice40_pll(self.clock_hz, hz).unwrap_or_else(|| panic!("{}: no PLL setting for {hz} Hz", self.name)))
    }
}

/// Settings of the iCE40 PLL (SB_PLL40, simple feedback), as `icepll` finds them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ice40Pll {
    /// Reference divider (F_PFD = F_in / (DIVR+1)).
    pub divr: u8,
    /// Feedback divider (F_VCO = F_PFD · (DIVF+1)).
    pub divf: u8,
    /// Output divider (F_out = F_VCO / 2^DIVQ).
    pub divq: u8,
    /// Loop filter range for F_PFD.
    pub filter_range: u8,
    /// The output frequency these settings make, in Hz.
    pub out_hz: u32,
}

/// The iCE40 PLL setting closest to `out_hz` from `in_hz` within the
/// datasheet's ranges (F_PFD 10-133 MHz, F_VCO 533-1066 MHz, DIVQ 1-6): the
/// search `icepll` does (the first of equally close settings wins), or
/// `None` if no setting is within 1%.
pub fn ice40_pll(in_hz: u32, out_hz: u32) -> Option<Ice40Pll> {
    let (fin, want) = (in_hz as f64 / 1e6, out_hz as f64 / 1e6);
    let mut best: Option<(f64, Ice40Pll)> = None;
    for divr in 0..=15u8 {
        let pfd = fin / (divr as f64 + 1.0);
        if !(10.0..=133.0).contains(&pfd) {
            continue;
        }
        for divf in 0..=127u8 {
            let vco = pfd * (divf as f64 + 1.0);
            if !(533.0..=1066.0).contains(&vco) {
                continue;
            }
            for divq in 1..=6u8 {
                let out = vco / f64::from(1u32 << divq);
                let err = (out - want).abs();
                if best.as_ref().is_none_or(|(e, _)| err < *e) {
                    let filter_range = match pfd {
                        f if f < 17.0 => 1,
                        f if f < 26.0 => 2,
                        f if f < 44.0 => 3,
                        f if f < 66.0 => 4,
                        f if f < 101.0 => 5,
                        _ => 6,
                    };
                    let out_hz = (out * 1e6).round() as u32;
                    best = Some((err, Ice40Pll { divr, divf, divq, filter_range, out_hz }));
                }
            }
        }
    }
    best.filter(|(e, _)| *e <= want * 0.01).map(|(_, p)| p)
}

/// Clocks per UART bit at a clock and baud rate (rounded).
pub fn clocks_per_bit(clock_hz: u32, baud: u32) -> u32 {
    (clock_hz + baud / 2) / baud
}

/// How far the bit rate the bridge makes at `clock_hz` (a whole number of
/// clocks per bit) is from `baud`, as a fraction.
pub fn baud_error(clock_hz: u32, baud: u32) -> f64 {
    let made = clock_hz as f64 / clocks_per_bit(clock_hz, baud) as f64;
    (made - baud as f64).abs() / baud as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `icepll -i 12 -o 24` and `-o 18`: DIVR 0, DIVF 63, DIVQ 5, FILTER_RANGE 1;
    /// DIVR 0, DIVF 47, DIVQ 5.
    #[test]
    fn pll_settings_are_icepll_s() {
        let p = ice40_pll(12_000_000, 24_000_000).unwrap();
        assert_eq!((p.divr, p.divf, p.divq, p.filter_range, p.out_hz), (0, 63, 5, 1, 24_000_000));
        let p = ice40_pll(12_000_000, 18_000_000).unwrap();
        assert_eq!((p.divr, p.divf, p.divq, p.out_hz), (0, 47, 5, 18_000_000));
        assert!(ice40_pll(12_000_000, 1_000_000).is_none(), "below the PLL's range");
    }

    /// An 8N1 receiver sampling mid-bit tolerates a few percent over the
    /// ten bits of a character; 2% leaves the other side its share.
    #[test]
    fn uart_rates_divide_the_design_clocks() {
        for b in BOARDS {
            let e = baud_error(b.design_clock_hz(), b.baud);
            assert!(e < 0.02, "{}: {} baud at {} Hz is {:.1}% off", b.name, b.baud, b.design_clock_hz(), 100.0 * e);
            assert!(b.clocks_per_bit() >= 8, "{}: too few clocks per bit to sample mid-bit", b.name);
        }
        let cpb: Vec<(&str, u32, u32)> = BOARDS.iter().map(|b| (b.name, b.baud, b.clocks_per_bit())).collect();
        assert_eq!(
            cpb,
            [("icebreaker", BAUD, 27), ("ice40-hx8k", BAUD, 12), ("arty-a7", BAUD, 25), ("ulx3s", 500_000, 25)]
        );
        // Why the ULX3S is not at 1 Mbaud: its 12.5 MHz design clock.
        assert!(baud_error(12_500_000, 1_000_000) > 0.03);
    }
}
