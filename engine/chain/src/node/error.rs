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
    pub const KNOWN: [i64; 5] = [INVALID_REQUEST, METHOD_NOT_FOUND, INTERNAL, VALIDATION, HANDLER];
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
    /// The answer passed the response-size limit: refused unread.
    #[error("the Aztec node's answer to {method} is refused: {detail}")]
    Oversized { method: String, detail: String },
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
