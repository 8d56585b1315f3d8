//! Why an interaction could not be turned into a [`Command`](super::Command). Every message is a
//! sentence shown to the user (as an ephemeral reply), so it says what to do instead.

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CommandError {
    #[error("I don't know the command `/{0}`. Try `/my-stats`, `/validator` or `/chain-info`.")]
    UnknownCommand(String),
    #[error("`/{command}` has no subcommand `{subcommand}`.")]
    UnknownSubcommand { command: &'static str, subcommand: String },
    #[error("`/{command}` needs a subcommand.")]
    MissingSubcommand { command: &'static str },
    #[error("`/{command}` needs the `{option}` option.")]
    MissingOption { command: &'static str, option: &'static str },
    #[error("The `{option}` option of `/{command}` must be {expected}.")]
    WrongOptionType { command: &'static str, option: &'static str, expected: &'static str },
    #[error("`{value}` is not an Ethereum address: expected 0x followed by 40 hex digits.")]
    InvalidAddress { value: String },
    #[error("That signature is not valid: expected 0x followed by 130 hex digits (65 bytes).")]
    InvalidSignature,
    #[error("`{value}` is not a duration I understand: {reason}.")]
    InvalidDuration { value: String, reason: String },
    #[error("The rate must be a number between 0 and 1 (for example 0.2 for 20%), not {value}.")]
    InvalidRate { value: f64 },
    #[error("`{value}` is not a Discord user.")]
    InvalidUser { value: String },
}
