// spikeforge's fixed C++ shim around a board top (sf_board_top: clk,
// uart_rx, uart_tx, led) for the simulated UART link. The build passes the
// Verilated class as SF_TOP and its header as SF_TOP_H.
#include SF_TOP_H
#include "verilated.h"
#include <cstdint>

extern "C" {

struct SfBoard {
    VerilatedContext* ctx;
    SF_TOP* top;
};

uint32_t sf_board_abi_version() { return 1; }

SfBoard* sf_board_new() {
    SfBoard* m = new SfBoard();
    m->ctx = new VerilatedContext;
    Verilated::threadContextp(m->ctx);
    m->top = new SF_TOP{m->ctx, "top"};
    m->top->clk = 0;
    m->top->uart_rx = 1;
    m->top->eval();
    return m;
}

void sf_board_free(SfBoard* m) {
    m->top->final();
    delete m->top;
    delete m->ctx;
    delete m;
}

// One clock with the UART receive pin at `rx`; returns uart_tx in bit 0 and
// the LEDs from bit 1, sampled just before the rising edge.
uint32_t sf_board_cycle(SfBoard* m, uint32_t rx) {
    SF_TOP* t = m->top;
    t->uart_rx = rx & 1;
    t->clk = 0;
    t->eval();
    uint32_t out = (uint32_t)(t->uart_tx & 1) | ((uint32_t)t->led << 1);
    t->clk = 1;
    t->eval();
    return out;
}

}
