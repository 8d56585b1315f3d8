//! The bot's backend over a running engine: links made while it runs are judged at once, operators'
//! alert preferences shape their DMs, and a standby answers from the store.

use std::sync::Arc;

use sparta_actors::EngineBackend;
use sparta_bot::{Backend, BackendError, DiscordAction, Source};
use sparta_core::{Address, SlotClock};
use sparta_devnet::Profile;
use sparta_store::AlertSettings;
use tokio::sync::watch;

use crate::harness::Harness;

fn scripted(h: &Harness, wanted: fn(&Profile) -> bool) -> (Address, String) {
    let scripted = h.devnet().network.scripted();
    let i = scripted.iter().position(|(_, p)| wanted(p)).expect("a scripted validator");
    (scripted[i].0, format!("operator-{:03}", i + 1))
}

fn backend(h: &Harness, engine: Option<sparta_actors::EngineHandle>) -> EngineBackend {
    let policies = h.engine_config().policies();
    let clock: Arc<dyn SlotClock> = Arc::new(h.clock.clone());
    EngineBackend::new(watch::channel(engine).1, h.store.clone(), clock, policies)
}

fn dms_to(h: &Harness, user: &str) -> Vec<String> {
    h.sink
        .actions()
        .into_iter()
        .filter_map(|a| match a {
            DiscordAction::DirectMessage { user: to, content } if to == user => Some(content),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_muted_operator_gets_no_dm_and_an_own_threshold_alerts_below_the_default() {
    let mut h = Harness::new().await;
    let (offline, muted) = scripted(&h, |p| matches!(p, Profile::GoesOffline { .. }));
    let (flaky, strict) = scripted(&h, |p| matches!(p, Profile::Flaky { .. }));
    let quiet = AlertSettings {
        operator: muted.clone(),
        muted: true,
        snoozed_until_ms: None,
        miss_rate_threshold: None,
    };
    let tight = AlertSettings {
        operator: strict.clone(),
        muted: false,
        snoozed_until_ms: None,
        miss_rate_threshold: Some(0.01),
    };
    h.store.put_alert_settings(&quiet).await.unwrap();
    h.store.put_alert_settings(&tight).await.unwrap();

    let engine = h.start_engine().await;
    h.advance_to(82);
    h.wait_for_checkpoint(80).await;
    let firing = |alerts: &[sparta_store::AlertRecord], v: Address| {
        alerts.iter().any(|a| a.subject == format!("validator:{v:#x}") && a.kind == "attestation-misses")
    };
    h.eventually("both miss alerts", || async {
        let alerts = engine.firing_alerts().await.unwrap();
        (firing(&alerts, offline) && firing(&alerts, flaky)).then_some(())
    })
    .await;
    engine.flush_outbox().await.unwrap();
    assert_eq!(
        dms_to(&h, &muted),
        Vec::<String>::new(),
        "the alert fired, but the muted operator is not DMed"
    );
    let strict_dms = dms_to(&h, &strict);
    assert!(
        strict_dms.iter().any(|m| m.contains("attestation-misses") && m.contains(&format!("{flaky:#x}"))),
        "a 10 % miss rate is under the default 20 % but over this operator's 1 %: {strict_dms:?}"
    );
    engine.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_made_while_the_engine_runs_is_judged_at_once_and_answered_live() {
    let mut h = Harness::new().await;
    let linked: Vec<Address> = h.store.links().await.unwrap().into_iter().map(|l| l.validator).collect();
    let spare: Vec<Address> = h
        .devnet()
        .network
        .validators()
        .iter()
        .map(|v| v.address)
        .filter(|v| !linked.contains(v) && h.devnet().network.profile_of(v) == Some(Profile::Reliable))
        .take(2)
        .collect();
    let engine = h.start_engine().await;
    h.advance_to(82);
    h.wait_for_checkpoint(80).await;
    let backend = backend(&h, Some(engine.handle()));

    backend.link("999", spare[0], None).await.unwrap();
    backend.link("999", spare[1], Some("4242")).await.unwrap();
    assert_eq!(backend.linked_validators("999").await.unwrap(), {
        let mut s = spare.clone();
        s.sort();
        s
    });
    h.eventually("the new operator's role", || async {
        let held = engine.held_roles().await.unwrap();
        held.iter().any(|r| r.subject == "999" && r.role == "performant").then_some(())
    })
    .await;
    let audit = h.store.audit_log("999").await.unwrap();
    assert!(audit.iter().any(|e| e.evidence == "linked by moderator 4242"), "{audit:?}");

    let view = backend.validator(spare[0]).await.unwrap().expect("tracked");
    assert_eq!((view.source, view.operator.as_deref()), (Source::Live, Some("999")));
    assert!(!view.epochs.is_empty(), "live answers carry the per-epoch trend");
    assert_eq!(view.as_of.map(|a| a.slot.0), Some(80));
    let chain = backend.chain().await.unwrap();
    assert_eq!(chain.source, Source::Live);
    assert!(chain.committee_size.is_some() && chain.pending_checkpoint.is_some(), "{chain:?}");
    engine.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standby_answers_from_the_store() {
    let mut h = Harness::new().await;
    let (reliable, operator) = scripted(&h, |p| matches!(p, Profile::Reliable));
    let engine = h.start_engine().await;
    h.advance_to(42);
    h.wait_for_checkpoint(40).await;
    engine.stop().await;

    let standby = backend(&h, None);
    let view = standby.validator(reliable).await.unwrap().expect("stored stats");
    assert_eq!(view.source, Source::Stored);
    assert_eq!(view.operator.as_deref(), Some(operator.as_str()));
    assert!(view.stats.missed_attestations.total > 0);
    let chain = standby.chain().await.unwrap();
    assert_eq!((chain.source, chain.as_of.map(|a| a.slot.0)), (Source::Stored, Some(40)));
    assert!(matches!(standby.role_dry_run().await, Err(BackendError::Unavailable(_))));
    assert_eq!(standby.linked_validators(&operator).await.unwrap(), vec![reliable]);
}
