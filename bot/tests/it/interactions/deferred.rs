//! A command slower than Discord's 3 s budget: acknowledged at once with a deferred response, then
//! answered through the follow-up channel.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::json;
use sparta_bot::{
    CommandHandler, DiscordPublicKey, FollowUp, INTERACTIONS_PATH, InteractionsConfig, Invocation, Reply,
    interactions_router_with_clock,
};

use super::harness::{NOW, command_data, discord_key, guild_command, post_signed};

struct Slow(Duration);

#[async_trait]
impl CommandHandler for Slow {
    async fn handle(&self, invocation: Invocation) -> Reply {
        tokio::time::sleep(self.0).await;
        Reply::ephemeral(format!("slow answer to {}", invocation.command.name()))
    }
}

#[derive(Default)]
struct Recorder(Mutex<Vec<(String, String, Reply)>>);

#[async_trait]
impl FollowUp for Recorder {
    async fn edit_original(&self, application_id: &str, token: &str, reply: &Reply) -> Result<(), String> {
        self.0.lock().unwrap().push((application_id.into(), token.into(), reply.clone()));
        Ok(())
    }
}

async fn post(delay: Duration, follow_up: Arc<Recorder>) -> serde_json::Value {
    let key = DiscordPublicKey::from_bytes(discord_key().verifying_key().as_bytes()).unwrap();
    let mut config = InteractionsConfig::new(key);
    config.answer_within = Duration::from_millis(100);
    config.follow_up = Some(follow_up);
    let router = interactions_router_with_clock(config, Arc::new(Slow(delay)), Arc::new(|| NOW));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}{INTERACTIONS_PATH}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    post_signed(&url, &guild_command(command_data("my-stats", json!([])))).await
}

#[tokio::test]
async fn a_slow_command_is_deferred_then_answered_through_the_follow_up() {
    let follow_up = Arc::new(Recorder::default());
    let answer = post(Duration::from_millis(600), follow_up.clone()).await;
    assert_eq!(answer["type"], 5, "deferred: {answer}");
    assert_eq!(answer["data"]["flags"], 64, "my-stats is private, so the deferral is too: {answer}");
    assert!(follow_up.0.lock().unwrap().is_empty(), "the answer is not ready yet");
    for _ in 0..50 {
        if !follow_up.0.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let sent = follow_up.0.lock().unwrap().clone();
    assert_eq!(sent.len(), 1, "answered exactly once");
    let (application_id, token, reply) = &sent[0];
    assert_eq!(application_id, "1001234567890123456");
    assert!(!token.is_empty());
    assert_eq!(reply.content, "slow answer to my-stats");
}

#[tokio::test]
async fn a_fast_command_is_answered_in_the_response_itself() {
    let follow_up = Arc::new(Recorder::default());
    let answer = post(Duration::from_millis(1), follow_up.clone()).await;
    assert_eq!(answer["type"], 4, "{answer}");
    assert_eq!(answer["data"]["content"], "slow answer to my-stats");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(follow_up.0.lock().unwrap().is_empty(), "no follow-up for an answered command");
}
