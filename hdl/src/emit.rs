//! Turns rust-hdl's Verilog into tool-safe, readable, one-module-per-file
//! sources.
//!
//! rust-hdl names the top module `top` and every submodule and wire by its
//! path joined with `$` (`top$core$0$ram`, `ram$clock`). Those are legal
//! Verilog but awkward in every tool, so: the top becomes `<prefix>_top`
//! (or a given name), submodules `<prefix>_<path>` with `_` for `$`, and
//! local wires `<instance>__<port>`. Each module goes to its own file named
//! after it (Verilator's DECLFILENAME rule). The output is a pure function of
//! the design: same spec, same bytes.
//!
//! Glitch-free combinational blocks: rust-hdl writes each module's logic as
//! one `always @(*)` that first assigns defaults and then overrides them
//! (`valid = 0; if (..) valid = 1;`). Under an event-driven simulator
//! (Icarus) every such intermediate value is an event: two modules whose
//! blocks read each other's outputs (a valid/ready handshake) wake each
//! other forever within one time step. So every variable a combinational
//! block assigns more than once (a default, then overrides), or in parts,
//! or only under a condition, is computed in a private shadow
//! (`<name>_sfn`) and copied to the real variable once, at the end of the
//! block: the same logic, one event per change. A variable assigned once,
//! whole, at the block's top level already changes at most once per
//! evaluation and keeps no shadow (in a compiled simulator each shadow is
//! one more copy per clock: 9% of Verilator's instructions per clock on
//! `medium`). Verilator and Yosys see identical behaviour.
//!
//! One clock net: rust-hdl passes the clock to every submodule through its
//! parent's combinational block (`ram__clock = clock;`). To a simulator
//! that is a derived clock per instance (hundreds of them): Verilator then
//! re-checks every one of them for an edge in every evaluation, which was
//! most of its run time. Those unconditional copies are removed and the
//! submodule's clock port is connected to `clock` itself.

/// One emitted file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerilogFile {
    /// Module name (file name is `<name>.v`).
    pub module: String,
    /// Contents.
    pub text: String,
}

/// Renames and splits rust-hdl output. `prefix` names the design (e.g.
/// `sf_tiny`); the top module becomes `top_name`.
pub fn split_modules(verilog: &str, prefix: &str, top_name: &str) -> Vec<VerilogFile> {
    let rename_module = |name: &str| -> String {
        if name == "top" {
            top_name.to_string()
        } else {
            let rest = name.strip_prefix("top$").unwrap_or(name);
            format!("{prefix}_{}", rest.replace('$', "_"))
        }
    };
    let mut files = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in verilog.lines() {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix("module ") {
            let name_end = rest.find(['(', ' ', ';']).unwrap_or(rest.len());
            let name = rename_module(&rest[..name_end]);
            let text = format!("module {name}{}\n", path_separators(&rest[name_end..]));
            current = Some((name, text));
            continue;
        }
        if let Some((name, text)) = current.as_mut() {
            if trimmed.starts_with("endmodule") {
                text.push_str("endmodule\n");
                files.push(VerilogFile { module: name.clone(), text: tidy(&shadow_comb_block(&direct_clocks(text))) });
                current = None;
                continue;
            }
            // Submodule instantiations: `top$x$y inst(` -> `<prefix>_x_y inst(`.
            let mut l = line.to_string();
            let starts_ident = |l: &str, pos: usize| {
                pos == 0 || !l[..pos].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$')
            };
            if let Some(pos) = l.match_indices("top$").map(|(p, _)| p).find(|&p| starts_ident(&l, p)) {
                let end = l[pos..].find(' ').map_or(l.len(), |e| pos + e);
                let renamed = rename_module(&l[pos..end]);
                l.replace_range(pos..end, &renamed);
            }
            text.push_str(&path_separators(&l));
            text.push('\n');
        }
    }
    files.sort_by(|a, b| a.module.cmp(&b.module));
    one_module_per_type(files, prefix)
}

/// The module a line instantiates (`    <module> <instance>(`), if it is
/// an instantiation of one of `names`.
fn instantiated<'a>(line: &'a str, names: &std::collections::BTreeMap<String, usize>) -> Option<&'a str> {
    let t = line.trim_start();
    let (kind, rest) = t.split_once(' ')?;
    (rest.trim_end().ends_with('(') && names.contains_key(kind)).then_some(kind)
}

/// Merges modules whose text is the same up to their own name and the
/// (merged) names of the modules they instantiate: rust-hdl writes one
/// module per *instance* (`sf_x_cores_0`, `sf_x_cores_1`, ...), identical
/// for identical blocks. One module per type makes the sources, the
/// Verilator build and its C++ model about as large as one instance of
/// each block instead of one per instance. A merged module is named after
/// its instances with the instance numbers left out (`sf_x_cores`) when
/// that name is free, else after its first instance. Modules that differ
/// (a memory preloaded from its own image file, say) stay apart. The top
/// is never merged.
fn one_module_per_type(files: Vec<VerilogFile>, prefix: &str) -> Vec<VerilogFile> {
    use std::collections::BTreeMap;
    let index: BTreeMap<String, usize> = files.iter().enumerate().map(|(k, f)| (f.module.clone(), k)).collect();
    let children: Vec<Vec<usize>> = files
        .iter()
        .map(|f| f.text.lines().filter_map(|l| instantiated(l, &index)).map(|m| index[m]).collect())
        .collect();
    // Children before parents (the hierarchy is a tree, so no cycles).
    let mut order = Vec::with_capacity(files.len());
    let mut state = vec![0u8; files.len()];
    for root in 0..files.len() {
        let mut stack = vec![(root, false)];
        while let Some((m, expanded)) = stack.pop() {
            if expanded {
                if state[m] == 1 {
                    state[m] = 2;
                    order.push(m);
                }
                continue;
            }
            if state[m] != 0 {
                continue;
            }
            state[m] = 1;
            stack.push((m, true));
            for &c in children[m].iter().rev() {
                if state[c] == 0 {
                    stack.push((c, false));
                }
            }
        }
    }
    // Type of each module: its text with its own name blanked and each
    // child's name replaced by the child's type.
    let mut type_of = vec![usize::MAX; files.len()];
    let mut types: BTreeMap<String, usize> = BTreeMap::new();
    let mut members: Vec<Vec<usize>> = Vec::new();
    for &m in &order {
        let mut key = String::with_capacity(files[m].text.len());
        for (k, l) in files[m].text.lines().enumerate() {
            if k <= 1 && l.starts_with("module ") {
                key.push_str("module\n");
                continue;
            }
            match instantiated(l, &index) {
                Some(kind) => key.push_str(&format!(
                    "#{} {}\n",
                    type_of[index[kind]],
                    l.trim_start().split_once(' ').map_or("", |x| x.1)
                )),
                None => {
                    key.push_str(l);
                    key.push('\n');
                }
            }
        }
        // The top (and anything else named uniquely by role) keeps its own type.
        if files[m].module.ends_with("_top") || !files[m].module.starts_with(prefix) {
            key.push_str(&files[m].module);
        }
        let next = members.len();
        let t = *types.entry(key).or_insert(next);
        if t == next {
            members.push(Vec::new());
        }
        members[t].push(m);
        type_of[m] = t;
    }
    // Names: instance numbers left out where that is unambiguous.
    let strip = |name: &str| -> String {
        let rest = name.strip_prefix(prefix).unwrap_or(name);
        let kept: Vec<&str> =
            rest.split('_').filter(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())).collect();
        format!("{}{}", &name[..name.len() - rest.len()], kept.join("_"))
    };
    let firsts: Vec<usize> =
        members.iter().map(|ms| *ms.iter().min_by_key(|&&m| &files[m].module).expect("a type has members")).collect();
    let mut claims: BTreeMap<String, usize> = BTreeMap::new();
    for (ms, &f) in members.iter().zip(&firsts) {
        if ms.len() > 1 {
            *claims.entry(strip(&files[f].module)).or_default() += 1;
        }
    }
    let names: Vec<String> = members
        .iter()
        .zip(&firsts)
        .map(|(ms, &f)| {
            let short = strip(&files[f].module);
            if ms.len() > 1 && claims.get(&short) == Some(&1) && !index.contains_key(&short) {
                short
            } else {
                files[f].module.clone()
            }
        })
        .collect();
    let mut out: Vec<VerilogFile> = firsts
        .iter()
        .zip(&names)
        .map(|(&m, name)| {
            let mut text = String::with_capacity(files[m].text.len());
            for l in files[m].text.lines() {
                if let Some(rest) = l.strip_prefix("module ").and_then(|r| r.strip_prefix(files[m].module.as_str())) {
                    text.push_str(&format!("module {name}{rest}\n"));
                    continue;
                }
                match instantiated(l, &index) {
                    Some(kind) => {
                        let indent = &l[..l.len() - l.trim_start().len()];
                        let rest = l.trim_start().split_once(' ').map_or("", |x| x.1);
                        text.push_str(&format!("{indent}{} {rest}\n", names[type_of[index[kind]]]));
                    }
                    None => {
                        text.push_str(l);
                        text.push('\n');
                    }
                }
            }
            VerilogFile { module: name.clone(), text }
        })
        .collect();
    out.sort_by(|a, b| a.module.cmp(&b.module));
    out
}

/// The `always @(*) begin` .. `end` line range of a module, if it has one.
fn comb_block(lines: &[&str]) -> Option<(usize, usize)> {
    let start = lines.iter().position(|l| l.trim() == "always @(*) begin")?;
    let mut depth = 0i32;
    for (k, l) in lines.iter().enumerate().skip(start) {
        for (a, z) in idents(l) {
            match &l[a..z] {
                "begin" => depth += 1,
                "end" => depth -= 1,
                _ => {}
            }
        }
        if depth == 0 {
            return Some((start, k));
        }
    }
    None
}

/// Connects submodule clock ports straight to `clock` where the module's
/// combinational block only copies `clock` to them (see the module docs).
fn direct_clocks(module: &str) -> String {
    let lines: Vec<&str> = module.lines().collect();
    let Some((start, end)) = comb_block(&lines) else { return module.to_string() };
    // Unconditional copies: at the block's top level (depth 1).
    let mut copies: Vec<String> = Vec::new();
    let mut depth = 0i32;
    let mut drop_line = vec![false; lines.len()];
    for (k, l) in lines.iter().enumerate().take(end + 1).skip(start) {
        let t = l.trim();
        if depth == 1 {
            if let Some(inst) = t.strip_suffix("__clock = clock;") {
                if !inst.is_empty() && inst.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    copies.push(format!("{inst}__clock"));
                    drop_line[k] = true;
                }
            }
        }
        for (a, z) in idents(l) {
            match &l[a..z] {
                "begin" => depth += 1,
                "end" => depth -= 1,
                _ => {}
            }
        }
    }
    if copies.is_empty() {
        return module.to_string();
    }
    let copies: std::collections::HashSet<String> = copies.into_iter().collect();
    // Such a signal must not be used anywhere else in the block.
    let mut used_elsewhere = false;
    for (k, l) in lines.iter().enumerate().take(end).skip(start + 1) {
        if !drop_line[k] && idents(l).iter().any(|&(a, z)| copies.contains(&l[a..z])) {
            used_elsewhere = true;
        }
    }
    if used_elsewhere {
        return module.to_string();
    }
    let mut out = String::with_capacity(module.len());
    for (k, l) in lines.iter().enumerate() {
        if drop_line[k] {
            continue;
        }
        let t = l.trim();
        // The copy's declaration goes.
        if let Some(rest) = t.strip_prefix("reg") {
            let name = rest.trim().trim_end_matches(';');
            if copies.contains(name) {
                continue;
            }
        }
        // `.clock(inst__clock)` -> `.clock(clock)`.
        let mut line = l.to_string();
        if t.starts_with('.') {
            let inner = t.split_once('(').and_then(|(_, r)| r.split_once(')')).map(|(x, _)| x);
            if let Some(c) = inner.filter(|c| copies.contains(*c)) {
                line = line.replace(&format!("({c})"), "(clock)");
            }
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// The variable a statement line assigns (`name = ...;` or
/// `name[..] = ...;`), if it is an assignment.
fn assignment_target(line: &str) -> Option<&str> {
    let t = line.trim_start();
    let &(a, z) = idents(t).first()?;
    if a != 0 {
        return None;
    }
    let rest = t[z..].trim_start();
    let rest = if rest.starts_with('[') { rest.split_once(']').map_or("", |x| x.1).trim_start() } else { rest };
    (rest.starts_with('=') && !rest.starts_with("==")).then(|| &t[..z])
}

/// Variables a module's combinational block reads before it first assigns
/// them (in text order). Such a read sees the previous evaluation's value:
/// simulators that evaluate the block once per input change (Icarus) and
/// those that iterate to a fixed point (Verilator) can then disagree, so
/// the design must have none; the tests check every emitted module.
pub fn reads_before_writes(module: &str) -> Vec<String> {
    let lines: Vec<&str> = module.lines().collect();
    let Some((start, end)) = comb_block(&lines) else { return Vec::new() };
    let mut assigned: Vec<&str> = Vec::new();
    let mut bad: Vec<String> = Vec::new();
    let body = &lines[start + 1..end];
    // Everything the block assigns somewhere.
    let all: Vec<&str> = body.iter().filter_map(|l| assignment_target(l)).collect();
    for l in body {
        let t = l.trim_start();
        let ids = idents(t);
        let lhs = assignment_target(t);
        for (k, &(a, z)) in ids.iter().enumerate() {
            let n = &t[a..z];
            if k == 0 && lhs.is_some() {
                continue;
            }
            if all.contains(&n) && !assigned.contains(&n) && !bad.iter().any(|b| b == n) {
                bad.push(n.to_string());
            }
        }
        if let Some(n) = lhs {
            assigned.push(n);
        }
    }
    bad
}

/// Suffix of the shadow variables of [`shadow_comb_block`].
const SHADOW: &str = "_sfn";

/// Whole-identifier tokens of a line with their byte ranges (identifiers
/// right after `'` are number bases/digits, not names).
/// The module types [`shared_instance_config`] applies to, by the end of
/// their name: the fabric's cores and the mesh's router nodes (rust-hdl
/// names a module after its field path: `Fabric::cores`, `MeshNet::nodes`).
/// Only these: Verilator keeps them as modules of their own, while marking
/// the ports of a small module (a RAM, a register) stops it from being
/// inlined, which costs more than it saves (measured: +9% instructions per
/// clock on `medium` when every repeated module was marked).
pub const SHARED_MODULES: &[&str] = &["cores", "net_nodes"];

/// Verilator configuration that keeps the input ports of the cores and the
/// mesh nodes ([`SHARED_MODULES`], when instantiated more than once) as variables of their
/// own (`public_flat_rd`). Without it Verilator substitutes each instance's
/// input with the parent's wire that drives it, so the instances' code
/// differs by a name and is emitted once per instance: 64 copies of a core
/// on an 8x8 mesh, which overflow the instruction cache (measured: 1.7x
/// fewer cycles per second on 64 cores, no change on 4). With the ports
/// kept, one function serves every instance. Only for simulation builds;
/// it changes no behaviour. Deterministic: modules in file order, ports in
/// declaration order.
pub fn shared_instance_config(files: &[VerilogFile]) -> String {
    let mut out = String::from("`verilator_config\n");
    let shared: std::collections::BTreeMap<String, usize> = files
        .iter()
        .enumerate()
        .filter(|(_, f)| SHARED_MODULES.iter().any(|k| f.module.ends_with(&format!("_{k}"))))
        .map(|(k, f)| (f.module.clone(), k))
        .collect();
    let mut instances = vec![0usize; files.len()];
    for l in files.iter().flat_map(|g| g.text.lines()) {
        if let Some(m) = instantiated(l, &shared) {
            instances[shared[m]] += 1;
        }
    }
    for (f, _) in files.iter().zip(&instances).filter(|(_, &n)| n >= 2) {
        for l in f.text.lines() {
            let Some(rest) = l.trim().strip_prefix("input wire") else { continue };
            let rest = rest.trim().trim_end_matches(';').trim();
            let name = rest.rsplit(|c: char| c.is_whitespace() || c == ']').next().unwrap_or("");
            if !name.is_empty() && name != "clock" {
                out.push_str(&format!("public_flat_rd -module \"{}\" -var \"{name}\"\n", f.module));
            }
        }
    }
    out
}

fn idents(line: &str) -> Vec<(usize, usize)> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$') {
                i += 1;
            }
            let after_quote = start > 0 && b[start - 1] == b'\'';
            let after_digit_or_dollar =
                start > 0 && (b[start - 1].is_ascii_digit() || b[start - 1] == b'$' || b[start - 1] == b'.');
            if !after_quote && !after_digit_or_dollar {
                out.push((start, i));
            }
        } else if c.is_ascii_digit() || c == b'$' {
            // Numbers and system tasks: skip the whole token.
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$' || b[i] == b'\'') {
                i += 1;
            }
        } else {
            i += 1;
        }
    }
    out
}

/// Rewrites a module's `always @(*)` block so that each variable it assigns
/// changes once per evaluation (see the module docs). Modules without such a
/// block are returned unchanged.
fn shadow_comb_block(module: &str) -> String {
    let lines: Vec<&str> = module.lines().collect();
    let Some((start, end)) = comb_block(&lines) else { return module.to_string() };
    // Declared widths of module-level variables: `[output] reg [W] name;`.
    let mut decl: Vec<(String, String)> = Vec::new();
    for l in &lines[..start] {
        let t = l.trim();
        let rest = t.strip_prefix("output reg").or_else(|| t.strip_prefix("reg"));
        let Some(rest) = rest else { continue };
        let rest = rest.trim().trim_end_matches(';').trim();
        let (width, name) = match rest.strip_prefix('[') {
            Some(r) => match r.split_once(']') {
                Some((w, n)) => (format!("[{w}]"), n.trim()),
                None => continue,
            },
            None => (String::new(), rest),
        };
        if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            decl.push((name.to_string(), width));
        }
    }
    // Variables other processes see: outputs, and variables named outside
    // the block other than in their declaration (submodule connections).
    // Locals only this block reads cannot wake anyone and stay as they are.
    // Sets, not lists: the fabric's and the mesh's modules grow with the
    // cores, and a lookup per identifier must not.
    let mut seen_outside: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for (k, l) in lines.iter().enumerate() {
        if (start..=end).contains(&k) {
            continue;
        }
        let t = l.trim();
        if t.starts_with("reg") {
            continue;
        }
        let outputs = t.starts_with("output reg");
        for (a, z) in idents(l) {
            let n = &l[a..z];
            if !outputs || !matches!(n, "output" | "reg") {
                seen_outside.insert(n);
            }
        }
    }
    // Variables the block assigns (`name = ...;` or `name[..] = ...;`).
    let widths: std::collections::HashMap<&str, &str> = decl.iter().map(|(n, w)| (n.as_str(), w.as_str())).collect();
    // A variable assigned once, whole, at the block's top level changes at
    // most once per evaluation as it is: no shadow (a shadow is one more
    // copy per clock in a compiled simulator). Shadowed: every variable
    // with a default and overrides, or assigned in parts or conditionally.
    let mut count: std::collections::HashMap<&str, (usize, bool)> = std::collections::HashMap::new();
    let mut depth = 0i32;
    for l in &lines[start..end] {
        if depth == 1 {
            if let Some(n) = assignment_target(l) {
                let whole = l.trim_start()[n.len()..].trim_start().starts_with('=');
                let e = count.entry(n).or_insert((0, true));
                e.0 += 1;
                e.1 &= whole;
            }
        } else if let Some(n) = assignment_target(l) {
            let e = count.entry(n).or_insert((0, true));
            e.0 += 1;
            e.1 = false;
        }
        for (a, z) in idents(l) {
            match &l[a..z] {
                "begin" => depth += 1,
                "end" => depth -= 1,
                _ => {}
            }
        }
    }
    let mut assigned: Vec<String> = Vec::new();
    let mut is_assigned: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for l in &lines[start + 1..end] {
        if let Some(n) = assignment_target(l) {
            let once_whole = count.get(n) == Some(&(1, true));
            if widths.contains_key(n) && seen_outside.contains(n) && !once_whole && is_assigned.insert(n) {
                assigned.push(n.to_string());
            }
        }
    }
    if assigned.is_empty() {
        return module.to_string();
    }
    let rename = |l: &str| -> String {
        let mut out = String::with_capacity(l.len() + 16);
        let mut last = 0;
        for (a, z) in idents(l) {
            if is_assigned.contains(&l[a..z]) {
                out.push_str(&l[last..z]);
                out.push_str(SHADOW);
                last = z;
            }
        }
        out.push_str(&l[last..]);
        out
    };
    let mut out = String::with_capacity(module.len() * 2);
    for l in &lines[..start] {
        out.push_str(l);
        out.push('\n');
    }
    out.push_str("    // Shadows: each assigned variable changes once per evaluation.\n");
    for n in &assigned {
        let w = widths[n.as_str()];
        let sep = if w.is_empty() { "" } else { " " };
        out.push_str(&format!("    reg {w}{sep}{n}{SHADOW};\n"));
    }
    out.push_str(lines[start]);
    out.push('\n');
    for l in &lines[start + 1..end] {
        out.push_str(&rename(l));
        out.push('\n');
    }
    for n in &assigned {
        out.push_str(&format!("        {n} = {n}{SHADOW};\n"));
    }
    for l in &lines[end..] {
        out.push_str(l);
        out.push('\n');
    }
    out
}

/// `$` inside identifiers (rust-hdl's path separator) becomes `__`; a `$`
/// that starts a token is a system task (`$readmemh`) and stays.
fn path_separators(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 8);
    let mut prev_ident = false;
    for c in line.chars() {
        if c == '$' && prev_ident {
            out.push_str("__");
        } else {
            out.push(c);
        }
        prev_ident = c.is_ascii_alphanumeric() || c == '_' || (c == '$' && prev_ident);
    }
    out
}

/// Trailing spaces off, no runs of blank lines, `// generated` header.
fn tidy(text: &str) -> String {
    let mut out = String::from("// Generated by spikeforge. Do not edit.\n");
    let mut blank = false;
    for line in text.lines() {
        let l = line.trim_end();
        if l.is_empty() {
            if blank {
                continue;
            }
            blank = true;
        } else {
            blank = false;
        }
        out.push_str(l);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_instance_config_keeps_inputs_of_repeated_modules() {
        let f = |m: &str, t: &str| VerilogFile { module: m.into(), text: t.into() };
        let files = vec![
            f("x_cores", "module x_cores(clock,a,b,y);\n    input wire  clock;\n    input wire  a;\n    input wire  [3:0] b;\n    output reg  y;\nendmodule\n"),
            f("one", "module one(clock,k);\n    input wire  k;\nendmodule\n"),
            f("top", "module top();\n    x_cores c0(\n    );\n    x_cores c1(\n    );\n    one o(\n    );\nendmodule\n"),
        ];
        assert_eq!(
            shared_instance_config(&files),
            "`verilator_config\npublic_flat_rd -module \"x_cores\" -var \"a\"\npublic_flat_rd -module \"x_cores\" -var \"b\"\n"
        );
    }

    #[test]
    fn combinational_outputs_change_once_per_evaluation() {
        let m = "module m(a,y,z);\n    input wire  a;\n    output reg  y;\n    output reg  [3:0] z;\n    reg  t;\n    reg  u;\n    sub s(\n        .x(u)\n    );\n    always @(*) begin\n        y = 1'b0;\n        t = a;\n        u = t;\n        if (t) begin\n            y = 1'b1;\n        end\n        z[1:0] = 2'h3 & {y, y};\n    end\nendmodule\n";
        let out = shadow_comb_block(m);
        // Outputs assigned more than once or in parts get shadows; the
        // private local does not, nor the submodule connection assigned
        // once, whole, at the top level (it changes once per evaluation).
        assert!(out.contains("    reg y_sfn;\n    reg [3:0] z_sfn;\n"), "{out}");
        assert!(!out.contains("t_sfn") && !out.contains("u_sfn"), "{out}");
        assert!(out.contains("        u = t;\n"), "{out}");
        assert!(out.contains("        y_sfn = 1'b0;\n"), "{out}");
        assert!(out.contains("        z_sfn[1:0] = 2'h3 & {y_sfn, y_sfn};\n"), "{out}");
        assert!(out.contains("        y = y_sfn;\n        z = z_sfn;\n    end\nendmodule"), "{out}");
        // Number literals are left alone.
        assert!(out.contains("1'b1"));
    }

    #[test]
    fn renames_and_splits() {
        let v = "\n\nmodule top(clock,x);\n  top$ram ram(\n    .clock(ram$clock)\n  );\nendmodule // top\n\n\nmodule top$ram(clock);\n  input wire clock;\nendmodule // top$ram\n";
        let f = split_modules(v, "sf_tiny", "sf_tiny_top");
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].module, "sf_tiny_ram");
        assert_eq!(f[1].module, "sf_tiny_top");
        assert!(f[1].text.contains("module sf_tiny_top(clock,x);"));
        assert!(f[1].text.contains("sf_tiny_ram ram("));
        assert!(f[1].text.contains(".clock(ram__clock)"));
        assert!(!f.iter().any(|x| x.text.contains('$')));
        assert_eq!(
            path_separators("initial $readmemh(\"a\", mem); x = ram$clock;"),
            "initial $readmemh(\"a\", mem); x = ram__clock;"
        );
    }
}
