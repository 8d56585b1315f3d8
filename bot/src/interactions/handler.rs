//! The seam between the endpoint (Discord's wire format) and whatever answers commands (the
//! engine). Handlers see only verified, parsed invocations.

use async_trait::async_trait;

use crate::commands::Command;
use crate::interactions::model::Snowflake;

/// A verified command invocation.
#[derive(Debug, Clone, PartialEq)]
pub struct Invocation {
    pub user_id: Snowflake,
    /// The invoker's role ids in the guild; empty in DMs.
    pub member_roles: Vec<Snowflake>,
    /// `None` in DMs.
    pub guild_id: Option<Snowflake>,
    pub command: Command,
}

/// What to answer; rendered as a CHANNEL_MESSAGE_WITH_SOURCE response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub content: String,
    /// Only the invoker sees it.
    pub ephemeral: bool,
}

impl Reply {
    pub fn public(content: impl Into<String>) -> Self {
        Self { content: content.into(), ephemeral: false }
    }

    pub fn ephemeral(content: impl Into<String>) -> Self {
        Self { content: content.into(), ephemeral: true }
    }
}

#[async_trait]
pub trait CommandHandler: Send + Sync {
    /// Discord waits at most 3 s for the HTTP answer, so implementations should reply quickly.
    async fn handle(&self, invocation: Invocation) -> Reply;
}
