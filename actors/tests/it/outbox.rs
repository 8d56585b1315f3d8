//! Decisions and their delivery: every decided Discord action reaches the sink exactly once, through
//! Discord outages, rejections and engine restarts.

use std::collections::BTreeSet;

use sparta_bot::DiscordAction;
use sparta_core::Slot;
use sparta_store::{Decision, OutboxEntry, OutboxState, RoleState};

use crate::harness::{Harness, SinkMode};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decisions_made_while_discord_is_down_are_delivered_once_after_a_restart() {
    let mut h = Harness::new().await;
    h.sink.set_mode(SinkMode::FailTransiently);
    let engine = h.start_engine().await;
    h.advance_to(42);
    h.wait_for_checkpoint(40).await;
    h.eventually("alerts decided", || async {
        (engine.firing_alerts().await.unwrap().len() >= 3).then_some(())
    })
    .await;
    h.eventually("failed attempts", || async { (!h.sink.refused().is_empty()).then_some(()) }).await;
    engine.stop().await;
    let firing: Vec<_> = h.store.alerts().await.unwrap().into_iter().filter(|a| a.firing).collect();
    let backlog = h.store.outbox_backlog().await.unwrap();
    assert!(backlog as usize >= firing.len(), "every decision waits in the outbox: {backlog}");
    assert!(h.sink.actions().is_empty(), "nothing reached Discord while it was down");

    // Discord is back and the engine restarts: the stored decisions go out, once.
    h.sink.set_mode(SinkMode::Deliver);
    let engine = h.start_engine().await;
    h.eventually("the backlog delivered", || async {
        (engine.flush_outbox().await.unwrap() == 0).then_some(())
    })
    .await;
    assert_eq!(h.sink.repeated_keys(), Vec::<String>::new());
    let delivered_keys: BTreeSet<String> = h.sink.keys().into_iter().collect();
    let attempted_while_down: BTreeSet<String> = h.sink.refused().into_iter().collect();
    assert!(
        attempted_while_down.is_subset(&delivered_keys),
        "every decision made while Discord was down is delivered after the restart: missing {:?}",
        attempted_while_down.difference(&delivered_keys).collect::<Vec<_>>()
    );
    assert!(
        delivered_keys.len() as u64 >= backlog,
        "{} delivered, {backlog} were waiting",
        delivered_keys.len()
    );
    let stored_firing: Vec<_> = h.store.alerts().await.unwrap().into_iter().filter(|a| a.firing).collect();
    assert_eq!(
        engine.firing_alerts().await.unwrap().len(),
        stored_firing.len(),
        "the restart decided nothing new"
    );
    let delivered = h.sink.actions();
    for alert in &firing {
        let address = alert.subject.trim_start_matches("validator:");
        assert!(
            delivered.iter().any(|a| matches!(a,
                DiscordAction::DirectMessage { content, .. } | DiscordAction::ChannelPost { content, .. }
                    if content.contains(address) && content.contains(&alert.kind))),
            "the {} alert of {address} was delivered",
            alert.kind
        );
    }
    engine.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_change_has_an_audit_entry_with_its_evidence() {
    let mut h = Harness::new().await;
    let engine = h.start_engine().await;
    h.advance_to(42);
    h.wait_for_checkpoint(40).await;
    let held = h
        .eventually("roles held", || async {
            let held = engine.held_roles().await.unwrap();
            held.iter().any(|r| r.role == "slashed").then_some(held)
        })
        .await;
    assert_eq!(engine.flush_outbox().await.unwrap(), 0);
    for role in &held {
        let log = h.store.audit_log(&role.subject).await.unwrap();
        let entry =
            log.iter().rev().find(|e| e.change == format!("role+ {}", role.role)).unwrap_or_else(|| {
                panic!("no audit entry for {} holding {}: {log:?}", role.subject, role.role)
            });
        assert!(entry.evidence.contains("as of slot"), "evidence names its age: {entry:?}");
        assert!(
            h.sink.actions().iter().any(|a| matches!(a,
                DiscordAction::AddRole { user, role: r, reason } if *user == role.subject && *r == role.role
                    && *reason == entry.evidence)),
            "the grant of {} to {} carries the audited evidence",
            role.role,
            role.subject
        );
    }
    engine.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_action_is_settled_once_and_never_retried() {
    let mut h = Harness::new().await;
    h.sink.set_mode(SinkMode::Reject);
    let engine = h.start_engine().await;
    h.advance_to(30);
    // Everything through the last slot the clock allows is decided and tried before we look: a
    // pending alert that ripens at slot 28 must not arrive after the snapshot below.
    h.settle(&engine, 28).await;
    assert_eq!(engine.flush_outbox().await.unwrap(), 0, "rejected entries leave the backlog");
    let refused = h.sink.refused();
    assert!(!refused.is_empty(), "the run decided something to deliver");
    assert_eq!(refused.iter().collect::<BTreeSet<_>>().len(), refused.len(), "each tried once: {refused:?}");
    for key in &refused {
        let record = h.store.outbox_record(key).await.unwrap().expect("stored");
        assert_eq!(record.attempts, 1, "{key}");
        assert!(
            matches!(&record.state, OutboxState::Rejected { reason, .. } if reason.contains("unknown member")),
            "{key}: {:?}",
            record.state
        );
    }
    // Later polls do not try again.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(engine.flush_outbox().await.unwrap(), 0);
    assert_eq!(h.sink.refused(), refused, "a rejection is final");
    assert!(h.sink.actions().is_empty());
    engine.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_change_overtaken_by_a_later_one_is_not_applied_out_of_order() {
    let mut h = Harness::new().await;
    let change = |grant: bool, slot: u64| {
        let (user, role, reason) = ("member-9".to_string(), "performant".to_string(), format!("slot {slot}"));
        let action = if grant {
            DiscordAction::AddRole { user: user.clone(), role: role.clone(), reason }
        } else {
            DiscordAction::RemoveRole { user: user.clone(), role: role.clone(), reason }
        };
        Decision {
            roles: vec![RoleState { subject: user, role, held: grant, since_slot: Slot(slot) }],
            outbox: vec![OutboxEntry {
                key: action.idempotency_key(&format!("after:{slot}")),
                payload: serde_json::to_string(&action).unwrap(),
                created_slot: Slot(slot),
            }],
            ..Decision::default()
        }
    };
    // A grant, then its revoke, both still waiting (as after a crash mid-delivery).
    let grant = h.store.commit_decision(&change(true, 3)).await.unwrap();
    let revoke = h.store.commit_decision(&change(false, 5)).await.unwrap();
    let engine = h.start_engine().await;
    assert_eq!(engine.flush_outbox().await.unwrap(), 0);
    assert_eq!(h.sink.keys(), revoke, "only the latest change reaches Discord");
    let stale = h.store.outbox_record(&grant[0]).await.unwrap().unwrap();
    assert!(
        matches!(&stale.state, OutboxState::Rejected { reason, .. } if reason.contains("superseded")),
        "{stale:?}"
    );
    engine.stop().await;
}
