//! Decisions reach Discord exactly once: through injected 429s and 5xx, with rate limits honoured,
//! and when an answer is lost after Discord acted.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde_json::json;
use sparta_bot::{DiscordAction, RATE_LIMITED_METRIC, REQUESTS_METRIC};

use super::double::{Double, DoubleConfig, Faults};
use super::harness::{ALERTS, HEALTHY, OPS, SEQUENCER, config, deliver, member, scraped_counter, world};
use super::limits::Limits;

/// Fails the test if `future` takes longer than `secs`.
async fn bounded<T>(secs: u64, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(secs), future).await.expect("test took too long")
}

fn rate_limited(scrape: &str, scope: &str) -> f64 {
    scraped_counter(scrape, &format!(r#"{RATE_LIMITED_METRIC}{{scope="{scope}"}}"#))
}

#[test]
fn the_rate_limited_metric_is_the_catalogs() {
    assert_eq!(RATE_LIMITED_METRIC, sparta_telemetry::catalog::DISCORD_RATE_LIMITED_TOTAL);
    assert_eq!(REQUESTS_METRIC, sparta_telemetry::catalog::DISCORD_REQUESTS_TOTAL);
    let def = sparta_telemetry::catalog::find(RATE_LIMITED_METRIC).unwrap();
    assert_eq!(def.labels, ["scope"]);
}

/// 60 role changes, 20 DMs and 10 channel posts, interleaved as one slot's decisions.
fn decisions() -> Vec<DiscordAction> {
    let mut roles = Vec::new();
    for i in 0..30 {
        let reason = format!("attested {i} of 32 slots ✓");
        roles.push(DiscordAction::AddRole { user: member(i).to_string(), role: "healthy".into(), reason });
        let reason = format!("sequencer {i} {}", if i < 15 { "left" } else { "joined" });
        roles.push(if i < 15 {
            DiscordAction::RemoveRole { user: member(i).to_string(), role: "sequencer".into(), reason }
        } else {
            DiscordAction::AddRole { user: member(i).to_string(), role: "sequencer".into(), reason }
        });
    }
    let dms = (0..20).map(|i| {
        let content = match i % 5 {
            0 => format!("@everyone validator {i} missed {}", "a slot, ".repeat(400)),
            1 => format!("<@{}> your validator {i} is back", member(i + 1)),
            _ => format!("validator {i} missed 3 attestations"),
        };
        DiscordAction::DirectMessage { user: member(i).to_string(), content }
    });
    let posts = (0..10).map(|i| DiscordAction::ChannelPost {
        channel: if i % 2 == 0 { "alerts" } else { "ops" }.into(),
        content: format!("slot {i}: committee changed"),
    });
    let mut others: Vec<DiscordAction> = dms.chain(posts).collect();
    let mut all = Vec::new();
    for (i, role) in roles.into_iter().enumerate() {
        all.push(role);
        if i % 2 == 1 && !others.is_empty() {
            all.push(others.remove(0));
        }
    }
    all.extend(others);
    all
}

#[tokio::test]
async fn every_decision_is_applied_exactly_once_under_injected_faults() {
    let telemetry = sparta_telemetry::install().unwrap();
    let before = telemetry.render();
    let mut world = world();
    world.held = (0..15).map(|i| (member(i), SEQUENCER)).collect();
    let double = Double::start(DoubleConfig {
        seed: 42,
        faults: Faults { p_429: 0.15, p_global: 0.3, p_5xx: 0.10 },
        // Tight enough that the role bucket runs dry and serenity has to wait for it.
        limits: Limits { bucket_limit: 3, bucket_window: Duration::from_millis(250), global_per_s: 50 },
        world,
    })
    .await;
    // Serenity repeats a 429'd request inside one call, outside our pacer: stay well under the
    // double's global 50/s so those repeats cannot add up to a breach.
    let mut config = config();
    config.global_per_s = 25;
    let rest = double.rest(config);
    let decisions = decisions();
    assert_eq!(decisions.len(), 90);

    let started = Instant::now();
    let mut attempts = 0;
    bounded(45, async {
        for action in &decisions {
            let key = action.idempotency_key("slot:100");
            let outcome = deliver(&rest, &key, action, Duration::from_secs(20)).await;
            assert!(outcome.result.is_ok(), "{action:?}: {outcome:?}");
            attempts += outcome.attempts;
        }
    })
    .await;
    let elapsed = started.elapsed();
    let seen = double.seen();
    println!(
        "{} decisions, {attempts} deliveries, {} requests in {elapsed:?}; injected {} 429s ({} global), {} 5xx",
        decisions.len(),
        seen.requests.len(),
        seen.injected_429,
        seen.injected_global_429,
        seen.injected_5xx
    );

    assert!(seen.violations.is_empty(), "violations:\n{}", seen.violations.join("\n"));
    let injected = (seen.injected_429, seen.injected_global_429, seen.injected_5xx);
    assert!(injected.0 > 5 && injected.1 > 0 && injected.2 > 5, "429s, global 429s, 5xx: {injected:?}");
    assert!(attempts > decisions.len() as u32, "5xx surface as Transient and are retried");

    // Roles: each change applied once, with its audit-log reason.
    let mut expected_changes = BTreeMap::new();
    for action in &decisions {
        if let DiscordAction::AddRole { user, role, reason }
        | DiscordAction::RemoveRole { user, role, reason } = action
        {
            let role = if role == "healthy" { HEALTHY } else { SEQUENCER };
            let add = matches!(action, DiscordAction::AddRole { .. });
            expected_changes.insert((add, user.parse::<u64>().unwrap(), role), reason.clone());
        }
    }
    assert_eq!(seen.role_changes.len(), 60);
    let applied: BTreeMap<_, _> =
        seen.role_changes.iter().map(|c| ((c.add, c.user, c.role), c.reason.clone().unwrap())).collect();
    assert_eq!(applied, expected_changes);
    let held: BTreeSet<_> =
        (0..30).map(|i| (member(i), HEALTHY)).chain((15..30).map(|i| (member(i), SEQUENCER))).collect();
    assert_eq!(seen.held, held);

    // Messages: one per decision, in the right channel, nobody pinged, never over 2000 characters.
    assert_eq!(seen.nonce_repeats, 0, "no answer was lost, so no repeat reached Discord");
    assert_eq!(seen.all_messages().count(), 30);
    for message in seen.all_messages() {
        assert_eq!(message.allowed_mentions, json!({ "parse": [] }));
        assert!(message.content.chars().count() <= 2000);
        assert!(message.nonce.as_ref().is_some_and(|n| n.len() <= 25));
    }
    for (i, action) in
        decisions.iter().filter(|a| matches!(a, DiscordAction::DirectMessage { .. })).enumerate()
    {
        let DiscordAction::DirectMessage { user, content } = action else { unreachable!() };
        let channel = seen.dm_channels[&user.parse::<u64>().unwrap()];
        let messages = &seen.messages[&channel];
        assert_eq!(messages.len(), 1, "DM {i}");
        if content.chars().count() > 2000 {
            assert!(messages[0].content.ends_with('…'));
            assert!(content.starts_with(messages[0].content.trim_end_matches('…')));
        } else {
            assert_eq!(&messages[0].content, content);
        }
    }
    assert_eq!(seen.messages[&ALERTS].len(), 5);
    assert_eq!(seen.messages[&OPS].len(), 5);
    let opened = seen.requests.iter().filter(|r| r.path.ends_with("/users/@me/channels") && r.status == 200);
    assert_eq!(opened.count(), 20, "a DM channel is opened once per user, then remembered");

    // Serenity's waits are counted: one per 429 it got, plus the pre-emptive ones for empty buckets.
    let after = telemetry.render();
    let delta = |scope| rate_limited(&after, scope) - rate_limited(&before, scope);
    let route_429s = f64::from(seen.injected_429 - seen.injected_global_429);
    println!(
        "waits counted: {} route ({route_429s} after a 429), {} global",
        delta("route"),
        delta("global")
    );
    assert!(delta("global") >= f64::from(seen.injected_global_429), "global waits are counted");
    assert!(delta("route") > route_429s, "pre-emptive waits are counted too");

    // Every request that reached our code is counted by outcome: each 2xx the double gave, and each
    // injected 5xx (a 429 serenity repeats inside one call, so only its final answer reaches us).
    let requests = |text: &str, prefix: &str| -> f64 {
        let series = format!(r#"{REQUESTS_METRIC}{{outcome="{prefix}"#);
        text.lines()
            .filter(|l| l.starts_with(&series))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    };
    let ok = seen.requests.iter().filter(|r| (200..300).contains(&r.status)).count() as f64;
    assert_eq!(requests(&after, "ok") - requests(&before, "ok"), ok, "one ok per 2xx answer");
    assert_eq!(
        requests(&after, "http_5") - requests(&before, "http_5"),
        f64::from(seen.injected_5xx),
        "one http_5xx per injected 5xx"
    );
}

#[tokio::test]
async fn a_lost_answer_does_not_post_twice() {
    let double = Double::start(DoubleConfig { world: world(), ..DoubleConfig::default() }).await;
    let rest = double.rest(config());
    let post =
        DiscordAction::ChannelPost { channel: "alerts".into(), content: "slot 9: proposer missed".into() };
    let dm =
        DiscordAction::DirectMessage { user: member(3).to_string(), content: "you missed slot 9".into() };
    bounded(20, async {
        double.lose_next("create_message", 1);
        let outcome = deliver(&rest, &post.idempotency_key("slot:9"), &post, Duration::from_secs(5)).await;
        assert!(outcome.result.is_ok() && outcome.attempts == 2, "{outcome:?}");

        double.lose_next("create_dm", 1);
        double.lose_next("create_message", 1);
        let outcome = deliver(&rest, &dm.idempotency_key("slot:9"), &dm, Duration::from_secs(5)).await;
        assert!(outcome.result.is_ok() && outcome.attempts == 3, "{outcome:?}");

        // The same decision delivered again later (an outbox replay) is still one message.
        deliver(&rest, &post.idempotency_key("slot:9"), &post, Duration::from_secs(5)).await.result.unwrap();
    })
    .await;
    let seen = double.seen();
    assert!(seen.violations.is_empty(), "violations:\n{}", seen.violations.join("\n"));
    assert_eq!(seen.lost, 3);
    assert_eq!(seen.messages[&ALERTS].len(), 1);
    assert_eq!(seen.messages[&seen.dm_channels[&member(3)]].len(), 1);
    assert_eq!(seen.nonce_repeats, 3, "the retries and the replay were answered with the first message");
}

#[tokio::test]
async fn requests_stay_under_the_global_limit() {
    let limits = Limits { bucket_limit: 1000, bucket_window: Duration::from_secs(1), global_per_s: 25 };
    let double = Double::start(DoubleConfig { world: world(), limits, ..DoubleConfig::default() }).await;
    let mut config = config();
    config.global_per_s = 20;
    let rest = double.rest(config);
    let started = Instant::now();
    bounded(20, async {
        for i in 0..30 {
            let post = DiscordAction::ChannelPost { channel: "ops".into(), content: format!("post {i}") };
            deliver(&rest, &post.idempotency_key("pace"), &post, Duration::from_secs(5))
                .await
                .result
                .unwrap();
        }
    })
    .await;
    let seen = double.seen();
    assert!(seen.violations.is_empty(), "violations:\n{}", seen.violations.join("\n"));
    assert!(started.elapsed() >= Duration::from_millis(29 * 50 - 20), "{:?}", started.elapsed());
}

#[tokio::test]
async fn the_double_catches_a_client_over_the_global_limit() {
    let limits = Limits { bucket_limit: 1000, bucket_window: Duration::from_secs(1), global_per_s: 10 };
    let double = Double::start(DoubleConfig { world: world(), limits, ..DoubleConfig::default() }).await;
    let mut config = config();
    config.global_per_s = 1000;
    let rest = double.rest(config);
    bounded(20, async {
        for i in 0..15 {
            let post = DiscordAction::ChannelPost { channel: "ops".into(), content: format!("post {i}") };
            deliver(&rest, &post.idempotency_key("burst"), &post, Duration::from_secs(5))
                .await
                .result
                .unwrap();
        }
    })
    .await;
    let seen = double.seen();
    assert!(seen.violations.iter().any(|v| v.contains("over the global limit")), "{:?}", seen.violations);
    // Serenity honoured the global 429 it got: waited, repeated, and the post went through once.
    assert_eq!(seen.messages[&OPS].len(), 15);
}
