//! The delivery contract every Discord sink (console today, REST later) fulfils.

use async_trait::async_trait;

use crate::action::DiscordAction;

#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// Worth retrying later (rate limit, network, Discord 5xx).
    #[error("discord delivery failed, will retry: {0}")]
    Transient(String),
    /// Retrying cannot help (unknown user or role, missing permission, bad request).
    #[error("discord refused the action: {0}")]
    Rejected(String),
}

impl SinkError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, SinkError::Transient(_))
    }
}

#[async_trait]
pub trait DiscordSink: Send + Sync {
    /// Delivers `action`. `key` is its idempotency key: the same for every attempt of the same
    /// decision, so a sink can let Discord drop a repeat (a message `nonce` with `enforce_nonce`) and
    /// tests can count deliveries per decision.
    async fn deliver(&self, key: &str, action: &DiscordAction) -> Result<(), SinkError>;

    /// The engine-named roles `user` holds in Discord now (empty when not in the guild), for the
    /// role reconcile; `None` when this sink cannot tell (the console), so the engine's own record
    /// stands for it.
    async fn member_roles(&self, _user: &str) -> Result<Option<Vec<String>>, SinkError> {
        Ok(None)
    }
}
