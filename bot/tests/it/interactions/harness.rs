//! A real interactions endpoint on 127.0.0.1, a fixed Ed25519 key pair standing in for Discord's,
//! a pinned clock, and a handler that records what reached it.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use ed25519_dalek::{Signer, SigningKey};
use serde_json::{Value, json};
use sparta_bot::{
    Command, CommandHandler, DiscordPublicKey, INTERACTIONS_PATH, InteractionsConfig, Invocation, ModCommand,
    Reply, interactions_router_with_clock,
};

/// The pinned "now" of every endpoint under test (unix seconds).
pub const NOW: u64 = 1_750_000_000;
pub const GUILD_ID: &str = "1101234567890123456";
pub const USER_ID: &str = "1301234567890123456";
pub const ROLE_ID: &str = "1201234567890123456";

/// Discord's side of the key pair (fixed seed: deterministic and offline).
pub fn discord_key() -> SigningKey {
    SigningKey::from_bytes(&[0x5a; 32])
}

/// Records invocations; replies ephemerally to moderator and alert commands, publicly otherwise.
#[derive(Default)]
pub struct RecordingHandler {
    seen: Mutex<Vec<Invocation>>,
}

impl RecordingHandler {
    pub fn invocations(&self) -> Vec<Invocation> {
        self.seen.lock().unwrap().clone()
    }
}

#[async_trait]
impl CommandHandler for RecordingHandler {
    async fn handle(&self, invocation: Invocation) -> Reply {
        let content = format!("handled {}", invocation.command.name());
        let private = matches!(invocation.command, Command::Mod(_) | Command::Alerts(_));
        self.seen.lock().unwrap().push(invocation);
        if private { Reply::ephemeral(content) } else { Reply::public(content) }
    }
}

pub struct Harness {
    pub handler: Arc<RecordingHandler>,
    url: String,
    client: reqwest::Client,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// What came back over HTTP.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: String,
}

impl Answer {
    #[track_caller]
    pub fn json(&self) -> Value {
        assert_eq!(self.status, 200, "body: {}", self.body);
        assert_eq!(self.content_type.as_deref(), Some("application/json"), "Discord requires JSON answers");
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    /// The content of a type 4 answer and whether it is ephemeral.
    #[track_caller]
    pub fn message(&self) -> (String, bool) {
        let json = self.json();
        assert_eq!(json["type"], 4, "{json}");
        let flags = json["data"]["flags"].as_u64().unwrap_or(0);
        (json["data"]["content"].as_str().expect("content").to_string(), flags & 64 != 0)
    }
}

impl Harness {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(tweak: impl FnOnce(&mut InteractionsConfig)) -> Self {
        let public_key = DiscordPublicKey::from_bytes(discord_key().verifying_key().as_bytes()).unwrap();
        let mut config = InteractionsConfig::new(public_key);
        tweak(&mut config);
        let handler = Arc::new(RecordingHandler::default());
        let router = interactions_router_with_clock(config, handler.clone(), Arc::new(|| NOW));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}{INTERACTIONS_PATH}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        Self { handler, url, client: reqwest::Client::new(), server }
    }

    /// POSTs `body` signed by Discord's key at `timestamp`.
    pub async fn send_signed_at(&self, timestamp: u64, body: &[u8]) -> Answer {
        let timestamp = timestamp.to_string();
        let signature = sign(&discord_key(), &timestamp, body);
        self.send(&[("x-signature-ed25519", &signature), ("x-signature-timestamp", &timestamp)], body).await
    }

    pub async fn send_signed(&self, payload: &Value) -> Answer {
        self.send_signed_at(NOW, payload.to_string().as_bytes()).await
    }

    /// POSTs `body` with exactly these headers (plus content type and length).
    pub async fn send(&self, headers: &[(&str, &str)], body: &[u8]) -> Answer {
        let mut request =
            self.client.post(&self.url).header("content-type", "application/json").body(body.to_vec());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("endpoint reachable");
        let status = response.status().as_u16();
        let content_type =
            response.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_string);
        Answer { status, content_type, body: response.text().await.unwrap() }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    #[track_caller]
    pub fn assert_handler_not_called(&self) {
        assert_eq!(self.handler.invocations(), vec![], "the handler must not be reached");
    }

    #[track_caller]
    pub fn assert_handled_once(&self) -> Invocation {
        let mut seen = self.handler.invocations();
        assert_eq!(seen.len(), 1, "{seen:?}");
        seen.remove(0)
    }
}

/// POSTs `payload` to `url` signed by Discord's key at [`NOW`]; the JSON answer.
pub async fn post_signed(url: &str, payload: &Value) -> Value {
    let body = payload.to_string();
    let response = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("x-signature-ed25519", sign(&discord_key(), &NOW.to_string(), body.as_bytes()))
        .header("x-signature-timestamp", NOW.to_string())
        .body(body)
        .send()
        .await
        .expect("endpoint reachable");
    response.json().await.expect("a JSON answer")
}

pub fn sign(key: &SigningKey, timestamp: &str, body: &[u8]) -> String {
    let mut message = timestamp.as_bytes().to_vec();
    message.extend_from_slice(body);
    hex::encode(key.sign(&message).to_bytes())
}

/// A PING as Discord sends it when the endpoint URL is saved.
pub fn ping() -> Value {
    json!({
        "application_id": "1001234567890123456",
        "id": "1401234567890123456",
        "token": "aW50ZXJhY3Rpb246MTQwMTIzNDU2Nzg5MDEyMzQ1Ng",
        "type": 1,
        "user": null,
        "version": 1,
    })
}

/// An APPLICATION_COMMAND from a guild member, shaped like Discord's (including fields sparta
/// ignores, which must not break parsing).
pub fn guild_command(data: Value) -> Value {
    json!({
        "app_permissions": "2248473465835073",
        "application_id": "1001234567890123456",
        "authorizing_integration_owners": { "0": GUILD_ID },
        "channel": { "id": "1501234567890123456", "name": "validators", "type": 0, "guild_id": GUILD_ID },
        "channel_id": "1501234567890123456",
        "context": 0,
        "data": data,
        "entitlements": [],
        "guild": { "features": [], "id": GUILD_ID, "locale": "en-US" },
        "guild_id": GUILD_ID,
        "guild_locale": "en-US",
        "id": "1401234567890123456",
        "locale": "en-GB",
        "member": {
            "avatar": null,
            "communication_disabled_until": null,
            "deaf": false,
            "flags": 0,
            "joined_at": "2025-03-01T12:00:00.000000+00:00",
            "mute": false,
            "nick": null,
            "pending": false,
            "permissions": "2248473465835073",
            "premium_since": null,
            "roles": [ROLE_ID],
            "user": {
                "avatar": null,
                "discriminator": "0",
                "global_name": "Alice",
                "id": USER_ID,
                "public_flags": 0,
                "username": "alice"
            }
        },
        "token": "aW50ZXJhY3Rpb246MTQwMTIzNDU2Nzg5MDEyMzQ1Ng",
        "type": 2,
        "version": 1
    })
}

/// The same command sent from a DM with the bot: `user` instead of `member`, no guild.
pub fn dm_command(data: Value) -> Value {
    let mut payload = guild_command(data);
    let object = payload.as_object_mut().unwrap();
    for field in ["guild", "guild_id", "guild_locale", "member"] {
        object.remove(field);
    }
    object.insert("context".into(), json!(1));
    object.insert("user".into(), json!({ "id": USER_ID, "username": "alice", "discriminator": "0" }));
    payload
}

/// `data` of a slash command with these options.
pub fn command_data(name: &str, options: Value) -> Value {
    json!({ "id": "1601234567890123456", "name": name, "type": 1, "options": options })
}

pub const ADDRESS: &str = "0x52908400098527886E0F7030069857D2E4169EE7";

/// A `/mod operator-info` invocation (an ephemeral reply from the recording handler).
pub fn mod_operator_info() -> Value {
    command_data(
        "mod",
        json!([{ "name": "operator-info", "type": 1, "options": [{ "name": "user", "type": 6, "value": USER_ID }] }]),
    )
}

/// Whether `command` is the `/mod operator-info` of [`mod_operator_info`].
pub fn is_operator_info_for_user(command: &Command) -> bool {
    matches!(command, Command::Mod(ModCommand::OperatorInfo { user }) if user.to_string() == USER_ID)
}
