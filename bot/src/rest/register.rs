//! Slash-command registration: one bulk overwrite, so Discord ends up with exactly our commands.

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;
use serenity::all::{ApplicationId, GuildId};
use serenity::http::{LightMethod, Request, Route};

use super::DiscordRest;
use super::error::RestError;
use super::resolve::snowflake;

impl DiscordRest {
    /// Replaces the application's commands with `commands` (a JSON array, as
    /// [`crate::commands::definitions`] builds it): globally, or in `guild` only (guild commands
    /// update at once, global ones can take a while to show). Without `application_id`, asks
    /// Discord which application the token belongs to. Returns how many commands Discord now has.
    pub async fn register_commands(
        &self,
        application_id: Option<u64>,
        guild: Option<u64>,
        commands: &Value,
    ) -> Result<usize, RestError> {
        if !commands.is_array() {
            return Err(RestError::Invalid("commands must be a JSON array".into()));
        }
        let application_id = match application_id {
            Some(id) => ApplicationId::from(snowflake(id, "application id")?),
            None => self.application_id().await?,
        };
        let route = match guild {
            Some(guild) => Route::GuildCommands {
                application_id,
                guild_id: GuildId::from(snowflake(guild, "guild id")?),
            },
            None => Route::Commands { application_id },
        };
        let body = serde_json::to_vec(commands).map_err(|e| RestError::Invalid(e.to_string()))?;
        // Counted, not parsed: a field serenity's model does not know yet must not fail a
        // registration that worked.
        let registered: Vec<IgnoredAny> =
            self.fire(Request::new(route, LightMethod::Put).body(Some(body))).await?;
        tracing::info!(%application_id, ?guild, count = registered.len(), "slash commands registered");
        Ok(registered.len())
    }

    /// The id of the application the bot token belongs to.
    async fn application_id(&self) -> Result<ApplicationId, RestError> {
        #[derive(Deserialize)]
        struct Application {
            id: ApplicationId,
        }
        let application: Application =
            self.fire(Request::new(Route::Oauth2ApplicationCurrent, LightMethod::Get)).await?;
        Ok(application.id)
    }
}
