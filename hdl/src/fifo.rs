//! A small first-word-fall-through FIFO of axon keys or slots.
//!
//! Registers and a shift on pop, so the head is a register (no read mux in
//! front of the memory address it usually drives). The depth and the
//! `almost_full` margin are chosen at construction: a producer with a
//! pipeline keeps pushing the items it has in flight after it sees
//! `almost_full`, so the margin must cover them (the sweep has five, see
//! `sweep::IN_FLIGHT`). Beyond that `full` pushes back on the sender, so
//! nothing is ever dropped.
//!
//! The Verilog is generated at run time with the exact depth
//! (`Verilog::Custom`), as `SpecRam` is; `update()` is the rust-hdl
//! simulation model of the same registers.

use rust_hdl::prelude::*;

/// Key width.
pub const W: usize = 16;

/// See the module docs.
#[derive(LogicBlock)]
pub struct KeyFifo {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Push `data_in` (ignored when full).
    pub push: Signal<In, bool>,
    /// Pushed value.
    pub data_in: Signal<In, Bits<W>>,
    /// Pop the head (ignored when empty).
    pub pop: Signal<In, bool>,
    /// The head.
    pub head: Signal<Out, Bits<W>>,
    /// Nothing stored.
    pub empty: Signal<Out, bool>,
    /// No room.
    pub full: Signal<Out, bool>,
    /// Room for `room` more at most: a producer that stops here may still
    /// push the `room` items it has in flight.
    pub almost_full: Signal<Out, bool>,
    _depth: usize,
    _room: usize,
    /// The model's registers: entries (head first) and count.
    _e: Vec<u64>,
    _count: usize,
}

impl Default for KeyFifo {
    /// Four entries, `almost_full` with room for two.
    fn default() -> Self {
        KeyFifo::new(4, 2)
    }
}

impl KeyFifo {
    /// A FIFO of `depth` entries whose `almost_full` is high while fewer
    /// than `room + 1` entries are free.
    pub fn new(depth: usize, room: usize) -> KeyFifo {
        assert!((2..=15).contains(&depth) && room < depth, "FIFO depth 2..15, margin below the depth");
        KeyFifo {
            clock: Default::default(),
            push: Default::default(),
            data_in: Default::default(),
            pop: Default::default(),
            head: Default::default(),
            empty: Default::default(),
            full: Default::default(),
            almost_full: Default::default(),
            _depth: depth,
            _room: room,
            _e: vec![0; depth],
            _count: 0,
        }
    }

    fn outputs(&mut self) {
        let n = self._count;
        self.head.next = Bits::<W>::from(self._e[0]);
        self.empty.next = n == 0;
        self.full.next = n == self._depth;
        self.almost_full.next = n >= self._depth - self._room;
    }
}

impl Logic for KeyFifo {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            // Exactly the Verilog's registers (stale entries included).
            let n = self._count;
            let do_pop = self.pop.val() && n != 0;
            let do_push = self.push.val() && n != self._depth;
            let pos = if do_pop { n - 1 } else { n };
            if do_pop {
                self._e.remove(0);
                let last = *self._e.last().unwrap();
                self._e.push(last);
            }
            if do_push {
                self._e[pos] = self.data_in.val().to_u64();
            }
            self._count = n + do_push as usize - do_pop as usize;
        }
        // Outputs are functions of the registers only.
        self.outputs();
    }

    fn connect(&mut self) {
        self.head.connect();
        self.empty.connect();
        self.full.connect();
        self.almost_full.connect();
    }

    fn hdl(&self) -> Verilog {
        let d = self._depth;
        let thr = d - self._room;
        let mut s = String::new();
        s.push_str("reg [3:0] count = 4'd0;\n");
        for i in 0..d {
            s.push_str(&format!("reg [{}:0] e{i} = {W}'d0;\n", W - 1));
        }
        s.push_str(&format!(
            "wire do_pop = pop && (count != 4'd0);\nwire do_push = push && (count != 4'd{d});\n\
             // The entry a push writes, after the (optional) shift.\n\
             wire [3:0] pos = do_pop ? count - 4'd1 : count;\n\
             always @(*) begin\n    head = e0;\n    empty = count == 4'd0;\n    full = count == 4'd{d};\n    almost_full = count >= 4'd{thr};\nend\n\
             always @(posedge clock) begin\n"
        ));
        for i in 0..d {
            s.push_str(&format!("    if (do_push && pos == 4'd{i}) e{i} <= data_in;\n"));
            if i + 1 < d {
                s.push_str(&format!("    else if (do_pop) e{i} <= e{};\n", i + 1));
            }
        }
        s.push_str("    if (do_push && !do_pop) count <= count + 4'd1;\n    if (do_pop && !do_push) count <= count - 4'd1;\nend\n");
        Verilog::Custom(s)
    }
}
