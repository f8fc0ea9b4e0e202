//! A loaded Verilator model: one instance of the design, driven one clock
//! cycle per call through the shim's C interface.

use crate::verilate::Built;
use crate::SimError;
use std::ffi::{c_char, c_int, c_void, CString};
use std::path::Path;

/// Declares `Pins` and the list of its fields (name, offset, words) that a
/// test checks against the port table of the hardware contract, so the
/// field list is written once.
macro_rules! pins {
    ($($(#[$m:meta])* $name:ident: $ty:ty,)*) => {
        /// Top-level port values exchanged each cycle (the shim's `SfPins`,
        /// generated from `spikeforge_hw::ports::PORTS`). Inputs are
        /// applied before the rising edge; outputs are the values the edge
        /// sees, so `valid && ready` in one returned `Pins` is a transfer.
        #[repr(C)]
        #[derive(Debug, Clone, Copy, Default)]
        #[allow(missing_docs)]
        pub struct Pins {
            $($(#[$m])* pub $name: $ty,)*
        }

        /// (name, byte offset, 32-bit words) of every field of [`Pins`].
        pub const PIN_FIELDS: &[(&str, usize, usize)] = &[
            $((stringify!($name), std::mem::offset_of!(Pins, $name), std::mem::size_of::<$ty>() / 4),)*
        ];
    };
}

pins! {
    step: u32,
    in_valid: u32,
    in_index: u32,
    out_ready: u32,
    monitor: u32,
    peek_req: u32,
    peek_core: u32,
    peek_slot: u32,
    err_clear: u32,
    clear: u32,
    cfg_we: u32,
    cfg_core: u32,
    cfg_mem: u32,
    cfg_addr: u32,
    /// 144 bits, least significant word first.
    cfg_data: [u32; 5],
    done: u32,
    busy: u32,
    step_count: u32,
    in_ready: u32,
    out_valid: u32,
    out_core: u32,
    out_slot: u32,
    peek_valid: u32,
    peek_data: u32,
    errors: u32,
}

/// How the design's uninitialized state starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InitialState {
    /// Every uninitialized bit 0 (Verilator's default).
    #[default]
    Zeros,
    /// Every uninitialized bit random, from this seed (`--x-initial unique`,
    /// `+verilator+rand+reset+2`): power-up garbage in memories and in
    /// registers without an initial value.
    Random(u32),
}

type NewFn = unsafe extern "C" fn(c_int, c_int) -> *mut c_void;
type CycleFn = unsafe extern "C" fn(*mut c_void, *mut Pins);
type FreeFn = unsafe extern "C" fn(*mut c_void);
type TraceOpenFn = unsafe extern "C" fn(*mut c_void, *const c_char) -> c_int;
type AbiFn = unsafe extern "C" fn() -> u32;

/// One instance of the model. Not `Send`: Verilator models stay on the
/// thread that made them.
pub struct Model {
    ptr: *mut c_void,
    cycle_fn: CycleFn,
    free_fn: FreeFn,
    trace_open_fn: TraceOpenFn,
    trace_close_fn: FreeFn,
    // Dropped after `ptr` is freed (field order).
    _lib: libloading::Library,
    /// Current port values.
    pub pins: Pins,
    /// Clock cycles run so far.
    pub cycles: u64,
    tracing: bool,
}

impl Model {
    /// Loads the library of `built` and makes a new instance.
    pub fn new(built: &Built, init: InitialState) -> Result<Model, SimError> {
        let load = |e: libloading::Error| SimError::Load { library: built.library.clone(), detail: e.to_string() };
        // SAFETY: the library is one spikeforge built from its own shim; its
        // initializers are Verilator's and have no preconditions.
        let lib = unsafe { libloading::Library::new(&built.library) }.map_err(load)?;
        // SAFETY: the symbol types match shim.cpp (checked by sf_abi_version).
        unsafe {
            let abi: AbiFn = *lib.get::<AbiFn>(b"sf_abi_version\0").map_err(load)?;
            if abi() != 1 {
                return Err(SimError::Load {
                    library: built.library.clone(),
                    detail: "shim ABI version is not 1; delete the cache folder".into(),
                });
            }
            let new_fn: NewFn = *lib.get::<NewFn>(b"sf_new\0").map_err(load)?;
            let cycle_fn: CycleFn = *lib.get::<CycleFn>(b"sf_cycle\0").map_err(load)?;
            let free_fn: FreeFn = *lib.get::<FreeFn>(b"sf_free\0").map_err(load)?;
            let trace_open_fn: TraceOpenFn = *lib.get::<TraceOpenFn>(b"sf_trace_open\0").map_err(load)?;
            let trace_close_fn: FreeFn = *lib.get::<FreeFn>(b"sf_trace_close\0").map_err(load)?;
            let (rr, seed) = match init {
                InitialState::Zeros => (0, 0),
                // Seed 0 means "random seed" to Verilator: avoid it.
                InitialState::Random(s) => (2, (s as c_int & 0x3fff_ffff).max(1)),
            };
            let ptr = new_fn(rr, seed);
            if ptr.is_null() {
                return Err(SimError::Internal("sf_new returned null".into()));
            }
            Ok(Model {
                ptr,
                cycle_fn,
                free_fn,
                trace_open_fn,
                trace_close_fn,
                _lib: lib,
                pins: Pins::default(),
                cycles: 0,
                tracing: false,
            })
        }
    }

    /// One clock cycle with the current `pins` inputs; updates the outputs.
    #[inline]
    pub fn cycle(&mut self) {
        // SAFETY: `ptr` is a live model of this library; `pins` matches SfPins.
        unsafe { (self.cycle_fn)(self.ptr, &mut self.pins) };
        self.cycles += 1;
    }

    /// Starts writing a VCD file (every signal of the design) from now on.
    pub fn trace_open(&mut self, path: &Path) -> Result<(), SimError> {
        let c = CString::new(path.to_string_lossy().as_bytes())
            .map_err(|_| SimError::io("a NUL byte in the VCD path", path, None))?;
        // SAFETY: live model, NUL-terminated path.
        let rc = unsafe { (self.trace_open_fn)(self.ptr, c.as_ptr()) };
        if rc == 2 {
            return Err(SimError::Internal(
                "a VCD was asked of a model built without tracing (load `Built::traced()`)".into(),
            ));
        }
        if rc != 0 {
            return Err(SimError::io("cannot open the VCD file", path, None));
        }
        self.tracing = true;
        Ok(())
    }

    /// Stops and flushes the VCD file, if one is open.
    pub fn trace_close(&mut self) {
        if self.tracing {
            // SAFETY: live model.
            unsafe { (self.trace_close_fn)(self.ptr) };
            self.tracing = false;
        }
    }
}

impl Drop for Model {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from sf_new of this library and is freed once.
        unsafe { (self.free_fn)(self.ptr) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spikeforge_hw::ports::{pin_words, PORTS};

    /// `Pins` has exactly the fields of the generated `SfPins`: the port
    /// table's order, one u32 word per 32 bits, packed.
    #[test]
    fn pins_match_the_port_table() {
        let names: Vec<&str> = PIN_FIELDS.iter().map(|f| f.0).collect();
        let table: Vec<&str> = PORTS.iter().map(|p| p.name).collect();
        assert_eq!(names, table);
        let mut offset = 0;
        for (f, p) in PIN_FIELDS.iter().zip(PORTS) {
            assert_eq!((f.1, f.2), (offset, pin_words(p.width)), "field {}", f.0);
            offset += 4 * f.2;
        }
        assert_eq!(std::mem::size_of::<Pins>(), offset);
    }
}
