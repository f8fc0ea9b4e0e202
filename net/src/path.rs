//! Format-independent locations inside a network document.
//!
//! Validation speaks in paths (`projections[2].weights[0][3]`), never in byte
//! offsets, so that a network built in memory (by the converter, a test or a
//! benchmark) gets the same messages as one read from a file. The loader in
//! [`crate::source`] turns a path into a span of the JSON or TOML text.

use std::fmt;

/// One step of a [`Path`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Seg {
    /// A field of a table/object.
    Key(&'static str),
    /// An element of an array.
    Index(usize),
}

/// A location inside a network document, from the root.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Path(pub Vec<Seg>);

impl Path {
    /// The document root.
    pub fn root() -> Path {
        Path(Vec::new())
    }

    /// This path extended by a field.
    pub fn key(&self, k: &'static str) -> Path {
        let mut p = self.clone();
        p.0.push(Seg::Key(k));
        p
    }

    /// This path extended by an array index.
    pub fn index(&self, i: usize) -> Path {
        let mut p = self.clone();
        p.0.push(Seg::Index(i));
        p
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(document)");
        }
        for (i, s) in self.0.iter().enumerate() {
            match s {
                Seg::Key(k) if i == 0 => write!(f, "{k}")?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display() {
        let p = Path::root().key("projections").index(2).key("weights").index(0).index(3);
        assert_eq!(p.to_string(), "projections[2].weights[0][3]");
        assert_eq!(Path::root().to_string(), "(document)");
    }
}
