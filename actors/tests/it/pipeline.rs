//! The pipeline end to end: slots in, Sentinel-equal stats, roles and alerts out; and a restart
//! that resumes where it stopped without repeating a message.

use sparta_bot::DiscordAction;
use sparta_core::Address;
use sparta_devnet::{DevnetConfig, Generation, Profile};

use crate::harness::Harness;

fn operator_of(h: &Harness, validator: Address) -> String {
    let scripted = h.devnet().network.scripted();
    let i = scripted.iter().position(|(v, _)| *v == validator).expect("scripted validator");
    format!("operator-{:03}", i + 1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_equal_the_node_and_each_profile_gets_its_decision() {
    let mut h = Harness::new().await;
    let engine = h.start_engine().await;
    h.advance_to(42);
    h.wait_for_checkpoint(40).await;
    h.assert_engine_equals_node(&engine).await;

    let roles = h
        .eventually("the slashed role", || async {
            let held = engine.held_roles().await.unwrap();
            held.iter().any(|r| r.role == "slashed").then_some(held)
        })
        .await;
    let alerts = engine.firing_alerts().await.unwrap();
    let holds = |user: &str, role: &str| roles.iter().any(|r| r.subject == user && r.role == role);
    let firing = |v: Address, kind: &str| {
        alerts.iter().any(|a| a.subject == format!("validator:{v:#x}") && a.kind == kind)
    };

    for (validator, profile) in h.devnet().network.scripted() {
        let stats = engine.validator(validator).await.unwrap().expect("tracked").stats;
        let user = operator_of(&h, validator);
        match profile {
            Profile::Reliable => {
                assert_eq!(stats.missed_attestations.count, 0, "{profile}");
                assert!(
                    holds(&user, "performant"),
                    "{profile}: {user} should hold the performance role; {stats:?} {roles:?}"
                );
            }
            Profile::Flaky { .. } => assert!(stats.missed_attestations.total > 0, "{profile}"),
            Profile::GoesOffline { .. } => {
                assert!(stats.missed_attestations.current_streak > 0, "{profile}: {stats:?}");
                assert!(firing(validator, "attestation-misses"), "{profile}: miss alert expected");
                assert!(!holds(&user, "performant"), "{profile}: must not hold the performance role");
            }
            Profile::Slashed { .. } => {
                assert!(firing(validator, "slashed"), "{profile}: slash alert expected");
                assert!(holds(&user, "slashed"), "{profile}: {user} should hold the slashed role");
                assert!(!holds(&user, "performant"), "{profile}");
            }
            Profile::Exits { .. } => {
                assert!(firing(validator, "status-changed"), "{profile}: exit alert expected");
                assert!(!holds(&user, "performant"), "{profile}");
            }
            Profile::Outage { .. } | Profile::Periodic { .. } => unreachable!("not in the default script"),
        }
    }
    let grants = h.sink.actions().iter().filter(|a| matches!(a, DiscordAction::AddRole { .. })).count();
    assert!(grants >= 2, "expected role grants, saw {grants}");
    engine.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_resumes_from_the_checkpoint_and_repeats_nothing() {
    let mut h = Harness::new().await;
    let engine = h.start_engine().await;
    h.advance_to(26);
    h.wait_for_checkpoint(24).await;
    engine.stop().await;
    let before = h.sink.actions().len();
    let checkpoint = h.store.checkpoint().await.unwrap().unwrap();

    let engine = h.start_engine().await;
    h.advance_to(50);
    h.wait_for_checkpoint(48).await;
    let status = engine.status().await.unwrap();
    assert!(status.checkpoint.unwrap() > checkpoint);
    h.assert_engine_equals_node(&engine).await;

    assert_eq!(engine.flush_outbox().await.unwrap(), 0);
    assert_eq!(h.sink.repeated_keys(), Vec::<String>::new(), "no decision reached Discord twice");
    for (action, count) in h.delivery_counts() {
        assert_eq!(count, 1, "delivered {count} times: {action}");
    }
    assert!(h.sink.actions().len() >= before);
    engine.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_history_stays_bounded_by_the_window() {
    let mut h = Harness::new().await;
    let mut config = h.engine_config();
    config.monitor.slot_window = 8;
    config.monitor.epoch_history = 2;
    let engine = h.start_engine_with(config).await;
    h.advance_to(66);
    h.wait_for_checkpoint(64).await;
    // window 8 + 2 epochs of 8 slots, trimmed at the last epoch end (slot 63), plus what came after
    // it. The trim is written after the checkpoint, so wait for it.
    let kept = h
        .eventually("the trim at the end of epoch 7", || async {
            let kept = h.store.slot_history(sparta_core::Slot(0)).await.unwrap();
            (kept.first().unwrap().slot.0 == 63 - 24).then_some(kept)
        })
        .await;
    assert!(kept.len() <= 24 + 8 + 2, "kept {} slots", kept.len());
    engine.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_v2_node_is_read_through_the_same_path() {
    let config = DevnetConfig { protocol: Generation::V2, ..crate::harness::devnet_config() };
    let mut h = Harness::with_devnet(config).await;
    let engine = h.start_engine().await;
    h.advance_to(30);
    h.wait_for_checkpoint(28).await;
    h.assert_engine_equals_node(&engine).await;
    let slashed =
        h.devnet().network.scripted().into_iter().find(|(_, p)| matches!(p, Profile::Slashed { .. }));
    let (slashed, _) = slashed.expect("a scripted slash");
    let alerts = engine.firing_alerts().await.unwrap();
    assert!(alerts.iter().any(|a| a.subject == format!("validator:{slashed:#x}") && a.kind == "slashed"));
    engine.stop().await;
}

/// Follows a network of `protocol` from genesis: every validator's stats equal that network's
/// Sentinel, and the scripted slash is warned of (its tally votes) before the `Slashed` alert.
async fn follows_from_genesis(protocol: Generation) {
    let config = DevnetConfig { protocol, ..crate::harness::devnet_config() };
    let mut h = Harness::with_devnet(config).await;
    let engine = h.start_engine().await;
    // Slot by slot, as a live network moves, through the votes (slots 17–19) and the slash (20).
    for slot in 2..=42 {
        h.advance_to(slot);
        h.settle(&engine, slot - 2).await;
    }
    let stored = h.store.slot_history(sparta_core::Slot(0)).await.unwrap();
    assert_eq!(stored.first().map(|f| f.slot), Some(sparta_core::Slot(0)), "{protocol}: from genesis");
    assert!(stored.iter().all(|f| f.generation == protocol), "{protocol}: judged by its own rule");
    h.assert_engine_equals_node(&engine).await;

    let (slashed, _) = h
        .devnet()
        .network
        .scripted()
        .into_iter()
        .find(|(_, p)| matches!(p, Profile::Slashed { .. }))
        .unwrap();
    let actions: Vec<String> = h
        .eventually("the slash alert", || async {
            engine.flush_outbox().await.unwrap();
            let actions: Vec<String> = h.sink.actions().iter().map(|a| format!("{a:?}")).collect();
            actions.iter().any(|a| a.contains("[critical] slashed")).then_some(actions)
        })
        .await;
    let short = format!("{slashed:#x}");
    let warned = actions.iter().position(|a| a.contains("[warning] slash-vote") && a.contains(&short[..6]));
    let slashed_at = actions.iter().position(|a| a.contains("[critical] slashed"));
    assert!(
        warned.is_some() && warned < slashed_at,
        "{protocol}: the slash-vote warning (at {warned:?}) comes before the slash (at {slashed_at:?}): {actions:#?}"
    );
    engine.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_v5_network_as_on_mainnet_is_followed_from_genesis() {
    follows_from_genesis(Generation::V5).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_v6_network_as_on_testnet_is_followed_from_genesis_and_warns_of_the_slash_first() {
    follows_from_genesis(Generation::V6).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_v4_network_as_the_real_4_1_2_node_speaks_is_followed_from_genesis() {
    follows_from_genesis(Generation::V4).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_short_history_a_clean_holder_keeps_the_role_a_failing_one_loses_it_a_newcomer_waits() {
    let mut h = Harness::new().await;
    let scripted = h.devnet().network.scripted();
    let find = |wanted: fn(&Profile) -> bool| scripted.iter().find(|(_, p)| wanted(p)).unwrap().0;
    let reliable = find(|p| matches!(p, Profile::Reliable));
    let failing = find(|p| matches!(p, Profile::GoesOffline { .. }));
    let newcomer = operator_of(&h, find(|p| matches!(p, Profile::Flaky { .. })));
    let (holder, failing_holder) = (operator_of(&h, reliable), operator_of(&h, failing));
    // As if granted before a restart with an empty window (a new store, a new window length).
    for subject in [&holder, &failing_holder] {
        let held = sparta_store::RoleState {
            subject: subject.clone(),
            role: "performant".into(),
            held: true,
            since_slot: sparta_core::Slot(0),
        };
        h.store.put_role_state(&held).await.unwrap();
    }
    let engine = h.start_engine().await;
    // A few slots: some attestations each, well under the 16 a newcomer needs; the failing one
    // goes silent at slot 6.
    h.advance_to(12);
    h.wait_for_checkpoint(10).await;
    // The checkpoint is stored before the batch reaches the trackers: wait for the tracker too.
    let stats = h
        .eventually("the tracker at slot 10", || async {
            let report = engine.validator(reliable).await.unwrap()?;
            (report.as_of >= Some(sparta_core::Slot(10))).then_some(report.stats)
        })
        .await;
    assert!(stats.missed_attestations.total > 0 && stats.missed_attestations.total < 16, "{stats:?}");
    h.eventually("the failing holder's removal", || async {
        let removed = h
            .sink
            .actions()
            .into_iter()
            .any(|a| matches!(a, DiscordAction::RemoveRole { ref user, .. } if *user == failing_holder));
        removed.then_some(())
    })
    .await;
    assert_eq!(engine.flush_outbox().await.unwrap(), 0);
    let touched = |user: &str| {
        h.sink.actions().into_iter().any(|a| match a {
            DiscordAction::AddRole { user: u, .. } | DiscordAction::RemoveRole { user: u, .. } => u == user,
            _ => false,
        })
    };
    assert!(!touched(&holder), "a holder with a clean short history keeps the role: {:?}", h.sink.actions());
    assert!(!touched(&newcomer), "a newcomer gets nothing before a full sample: {:?}", h.sink.actions());
    let roles = engine.held_roles().await.unwrap();
    let holds = |user: &str| roles.iter().any(|r| r.subject == user && r.role == "performant");
    assert!(holds(&holder) && !holds(&failing_holder) && !holds(&newcomer), "{roles:?}");
    engine.stop().await;
}
