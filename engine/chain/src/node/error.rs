//! What can go wrong talking to an Aztec node.

/// JSON-RPC error codes the node uses.
pub mod codes {
    pub const INVALID_REQUEST: i64 = -32600;
    pub const METHOD_NOT_FOUND: i64 = -32601;
    /// The node failed internally (from 5.2; `-32600` before).
    pub const INTERNAL: i64 = -32603;
    /// Parameters failed the node's schema validation.
    pub const VALIDATION: i64 = -32701;
    /// The handler threw.
    pub const HANDLER: i64 = -32702;
}

#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("invalid node URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("cannot reach the Aztec node at {url}: {source}")]
    Unreachable {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("the Aztec node answered {method} with HTTP {status}: {excerpt}")]
    Http { method: String, status: u16, excerpt: String },
    #[error("the Aztec node rejected {method} (JSON-RPC error {code}): {message}")]
    Rpc { method: String, code: i64, message: String },
    /// The node's own failure, not a refusal of the request: retried like an outage.
    #[error("the Aztec node failed on {method} (JSON-RPC error {code}, a node-side failure): {message}")]
    NodeFailure { method: String, code: i64, message: String },
    #[error("cannot decode the Aztec node's answer to {method}: {detail}")]
    Decode { method: String, detail: String },
    #[error("bad argument for {method}: {detail}")]
    InvalidArgument { method: String, detail: String },
}

impl NodeError {
    /// The node does not know the method (an older or newer version).
    pub fn is_unknown_method(&self) -> bool {
        matches!(self, NodeError::Rpc { code, .. } if *code == codes::METHOD_NOT_FOUND)
    }
}

/// An error message from the node as sparta shows it: at most 200 characters, control characters
/// (newlines that could forge log lines) escaped.
pub(crate) fn shown_message(message: &str) -> String {
    const MAX: usize = 200;
    let mut out = escape_controls(message.chars().take(MAX));
    if message.chars().nth(MAX).is_some() {
        out.push('…');
    }
    out
}

/// The first bytes of a body, for error messages (never the whole of a large answer).
pub(crate) fn excerpt(body: &[u8]) -> String {
    const MAX: usize = 200;
    let text = escape_controls(String::from_utf8_lossy(&body[..body.len().min(MAX)]).chars());
    if body.len() > MAX { format!("{text}…") } else { text }
}

/// Control characters (newlines, escapes) written as escapes, so text from outside stays on its line.
fn escape_controls(text: impl Iterator<Item = char>) -> String {
    let mut out = String::new();
    for c in text {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}
