//! What Discord refuses, and what cannot be sent at all, ends as `Rejected` after one attempt.

use std::time::Duration;

use sparta_bot::{DiscordAction, SinkError};

use super::double::{Double, DoubleConfig};
use super::harness::{CLOSED_DMS, MEMBER_BASE, config, deliver, member, world};

fn rejected_text(result: Result<(), SinkError>) -> String {
    match result {
        Err(SinkError::Rejected(text)) => text,
        other => panic!("expected Rejected, got {other:?}"),
    }
}

#[tokio::test]
async fn refusals_from_discord_are_rejected_without_a_retry() {
    let double = Double::start(DoubleConfig { world: world(), ..DoubleConfig::default() }).await;
    let rest = double.rest(config());
    let role = |user: u64, role: &str| DiscordAction::AddRole {
        user: user.to_string(),
        role: role.into(),
        reason: "test".into(),
    };
    let cases = [
        (role(member(1), "admin"), "403", "50013"),
        (role(member(1), "deleted"), "404", "10011"),
        (role(MEMBER_BASE + 500, "healthy"), "404", "10007"),
        (DiscordAction::ChannelPost { channel: "deleted".into(), content: "hi".into() }, "404", "10003"),
        (DiscordAction::DirectMessage { user: CLOSED_DMS.to_string(), content: "hi".into() }, "403", "50007"),
        (
            DiscordAction::DirectMessage { user: (MEMBER_BASE + 500).to_string(), content: "hi".into() },
            "400",
            "50033",
        ),
    ];
    let requests_per_case = [1, 1, 1, 1, 2, 1];
    tokio::time::timeout(Duration::from_secs(20), async {
        for ((action, status, code), requests) in cases.into_iter().zip(requests_per_case) {
            let made = double.seen().requests.len();
            let outcome = deliver(&rest, &action.idempotency_key("x"), &action, Duration::from_secs(5)).await;
            assert_eq!(outcome.attempts, 1, "{action:?}");
            let text = rejected_text(outcome.result);
            assert!(text.contains(status) && text.contains(code), "{action:?}: {text}");
            assert_eq!(double.seen().requests.len() - made, requests, "{action:?}");
        }
    })
    .await
    .expect("test took too long");
    let seen = double.seen();
    assert!(seen.violations.is_empty(), "violations:\n{}", seen.violations.join("\n"));
    assert!(seen.role_changes.is_empty() && seen.all_messages().next().is_none());
}

#[tokio::test]
async fn unsendable_actions_make_no_request() {
    let double = Double::start(DoubleConfig { world: world(), ..DoubleConfig::default() }).await;
    let rest = double.rest(config());
    let actions = [
        DiscordAction::AddRole { user: member(1).to_string(), role: "validator".into(), reason: "r".into() },
        DiscordAction::RemoveRole { user: "alice".into(), role: "healthy".into(), reason: "r".into() },
        DiscordAction::DirectMessage { user: format!("<@{}>", member(1)), content: "hi".into() },
        DiscordAction::DirectMessage { user: member(1).to_string(), content: "   ".into() },
        DiscordAction::ChannelPost { channel: "general".into(), content: "hi".into() },
    ];
    for action in actions {
        let outcome = deliver(&rest, "k", &action, Duration::from_secs(1)).await;
        assert_eq!(outcome.attempts, 1);
        let text = rejected_text(outcome.result);
        assert!(text.starts_with("not sent: "), "{text}");
    }
    assert!(double.seen().requests.is_empty(), "{:?}", double.seen().requests);
}
