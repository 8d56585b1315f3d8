//! Turns an engine action (names) into Discord ids, refusing before any request what Discord could
//! only refuse after one.

use std::num::NonZeroU64;

use serenity::all::{ChannelId, GuildId, RoleId, UserId};

use super::config::RestConfig;
use super::error::RestError;
use super::message::{MAX_REASON, truncate};
use crate::action::DiscordAction;

/// An action with every name replaced by its id.
#[derive(Debug, PartialEq)]
pub enum Target<'a> {
    Role { add: bool, guild: GuildId, user: UserId, role: RoleId, reason: Option<String> },
    Direct { user: UserId, content: &'a str },
    Post { channel: ChannelId, content: &'a str },
}

pub fn resolve<'a>(config: &RestConfig, action: &'a DiscordAction) -> Result<Target<'a>, RestError> {
    match action {
        DiscordAction::AddRole { user, role, reason } | DiscordAction::RemoveRole { user, role, reason } => {
            Ok(Target::Role {
                add: matches!(action, DiscordAction::AddRole { .. }),
                guild: GuildId::from(snowflake(config.guild_id, "guild id")?),
                user: UserId::from(user_id(user)?),
                role: RoleId::from(named(&config.roles, role, "role")?),
                // Discord takes 1 to 512 characters; an empty reason is no reason.
                reason: (!reason.trim().is_empty()).then(|| truncate(reason, MAX_REASON).into_owned()),
            })
        }
        DiscordAction::DirectMessage { user, content } => {
            Ok(Target::Direct { user: UserId::from(user_id(user)?), content: non_empty(content)? })
        }
        DiscordAction::ChannelPost { channel, content } => Ok(Target::Post {
            channel: ChannelId::from(named(&config.channels, channel, "channel")?),
            content: non_empty(content)?,
        }),
    }
}

/// A Discord user id: a non-zero decimal snowflake.
pub(super) fn user_id(user: &str) -> Result<NonZeroU64, RestError> {
    let valid = !user.is_empty() && user.bytes().all(|b| b.is_ascii_digit());
    valid
        .then(|| user.parse::<NonZeroU64>().ok())
        .flatten()
        .ok_or_else(|| RestError::Invalid(format!("user {user:?} is not a Discord id")))
}

fn named(
    ids: &std::collections::BTreeMap<String, u64>,
    name: &str,
    what: &str,
) -> Result<NonZeroU64, RestError> {
    let configured = ids
        .get(name)
        .ok_or_else(|| RestError::Invalid(format!("no {what} {name:?} in the configuration")))?;
    snowflake(*configured, what)
}

/// Serenity's ids panic on 0, so a zero from the configuration is refused here.
pub(super) fn snowflake(value: u64, what: &str) -> Result<NonZeroU64, RestError> {
    NonZeroU64::new(value).ok_or_else(|| RestError::Invalid(format!("{what} 0 is not a Discord id")))
}

/// Discord refuses a message with nothing to show.
fn non_empty(content: &str) -> Result<&str, RestError> {
    if content.trim().is_empty() { Err(RestError::Invalid("empty message".into())) } else { Ok(content) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> RestConfig {
        let mut config = RestConfig::new("t", 10);
        config.roles.insert("healthy".into(), 20);
        config.roles.insert("broken".into(), 0);
        config.channels.insert("alerts".into(), 30);
        config
    }

    fn role(user: &str, role: &str, reason: &str) -> DiscordAction {
        DiscordAction::AddRole { user: user.into(), role: role.into(), reason: reason.into() }
    }

    #[test]
    fn names_become_ids() {
        let add = role("42", "healthy", "ok");
        let target = resolve(&config(), &add).unwrap();
        assert_eq!(
            target,
            Target::Role {
                add: true,
                guild: GuildId::new(10),
                user: UserId::new(42),
                role: RoleId::new(20),
                reason: Some("ok".into()),
            }
        );
        let remove =
            DiscordAction::RemoveRole { user: "42".into(), role: "healthy".into(), reason: " ".into() };
        assert!(matches!(
            resolve(&config(), &remove).unwrap(),
            Target::Role { add: false, reason: None, .. }
        ));
        let post = DiscordAction::ChannelPost { channel: "alerts".into(), content: "hi".into() };
        assert_eq!(
            resolve(&config(), &post).unwrap(),
            Target::Post { channel: ChannelId::new(30), content: "hi" }
        );
    }

    #[test]
    fn unknown_names_bad_users_and_empty_messages_are_refused() {
        let refused = [
            role("42", "sequencer", "r"),
            role("42", "broken", "r"),
            role("alice", "healthy", "r"),
            role("0", "healthy", "r"),
            role("-1", "healthy", "r"),
            role("+1", "healthy", "r"),
            role("", "healthy", "r"),
            role("99999999999999999999999", "healthy", "r"),
            DiscordAction::DirectMessage { user: "<@42>".into(), content: "hi".into() },
            DiscordAction::DirectMessage { user: "42".into(), content: " \n".into() },
            DiscordAction::ChannelPost { channel: "general".into(), content: "hi".into() },
        ];
        for action in refused {
            let error = resolve(&config(), &action).unwrap_err();
            assert!(matches!(error, RestError::Invalid(_)), "{action:?}: {error}");
            assert!(!crate::sink::SinkError::from(error).is_retryable());
        }
        let mut zero_guild = config();
        zero_guild.guild_id = 0;
        assert!(resolve(&zero_guild, &role("42", "healthy", "r")).is_err());
    }

    #[test]
    fn long_reasons_are_cut_to_discords_limit() {
        let long = role("42", "healthy", &"x".repeat(600));
        let Target::Role { reason: Some(reason), .. } = resolve(&config(), &long).unwrap() else {
            panic!("a role target with a reason");
        };
        assert_eq!(reason.chars().count(), MAX_REASON);
    }
}
