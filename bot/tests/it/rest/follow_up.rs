//! Deferred answers: a command slower than Discord's budget is acknowledged at once and answered
//! later through "edit original interaction response", checked against the description.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::json;
use sparta_bot::{
    CommandHandler, DiscordPublicKey, INTERACTIONS_PATH, InteractionsConfig, Invocation, Reply,
    interactions_router_with_clock,
};

use super::double::{APPLICATION_ID, Double, DoubleConfig, Faults};
use super::harness::{config, world};
use crate::interactions::harness::{NOW, command_data, discord_key, guild_command, post_signed};

const TOKEN: &str = "aW50ZXJhY3Rpb246MTQwMTIzNDU2Nzg5MDEyMzQ1Ng";

#[tokio::test]
async fn the_answer_edits_the_original_response_once_without_pinging() {
    let double = Double::start(DoubleConfig { world: world(), ..DoubleConfig::default() }).await;
    let rest = double.rest(config());
    let reply = Reply::ephemeral("hello @everyone <@1301234567890123456>");
    rest.edit_original(&APPLICATION_ID.to_string(), TOKEN, &reply).await.unwrap();
    let seen = double.seen();
    assert!(seen.violations.is_empty(), "violations:\n{}", seen.violations.join("\n"));
    assert_eq!(seen.originals.len(), 1);
    let (application, token, message) = &seen.originals[0];
    assert_eq!((*application, token.as_str()), (APPLICATION_ID, TOKEN));
    assert_eq!(message.content, reply.content);
    assert_eq!(message.allowed_mentions, json!({ "parse": [] }), "nobody is pinged");
    let path = format!("/api/v10/webhooks/{APPLICATION_ID}/{TOKEN}/messages/@original");
    assert_eq!(
        seen.requests.iter().map(|r| (r.method.as_str(), r.path.as_str())).collect::<Vec<_>>(),
        [("PATCH", path.as_str())]
    );
}

#[tokio::test]
async fn bad_ids_make_no_request_and_a_server_error_is_reported() {
    let faults = Faults { p_429: 0.0, p_global: 0.0, p_5xx: 1.0 };
    let double = Double::start(DoubleConfig { world: world(), faults, ..DoubleConfig::default() }).await;
    let rest = double.rest(config());
    let reply = Reply::public("answer");
    assert!(rest.edit_original("not-an-id", TOKEN, &reply).await.is_err());
    assert!(rest.edit_original(&APPLICATION_ID.to_string(), "../../x", &reply).await.is_err());
    assert!(double.seen().requests.is_empty(), "refused before any request");
    let failed = rest.edit_original(&APPLICATION_ID.to_string(), TOKEN, &reply).await;
    assert!(failed.is_err(), "a 5xx is an error for the caller to log");
    assert!(double.seen().originals.is_empty());
}

struct Slow;

#[async_trait]
impl CommandHandler for Slow {
    async fn handle(&self, _invocation: Invocation) -> Reply {
        tokio::time::sleep(Duration::from_millis(400)).await;
        Reply::public("the slow answer")
    }
}

#[tokio::test]
async fn a_deferred_command_is_answered_at_the_double() {
    let double = Double::start(DoubleConfig { world: world(), ..DoubleConfig::default() }).await;
    let key = DiscordPublicKey::from_bytes(discord_key().verifying_key().as_bytes()).unwrap();
    let mut endpoint = InteractionsConfig::new(key);
    endpoint.answer_within = Duration::from_millis(50);
    endpoint.follow_up = Some(Arc::new(double.rest(config())));
    let router = interactions_router_with_clock(endpoint, Arc::new(Slow), Arc::new(|| NOW));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}{INTERACTIONS_PATH}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    let mut payload = guild_command(command_data("chain-info", json!([])));
    payload["application_id"] = json!(APPLICATION_ID.to_string());
    let answer = post_signed(&url, &payload).await;
    assert_eq!(answer["type"], 5, "deferred: {answer}");
    for _ in 0..100 {
        if !double.seen().originals.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let seen = double.seen();
    assert!(seen.violations.is_empty(), "violations:\n{}", seen.violations.join("\n"));
    let contents: Vec<&str> = seen.originals.iter().map(|(_, _, m)| m.content.as_str()).collect();
    assert_eq!(contents, ["the slow answer"]);
}
