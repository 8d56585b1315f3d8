//! `/alerts mute|snooze|threshold`: the invoker's alert preferences.

use std::time::Duration;

use serde_json::{Value, json};

use super::options::Options;
use super::{AlertsCommand, CommandError};
use crate::interactions::model::option_type;

pub(super) const NAME: &str = "alerts";

/// Longer snoozes are almost always a mistaken unit; `/alerts mute` is the way to go quiet for good.
const MAX_SNOOZE: Duration = Duration::from_secs(30 * 24 * 3600);

pub(super) fn parse(options: Options<'_>) -> Result<AlertsCommand, CommandError> {
    let (subcommand, options) = options.subcommand()?;
    match subcommand {
        "mute" => Ok(AlertsCommand::Mute),
        "snooze" => {
            parse_snooze(options.string("duration")?).map(|duration| AlertsCommand::Snooze { duration })
        }
        "threshold" => {
            let rate = options.number("rate")?;
            if !(0.0..=1.0).contains(&rate) {
                return Err(CommandError::InvalidRate { value: rate });
            }
            Ok(AlertsCommand::Threshold { rate })
        }
        other => Err(CommandError::UnknownSubcommand { command: NAME, subcommand: other.to_string() }),
    }
}

fn parse_snooze(raw: &str) -> Result<Duration, CommandError> {
    let invalid =
        |reason: &str| CommandError::InvalidDuration { value: raw.to_string(), reason: reason.into() };
    let duration = humantime::parse_duration(raw).map_err(|_| invalid("try something like 30m, 2h or 1d"))?;
    if duration.is_zero() {
        return Err(invalid("it must be longer than zero"));
    }
    if duration > MAX_SNOOZE {
        return Err(invalid("snoozes last at most 30 days; use `/alerts mute` to stop alerts"));
    }
    Ok(duration)
}

pub(super) fn definition() -> Value {
    json!({
        "name": NAME,
        "type": 1,
        "description": "Choose when sparta alerts you about your validators",
        "options": [
            {
                "type": option_type::SUB_COMMAND,
                "name": "mute",
                "description": "Stop all alerts until you set a threshold again",
            },
            {
                "type": option_type::SUB_COMMAND,
                "name": "snooze",
                "description": "Pause alerts for a while",
                "options": [{
                    "type": option_type::STRING,
                    "name": "duration",
                    "description": "How long, e.g. 30m, 2h or 1d (at most 30 days)",
                    "required": true,
                    "max_length": 32,
                }],
            },
            {
                "type": option_type::SUB_COMMAND,
                "name": "threshold",
                "description": "Alert when the missed-attestation rate goes above this",
                "options": [{
                    "type": option_type::NUMBER,
                    "name": "rate",
                    "description": "A fraction between 0 and 1, e.g. 0.2 for 20%",
                    "required": true,
                    "min_value": 0,
                    "max_value": 1,
                }],
            },
        ],
    })
}
