//! A tiny JSON-RPC server on 127.0.0.1:0 that answers from a closure and records every call.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

/// What the double answers to one request.
#[derive(Clone, Debug)]
pub enum Reply {
    Result(Value),
    /// `{"jsonrpc":"2.0","id":…}` with no `result` key (the node's `undefined`).
    NoResult,
    Error {
        code: i64,
        message: String,
    },
    /// An `eth_call` revert carrying `data` (a custom error), as geth and anvil answer it.
    Revert {
        data: String,
    },
    /// A recorded body with this HTTP status, replayed under the request's id when it is a JSON-RPC
    /// answer (recordings carry the id of the request they answered).
    Raw {
        status: u16,
        body: String,
    },
    /// A body sent exactly as is.
    Verbatim {
        status: u16,
        body: String,
    },
}

impl Reply {
    pub fn fixture(name: &str) -> Reply {
        Reply::Raw { status: 200, body: fixture(name) }
    }
}

/// Every request received: method and positional params.
type CallLog = Arc<Mutex<Vec<(String, Vec<Value>)>>>;

type Handler = dyn Fn(&str, &[Value]) -> Reply + Send + Sync;

#[derive(Clone)]
struct Shared {
    handler: Arc<Handler>,
    calls: CallLog,
}

pub struct RpcDouble {
    pub url: String,
    calls: CallLog,
    server: tokio::task::JoinHandle<()>,
}

impl RpcDouble {
    pub async fn start(handler: impl Fn(&str, &[Value]) -> Reply + Send + Sync + 'static) -> Self {
        let shared = Shared { handler: Arc::new(handler), calls: Arc::default() };
        let calls = shared.calls.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let app = Router::new().route("/", post(serve)).with_state(shared);
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("serve");
        });
        Self { url, calls, server }
    }

    /// The params of every call of `method`, in order.
    pub fn calls_of(&self, method: &str) -> Vec<Vec<Value>> {
        self.calls.lock().unwrap().iter().filter(|(m, _)| m == method).map(|(_, p)| p.clone()).collect()
    }
}

impl Drop for RpcDouble {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn serve(State(shared): State<Shared>, body: Bytes) -> Response {
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "not JSON").into_response();
    };
    let method = request["method"].as_str().unwrap_or_default().to_owned();
    let params = request["params"].as_array().cloned().unwrap_or_default();
    shared.calls.lock().unwrap().push((method.clone(), params.clone()));
    let id = request["id"].clone();
    let (status, body) = match (shared.handler)(&method, &params) {
        Reply::Result(result) => (200, json!({"jsonrpc": "2.0", "id": id, "result": result}).to_string()),
        Reply::NoResult => (200, json!({"jsonrpc": "2.0", "id": id}).to_string()),
        Reply::Error { code, message } => (
            200,
            json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}}).to_string(),
        ),
        Reply::Revert { data } => {
            let error = json!({"code": 3, "message": "execution reverted", "data": data});
            (200, json!({"jsonrpc": "2.0", "id": id, "error": error}).to_string())
        }
        Reply::Raw { status, body } => (status, with_id(body, id)),
        Reply::Verbatim { status, body } => (status, body),
    };
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn with_id(body: String, id: Value) -> String {
    match serde_json::from_str::<Value>(&body) {
        Ok(Value::Object(mut answer)) if answer.contains_key("id") => {
            answer.insert("id".into(), id);
            Value::Object(answer).to_string()
        }
        _ => body,
    }
}

pub fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata").join(name)
}

/// A node fixture (`testdata/node/<name>`), a whole JSON-RPC answer.
pub fn fixture(name: &str) -> String {
    let path = fixture_path("node").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// The `result` of a node fixture.
pub fn fixture_result(name: &str) -> Value {
    let answer: Value = serde_json::from_str(&fixture(name)).expect("fixture is JSON");
    answer["result"].clone()
}

/// A URL where nothing listens (a port bound then released).
pub fn refused_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}/")
}
