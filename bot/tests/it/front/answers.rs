//! What each command answers, from an in-memory backend: content, privacy, and failure handling.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use sparta_bot::{
    AlertsCommand, Command, CommandHandler, Front, FrontConfig, Invocation, ModCommand, PlannedRoleChange,
    Reply, Snowflake, Standing,
};
use sparta_core::Address;

use super::memory::{MemoryBackend, START_MS, validator};

const USER: u64 = 1_301_234_567_890_123_456;
const MODERATOR_ROLE: u64 = 1_201_234_567_890_123_456;

fn front(backend: &Arc<MemoryBackend>) -> Front {
    let config = FrontConfig { moderator_roles: vec![Snowflake(MODERATOR_ROLE)], ..FrontConfig::default() };
    Front::new(backend.clone(), config)
}

async fn ask(front: &Front, command: Command) -> Reply {
    ask_as(front, command, vec![]).await
}

async fn ask_as(front: &Front, command: Command, member_roles: Vec<Snowflake>) -> Reply {
    let invocation =
        Invocation { user_id: Snowflake(USER), member_roles, guild_id: Some(Snowflake(7)), command };
    front.handle(invocation).await
}

#[tokio::test]
async fn my_stats_without_a_link_explains_how_to_link() {
    let backend = Arc::new(MemoryBackend::new());
    let reply = ask(&front(&backend), Command::MyStats).await;
    assert!(reply.ephemeral);
    assert!(reply.content.contains("`/register address`"), "{}", reply.content);
}

#[tokio::test]
async fn my_stats_shows_every_linked_validator_with_role_bar_trend_risk_and_freshness() {
    let backend = Arc::new(MemoryBackend::new());
    let (good, poor, unseen) = (Address::repeat_byte(1), Address::repeat_byte(2), Address::repeat_byte(3));
    backend.with(|m| {
        m.validators.insert(good, validator(1, 1, 60, &[(0, 10), (1, 10)]));
        let mut weak = validator(2, 30, 60, &[(0, 10), (8, 10)]);
        weak.alerts = vec!["attestation-misses".into()];
        m.validators.insert(poor, weak);
        for v in [good, poor, unseen] {
            m.links.insert(v, USER.to_string());
        }
        m.links.insert(Address::repeat_byte(9), "someone else".into());
        m.roles.insert(USER.to_string(), vec!["performant".into()]);
    });
    let reply = ask(&front(&backend), Command::MyStats).await;
    let text = &reply.content;
    assert!(reply.ephemeral, "stats are the operator's own business");
    assert!(text.contains("as of slot 200, 12 s ago"), "{text}");
    assert!(text.contains("roles held: `performant`"), "{text}");
    assert!(text.contains(&format!("{good:#x}")) && text.contains(&format!("{poor:#x}")), "{text}");
    assert!(!text.contains(&format!("{:#x}", Address::repeat_byte(9))), "only the invoker's validators");
    assert!(text.contains("attestations: 30/60 missed (50.0 %)"), "{text}");
    assert!(text.contains("below `performant`: needs attestation misses ≤ 7.0 % (now 50.0 %)"), "{text}");
    assert!(text.contains("meets `performant`"), "{text}");
    assert!(text.contains("alerts firing: attestation-misses"), "{text}");
    assert!(text.contains("inactive in epoch 2 (80.0 % missed); one more epoch at ≥ 70.0 %"), "{text}");
    assert!(text.contains("epochs 1–2 ▁▇"), "{text}");
    assert!(text.contains(&format!("Not seen on a committee in the window yet: {unseen:#x}")), "{text}");
}

#[tokio::test]
async fn a_long_answer_stays_within_discords_message_limit() {
    let backend = Arc::new(MemoryBackend::new());
    backend.with(|m| {
        for byte in 1..=40u8 {
            let v = Address::repeat_byte(byte);
            m.validators.insert(v, validator(byte, 3, 60, &[(1, 10); 8]));
            m.links.insert(v, USER.to_string());
        }
    });
    let reply = ask(&front(&backend), Command::MyStats).await;
    assert!(reply.content.chars().count() <= 2000, "{} chars", reply.content.chars().count());
    assert!(reply.content.contains(&format!("{:#x}", Address::repeat_byte(1))));
}

#[tokio::test]
async fn validator_is_public_and_hides_the_owners_business() {
    let backend = Arc::new(MemoryBackend::new());
    let address = Address::repeat_byte(4);
    backend.with(|m| {
        let mut slashed = validator(4, 2, 40, &[]);
        slashed.standing = Standing::Slashed;
        slashed.alerts = vec!["slashed".into()];
        m.validators.insert(address, slashed);
        m.links.insert(address, USER.to_string());
    });
    let reply = ask(&front(&backend), Command::Validator { address }).await;
    assert!(!reply.ephemeral);
    assert!(reply.content.contains("**slashed**"), "{}", reply.content);
    assert!(
        !reply.content.contains("alerts") && !reply.content.contains(&USER.to_string()),
        "{}",
        reply.content
    );
    let unknown = ask(&front(&backend), Command::Validator { address: Address::repeat_byte(5) }).await;
    assert!(
        unknown.ephemeral && unknown.content.contains("has not been on a committee"),
        "{}",
        unknown.content
    );
}

#[tokio::test]
async fn chain_info_reports_position_checkpoints_committee_and_freshness() {
    let backend = Arc::new(MemoryBackend::new());
    let reply = ask(&front(&backend), Command::ChainInfo).await;
    for expected in
        ["epoch 6 · slot 203", "pending 41 · proven 39", "committee: 48", "as of slot 200, 12 s ago"]
    {
        assert!(reply.content.contains(expected), "{expected:?} in {}", reply.content);
    }
}

#[tokio::test]
async fn alert_preferences_are_stored_per_operator() {
    let backend = Arc::new(MemoryBackend::new());
    let front = front(&backend);
    let prefs = || backend.with(|m| m.prefs.get(&USER.to_string()).cloned().unwrap());
    assert!(ask(&front, Command::Alerts(AlertsCommand::Mute)).await.ephemeral);
    assert!(prefs().muted);
    let snooze =
        ask(&front, Command::Alerts(AlertsCommand::Snooze { duration: Duration::from_secs(7200) })).await;
    assert!(snooze.content.contains("2 h"), "{}", snooze.content);
    assert_eq!(prefs().snoozed_until_ms, Some(START_MS + 7_200_000));
    let threshold = ask(&front, Command::Alerts(AlertsCommand::Threshold { rate: 0.25 })).await;
    assert!(threshold.content.contains("25.0 %"), "{}", threshold.content);
    let after = prefs();
    assert!(!after.muted && after.snoozed_until_ms.is_none(), "a threshold turns alerts back on");
    assert_eq!(after.miss_rate_threshold, Some(0.25));
}

#[tokio::test]
async fn moderator_tools_need_a_moderator_role() {
    let backend = Arc::new(MemoryBackend::new());
    let front = front(&backend);
    let address = Address::repeat_byte(6);
    let link = || Command::Mod(ModCommand::Link { user: Snowflake(42), address });
    let refused = ask_as(&front, link(), vec![Snowflake(1)]).await;
    assert!(refused.ephemeral && refused.content.contains("for moderators"), "{}", refused.content);
    assert!(backend.with(|m| m.linked.is_empty()), "a refused /mod changes nothing");

    let done = ask_as(&front, link(), vec![Snowflake(MODERATOR_ROLE)]).await;
    assert!(done.content.contains("audited"), "{}", done.content);
    assert_eq!(backend.with(|m| m.linked.clone()), vec![("42".to_string(), address, Some(USER.to_string()))]);

    backend.with(|m| {
        m.validators.insert(address, validator(6, 0, 30, &[]));
        m.dry_run = vec![PlannedRoleChange {
            user: "42".into(),
            role: "performant".into(),
            grant: true,
            reason: "all validators perform".into(),
        }];
    });
    let info = ask_as(
        &front,
        Command::Mod(ModCommand::OperatorInfo { user: Snowflake(42) }),
        vec![Snowflake(MODERATOR_ROLE)],
    )
    .await;
    assert!(
        info.content.contains("1 linked validator(s)") && info.content.contains(&format!("{address:#x}")),
        "{}",
        info.content
    );
    let dry = ask_as(&front, Command::Mod(ModCommand::RolesDryRun), vec![Snowflake(MODERATOR_ROLE)]).await;
    assert!(dry.content.contains("+ `performant` for user 42 — all validators perform"), "{}", dry.content);
}

#[tokio::test]
async fn an_engine_that_does_not_answer_gets_a_polite_ephemeral_error() {
    let backend = Arc::new(MemoryBackend::new());
    backend.down.store(true, Ordering::SeqCst);
    for command in [Command::MyStats, Command::ChainInfo, Command::Validator { address: Address::ZERO }] {
        let reply = ask(&front(&backend), command).await;
        assert!(reply.ephemeral);
        assert!(reply.content.starts_with("sparta cannot answer right now"), "{}", reply.content);
        assert!(reply.content.contains("did not answer in time"), "{}", reply.content);
    }
}
