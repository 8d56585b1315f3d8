//! Conformance checks of the outbox, decisions and the audit log.

use std::collections::BTreeSet;

use sparta_core::Slot;

use crate::{
    AlertRecord, AuditEntry, Decision, Fence, OutboxEntry, OutboxState, RoleState, SettleRefused, Settlement,
    Store, StoreError,
};

const LEASE_MS: u64 = 30_000;
const NOW: u64 = 1_800_000_000_000;

pub fn entry(key: &str) -> OutboxEntry {
    OutboxEntry {
        key: key.into(),
        payload: format!("{{\"kind\":\"dm\",\"for\":\"{key}\"}}"),
        created_slot: Slot(7),
    }
}

fn grant(user: &str, role: &str, slot: u64) -> Decision {
    Decision {
        roles: vec![RoleState {
            subject: user.into(),
            role: role.into(),
            held: true,
            since_slot: Slot(slot),
        }],
        audit: vec![AuditEntry {
            subject: user.into(),
            at_slot: Slot(slot),
            change: format!("role+ {role}"),
            evidence: format!("missed 0/40 attestations as of slot {slot}"),
        }],
        outbox: vec![entry(&format!("add_role:{user}:{role}:{slot}"))],
        ..Decision::default()
    }
}

fn keys(records: &[crate::OutboxRecord]) -> BTreeSet<String> {
    records.iter().map(|r| r.entry.key.clone()).collect()
}

/// A decision stores its states, audit entries and outbox entries together; making it again
/// enqueues nothing new.
pub async fn decisions_apply_whole_and_enqueue_once(store: &dyn Store) {
    let mut decision = grant("u1", "healthy", 9);
    decision.alerts.push(AlertRecord::new("validator:0xab", "slashed", &slashed_incident()));
    decision.outbox.extend([entry("dm:1"), entry("post:1")]);
    let fresh = store.commit_decision(&decision).await.unwrap();
    assert_eq!(fresh.len(), 3, "every key is new: {fresh:?}");
    assert_eq!(store.role_states().await.unwrap(), decision.roles);
    assert_eq!(store.alerts().await.unwrap(), decision.alerts);
    assert_eq!(store.audit_log("u1").await.unwrap(), decision.audit);
    assert_eq!(store.outbox_backlog().await.unwrap(), 3);

    assert_eq!(store.commit_decision(&decision).await.unwrap(), Vec::<String>::new(), "nothing twice");
    assert_eq!(store.outbox_backlog().await.unwrap(), 3);
    let partly_new = Decision { outbox: vec![entry("dm:1"), entry("dm:2")], ..Decision::default() };
    assert_eq!(store.commit_decision(&partly_new).await.unwrap(), vec!["dm:2".to_string()]);
    assert_eq!(store.outbox_backlog().await.unwrap(), 4);
    assert_eq!(store.commit_decision(&Decision::default()).await.unwrap(), Vec::<String>::new());
    let all = store.outbox_records().await.unwrap();
    let listed: Vec<&str> = all.iter().map(|r| r.entry.key.as_str()).collect();
    assert_eq!(listed, ["add_role:u1:healthy:9", "dm:1", "dm:2", "post:1"], "every record, by key");
    assert!(all.iter().all(|r| r.attempts == 0 && r.state == OutboxState::Pending { due_ms: 0 }));
}

/// Bad input is refused before anything is written.
pub async fn bad_decisions_write_nothing(store: &dyn Store) {
    let mut twice = grant("u1", "healthy", 3);
    twice.outbox.push(twice.outbox[0].clone());
    match store.commit_decision(&twice).await {
        Err(StoreError::InvalidInput(msg)) => assert!(msg.contains("twice"), "{msg}"),
        other => panic!("a key twice must be refused, got {other:?}"),
    }
    let huge =
        Decision { outbox: (0..101).map(|i| entry(&format!("k{i}"))).collect(), ..Decision::default() };
    assert!(matches!(store.commit_decision(&huge).await, Err(StoreError::InvalidInput(_))));
    assert_eq!(store.role_states().await.unwrap(), vec![]);
    assert_eq!(store.audit_log("u1").await.unwrap(), vec![]);
    assert_eq!(store.outbox_backlog().await.unwrap(), 0);
}

/// Claims lease entries oldest first; a lease hides an entry until it expires; the latest claim's
/// token settles it, an overtaken one cannot.
pub async fn claims_lease_and_settle_with_a_fencing_token(store: &dyn Store) {
    for i in 0..3 {
        store.commit_decision(&grant(&format!("u{i}"), "healthy", 5)).await.unwrap();
    }
    let first = store.claim_outbox(NOW, LEASE_MS, 2).await.unwrap();
    assert_eq!(first.len(), 2, "the limit holds");
    assert!(
        first.iter().all(|r| r.attempts == 1 && r.state == OutboxState::Leased { until_ms: NOW + LEASE_MS })
    );
    let second = store.claim_outbox(NOW, LEASE_MS, 10).await.unwrap();
    assert_eq!(second.len(), 1, "leased entries are not handed out again");
    assert!(keys(&first).is_disjoint(&keys(&second)));
    assert_eq!(store.claim_outbox(NOW + 1, LEASE_MS, 10).await.unwrap(), vec![]);

    let done = &first[0];
    store.settle_outbox(&done.entry.key, 1, &Settlement::Delivered, NOW + 5).await.unwrap();
    let stored = store.outbox_record(&done.entry.key).await.unwrap().unwrap();
    assert_eq!(stored.state, OutboxState::Delivered { at_ms: NOW + 5 });
    assert_eq!(stored.entry, done.entry, "the payload is kept as it was");
    assert_eq!(store.outbox_backlog().await.unwrap(), 2);

    // The other two leases expire; a new claim overtakes them.
    let again = store.claim_outbox(NOW + LEASE_MS, LEASE_MS, 10).await.unwrap();
    assert_eq!(keys(&again).len(), 2, "expired leases are claimable again: {again:?}");
    assert!(!keys(&again).contains(&done.entry.key), "a delivered entry is never claimed again");
    assert!(again.iter().all(|r| r.attempts == 2));
    let overtaken = &first[1];
    match store.settle_outbox(&overtaken.entry.key, 1, &Settlement::Delivered, NOW + LEASE_MS).await {
        Err(StoreError::Settle { reason: SettleRefused::LeaseLost { attempt: 1, current: 2 }, .. }) => {}
        other => panic!("an overtaken claim must not settle, got {other:?}"),
    }
    match store.settle_outbox("no-such-key", 1, &Settlement::Delivered, NOW).await {
        Err(StoreError::Settle { reason: SettleRefused::Unknown, .. }) => {}
        other => panic!("an unknown key must be refused, got {other:?}"),
    }
    store
        .settle_outbox(
            &overtaken.entry.key,
            2,
            &Settlement::Rejected("unknown member".into()),
            NOW + LEASE_MS,
        )
        .await
        .unwrap();
    assert!(matches!(
        store.outbox_record(&overtaken.entry.key).await.unwrap().unwrap().state,
        OutboxState::Rejected { ref reason, .. } if reason == "unknown member"
    ));
    assert_eq!(
        store.commit_decision(&grant("u1", "healthy", 5)).await.unwrap(),
        Vec::<String>::new(),
        "a settled key still deduplicates"
    );
}

/// A transient failure makes the entry due again at the given time, not before.
pub async fn retries_wait_until_due(store: &dyn Store) {
    store.commit_decision(&grant("u1", "healthy", 1)).await.unwrap();
    let claimed = store.claim_outbox(NOW, LEASE_MS, 10).await.unwrap();
    let key = &claimed[0].entry.key;
    store.settle_outbox(key, 1, &Settlement::RetryAt(NOW + 2_000), NOW + 10).await.unwrap();
    assert_eq!(store.outbox_backlog().await.unwrap(), 1, "a retry is still owed");
    assert_eq!(store.claim_outbox(NOW + 1_999, LEASE_MS, 10).await.unwrap(), vec![]);
    let retried = store.claim_outbox(NOW + 2_000, LEASE_MS, 10).await.unwrap();
    assert_eq!(keys(&retried), BTreeSet::from([key.clone()]));
    assert_eq!(retried[0].attempts, 2);
}

/// Two publishers claiming at once never receive the same entry, and together receive all of them.
pub async fn concurrent_claims_never_share_an_entry(store: &dyn Store) {
    let mut expected = BTreeSet::new();
    for i in 0..24 {
        let d = grant(&format!("u{i}"), "healthy", 2);
        expected.insert(d.outbox[0].key.clone());
        store.commit_decision(&d).await.unwrap();
    }
    let mut seen = BTreeSet::new();
    for round in 0..8 {
        let (a, b) =
            tokio::join!(store.claim_outbox(NOW, LEASE_MS, 24), store.claim_outbox(NOW, LEASE_MS, 24));
        let (a, b) = (keys(&a.unwrap()), keys(&b.unwrap()));
        assert!(
            a.is_disjoint(&b),
            "round {round}: both claimers got {:?}",
            a.intersection(&b).collect::<Vec<_>>()
        );
        for k in a.into_iter().chain(b) {
            assert!(seen.insert(k.clone()), "{k} was claimed twice under an unexpired lease");
        }
        if seen.len() == expected.len() {
            break;
        }
    }
    assert_eq!(seen, expected, "every entry is claimed by someone");
}

/// Audit entries are kept per subject, ordered by slot.
pub async fn audit_log_is_per_subject_in_slot_order(store: &dyn Store) {
    store.commit_decision(&grant("u1", "healthy", 30)).await.unwrap();
    store.commit_decision(&grant("u2", "healthy", 20)).await.unwrap();
    store.commit_decision(&grant("u1", "sequencer", 4)).await.unwrap();
    let log = store.audit_log("u1").await.unwrap();
    let changes: Vec<(u64, &str)> = log.iter().map(|e| (e.at_slot.0, e.change.as_str())).collect();
    assert_eq!(changes, vec![(4, "role+ sequencer"), (30, "role+ healthy")]);
    assert_eq!(store.audit_log("u2").await.unwrap().len(), 1);
    assert_eq!(store.audit_log("nobody").await.unwrap(), vec![]);
}

/// A lease has one holder at a time; once another instance takes it over, everything the old
/// holder's fenced handle tries to publish is refused and changes nothing.
pub async fn leases_elect_one_holder_and_fence_the_old_one(store: &dyn Store) {
    let (t0, ttl) = (NOW, 2_000);
    let a = store.acquire_lease("leader", "a", t0, ttl).await.unwrap();
    assert_eq!((a.holder.as_str(), a.token, a.expires_ms), ("a", 1, t0 + ttl));
    assert_eq!(store.acquire_lease("leader", "b", t0 + 100, ttl).await.unwrap(), a, "b must wait");
    let renewed = store.acquire_lease("leader", "a", t0 + 1_000, ttl).await.unwrap();
    assert_eq!((renewed.token, renewed.expires_ms), (1, t0 + 1_000 + ttl));
    assert_eq!(store.lease("leader").await.unwrap(), Some(renewed.clone()));
    assert_eq!(store.lease("other").await.unwrap(), None);

    let (x, y) =
        tokio::join!(store.acquire_lease("race", "x", t0, ttl), store.acquire_lease("race", "y", t0, ttl));
    let (x, y) = (x.unwrap(), y.unwrap());
    assert_eq!(x, y, "both see the same winner");
    assert_eq!(x.token, 1);

    let old = store.fenced(Fence { lease: "leader".into(), token: 1 });
    old.commit_decision(&grant("u1", "healthy", 4)).await.expect("the holder publishes");
    let claimed = old.claim_outbox(t0, LEASE_MS, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    old.commit_decision(&grant("u2", "healthy", 4)).await.unwrap();

    // a stalls past its lease; b takes over.
    let b = store.acquire_lease("leader", "b", renewed.expires_ms, ttl).await.unwrap();
    assert_eq!((b.holder.as_str(), b.token), ("b", 2));
    let fenced = |r: Result<(), StoreError>, what: &str| match r {
        Err(StoreError::Fenced { token: 1, current: 2, .. }) => {}
        other => panic!("{what} by a replaced leader must be refused, got {other:?}"),
    };
    fenced(old.commit_decision(&grant("u3", "healthy", 5)).await.map(drop), "a decision");
    fenced(old.claim_outbox(t0 + LEASE_MS, LEASE_MS, 10).await.map(drop), "a claim");
    let key = &claimed[0].entry.key;
    fenced(old.settle_outbox(key, 1, &Settlement::Delivered, t0 + 10).await, "a settle");
    let checkpoint = store.checkpoint().await.unwrap();
    fenced(old.commit_slots(&crate::conformance::sample_facts(0..4, 4)).await, "a slot commit");
    fenced(old.put_cursor("l1-events", 9).await, "a cursor move");
    fenced(old.put_stats(&[crate::conformance::sample_stats(1, 3)]).await, "a stats write");
    assert_eq!(store.checkpoint().await.unwrap(), checkpoint, "the old leader cannot move the checkpoint");
    assert_eq!(store.cursor("l1-events").await.unwrap(), None);
    assert_eq!(store.role_state("u3", "healthy").await.unwrap(), None, "the refused decision wrote nothing");
    assert_eq!(store.outbox_backlog().await.unwrap(), 2, "nothing settled or enqueued by the old leader");

    let new = store.fenced(Fence { lease: "leader".into(), token: 2 });
    let taken = new.claim_outbox(t0 + LEASE_MS, LEASE_MS, 10).await.unwrap();
    assert_eq!(taken.len(), 2, "the new leader claims what is due, including the old leader's expired claim");
    for r in &taken {
        new.settle_outbox(&r.entry.key, r.attempts, &Settlement::Delivered, t0 + LEASE_MS).await.unwrap();
    }
    assert_eq!(store.outbox_backlog().await.unwrap(), 0);
}

fn slashed_incident() -> sparta_core::alerting::Incident {
    sparta_core::alerting::Incident {
        phase: sparta_core::alerting::Phase::Firing,
        since: Slot(9),
        severity: sparta_core::policy::Severity::Critical,
        score: 1.0,
        notified: Some(Slot(9)),
        evidence: "Slashed(0xab, 100)".into(),
        evidence_slot: Slot(9),
        until: None,
    }
}
