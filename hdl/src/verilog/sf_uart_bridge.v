// spikeforge UART host bridge: the framed protocol of docs/host-protocol.md
// on one UART (8N1), driving the top-level ports of a spikeforge design.
// Fixed, spec-independent glue; the port widths are those every spikeforge
// design has. Verilog-2005, lint-clean under verilator -Wall.
module sf_uart_bridge #(
    // Clocks per UART bit: the design clock over the baud rate (12 MHz at
    // 1 Mbaud by default; the board top passes the board's own).
    parameter integer CLKS_PER_BIT = 12,
    // A request whose next byte does not come within this many bit times
    // is dropped and the receiver waits for 0x55 again (docs/host-protocol.md).
    parameter integer FRAME_TIMEOUT_BITS = 1024
) (
    input  wire         clock,
    input  wire         reset,      // synchronous, active high
    input  wire         rx,
    output wire         tx,
    output reg          activity,   // toggles on every good frame
    // The design's host ports.
    output reg          step,
    input  wire         done,
    input  wire         busy,
    input  wire [31:0]  step_count,
    output reg          in_valid,
    output reg  [15:0]  in_index,
    input  wire         in_ready,
    input  wire         out_valid,
    input  wire [11:0]  out_core,
    input  wire [15:0]  out_slot,
    output reg          out_ready,
    output reg          monitor,
    output reg          peek_req,
    output reg  [11:0]  peek_core,
    output reg  [15:0]  peek_slot,
    input  wire         peek_valid,
    input  wire [31:0]  peek_data,
    input  wire [3:0]   errors,
    output reg          err_clear,
    output reg          clear,
    output reg          cfg_we,
    output wire [11:0]  cfg_core,
    output wire [3:0]   cfg_mem,
    output wire [23:0]  cfg_addr,
    output wire [143:0] cfg_data
);
    // CRC-8, polynomial 0x07, initial value 0, no reflection.
    function [7:0] crc8;
        input [7:0] c;
        input [7:0] d;
        integer i;
        reg [7:0] x;
        begin
            x = c ^ d;
            for (i = 0; i < 8; i = i + 1)
                x = x[7] ? ((x << 1) ^ 8'h07) : (x << 1);
            crc8 = x;
        end
    endfunction

    // ---------------------------------------------------------------- UART RX
    reg [1:0]  rx_sync = 2'b11;
    reg [15:0] rx_cnt = 16'd0;
    reg [3:0]  rx_bit = 4'd0;
    reg [7:0]  rx_shift = 8'd0;
    reg        rx_busy = 1'b0;
    reg        rx_valid = 1'b0;
    reg [7:0]  rx_byte = 8'd0;
    always @(posedge clock) begin
        rx_sync <= {rx_sync[0], rx};
        rx_valid <= 1'b0;
        if (reset) begin
            rx_busy <= 1'b0;
        end else if (!rx_busy) begin
            if (!rx_sync[1]) begin
                // Start bit: sample the middle of each bit from here.
                rx_busy <= 1'b1;
                rx_cnt <= CLKS_PER_BIT[15:0] / 16'd2;
                rx_bit <= 4'd0;
            end
        end else if (rx_cnt != 16'd0) begin
            rx_cnt <= rx_cnt - 16'd1;
        end else begin
            rx_cnt <= CLKS_PER_BIT[15:0] - 16'd1;
            rx_bit <= rx_bit + 4'd1;
            if (rx_bit == 4'd0) begin
                if (rx_sync[1]) rx_busy <= 1'b0;   // a glitch, not a start bit
            end else if (rx_bit <= 4'd8) begin
                rx_shift <= {rx_sync[1], rx_shift[7:1]};
            end else begin
                rx_busy <= 1'b0;
                if (rx_sync[1]) begin             // stop bit present
                    rx_valid <= 1'b1;
                    rx_byte <= rx_shift;
                end
            end
        end
    end

    // ---------------------------------------------------------------- UART TX
    reg [15:0] tx_cnt = 16'd0;
    reg [3:0]  tx_bit = 4'd0;
    reg [9:0]  tx_shift = 10'h3ff;
    reg        tx_busy = 1'b0;
    reg        tx_load = 1'b0;
    reg [7:0]  tx_data = 8'd0;
    assign tx = tx_shift[0];
    always @(posedge clock) begin
        if (reset) begin
            tx_busy <= 1'b0;
            tx_shift <= 10'h3ff;
        end else if (!tx_busy) begin
            if (tx_load) begin
                tx_shift <= {1'b1, tx_data, 1'b0};
                tx_busy <= 1'b1;
                tx_cnt <= CLKS_PER_BIT[15:0] - 16'd1;
                tx_bit <= 4'd0;
            end
        end else if (tx_cnt != 16'd0) begin
            tx_cnt <= tx_cnt - 16'd1;
        end else begin
            tx_cnt <= CLKS_PER_BIT[15:0] - 16'd1;
            tx_shift <= {1'b1, tx_shift[9:1]};
            tx_bit <= tx_bit + 4'd1;
            if (tx_bit == 4'd9) tx_busy <= 1'b0;
        end
    end

    // ------------------------------------------------------- reply frames out
    // A reply: 0xAA, type, length, payload (up to 8 bytes, given
    // left-aligned in rep_payload and sent from the most significant byte),
    // CRC-8 over type, length and payload.
    reg        rep_start = 1'b0;      // pulse: send rep_type/rep_len/rep_payload
    reg [7:0]  rep_type = 8'd0;
    reg [3:0]  rep_len = 4'd0;
    reg [63:0] rep_payload = 64'd0;
    reg        rep_busy = 1'b0;
    reg [3:0]  rep_pos = 4'd0;        // 0 sync, 1 type, 2 len, 3.. payload, then crc
    reg [7:0]  rep_crc = 8'd0;
    reg [63:0] rep_sh = 64'd0;
    reg [7:0]  rep_t = 8'd0;
    reg [3:0]  rep_n = 4'd0;
    always @(posedge clock) begin
        tx_load <= 1'b0;
        if (reset) begin
            rep_busy <= 1'b0;
        end else if (!rep_busy) begin
            if (rep_start) begin
                rep_busy <= 1'b1;
                rep_pos <= 4'd0;
                rep_crc <= 8'd0;
                rep_sh <= rep_payload;
                rep_t <= rep_type;
                rep_n <= rep_len;
            end
        end else if (!tx_busy && !tx_load) begin
            tx_load <= 1'b1;
            rep_pos <= rep_pos + 4'd1;
            if (rep_pos == 4'd0) begin
                tx_data <= 8'hAA;
            end else if (rep_pos == 4'd1) begin
                tx_data <= rep_t;
                rep_crc <= crc8(rep_crc, rep_t);
            end else if (rep_pos == 4'd2) begin
                tx_data <= {4'd0, rep_n};
                rep_crc <= crc8(rep_crc, {4'd0, rep_n});
            end else if (rep_pos < rep_n + 4'd3) begin
                tx_data <= rep_sh[63:56];
                rep_crc <= crc8(rep_crc, rep_sh[63:56]);
                rep_sh <= {rep_sh[55:0], 8'd0};
            end else begin
                tx_data <= rep_crc;
                rep_busy <= 1'b0;
            end
        end
    end
    wire rep_idle = !rep_busy && !rep_start;

    // ------------------------------------------------------ command state
    localparam [3:0] X_IDLE = 4'd0, X_ALIGN = 4'd1, X_WRITE = 4'd2, X_INPUT = 4'd3, X_STEP = 4'd4,
                     X_PEEK = 4'd5, X_PEEK2 = 4'd6, X_CLEAR = 4'd7, X_CLEAR2 = 4'd8, X_REPLY = 4'd9,
                     X_DONE = 4'd10, X_BITS = 4'd11, X_BCOUNT = 4'd12, X_BWRITE = 4'd13, X_POP = 4'd14,
                     X_RPOP = 4'd15;
    reg [3:0]   x_state = X_IDLE;
    reg [3:0]   x_ret = X_IDLE;        // the state X_POP and X_RPOP return to
    reg [4:0]   x_pops = 5'd0;         // bytes X_ALIGN, X_POP or X_RPOP still shift
    reg [3:0]   x_left = 4'd0;         // INPUT: indices left
    reg [4:0]   x_rem = 5'd0;          // INPUT_BITMAP: bitmap bytes left; WRITE_BURST: word bytes left
    reg [2:0]   x_bit = 3'd0;          // INPUT_BITMAP: bit of the current byte
    reg         x_bitmap = 1'b0;       // INPUT_BITMAP running: in_index counts the bits
    reg         x_badlen = 1'b0;       // the request's length is wrong for its command
    reg [4:0]   x_off = 5'd0;          // WRITE_BURST: word of the frame being written
    reg [31:0]  x_cycles = 32'd0;
    reg [31:0]  x_steps = 32'd0;
    reg         x_silent = 1'b0;       // the power-on clear sends no reply
    reg         spike_pending = 1'b0;
    reg [27:0]  spike_word = 28'd0;
    reg         ok_pend = 1'b0;
    reg         bad_pend = 1'b0;
    reg [15:0]  cfg_count = 16'd0;     // configuration words applied since reset (wraps)
    // A payload is used from fixed places: after its CRC, X_ALIGN shifts it
    // to the top of r_buf (first byte in [191:184], zeros below), where
    // every header field has one place whatever the length. Commands then
    // take it a byte at a time by shifting (no wide multiplexer): r_lpop
    // shifts r_buf up a byte (the next index or bitmap byte comes to the
    // top), r_rpop shifts the words of a WRITE_BURST, r_buf[135:0], down a
    // byte (the next word comes to the bottom, below the header).
    wire        r_lpop = (x_state == X_ALIGN || x_state == X_POP) && x_pops != 5'd0;
    wire        r_rpop = (x_state == X_RPOP) && x_pops != 5'd0;
    // ------------------------------------------------------ request frames in
    // A request: 0x55, command, length (0..24), payload, CRC-8 over command,
    // length and payload. The payload is shifted in from the right: its
    // last byte ends in r_buf[7:0].
    localparam [2:0] R_SYNC = 3'd0, R_CMD = 3'd1, R_LEN = 3'd2, R_DATA = 3'd3, R_CRC = 3'd4;
    reg [2:0]   r_state = R_SYNC;
    reg [7:0]   r_cmd = 8'd0;
    reg [4:0]   r_len = 5'd0;
    reg [4:0]   r_got = 5'd0;
    reg [7:0]   r_crc = 8'd0;
    reg [191:0] r_buf = 192'd0;
    reg         frame_ok = 1'b0;      // pulse: a frame with a good CRC
    reg         frame_bad = 1'b0;     // pulse: CRC wrong or length too long
    reg [7:0]   bad_code = 8'd0;
    // The receiver takes a request only while no other one is pending or
    // running: r_cmd and r_buf then change only as the command uses them
    // (r_lpop, r_rpop), from a good CRC until the command is done, so
    // bytes arriving early (a host that does not wait for the reply, or
    // line noise) can never mix into a command.
    wire r_armed = (x_state == X_IDLE) && !ok_pend && !bad_pend && !frame_ok && !frame_bad;
    localparam integer R_TIMEOUT_CLKS = CLKS_PER_BIT * FRAME_TIMEOUT_BITS;
    localparam [19:0] R_TIMEOUT = R_TIMEOUT_CLKS[19:0];
    reg [19:0]  r_idle = 20'd0;       // clocks since the last byte of a frame in progress
    always @(posedge clock) begin
        frame_ok <= 1'b0;
        frame_bad <= 1'b0;
        if (r_state == R_SYNC || rx_valid) r_idle <= 20'd0;
        else r_idle <= r_idle + 20'd1;
        if (reset) begin
            r_state <= R_SYNC;
        end else if (!r_armed) begin
            r_state <= R_SYNC;
            if (r_lpop) r_buf <= {r_buf[183:0], 8'd0};
            if (r_rpop) r_buf[135:0] <= {8'd0, r_buf[135:8]};
        end else if (!rx_valid) begin
            // A frame cut short: give up on it after the time-out.
            if (r_idle == R_TIMEOUT) r_state <= R_SYNC;
        end else begin
            case (r_state)
                R_SYNC: if (rx_byte == 8'h55) begin
                    r_state <= R_CMD;
                    r_crc <= 8'd0;
                end
                R_CMD: begin
                    r_cmd <= rx_byte;
                    r_crc <= crc8(r_crc, rx_byte);
                    r_state <= R_LEN;
                end
                R_LEN: begin
                    r_crc <= crc8(r_crc, rx_byte);
                    r_got <= 5'd0;
                    if (rx_byte > 8'd24) begin
                        frame_bad <= 1'b1;
                        bad_code <= 8'd3;
                        r_state <= R_SYNC;
                    end else begin
                        r_len <= rx_byte[4:0];
                        r_state <= (rx_byte == 8'd0) ? R_CRC : R_DATA;
                    end
                end
                R_DATA: begin
                    r_crc <= crc8(r_crc, rx_byte);
                    r_buf <= {r_buf[183:0], rx_byte};
                    r_got <= r_got + 5'd1;
                    if (r_got + 5'd1 == r_len) r_state <= R_CRC;
                end
                default: begin
                    r_state <= R_SYNC;
                    if (rx_byte == r_crc) begin
                        frame_ok <= 1'b1;
                    end else begin
                        frame_bad <= 1'b1;
                        bad_code <= 8'd1;
                    end
                end
            endcase
        end
    end

    // The aligned payload's fields. WRITE and WRITE_BURST: core (2 bytes),
    // memory (1), address (3); WRITE_BURST: bytes per word b (1). PEEK:
    // core (2), slot (2). INPUT: the next index; INPUT_BITMAP: the first
    // index, then the current bitmap byte.
    wire [15:0] a_first = r_buf[191:176];
    wire [7:0]  a_byte0 = r_buf[191:184];
    wire [7:0]  a_bytes = r_buf[143:136];
    wire [4:0]  a_b = r_buf[140:136];
    wire [7:0]  bm_byte = r_buf[175:168];
    // INPUT_BITMAP: the current bit is done (its index taken, or not set).
    wire        bm_advance = in_valid ? in_ready : !bm_byte[x_bit];

    // -------------------------------------------------------------- commands
    // Strictly request/response: the host sends the next request after the
    // reply to the last one (a step's reply is its spikes, then DONE).
    always @(posedge clock) begin
        rep_start <= 1'b0;
        step <= 1'b0;
        cfg_we <= 1'b0;
        peek_req <= 1'b0;
        err_clear <= 1'b0;
        clear <= 1'b0;
        if (frame_ok) ok_pend <= 1'b1;
        if (frame_bad) bad_pend <= 1'b1;
        if (reset) begin
            x_state <= X_CLEAR;        // power-on or reset button: zero the accumulators
            x_silent <= 1'b1;
            x_bitmap <= 1'b0;
            in_valid <= 1'b0;
            out_ready <= 1'b0;
            monitor <= 1'b0;
            spike_pending <= 1'b0;
            activity <= 1'b0;
            ok_pend <= 1'b0;
            bad_pend <= 1'b0;
            cfg_count <= 16'd0;
        end else begin
            case (x_state)
                X_IDLE: begin
                    if (bad_pend && rep_idle) begin
                        bad_pend <= 1'b0;
                        rep_type <= 8'h8F; rep_len <= 4'd1; rep_payload <= {bad_code, 56'd0};
                        rep_start <= 1'b1;
                    end else if (ok_pend && rep_idle) begin
                        ok_pend <= 1'b0;
                        activity <= !activity;
                        x_silent <= 1'b0;
                        x_pops <= 5'd24 - r_len;
                        // Decided here from the length, registered for the
                        // dispatch after X_ALIGN (short paths there).
                        x_rem <= (r_cmd == 8'h0A) ? r_len - 5'd7 : r_len - 5'd2;
                        case (r_cmd)
                            8'h01: x_badlen <= r_len != 5'd24;
                            8'h02: x_badlen <= r_len[0] || r_len == 5'd0;
                            8'h03: x_badlen <= r_len != 5'd0;
                            8'h04: x_badlen <= r_len != 5'd4;
                            8'h08: x_badlen <= r_len != 5'd1;
                            8'h09: x_badlen <= r_len < 5'd3;
                            8'h0A: x_badlen <= r_len < 5'd8;
                            default: x_badlen <= 1'b0;
                        endcase
                        x_state <= X_ALIGN;
                    end
                end
                X_ALIGN: if (x_pops != 5'd0) begin
                    x_pops <= x_pops - 5'd1;
                end else begin
                    // Default reply: ACK carrying the command; NAK codes:
                    // 1 CRC, 2 unknown command, 3 bad length, 4 busy.
                    rep_type <= 8'h81; rep_len <= 4'd1; rep_payload <= {r_cmd, 56'd0};
                    x_state <= X_IDLE;
                    x_off <= 5'd0;
                    case (r_cmd)
                        8'h01: if (x_badlen) begin
                                   rep_type <= 8'h8F; rep_payload <= {8'd3, 56'd0}; rep_start <= 1'b1;
                               end else if (busy) begin
                                   rep_type <= 8'h8F; rep_payload <= {8'd4, 56'd0}; rep_start <= 1'b1;
                               end else begin
                                   x_state <= X_WRITE;
                               end
                        8'h02: if (!x_badlen) begin
                                   // The first index is at the top: a_first.
                                   x_left <= r_len[4:1];
                                   x_state <= X_INPUT;
                               end else begin
                                   rep_type <= 8'h8F; rep_payload <= {8'd3, 56'd0}; rep_start <= 1'b1;
                               end
                        8'h03: if (x_badlen) begin
                                   rep_type <= 8'h8F; rep_payload <= {8'd3, 56'd0}; rep_start <= 1'b1;
                               end else begin
                                   step <= 1'b1;
                                   x_cycles <= 32'd0;
                                   x_state <= X_STEP;
                               end
                        8'h04: if (x_badlen) begin
                                   rep_type <= 8'h8F; rep_payload <= {8'd3, 56'd0}; rep_start <= 1'b1;
                               end else if (busy) begin
                                   rep_type <= 8'h8F; rep_payload <= {8'd4, 56'd0}; rep_start <= 1'b1;
                               end else begin
                                   peek_req <= 1'b1;
                                   peek_core <= r_buf[187:176];
                                   peek_slot <= r_buf[175:160];
                                   x_state <= X_PEEK;
                               end
                        8'h05: begin
                                   rep_type <= 8'h86; rep_len <= 4'd8;
                                   rep_payload <= {4'd0, errors, 7'd0, busy, step_count, cfg_count};
                                   rep_start <= 1'b1;
                               end
                        8'h06: if (busy) begin
                                   rep_type <= 8'h8F; rep_payload <= {8'd4, 56'd0}; rep_start <= 1'b1;
                               end else begin
                                   clear <= 1'b1;
                                   x_state <= X_CLEAR2;
                               end
                        8'h07: begin err_clear <= 1'b1; rep_start <= 1'b1; end
                        8'h08: if (!x_badlen) begin
                                   monitor <= a_byte0[0]; rep_start <= 1'b1;
                               end else begin
                                   rep_type <= 8'h8F; rep_payload <= {8'd3, 56'd0}; rep_start <= 1'b1;
                               end
                        // A bitmap must not run past input 65535: a first
                        // index up to 65360 leaves room for all 176 bits.
                        8'h09: if (x_badlen || a_first > 16'd65360) begin
                                   rep_type <= 8'h8F; rep_payload <= {8'd3, 56'd0}; rep_start <= 1'b1;
                               end else begin
                                   // in_index takes a_first at this edge and counts
                                   // the bits from here; the first bitmap byte is
                                   // bm_byte; x_rem counts the bitmap's bytes.
                                   x_bit <= 3'd0;
                                   x_bitmap <= 1'b1;
                                   x_state <= X_BITS;
                               end
                        8'h0A: if (x_badlen || a_bytes == 8'd0 || a_bytes > 8'd17) begin
                                   rep_type <= 8'h8F; rep_payload <= {8'd3, 56'd0}; rep_start <= 1'b1;
                               end else if (busy) begin
                                   rep_type <= 8'h8F; rep_payload <= {8'd4, 56'd0}; rep_start <= 1'b1;
                               end else begin
                                   // The words down to the bottom of r_buf, then count
                                   // them (x_rem: their bytes).
                                   x_pops <= 5'd24 - r_len;
                                   x_ret <= X_BCOUNT;
                                   x_state <= X_RPOP;
                               end
                        default: begin rep_type <= 8'h8F; rep_payload <= {8'd2, 56'd0}; rep_start <= 1'b1; end
                    endcase
                end
                X_WRITE: begin
                    // cfg_* are the payload's fields (below); r_buf holds still
                    // while the receiver is disarmed (r_armed).
                    cfg_we <= 1'b1;
                    cfg_count <= cfg_count + 16'd1;
                    x_state <= X_REPLY;
                end
                X_INPUT: begin
                    if (in_valid && in_ready) begin
                        in_valid <= 1'b0;
                        x_left <= x_left - 4'd1;
                        if (x_left == 4'd1) begin
                            x_state <= X_REPLY;
                        end else begin
                            // The next index: shift this one's two bytes out.
                            x_pops <= 5'd2;
                            x_ret <= X_INPUT;
                            x_state <= X_POP;
                        end
                    end else begin
                        in_valid <= 1'b1;
                    end
                end
                X_BITS: begin
                    // One bit a clock, LSB first; a set bit is sent as its
                    // input index (valid/ready), as an INPUT index would be.
                    if (in_valid && in_ready) in_valid <= 1'b0;
                    else if (!in_valid && bm_byte[x_bit]) in_valid <= 1'b1;
                    if (bm_advance) begin
                        x_bit <= x_bit + 3'd1;
                        if (x_bit == 3'd7) begin
                            x_rem <= x_rem - 5'd1;
                            if (x_rem == 5'd1) begin
                                x_bitmap <= 1'b0;
                                x_state <= X_REPLY;
                            end else begin
                                x_pops <= 5'd1;
                                x_ret <= X_BITS;
                                x_state <= X_POP;
                            end
                        end
                    end
                end
                X_BCOUNT: begin
                    // Count the words (no divider): take b bytes at a time
                    // until one word is left; a remainder is a wrong length.
                    // Nothing is written before the whole frame is known
                    // to be right. The last word (at the bottom) goes first.
                    if (x_rem == a_b) begin
                        x_rem <= r_len - 5'd7;
                        x_state <= X_BWRITE;
                    end else if (x_rem < a_b) begin
                        rep_type <= 8'h8F; rep_payload <= {8'd3, 56'd0};
                        x_state <= X_REPLY;
                    end else begin
                        x_rem <= x_rem - a_b;
                        x_off <= x_off + 5'd1;
                    end
                end
                X_BWRITE: begin
                    // The word at the bottom of r_buf, at address + x_off;
                    // X_RPOP then shifts its bytes out (cfg_* hold until the
                    // write's clock edge) and steps to the word before.
                    cfg_we <= 1'b1;
                    cfg_count <= cfg_count + 16'd1;
                    if (x_rem == a_b) begin
                        x_state <= X_REPLY;
                    end else begin
                        x_rem <= x_rem - a_b;
                        x_pops <= a_b;
                        x_ret <= X_BWRITE;
                        x_state <= X_RPOP;
                    end
                end
                X_POP, X_RPOP: if (x_pops != 5'd0) begin
                    x_pops <= x_pops - 5'd1;
                end else begin
                    x_state <= x_ret;
                    if (x_state == X_RPOP && x_ret == X_BWRITE) x_off <= x_off - 5'd1;
                end
                X_STEP: begin
                    x_cycles <= x_cycles + 32'd1;
                    // One spike at a time: take it, send it, take the next.
                    out_ready <= 1'b0;
                    if (out_valid && out_ready) begin
                        spike_pending <= 1'b1;
                        spike_word <= {out_core, out_slot};
                    end else if (spike_pending && rep_idle) begin
                        rep_type <= 8'h83; rep_len <= 4'd4; rep_payload <= {4'd0, spike_word, 32'd0};
                        rep_start <= 1'b1;
                        spike_pending <= 1'b0;
                    end else if (!spike_pending && rep_idle && !out_ready) begin
                        out_ready <= 1'b1;
                    end
                    if (done) begin
                        out_ready <= 1'b0;
                        x_steps <= step_count + 32'd1;
                        x_state <= X_DONE;
                    end
                end
                X_DONE: begin
                    // A spike taken in the last clocks goes out before DONE.
                    if (spike_pending && rep_idle) begin
                        rep_type <= 8'h83; rep_len <= 4'd4; rep_payload <= {4'd0, spike_word, 32'd0};
                        rep_start <= 1'b1;
                        spike_pending <= 1'b0;
                    end else if (!spike_pending && rep_idle) begin
                        rep_type <= 8'h84; rep_len <= 4'd8; rep_payload <= {x_steps, x_cycles + 32'd1};
                        rep_start <= 1'b1;
                        x_state <= X_IDLE;
                    end
                end
                X_PEEK: x_state <= X_PEEK2;
                X_PEEK2: if (peek_valid) begin
                    rep_type <= 8'h85; rep_len <= 4'd4; rep_payload <= {peek_data, 32'd0};
                    x_state <= X_REPLY;
                end
                X_CLEAR: begin
                    // After a reset: let a step still running finish (its
                    // spikes are taken and dropped), then clear the state
                    // and the error flags.
                    out_ready <= 1'b1;
                    if (!busy && !out_valid) begin
                        out_ready <= 1'b0;
                        clear <= 1'b1;
                        err_clear <= 1'b1;
                        x_state <= X_CLEAR2;
                    end
                end
                X_CLEAR2: if (!busy && !clear) x_state <= x_silent ? X_IDLE : X_REPLY;
                default: begin
                    // X_REPLY: send the prepared reply once the transmitter is free.
                    if (rep_idle) begin
                        rep_start <= 1'b1;
                        x_state <= X_IDLE;
                    end
                end
            endcase
        end
    end
    // WRITE: cfg_data is the payload's last 18 bytes. WRITE_BURST: the word
    // at the bottom of r_buf, the bytes above it masked off, so cfg_data is
    // always the word zero-extended; its address is the header's plus x_off.
    wire [17:0] x_mask = (r_cmd == 8'h0A) ? ~(18'h3ffff << a_b) : 18'h3ffff;
    assign cfg_core = r_buf[187:176];
    assign cfg_mem = r_buf[171:168];
    assign cfg_addr = r_buf[167:144] + {19'd0, x_off};
    genvar g;
    generate
        for (g = 0; g < 18; g = g + 1) begin : data_bytes
            assign cfg_data[8*g +: 8] = r_buf[8*g +: 8] & {8{x_mask[g]}};
        end
    endgenerate
    // The index being sent: the payload's top for INPUT (registered, so no
    // multiplexer is in front of the design's input handling: in_valid
    // rises at the clock edge this register takes its index); for
    // INPUT_BITMAP it starts at the first index and counts the bits.
    initial in_index = 16'd0;
    always @(posedge clock) begin
        if (!x_bitmap) in_index <= a_first;
        else if (x_state == X_BITS && bm_advance) in_index <= in_index + 16'd1;
    end
    wire unused_ok = &{1'b0, a_byte0[7:1]};
endmodule
