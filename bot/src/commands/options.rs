//! Typed access to the options of one command or subcommand, turning every shape mismatch into a
//! [`CommandError`] instead of a panic.

use std::str::FromStr;

use alloy_primitives::Address;
use serde_json::Value;

use super::{CommandError, Snowflake};
use crate::interactions::model::{CommandOption, option_type};

/// The options at one level of a command (top level, or inside a subcommand).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Options<'a> {
    command: &'static str,
    options: &'a [CommandOption],
}

impl<'a> Options<'a> {
    pub(crate) fn new(command: &'static str, options: &'a [CommandOption]) -> Self {
        Self { command, options }
    }

    /// The chosen subcommand's name and its options.
    pub(crate) fn subcommand(&self) -> Result<(&'a str, Options<'a>), CommandError> {
        let sub = self
            .options
            .iter()
            .find(|o| o.kind == option_type::SUB_COMMAND)
            .ok_or(CommandError::MissingSubcommand { command: self.command })?;
        Ok((sub.name.as_str(), Options::new(self.command, &sub.options)))
    }

    fn value(&self, name: &'static str) -> Result<&'a Value, CommandError> {
        self.options
            .iter()
            .find(|o| o.name == name)
            .and_then(|o| o.value.as_ref())
            .ok_or(CommandError::MissingOption { command: self.command, option: name })
    }

    fn wrong(&self, option: &'static str, expected: &'static str) -> CommandError {
        CommandError::WrongOptionType { command: self.command, option, expected }
    }

    pub(crate) fn string(&self, name: &'static str) -> Result<&'a str, CommandError> {
        self.value(name)?.as_str().map(str::trim).ok_or_else(|| self.wrong(name, "text"))
    }

    pub(crate) fn number(&self, name: &'static str) -> Result<f64, CommandError> {
        self.value(name)?.as_f64().ok_or_else(|| self.wrong(name, "a number"))
    }

    pub(crate) fn address(&self, name: &'static str) -> Result<Address, CommandError> {
        parse_address(self.string(name)?)
    }

    /// A USER option: Discord sends the user's snowflake as a string.
    pub(crate) fn user(&self, name: &'static str) -> Result<Snowflake, CommandError> {
        let raw = self.string(name)?;
        raw.parse().map_err(|_| CommandError::InvalidUser { value: raw.to_string() })
    }
}

/// `0x` + 40 hex digits; mixed case is accepted without checksum enforcement because users paste
/// addresses from many tools, and a wrong checksum there is noise, not a typo signal.
pub(crate) fn parse_address(raw: &str) -> Result<Address, CommandError> {
    let invalid = || CommandError::InvalidAddress { value: raw.to_string() };
    let digits = raw.strip_prefix("0x").or_else(|| raw.strip_prefix("0X")).ok_or_else(invalid)?;
    if digits.len() != 40 {
        return Err(invalid());
    }
    Address::from_str(digits).map_err(|_| invalid())
}

/// The definition of a required `address` option (an attester address), shared by every command
/// that takes one.
pub(crate) fn address_option() -> serde_json::Value {
    serde_json::json!({
        "type": crate::interactions::model::option_type::STRING,
        "name": "address",
        "description": "The validator's attester address (0x…)",
        "required": true,
        "min_length": 42,
        "max_length": 42,
    })
}
