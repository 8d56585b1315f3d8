//! A sink that writes each action as one line instead of calling Discord: the default of
//! `sparta devnet` and of any deployment without a bot token.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Mutex;

use async_trait::async_trait;

use crate::action::DiscordAction;
use crate::sink::{DiscordSink, SinkError};

/// The counter every sink increments per delivered action (declared in the telemetry catalog).
pub const ACTIONS_METRIC: &str = "sparta_discord_actions_total";

/// Prints one line per action, human-readable (`discord role+ user=42 role=healthy reason="…" key=…`)
/// or JSON (with a `key` field), and counts deliveries per kind.
pub struct ConsoleSink {
    json: bool,
    out: Mutex<Box<dyn Write + Send>>,
    counts: Mutex<BTreeMap<&'static str, u64>>,
}

impl std::fmt::Debug for ConsoleSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleSink").field("json", &self.json).field("counts", &self.counts()).finish()
    }
}

impl ConsoleSink {
    /// A sink writing to stdout.
    pub fn new(json: bool) -> Self {
        Self::with_writer(json, Box::new(std::io::stdout()))
    }

    /// A sink writing to `out` (tests pass a buffer they can read back).
    pub fn with_writer(json: bool, out: Box<dyn Write + Send>) -> Self {
        Self { json, out: Mutex::new(out), counts: Mutex::new(BTreeMap::new()) }
    }

    /// How many actions of each kind were delivered so far.
    pub fn counts(&self) -> BTreeMap<&'static str, u64> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The line printed for `action` delivered under `key` (without the newline).
    pub fn render(&self, key: &str, action: &DiscordAction) -> String {
        if self.json {
            let mut value = serde_json::to_value(action).unwrap_or_default();
            if let Some(object) = value.as_object_mut() {
                object.insert("key".into(), key.into());
            }
            value.to_string()
        } else {
            format!("{} key={key}", render_text(action))
        }
    }
}

/// `key="value"` quoting: Rust's debug escaping keeps one action on one line whatever the text holds.
fn render_text(action: &DiscordAction) -> String {
    match action {
        DiscordAction::AddRole { user, role, reason } => {
            format!("discord role+ user={user} role={role} reason={reason:?}")
        }
        DiscordAction::RemoveRole { user, role, reason } => {
            format!("discord role- user={user} role={role} reason={reason:?}")
        }
        DiscordAction::DirectMessage { user, content } => {
            format!("discord dm user={user} content={content:?}")
        }
        DiscordAction::ChannelPost { channel, content } => {
            format!("discord post channel={channel} content={content:?}")
        }
    }
}

#[async_trait]
impl DiscordSink for ConsoleSink {
    async fn deliver(&self, key: &str, action: &DiscordAction) -> Result<(), SinkError> {
        let line = self.render(key, action);
        {
            let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
            writeln!(out, "{line}")
                .and_then(|()| out.flush())
                .map_err(|e| SinkError::Transient(format!("console write failed: {e}")))?;
        }
        *self.counts.lock().unwrap_or_else(|p| p.into_inner()).entry(action.kind()).or_default() += 1;
        metrics::counter!(ACTIONS_METRIC, "kind" => action.kind()).increment(1);
        Ok(())
    }
}
