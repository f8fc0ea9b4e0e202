//! Bounded reading of input files: the one way spikeforge reads a file it
//! was given.
//!
//! Every input (network, stimulus and spike CSV, hardware spec, ONNX model,
//! data sets, files of a mapping folder) goes through [`read_file`] or
//! [`read_text`], so a hostile path cannot make spikeforge hang or exhaust
//! memory:
//!
//! - the path's metadata is checked *before* opening (symlinks followed), so
//!   a FIFO, a character or block device (`/dev/zero`, a terminal), a socket
//!   or a directory is refused without blocking in `open` or reading forever;
//! - a regular file larger than the limit is refused from its metadata
//!   without reading it, and every read goes through `take(limit + 1)`, so a
//!   file that grows while it is read (or a `/proc` file that reports size 0)
//!   is bounded too;
//! - text must be UTF-8; the first bad byte is reported with its line,
//!   column and byte offset.
//!
//! The limit is [`DEFAULT_MAX_INPUT_BYTES`] (1 GiB), overridden by the
//! environment variable [`MAX_INPUT_ENV`] (`SPIKEFORGE_MAX_INPUT_BYTES`) and,
//! above that, by [`set_max_input_bytes`] (the CLI's `--max-input-size`).

use crate::diag::{Diag, FileErrors};
use std::fmt;
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Default largest input file: 1 GiB. The largest real inputs are a few
/// hundred MB at most (a converted network of 10M synapses is about 200 MB
/// of JSON; Fashion-MNIST's training images are 47 MB), and parsing needs
/// several times the file size in memory, so a larger file is far more
/// likely a mistake (or `/dev/zero` behind a symlink) than a network.
pub const DEFAULT_MAX_INPUT_BYTES: u64 = 1 << 30;

/// Environment variable that overrides [`DEFAULT_MAX_INPUT_BYTES`]; takes a
/// size as [`parse_size`] reads it (`2G`, `512M`, `100000`).
pub const MAX_INPUT_ENV: &str = "SPIKEFORGE_MAX_INPUT_BYTES";

/// Process-wide override set by [`set_max_input_bytes`]; 0 means unset.
static OVERRIDE: AtomicU64 = AtomicU64::new(0);

/// Sets the limit for the rest of the process (the CLI's `--max-input-size`);
/// takes precedence over [`MAX_INPUT_ENV`]. A limit of 0 is raised to 1.
pub fn set_max_input_bytes(limit: u64) {
    OVERRIDE.store(limit.max(1), Ordering::Relaxed);
}

/// The limit in force: [`set_max_input_bytes`], else [`MAX_INPUT_ENV`], else
/// [`DEFAULT_MAX_INPUT_BYTES`]. A malformed environment value is an error,
/// not silently ignored.
pub fn max_input_bytes() -> Result<u64, InputError> {
    match OVERRIDE.load(Ordering::Relaxed) {
        0 => {}
        n => return Ok(n),
    }
    match std::env::var(MAX_INPUT_ENV) {
        Ok(v) => parse_size(&v).map_err(|e| InputError::BadLimit { value: v, detail: e.to_string() }),
        Err(std::env::VarError::NotPresent) => Ok(DEFAULT_MAX_INPUT_BYTES),
        Err(std::env::VarError::NotUnicode(v)) => {
            Err(InputError::BadLimit { value: v.to_string_lossy().into_owned(), detail: "not UTF-8".into() })
        }
    }
}

/// Reads a size: a whole number of bytes with an optional binary suffix
/// `K`, `M`, `G` or `T` (powers of 1024; `KiB`, `MB`, `g` … are accepted
/// too). At least 1 byte.
pub fn parse_size(s: &str) -> Result<u64, SizeError> {
    let t = s.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(digits);
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => return Err(SizeError::Unit { text: s.to_string() }),
    };
    let n: u64 = num.parse().map_err(|_| SizeError::Number { text: s.to_string() })?;
    let bytes = n.checked_mul(1 << shift).ok_or_else(|| SizeError::TooLarge { text: s.to_string() })?;
    if bytes == 0 {
        return Err(SizeError::Zero);
    }
    Ok(bytes)
}

/// Why a size (`--max-input-size`, [`MAX_INPUT_ENV`]) was not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SizeError {
    /// An unknown unit after the number.
    #[error("`{text}` is not a size; write bytes, or a number with K, M, G or T, e.g. 2G")]
    Unit {
        /// What was given.
        text: String,
    },
    /// No whole number before the unit.
    #[error("`{text}` is not a size; write bytes, or a number with K, M, G or T")]
    Number {
        /// What was given.
        text: String,
    },
    /// More than 2^64 bytes.
    #[error("`{text}` is too large")]
    TooLarge {
        /// What was given.
        text: String,
    },
    /// Zero bytes.
    #[error("the limit must be at least 1 byte")]
    Zero,
}

/// Why an input file could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputError {
    /// Opening or reading failed (missing file, permissions, I/O error).
    Io { file: String, what: String, detail: String, not_found: bool },
    /// The path is not a regular file (FIFO, device, socket, directory).
    NotRegular { file: String, what: String, kind: &'static str },
    /// The file is larger than the limit; `size` is known when the metadata
    /// said so, `None` when the file grew past the limit while being read.
    TooLarge { file: String, what: String, size: Option<u64>, limit: u64 },
    /// [`MAX_INPUT_ENV`] holds something that is not a size.
    BadLimit { value: String, detail: String },
}

impl InputError {
    /// The file, if the error is about one.
    pub fn file(&self) -> Option<&str> {
        match self {
            InputError::Io { file, .. } | InputError::NotRegular { file, .. } | InputError::TooLarge { file, .. } => {
                Some(file)
            }
            InputError::BadLimit { .. } => None,
        }
    }

    /// Whether the file does not exist (callers with a fallback name use it).
    pub fn is_not_found(&self) -> bool {
        matches!(self, InputError::Io { not_found: true, .. })
    }

    /// What is wrong, without the file name.
    pub fn message(&self) -> String {
        match self {
            InputError::Io { what, detail, .. } => format!("cannot read the {what}: {detail}"),
            InputError::NotRegular { what, kind, .. } => {
                format!("the {what} is {kind}, not a regular file; spikeforge reads inputs from regular files only")
            }
            InputError::TooLarge { what, size: Some(n), limit, .. } => {
                format!("the {what} is {}, larger than the input limit of {}", bytes(*n), bytes(*limit))
            }
            InputError::TooLarge { what, size: None, limit, .. } => format!(
                "the {what} holds more than {limit} bytes (it grew while being read), more than the input limit of {}",
                bytes(*limit)
            ),
            InputError::BadLimit { detail, .. } => detail.clone(),
        }
    }

    /// How to fix it.
    pub fn help(&self) -> Option<String> {
        match self {
            InputError::Io { .. } => None,
            InputError::NotRegular { .. } => {
                Some("give the path of a regular file (copy a stream into a file first)".into())
            }
            InputError::TooLarge { .. } => Some(format!(
                "if the file is right, raise the limit with --max-input-size SIZE or {MAX_INPUT_ENV}=SIZE (e.g. 4G)"
            )),
            InputError::BadLimit { .. } => {
                Some(format!("set {MAX_INPUT_ENV} to a size such as 2G, 512M or 100000 (bytes), or unset it"))
            }
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.file().unwrap_or(MAX_INPUT_ENV);
        write!(f, "{file}: {}", self.message())
    }
}

impl std::error::Error for InputError {}

impl From<InputError> for FileErrors {
    fn from(e: InputError) -> FileErrors {
        let file = e.file().unwrap_or(MAX_INPUT_ENV).to_string();
        FileErrors::whole_file(&file, e.message(), e.help())
    }
}

/// A byte count for messages: `912 bytes`, `1 GiB (1073741824 bytes)`.
fn bytes(n: u64) -> String {
    if n < 1024 {
        format!("{n} bytes")
    } else {
        format!("{} ({n} bytes)", human(n))
    }
}

/// A size for messages: `1 GiB`, `23.4 GiB`, `512 B`.
pub fn human(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else if v.fract() == 0.0 {
        format!("{v:.0} {}", UNITS[u])
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// What kind of non-regular file a path is, for the message.
fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    let ft = meta.file_type();
    if ft.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if ft.is_char_device() {
            return "a character device";
        }
        if ft.is_block_device() {
            return "a block device";
        }
        if ft.is_socket() {
            return "a socket";
        }
    }
    "not a regular file"
}

/// Reads a whole input file of at most `limit` bytes. `what` names the input
/// in messages ("network file", "stimulus", "ONNX model").
pub fn read_file(path: &Path, what: &str, limit: u64) -> Result<Vec<u8>, InputError> {
    let file = path.display().to_string();
    let io = |e: std::io::Error| InputError::Io {
        file: file.clone(),
        what: what.to_string(),
        detail: e.to_string(),
        not_found: e.kind() == std::io::ErrorKind::NotFound,
    };
    // Metadata first (following symlinks): opening a FIFO blocks until a
    // writer appears, and a device never ends.
    let meta = std::fs::metadata(path).map_err(io)?;
    let regular = |meta: &std::fs::Metadata| {
        if meta.is_file() {
            Ok(())
        } else {
            Err(InputError::NotRegular { file: file.clone(), what: what.to_string(), kind: kind_of(meta) })
        }
    };
    regular(&meta)?;
    let too_large = |size| InputError::TooLarge { file: file.clone(), what: what.to_string(), size, limit };
    if meta.len() > limit {
        return Err(too_large(Some(meta.len())));
    }
    let f = open_nonblocking(path).map_err(io)?;
    // The path may have been swapped between the two calls; check what was
    // opened (without blocking: a FIFO swapped in opens at once here).
    regular(&f.metadata().map_err(io)?)?;
    let mut buf = Vec::with_capacity(meta.len() as usize);
    f.take(limit.saturating_add(1)).read_to_end(&mut buf).map_err(io)?;
    if buf.len() as u64 > limit {
        return Err(too_large(None));
    }
    Ok(buf)
}

/// Opens for reading without waiting for a FIFO's writer (`O_NONBLOCK`,
/// which changes nothing for the regular files that are then read).
#[cfg(unix)]
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::open(path)
}

/// [`read_file`] with the limit in force ([`max_input_bytes`]).
pub fn read_input(path: &Path, what: &str) -> Result<Vec<u8>, InputError> {
    read_file(path, what, max_input_bytes()?)
}

/// Reads a UTF-8 text input with the limit in force; invalid UTF-8 is
/// reported at the first bad byte (line, column, byte offset).
pub fn read_text(path: &Path, what: &str) -> Result<String, FileErrors> {
    let bytes = read_input(path, what)?;
    text_from_bytes(&path.display().to_string(), what, bytes)
}

/// Turns bytes into text, locating the first invalid UTF-8 byte.
pub fn text_from_bytes(file: &str, what: &str, bytes: Vec<u8>) -> Result<String, FileErrors> {
    match String::from_utf8(bytes) {
        Ok(s) => Ok(s),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let bad = e.as_bytes()[at];
            // Offsets before the first bad byte are the same in the lossy
            // text; the bad sequence becomes U+FFFD (3 bytes) there.
            let src = Arc::new(String::from_utf8_lossy(e.as_bytes()).into_owned());
            let d = Diag::new(
                file,
                &src,
                Some(at..at + '\u{fffd}'.len_utf8()),
                format!("the {what} is not valid UTF-8: byte 0x{bad:02x} at byte offset {at}"),
            )
            .with_help("save the file as UTF-8 text");
            let (line, col) = d.line_col().expect("the diagnostic has a span");
            let mut d = d;
            d.message = format!(
                "the {what} is not valid UTF-8: byte 0x{bad:02x} at line {line}, column {col} (byte offset {at})"
            );
            Err(FileErrors::new(file, vec![d]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The open itself never waits for a FIFO's writer, so a FIFO swapped
    /// in after the metadata check is opened at once and then refused.
    #[cfg(unix)]
    #[test]
    fn open_does_not_block_on_a_fifo() {
        let p = std::env::temp_dir().join(format!("sf-open-fifo-{}", std::process::id()));
        let _ = std::fs::remove_file(&p);
        let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let f = open_nonblocking(&p).unwrap();
        use std::os::unix::fs::FileTypeExt;
        assert!(f.metadata().unwrap().file_type().is_fifo());
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("100"), Ok(100));
        assert_eq!(parse_size("4k"), Ok(4096));
        assert_eq!(parse_size("2G"), Ok(2 << 30));
        assert_eq!(parse_size("512 MiB"), Ok(512 << 20));
        assert!(parse_size("0").is_err());
        assert!(parse_size("lots").is_err());
        assert!(parse_size("1.5G").is_err());
        assert!(parse_size("99999999999999T").is_err());
        assert_eq!(human(1 << 30), "1 GiB");
        assert_eq!(human(1536), "1.5 KiB");
        assert_eq!(human(7), "7 B");
    }

    #[test]
    fn utf8_errors_are_located() {
        let e = text_from_bytes("x.csv", "stimulus", b"step,population,index\n0,in,\xff1\n".to_vec()).unwrap_err();
        assert_eq!(
            e.diags[0].message,
            "the stimulus is not valid UTF-8: byte 0xff at line 2, column 6 (byte offset 27)"
        );
        assert_eq!(e.diags[0].line_col(), Some((2, 6)));
    }
}
