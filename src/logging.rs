//! Log output: human-readable by default, JSON lines with `--log-json`; level from `RUST_LOG`.
//!
//! Every line passes through a mask of the secrets' values before it is written: libraries log what
//! they were given (an HTTP client's span records the full L1 URL, key included), so redacting at our
//! own call sites is not enough.

use std::io::{IsTerminal, Write};
use std::sync::RwLock;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// What no log line may contain; filled by [`mask`] once the secrets are read.
static MASKED: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Values this short are not masked: they would scramble ordinary text and protect nothing.
const MIN_MASKED_LEN: usize = 6;

/// The level without `RUST_LOG`: the engine's story at info, chatty libraries at warn.
pub const DEFAULT_FILTER: &str = "info,ractor=warn,hyper=warn,reqwest=warn,alloy=warn";
/// For `sparta replay`: a progress bar and a summary say what a log line per batch and per decision would
/// (and a replay's superseded deliveries are expected, not worth a warning each).
pub const QUIET_FILTER: &str = "warn,sparta_actors::publisher=error";

pub fn init(json: bool, default_filter: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(MaskedStderr)
        .with_ansi(std::io::stderr().is_terminal());
    let _ = if json { builder.json().try_init() } else { builder.compact().try_init() };
}

/// Masks `values` in every log line from now on.
pub fn mask<'a>(values: impl IntoIterator<Item = &'a str>) {
    let mut masked = MASKED.write().unwrap_or_else(|e| e.into_inner());
    for value in values {
        if value.len() >= MIN_MASKED_LEN && !masked.iter().any(|m| m == value) {
            masked.push(value.to_owned());
        }
    }
    // Longest first, so a value containing another is masked whole.
    masked.sort_by_key(|m| std::cmp::Reverse(m.len()));
}

/// `text` with every masked value replaced, for output that does not go through the log.
pub fn masked(text: &str) -> String {
    scrub(text).unwrap_or_else(|| text.to_owned())
}

/// `line` with every masked value replaced.
fn scrub(line: &str) -> Option<String> {
    let masked = MASKED.read().unwrap_or_else(|e| e.into_inner());
    let hit = masked.iter().any(|m| line.contains(m.as_str()));
    hit.then(|| masked.iter().fold(line.to_owned(), |text, m| text.replace(m.as_str(), "[redacted]")))
}

struct MaskedStderr;

impl<'a> MakeWriter<'a> for MaskedStderr {
    type Writer = MaskedWriter;

    fn make_writer(&'a self) -> Self::Writer {
        MaskedWriter
    }
}

/// The formatter hands over one whole formatted event per `write`.
struct MaskedWriter;

impl Write for MaskedWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        match scrub(&text) {
            Some(clean) => std::io::stderr().write_all(clean.as_bytes())?,
            None => std::io::stderr().write_all(buf)?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_values_are_replaced_longest_first_and_short_ones_ignored() {
        mask(["abc", "key-0123456789", "https://eth.example/v2/key-0123456789"]);
        let line = "GET https://eth.example/v2/key-0123456789 failed; key key-0123456789; abc stays";
        assert_eq!(scrub(line).unwrap(), "GET [redacted] failed; key [redacted]; abc stays");
        assert_eq!(scrub("nothing secret"), None);
    }
}
