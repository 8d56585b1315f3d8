//! `/validator address`: one validator's status.

use serde_json::{Value, json};

use super::options::Options;
use super::{Command, CommandError};
use crate::interactions::model::option_type;

pub(super) const NAME: &str = "validator";

pub(super) fn parse(options: Options<'_>) -> Result<Command, CommandError> {
    Ok(Command::Validator { address: options.address("address")? })
}

pub(super) fn definition() -> Value {
    json!({
        "name": NAME,
        "type": 1,
        "description": "Show a validator's status and recent performance",
        "options": [{
            "type": option_type::STRING,
            "name": "address",
            "description": "The validator's attester address (0x…)",
            "required": true,
            "min_length": 42,
            "max_length": 42,
        }],
    })
}
