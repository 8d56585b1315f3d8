//! RPC timing and failures, by source (`node`, `l1`) and method. Both label sets are small and fixed:
//! the methods this crate calls, and a failure's class (never a message, which could carry anything).

use std::future::Future;
use std::time::Instant;

use sparta_telemetry::catalog;

use crate::node::error::codes;
use crate::{L1Error, NodeError};

/// A failure's class for the error counter's `code` label.
pub(crate) trait ErrorCode {
    fn code(&self) -> String;
}

impl ErrorCode for NodeError {
    fn code(&self) -> String {
        match self {
            NodeError::InvalidUrl { .. } | NodeError::InvalidArgument { .. } => "invalid".into(),
            NodeError::Unreachable { .. } => "unreachable".into(),
            NodeError::Http { status, .. } => format!("http_{status}"),
            // Only the codes the node is known to use: a label from a hostile source is a new series.
            NodeError::Rpc { code, .. } | NodeError::NodeFailure { code, .. }
                if codes::KNOWN.contains(code) =>
            {
                format!("rpc_{code}")
            }
            NodeError::Rpc { .. } | NodeError::NodeFailure { .. } => "rpc_other".into(),
            NodeError::Oversized { .. } => "oversized".into(),
            NodeError::Decode { .. } => "decode".into(),
        }
    }
}

impl ErrorCode for L1Error {
    fn code(&self) -> String {
        match self {
            L1Error::InvalidUrl { .. } => "invalid",
            L1Error::Unreachable { .. } => "unreachable",
            L1Error::Oversized { .. } => "oversized",
            L1Error::Reverted { .. } => "reverted",
            L1Error::Rpc { .. } => "rpc",
            L1Error::Decode { .. } | L1Error::Calldata(_) | L1Error::Implausible { .. } => "decode",
            L1Error::WrongChain { .. } | L1Error::NoRollup { .. } => "wrong_chain",
        }
        .into()
    }
}

/// Runs `call`, recording its duration and, when it fails, its failure class.
pub(crate) async fn timed<T, E: ErrorCode>(
    source: &'static str,
    method: &str,
    call: impl Future<Output = Result<T, E>>,
) -> Result<T, E> {
    let started = Instant::now();
    let result = call.await;
    let method = method.to_owned();
    metrics::histogram!(catalog::CHAIN_RPC_DURATION_SECONDS, "source" => source, "method" => method.clone())
        .record(started.elapsed().as_secs_f64());
    if let Err(e) = &result {
        metrics::counter!(catalog::CHAIN_RPC_ERRORS_TOTAL, "source" => source, "method" => method, "code" => e.code())
            .increment(1);
    }
    result
}
