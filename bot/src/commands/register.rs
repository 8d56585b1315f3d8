//! `/register address`: the first step of linking a validator to the invoker.

use serde_json::{Value, json};

use super::options::{Options, address_option};
use super::{Command, CommandError};

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
        "options": [address_option()],
    })
}
