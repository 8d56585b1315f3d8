//! `/chain-info`: where the chain is now.

use serde_json::{Value, json};

use super::Command;

pub(super) const NAME: &str = "chain-info";

pub(super) fn parse() -> Command {
    Command::ChainInfo
}

pub(super) fn definition() -> Value {
    json!({
        "name": NAME,
        "type": 1,
        "description": "Show the current slot, epoch and committee of the Aztec network",
    })
}
