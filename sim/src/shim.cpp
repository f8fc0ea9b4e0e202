// spikeforge's fixed C++ shim around a design's simulation top module
// (sf_<spec>_top_sim: sf_<spec>_top with its inputs latched, see
// spikeforge_hw::ports::sampled_wrapper).
// Every spec has the same top-level ports, so one shim serves all of them;
// the build passes the Verilated class name as SF_TOP and its header as
// SF_TOP_H. The Rust side (spikeforge-sim, model.rs) loads the shared
// library and calls these functions; one clock cycle is one call.
#include SF_TOP_H
#include "verilated.h"
#if VM_TRACE
#include "verilated_vcd_c.h"
#endif
#include <cstdint>
#include <cstring>
// struct SfPins and the copy macros, generated from the port table
// (spikeforge_hw::ports::c_pins_header); `Pins` in model.rs is checked
// against the same table.
#include "sf_pins.h"

extern "C" {

#if !VM_TRACE
// A build without --trace (the default, faster per cycle) has no VCD
// writer; sf_trace_open reports 2 and the host loads the traced build.
struct VerilatedVcdC {
    void dump(uint64_t) {}
    void close() {}
};
#endif

struct SfModel {
    VerilatedContext* ctx;
    SF_TOP* top;
    VerilatedVcdC* vcd;
    uint64_t time;
    // The previous cycle's rising edge, taken at the start of the next call.
    uint8_t edge_pending;
};

uint32_t sf_abi_version() { return 1; }

// rand_reset: initial value of every variable the design does not
// initialize (0 zeros, 1 ones, 2 random from `seed`); needs --x-initial unique.
SfModel* sf_new(int rand_reset, int seed) {
    SfModel* m = new SfModel();
    m->ctx = new VerilatedContext;
    m->ctx->randReset(rand_reset);
    m->ctx->randSeed(seed);
#if VM_TRACE
    m->ctx->traceEverOn(true);
#endif
    Verilated::threadContextp(m->ctx);
    m->top = new SF_TOP{m->ctx, "top"};
    m->vcd = nullptr;
    m->time = 0;
    m->edge_pending = 0;
    m->top->clock = 0;
    m->top->SF_SAMPLE_PIN = 0;
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

// Starts a VCD file; returns 0 on success, 1 if it cannot be opened, 2 if
// the model was built without tracing.
int sf_trace_open(SfModel* m, const char* path) {
    sf_trace_close(m);
#if !VM_TRACE
    (void)path;
    return 2;
#else
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
#endif
}

void sf_free(SfModel* m) {
    sf_trace_close(m);
    m->top->final();
    delete m->top;
    delete m->ctx;
    delete m;
}

// One clock cycle k: apply the inputs I_k, sample the outputs O_k (a
// function of the state and I_k), then the rising edge that computes the
// next state from the state and I_k.
//
// Evaluated in two calls of eval(), of which only the first does work:
// the rising clock edge of cycle k-1 (deferred to here) and the rising
// edge of SF_SAMPLE_PIN, which latches I_k (spikeforge_hw::ports::
// sampled_wrapper), happen in one evaluation. The design's registers take
// the latch's old value, I_(k-1), as nonblocking assignments do, and the
// logic settles once on the new state and I_k: O_k. The second call lowers
// both (nothing triggers on a falling edge) to arm the next rising edges.
// Verilator 5.006 evaluates the logic that depends on both the inputs and
// the state after every evaluation that changes either, so one working
// evaluation per cycle instead of two saves that logic's second run. The
// host sees the same outputs every cycle; in a VCD the latched inputs
// change at the clock's rising edge, like any register's output.
// 10 time units (ns) per cycle.
void sf_cycle(SfModel* m, SfPins* p) {
    SF_TOP* t = m->top;
    SF_APPLY_INPUTS(t, p);
    t->clock = m->edge_pending;
    t->SF_SAMPLE_PIN = 1;
    t->eval();
    if (m->vcd) m->vcd->dump(m->time);
    SF_SAMPLE_OUTPUTS(t, p);
    m->time += 5;
    t->clock = 0;
    t->SF_SAMPLE_PIN = 0;
    t->eval();
    if (m->vcd) m->vcd->dump(m->time);
    m->time += 5;
    m->edge_pending = 1;
}

}
