// spikeforge UART host bridge: the framed protocol of docs/host-protocol.md
// on one UART (8N1), driving the top-level ports of a spikeforge design.
// Fixed, spec-independent glue; the port widths are those every spikeforge
// design has. Verilog-2005, lint-clean under verilator -Wall.
module sf_uart_bridge #(
    parameter integer CLKS_PER_BIT = 104,
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
    localparam [3:0] X_IDLE = 4'd0, X_WRITE = 4'd1, X_INPUT = 4'd2, X_STEP = 4'd3, X_PEEK = 4'd4,
                     X_PEEK2 = 4'd5, X_CLEAR = 4'd6, X_CLEAR2 = 4'd7, X_REPLY = 4'd8, X_DONE = 4'd9;
    reg [3:0]   x_state = X_IDLE;
    reg [3:0]   x_left = 4'd0;         // input indices left
    reg [3:0]   x_idx = 4'd0;          // index being sent, counted from the payload's end
    reg [31:0]  x_cycles = 32'd0;
    reg [31:0]  x_steps = 32'd0;
    reg         x_silent = 1'b0;       // the power-on clear sends no reply
    reg         spike_pending = 1'b0;
    reg [27:0]  spike_word = 28'd0;
    reg         ok_pend = 1'b0;
    reg         bad_pend = 1'b0;
    reg [15:0]  cfg_count = 16'd0;     // configuration words applied since reset (wraps)
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
    // running: r_cmd and r_buf then hold still from a good CRC until the
    // command has used them, so bytes arriving early (a host that does not
    // wait for the reply, or line noise) can never mix into a command.
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
                    r_buf <= 192'd0;
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
                        // Default reply: ACK carrying the command; NAK codes:
                        // 1 CRC, 2 unknown command, 3 bad length, 4 busy.
                        rep_type <= 8'h81; rep_len <= 4'd1; rep_payload <= {r_cmd, 56'd0};
                        case (r_cmd)
                            8'h01: if (r_len != 5'd24) begin
                                       rep_type <= 8'h8F; rep_payload <= {8'd3, 56'd0}; rep_start <= 1'b1;
                                   end else if (busy) begin
                                       rep_type <= 8'h8F; rep_payload <= {8'd4, 56'd0}; rep_start <= 1'b1;
                                   end else begin
                                       x_state <= X_WRITE;
                                   end
                            8'h02: if (!r_len[0] && r_len != 5'd0) begin
                                       // Indices go out last first: the order within a
                                       // step does not matter.
                                       x_left <= r_len[4:1];
                                       x_idx <= 4'd0;
                                       x_state <= X_INPUT;
                                   end else begin
                                       rep_type <= 8'h8F; rep_payload <= {8'd3, 56'd0}; rep_start <= 1'b1;
                                   end
                            8'h03: if (r_len != 5'd0) begin
                                       rep_type <= 8'h8F; rep_payload <= {8'd3, 56'd0}; rep_start <= 1'b1;
                                   end else begin
                                       step <= 1'b1;
                                       x_cycles <= 32'd0;
                                       x_state <= X_STEP;
                                   end
                            8'h04: if (r_len != 5'd4) begin
                                       rep_type <= 8'h8F; rep_payload <= {8'd3, 56'd0}; rep_start <= 1'b1;
                                   end else if (busy) begin
                                       rep_type <= 8'h8F; rep_payload <= {8'd4, 56'd0}; rep_start <= 1'b1;
                                   end else begin
                                       peek_req <= 1'b1;
                                       peek_core <= r_buf[27:16];
                                       peek_slot <= r_buf[15:0];
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
                            8'h08: if (r_len == 5'd1) begin
                                       monitor <= r_buf[0]; rep_start <= 1'b1;
                                   end else begin
                                       rep_type <= 8'h8F; rep_payload <= {8'd3, 56'd0}; rep_start <= 1'b1;
                                   end
                            default: begin rep_type <= 8'h8F; rep_payload <= {8'd2, 56'd0}; rep_start <= 1'b1; end
                        endcase
                    end
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
                        x_idx <= x_idx + 4'd1;
                        if (x_left == 4'd1) x_state <= X_REPLY;
                    end else begin
                        in_valid <= 1'b1;
                    end
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
    // WRITE payload: core (2 bytes), memory (1), address (3), data (18).
    assign cfg_core = r_buf[187:176];
    assign cfg_mem = r_buf[171:168];
    assign cfg_addr = r_buf[167:144];
    assign cfg_data = r_buf[143:0];
    // The index being sent, registered so that the payload mux is not in
    // front of the design's input handling: X_INPUT raises in_valid one
    // clock after x_idx changes, so in_index is settled by then.
    initial in_index = 16'd0;
    always @(posedge clock) in_index <= r_buf[{x_idx, 4'b0000} +: 16];
    wire unused_ok = &{1'b0, r_buf[191:188], r_buf[175:172]};
endmodule
