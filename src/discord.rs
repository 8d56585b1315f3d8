//! `[discord]`: how sparta reaches Discord (the REST sink, or the console without a token) and what
//! it serves to it (the interactions endpoint, with the public key), plus the read-only API (with the
//! API key). Also `sparta discord register-commands`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use axum::Router;
use serde::Deserialize;
use sparta_actors::EngineConfig;
use sparta_bot::{
    ApiKey, Backend, CommandHandler, ConsoleSink, DiscordRest, DiscordSink, FollowUp, Front, FrontConfig,
    InteractionsConfig, RestConfig, Snowflake, api_router, interactions_router,
};

use crate::config::{Config, ConfigSource};
use crate::secrets::Secrets;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DiscordConfig {
    /// Print Discord actions as JSON lines on the console sink (used when no bot token is set).
    pub console_json: bool,
    /// The application (bot) id; looked up with the token when left out.
    pub application_id: Option<String>,
    /// The server whose roles sparta manages.
    pub guild_id: Option<String>,
    /// Members with any of these role ids may use `/mod`.
    pub moderator_roles: Vec<String>,
    /// Engine role name (`engine.roles.role`, `engine.slashed_role`) → Discord role id.
    pub roles: BTreeMap<String, String>,
    /// Engine channel name (`engine.alerts_channel`) → Discord channel id.
    pub channels: BTreeMap<String, String>,
    /// How long a `/register` challenge stays answerable.
    #[serde(with = "humantime_serde_compat")]
    pub challenge_ttl: Duration,
    /// Requests per second sent to Discord at most (Discord's global limit is 50).
    pub global_requests_per_s: u32,
}

impl Default for DiscordConfig {
    fn default() -> Self {
        Self {
            console_json: false,
            application_id: None,
            guild_id: None,
            moderator_roles: Vec::new(),
            roles: BTreeMap::new(),
            channels: BTreeMap::new(),
            challenge_ttl: FrontConfig::default().challenge_ttl,
            // Headroom under Discord's 50/s: a retry after a 429 is not paced again.
            global_requests_per_s: 40,
        }
    }
}

/// Durations as humantime strings (`"15m"`).
mod humantime_serde_compat {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(deserializer)?;
        humantime::parse_duration(&text).map_err(serde::de::Error::custom)
    }
}

fn snowflake(key: &str, value: &str, problems: &mut Vec<String>) -> Option<Snowflake> {
    match value.parse::<Snowflake>() {
        Ok(id) => Some(id),
        Err(_) => {
            problems.push(format!("discord.{key} must be a Discord id (decimal digits), got {value:?}"));
            None
        }
    }
}

/// An id that is set (the deployment renders unset ids as empty strings).
fn given(id: &Option<String>) -> Option<&str> {
    id.as_deref().map(str::trim).filter(|id| !id.is_empty())
}

impl DiscordConfig {
    pub fn validate(&self, engine: &EngineConfig, problems: &mut Vec<String>) {
        if let Some(id) = given(&self.application_id) {
            snowflake("application_id", id, problems);
        }
        if let Some(id) = given(&self.guild_id) {
            snowflake("guild_id", id, problems);
        }
        for id in &self.moderator_roles {
            snowflake("moderator_roles", id, problems);
        }
        for (name, id) in &self.roles {
            snowflake(&format!("roles.{name}"), id, problems);
        }
        for (name, id) in &self.channels {
            snowflake(&format!("channels.{name}"), id, problems);
        }
        if self.challenge_ttl < Duration::from_secs(60) || self.challenge_ttl > Duration::from_secs(24 * 3600)
        {
            problems.push("discord.challenge_ttl must be between 1m and 24h".into());
        }
        if !(1..=50).contains(&self.global_requests_per_s) {
            problems.push("discord.global_requests_per_s must be between 1 and 50".into());
        }
        // Only checked once a REST sink would use them (see `sink`), but a partial map is a typo.
        if !self.roles.is_empty() {
            for role in engine.roles.managed_roles(&engine.slashed_role) {
                if !self.roles.contains_key(role) {
                    problems.push(format!("discord.roles has no id for the engine's role {role:?}"));
                }
            }
        }
    }

    fn ids(map: &BTreeMap<String, String>) -> BTreeMap<String, u64> {
        map.iter().filter_map(|(name, id)| Some((name.clone(), id.parse::<Snowflake>().ok()?.0))).collect()
    }

    /// The REST client when a bot token is set (then the guild and every role the engine names are
    /// required): the sink for actions and the channel for deferred answers.
    pub fn rest(&self, engine: &EngineConfig, secrets: &Secrets) -> anyhow::Result<Option<Arc<DiscordRest>>> {
        let Some(token) = &secrets.discord_token else { return Ok(None) };
        let Some(guild) = given(&self.guild_id).and_then(|g| g.parse::<Snowflake>().ok()) else {
            bail!("a Discord bot token is set, so discord.guild_id must name the server to manage");
        };
        let mut missing = Vec::new();
        for role in engine.roles.managed_roles(&engine.slashed_role) {
            if !self.roles.contains_key(role) {
                missing.push(format!("discord.roles.{role}"));
            }
        }
        if !missing.is_empty() {
            bail!("a Discord bot token is set, so these ids are needed: {}", missing.join(", "));
        }
        if !self.channels.contains_key(&engine.alerts_channel) {
            println!(
                "discord: no id for channel {:?} (discord.channels): alerts about unlinked validators and \
                 slashes will not be posted",
                engine.alerts_channel
            );
        }
        let config = RestConfig {
            token: token.expose().to_owned(),
            guild_id: guild.0,
            roles: Self::ids(&self.roles),
            channels: Self::ids(&self.channels),
            global_per_s: self.global_requests_per_s,
        };
        Ok(Some(Arc::new(DiscordRest::new(config).context("cannot set up the Discord REST client")?)))
    }

    /// Where actions go: Discord's REST API, or the console without a token.
    pub fn sink(&self, rest: Option<&Arc<DiscordRest>>) -> Arc<dyn DiscordSink> {
        match rest {
            Some(rest) => rest.clone(),
            None => Arc::new(ConsoleSink::new(self.console_json)),
        }
    }

    pub fn front(&self) -> FrontConfig {
        FrontConfig {
            moderator_roles: self.moderator_roles.iter().filter_map(|r| r.parse().ok()).collect(),
            challenge_ttl: self.challenge_ttl,
        }
    }
}

/// The routes served beside `/metrics`: `/interactions` with a Discord public key, `/api/v1` with an
/// API key. Each is off without its secret.
/// With a follow-up channel (the REST client), a command slower than Discord's 3 s is deferred and
/// answered through it; without one the endpoint waits for the answer.
pub fn routes(
    backend: Arc<dyn Backend>,
    front: FrontConfig,
    public_key: Option<sparta_bot::DiscordPublicKey>,
    api_key: Option<ApiKey>,
    follow_up: Option<Arc<dyn FollowUp>>,
) -> Router {
    let mut router = Router::new();
    if let Some(public_key) = public_key {
        let handler: Arc<dyn CommandHandler> = Arc::new(Front::new(backend.clone(), front));
        let config = InteractionsConfig { follow_up, ..InteractionsConfig::new(public_key) };
        router = router.merge(interactions_router(config, handler));
        println!("discord: serving /interactions");
    }
    if let Some(key) = api_key {
        router = router.merge(api_router(backend, key));
        println!("api: serving /api/v1 (Authorization: Bearer <SPARTA_API_KEY>)");
    }
    router
}

/// `sparta discord register-commands [--guild ID]`: bulk-overwrites the slash commands.
pub async fn register_commands(source: &ConfigSource, guild: Option<String>) -> anyhow::Result<()> {
    let config = Config::load(source)?;
    let secrets = Secrets::load()?;
    let Some(token) = &secrets.discord_token else {
        bail!("registering commands needs the bot token in SPARTA_DISCORD_TOKEN");
    };
    let parse = |what: &str, id: &str| {
        id.parse::<Snowflake>()
            .map(|s| s.0)
            .map_err(|_| anyhow::anyhow!("{what} must be a Discord id, got {id:?}"))
    };
    let guild = guild.map(|g| parse("--guild", &g)).transpose()?;
    let application =
        given(&config.discord.application_id).map(|a| parse("discord.application_id", a)).transpose()?;
    let rest = DiscordRest::new(RestConfig {
        token: token.expose().to_owned(),
        guild_id: guild.unwrap_or_default(),
        roles: BTreeMap::new(),
        channels: BTreeMap::new(),
        global_per_s: config.discord.global_requests_per_s,
    })
    .context("cannot set up the Discord REST client")?;
    let count = rest
        .register_commands(application, guild, &sparta_bot::commands::definitions())
        .await
        .context("Discord refused the commands")?;
    match guild {
        Some(guild) => println!("registered {count} commands in guild {guild} (visible at once)"),
        None => println!("registered {count} global commands (Discord may take up to an hour to show them)"),
    }
    Ok(())
}
