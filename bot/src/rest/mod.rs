//! Delivers [`DiscordAction`]s through Discord's REST API.
//!
//! Serenity's `Http` makes the requests, its rate limiter on: it keeps a bucket per route from the
//! `X-RateLimit-*` headers, waits before a request that would exceed one, and sleeps and repeats
//! on a 429. On top of it [`DiscordRest`] resolves the engine's names to ids, paces all requests
//! under the global limit one at a time, and sorts failures into retry-later and give-up for the
//! outbox.

mod client;
mod config;
mod error;
mod follow_up;
mod members;
mod message;
mod pacer;
mod register;
mod resolve;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serenity::all::{ChannelId, UserId};
use serenity::http::{Http, Request};

pub use client::RATE_LIMITED_METRIC;
pub use config::{DEFAULT_GLOBAL_PER_S, RestConfig};
pub use error::RestError;

use crate::action::DiscordAction;
use crate::console::ACTIONS_METRIC;
use crate::sink::{DiscordSink, SinkError};
use message::MessageBody;
use pacer::Pacer;
use resolve::{Target, resolve};

/// One delivery's bound, rate-limit sleeps included: past it the outbox gets a `Transient` and
/// retries later (every request we make is safe to repeat).
const DELIVER_DEADLINE: Duration = Duration::from_secs(120);
/// DM channels remembered; past this the memory starts over (a lookup costs one request).
const MAX_DM_CHANNELS: usize = 10_000;

/// The REST sink. Cheap to clone; clones share the client, its rate-limit state and the pacer.
#[derive(Clone)]
pub struct DiscordRest {
    inner: Arc<Inner>,
}

struct Inner {
    http: Http,
    config: RestConfig,
    pacer: Pacer,
    /// User -> their DM channel, so a DM costs one request after the first.
    dm_channels: Mutex<HashMap<UserId, ChannelId>>,
}

impl fmt::Debug for DiscordRest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DiscordRest").field("config", &self.inner.config).finish_non_exhaustive()
    }
}

impl DiscordRest {
    /// A sink talking to discord.com.
    pub fn new(config: RestConfig) -> Result<Self, RestError> {
        Self::with_client(config, client::default_client()?)
    }

    /// A sink making its requests with `client` (tests point it at a local double; it must be
    /// reqwest 0.12, the version serenity is built on).
    pub fn with_client(config: RestConfig, client: reqwest012::Client) -> Result<Self, RestError> {
        if config.token.trim().is_empty() {
            return Err(RestError::Invalid("the bot token is empty".into()));
        }
        resolve::snowflake(config.guild_id, "guild id")?;
        if config.global_per_s == 0 {
            return Err(RestError::Invalid("global_per_s must be at least 1".into()));
        }
        let inner = Inner {
            http: client::http(&config.token, client),
            pacer: Pacer::new(config.global_per_s),
            dm_channels: Mutex::new(HashMap::new()),
            config,
        };
        Ok(Self { inner: Arc::new(inner) })
    }

    async fn send(&self, key: &str, target: Target<'_>) -> Result<(), RestError> {
        let http = &self.inner.http;
        match target {
            Target::Role { add, guild, user, role, reason } => {
                let reason = reason.as_deref();
                let _turn = self.inner.pacer.turn().await;
                if add {
                    counted(http.add_member_role(guild, user, role, reason).await)?;
                } else {
                    counted(http.remove_member_role(guild, user, role, reason).await)?;
                }
                Ok(())
            }
            Target::Direct { user, content } => {
                let channel = self.dm_channel(user).await?;
                let posted = self.post(channel, key, content).await;
                if let Err(RestError::Status { status: 404, .. }) = posted {
                    // The channel we remembered is gone: look it up again next time.
                    self.dm_channels().remove(&user);
                }
                posted
            }
            Target::Post { channel, content } => self.post(channel, key, content).await,
        }
    }

    async fn post(&self, channel: ChannelId, key: &str, content: &str) -> Result<(), RestError> {
        let body = MessageBody::new(key, content);
        let _turn = self.inner.pacer.turn().await;
        counted(self.inner.http.send_message(channel, Vec::new(), &body).await)?;
        Ok(())
    }

    /// The DM channel with `user`, opened (Discord returns the existing one) when not remembered.
    async fn dm_channel(&self, user: UserId) -> Result<ChannelId, RestError> {
        if let Some(channel) = self.dm_channels().get(&user) {
            return Ok(*channel);
        }
        let request = serde_json::json!({ "recipient_id": user.to_string() });
        let channel = {
            let _turn = self.inner.pacer.turn().await;
            counted(self.inner.http.create_private_channel(&request).await)?.id
        };
        let mut channels = self.dm_channels();
        if channels.len() >= MAX_DM_CHANNELS {
            channels.clear();
        }
        channels.insert(user, channel);
        Ok(channel)
    }

    fn dm_channels(&self) -> std::sync::MutexGuard<'_, HashMap<UserId, ChannelId>> {
        self.inner.dm_channels.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Makes a request on its turn and reads the answer as `T`.
    async fn fire<T: DeserializeOwned>(&self, request: Request<'_>) -> Result<T, RestError> {
        let _turn = self.inner.pacer.turn().await;
        counted(self.inner.http.fire(request).await)
    }
}

/// Counter of REST requests by outcome (`ok`, `http_<status>`, `unreachable`, `decode`, `invalid`);
/// declared in the telemetry catalog as `sparta_discord_requests_total`.
pub const REQUESTS_METRIC: &str = "sparta_discord_requests_total";

/// One answered (or failed) request: counted by outcome, and its error made ours.
fn counted<T>(result: Result<T, serenity::Error>) -> Result<T, RestError> {
    let result = result.map_err(RestError::from);
    let outcome = match &result {
        Ok(_) => "ok".to_owned(),
        Err(error) => error.code(),
    };
    metrics::counter!(REQUESTS_METRIC, "outcome" => outcome).increment(1);
    result
}

#[async_trait]
impl DiscordSink for DiscordRest {
    async fn deliver(&self, key: &str, action: &DiscordAction) -> Result<(), SinkError> {
        let target = resolve(&self.inner.config, action)?;
        match tokio::time::timeout(DELIVER_DEADLINE, self.send(key, target)).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::debug!(kind = action.kind(), key, %error, "discord delivery failed");
                return Err(error.into());
            }
            Err(_) => {
                return Err(SinkError::Transient(format!(
                    "no answer from discord within {DELIVER_DEADLINE:?}"
                )));
            }
        }
        tracing::debug!(kind = action.kind(), key, "delivered to discord");
        metrics::counter!(ACTIONS_METRIC, "kind" => action.kind()).increment(1);
        Ok(())
    }

    async fn member_roles(&self, user: &str) -> Result<Option<Vec<String>>, SinkError> {
        let user = UserId::from(resolve::user_id(user)?);
        match tokio::time::timeout(DELIVER_DEADLINE, self.engine_roles_of(user)).await {
            Ok(Ok(held)) => Ok(Some(held.unwrap_or_default())),
            Ok(Err(error)) => Err(error.into()),
            Err(_) => {
                Err(SinkError::Transient(format!("no answer from discord within {DELIVER_DEADLINE:?}")))
            }
        }
    }
}
