//! A fault-injecting HTTP proxy between the SDK and moto: by a script the test sets, it answers some
//! DynamoDB requests itself (throttling, server errors) or, for `BatchWriteItem`, forwards only part of
//! the batch and hands the rest back as `UnprocessedItems`. Everything else goes to moto unchanged.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

const JSON_1_0: &str = "application/x-amz-json-1.0";

/// What the proxy does to a matching request instead of passing it through.
#[derive(Clone, Copy, Debug)]
pub enum Fault {
    /// HTTP 400 `ThrottlingException`.
    Throttling,
    /// HTTP 400 `ProvisionedThroughputExceededException`.
    ThroughputExceeded,
    /// HTTP 500 `InternalServerError`.
    Internal,
    /// HTTP 503 `ServiceUnavailable`.
    Unavailable,
    /// `BatchWriteItem` only: moto gets all but the last `n` write requests; those come back unprocessed.
    HoldBack(usize),
}

impl Fault {
    fn error(self) -> Option<(StatusCode, &'static str)> {
        match self {
            Fault::Throttling => Some((StatusCode::BAD_REQUEST, "ThrottlingException")),
            Fault::ThroughputExceeded => {
                Some((StatusCode::BAD_REQUEST, "ProvisionedThroughputExceededException"))
            }
            Fault::Internal => Some((StatusCode::INTERNAL_SERVER_ERROR, "InternalServerError")),
            Fault::Unavailable => Some((StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable")),
            Fault::HoldBack(_) => None,
        }
    }
}

struct Rule {
    operation: &'static str,
    /// Only requests naming this table match.
    table: Option<String>,
    fault: Fault,
    /// `None`: every matching request, for as long as the rule stands.
    left: Option<usize>,
}

#[derive(Default)]
struct Script {
    rules: Vec<Rule>,
    seen: HashMap<String, usize>,
    faulted: HashMap<String, usize>,
}

impl Script {
    /// The fault for this request, if a rule matches; counts the request either way.
    fn next(&mut self, operation: &str, body: &str) -> Option<Fault> {
        *self.seen.entry(operation.to_string()).or_default() += 1;
        let rule = self.rules.iter_mut().find(|r| {
            r.operation == operation
                && r.left != Some(0)
                && r.table.as_ref().is_none_or(|t| body.contains(&format!("\"{t}\"")))
        })?;
        if let Some(left) = &mut rule.left {
            *left -= 1;
        }
        *self.faulted.entry(operation.to_string()).or_default() += 1;
        Some(rule.fault)
    }
}

struct Shared {
    upstream: String,
    http: reqwest::Client,
    script: Mutex<Script>,
}

/// The proxy; it stops when dropped.
pub struct FaultProxy {
    endpoint: String,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultProxy {
    /// Listens on a free 127.0.0.1 port and forwards to `upstream`.
    pub async fn start(upstream: &str) -> FaultProxy {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("http client");
        let shared =
            Arc::new(Shared { upstream: upstream.to_string(), http, script: Mutex::new(Script::default()) });
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("the proxy binds");
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("the proxy serves");
        });
        FaultProxy { endpoint, shared, task }
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The next `times` `operation` requests (on `table`, if given) get `fault`.
    pub fn inject(&self, operation: &'static str, table: Option<&str>, fault: Fault, times: usize) {
        self.add(operation, table, fault, Some(times));
    }

    /// Every `operation` request (on `table`, if given) gets `fault` until [`FaultProxy::heal`].
    pub fn always(&self, operation: &'static str, table: Option<&str>, fault: Fault) {
        self.add(operation, table, fault, None);
    }

    /// Drops every rule; requests pass through again.
    pub fn heal(&self) {
        self.script().rules.clear();
    }

    /// Requests of `operation` received so far, faulted or not.
    pub fn seen(&self, operation: &str) -> usize {
        self.script().seen.get(operation).copied().unwrap_or(0)
    }

    /// Requests of `operation` that got a fault.
    pub fn faulted(&self, operation: &str) -> usize {
        self.script().faulted.get(operation).copied().unwrap_or(0)
    }

    fn add(&self, operation: &'static str, table: Option<&str>, fault: Fault, left: Option<usize>) {
        let table = table.map(str::to_string);
        self.script().rules.push(Rule { operation, table, fault, left });
    }

    fn script(&self) -> std::sync::MutexGuard<'_, Script> {
        self.shared.script.lock().unwrap()
    }
}

async fn handle(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    // `X-Amz-Target: DynamoDB_20120810.<Operation>` names the operation.
    let operation = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit('.').next())
        .unwrap_or("")
        .to_string();
    let text = String::from_utf8_lossy(&body);
    let fault = shared.script.lock().unwrap().next(&operation, &text);
    match fault {
        None => forward(&shared, headers, body).await,
        Some(Fault::HoldBack(n)) => hold_back(&shared, headers, &body, n).await,
        Some(fault) => {
            let (status, code) = fault.error().expect("an error fault");
            let body = json!({
                "__type": format!("com.amazonaws.dynamodb.v20120810#{code}"),
                "message": format!("injected {code} for {operation}"),
            });
            reply(status, body.to_string().into())
        }
    }
}

/// Sends the request on to moto and relays status and body.
async fn forward(shared: &Shared, headers: HeaderMap, body: Bytes) -> Response {
    let (status, body) = send(shared, headers, body).await;
    reply(status, body)
}

async fn send(shared: &Shared, mut headers: HeaderMap, body: Bytes) -> (StatusCode, Bytes) {
    // The body may have been rewritten; reqwest sets the length and moto does not check signatures.
    headers.remove(header::HOST);
    headers.remove(header::CONTENT_LENGTH);
    let sent = shared.http.post(&shared.upstream).headers(headers).body(body).send().await;
    match sent {
        Ok(response) => {
            let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
            (status, response.bytes().await.unwrap_or_default())
        }
        Err(e) => (StatusCode::BAD_GATEWAY, Bytes::from(format!("proxy: moto unreachable: {e}"))),
    }
}

/// Forwards all but the last `n` write requests of a `BatchWriteItem` and returns those as unprocessed,
/// merged with whatever moto itself left unprocessed.
async fn hold_back(shared: &Shared, headers: HeaderMap, body: &[u8], n: usize) -> Response {
    let mut request: Value = serde_json::from_slice(body).expect("BatchWriteItem bodies are JSON");
    let mut held: Map<String, Value> = Map::new();
    let mut remaining = n;
    let tables = request["RequestItems"].as_object_mut().expect("RequestItems");
    for (table, writes) in tables.iter_mut() {
        let writes = writes.as_array_mut().expect("a list of write requests");
        let keep = writes.len().saturating_sub(remaining);
        let back = writes.split_off(keep);
        remaining -= back.len();
        if !back.is_empty() {
            held.insert(table.clone(), Value::Array(back));
        }
    }
    tables.retain(|_, writes| writes.as_array().is_some_and(|w| !w.is_empty()));
    if tables.is_empty() {
        // Nothing left to write: DynamoDB answers a fully throttled batch the same way.
        return reply(StatusCode::OK, json!({ "UnprocessedItems": held }).to_string().into());
    }
    let (status, answer) = send(shared, headers, request.to_string().into()).await;
    if status != StatusCode::OK {
        return reply(status, answer);
    }
    let mut answer: Value = serde_json::from_slice(&answer).expect("moto answers JSON");
    let unprocessed = answer
        .as_object_mut()
        .expect("an object")
        .entry("UnprocessedItems")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
        .expect("UnprocessedItems is an object");
    for (table, back) in held {
        let list = unprocessed.entry(table).or_insert_with(|| Value::Array(Vec::new()));
        list.as_array_mut().expect("a list").extend(back.as_array().cloned().unwrap_or_default());
    }
    reply(StatusCode::OK, answer.to_string().into())
}

fn reply(status: StatusCode, body: Bytes) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, JSON_1_0)
        .body(Body::from(body))
        .expect("a valid response")
}
