//! The Discord front of sparta. The engine decides [`DiscordAction`]s; a [`DiscordSink`] delivers
//! them. [`ConsoleSink`] prints them instead, for `sparta devnet` and dry runs.
//!
//! Inbound, [`interactions_router`] serves Discord's signed interaction requests, parses slash
//! commands into [`Command`]s and hands them to a [`CommandHandler`].

mod action;
pub mod commands;
mod console;
pub mod interactions;
mod sink;

pub use action::DiscordAction;
pub use commands::{AlertsCommand, Command, CommandError, ModCommand};
pub use console::{ACTIONS_METRIC, ConsoleSink};
pub use interactions::endpoint::{
    DEFAULT_MAX_BODY_BYTES, INTERACTIONS_PATH, InteractionsConfig, interactions_router,
    interactions_router_with_clock,
};
pub use interactions::handler::{CommandHandler, Invocation, Reply};
pub use interactions::model::Snowflake;
pub use interactions::verify::{DiscordPublicKey, PublicKeyError};
pub use sink::{DiscordSink, SinkError};
