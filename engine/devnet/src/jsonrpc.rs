//! JSON-RPC 2.0 envelopes shared by both servers: parsing, batches, errors, positional params.

use alloy_primitives::Address;
use serde_json::{Map, Value, json};

pub const PARSE_ERROR: i64 = -32700;
pub const INVALID_REQUEST: i64 = -32600;
pub const METHOD_NOT_FOUND: i64 = -32601;
pub const INVALID_PARAMS: i64 = -32602;

/// A JSON-RPC error object.
#[derive(Clone, Debug, PartialEq)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    pub data: Option<Value>,
}

impl RpcError {
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), data: None }
    }

    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }

    pub fn method_not_found(method: &str) -> Self {
        Self::new(METHOD_NOT_FOUND, format!("the method {method} does not exist/is not available"))
    }

    pub fn invalid_params(message: impl Into<String>) -> Self {
        Self::new(INVALID_PARAMS, message)
    }

    fn to_json(&self) -> Value {
        let mut error = json!({ "code": self.code, "message": self.message });
        if let Some(data) = &self.data {
            error["data"] = data.clone();
        }
        error
    }
}

/// One server's methods.
pub trait RpcHandler: Send + Sync + 'static {
    /// `Ok(None)` is an undefined result: the response then has no `result` key (as a node
    /// written in TypeScript answers); return `Ok(Some(Value::Null))` for an explicit `null`.
    fn call(&self, method: &str, params: &[Value]) -> Result<Option<Value>, RpcError>;

    /// Extra HTTP response headers (name, value).
    fn headers(&self) -> Vec<(&'static str, String)> {
        Vec::new()
    }
}

/// Answers one HTTP body: a single request, or a batch (a JSON array).
pub fn handle_body(handler: &dyn RpcHandler, body: &[u8]) -> Value {
    match serde_json::from_slice::<Value>(body) {
        Err(e) => error_response(Value::Null, &RpcError::new(PARSE_ERROR, format!("parse error: {e}"))),
        Ok(Value::Array(requests)) if requests.is_empty() => {
            error_response(Value::Null, &RpcError::new(INVALID_REQUEST, "empty batch"))
        }
        Ok(Value::Array(requests)) => {
            Value::Array(requests.iter().map(|r| handle_request(handler, r)).collect())
        }
        Ok(request) => handle_request(handler, &request),
    }
}

fn handle_request(handler: &dyn RpcHandler, request: &Value) -> Value {
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let Some(method) = request.get("method").and_then(Value::as_str) else {
        return error_response(id, &RpcError::new(INVALID_REQUEST, "invalid request: no method"));
    };
    let params = match request.get("params") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(params)) => params.clone(),
        Some(_) => {
            return error_response(id, &RpcError::invalid_params("params must be an array"));
        }
    };
    let mut response = Map::new();
    response.insert("jsonrpc".into(), "2.0".into());
    response.insert("id".into(), id);
    match handler.call(method, &params) {
        Ok(Some(result)) => {
            response.insert("result".into(), result);
        }
        Ok(None) => {}
        Err(error) => {
            response.insert("error".into(), error.to_json());
        }
    }
    Value::Object(response)
}

fn error_response(id: Value, error: &RpcError) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "error": error.to_json() })
}

/// The `i`th positional param, treating `null` as absent.
pub fn param(params: &[Value], i: usize) -> Option<&Value> {
    params.get(i).filter(|v| !v.is_null())
}

/// A number given as a JSON number, a decimal string or a `0x` hex string.
pub fn as_u64(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
            Some(hex) => u64::from_str_radix(hex, 16).ok(),
            None => s.parse().ok(),
        },
        _ => None,
    }
}

pub fn u64_param(params: &[Value], i: usize, name: &str) -> Result<Option<u64>, RpcError> {
    param(params, i)
        .map(|v| {
            as_u64(v).ok_or_else(|| RpcError::invalid_params(format!("{name}: expected a number, got {v}")))
        })
        .transpose()
}

pub fn address_param(params: &[Value], i: usize, name: &str) -> Result<Address, RpcError> {
    let value = param(params, i).ok_or_else(|| RpcError::invalid_params(format!("{name}: missing")))?;
    value
        .as_str()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| RpcError::invalid_params(format!("{name}: expected an address, got {value}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Echo;

    impl RpcHandler for Echo {
        fn call(&self, method: &str, params: &[Value]) -> Result<Option<Value>, RpcError> {
            match method {
                "echo" => Ok(Some(Value::Array(params.to_vec()))),
                "nothing" => Ok(None),
                other => Err(RpcError::method_not_found(other)),
            }
        }
    }

    #[test]
    fn single_batch_undefined_and_errors() {
        let r = handle_body(&Echo, br#"{"jsonrpc":"2.0","id":7,"method":"echo","params":[1]}"#);
        assert_eq!(r, json!({"jsonrpc":"2.0","id":7,"result":[1]}));
        let r = handle_body(&Echo, br#"[{"id":1,"method":"nothing"},{"id":2,"method":"nope"}]"#);
        assert_eq!(r[0], json!({"jsonrpc":"2.0","id":1}));
        assert_eq!(r[1]["error"]["code"], METHOD_NOT_FOUND);
        assert_eq!(handle_body(&Echo, b"{not json")["error"]["code"], PARSE_ERROR);
        assert_eq!(handle_body(&Echo, b"[]")["error"]["code"], INVALID_REQUEST);
        assert_eq!(handle_body(&Echo, br#"{"id":1}"#)["error"]["code"], INVALID_REQUEST);
        let r = handle_body(&Echo, br#"{"id":1,"method":"echo","params":{"a":1}}"#);
        assert_eq!(r["error"]["code"], INVALID_PARAMS);
    }

    #[test]
    fn numbers_come_in_three_spellings() {
        assert_eq!(as_u64(&json!(12)), Some(12));
        assert_eq!(as_u64(&json!("12")), Some(12));
        assert_eq!(as_u64(&json!("0xc")), Some(12));
        assert_eq!(as_u64(&json!("twelve")), None);
        assert_eq!(as_u64(&json!(-1)), None);
    }
}
