//! `/validator address`: one validator's status.

use serde_json::{Value, json};

use super::options::{Options, address_option};
use super::{Command, CommandError};

pub(super) const NAME: &str = "validator";

pub(super) fn parse(options: Options<'_>) -> Result<Command, CommandError> {
    Ok(Command::Validator { address: options.address("address")? })
}

pub(super) fn definition() -> Value {
    json!({
        "name": NAME,
        "type": 1,
        "description": "Show a validator's status and recent performance",
        "options": [address_option()],
    })
}
