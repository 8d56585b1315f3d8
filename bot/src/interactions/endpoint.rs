//! `POST /interactions`: the HTTP endpoint Discord delivers interactions to. Order matters: the
//! body is bounded first, then the signature is checked, and only then is anything parsed, so an
//! unauthenticated caller can neither make us parse JSON nor reach a handler.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use crate::commands::{Command, CommandError};
use crate::interactions::handler::{CommandHandler, Invocation};
use crate::interactions::model::{Interaction, InteractionResponse, InteractionType, Snowflake};
use crate::interactions::verify::{
    DEFAULT_MAX_SKEW_S, DiscordPublicKey, RequestVerifier, SIGNATURE_HEADER, TIMESTAMP_HEADER, UnixClock,
    system_clock,
};

/// The route Discord's "Interactions Endpoint URL" points at.
pub const INTERACTIONS_PATH: &str = "/interactions";
/// Interaction payloads are a few KiB; anything far larger is not from Discord.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone)]
pub struct InteractionsConfig {
    /// The application's public key (developer portal → General Information).
    pub public_key: DiscordPublicKey,
    /// Larger bodies are refused with 413 before verification.
    pub max_body_bytes: usize,
    /// How far the signed timestamp may lie from our clock, either way, in seconds.
    pub max_skew_s: u64,
}

impl InteractionsConfig {
    /// The defaults: 64 KiB bodies, 300 s of clock skew.
    pub fn new(public_key: DiscordPublicKey) -> Self {
        Self { public_key, max_body_bytes: DEFAULT_MAX_BODY_BYTES, max_skew_s: DEFAULT_MAX_SKEW_S }
    }
}

#[derive(Clone)]
struct Endpoint {
    verifier: RequestVerifier,
    max_body_bytes: usize,
    handler: Arc<dyn CommandHandler>,
}

/// The router serving [`INTERACTIONS_PATH`], checking timestamps against the system clock.
pub fn interactions_router(config: InteractionsConfig, handler: Arc<dyn CommandHandler>) -> Router {
    interactions_router_with_clock(config, handler, system_clock())
}

/// As [`interactions_router`], with the clock injected (unix seconds).
pub fn interactions_router_with_clock(
    config: InteractionsConfig,
    handler: Arc<dyn CommandHandler>,
    clock: UnixClock,
) -> Router {
    let endpoint = Endpoint {
        verifier: RequestVerifier::new(config.public_key, config.max_skew_s, clock),
        max_body_bytes: config.max_body_bytes,
        handler,
    };
    Router::new().route(INTERACTIONS_PATH, post(serve)).with_state(endpoint)
}

async fn serve(State(endpoint): State<Endpoint>, headers: HeaderMap, body: Body) -> Response {
    let declared_len =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared_len.is_some_and(|len| len > endpoint.max_body_bytes as u64) {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    }
    // Also bounds chunked bodies, which declare no length.
    let Ok(body) = to_bytes(body, endpoint.max_body_bytes).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };

    // A header that is not visible ASCII is as bad as a missing one: both end in a bare 401.
    let text_header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Err(error) =
        endpoint.verifier.verify(text_header(SIGNATURE_HEADER), text_header(TIMESTAMP_HEADER), &body)
    {
        tracing::debug!(%error, "refused unverified interaction request");
        return StatusCode::UNAUTHORIZED.into_response();
    }

    let interaction: Interaction = match serde_json::from_slice(&body) {
        Ok(interaction) => interaction,
        Err(error) => {
            tracing::warn!(%error, "verified interaction request with a malformed body");
            return (StatusCode::BAD_REQUEST, "malformed interaction payload").into_response();
        }
    };
    match respond(&endpoint, interaction).await {
        Ok(response) => axum::Json(response).into_response(),
        Err(reason) => (StatusCode::BAD_REQUEST, reason).into_response(),
    }
}

/// The answer to a verified interaction, or why the payload cannot be answered (400).
async fn respond(endpoint: &Endpoint, interaction: Interaction) -> Result<InteractionResponse, &'static str> {
    match interaction.kind {
        InteractionType::Ping => Ok(InteractionResponse::pong()),
        InteractionType::ApplicationCommand => {
            let invocation = match invocation(&interaction)? {
                Ok(invocation) => invocation,
                Err(error) => return Ok(InteractionResponse::message(error.to_string(), true)),
            };
            let command = invocation.command.name();
            let reply = endpoint.handler.handle(invocation).await;
            tracing::debug!(command, ephemeral = reply.ephemeral, "answered command");
            Ok(InteractionResponse::message(reply.content, reply.ephemeral))
        }
        InteractionType::Autocomplete => Ok(InteractionResponse::no_choices()),
        InteractionType::MessageComponent | InteractionType::ModalSubmit => {
            Ok(InteractionResponse::message("This button or form is no longer supported.", true))
        }
        InteractionType::Other(kind) => {
            tracing::warn!(kind, "unknown interaction type");
            Err("unsupported interaction type")
        }
    }
}

/// The outer error means Discord sent something no application command looks like (400); the
/// inner one that the user typed something we cannot use (answered as an ephemeral message).
fn invocation(interaction: &Interaction) -> Result<Result<Invocation, CommandError>, &'static str> {
    let data = interaction.data.as_ref().ok_or("application command without data")?;
    let user_id = interaction
        .invoker_id()
        .and_then(|id| id.parse::<Snowflake>().ok())
        .ok_or("application command without a valid invoking user")?;
    let member_roles = interaction
        .member_roles()
        .iter()
        .map(|role| role.parse::<Snowflake>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| "member role is not a snowflake")?;
    let guild_id = match &interaction.guild_id {
        Some(id) => Some(id.parse::<Snowflake>().map_err(|_| "guild_id is not a snowflake")?),
        None => None,
    };
    Ok(Command::parse(data).map(|command| Invocation { user_id, member_roles, guild_id, command }))
}
