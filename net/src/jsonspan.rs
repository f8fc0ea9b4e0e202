//! Byte spans of document paths in JSON text, for diagnostics.
//!
//! serde_json keeps no spans, so validation issues (which carry a
//! [`crate::path::Path`]) are located by scanning the text once more. All
//! paths of one report are resolved in **one pass**: they form a trie, the
//! scanner descends only into values some path goes through and skips every
//! other value with a flat byte loop, so the cost is linear in the text and
//! the memory is the trie (a span-preserving tree of a 12 MB one-line file
//! of weights would take hundreds of MB). Recursion follows the paths only,
//! never the nesting of skipped values, so deep input cannot overflow the
//! stack. The text may be invalid after the point serde_json stopped: the
//! scan then ends there and keeps what it found.

use std::ops::Range;

/// One step of a document path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum SegRef<'a> {
    /// A field of an object.
    Key(&'a str),
    /// An element of an array.
    Index(usize),
}

struct Node<'a> {
    /// Children sorted by segment, for binary search.
    children: Vec<(SegRef<'a>, usize)>,
    span: Option<Range<usize>>,
}

/// For every path, the span of its deepest prefix present in `text`
/// (`None` if not even the root value could be read).
pub(crate) fn json_spans(text: &str, paths: &[Vec<SegRef<'_>>]) -> Vec<Option<Range<usize>>> {
    let mut nodes = vec![Node { children: Vec::new(), span: None }];
    let mut ends = Vec::with_capacity(paths.len());
    for p in paths {
        let mut cur = 0;
        for &seg in p {
            cur = match nodes[cur].children.iter().find(|(s, _)| *s == seg) {
                Some(&(_, c)) => c,
                None => {
                    nodes.push(Node { children: Vec::new(), span: None });
                    let c = nodes.len() - 1;
                    nodes[cur].children.push((seg, c));
                    c
                }
            };
        }
        ends.push(cur);
    }
    // The linear `find` above is over the children built so far; sort once
    // for the scan's lookups.
    for n in &mut nodes {
        n.children.sort_by(|a, b| a.0.cmp(&b.0));
    }
    let mut scan = Scan { text, b: text.as_bytes(), i: 0 };
    let _ = scan.value(&mut nodes, 0);
    paths
        .iter()
        .map(|p| {
            let mut cur = 0;
            let mut best = nodes[0].span.clone();
            for seg in p {
                let children = &nodes[cur].children;
                match children.binary_search_by(|(s, _)| s.cmp(seg)) {
                    Ok(k) if nodes[children[k].1].span.is_some() => {
                        cur = children[k].1;
                        best = nodes[cur].span.clone();
                    }
                    _ => break,
                }
            }
            best
        })
        .collect()
}

struct Scan<'t> {
    text: &'t str,
    b: &'t [u8],
    i: usize,
}

impl Scan<'_> {
    fn ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn expect(&mut self, c: u8) -> Option<()> {
        self.ws();
        (self.b.get(self.i) == Some(&c)).then(|| self.i += 1)
    }

    /// Past a string starting at `self.i` (a quote).
    fn skip_string(&mut self) -> Option<()> {
        self.i += 1;
        loop {
            match self.b.get(self.i)? {
                b'"' => {
                    self.i += 1;
                    return Some(());
                }
                b'\\' => self.i += 2,
                _ => self.i += 1,
            }
        }
    }

    /// Past any value, without recursion.
    fn skip_value(&mut self) -> Option<()> {
        self.ws();
        match *self.b.get(self.i)? {
            b'"' => self.skip_string(),
            b'{' | b'[' => {
                let mut depth = 0usize;
                loop {
                    match *self.b.get(self.i)? {
                        b'"' => self.skip_string()?,
                        b'{' | b'[' => {
                            depth += 1;
                            self.i += 1;
                        }
                        b'}' | b']' => {
                            depth -= 1;
                            self.i += 1;
                            if depth == 0 {
                                return Some(());
                            }
                        }
                        _ => self.i += 1,
                    }
                }
            }
            _ => {
                let start = self.i;
                while self.i < self.b.len()
                    && !matches!(self.b[self.i], b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
                {
                    self.i += 1;
                }
                (self.i > start).then_some(())
            }
        }
    }

    /// Reads the value of trie node `node`, descending where paths go.
    fn value(&mut self, nodes: &mut [Node<'_>], node: usize) -> Option<()> {
        self.ws();
        let start = self.i;
        // Provisional span: the value's first byte, if it ends badly.
        nodes[node].span = Some(start..(start + 1).min(self.b.len()));
        if nodes[node].children.is_empty() {
            self.skip_value()?;
        } else {
            match *self.b.get(self.i)? {
                b'{' => {
                    self.i += 1;
                    self.ws();
                    if self.b.get(self.i) == Some(&b'}') {
                        self.i += 1;
                    } else {
                        loop {
                            self.ws();
                            if self.b.get(self.i) != Some(&b'"') {
                                return None;
                            }
                            let ks = self.i + 1;
                            self.skip_string()?;
                            let key = self.text.get(ks..self.i - 1)?;
                            self.expect(b':')?;
                            let child = nodes[node]
                                .children
                                .binary_search_by(|(s, _)| s.cmp(&SegRef::Key(key)))
                                .ok()
                                .map(|k| nodes[node].children[k].1);
                            match child {
                                Some(c) => self.value(nodes, c)?,
                                None => self.skip_value()?,
                            }
                            self.ws();
                            match *self.b.get(self.i)? {
                                b',' => self.i += 1,
                                b'}' => {
                                    self.i += 1;
                                    break;
                                }
                                _ => return None,
                            }
                        }
                    }
                }
                b'[' => {
                    self.i += 1;
                    self.ws();
                    if self.b.get(self.i) == Some(&b']') {
                        self.i += 1;
                    } else {
                        let mut index = 0usize;
                        loop {
                            let child = nodes[node]
                                .children
                                .binary_search_by(|(s, _)| s.cmp(&SegRef::Index(index)))
                                .ok()
                                .map(|k| nodes[node].children[k].1);
                            match child {
                                Some(c) => self.value(nodes, c)?,
                                None => self.skip_value()?,
                            }
                            index += 1;
                            self.ws();
                            match *self.b.get(self.i)? {
                                b',' => self.i += 1,
                                b']' => {
                                    self.i += 1;
                                    break;
                                }
                                _ => return None,
                            }
                        }
                    }
                }
                _ => self.skip_value()?,
            }
        }
        nodes[node].span = Some(start..self.i);
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SegRef::{Index, Key};

    fn at(text: &str, path: &[SegRef<'_>]) -> Option<String> {
        json_spans(text, &[path.to_vec()])[0].clone().map(|r| text[r].to_string())
    }

    #[test]
    fn finds_values_and_deepest_prefixes() {
        let t = r#" {"a": [1, {"b": "x\"]}"}, [2, 3]], "c": {"d": -4.5e3}, "e": true} "#;
        assert_eq!(at(t, &[]).unwrap(), r#"{"a": [1, {"b": "x\"]}"}, [2, 3]], "c": {"d": -4.5e3}, "e": true}"#);
        assert_eq!(at(t, &[Key("a"), Index(1), Key("b")]).unwrap(), r#""x\"]}""#);
        assert_eq!(at(t, &[Key("a"), Index(2), Index(1)]).unwrap(), "3");
        assert_eq!(at(t, &[Key("c"), Key("d")]).unwrap(), "-4.5e3");
        assert_eq!(at(t, &[Key("e")]).unwrap(), "true");
        // Missing parts: the deepest existing prefix.
        assert_eq!(at(t, &[Key("a"), Index(7)]).unwrap(), r#"[1, {"b": "x\"]}"}, [2, 3]]"#);
        assert_eq!(at(t, &[Key("zz"), Index(0)]).unwrap(), t.trim());
    }

    #[test]
    fn many_paths_in_one_pass() {
        let t = format!("[{}]", (0..1000).map(|i| i.to_string()).collect::<Vec<_>>().join(","));
        let paths: Vec<Vec<SegRef>> = (0..1000).rev().map(|i| vec![Index(i)]).collect();
        let spans = json_spans(&t, &paths);
        for (k, s) in spans.iter().enumerate() {
            assert_eq!(&t[s.clone().unwrap()], (999 - k).to_string());
        }
    }

    #[test]
    fn broken_text_keeps_what_was_found() {
        let t = r#"{"a": [1, 2, {"b" 3"#;
        assert_eq!(at(t, &[Key("a"), Index(1)]).unwrap(), "2");
        assert_eq!(at(t, &[Key("a"), Index(2), Key("b")]).unwrap(), "{");
        assert_eq!(json_spans("", &[vec![Key("a")]])[0], Some(0..0));
        assert_eq!(json_spans("   ", &[vec![Key("a")]])[0], Some(3..3));
    }
}
