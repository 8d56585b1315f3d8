//! `/my-stats`: the invoker's linked validators and their performance.

use serde_json::{Value, json};

use super::Command;

pub(super) const NAME: &str = "my-stats";

pub(super) fn parse() -> Command {
    Command::MyStats
}

pub(super) fn definition() -> Value {
    json!({
        "name": NAME,
        "type": 1,
        "description": "Show how the validators linked to you are performing",
    })
}
