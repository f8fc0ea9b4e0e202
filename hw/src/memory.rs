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
    /// Parameter-set table: (threshold, v_min, leak, reset, output) tuples
    /// that the core's neurons share.
    ParamSets,
    /// Per-neuron word, by slot: bias and parameter-set index.
    Neurons,
    /// Membrane potentials, by slot (loaded with the initial potentials).
    Potentials,
    /// Axon table, by axon key: the synapse row of a presynaptic source and
    /// its format (sparse or dense).
    Axons,
    /// Synapse memory: sparse words (target slot, weight) and dense words
    /// ([`DENSE_LANES`] weights of consecutive slots).
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
    pub const ALL: [ConfigTarget; 10] = [
        ConfigTarget::Memory(Memory::ParamSets),
        ConfigTarget::Memory(Memory::Potentials),
        ConfigTarget::Memory(Memory::Axons),
        ConfigTarget::Memory(Memory::Synapses),
        ConfigTarget::Memory(Memory::RouteIndex),
        ConfigTarget::Memory(Memory::Routes),
        ConfigTarget::Memory(Memory::InputRouteIndex),
        ConfigTarget::Memory(Memory::InputRoutes),
        ConfigTarget::NeuronCount,
        ConfigTarget::Memory(Memory::Neurons),
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
    pub const CORE: [Memory; 7] = [
        Memory::Axons,
        Memory::Synapses,
        Memory::ParamSets,
        Memory::Neurons,
        Memory::Potentials,
        Memory::RouteIndex,
        Memory::Routes,
    ];
    /// The host interface's memories.
    pub const HOST: [Memory; 2] = [Memory::InputRouteIndex, Memory::InputRoutes];

    /// The name used in file names and reports.
    pub fn name(self) -> &'static str {
        match self {
            Memory::ParamSets => "param_sets",
            Memory::Neurons => "neurons",
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
            Memory::ParamSets => 0,
            Memory::Neurons => 9,
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
            Memory::Neurons | Memory::Potentials | Memory::RouteIndex => spec.neurons_per_core,
            Memory::ParamSets => spec.param_sets_per_core,
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

    /// Bits of network state the memory can hold: depth × width.
    pub fn bits(self, spec: &HardwareSpec) -> u64 {
        self.depth(spec) as u64 * self.width(&Layout::new(spec)) as u64
    }

    /// The fields of a word, least significant first.
    pub fn fields(self, l: &Layout) -> Vec<(&'static str, Field)> {
        match self {
            Memory::ParamSets => l.param.fields(),
            Memory::Neurons => vec![("bias", l.neuron.bias), ("set", l.neuron.set)],
            Memory::Potentials => [("v", l.potential)].into_iter().chain(l.current.map(|f| ("i", f))).collect(),
            Memory::Axons => l.axon.fields(),
            Memory::Synapses => l.synapse.fields(),
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

/// Memory a design of a spec instantiates, in bits: every memory of the
/// contract at full depth for every core and the host, plus the cores'
/// double-buffered accumulators (2 × N × accumulator bits). The
/// denominator of memory efficiency (docs/hardware.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct MemoryBits {
    /// Bits of the contract's memories (loaded with the network).
    pub loaded: u64,
    /// Bits of accumulators (working state, never loaded).
    pub accumulators: u64,
}

impl MemoryBits {
    /// The memory of a design of `spec`.
    pub fn of(spec: &HardwareSpec) -> MemoryBits {
        let core: u64 = Memory::CORE.iter().map(|m| m.bits(spec)).sum();
        let host: u64 = Memory::HOST.iter().map(|m| m.bits(spec)).sum();
        MemoryBits {
            loaded: core * spec.cores() as u64 + host,
            accumulators: 2 * spec.neurons_per_core as u64 * spec.accumulator_bits as u64 * spec.cores() as u64,
        }
    }

    /// All of it.
    pub fn total(self) -> u64 {
        self.loaded + self.accumulators
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

/// Parameter-set word fields, MSB first: [syn_enable 1 | syn_shift 5 |]
/// threshold P | v_min P | leak_en 1 | leak_shift 5 | reset_zero 1 |
/// output 1; the synaptic-current fields only in specs with
/// `current_state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamWord {
    /// θ (P bits, signed).
    pub threshold: Field,
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
    /// k_syn (specs with `current_state` only).
    pub syn_shift: Option<Field>,
    /// 1: the neuron is current-based (specs with `current_state` only).
    pub syn_enable: Option<Field>,
}

/// Bits of the leak shift field (λ < 32), also of the synaptic current's
/// decay shift (k_syn < accumulator bits ≤ 32).
pub const LEAK_SHIFT_BITS: u32 = 5;

impl ParamWord {
    /// The parameter word for P-bit potentials; `current`: the spec has
    /// `current_state`.
    pub fn new(p: u32, current: bool) -> ParamWord {
        ParamWord {
            output: Field::new(0, 1),
            reset_zero: Field::new(1, 1),
            leak_shift: Field::new(2, LEAK_SHIFT_BITS),
            leak_enable: Field::new(7, 1),
            v_min: Field::new(8, p),
            threshold: Field::new(p + 8, p),
            syn_shift: current.then_some(Field::new(2 * p + 8, LEAK_SHIFT_BITS)),
            syn_enable: current.then_some(Field::new(2 * p + 8 + LEAK_SHIFT_BITS, 1)),
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
            ("threshold", self.threshold),
        ]
        .into_iter()
        .chain(self.syn_shift.map(|f| ("syn_shift", f)))
        .chain(self.syn_enable.map(|f| ("syn_enable", f)))
        .collect()
    }
}

/// Per-neuron word, MSB first: set kb | bias P.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NeuronWord {
    /// b (P bits, signed).
    pub bias: Field,
    /// Index into the core's parameter-set table.
    pub set: Field,
}

impl NeuronWord {
    /// The neuron word for P-bit potentials and `kb`-bit set indices.
    pub fn new(p: u32, kb: u32) -> NeuronWord {
        NeuronWord { bias: Field::new(0, p), set: Field::new(p, kb) }
    }

    /// Bits of the word.
    pub fn width(&self) -> u32 {
        self.set.end()
    }
}

/// Weights of consecutive slots in one dense synapse word: the synaptic
/// events a core integrates per clock on a dense row.
pub const DENSE_LANES: u32 = 2;

/// Axon word, MSB first: start nb | dense 1 | row_base sb | row_len sb+1.
/// A sparse row (`dense` 0) is `row_len` sparse synapse words from
/// `row_base`; a dense row is `row_len` dense words whose lane k of word j
/// targets slot `start + DENSE_LANES·j + k`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AxonWord {
    /// Number of synapse words of the row.
    pub len: Field,
    /// First synapse word.
    pub base: Field,
    /// 1: dense row.
    pub dense: Field,
    /// Dense rows: slot of lane 0 of the first word (0 for sparse rows).
    pub start: Field,
}

impl AxonWord {
    /// The axon word for `sb`-bit synapse addresses and `nb`-bit slots.
    pub fn new(sb: u32, nb: u32) -> AxonWord {
        AxonWord {
            len: Field::new(0, sb + 1),
            base: Field::new(sb + 1, sb),
            dense: Field::new(2 * sb + 1, 1),
            start: Field::new(2 * sb + 2, nb),
        }
    }

    /// Bits of the word.
    pub fn width(&self) -> u32 {
        self.start.end()
    }

    /// The fields, least significant first.
    pub fn fields(&self) -> Vec<(&'static str, Field)> {
        vec![("row_len", self.len), ("row_base", self.base), ("dense", self.dense), ("start", self.start)]
    }
}

/// A (base, length) index word of a routing table: `base << lb | len`.
/// A source has at most one route per destination core, so `len` needs
/// only the bits of min(cores, entries), not of the whole table (on a
/// one-core UP5K that is 1 bit instead of 11, three block RAMs fewer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexWord {
    /// First entry.
    pub base: Field,
    /// Number of entries.
    pub len: Field,
}

impl IndexWord {
    /// The index word of a routing table of `entries` entries on a spec
    /// with `cores` cores.
    pub fn for_routes(entries: u32, cores: u32) -> IndexWord {
        let lb = addr_bits(cores.min(entries) + 1);
        IndexWord { len: Field::new(0, lb), base: Field::new(lb, addr_bits(entries)) }
    }

    /// Bits of the word.
    pub fn width(&self) -> u32 {
        self.base.end()
    }
}

/// Synapse word, max(nb+W, DENSE_LANES·W) bits. Sparse: `target << W |
/// weight`. Dense: lane k's weight at bits `k·W .. (k+1)·W` (lane 0 is the
/// sparse word's weight field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SynapseWord {
    /// Sparse: weight (W bits, signed).
    pub weight: Field,
    /// Sparse: target slot.
    pub target: Field,
    /// Dense: the weights of the lanes (W bits each, signed).
    pub lanes: [Field; DENSE_LANES as usize],
}

impl SynapseWord {
    /// The synapse word for W-bit weights and `nb`-bit slots.
    pub fn new(w: u32, nb: u32) -> SynapseWord {
        SynapseWord {
            weight: Field::new(0, w),
            target: Field::new(w, nb),
            lanes: std::array::from_fn(|k| Field::new(k as u32 * w, w)),
        }
    }

    /// Bits of the word.
    pub fn width(&self) -> u32 {
        self.target.end().max(self.lanes[DENSE_LANES as usize - 1].end())
    }

    /// The sparse view's fields, least significant first, and the padding
    /// up to the dense view's width, if any.
    pub fn fields(&self) -> Vec<(&'static str, Field)> {
        let mut f = vec![("weight", self.weight), ("target", self.target)];
        if self.width() > self.target.end() {
            f.push(("dense_lanes", Field::new(self.target.end(), self.width() - self.target.end())));
        }
        f
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
    /// Parameter-set index bits.
    pub kb: u32,
    /// Parameter-set word.
    pub param: ParamWord,
    /// Per-neuron word.
    pub neuron: NeuronWord,
    /// Potential word (P bits, signed).
    pub potential: Field,
    /// The synaptic current above the potential (accumulator bits, signed;
    /// specs with `current_state` only). Configuration writes load it with
    /// the potential; images load 0.
    pub current: Option<Field>,
    /// Axon word: the synapse row.
    pub axon: AxonWord,
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
        let kb = addr_bits(spec.param_sets_per_core);
        Layout {
            nb,
            sb,
            ab,
            rb,
            cb,
            ib,
            w,
            p,
            kb,
            param: ParamWord::new(p, spec.current_state),
            neuron: NeuronWord::new(p, kb),
            potential: Field::new(0, p),
            current: spec.current_state.then_some(Field::new(p, spec.accumulator_bits)),
            axon: AxonWord::new(sb, nb),
            synapse: SynapseWord::new(w, nb),
            route_index: IndexWord::for_routes(spec.routes_per_core, spec.cores()),
            route: RouteWord::new(ab, cb),
            input_route_index: IndexWord::for_routes(spec.input_routes.max(1), spec.cores()),
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
    /// First synapse word of the row.
    pub row_base: u32,
    /// Number of synapse words in the row.
    pub row_len: u32,
    /// A dense row: the slot of lane 0 of its first word. `None`: a sparse row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dense_start: Option<u32>,
}

/// Sparse synapse entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SynapseEntry {
    /// Neuron slot in this core.
    pub target: u32,
    /// Weight (W-bit signed).
    pub weight: i32,
}

/// A word of synapse memory: one sparse entry, or the weights of
/// [`DENSE_LANES`] consecutive slots of a dense row (0 where a slot of the
/// run has no synapse from the row's source).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SynapseWordEntry {
    /// (target, weight).
    Sparse(SynapseEntry),
    /// Weights of lanes 0, 1, ...
    Dense([i32; DENSE_LANES as usize]),
}

/// How a row of synapses is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowFormat {
    /// One word per synapse.
    Sparse,
    /// Dense words from slot `start`, `words` of them.
    Dense {
        /// Slot of lane 0 of the first word.
        start: u32,
        /// Words.
        words: u32,
    },
}

impl RowFormat {
    /// The format of a row whose synapses target `slots` (in any order) in
    /// a core of `n` slots: dense when its targets are distinct and the
    /// dense run of words from the lowest target (or one below, so that the
    /// last lane stays inside the core) takes fewer words than one per
    /// synapse; else sparse. The one rule the mapper and the checks share.
    pub fn choose(slots: &[u32], n: u32) -> RowFormat {
        let (Some(&lo), Some(&hi)) = (slots.iter().min(), slots.iter().max()) else { return RowFormat::Sparse };
        let mut sorted = slots.to_vec();
        sorted.sort_unstable();
        if sorted.windows(2).any(|w| w[0] == w[1]) {
            return RowFormat::Sparse;
        }
        let span = hi - lo + 1;
        let words = span.div_ceil(DENSE_LANES);
        let covered = words * DENSE_LANES;
        if words as usize >= slots.len() {
            return RowFormat::Sparse;
        }
        // Lanes past the last target are padding; keep them inside the core.
        let start = if lo + covered <= n { lo } else { n.saturating_sub(covered) };
        if start + covered > n || start > lo {
            return RowFormat::Sparse;
        }
        RowFormat::Dense { start, words }
    }

    /// Words of synapse memory the row takes (`len` synapses).
    pub fn words(self, len: usize) -> u32 {
        match self {
            RowFormat::Sparse => len as u32,
            RowFormat::Dense { words, .. } => words,
        }
    }
}

/// Parameter-set entry: what neurons of a core may share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ParamSetEntry {
    /// θ.
    pub threshold: i32,
    /// Lower clamp.
    pub v_min: i32,
    /// Leak shift, if any.
    pub leak: Option<u32>,
    /// Reset to zero (else subtract).
    pub reset_zero: bool,
    /// Spikes go to the output stream.
    pub output: bool,
    /// k_syn of a current-based neuron.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub syn: Option<u32>,
}

/// Per-neuron entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeuronEntry {
    /// b.
    pub bias: i32,
    /// Index into the core's parameter-set table.
    pub set: u32,
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
    /// k_syn of a current-based neuron.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub syn: Option<u32>,
}

impl ParamEntry {
    /// The shared part (a parameter set) and the bias.
    pub fn split(self) -> (ParamSetEntry, i32) {
        let ParamEntry { threshold, bias, v_min, leak, reset_zero, output, syn } = self;
        (ParamSetEntry { threshold, v_min, leak, reset_zero, output, syn }, bias)
    }

    /// Inverse of [`ParamEntry::split`].
    pub fn join(set: ParamSetEntry, bias: i32) -> ParamEntry {
        let ParamSetEntry { threshold, v_min, leak, reset_zero, output, syn } = set;
        ParamEntry { threshold, bias, v_min, leak, reset_zero, output, syn }
    }

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
            syn: np.syn(i),
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
        let a = &self.axon;
        let dense = a.dense.put(e.dense_start.is_some() as i64) | a.start.put(e.dense_start.unwrap_or(0) as i64);
        a.base.put(e.row_base as i64) | a.len.put(e.row_len as i64) | dense
    }
    /// Inverse of [`Layout::pack_axon`].
    pub fn unpack_axon(&self, w: u128) -> AxonEntry {
        let a = &self.axon;
        AxonEntry {
            row_base: a.base.get(w) as u32,
            row_len: a.len.get(w) as u32,
            dense_start: (a.dense.get(w) == 1).then_some(a.start.get(w) as u32),
        }
    }
    /// Sparse synapse word.
    pub fn pack_synapse(&self, e: SynapseEntry) -> u128 {
        self.synapse.target.put(e.target as i64) | self.synapse.weight.put(e.weight as i64)
    }
    /// Inverse of [`Layout::pack_synapse`].
    pub fn unpack_synapse(&self, w: u128) -> SynapseEntry {
        SynapseEntry { target: self.synapse.target.get(w) as u32, weight: self.synapse.weight.get_signed(w) as i32 }
    }
    /// Dense synapse word.
    pub fn pack_dense(&self, weights: [i32; DENSE_LANES as usize]) -> u128 {
        self.synapse.lanes.iter().zip(weights).fold(0, |w, (f, x)| w | f.put(x as i64))
    }
    /// Inverse of [`Layout::pack_dense`].
    pub fn unpack_dense(&self, w: u128) -> [i32; DENSE_LANES as usize] {
        self.synapse.lanes.map(|f| f.get_signed(w) as i32)
    }
    /// A synapse word of either format.
    pub fn pack_synapse_word(&self, e: SynapseWordEntry) -> u128 {
        match e {
            SynapseWordEntry::Sparse(s) => self.pack_synapse(s),
            SynapseWordEntry::Dense(w) => self.pack_dense(w),
        }
    }
    /// Per-neuron word ([`NeuronWord`]).
    pub fn pack_neuron(&self, e: NeuronEntry) -> u128 {
        self.neuron.bias.put(e.bias as i64) | self.neuron.set.put(e.set as i64)
    }
    /// Inverse of [`Layout::pack_neuron`].
    pub fn unpack_neuron(&self, w: u128) -> NeuronEntry {
        NeuronEntry { bias: self.neuron.bias.get_signed(w) as i32, set: self.neuron.set.get(w) as u32 }
    }
    /// Parameter-set word ([`ParamWord`]).
    pub fn pack_param(&self, e: ParamSetEntry) -> u128 {
        let f = &self.param;
        let mut w = f.threshold.put(e.threshold as i64) | f.v_min.put(e.v_min as i64);
        if let Some(s) = e.leak {
            w |= f.leak_enable.put(1) | f.leak_shift.put(s as i64);
        }
        if let (Some(s), Some(en), Some(sh)) = (e.syn, f.syn_enable, f.syn_shift) {
            w |= en.put(1) | sh.put(s as i64);
        }
        debug_assert!(
            e.syn.is_none() || f.syn_enable.is_some(),
            "the mapper refuses current-based neurons without current_state"
        );
        w | f.reset_zero.put(e.reset_zero as i64) | f.output.put(e.output as i64)
    }
    /// Inverse of [`Layout::pack_param`].
    pub fn unpack_param(&self, w: u128) -> ParamSetEntry {
        let f = &self.param;
        ParamSetEntry {
            threshold: f.threshold.get_signed(w) as i32,
            v_min: f.v_min.get_signed(w) as i32,
            leak: (f.leak_enable.get(w) == 1).then_some(f.leak_shift.get(w) as u32),
            reset_zero: f.reset_zero.get(w) == 1,
            output: f.output.get(w) == 1,
            syn: match (f.syn_enable, f.syn_shift) {
                (Some(en), Some(sh)) if en.get(w) == 1 => Some(sh.get(w) as u32),
                _ => None,
            },
        }
    }
    /// Potential word (P-bit two's complement).
    pub fn pack_potential(&self, v: i32) -> u128 {
        self.potential.put(v as i64)
    }
    /// Inverse of [`Layout::pack_potential`] (the potential only).
    pub fn unpack_potential(&self, w: u128) -> i32 {
        self.potential.get_signed(w) as i32
    }
    /// The synaptic current of a potential word (0 without `current_state`).
    pub fn unpack_current(&self, w: u128) -> i64 {
        self.current.map_or(0, |f| f.get_signed(w))
    }
    /// Index word of `word`'s layout.
    pub fn pack_index(&self, word: IndexWord, (base, len): (u32, u32)) -> u128 {
        debug_assert!(len as u128 <= word.len.mask(), "at most one route per destination core");
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
            ParamSetEntry { threshold: -7, v_min: -32768, leak: Some(31), reset_zero: true, output: true, syn: None };
        assert_eq!(l.unpack_param(l.pack_param(p)), p);
        let p = ParamSetEntry { leak: None, reset_zero: false, output: false, ..p };
        assert_eq!(l.unpack_param(l.pack_param(p)), p);
        let n = NeuronEntry { bias: -32768, set: 15 };
        assert_eq!(l.unpack_neuron(l.pack_neuron(n)), n);
        let s = SynapseEntry { target: 63, weight: -128 };
        assert_eq!(l.unpack_synapse(l.pack_synapse(s)), s);
        assert_eq!(l.unpack_dense(l.pack_dense([-128, 127])), [-128, 127]);
        let a = AxonEntry { row_base: 1023, row_len: 1024, dense_start: None };
        assert_eq!(l.unpack_axon(l.pack_axon(a)), a);
        let a = AxonEntry { dense_start: Some(63), ..a };
        assert_eq!(l.unpack_axon(l.pack_axon(a)), a);
        let r = RouteEntry { core: 3, axon: 127 };
        assert_eq!(l.unpack_route(l.pack_route(r)), r);
        // medium: 4 cores, R = 256: len holds 0..=4 in 3 bits, base 8 bits.
        assert_eq!(l.route_index.len.width, 3);
        assert_eq!(l.route_index.width(), 11);
        assert_eq!(l.unpack_index(l.route_index, l.pack_index(l.route_index, (255, 4))), (255, 4));
        assert_eq!(l.unpack_potential(l.pack_potential(-5)), -5);
        // The documented positions (docs/hardware.md).
        assert_eq!(l.pack_param(ParamSetEntry { threshold: 1, ..p }) >> (16 + 8), 1);
    }

    /// With `current_state`, parameter sets carry k_syn and potential words
    /// the current above v; the words still tile.
    #[test]
    fn current_state_fields() {
        let spec = HardwareSpec { current_state: true, ..HardwareSpec::preset("medium").unwrap() };
        let l = Layout::new(&spec);
        for m in [Memory::ParamSets, Memory::Potentials] {
            let mut fields = m.fields(&l);
            fields.sort_by_key(|(_, f)| f.offset);
            let mut next = 0;
            for (_, f) in &fields {
                assert_eq!(f.offset, next);
                next = f.end();
            }
            assert!(next <= crate::ports::CFG_DATA_BITS as u32);
        }
        assert_eq!(Memory::Potentials.width(&l), 16 + 24);
        let p =
            ParamSetEntry { threshold: 9, v_min: -3, leak: Some(2), reset_zero: false, output: true, syn: Some(23) };
        assert_eq!(l.unpack_param(l.pack_param(p)), p);
        let p = ParamSetEntry { syn: Some(0), ..p };
        assert_eq!(l.unpack_param(l.pack_param(p)), p);
        let p = ParamSetEntry { syn: None, ..p };
        assert_eq!(l.unpack_param(l.pack_param(p)), p);
        let w = l.pack_potential(-5) | l.current.unwrap().put(-(1 << 23));
        assert_eq!((l.unpack_potential(w), l.unpack_current(w)), (-5, -(1 << 23)));
        let bad = HardwareSpec { accumulator_bits: 32, ..spec };
        assert!(bad.problems().iter().any(|(f, _, _)| *f == "current_state"));
    }

    #[test]
    fn row_formats() {
        use RowFormat::*;
        assert_eq!(RowFormat::choose(&[], 16), Sparse);
        assert_eq!(RowFormat::choose(&[3], 16), Sparse);
        assert_eq!(RowFormat::choose(&[4, 3], 16), Dense { start: 3, words: 1 });
        assert_eq!(RowFormat::choose(&[4, 3, 5], 16), Dense { start: 3, words: 2 });
        assert_eq!(RowFormat::choose(&[0, 1, 2, 3], 4), Dense { start: 0, words: 2 });
        assert_eq!(RowFormat::choose(&[1, 2, 3], 8), Dense { start: 1, words: 2 }, "padding lane at slot 4");
        assert_eq!(RowFormat::choose(&[1, 2, 3], 4), Dense { start: 0, words: 2 }, "padding lane at slot 0");
        assert_eq!(RowFormat::choose(&[2, 3, 4], 5), Dense { start: 1, words: 2 }, "padding moved below");
        assert_eq!(RowFormat::choose(&[0, 1, 2], 3), Sparse, "no room for the padding lane");
        assert_eq!(RowFormat::choose(&[1, 1, 2, 3], 16), Sparse, "duplicate targets");
        assert_eq!(RowFormat::choose(&[0, 2, 4, 6], 16), Sparse, "gaps cost as many words");
        assert_eq!(RowFormat::choose(&[0, 2, 3, 4, 6], 16), Dense { start: 0, words: 4 });
    }
}
