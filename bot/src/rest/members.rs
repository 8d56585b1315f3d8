//! Which of the engine's roles a member holds in Discord, for reconciling the engine's view with
//! what the guild shows (a moderator may have changed roles by hand).

use serde::Deserialize;
use serenity::all::{GuildId, LightMethod, UserId};
use serenity::http::{Request, Route};

use super::DiscordRest;
use super::error::RestError;
use super::resolve::snowflake;

/// The part of a guild member sparta reads.
#[derive(Deserialize)]
struct MemberRoles {
    roles: Vec<String>,
}

impl DiscordRest {
    /// The engine-named roles `user` holds; `None` when the user is not in the guild. Roles the
    /// engine does not manage are left out.
    pub async fn engine_roles_of(&self, user: UserId) -> Result<Option<Vec<String>>, RestError> {
        let config = &self.inner.config;
        let guild_id = GuildId::from(snowflake(config.guild_id, "guild id")?);
        let route = Route::GuildMember { guild_id, user_id: user };
        let member: MemberRoles = match self.fire(Request::new(route, LightMethod::Get)).await {
            Ok(member) => member,
            Err(RestError::Status { status: 404, .. }) => return Ok(None),
            Err(error) => return Err(error),
        };
        let held = config
            .roles
            .iter()
            .filter(|(_, id)| member.roles.iter().any(|r| r.parse::<u64>().ok() == Some(**id)))
            .map(|(name, _)| name.clone())
            .collect();
        Ok(Some(held))
    }
}
