//! The memories of the hardware and the layout of their words.
//!
//! [`Memory`] names every memory a core or the host interface holds (no
//! name strings elsewhere); its configuration code (`cfg_mem`), file name
//! part and depth are defined here once. [`Layout`] gives each memory's word
//! as data: named [`Field`]s with offset and width, derived from a spec. The
//! packer (the mapper's images, [`Layout::pack_param`] and friends) and the
//! RTL generator (`spikeforge-hdl` reads its shifts and masks from the same
//! fields) both use it, so a field moves in one place.

use crate::spec::HardwareSpec;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// Bits to address `n` entries (at least 1).
pub fn addr_bits(n: u32) -> u32 {
    if n <= 1 {
        1
    } else {
        32 - (n - 1).leading_zeros()
    }
}

/// Who holds a memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// Every core has one.
    Core,
    /// The host interface (input routing) has one.
    Host,
}

/// A memory of the design (docs/hardware.md, "Memories").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Memory {
    /// Neuron parameters, by slot.
    Params,
    /// Membrane potentials, by slot (loaded with the initial potentials).
    Potentials,
    /// Axon table, by axon key: the synapse row of a presynaptic source.
    Axons,
    /// Synapse memory: (target slot, weight) entries.
    Synapses,
    /// Route index, by slot: (first route, number of routes).
    RouteIndex,
    /// Routing memory: (destination core, axon key) entries.
    Routes,
    /// Host input route index, by input index.
    InputRouteIndex,
    /// Host input routing memory.
    InputRoutes,
}

/// What a configuration write addresses (`cfg_mem`): a memory word or a
/// core's `neuron_count` register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConfigTarget {
    /// A word of a memory.
    Memory(Memory),
    /// The number of slots a core sweeps each step (`cfg_addr` ignored).
    NeuronCount,
}

impl ConfigTarget {
    /// Every target, in code order.
    pub const ALL: [ConfigTarget; 9] = [
        ConfigTarget::Memory(Memory::Params),
        ConfigTarget::Memory(Memory::Potentials),
        ConfigTarget::Memory(Memory::Axons),
        ConfigTarget::Memory(Memory::Synapses),
        ConfigTarget::Memory(Memory::RouteIndex),
        ConfigTarget::Memory(Memory::Routes),
        ConfigTarget::Memory(Memory::InputRouteIndex),
        ConfigTarget::Memory(Memory::InputRoutes),
        ConfigTarget::NeuronCount,
    ];

    /// The `cfg_mem` code (4 bits).
    pub const fn code(self) -> u8 {
        match self {
            ConfigTarget::Memory(m) => m.code(),
            ConfigTarget::NeuronCount => 8,
        }
    }

    /// The target of a `cfg_mem` code.
    pub fn from_code(code: u8) -> Option<ConfigTarget> {
        ConfigTarget::ALL.into_iter().find(|t| t.code() == code)
    }
}

impl Memory {
    /// A core's memories, in the order of a packed core image.
    pub const CORE: [Memory; 6] =
        [Memory::Axons, Memory::Synapses, Memory::Params, Memory::Potentials, Memory::RouteIndex, Memory::Routes];
    /// The host interface's memories.
    pub const HOST: [Memory; 2] = [Memory::InputRouteIndex, Memory::InputRoutes];

    /// The name used in file names and reports.
    pub fn name(self) -> &'static str {
        match self {
            Memory::Params => "params",
            Memory::Potentials => "v_init",
            Memory::Axons => "axons",
            Memory::Synapses => "synapses",
            Memory::RouteIndex => "route_index",
            Memory::Routes => "routes",
            Memory::InputRouteIndex => "input_route_index",
            Memory::InputRoutes => "input_routes",
        }
    }

    /// The `cfg_mem` code of the memory.
    pub const fn code(self) -> u8 {
        match self {
            Memory::Params => 0,
            Memory::Potentials => 1,
            Memory::Axons => 2,
            Memory::Synapses => 3,
            Memory::RouteIndex => 4,
            Memory::Routes => 5,
            Memory::InputRouteIndex => 6,
            Memory::InputRoutes => 7,
        }
    }

    /// Who holds it.
    pub fn owner(self) -> Owner {
        match self {
            Memory::InputRouteIndex | Memory::InputRoutes => Owner::Host,
            _ => Owner::Core,
        }
    }

    /// Words in the memory for `spec` (its full depth).
    pub fn depth(self, spec: &HardwareSpec) -> u32 {
        match self {
            Memory::Params | Memory::Potentials | Memory::RouteIndex => spec.neurons_per_core,
            Memory::Axons => spec.axons_per_core,
            Memory::Synapses => spec.synapses_per_core,
            Memory::Routes => spec.routes_per_core,
            Memory::InputRouteIndex => spec.input_neurons,
            Memory::InputRoutes => spec.input_routes,
        }
    }

    /// Bits per word for the layout `l`.
    pub fn width(self, l: &Layout) -> u32 {
        self.fields(l).iter().map(|(_, f)| f.offset + f.width).max().unwrap_or(0)
    }

    /// The fields of a word, least significant first.
    pub fn fields(self, l: &Layout) -> Vec<(&'static str, Field)> {
        match self {
            Memory::Params => l.param.fields(),
            Memory::Potentials => vec![("v", l.potential)],
            Memory::Axons => vec![("row_len", l.axon.len), ("row_base", l.axon.base)],
            Memory::Synapses => vec![("weight", l.synapse.weight), ("target", l.synapse.target)],
            Memory::RouteIndex => vec![("len", l.route_index.len), ("base", l.route_index.base)],
            Memory::Routes | Memory::InputRoutes => vec![("axon", l.route.axon), ("core", l.route.core)],
            Memory::InputRouteIndex => vec![("len", l.input_route_index.len), ("base", l.input_route_index.base)],
        }
    }

    /// The `$readmemh` file of this memory: `core<ID>_<name>.hex` for a
    /// core's memory, `host_<name>.hex` for the host's (what `spikeforge
    /// map --out` writes and the preloaded Verilog reads).
    pub fn file_name(self, core: u32) -> String {
        match self.owner() {
            Owner::Core => format!("core{core}_{}.hex", self.name()),
            Owner::Host => format!("host_{}.hex", self.name()),
        }
    }
}

/// Whether a core has image files: only cores that hold neurons do (an
/// unused core's memories are all zero and its `neuron_count` is 0).
pub fn core_has_files(neuron_count: u32) -> bool {
    neuron_count > 0
}

/// A field of a word: `width` bits from bit `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// Lowest bit.
    pub offset: u32,
    /// Bits.
    pub width: u32,
}

fn mask(bits: u32) -> u128 {
    if bits >= 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    }
}

impl Field {
    const fn new(offset: u32, width: u32) -> Field {
        Field { offset, width }
    }

    /// The field's mask at bit 0 (`width` ones).
    pub fn mask(self) -> u128 {
        mask(self.width)
    }

    /// The field's bits of `value` (two's complement for negatives), in place.
    pub fn put(self, value: i64) -> u128 {
        (value as u128 & mask(self.width)) << self.offset
    }

    /// The field of `word`, unsigned.
    pub fn get(self, word: u128) -> u64 {
        ((word >> self.offset) & mask(self.width)) as u64
    }

    /// The field of `word`, as a two's-complement number.
    pub fn get_signed(self, word: u128) -> i64 {
        let v = self.get(word) as i64;
        if self.width < 64 && v >= 1 << (self.width - 1) {
            v - (1 << self.width)
        } else {
            v
        }
    }

    /// One past the highest bit.
    pub fn end(self) -> u32 {
        self.offset + self.width
    }
}

/// Parameter word fields, MSB first: threshold P | bias P | v_min P |
/// leak_en 1 | leak_shift 5 | reset_zero 1 | output 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamWord {
    /// θ (P bits, signed).
    pub threshold: Field,
    /// b (P bits, signed).
    pub bias: Field,
    /// Lower clamp (P bits, signed).
    pub v_min: Field,
    /// 1: the neuron leaks.
    pub leak_enable: Field,
    /// Leak shift λ.
    pub leak_shift: Field,
    /// 1: reset to zero, 0: subtract θ.
    pub reset_zero: Field,
    /// 1: spikes go to the output stream.
    pub output: Field,
}

/// Bits of the leak shift field (λ < 32).
pub const LEAK_SHIFT_BITS: u32 = 5;

impl ParamWord {
    /// The parameter word for P-bit potentials.
    pub fn new(p: u32) -> ParamWord {
        ParamWord {
            output: Field::new(0, 1),
            reset_zero: Field::new(1, 1),
            leak_shift: Field::new(2, LEAK_SHIFT_BITS),
            leak_enable: Field::new(7, 1),
            v_min: Field::new(8, p),
            bias: Field::new(p + 8, p),
            threshold: Field::new(2 * p + 8, p),
        }
    }

    /// Bits of the word.
    pub fn width(&self) -> u32 {
        self.fields().iter().map(|(_, f)| f.end()).max().unwrap_or(0)
    }

    /// The fields, least significant first.
    pub fn fields(&self) -> Vec<(&'static str, Field)> {
        vec![
            ("output", self.output),
            ("reset_zero", self.reset_zero),
            ("leak_shift", self.leak_shift),
            ("leak_enable", self.leak_enable),
            ("v_min", self.v_min),
            ("bias", self.bias),
            ("threshold", self.threshold),
        ]
    }
}

/// A (base, length) index word: `base << (bits+1) | len`, so a length can
/// reach the whole memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexWord {
    /// First entry.
    pub base: Field,
    /// Number of entries.
    pub len: Field,
}

impl IndexWord {
    /// The index word of a memory addressed with `bits` bits.
    pub fn new(bits: u32) -> IndexWord {
        IndexWord { len: Field::new(0, bits + 1), base: Field::new(bits + 1, bits) }
    }

    /// Bits of the word.
    pub fn width(&self) -> u32 {
        self.base.end()
    }
}

/// Synapse word: `target << W | weight`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SynapseWord {
    /// Weight (W bits, signed).
    pub weight: Field,
    /// Target slot.
    pub target: Field,
}

impl SynapseWord {
    /// The synapse word for W-bit weights and `nb`-bit slots.
    pub fn new(w: u32, nb: u32) -> SynapseWord {
        SynapseWord { weight: Field::new(0, w), target: Field::new(w, nb) }
    }

    /// Bits of the word.
    pub fn width(&self) -> u32 {
        self.target.end()
    }
}

/// Route word: `core << ab | axon`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteWord {
    /// Axon key on the destination core.
    pub axon: Field,
    /// Destination core.
    pub core: Field,
}

impl RouteWord {
    /// The route word for `ab`-bit axon keys and `cb`-bit core ids.
    pub fn new(ab: u32, cb: u32) -> RouteWord {
        RouteWord { axon: Field::new(0, ab), core: Field::new(ab, cb) }
    }

    /// Bits of the word.
    pub fn width(&self) -> u32 {
        self.core.end()
    }
}

/// Word widths and field positions of every memory, derived from a spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// Neuron slot address bits.
    pub nb: u32,
    /// Synapse address bits.
    pub sb: u32,
    /// Axon key bits.
    pub ab: u32,
    /// Route address bits.
    pub rb: u32,
    /// Core id bits.
    pub cb: u32,
    /// Input route address bits.
    pub ib: u32,
    /// W.
    pub w: u32,
    /// P.
    pub p: u32,
    /// Parameter word.
    pub param: ParamWord,
    /// Potential word (P bits, signed).
    pub potential: Field,
    /// Axon word: the synapse row.
    pub axon: IndexWord,
    /// Synapse word.
    pub synapse: SynapseWord,
    /// Route index word.
    pub route_index: IndexWord,
    /// Route word (core routes and host input routes alike).
    pub route: RouteWord,
    /// Host input route index word.
    pub input_route_index: IndexWord,
}

impl Layout {
    /// The layout of a spec.
    pub fn new(spec: &HardwareSpec) -> Layout {
        let (nb, sb, ab, rb) = (
            addr_bits(spec.neurons_per_core),
            addr_bits(spec.synapses_per_core),
            addr_bits(spec.axons_per_core),
            addr_bits(spec.routes_per_core),
        );
        let (cb, ib) = (addr_bits(spec.cores()), addr_bits(spec.input_routes.max(1)));
        let (w, p) = (spec.weight_bits, spec.potential_bits);
        Layout {
            nb,
            sb,
            ab,
            rb,
            cb,
            ib,
            w,
            p,
            param: ParamWord::new(p),
            potential: Field::new(0, p),
            axon: IndexWord::new(sb),
            synapse: SynapseWord::new(w, nb),
            route_index: IndexWord::new(rb),
            route: RouteWord::new(ab, cb),
            input_route_index: IndexWord::new(ib),
        }
    }
}

/// One packed memory: which, word width, words (full depth; unused words 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackedMemory {
    /// Which memory.
    pub memory: Memory,
    /// Bits per word.
    pub width: u32,
    /// Words.
    pub words: Vec<u128>,
}

impl PackedMemory {
    /// `$readmemh` text: one zero-padded lowercase hex word per line.
    pub fn to_hex(&self) -> String {
        let digits = self.width.div_ceil(4) as usize;
        let mut s = String::with_capacity(self.words.len() * (digits + 1));
        for w in &self.words {
            let _ = writeln!(s, "{w:0digits$x}");
        }
        s
    }
}

/// A core as the hardware holds it: packed words plus the `neuron_count`
/// register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackedCore {
    /// Slots swept each step.
    pub neuron_count: u32,
    /// The memories, in [`Memory::CORE`] order.
    pub memories: Vec<PackedMemory>,
}

impl PackedCore {
    /// The words of `m`.
    ///
    /// # Panics
    /// If `m` is not a core memory.
    pub fn words(&self, m: Memory) -> &[u128] {
        &self.memories.iter().find(|x| x.memory == m).expect("a core memory").words
    }
}

/// The host interface as the hardware holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackedHost {
    /// The memories, in [`Memory::HOST`] order.
    pub memories: Vec<PackedMemory>,
}

impl PackedHost {
    /// The words of `m`.
    ///
    /// # Panics
    /// If `m` is not a host memory.
    pub fn words(&self, m: Memory) -> &[u128] {
        &self.memories.iter().find(|x| x.memory == m).expect("a host memory").words
    }
}

/// Everything a design of a spec is loaded with: a network as data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkImage {
    /// The spec the words are laid out for.
    pub spec: HardwareSpec,
    /// One per core of the spec (unused cores have `neuron_count` 0).
    pub cores: Vec<PackedCore>,
    /// The host interface.
    pub host: PackedHost,
}

impl NetworkImage {
    /// Image files, name → `$readmemh` text, for every core that holds
    /// neurons and for the host ([`Memory::file_name`]).
    pub fn files(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (c, pc) in self.cores.iter().enumerate() {
            if core_has_files(pc.neuron_count) {
                out.extend(pc.memories.iter().map(|m| (m.memory.file_name(c as u32), m.to_hex())));
            }
        }
        out.extend(self.host.memories.iter().map(|m| (m.memory.file_name(0), m.to_hex())));
        out
    }
}

/// Axon table entry: the row of synapses of one presynaptic source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AxonEntry {
    /// First synapse entry of the row.
    pub row_base: u32,
    /// Number of synapse entries in the row.
    pub row_len: u32,
}

/// Synapse memory entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SynapseEntry {
    /// Neuron slot in this core.
    pub target: u32,
    /// Weight (W-bit signed).
    pub weight: i32,
}

/// Neuron parameter entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamEntry {
    /// θ.
    pub threshold: i32,
    /// b.
    pub bias: i32,
    /// Lower clamp.
    pub v_min: i32,
    /// Leak shift, if any.
    pub leak: Option<u32>,
    /// Reset to zero (else subtract).
    pub reset_zero: bool,
    /// Spikes go to the output stream.
    pub output: bool,
}

impl ParamEntry {
    /// The entry of neuron `i` of a population with parameters `np`;
    /// `output`: the population is an output. The one place where a
    /// network's per-neuron parameters become hardware fields.
    pub fn of(np: &spikeforge_net::NeuronParams, i: usize, output: bool) -> ParamEntry {
        ParamEntry {
            threshold: np.threshold.get(i),
            bias: np.bias.get(i),
            v_min: np.v_min.get(i),
            leak: np.leak.get(i),
            reset_zero: np.reset.get(i) == spikeforge_net::Reset::Zero,
            output,
        }
    }
}

/// Routing entry: one destination of a neuron's spikes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteEntry {
    /// Destination core id.
    pub core: u32,
    /// Axon key on that core.
    pub axon: u32,
}

impl Layout {
    /// Axon word.
    pub fn pack_axon(&self, e: AxonEntry) -> u128 {
        self.axon.base.put(e.row_base as i64) | self.axon.len.put(e.row_len as i64)
    }
    /// Inverse of [`Layout::pack_axon`].
    pub fn unpack_axon(&self, w: u128) -> AxonEntry {
        AxonEntry { row_base: self.axon.base.get(w) as u32, row_len: self.axon.len.get(w) as u32 }
    }
    /// Synapse word.
    pub fn pack_synapse(&self, e: SynapseEntry) -> u128 {
        self.synapse.target.put(e.target as i64) | self.synapse.weight.put(e.weight as i64)
    }
    /// Inverse of [`Layout::pack_synapse`].
    pub fn unpack_synapse(&self, w: u128) -> SynapseEntry {
        SynapseEntry { target: self.synapse.target.get(w) as u32, weight: self.synapse.weight.get_signed(w) as i32 }
    }
    /// Parameter word ([`ParamWord`]).
    pub fn pack_param(&self, e: ParamEntry) -> u128 {
        let f = &self.param;
        let mut w = f.threshold.put(e.threshold as i64) | f.bias.put(e.bias as i64) | f.v_min.put(e.v_min as i64);
        if let Some(s) = e.leak {
            w |= f.leak_enable.put(1) | f.leak_shift.put(s as i64);
        }
        w | f.reset_zero.put(e.reset_zero as i64) | f.output.put(e.output as i64)
    }
    /// Inverse of [`Layout::pack_param`].
    pub fn unpack_param(&self, w: u128) -> ParamEntry {
        let f = &self.param;
        ParamEntry {
            threshold: f.threshold.get_signed(w) as i32,
            bias: f.bias.get_signed(w) as i32,
            v_min: f.v_min.get_signed(w) as i32,
            leak: (f.leak_enable.get(w) == 1).then_some(f.leak_shift.get(w) as u32),
            reset_zero: f.reset_zero.get(w) == 1,
            output: f.output.get(w) == 1,
        }
    }
    /// Potential word (P-bit two's complement).
    pub fn pack_potential(&self, v: i32) -> u128 {
        self.potential.put(v as i64)
    }
    /// Inverse of [`Layout::pack_potential`].
    pub fn unpack_potential(&self, w: u128) -> i32 {
        self.potential.get_signed(w) as i32
    }
    /// Index word of `word`'s layout.
    pub fn pack_index(&self, word: IndexWord, (base, len): (u32, u32)) -> u128 {
        word.base.put(base as i64) | word.len.put(len as i64)
    }
    /// Inverse of [`Layout::pack_index`].
    pub fn unpack_index(&self, word: IndexWord, w: u128) -> (u32, u32) {
        (word.base.get(w) as u32, word.len.get(w) as u32)
    }
    /// Route word.
    pub fn pack_route(&self, e: RouteEntry) -> u128 {
        self.route.core.put(e.core as i64) | self.route.axon.put(e.axon as i64)
    }
    /// Inverse of [`Layout::pack_route`].
    pub fn unpack_route(&self, w: u128) -> RouteEntry {
        RouteEntry { core: self.route.core.get(w) as u32, axon: self.route.axon.get(w) as u32 }
    }

    /// A packed memory of `depth` words from `words` (padded with zeros).
    pub fn memory(&self, memory: Memory, depth: u32, mut words: Vec<u128>) -> PackedMemory {
        words.resize(depth as usize, 0);
        PackedMemory { memory, width: memory.width(self), words }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every word's fields tile bits 0..width without gaps or overlaps, for
    /// every preset: the layout is consistent data.
    #[test]
    fn fields_tile_every_word() {
        for name in crate::spec::PRESETS {
            let spec = HardwareSpec::preset(name).unwrap();
            let l = Layout::new(&spec);
            for m in Memory::CORE.into_iter().chain(Memory::HOST) {
                let mut fields = m.fields(&l);
                fields.sort_by_key(|(_, f)| f.offset);
                let mut next = 0;
                for (n, f) in &fields {
                    assert_eq!(f.offset, next, "{name} {m:?}.{n}");
                    next = f.end();
                }
                assert_eq!(next, m.width(&l), "{name} {m:?}");
                assert!(m.width(&l) <= crate::ports::CFG_DATA_BITS as u32, "{name} {m:?} fits cfg_data");
            }
        }
    }

    #[test]
    fn codes_are_unique_and_round_trip() {
        for t in ConfigTarget::ALL {
            assert_eq!(ConfigTarget::from_code(t.code()), Some(t));
            assert!(t.code() < 1 << crate::ports::CFG_MEM_BITS);
        }
        assert_eq!(ConfigTarget::from_code(15), None);
    }

    #[test]
    fn words_round_trip() {
        let spec = HardwareSpec::preset("medium").unwrap();
        let l = Layout::new(&spec);
        let p =
            ParamEntry { threshold: -7, bias: 32767, v_min: -32768, leak: Some(31), reset_zero: true, output: true };
        assert_eq!(l.unpack_param(l.pack_param(p)), p);
        let p = ParamEntry { leak: None, reset_zero: false, output: false, ..p };
        assert_eq!(l.unpack_param(l.pack_param(p)), p);
        let s = SynapseEntry { target: 63, weight: -128 };
        assert_eq!(l.unpack_synapse(l.pack_synapse(s)), s);
        let a = AxonEntry { row_base: 1023, row_len: 1024 };
        assert_eq!(l.unpack_axon(l.pack_axon(a)), a);
        let r = RouteEntry { core: 3, axon: 127 };
        assert_eq!(l.unpack_route(l.pack_route(r)), r);
        assert_eq!(l.unpack_index(l.route_index, l.pack_index(l.route_index, (255, 256))), (255, 256));
        assert_eq!(l.unpack_potential(l.pack_potential(-5)), -5);
        // The documented positions (docs/hardware.md).
        assert_eq!(l.pack_param(ParamEntry { threshold: 1, ..p }) >> (2 * 16 + 8), 1);
    }
}
