//! The engine-backed answers to slash commands: parse (done by [`crate::commands`]), ask the
//! [`Backend`], render. No domain decisions here, and no call reaches the chain.

mod alerts;
pub mod backend;
mod card;
mod chain_info;
mod format;
mod linking;
mod moderation;
mod my_stats;
mod validator;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::commands::Command;
use crate::interactions::handler::{CommandHandler, Invocation, Reply};
use crate::interactions::model::Snowflake;
use backend::{Backend, BackendError};

pub use card::Audience;

/// What the front needs besides the backend.
#[derive(Clone, Debug)]
pub struct FrontConfig {
    /// Members with any of these roles may use `/mod` (Discord also hides it from members without
    /// Manage Roles, but a server may change that, so the front checks again).
    pub moderator_roles: Vec<Snowflake>,
    /// How long a `/register` challenge can be answered.
    pub challenge_ttl: Duration,
}

impl Default for FrontConfig {
    fn default() -> Self {
        Self { moderator_roles: Vec::new(), challenge_ttl: Duration::from_secs(15 * 60) }
    }
}

/// Answers every command from the backend.
pub struct Front {
    backend: Arc<dyn Backend>,
    config: FrontConfig,
}

impl Front {
    pub fn new(backend: Arc<dyn Backend>, config: FrontConfig) -> Self {
        Self { backend, config }
    }

    async fn answer(&self, invocation: &Invocation) -> Result<Reply, BackendError> {
        let backend = self.backend.as_ref();
        let user = invocation.user_id.to_string();
        match &invocation.command {
            Command::MyStats => my_stats::answer(backend, &user).await,
            Command::Validator { address } => validator::answer(backend, *address).await,
            Command::ChainInfo => chain_info::answer(backend).await,
            Command::Register { address } => {
                linking::register(backend, &user, *address, self.config.challenge_ttl).await
            }
            Command::Verify { address, signature } => {
                linking::verify(backend, &user, *address, signature).await
            }
            Command::Alerts(command) => alerts::answer(backend, &user, command).await,
            Command::Mod(command) => {
                let allowed = invocation.member_roles.iter().any(|r| self.config.moderator_roles.contains(r));
                if !allowed {
                    return Ok(Reply::ephemeral("`/mod` is for moderators (a configured moderator role)."));
                }
                moderation::answer(backend, &user, command).await
            }
        }
    }
}

#[async_trait]
impl CommandHandler for Front {
    async fn handle(&self, invocation: Invocation) -> Reply {
        match self.answer(&invocation).await {
            Ok(reply) => Reply { content: format::fit_message(reply.content), ephemeral: reply.ephemeral },
            Err(error) => {
                tracing::warn!(command = invocation.command.name(), %error, "could not answer");
                Reply::ephemeral(format!(
                    "sparta cannot answer right now ({error}). Please try again in a minute."
                ))
            }
        }
    }
}
