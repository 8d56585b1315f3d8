//! The subset of Discord's interaction payload sparta reads, and the responses it sends back.
//! Unknown fields are ignored: Discord adds fields often and they must not break parsing.

use serde::{Deserialize, Serialize};

/// What kind of interaction Discord sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(from = "u8")]
pub enum InteractionType {
    Ping,
    ApplicationCommand,
    MessageComponent,
    Autocomplete,
    ModalSubmit,
    /// A type newer than this code; answered with an error rather than failing to parse.
    Other(u8),
}

impl From<u8> for InteractionType {
    fn from(value: u8) -> Self {
        match value {
            1 => Self::Ping,
            2 => Self::ApplicationCommand,
            3 => Self::MessageComponent,
            4 => Self::Autocomplete,
            5 => Self::ModalSubmit,
            other => Self::Other(other),
        }
    }
}

/// One incoming interaction.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Interaction {
    pub id: String,
    pub application_id: String,
    #[serde(rename = "type")]
    pub kind: InteractionType,
    #[serde(default)]
    pub token: String,
    pub data: Option<InteractionData>,
    pub guild_id: Option<String>,
    pub channel_id: Option<String>,
    /// Present when invoked in a guild.
    pub member: Option<GuildMember>,
    /// Present when invoked in a DM.
    pub user: Option<User>,
}

impl Interaction {
    /// The invoking user's id, whether invoked in a guild (`member.user`) or a DM (`user`).
    pub fn invoker_id(&self) -> Option<&str> {
        self.member.as_ref().and_then(|m| m.user.as_ref()).or(self.user.as_ref()).map(|u| u.id.as_str())
    }

    /// The invoker's role ids in the guild (empty in DMs).
    pub fn member_roles(&self) -> &[String] {
        self.member.as_ref().map(|m| m.roles.as_slice()).unwrap_or_default()
    }
}

/// `data` of an application command (and the fields shared with other kinds sparta may read).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct InteractionData {
    pub id: Option<String>,
    /// The command's name (application commands and autocomplete).
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub options: Vec<CommandOption>,
    /// The component's id (message components and modals).
    pub custom_id: Option<String>,
}

/// One option the user filled in, or a subcommand (group) carrying nested options.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CommandOption {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: u8,
    pub value: Option<serde_json::Value>,
    #[serde(default)]
    pub options: Vec<CommandOption>,
    #[serde(default)]
    pub focused: bool,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct GuildMember {
    pub user: Option<User>,
    #[serde(default)]
    pub roles: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct User {
    pub id: String,
    pub username: Option<String>,
}

/// Discord's option type numbers (`ApplicationCommandOptionType`).
pub mod option_type {
    pub const SUB_COMMAND: u8 = 1;
    pub const SUB_COMMAND_GROUP: u8 = 2;
    pub const STRING: u8 = 3;
    pub const INTEGER: u8 = 4;
    pub const BOOLEAN: u8 = 5;
    pub const USER: u8 = 6;
    pub const CHANNEL: u8 = 7;
    pub const ROLE: u8 = 8;
    pub const MENTIONABLE: u8 = 9;
    pub const NUMBER: u8 = 10;
    pub const ATTACHMENT: u8 = 11;
}

/// `MessageFlags.EPHEMERAL`: only the invoker sees the message.
pub const EPHEMERAL_FLAG: u64 = 1 << 6;

/// Our answer to an interaction (the body of the HTTP response).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InteractionResponse {
    #[serde(rename = "type")]
    pub kind: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<ResponseData>,
}

/// Message fields of a type 4/5 response, or the choices of an autocomplete result.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ResponseData {
    Message(MessageData),
    Choices { choices: Vec<serde_json::Value> },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MessageData {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flags: Option<u64>,
    /// Replies quote validator operators by mention; never ping them from a command answer.
    pub allowed_mentions: AllowedMentions,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AllowedMentions {
    pub parse: Vec<String>,
}

impl InteractionResponse {
    pub const PONG: u8 = 1;
    pub const CHANNEL_MESSAGE_WITH_SOURCE: u8 = 4;
    pub const DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE: u8 = 5;
    pub const AUTOCOMPLETE_RESULT: u8 = 8;

    /// The answer to Discord's PING.
    pub fn pong() -> Self {
        Self { kind: Self::PONG, data: None }
    }

    /// A message in the channel the command was used in; `ephemeral` shows it to the invoker only.
    pub fn message(content: impl Into<String>, ephemeral: bool) -> Self {
        Self {
            kind: Self::CHANNEL_MESSAGE_WITH_SOURCE,
            data: Some(ResponseData::Message(MessageData {
                content: Some(content.into()),
                flags: ephemeral.then_some(EPHEMERAL_FLAG),
                allowed_mentions: AllowedMentions::default(),
            })),
        }
    }

    /// "Thinking…": the real answer follows later through the interaction webhook.
    pub fn deferred(ephemeral: bool) -> Self {
        Self {
            kind: Self::DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE,
            data: Some(ResponseData::Message(MessageData {
                content: None,
                flags: ephemeral.then_some(EPHEMERAL_FLAG),
                allowed_mentions: AllowedMentions::default(),
            })),
        }
    }

    /// No suggestions (sparta offers none yet, but must still answer autocomplete requests).
    pub fn no_choices() -> Self {
        Self { kind: Self::AUTOCOMPLETE_RESULT, data: Some(ResponseData::Choices { choices: Vec::new() }) }
    }
}

/// A Discord id (user, role, guild). Discord sends them as decimal strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Snowflake(pub u64);

impl std::str::FromStr for Snowflake {
    type Err = InvalidSnowflake;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // Digits only: `u64::from_str` would also take a leading '+'.
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidSnowflake);
        }
        s.parse().map(Snowflake).map_err(|_| InvalidSnowflake)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a Discord id (expected decimal digits)")]
pub struct InvalidSnowflake;

impl std::fmt::Display for Snowflake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}
