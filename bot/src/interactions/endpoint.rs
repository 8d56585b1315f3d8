//! `POST /interactions`: the HTTP endpoint Discord delivers interactions to. Order matters: the
//! body is bounded first, then the signature is checked, then replays are refused, and only then is
//! anything parsed, so an unauthenticated caller can neither make us parse JSON nor reach a handler,
//! and a captured request is handled once.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use crate::commands::{Command, CommandError};
use crate::interactions::handler::{CommandHandler, Invocation, Reply};
use crate::interactions::model::{Interaction, InteractionResponse, InteractionType, Snowflake};
use crate::interactions::replay::{Arrival, DEFAULT_REMEMBERED_REQUESTS, ReplayGuard};
use crate::interactions::verify::{
    DEFAULT_MAX_SKEW_S, DiscordPublicKey, RequestVerifier, SIGNATURE_HEADER, TIMESTAMP_HEADER, UnixClock,
    system_clock,
};

/// The route Discord's "Interactions Endpoint URL" points at.
pub const INTERACTIONS_PATH: &str = "/interactions";
/// Interaction payloads are a few KiB; anything far larger is not from Discord.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;

/// Discord waits 3 s for the HTTP answer; slower work is deferred before that.
pub const DEFAULT_ANSWER_WITHIN: Duration = Duration::from_millis(2_500);

#[derive(Clone)]
pub struct InteractionsConfig {
    /// The application's public key (developer portal → General Information).
    pub public_key: DiscordPublicKey,
    /// Larger bodies are refused with 413 before verification.
    pub max_body_bytes: usize,
    /// How far the signed timestamp may lie from our clock, either way, in seconds.
    pub max_skew_s: u64,
    /// How many recently accepted requests are remembered to refuse their replays (the oldest are
    /// forgotten first; each is kept no longer than its timestamp could pass).
    pub remembered_requests: usize,
    /// A command not answered by then gets a deferred ("thinking…") response, and its answer is
    /// sent later through `follow_up`. Without `follow_up` the endpoint waits for the answer.
    pub answer_within: Duration,
    pub follow_up: Option<Arc<dyn FollowUp>>,
}

impl std::fmt::Debug for InteractionsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InteractionsConfig")
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_skew_s", &self.max_skew_s)
            .field("remembered_requests", &self.remembered_requests)
            .field("answer_within", &self.answer_within)
            .field("follow_up", &self.follow_up.is_some())
            .finish_non_exhaustive()
    }
}

impl InteractionsConfig {
    /// The defaults: 64 KiB bodies, 300 s of clock skew, 10,000 requests remembered against replays,
    /// deferral after 2.5 s (once a follow-up channel is set).
    pub fn new(public_key: DiscordPublicKey) -> Self {
        Self {
            public_key,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_skew_s: DEFAULT_MAX_SKEW_S,
            remembered_requests: DEFAULT_REMEMBERED_REQUESTS,
            answer_within: DEFAULT_ANSWER_WITHIN,
            follow_up: None,
        }
    }
}

/// Delivers the answer to a deferred interaction (Discord's "edit original response" webhook).
#[async_trait::async_trait]
pub trait FollowUp: Send + Sync {
    async fn edit_original(&self, application_id: &str, token: &str, reply: &Reply) -> Result<(), String>;
}

#[derive(Clone)]
struct Endpoint {
    verifier: RequestVerifier,
    replays: Arc<ReplayGuard>,
    clock: UnixClock,
    max_body_bytes: usize,
    handler: Arc<dyn CommandHandler>,
    answer_within: Duration,
    follow_up: Option<Arc<dyn FollowUp>>,
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
        verifier: RequestVerifier::new(config.public_key, config.max_skew_s, clock.clone()),
        replays: Arc::new(ReplayGuard::new(config.remembered_requests, config.max_skew_s)),
        clock,
        max_body_bytes: config.max_body_bytes,
        handler,
        answer_within: config.answer_within,
        follow_up: config.follow_up,
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
    let signature = text_header(SIGNATURE_HEADER);
    if let Err(error) = endpoint.verifier.verify(signature, text_header(TIMESTAMP_HEADER), &body) {
        tracing::debug!(%error, "refused unverified interaction request");
        return StatusCode::UNAUTHORIZED.into_response();
    }
    // Refused like a forgery, so a replayer learns nothing more than an impostor.
    if signature.is_some_and(|s| endpoint.replays.arrive(s, (endpoint.clock)()) == Arrival::Replay) {
        tracing::debug!("refused a replayed interaction request");
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
            let Some(follow_up) = endpoint.follow_up.clone() else {
                let reply = endpoint.handler.handle(invocation).await;
                tracing::debug!(command, ephemeral = reply.ephemeral, "answered command");
                return Ok(InteractionResponse::message(reply.content, reply.ephemeral));
            };
            let private = invocation.command.is_private();
            let handler = endpoint.handler.clone();
            let mut answer = tokio::spawn(async move { handler.handle(invocation).await });
            match tokio::time::timeout(endpoint.answer_within, &mut answer).await {
                Ok(Ok(reply)) => {
                    tracing::debug!(command, ephemeral = reply.ephemeral, "answered command");
                    Ok(InteractionResponse::message(reply.content, reply.ephemeral))
                }
                Ok(Err(panicked)) => {
                    tracing::error!(command, %panicked, "command handler failed");
                    Ok(InteractionResponse::message(
                        "Something went wrong answering that; please try again.",
                        true,
                    ))
                }
                Err(_) => {
                    // Too slow for Discord's 3 s: acknowledge now, answer through the webhook later.
                    let (application_id, token) =
                        (interaction.application_id.clone(), interaction.token.clone());
                    tokio::spawn(async move {
                        let reply = match answer.await {
                            Ok(reply) => reply,
                            Err(_) => {
                                Reply::ephemeral("Something went wrong answering that; please try again.")
                            }
                        };
                        if let Err(error) = follow_up.edit_original(&application_id, &token, &reply).await {
                            tracing::warn!(command, %error, "could not deliver a deferred answer");
                        }
                    });
                    tracing::debug!(command, "deferred a slow command");
                    Ok(InteractionResponse::deferred(private))
                }
            }
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
