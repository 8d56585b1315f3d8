//! A local Discord for the REST client: HTTPS on 127.0.0.1 (see [`super::tls`]), every request
//! checked against the vendored OpenAPI excerpt and the bot's credentials, rate limits played by
//! [`RateModel`], 429s and 5xx injected from a seeded RNG (neither applies the request), and the
//! effects of the requests that get through applied to a small guild.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};
use sparta_bot::{DiscordRest, RestConfig};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::{Instant, timeout};
use tokio_rustls::TlsAcceptor;

use super::limits::{Limits, RateModel, seconds};
use super::tls::TestPki;
use crate::schema::{OpenApi, Operation};

pub const TOKEN: &str = "MTEwMDAwMDAwMDAwMDAwMDAwMQ.test.bot-token";
pub const APPLICATION_ID: u64 = 1_100_000_000_000_000_001;
pub const BOT_USER_ID: u64 = 1_100_000_000_000_000_001;
pub const GUILD_ID: u64 = 1_110_000_000_000_000_000;

/// Request bodies past this are refused (ours are a few KiB at most).
const MAX_BODY: usize = 256 * 1024;
/// Connections served at once; more are closed on accept.
const MAX_CONNECTIONS: usize = 32;
/// A connection lives at most this long (TLS handshake: a tenth of it).
const CONNECTION_LIFETIME: Duration = Duration::from_secs(60);
/// Requests remembered in the log.
const MAX_LOGGED: usize = 10_000;
/// Discord's real limit on `content` (the description says 4000, the docs and the API 2000).
const MAX_CONTENT_CHARS: usize = 2000;

/// How often the double fails a request on purpose.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Chance of a 429 for a request within its limits.
    pub p_429: f64,
    /// Of those 429s, the share that are global.
    pub p_global: f64,
    /// Chance of a 500, 502 or 503.
    pub p_5xx: f64,
}

/// The guild as Discord knows it.
#[derive(Clone, Debug, Default)]
pub struct World {
    pub members: BTreeSet<u64>,
    pub roles: BTreeSet<u64>,
    /// Roles above the bot's: changing them is a 403.
    pub forbidden_roles: BTreeSet<u64>,
    pub channels: BTreeSet<u64>,
    /// Members who do not accept DMs from the bot.
    pub closed_dms: BTreeSet<u64>,
    /// (user, role) pairs held at the start.
    pub held: BTreeSet<(u64, u64)>,
}

#[derive(Clone, Debug)]
pub struct DoubleConfig {
    pub seed: u64,
    pub faults: Faults,
    pub limits: Limits,
    pub world: World,
}

impl Default for DoubleConfig {
    fn default() -> Self {
        Self {
            seed: 7,
            faults: Faults::default(),
            limits: Limits { bucket_limit: 5, bucket_window: Duration::from_millis(250), global_per_s: 50 },
            world: World::default(),
        }
    }
}

/// A role change the double applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleChange {
    pub add: bool,
    pub user: u64,
    pub role: u64,
    /// The decoded `X-Audit-Log-Reason`.
    pub reason: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Message {
    pub id: u64,
    pub content: String,
    pub nonce: Option<String>,
    pub allowed_mentions: Value,
}

#[derive(Clone, Debug)]
pub struct Logged {
    pub method: String,
    pub path: String,
    pub status: u16,
}

/// Everything the double saw and did, for assertions.
#[derive(Clone, Debug, Default)]
pub struct Seen {
    pub held: BTreeSet<(u64, u64)>,
    pub role_changes: Vec<RoleChange>,
    /// Channel -> messages in it.
    pub messages: BTreeMap<u64, Vec<Message>>,
    /// User -> their DM channel.
    pub dm_channels: BTreeMap<u64, u64>,
    /// (application id, interaction token, the answer) of every deferred answer delivered.
    pub originals: Vec<(u64, String, Message)>,
    /// Scope (`None`: global) -> the registered commands, as answered.
    pub commands: BTreeMap<Option<u64>, Vec<Value>>,
    /// Requests that broke the description, the credentials rules or a rate limit.
    pub violations: Vec<String>,
    pub requests: Vec<Logged>,
    pub injected_429: u32,
    pub injected_global_429: u32,
    pub injected_5xx: u32,
    /// Applied requests answered with a 502 on purpose.
    pub lost: u32,
    /// Messages not created again because of an enforced nonce.
    pub nonce_repeats: u32,
}

impl Seen {
    pub fn all_messages(&self) -> impl Iterator<Item = &Message> {
        self.messages.values().flatten()
    }
}

struct Inner {
    seen: Seen,
    rate: RateModel,
    rng: ChaCha8Rng,
    /// Operation id -> how many more applied requests to answer with a 502.
    lose: BTreeMap<String, u32>,
    next_id: u64,
}

impl Inner {
    fn violate(&mut self, what: String) {
        if self.seen.violations.len() < MAX_LOGGED {
            self.seen.violations.push(what);
        }
    }

    fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
}

struct Shared {
    openapi: OpenApi,
    base_path: String,
    world: World,
    faults: Faults,
    inner: Mutex<Inner>,
}

/// The running double; stops when dropped.
pub struct Double {
    addr: SocketAddr,
    pki: TestPki,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

impl Drop for Double {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Double {
    pub async fn start(config: DoubleConfig) -> Self {
        let openapi = OpenApi::load();
        let base_path = openapi.base_path().to_string();
        let inner = Inner {
            seen: Seen { held: config.world.held.clone(), ..Seen::default() },
            rate: RateModel::new(config.limits),
            rng: ChaCha8Rng::seed_from_u64(config.seed),
            lose: BTreeMap::new(),
            next_id: 1_300_000_000_000_000_000,
        };
        let shared = Arc::new(Shared {
            openapi,
            base_path,
            world: config.world,
            faults: config.faults,
            inner: Mutex::new(inner),
        });
        let pki = TestPki::new();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = axum::Router::new().fallback(handle).with_state(shared.clone());
        let server = tokio::spawn(serve(listener, TlsAcceptor::from(pki.server.clone()), router));
        Self { addr, pki, shared, server }
    }

    /// A REST sink whose requests reach this double.
    pub fn rest(&self, config: RestConfig) -> DiscordRest {
        DiscordRest::with_client(config, self.pki.client(self.addr)).unwrap()
    }

    pub fn seen(&self) -> Seen {
        self.inner().seen.clone()
    }

    /// Applies the next `n` requests of `operation_id` that succeed but answers them with a 502,
    /// as when a response is lost on the way back.
    pub fn lose_next(&self, operation_id: &str, n: u32) {
        self.inner().lose.insert(operation_id.to_string(), n);
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.shared.inner.lock().unwrap()
    }
}

/// Accepts TLS connections and serves HTTP/1.1 on each, all bounded; stops with its task, taking
/// the connections with it.
async fn serve(listener: TcpListener, acceptor: TlsAcceptor, router: axum::Router) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut connections = JoinSet::new();
    loop {
        let Ok((tcp, _)) = listener.accept().await else { continue };
        while connections.try_join_next().is_some() {}
        let Ok(slot) = slots.clone().try_acquire_owned() else { continue };
        let (acceptor, router) = (acceptor.clone(), router.clone());
        connections.spawn(async move {
            let _slot = slot;
            let Ok(Ok(tls)) = timeout(CONNECTION_LIFETIME / 10, acceptor.accept(tcp)).await else { return };
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tls), TowerToHyperService::new(router));
            let _ = timeout(CONNECTION_LIFETIME, connection).await;
        });
    }
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let reply = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(body) => {
            let mut inner = shared.inner.lock().unwrap();
            let reply = shared.answer(&mut inner, &parts, &body);
            if inner.seen.requests.len() < MAX_LOGGED {
                let (method, path) = (parts.method.to_string(), parts.uri.path().to_string());
                inner.seen.requests.push(Logged { method, path, status: reply.status });
            }
            reply
        }
        Err(_) => Reply::error(413, 40005, "Request entity too large"),
    };
    reply.into_response()
}

/// A response in the making.
#[derive(Debug)]
struct Reply {
    status: u16,
    body: Option<Value>,
    headers: Vec<(&'static str, String)>,
}

impl Reply {
    fn ok(body: Value) -> Self {
        Self { status: 200, body: Some(body), headers: Vec::new() }
    }

    fn no_content() -> Self {
        Self { status: 204, body: None, headers: Vec::new() }
    }

    /// Discord's JSON error body.
    fn error(status: u16, code: u32, message: &str) -> Self {
        Self { status, body: Some(json!({ "message": message, "code": code })), headers: Vec::new() }
    }

    fn rate_limited(retry_after: Duration, global: bool) -> Self {
        let body = json!({
            "message": "You are being rate limited.",
            "retry_after": retry_after.as_secs_f64(),
            "global": global,
            "code": 0,
        });
        // Discord's header is whole seconds; fractions keep these tests fast and serenity reads
        // the header as a float.
        let mut headers = vec![("retry-after", seconds(retry_after))];
        if global {
            headers.push(("x-ratelimit-global", "true".into()));
            headers.push(("x-ratelimit-scope", "global".into()));
        } else {
            headers.push(("x-ratelimit-scope", "user".into()));
        }
        Self { status: 429, body: Some(body), headers }
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap();
        let mut response = match self.body {
            Some(body) => (status, axum::Json(body)).into_response(),
            None => status.into_response(),
        };
        for (name, value) in self.headers {
            response
                .headers_mut()
                .insert(HeaderName::from_static(name), HeaderValue::from_str(&value).unwrap());
        }
        response
    }
}

fn header<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts.headers.get(name).and_then(|v| v.to_str().ok())
}

/// Discord buckets a route per major parameter: the guild, channel or webhook in its path.
fn bucket_key(operation: &Operation<'_>) -> String {
    let major = ["guild_id", "channel_id", "webhook_id"].iter().find_map(|p| operation.params.get(*p));
    format!("{} {}", operation.template, major.map_or("", String::as_str))
}

impl Shared {
    fn answer(&self, inner: &mut Inner, parts: &Parts, body: &Bytes) -> Reply {
        let now = Instant::now();
        let method = parts.method.as_str();
        let full_path = parts.uri.path();
        let Some(path) = full_path.strip_prefix(self.base_path.as_str()) else {
            inner.violate(format!("{method} {full_path}: outside {}", self.base_path));
            return Reply::error(404, 0, "404: Not Found");
        };
        let operation = match self.openapi.operation(method, path) {
            Ok(operation) => operation,
            Err(problem) => {
                inner.violate(format!("{method} {full_path}: {problem}"));
                return Reply::error(404, 0, "404: Not Found");
            }
        };
        let name = format!("{method} {}", operation.template);
        if header(parts, "authorization") != Some(format!("Bot {TOKEN}").as_str()) {
            inner.violate(format!("{name}: no `Authorization: Bot <token>`"));
            return Reply::error(401, 0, "401: Unauthorized");
        }
        let (body, reason, problems) = self.check(&operation, parts, body);
        if !problems.is_empty() {
            for problem in problems {
                inner.violate(format!("{name}: {problem}"));
            }
            return Reply::error(400, 50035, "Invalid Form Body");
        }

        let key = bucket_key(&operation);
        let mut reply = match inner.rate.admit(&key, now) {
            Err(violation) => {
                inner.violate(format!("{name}: {}", violation.reason));
                Reply::rate_limited(violation.retry_after, violation.global)
            }
            Ok(()) => self.inject(inner, &key, now).unwrap_or_else(|| {
                let reply = self.apply(inner, &operation, &body, reason);
                let lose = inner.lose.get_mut(operation.id()).filter(|n| **n > 0);
                match lose {
                    Some(remaining) if reply.status < 300 => {
                        *remaining -= 1;
                        inner.seen.lost += 1;
                        Reply::error(502, 0, "502: Bad Gateway")
                    }
                    _ => reply,
                }
            }),
        };
        reply.headers.extend(inner.rate.headers(&key, now).pairs());
        reply
    }

    /// Checks a request against the description and Discord's rules; returns its JSON body, its
    /// decoded audit-log reason, and every problem found.
    fn check(
        &self,
        operation: &Operation<'_>,
        parts: &Parts,
        body: &Bytes,
    ) -> (Value, Option<String>, Vec<String>) {
        let mut problems = self.openapi.path_violations(operation);
        if !header(parts, "user-agent").is_some_and(|agent| agent.starts_with("DiscordBot (")) {
            problems.push("no `User-Agent: DiscordBot (url, version)`".into());
        }
        if parts.uri.query().is_some() {
            problems.push("a query string the operation does not declare".into());
        }
        let mut json = Value::Null;
        match self.openapi.request_body(operation) {
            Some(schema) => {
                if header(parts, "content-type") != Some("application/json") {
                    problems.push("body without `Content-Type: application/json`".into());
                }
                match serde_json::from_slice(body) {
                    Ok(value) => {
                        problems.extend(self.openapi.violations(schema, &value));
                        json = value;
                    }
                    Err(_) if body.is_empty() && !self.openapi.body_required(operation) => {}
                    Err(e) => problems.push(format!("body is not JSON: {e}")),
                }
            }
            None if !body.is_empty() => problems.push("a body on an operation that takes none".into()),
            None => {}
        }
        let mut reason = None;
        if operation.template.contains("/roles/") {
            match header(parts, "x-audit-log-reason").map(percent_decode) {
                Some(Some(text)) if (1..=512).contains(&text.chars().count()) => reason = Some(text),
                Some(_) => problems.push("X-Audit-Log-Reason is not 1 to 512 URL-encoded characters".into()),
                None => problems.push("a role change without X-Audit-Log-Reason".into()),
            }
        }
        (json, reason, problems)
    }

    /// A 429 or 5xx the dice chose, or `None`. Neither applies the request.
    fn inject(&self, inner: &mut Inner, key: &str, now: Instant) -> Option<Reply> {
        let roll: f64 = inner.rng.random();
        if roll < self.faults.p_429 {
            let global = inner.rng.random::<f64>() < self.faults.p_global;
            let retry_after = Duration::from_millis(inner.rng.random_range(10..=60));
            inner.rate.announce(key, now, retry_after, global);
            inner.seen.injected_429 += 1;
            inner.seen.injected_global_429 += u32::from(global);
            Some(Reply::rate_limited(retry_after, global))
        } else if roll < self.faults.p_429 + self.faults.p_5xx {
            inner.seen.injected_5xx += 1;
            let (status, message) = [
                (500, "500: Internal Server Error"),
                (502, "502: Bad Gateway"),
                (503, "503: Service Unavailable"),
            ][inner.rng.random_range(0..3)];
            Some(Reply::error(status, 0, message))
        } else {
            None
        }
    }

    /// Applies a request that got through, as Discord would.
    fn apply(
        &self,
        inner: &mut Inner,
        operation: &Operation<'_>,
        body: &Value,
        reason: Option<String>,
    ) -> Reply {
        let param = |name: &str| operation.params.get(name).and_then(|v| v.parse::<u64>().ok());
        let world = &self.world;
        match operation.id() {
            "add_guild_member_role" | "delete_guild_member_role" => {
                let (user, role) = (param("user_id").unwrap(), param("role_id").unwrap());
                if param("guild_id") != Some(GUILD_ID) {
                    return Reply::error(404, 10004, "Unknown Guild");
                }
                if !world.members.contains(&user) {
                    return Reply::error(404, 10007, "Unknown Member");
                }
                if !world.roles.contains(&role) {
                    return Reply::error(404, 10011, "Unknown Role");
                }
                if world.forbidden_roles.contains(&role) {
                    return Reply::error(403, 50013, "Missing Permissions");
                }
                let add = operation.id() == "add_guild_member_role";
                if add {
                    inner.seen.held.insert((user, role));
                } else {
                    inner.seen.held.remove(&(user, role));
                }
                inner.seen.role_changes.push(RoleChange { add, user, role, reason });
                Reply::no_content()
            }
            "get_guild_member" => {
                let user = param("user_id").unwrap();
                if param("guild_id") != Some(GUILD_ID) {
                    return Reply::error(404, 10004, "Unknown Guild");
                }
                if !world.members.contains(&user) {
                    return Reply::error(404, 10007, "Unknown Member");
                }
                let roles: Vec<String> =
                    inner.seen.held.iter().filter(|(u, _)| *u == user).map(|(_, r)| r.to_string()).collect();
                Reply::ok(member_json(user, roles))
            }
            "create_dm" => {
                let user = body["recipient_id"].as_str().and_then(|v| v.parse::<u64>().ok());
                let Some(user) = user.filter(|u| world.members.contains(u)) else {
                    return Reply::error(400, 50033, "Invalid Recipient(s)");
                };
                let channel = match inner.seen.dm_channels.get(&user) {
                    Some(channel) => *channel,
                    None => {
                        let channel = inner.next_id();
                        inner.seen.dm_channels.insert(user, channel);
                        channel
                    }
                };
                Reply::ok(private_channel_json(channel, user))
            }
            "create_message" => {
                let channel = param("channel_id").unwrap();
                let dm_user = inner.seen.dm_channels.iter().find(|(_, c)| **c == channel).map(|(u, _)| *u);
                if !world.channels.contains(&channel) && dm_user.is_none() {
                    return Reply::error(404, 10003, "Unknown Channel");
                }
                if dm_user.is_some_and(|user| world.closed_dms.contains(&user)) {
                    return Reply::error(403, 50007, "Cannot send messages to this user");
                }
                let content = body["content"].as_str().unwrap_or_default().to_string();
                if content.chars().count() > MAX_CONTENT_CHARS {
                    inner.violate(format!("a message of {} characters", content.chars().count()));
                    return Reply::error(400, 50035, "Invalid Form Body");
                }
                let nonce = body["nonce"].as_str().map(str::to_string);
                if body["enforce_nonce"] == json!(true) && nonce.is_some() {
                    let existing =
                        inner.seen.messages.get(&channel).into_iter().flatten().find(|m| m.nonce == nonce);
                    if let Some(existing) = existing.cloned() {
                        inner.seen.nonce_repeats += 1;
                        return Reply::ok(message_json(channel, &existing));
                    }
                }
                let message = Message {
                    id: inner.next_id(),
                    content,
                    nonce,
                    allowed_mentions: body["allowed_mentions"].clone(),
                };
                let answer = message_json(channel, &message);
                inner.seen.messages.entry(channel).or_default().push(message);
                Reply::ok(answer)
            }
            "bulk_set_application_commands" | "bulk_set_guild_application_commands" => {
                if param("application_id") != Some(APPLICATION_ID) {
                    return Reply::error(403, 50001, "Missing Access");
                }
                let guild = param("guild_id");
                if guild.is_some_and(|g| g != GUILD_ID) {
                    return Reply::error(404, 10004, "Unknown Guild");
                }
                let sent = body.as_array().cloned().unwrap_or_default();
                let registered: Vec<Value> = sent
                    .into_iter()
                    .map(|command| registered_command(command, guild, inner.next_id()))
                    .collect();
                inner.seen.commands.insert(guild, registered.clone());
                Reply::ok(Value::Array(registered))
            }
            "get_my_oauth2_application" => Reply::ok(application_json()),
            "update_original_webhook_message" => {
                if param("webhook_id") != Some(APPLICATION_ID) {
                    return Reply::error(404, 10015, "Unknown Webhook");
                }
                let token = operation.params.get("webhook_token").cloned().unwrap_or_default();
                let message = Message {
                    id: inner.next_id(),
                    content: body["content"].as_str().unwrap_or_default().to_string(),
                    nonce: None,
                    allowed_mentions: body["allowed_mentions"].clone(),
                };
                let answer = message_json(1, &message);
                inner.seen.originals.push((APPLICATION_ID, token, message));
                Reply::ok(answer)
            }
            other => {
                inner.violate(format!("{other}: the double does not model it"));
                Reply::error(404, 0, "404: Not Found")
            }
        }
    }
}

fn user_json(id: u64, bot: bool) -> Value {
    json!({
        "id": id.to_string(),
        "username": if bot { "sparta".to_string() } else { format!("member{}", id % 1000) },
        "avatar": null,
        "discriminator": "0",
        "public_flags": 0,
        "flags": 0,
        "bot": bot,
        "banner": null,
        "accent_color": null,
        "global_name": null,
    })
}

/// A DM channel as `POST /users/@me/channels` answers it.
/// A guild member as `GET /guilds/{guild_id}/members/{user_id}` answers it.
fn member_json(user: u64, roles: Vec<String>) -> Value {
    json!({
        "user": user_json(user, false),
        "nick": null,
        "avatar": null,
        "banner": null,
        "roles": roles,
        "joined_at": "2025-01-01T00:00:00.000000+00:00",
        "premium_since": null,
        "deaf": false,
        "mute": false,
        "flags": 0,
        "pending": false,
        "communication_disabled_until": null,
    })
}

fn private_channel_json(channel: u64, user: u64) -> Value {
    json!({
        "id": channel.to_string(),
        "type": 1,
        "last_message_id": null,
        "flags": 0,
        "recipients": [user_json(user, false)],
    })
}

/// A message as `POST /channels/{id}/messages` answers it.
fn message_json(channel: u64, message: &Message) -> Value {
    json!({
        "id": message.id.to_string(),
        "type": 0,
        "content": message.content,
        "channel_id": channel.to_string(),
        "author": user_json(BOT_USER_ID, true),
        "attachments": [],
        "embeds": [],
        "mentions": [],
        "mention_roles": [],
        "pinned": false,
        "mention_everyone": false,
        "tts": false,
        "timestamp": "2025-06-15T12:00:00.000000+00:00",
        "edited_timestamp": null,
        "flags": 0,
        "components": [],
        "nonce": message.nonce,
    })
}

/// A command as the bulk overwrite answers it: what was sent, plus Discord's fields.
fn registered_command(mut command: Value, guild: Option<u64>, id: u64) -> Value {
    let object = command.as_object_mut().expect("commands are objects (checked by the schema)");
    object.insert("id".into(), json!(id.to_string()));
    object.insert("application_id".into(), json!(APPLICATION_ID.to_string()));
    object.insert("version".into(), json!(id.to_string()));
    object.entry("type").or_insert(json!(1));
    object.entry("default_member_permissions").or_insert(Value::Null);
    object.entry("nsfw").or_insert(json!(false));
    if let Some(guild) = guild {
        object.insert("guild_id".into(), json!(guild.to_string()));
    }
    command
}

fn application_json() -> Value {
    json!({
        "id": APPLICATION_ID.to_string(),
        "name": "sparta",
        "icon": null,
        "description": "",
        "type": null,
        "bot": user_json(BOT_USER_ID, true),
        "bot_public": false,
        "bot_require_code_grant": false,
        "verify_key": "1e0a356058d627ca38a5c8c9648818061d49e49bd9da9e3ab17d98ad4d6b2c8a",
        "flags": 0,
        "team": null,
        "owner": user_json(1_000_000_000_000_000_001, false),
    })
}

/// `%XX`-decoding (what serenity encodes the audit-log reason with); `None` if not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_log_reasons_decode() {
        assert_eq!(percent_decode("missed%200%20of%2032%20%E2%9C%93").as_deref(), Some("missed 0 of 32 ✓"));
        assert_eq!(percent_decode("%E2%9C").as_deref(), None);
        assert_eq!(percent_decode("%4").as_deref(), None);
    }

    #[test]
    fn answers_are_what_serenity_reads() {
        let message =
            Message { id: 5, content: "hi".into(), nonce: Some("n".into()), allowed_mentions: Value::Null };
        let parsed: serenity::all::Message = serde_json::from_value(message_json(9, &message)).unwrap();
        assert_eq!((parsed.id.get(), parsed.channel_id.get(), parsed.content.as_str()), (5, 9, "hi"));
        let channel: serenity::all::PrivateChannel =
            serde_json::from_value(private_channel_json(3, 4)).unwrap();
        assert_eq!((channel.id.get(), channel.recipient.id.get()), (3, 4));
        let app: serenity::all::CurrentApplicationInfo = serde_json::from_value(application_json()).unwrap();
        assert_eq!(app.id.get(), APPLICATION_ID);
        let command = registered_command(json!({ "name": "x", "description": "y" }), Some(GUILD_ID), 8);
        let command: serenity::all::Command = serde_json::from_value(command).unwrap();
        assert_eq!(command.guild_id.map(|g| g.get()), Some(GUILD_ID));
    }
}
