//! A JSON-RPC 2.0 client for the Aztec node's public `node_*` API.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use sparta_core::{Address, Slot};

use super::error::{NodeError, excerpt};
use super::wire::{L2Tips, NodeInfo, PublishedCheckpoint, SingleValidatorStats, ValidatorsStats};

/// The node refuses larger pages.
pub const MAX_CHECKPOINTS_PER_CALL: u32 = 50;
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone, Debug)]
pub struct NodeClient {
    http: reqwest::Client,
    url: reqwest::Url,
    next_id: std::sync::Arc<AtomicU64>,
}

#[derive(Deserialize)]
struct Envelope {
    // A missing `result` is how the node says `undefined`; `null` means the same.
    #[serde(default)]
    result: Option<Value>,
    #[serde(default)]
    error: Option<RpcErrorObject>,
}

#[derive(Deserialize)]
struct RpcErrorObject {
    code: i64,
    #[serde(default)]
    message: String,
}

impl NodeClient {
    pub fn new(url: &str) -> Result<Self, NodeError> {
        Self::with_timeout(url, DEFAULT_TIMEOUT)
    }

    pub fn with_timeout(url: &str, timeout: Duration) -> Result<Self, NodeError> {
        let invalid = |reason: String| NodeError::InvalidUrl { url: crate::redact::shown_url(url), reason };
        let parsed = reqwest::Url::parse(url).map_err(|e| invalid(e.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(invalid(format!("scheme {:?} is not http or https", parsed.scheme())));
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| invalid(format!("cannot build an HTTP client: {e}")))?;
        Ok(Self { http, url: parsed, next_id: Default::default() })
    }

    pub fn url(&self) -> &str {
        self.url.as_str()
    }

    pub async fn node_info(&self) -> Result<NodeInfo, NodeError> {
        self.call_required("node_getNodeInfo", json!([])).await
    }

    pub async fn l2_tips(&self) -> Result<L2Tips, NodeError> {
        self.call_required("node_getL2Tips", json!([])).await
    }

    /// The latest proposed L2 block number.
    pub async fn block_number(&self) -> Result<u64, NodeError> {
        #[derive(Deserialize)]
        struct Number(#[serde(deserialize_with = "super::num::u64_from")] u64);
        self.call_required::<Number>("node_getBlockNumber", json!([])).await.map(|n| n.0)
    }

    /// Up to `limit` (1..=50) published checkpoints starting at number `from` (>= 1).
    pub async fn checkpoints(&self, from: u64, limit: u32) -> Result<Vec<PublishedCheckpoint>, NodeError> {
        const METHOD: &str = "node_getCheckpoints";
        if from == 0 || limit == 0 || limit > MAX_CHECKPOINTS_PER_CALL {
            return Err(NodeError::InvalidArgument {
                method: METHOD.into(),
                detail: format!("from must be >= 1 and limit in 1..=50 (got from {from}, limit {limit})"),
            });
        }
        Ok(self.call::<Vec<PublishedCheckpoint>>(METHOD, json!([from, limit])).await?.unwrap_or_default())
    }

    /// The Sentinel's view of every validator it has seen.
    pub async fn validators_stats(&self) -> Result<ValidatorsStats, NodeError> {
        Ok(self.call("node_getValidatorsStats", json!([])).await?.unwrap_or_default())
    }

    /// One validator's Sentinel record over `[from, to]`; `None` when the node has no history for it
    /// (or runs without the Sentinel).
    pub async fn validator_stats(
        &self,
        validator: Address,
        from: Option<Slot>,
        to: Option<Slot>,
    ) -> Result<Option<SingleValidatorStats>, NodeError> {
        let address = format!("{validator:#x}");
        let params = match (from, to) {
            (None, None) => json!([address]),
            (from, None) => json!([address, from.map(|s| s.0)]),
            (from, Some(to)) => json!([address, from.map(|s| s.0), to.0]),
        };
        self.call("node_getValidatorStats", params).await
    }

    /// A call whose answer must be present.
    async fn call_required<T: DeserializeOwned>(&self, method: &str, params: Value) -> Result<T, NodeError> {
        self.call(method, params).await?.ok_or_else(|| NodeError::Decode {
            method: method.into(),
            detail: "the answer has no result".into(),
        })
    }

    /// Sends one JSON-RPC request; `Ok(None)` when the node answered without a result.
    pub async fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        params: Value,
    ) -> Result<Option<T>, NodeError> {
        crate::instrument::timed("node", method, self.send(method, params)).await
    }

    async fn send<T: DeserializeOwned>(&self, method: &str, params: Value) -> Result<Option<T>, NodeError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let request = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let unreachable = |source: reqwest::Error| NodeError::Unreachable {
            url: crate::redact::shown_url(self.url.as_str()),
            source: source.without_url(),
        };
        let response = self.http.post(self.url.clone()).json(&request).send().await.map_err(unreachable)?;
        let status = response.status();
        let body = response.bytes().await.map_err(unreachable)?;

        decode_answer(method, status.as_u16(), &body)
    }
}

/// Reads one JSON-RPC answer: the node's error object (whatever the HTTP status), else the HTTP
/// status, else the `result` as `T` (`None` when absent or null). Pure, so it is fuzzed on its own.
pub fn decode_answer<T: DeserializeOwned>(
    method: &str,
    status: u16,
    body: &[u8],
) -> Result<Option<T>, NodeError> {
    let envelope = serde_json::from_slice::<Envelope>(body);
    // Some servers send JSON-RPC errors with a non-2xx status: the error object says more.
    if let Ok(Envelope { error: Some(error), .. }) = &envelope {
        return Err(NodeError::Rpc {
            method: method.into(),
            code: error.code,
            message: error.message.clone(),
        });
    }
    if !(200..300).contains(&status) {
        return Err(NodeError::Http { method: method.into(), status, excerpt: excerpt(body) });
    }
    let envelope = envelope.map_err(|e| NodeError::Decode {
        method: method.into(),
        detail: format!("not a JSON-RPC answer ({e}): {}", excerpt(body)),
    })?;
    match envelope.result {
        None | Some(Value::Null) => Ok(None),
        Some(result) => serde_json::from_value(result).map(Some).map_err(|e| NodeError::Decode {
            method: method.into(),
            detail: format!("{e}: {}", excerpt(body)),
        }),
    }
}
