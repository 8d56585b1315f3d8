//! `/verify address signature`: proves control of the validator's key to finish linking.

use std::str::FromStr;

use alloy_primitives::FixedBytes;
use serde_json::{Value, json};

use super::options::{Options, address_option};
use super::{Command, CommandError};
use crate::interactions::model::option_type;

pub(super) const NAME: &str = "verify";

/// `0x` + 130 hex digits.
const SIGNATURE_LEN: usize = 2 + 2 * 65;

pub(super) fn parse(options: Options<'_>) -> Result<Command, CommandError> {
    let address = options.address("address")?;
    let raw = options.string("signature")?;
    let signature = raw
        .strip_prefix("0x")
        .filter(|digits| digits.len() == 130)
        .and_then(|digits| FixedBytes::<65>::from_str(digits).ok())
        .ok_or(CommandError::InvalidSignature)?;
    Ok(Command::Verify { address, signature })
}

pub(super) fn definition() -> Value {
    json!({
        "name": NAME,
        "type": 1,
        "description": "Finish linking a validator with a signature from its attester key",
        "contexts": [0],
        "options": [
            address_option(),
            {
                "type": option_type::STRING,
                "name": "signature",
                "description": "The signature of the challenge from /register (0x…, 65 bytes)",
                "required": true,
                "min_length": SIGNATURE_LEN,
                "max_length": SIGNATURE_LEN,
            },
        ],
    })
}
