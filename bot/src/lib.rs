//! The Discord front of sparta. The engine decides [`DiscordAction`]s; a [`DiscordSink`] delivers
//! them: [`DiscordRest`] through Discord's REST API, or [`ConsoleSink`], which prints them instead, for
//! `sparta devnet` and dry runs.
//!
//! Inbound, [`interactions_router`] serves Discord's signed interaction requests, parses slash
//! commands into [`Command`]s and hands them to a [`CommandHandler`]; [`Front`] is the one that answers
//! from the engine through the narrow [`Backend`] handle.

mod action;
pub mod api;
pub mod commands;
mod console;
pub mod front;
pub mod interactions;
mod linking;
mod rest;
mod sink;

pub use action::DiscordAction;
pub use api::{API_PREFIX, ApiKey, ApiKeyError, api_router};
pub use commands::{AlertsCommand, Command, CommandError, ModCommand};
pub use console::{ACTIONS_METRIC, ConsoleSink};
pub use front::backend::{
    AlertPreferences, AsOf, Backend, BackendError, ChainView, PendingLink, PlannedRoleChange, Policies,
    Source, Standing, ValidatorView,
};
pub use front::{Front, FrontConfig};
pub use interactions::endpoint::{
    DEFAULT_ANSWER_WITHIN, DEFAULT_MAX_BODY_BYTES, FollowUp, INTERACTIONS_PATH, InteractionsConfig,
    interactions_router, interactions_router_with_clock,
};
pub use interactions::handler::{CommandHandler, Invocation, Reply};
pub use interactions::model::Snowflake;
pub use interactions::replay::DEFAULT_REMEMBERED_REQUESTS;
pub use interactions::verify::{DiscordPublicKey, PublicKeyError};
pub use rest::{
    DEFAULT_GLOBAL_PER_S, DiscordRest, RATE_LIMITED_METRIC, REQUESTS_METRIC, RestConfig, RestError,
};
pub use sink::{DiscordSink, SinkError};
