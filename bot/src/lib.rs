//! The Discord front of sparta. The engine decides [`DiscordAction`]s; a [`DiscordSink`] delivers
//! them. [`ConsoleSink`] prints them instead, for `sparta devnet` and dry runs.

mod action;
mod console;
mod sink;

pub use action::DiscordAction;
pub use console::{ACTIONS_METRIC, ConsoleSink};
pub use sink::{DiscordSink, SinkError};
