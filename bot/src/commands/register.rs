//! `/register address`: the first step of linking a validator to the invoker.

use serde_json::{Value, json};

use super::options::Options;
use super::{Command, CommandError};
use crate::interactions::model::option_type;

pub(super) const NAME: &str = "register";

pub(super) fn parse(options: Options<'_>) -> Result<Command, CommandError> {
    Ok(Command::Register { address: options.address("address")? })
}

pub(super) fn definition() -> Value {
    json!({
        "name": NAME,
        "type": 1,
        "description": "Link a validator you operate to your Discord account",
        "contexts": [0],
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
