//! `/api/v1`: a small read-only JSON API over the same [`Backend`] the commands use, for dashboards
//! and scripts. Every route needs the API key; `openapi.json` beside this crate describes it.

mod key;

use std::sync::Arc;

use alloy_primitives::Address;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use serde_json::json;
use sparta_core::InactivityRisk;

use crate::front::backend::{Backend, BackendError, ChainView, ValidatorView};
pub use key::{ApiKey, ApiKeyError};

/// The API's path prefix; the load balancer forwards exactly `/api/v1/*`.
pub const API_PREFIX: &str = "/api/v1";

/// The OpenAPI description of this API (served at `/api/v1/openapi.json`, no key needed).
pub const OPENAPI: &str = include_str!("../../openapi.json");

#[derive(Clone)]
struct Api {
    backend: Arc<dyn Backend>,
    key: Arc<ApiKey>,
}

/// `GET /api/v1/network`, `/api/v1/validators/{address}`, `/api/v1/operators/{id}` and the document.
pub fn api_router(backend: Arc<dyn Backend>, key: ApiKey) -> Router {
    let api = Api { backend, key: Arc::new(key) };
    Router::new()
        .route("/api/v1/network", get(network))
        .route("/api/v1/validators/{address}", get(validator))
        .route("/api/v1/operators/{id}", get(operator))
        .route(
            "/api/v1/openapi.json",
            get(|| async { ([(header::CONTENT_TYPE, "application/json")], OPENAPI) }),
        )
        .with_state(api)
}

/// A validator with the inactivity projection computed from its epochs.
#[derive(Serialize)]
struct ValidatorBody<'a> {
    #[serde(flatten)]
    view: &'a ValidatorView,
    inactivity: InactivityRisk,
}

#[derive(Serialize)]
struct OperatorBody<'a> {
    operator: &'a str,
    roles: Vec<String>,
    validators: Vec<serde_json::Value>,
    /// Linked, but not seen on a committee in the window.
    unseen: Vec<Address>,
}

async fn network(State(api): State<Api>, headers: HeaderMap) -> Response {
    if let Some(refused) = api.refusal(&headers) {
        return refused;
    }
    match api.backend.chain().await {
        Ok(chain) => Json::<ChainView>(chain).into_response(),
        Err(e) => unavailable(e),
    }
}

async fn validator(State(api): State<Api>, headers: HeaderMap, Path(raw): Path<String>) -> Response {
    if let Some(refused) = api.refusal(&headers) {
        return refused;
    }
    let Ok(address) = raw.parse::<Address>() else {
        return problem(StatusCode::BAD_REQUEST, "not an address: expected 0x followed by 40 hex digits");
    };
    match api.backend.validator(address).await {
        Ok(Some(view)) => Json(api.validator_body(&view)).into_response(),
        Ok(None) => {
            problem(StatusCode::NOT_FOUND, "this validator has not been on a committee in the window")
        }
        Err(e) => unavailable(e),
    }
}

async fn operator(State(api): State<Api>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Some(refused) = api.refusal(&headers) {
        return refused;
    }
    if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    {
        return problem(
            StatusCode::BAD_REQUEST,
            "not an operator id: letters, digits, '-', '_' or '.' (at most 64)",
        );
    }
    let result = async {
        let linked = api.backend.linked_validators(&id).await?;
        let roles = api.backend.held_roles(&id).await?;
        let mut validators = Vec::new();
        let mut unseen = Vec::new();
        for address in linked {
            match api.backend.validator(address).await? {
                Some(view) => validators.push(api.validator_body(&view)),
                None => unseen.push(address),
            }
        }
        Ok::<_, BackendError>((roles, validators, unseen))
    }
    .await;
    match result {
        Ok((roles, validators, unseen))
            if !validators.is_empty() || !unseen.is_empty() || !roles.is_empty() =>
        {
            Json(OperatorBody { operator: &id, roles, validators, unseen }).into_response()
        }
        Ok(_) => problem(StatusCode::NOT_FOUND, "no validator is linked to this operator"),
        Err(e) => unavailable(e),
    }
}

impl Api {
    /// The 401 answer, unless the request carries the key.
    fn refusal(&self, headers: &HeaderMap) -> Option<Response> {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .or_else(|| headers.get("x-api-key").and_then(|v| v.to_str().ok()));
        match presented {
            Some(presented) if self.key.matches(presented) => None,
            _ => Some(
                (
                    StatusCode::UNAUTHORIZED,
                    [(header::WWW_AUTHENTICATE, "Bearer")],
                    Json(json!({ "error": "a valid API key is required (Authorization: Bearer <key>)" })),
                )
                    .into_response(),
            ),
        }
    }

    fn validator_body(&self, view: &ValidatorView) -> serde_json::Value {
        let inactivity = self.backend.policies().inactivity.assess(&view.epochs);
        serde_json::to_value(ValidatorBody { view, inactivity }).unwrap_or_default()
    }
}

fn problem(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

fn unavailable(error: BackendError) -> Response {
    tracing::warn!(%error, "API request could not be answered");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, "5")],
        Json(json!({ "error": error.to_string() })),
    )
        .into_response()
}
