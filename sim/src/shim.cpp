// spikeforge's fixed C++ shim around a design's top module (sf_<spec>_top).
// Every spec has the same top-level ports, so one shim serves all of them;
// the build passes the Verilated class name as SF_TOP and its header as
// SF_TOP_H. The Rust side (spikeforge-sim, model.rs) loads the shared
// library and calls these functions; one clock cycle is one call.
#include SF_TOP_H
#include "verilated.h"
#include "verilated_vcd_c.h"
#include <cstdint>
#include <cstring>

extern "C" {

// Port values exchanged once per clock cycle. Keep in sync with `Pins` in
// model.rs (repr(C), all u32, the 144-bit cfg_data as 5 words, low first).
struct SfPins {
    // Inputs.
    uint32_t step, in_valid, in_index, out_ready, monitor, peek_req, peek_core, peek_slot;
    uint32_t err_clear, clear, cfg_we, cfg_core, cfg_mem, cfg_addr;
    uint32_t cfg_data[5];
    // Outputs, sampled just before the rising edge (the values the edge sees).
    uint32_t done, busy, step_count, in_ready, out_valid, out_core, out_slot;
    uint32_t peek_valid, peek_data, errors;
};

struct SfModel {
    VerilatedContext* ctx;
    SF_TOP* top;
    VerilatedVcdC* vcd;
    uint64_t time;
};

uint32_t sf_abi_version() { return 1; }

// rand_reset: initial value of every variable the design does not
// initialize (0 zeros, 1 ones, 2 random from `seed`); needs --x-initial unique.
SfModel* sf_new(int rand_reset, int seed) {
    SfModel* m = new SfModel();
    m->ctx = new VerilatedContext;
    m->ctx->randReset(rand_reset);
    m->ctx->randSeed(seed);
    m->ctx->traceEverOn(true);
    Verilated::threadContextp(m->ctx);
    m->top = new SF_TOP{m->ctx, "top"};
    m->vcd = nullptr;
    m->time = 0;
    m->top->clock = 0;
    m->top->eval();
    return m;
}

void sf_trace_close(SfModel* m) {
    if (m->vcd) {
        m->vcd->close();
        delete m->vcd;
        m->vcd = nullptr;
    }
}

// Starts a VCD file; returns 0 on success.
int sf_trace_open(SfModel* m, const char* path) {
    sf_trace_close(m);
    m->vcd = new VerilatedVcdC;
    m->top->trace(m->vcd, 99);
    m->vcd->open(path);
    if (!m->vcd->isOpen()) {
        delete m->vcd;
        m->vcd = nullptr;
        return 1;
    }
    // The next sf_cycle writes the first values (at the current time).
    return 0;
}

void sf_free(SfModel* m) {
    sf_trace_close(m);
    m->top->final();
    delete m->top;
    delete m->ctx;
    delete m;
}

// One clock cycle: apply the inputs, settle with the clock low, sample the
// outputs, then the rising edge. 10 time units (ns) per cycle.
void sf_cycle(SfModel* m, SfPins* p) {
    SF_TOP* t = m->top;
    t->step = p->step;
    t->in_valid = p->in_valid;
    t->in_index = p->in_index;
    t->out_ready = p->out_ready;
    t->monitor = p->monitor;
    t->peek_req = p->peek_req;
    t->peek_core = p->peek_core;
    t->peek_slot = p->peek_slot;
    t->err_clear = p->err_clear;
    t->clear = p->clear;
    t->cfg_we = p->cfg_we;
    t->cfg_core = p->cfg_core;
    t->cfg_mem = p->cfg_mem;
    t->cfg_addr = p->cfg_addr;
    for (int i = 0; i < 5; i++) t->cfg_data[i] = p->cfg_data[i];
    t->clock = 0;
    t->eval();
    if (m->vcd) m->vcd->dump(m->time);
    p->done = t->done;
    p->busy = t->busy;
    p->step_count = t->step_count;
    p->in_ready = t->in_ready;
    p->out_valid = t->out_valid;
    p->out_core = t->out_core;
    p->out_slot = t->out_slot;
    p->peek_valid = t->peek_valid;
    p->peek_data = t->peek_data;
    p->errors = t->errors;
    m->time += 5;
    t->clock = 1;
    t->eval();
    if (m->vcd) m->vcd->dump(m->time);
    m->time += 5;
}

}
