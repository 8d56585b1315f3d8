//! What can go wrong reading L1.

use alloy::contract::Error as ContractError;
use alloy::transports::{TransportError, TransportErrorKind};

use crate::shown::shown_message;
use crate::transport::BodyError;

#[derive(Debug, thiserror::Error)]
pub enum L1Error {
    #[error("invalid L1 URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("cannot reach the L1 node at {url}: {detail}")]
    Unreachable { url: String, detail: String },
    /// The answer passed the response-size limit: refused unread.
    #[error("the L1 answer to {function} is refused: {detail}")]
    Oversized { function: &'static str, detail: String },
    #[error("L1 call {function} reverted: {detail}")]
    Reverted { function: &'static str, detail: String },
    #[error("L1 call {function} failed: {detail}")]
    Rpc { function: &'static str, detail: String },
    #[error("cannot decode the L1 answer to {function}: {detail}")]
    Decode { function: &'static str, detail: String },
    /// An answer that decodes but cannot be true (a genesis before Ethereum, a zero slot duration).
    #[error("the L1 answer to {function} is implausible: {detail}")]
    Implausible { function: &'static str, detail: String },
    #[error("the L1 node is on chain {actual}, expected chain {expected}")]
    WrongChain { expected: u64, actual: u64 },
    #[error("the registry {registry} names no canonical rollup")]
    NoRollup { registry: alloy_primitives::Address },
    #[error("cannot decode rollup calldata: {0}")]
    Calldata(String),
}

impl L1Error {
    /// A failed `eth_call`, classified: no answer at all, a revert, or an answer that does not decode.
    pub(crate) fn from_call(function: &'static str, url: &str, err: ContractError) -> Self {
        match err {
            ContractError::TransportError(t) => Self::from_transport(function, url, t),
            ContractError::ZeroData(..) => Self::Reverted {
                function,
                detail: "empty return data (no contract at the address, or a bare revert)".into(),
            },
            ContractError::AbiError(e) => Self::Decode { function, detail: shown(&e.to_string(), url) },
            other => Self::Rpc { function, detail: shown(&other.to_string(), url) },
        }
    }

    pub(crate) fn from_transport(function: &'static str, url: &str, err: TransportError) -> Self {
        if let Some(resp) = err.as_error_resp() {
            // Geth and anvil answer a revert with code 3 (or -32000 "execution reverted").
            let reverted = resp.code == 3 || resp.message.contains("revert");
            let detail = format!("{} (code {})", shown_message(&resp.message), resp.code);
            return if reverted {
                Self::Reverted { function, detail }
            } else {
                Self::Rpc { function, detail }
            };
        }
        if let Some(too_large) = oversized(&err) {
            return Self::Oversized { function, detail: too_large.to_string() };
        }
        let detail = shown(&err.to_string(), url);
        if err.is_transport_error() {
            return Self::Unreachable { url: crate::redact::shown_url(url), detail };
        }
        Self::Decode { function, detail }
    }

    pub fn is_revert(&self) -> bool {
        matches!(self, L1Error::Reverted { .. })
    }
}

/// The size-limit refusal inside a transport error, if that is what it is.
fn oversized(err: &TransportError) -> Option<&BodyError> {
    match err.as_transport_err()? {
        TransportErrorKind::Custom(inner) => {
            inner.downcast_ref::<BodyError>().filter(|e| !matches!(e, BodyError::Read(_)))
        }
        _ => None,
    }
}

/// Error text from the transport as shown: the URL masked, the text short and on one line.
fn shown(text: &str, url: &str) -> String {
    shown_message(&crate::redact::scrub(text, url))
}
