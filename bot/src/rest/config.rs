//! What the REST client needs to know about the deployment: the bot's token and the guild's ids.

use std::collections::BTreeMap;
use std::fmt;

/// Discord's documented global limit for a bot: 50 requests per second.
pub const DEFAULT_GLOBAL_PER_S: u32 = 50;

/// The REST client's settings. The engine speaks in names (`healthy`, `alerts`); Discord in ids, so
/// the maps translate, and an action naming something not in them is refused without a request.
#[derive(Clone, PartialEq, Eq)]
pub struct RestConfig {
    /// The bot token, without the `Bot ` prefix (added if missing). Never logged: `Debug` redacts it.
    pub token: String,
    /// The guild whose members get roles.
    pub guild_id: u64,
    /// Engine role name -> Discord role id.
    pub roles: BTreeMap<String, u64>,
    /// Engine channel name -> Discord channel id.
    pub channels: BTreeMap<String, u64>,
    /// At most this many requests per second across all routes (serenity paces each route, and
    /// only reacts to a global 429 once it happened).
    pub global_per_s: u32,
}

impl RestConfig {
    /// Settings with no roles or channels and the default global rate.
    pub fn new(token: impl Into<String>, guild_id: u64) -> Self {
        Self {
            token: token.into(),
            guild_id,
            roles: BTreeMap::new(),
            channels: BTreeMap::new(),
            global_per_s: DEFAULT_GLOBAL_PER_S,
        }
    }
}

impl fmt::Debug for RestConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RestConfig")
            .field("token", &"<redacted>")
            .field("guild_id", &self.guild_id)
            .field("roles", &self.roles)
            .field("channels", &self.channels)
            .field("global_per_s", &self.global_per_s)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_token() {
        let mut config = RestConfig::new("MTIz.secret-token-value", 1);
        config.roles.insert("healthy".into(), 5);
        let printed = format!("{config:?} {config:#?}");
        assert!(!printed.contains("secret-token-value"), "{printed}");
        assert!(printed.contains("<redacted>") && printed.contains("healthy"), "{printed}");
        assert_eq!(config.global_per_s, DEFAULT_GLOBAL_PER_S);
    }
}
