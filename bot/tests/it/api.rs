//! `/api/v1` over loopback HTTP against an in-memory backend: the key is required and compared
//! exactly, and every answer (errors included) has the shape `openapi.json` documents.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde_json::Value;
use sparta_bot::{ApiKey, api_router};
use sparta_core::Address;

use crate::front::memory::{MemoryBackend, validator};
use crate::schema::OpenApi;

const KEY: &str = "a-long-enough-api-key-for-the-tests";

struct Api {
    base: String,
    doc: OpenApi,
    backend: Arc<MemoryBackend>,
    client: reqwest::Client,
}

impl Api {
    async fn start() -> Self {
        let backend = Arc::new(MemoryBackend::new());
        let router = api_router(backend.clone(), ApiKey::new(KEY).unwrap());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        let doc = OpenApi::load_from(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json"));
        Self { base, doc, backend, client: reqwest::Client::new() }
    }

    /// GETs `path` with `headers`; checks the answer against the document's schema for
    /// (`template`, status) and returns both.
    async fn get(&self, path: &str, template: &str, headers: &[(&str, &str)]) -> (u16, Value) {
        let mut request = self.client.get(format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        self.doc.assert_response(&self.doc.response_schema(template, &status.to_string()), &body);
        (status, body)
    }
}

fn bearer() -> String {
    format!("Bearer {KEY}")
}

#[tokio::test]
async fn every_route_needs_the_exact_key() {
    let api = Api::start().await;
    let wrong = format!("Bearer {KEY}x");
    let short = format!("Bearer {}", &KEY[..KEY.len() - 1]);
    for headers in [
        vec![],
        vec![("authorization", wrong.as_str())],
        vec![("authorization", short.as_str())],
        vec![("x-api-key", "nope")],
    ] {
        for (path, template) in [
            ("/api/v1/network", "/api/v1/network"),
            ("/api/v1/validators/0x0101010101010101010101010101010101010101", "/api/v1/validators/{address}"),
            ("/api/v1/operators/42", "/api/v1/operators/{id}"),
        ] {
            let (status, body) = api.get(path, template, &headers).await;
            assert_eq!(status, 401, "{path} with {headers:?}: {body}");
        }
    }
    let (status, _) = api.get("/api/v1/network", "/api/v1/network", &[("x-api-key", KEY)]).await;
    assert_eq!(status, 200, "the X-API-Key header works too");
}

#[tokio::test]
async fn answers_match_the_document() {
    let api = Api::start().await;
    let address = Address::repeat_byte(1);
    api.backend.with(|m| {
        m.validators.insert(address, validator(1, 9, 10, &[(8, 10), (9, 10)]));
        m.links.insert(address, "42".into());
        m.links.insert(Address::repeat_byte(2), "42".into());
        m.roles.insert("42".into(), vec!["performant".into()]);
    });
    let auth = bearer();
    let auth = [("authorization", auth.as_str())];
    let (status, network) = api.get("/api/v1/network", "/api/v1/network", &auth).await;
    assert_eq!((status, network["pending_checkpoint"].as_u64()), (200, Some(41)), "{network}");

    let (status, one) =
        api.get(&format!("/api/v1/validators/{address:#x}"), "/api/v1/validators/{address}", &auth).await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(one["stats"]["missedAttestations"]["count"], 9);
    assert_eq!(one["inactivity"]["inactive_streak"], 2, "the projection is computed: {one}");
    assert_eq!(one["operator"], "42");

    let (status, operator) = api.get("/api/v1/operators/42", "/api/v1/operators/{id}", &auth).await;
    assert_eq!(status, 200, "{operator}");
    assert_eq!(operator["validators"].as_array().unwrap().len(), 1);
    assert_eq!(operator["unseen"].as_array().unwrap().len(), 1);
    assert_eq!(operator["roles"][0], "performant");
}

#[tokio::test]
async fn bad_input_unknown_subjects_and_a_silent_engine_get_documented_errors() {
    let api = Api::start().await;
    let auth = bearer();
    let auth = [("authorization", auth.as_str())];
    for (path, template, expected) in [
        ("/api/v1/validators/0x12", "/api/v1/validators/{address}", 400),
        ("/api/v1/validators/not-an-address", "/api/v1/validators/{address}", 400),
        (
            "/api/v1/validators/0x0303030303030303030303030303030303030303",
            "/api/v1/validators/{address}",
            404,
        ),
        ("/api/v1/operators/nobody", "/api/v1/operators/{id}", 404),
        ("/api/v1/operators/bad%20id", "/api/v1/operators/{id}", 400),
    ] {
        let (status, body) = api.get(path, template, &auth).await;
        assert_eq!(status, expected, "{path}: {body}");
        assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()), "{body}");
    }
    api.backend.down.store(true, Ordering::SeqCst);
    let (status, body) = api.get("/api/v1/network", "/api/v1/network", &auth).await;
    assert_eq!(status, 503, "{body}");
}
