//! Slash commands: one file per command, each parsing its options into [`Command`] and describing
//! itself for registration.

mod alerts;
mod chain_info;
mod error;
mod moderation;
mod my_stats;
mod options;
mod register;
mod validator;
mod verify;

use std::time::Duration;

use alloy_primitives::{Address, FixedBytes};
use serde_json::Value;

pub use error::CommandError;

use crate::interactions::model::{InteractionData, Snowflake};
use options::Options;

/// A slash command a user invoked, with its options checked and typed.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// `/my-stats`: the invoker's linked validators and how they perform.
    MyStats,
    /// `/validator address`: one validator's status and recent performance.
    Validator { address: Address },
    /// `/chain-info`: current slot, epoch and committee.
    ChainInfo,
    /// `/register address`: start linking a validator to the invoker (a challenge follows).
    Register { address: Address },
    /// `/verify address signature`: finish linking with a 65-byte ECDSA signature (`r ‖ s ‖ v`)
    /// over the challenge, made with the validator's attester key.
    Verify { address: Address, signature: FixedBytes<65> },
    /// `/alerts …`: the invoker's alert preferences.
    Alerts(AlertsCommand),
    /// `/mod …`: moderator tools.
    Mod(ModCommand),
}

#[derive(Debug, Clone, PartialEq)]
pub enum AlertsCommand {
    /// Stop alerts until unmuted.
    Mute,
    /// Pause alerts for a while.
    Snooze { duration: Duration },
    /// Alert when the missed-attestation rate exceeds `rate` (a fraction in `0..=1`).
    Threshold { rate: f64 },
}

#[derive(Debug, Clone, PartialEq)]
pub enum ModCommand {
    /// Which validators a member operates, and their state.
    OperatorInfo { user: Snowflake },
    /// The role changes the engine would make now, without making them.
    RolesDryRun,
    /// Link a validator to a member without the signature flow.
    Link { user: Snowflake, address: Address },
}

impl Command {
    /// Parses an APPLICATION_COMMAND interaction's `data`.
    pub fn parse(data: &InteractionData) -> Result<Self, CommandError> {
        let name = data.name.as_str();
        let options = &data.options;
        match name {
            my_stats::NAME => Ok(my_stats::parse()),
            validator::NAME => validator::parse(Options::new(validator::NAME, options)),
            chain_info::NAME => Ok(chain_info::parse()),
            register::NAME => register::parse(Options::new(register::NAME, options)),
            verify::NAME => verify::parse(Options::new(verify::NAME, options)),
            alerts::NAME => alerts::parse(Options::new(alerts::NAME, options)).map(Command::Alerts),
            moderation::NAME => moderation::parse(Options::new(moderation::NAME, options)).map(Command::Mod),
            other => Err(CommandError::UnknownCommand(other.to_string())),
        }
    }

    /// Whether its answer is for the invoker only (their own data, challenges, moderator views).
    pub fn is_private(&self) -> bool {
        !matches!(self, Command::Validator { .. } | Command::ChainInfo)
    }

    /// The command's name as typed in Discord (without the slash; `alerts snooze` for subcommands).
    pub fn name(&self) -> &'static str {
        match self {
            Command::MyStats => my_stats::NAME,
            Command::Validator { .. } => validator::NAME,
            Command::ChainInfo => chain_info::NAME,
            Command::Register { .. } => register::NAME,
            Command::Verify { .. } => verify::NAME,
            Command::Alerts(AlertsCommand::Mute) => "alerts mute",
            Command::Alerts(AlertsCommand::Snooze { .. }) => "alerts snooze",
            Command::Alerts(AlertsCommand::Threshold { .. }) => "alerts threshold",
            Command::Mod(ModCommand::OperatorInfo { .. }) => "mod operator-info",
            Command::Mod(ModCommand::RolesDryRun) => "mod roles-dry-run",
            Command::Mod(ModCommand::Link { .. }) => "mod link",
        }
    }
}

/// Every command's definition, as the JSON array Discord's bulk-overwrite endpoint
/// (`PUT /applications/{application.id}/commands`) takes.
pub fn definitions() -> Value {
    Value::Array(vec![
        my_stats::definition(),
        validator::definition(),
        chain_info::definition(),
        register::definition(),
        verify::definition(),
        alerts::definition(),
        moderation::definition(),
    ])
}
