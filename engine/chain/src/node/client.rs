//! A JSON-RPC 2.0 client for the Aztec node's public API, in whichever spelling the node speaks
//! (`aztec_*` from 5.x, `node_*` before; see [`super::dialect`]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use sparta_core::{Address, Slot};

use super::checkpoints::read_page;
use super::dialect::{DialectCell, Namespace, NodeDialect, TipsMethod};
use super::error::{NodeError, codes};
use super::wire::{L2Tips, NodeInfo, PublishedCheckpoint, SingleValidatorStats, ValidatorsStats};
use crate::shown::{excerpt, shown_message};
use crate::transport::{BodyError, HttpLimits, read_capped};

/// The node refuses larger pages.
pub const MAX_CHECKPOINTS_PER_CALL: u32 = 50;
pub const DEFAULT_TIMEOUT: Duration = crate::transport::DEFAULT_TIMEOUT;

#[derive(Clone, Debug)]
pub struct NodeClient {
    http: reqwest::Client,
    url: reqwest::Url,
    max_response_bytes: usize,
    next_id: std::sync::Arc<AtomicU64>,
    /// Learned on first use and shared by clones, so a connection probes once.
    dialect: std::sync::Arc<DialectCell>,
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    id: Option<Value>,
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
        Self::with_limits(url, HttpLimits::default())
    }

    pub fn with_timeout(url: &str, timeout: Duration) -> Result<Self, NodeError> {
        Self::with_limits(url, HttpLimits::default().with_timeout(timeout))
    }

    pub fn with_limits(url: &str, limits: HttpLimits) -> Result<Self, NodeError> {
        let invalid = |reason: String| NodeError::InvalidUrl { url: crate::redact::shown_url(url), reason };
        let parsed = reqwest::Url::parse(url).map_err(|e| invalid(e.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(invalid(format!("scheme {:?} is not http or https", parsed.scheme())));
        }
        let http = limits.client().map_err(|e| invalid(format!("cannot build an HTTP client: {e}")))?;
        Ok(Self {
            http,
            url: parsed,
            max_response_bytes: limits.max_response_bytes,
            next_id: Default::default(),
            dialect: Default::default(),
        })
    }

    pub fn url(&self) -> &str {
        self.url.as_str()
    }

    /// What the probes have found so far.
    pub fn dialect(&self) -> NodeDialect {
        self.dialect.get()
    }

    pub async fn node_info(&self) -> Result<NodeInfo, NodeError> {
        self.api_required("getNodeInfo", json!([])).await
    }

    /// The chain's tips: `getChainTips` (5.x on), else `getL2Tips` (up to 4.x).
    pub async fn chain_tips(&self) -> Result<L2Tips, NodeError> {
        let known = self.dialect.get().tips;
        let mut last_error = None;
        for tips in known.as_ref().map_or(&TipsMethod::PROBE_ORDER[..], std::slice::from_ref) {
            match self.api::<L2Tips>(tips.method(), json!([])).await {
                Err(err) if known.is_none() && err.is_unknown_method() => last_error = Some(err),
                answer => {
                    self.dialect.set_tips(*tips);
                    return answer?.ok_or_else(|| self.no_result(tips.method()));
                }
            }
        }
        Err(last_error.expect("at least one tips method was tried"))
    }

    /// The latest proposed L2 block number.
    pub async fn block_number(&self) -> Result<u64, NodeError> {
        #[derive(Deserialize)]
        struct Number(#[serde(deserialize_with = "super::num::u64_from")] u64);
        self.api_required::<Number>("getBlockNumber", json!([])).await.map(|n| n.0)
    }

    /// Up to `limit` (1..=50) checkpoints on L1 starting at number `from` (>= 1), with their
    /// attestations and L1 data; the page ends before the first checkpoint not yet on L1.
    pub async fn checkpoints(&self, from: u64, limit: u32) -> Result<Vec<PublishedCheckpoint>, NodeError> {
        const METHOD: &str = "getCheckpoints";
        if from == 0 || limit == 0 || limit > MAX_CHECKPOINTS_PER_CALL {
            return Err(NodeError::InvalidArgument {
                method: METHOD.into(),
                detail: format!("from must be >= 1 and limit in 1..=50 (got from {from}, limit {limit})"),
            });
        }
        let params = if self.dialect.get().checkpoint_options() {
            json!([from, limit, { "includeAttestations": true, "includeL1PublishInfo": true }])
        } else {
            json!([from, limit])
        };
        let page = self.api::<Vec<Value>>(METHOD, params).await?.unwrap_or_default();
        let (page, shape) =
            read_page(page).map_err(|detail| NodeError::Decode { method: METHOD.into(), detail })?;
        if let Some(shape) = shape {
            self.dialect.set_checkpoints(shape);
        }
        Ok(page)
    }

    /// The Sentinel's view of every validator it has seen.
    pub async fn validators_stats(&self) -> Result<ValidatorsStats, NodeError> {
        Ok(self.api("getValidatorsStats", json!([])).await?.unwrap_or_default())
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
        self.api("getValidatorStats", params).await
    }

    /// A public API method, in the namespace the node answers: `aztec_` first, `node_` when the
    /// node does not know it. Once a namespace answered, only it is used.
    pub async fn api<T: DeserializeOwned>(
        &self,
        method: &str,
        params: Value,
    ) -> Result<Option<T>, NodeError> {
        let known = self.dialect.get().namespace;
        let mut last_error = None;
        for namespace in known.as_ref().map_or(&Namespace::PROBE_ORDER[..], std::slice::from_ref) {
            let full = format!("{}{method}", namespace.prefix());
            match self.call(&full, params.clone()).await {
                Err(err) if known.is_none() && err.is_unknown_method() => last_error = Some(err),
                // Any other answer, an error included, says the namespace exists.
                Err(err @ (NodeError::Unreachable { .. } | NodeError::Http { .. })) => return Err(err),
                answer => {
                    self.dialect.set_namespace(*namespace);
                    return answer;
                }
            }
        }
        Err(last_error.expect("at least one namespace was tried"))
    }

    async fn api_required<T: DeserializeOwned>(&self, method: &str, params: Value) -> Result<T, NodeError> {
        self.api(method, params).await?.ok_or_else(|| self.no_result(method))
    }

    /// The answer had no result where one is required.
    fn no_result(&self, method: &str) -> NodeError {
        let namespace = self.dialect.get().namespace.map_or("", Namespace::prefix);
        NodeError::Decode {
            method: format!("{namespace}{method}"),
            detail: "the answer has no result".into(),
        }
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
        let body = read_capped(response, self.max_response_bytes).await.map_err(|e| match e {
            BodyError::Read(source) => unreachable(source),
            too_large => NodeError::Oversized { method: method.into(), detail: too_large.to_string() },
        })?;
        decode_answer(method, id, status.as_u16(), &body)
    }
}

/// Reads one JSON-RPC answer: the node's error object (whatever the HTTP status), else the HTTP
/// status, else the `result` as `T` (`None` when absent or null). Pure, so it is fuzzed on its own.
pub fn decode_answer<T: DeserializeOwned>(
    method: &str,
    id: u64,
    status: u16,
    body: &[u8],
) -> Result<Option<T>, NodeError> {
    let envelope = serde_json::from_slice::<Envelope>(body);
    // Some servers send JSON-RPC errors with a non-2xx status: the error object says more.
    if let Ok(Envelope { error: Some(error), .. }) = &envelope {
        let (method, code, message) = (method.into(), error.code, shown_message(&error.message));
        return Err(if code == codes::INTERNAL {
            NodeError::NodeFailure { method, code, message }
        } else {
            NodeError::Rpc { method, code, message }
        });
    }
    if !(200..300).contains(&status) {
        return Err(NodeError::Http { method: method.into(), status, excerpt: excerpt(body) });
    }
    let envelope = envelope.map_err(|e| NodeError::Decode {
        method: method.into(),
        detail: format!("not a JSON-RPC answer ({e}): {}", excerpt(body)),
    })?;
    // An answer to another request (a confused proxy, a replayed cache) is no answer to this one.
    if envelope.id != Some(Value::from(id)) {
        let answered = envelope.id.as_ref().map_or("none".into(), |id| shown_message(&id.to_string()));
        return Err(NodeError::Decode {
            method: method.into(),
            detail: format!("the answer's id {answered} is not the request's id {id}"),
        });
    }
    match envelope.result {
        None | Some(Value::Null) => Ok(None),
        Some(result) => serde_json::from_value(result).map(Some).map_err(|e| NodeError::Decode {
            method: method.into(),
            detail: format!("{e}: {}", excerpt(body)),
        }),
    }
}
