//! `/alerts mute|snooze|threshold`: self-service alert preferences, per operator.

use crate::commands::AlertsCommand;
use crate::interactions::handler::Reply;

use super::backend::{Backend, BackendError};
use super::format::{duration, percent};

pub async fn answer(
    backend: &dyn Backend,
    user: &str,
    command: &AlertsCommand,
) -> Result<Reply, BackendError> {
    let mut prefs = backend.alert_preferences(user).await?;
    let text = match command {
        AlertsCommand::Mute => {
            prefs.muted = true;
            "Alerts muted. Set a threshold with `/alerts threshold` to hear from sparta again.".to_owned()
        }
        AlertsCommand::Snooze { duration: length } => {
            prefs.snoozed_until_ms = Some(backend.now_ms() + length.as_millis() as u64);
            format!("Alerts snoozed for {}; they resume by themselves.", duration(length.as_secs()))
        }
        AlertsCommand::Threshold { rate } => {
            prefs.muted = false;
            prefs.snoozed_until_ms = None;
            prefs.miss_rate_threshold = Some(*rate);
            format!(
                "You will be alerted when a validator of yours misses more than {} of its attestations \
                 (or misses several in a row). Alerts are on again.",
                percent(Some(*rate))
            )
        }
    };
    backend.put_alert_preferences(user, &prefs).await?;
    Ok(Reply::ephemeral(text))
}
