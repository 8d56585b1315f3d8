//! What the engine asks Discord to do. The engine decides; sinks only deliver.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DiscordAction {
    AddRole { user: String, role: String, reason: String },
    RemoveRole { user: String, role: String, reason: String },
    DirectMessage { user: String, content: String },
    ChannelPost { channel: String, content: String },
}

impl DiscordAction {
    /// Every kind, in declaration order (also the `kind` label values of `sparta_discord_actions_total`).
    pub const KINDS: [&'static str; 4] = ["add_role", "remove_role", "direct_message", "channel_post"];

    /// The action's kind, as used in metrics labels and the JSON `kind` tag.
    pub fn kind(&self) -> &'static str {
        match self {
            DiscordAction::AddRole { .. } => Self::KINDS[0],
            DiscordAction::RemoveRole { .. } => Self::KINDS[1],
            DiscordAction::DirectMessage { .. } => Self::KINDS[2],
            DiscordAction::ChannelPost { .. } => Self::KINDS[3],
        }
    }

    /// A key that is the same for the same action decided in the same `context` (for example
    /// `"slot:1234"` or an alert's id), so an outbox can deliver it at most once across retries and
    /// restarts. Message text is not part of a role key: re-deciding a role with new wording is
    /// still the same change.
    pub fn idempotency_key(&self, context: &str) -> String {
        let target = match self {
            DiscordAction::AddRole { user, role, .. } | DiscordAction::RemoveRole { user, role, .. } => {
                format!("{user}:{role}")
            }
            DiscordAction::DirectMessage { user, content } => format!("{user}:{:016x}", fnv1a(content)),
            DiscordAction::ChannelPost { channel, content } => format!("{channel}:{:016x}", fnv1a(content)),
        };
        format!("{}:{context}:{target}", self.kind())
    }
}

/// FNV-1a: a stable (across builds and platforms) 64-bit digest, unlike `std`'s `DefaultHasher`.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, b| (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_json_tags_agree() {
        let actions = [
            DiscordAction::AddRole { user: "1".into(), role: "r".into(), reason: "x".into() },
            DiscordAction::RemoveRole { user: "1".into(), role: "r".into(), reason: "x".into() },
            DiscordAction::DirectMessage { user: "1".into(), content: "hi".into() },
            DiscordAction::ChannelPost { channel: "c".into(), content: "hi".into() },
        ];
        for (action, kind) in actions.iter().zip(DiscordAction::KINDS) {
            assert_eq!(action.kind(), kind);
            let json = serde_json::to_value(action).unwrap();
            assert_eq!(json["kind"], kind);
            assert_eq!(&serde_json::from_value::<DiscordAction>(json).unwrap(), action);
        }
    }

    #[test]
    fn idempotency_keys_are_stable_and_discriminating() {
        let add = DiscordAction::AddRole { user: "42".into(), role: "healthy".into(), reason: "a".into() };
        let reworded =
            DiscordAction::AddRole { user: "42".into(), role: "healthy".into(), reason: "b".into() };
        let remove =
            DiscordAction::RemoveRole { user: "42".into(), role: "healthy".into(), reason: "a".into() };
        assert_eq!(add.idempotency_key("slot:7"), "add_role:slot:7:42:healthy");
        assert_eq!(add.idempotency_key("slot:7"), reworded.idempotency_key("slot:7"));
        assert_ne!(add.idempotency_key("slot:7"), add.idempotency_key("slot:8"));
        assert_ne!(add.idempotency_key("slot:7"), remove.idempotency_key("slot:7"));
        let dm = |content: &str| DiscordAction::DirectMessage { user: "42".into(), content: content.into() };
        assert_eq!(dm("hello").idempotency_key("a"), dm("hello").idempotency_key("a"));
        assert_ne!(dm("hello").idempotency_key("a"), dm("hello!").idempotency_key("a"));
        assert_eq!(fnv1a(""), 0xcbf2_9ce4_8422_2325, "FNV-1a offset basis");
        assert_eq!(fnv1a("a"), 0xaf63_dc4c_8601_ec8c, "published FNV-1a test vector");
    }
}
