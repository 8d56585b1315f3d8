//! A loopback proxy in front of moto that answers the next N requests the way AWS does when it throttles
//! (moto itself never throttles): the SDK's retry, sparta's retry metrics and the publisher's carry-over
//! are then exercised against the real wire protocols.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

#[derive(Default)]
struct Counts {
    /// Requests still to throttle.
    throttle_next: AtomicUsize,
    seen: AtomicUsize,
    throttled: AtomicUsize,
}

pub struct ThrottlingProxy {
    endpoint: String,
    counts: Arc<Counts>,
    _server: tokio::task::JoinHandle<()>,
}

#[derive(Clone)]
struct Upstream {
    url: String,
    client: reqwest::Client,
    counts: Arc<Counts>,
}

impl ThrottlingProxy {
    pub async fn start(upstream: &str) -> Self {
        let counts = Arc::new(Counts::default());
        let state =
            Upstream { url: upstream.to_owned(), client: reqwest::Client::new(), counts: counts.clone() };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let app = Router::new().fallback(forward).with_state(state);
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { endpoint, counts, _server: server }
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The next `n` requests get a throttling error instead of reaching moto.
    pub fn throttle_next(&self, n: usize) {
        self.counts.throttle_next.store(n, Ordering::SeqCst);
    }

    /// (requests seen, requests throttled)
    pub fn counts(&self) -> (usize, usize) {
        (self.counts.seen.load(Ordering::SeqCst), self.counts.throttled.load(Ordering::SeqCst))
    }
}

async fn forward(
    State(up): State<Upstream>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    up.counts.seen.fetch_add(1, Ordering::SeqCst);
    let throttle = up
        .counts
        .throttle_next
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if throttle {
        up.counts.throttled.fetch_add(1, Ordering::SeqCst);
        return throttled(&headers);
    }
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut request = up.client.request(method, format!("{}{path}", up.url)).body(body);
    for (name, value) in &headers {
        if name != "host" && name != "content-length" {
            request = request.header(name, value);
        }
    }
    match request.send().await {
        Ok(answer) => {
            let status = answer.status();
            let headers = answer.headers().clone();
            let body = answer.bytes().await.unwrap_or_default();
            let mut response = Response::new(Body::from(body));
            *response.status_mut() = status;
            for (name, value) in &headers {
                if name != "content-length" && name != "transfer-encoding" {
                    response.headers_mut().insert(name, value.clone());
                }
            }
            response
        }
        Err(e) => (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    }
}

/// The service's own throttling answer: DynamoDB speaks JSON 1.0, CloudWatch (before CBOR) the query
/// protocol with an XML error.
fn throttled(headers: &HeaderMap) -> Response {
    let json =
        headers.get("content-type").is_some_and(|v| v.as_bytes().starts_with(b"application/x-amz-json"));
    if json {
        let body = r#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate of requests exceeds the allowed throughput."}"#;
        return (StatusCode::BAD_REQUEST, [("content-type", "application/x-amz-json-1.0")], body)
            .into_response();
    }
    let body = concat!(
        r#"<ErrorResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/">"#,
        "<Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error>",
        "<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
    );
    (StatusCode::BAD_REQUEST, [("content-type", "text/xml")], body).into_response()
}
