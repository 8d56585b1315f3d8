//! What can go wrong talking to an Aztec node.

/// JSON-RPC error codes the node uses.
pub mod codes {
    pub const INVALID_REQUEST: i64 = -32600;
    pub const METHOD_NOT_FOUND: i64 = -32601;
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

/// The first bytes of a body, for error messages (never the whole of a large answer).
pub(crate) fn excerpt(body: &[u8]) -> String {
    const MAX: usize = 200;
    let text = String::from_utf8_lossy(&body[..body.len().min(MAX)]);
    if body.len() > MAX { format!("{text}…") } else { text.into_owned() }
}
