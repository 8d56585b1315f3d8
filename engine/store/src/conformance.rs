//! The behaviour every [`Store`] backend must show. Each check takes a fresh, empty store and panics
//! with a message on the first deviation; a backend's tests call [`run_all`] (or each check by name).

use std::future::Future;
use std::sync::Arc;

use sparta_core::alerting::{Incident, Phase};
use sparta_core::policy::Severity;
use sparta_core::{
    Address, ChainTiming, CommitteeBits, Epoch, MissedStats, ProposalOutcome, Slot, SlotFacts, ValidatorStats,
};

use crate::{
    AlertRecord, AlertSettings, AuditEntry, Challenge, Link, NetworkIdentity, RoleState, Store, StoreError,
};

mod challenges;
mod outbox;
pub use challenges::*;
pub use outbox::*;

/// Slots per epoch in the sample data.
pub const SAMPLE_EPOCH_SLOTS: u64 = 32;

pub fn sample_identity() -> NetworkIdentity {
    NetworkIdentity {
        chain_id: 11_155_111,
        rollup: Address::repeat_byte(0xab),
        timing: ChainTiming {
            genesis_time_s: 1_700_000_000,
            slot_duration_s: 72,
            epoch_duration_slots: SAMPLE_EPOCH_SLOTS,
        },
    }
}

/// A committee of `size` distinct addresses that differs per epoch.
pub fn sample_committee(epoch: Epoch, size: usize) -> Arc<[Address]> {
    (0..size)
        .map(|i| {
            let mut bytes = [0u8; 20];
            bytes[..8].copy_from_slice(&epoch.0.to_be_bytes());
            bytes[12..].copy_from_slice(&(i as u64).to_be_bytes());
            Address::from(bytes)
        })
        .collect()
}

/// Facts for `slots`, sharing one committee `Arc` per epoch as the engine does, with varied
/// outcomes, proposers and attestation bits.
pub fn sample_facts(slots: std::ops::Range<u64>, committee_size: usize) -> Vec<SlotFacts> {
    let mut committee: Option<(Epoch, Arc<[Address]>)> = None;
    slots
        .map(|s| {
            let epoch = Epoch(s / SAMPLE_EPOCH_SLOTS);
            let members = match &committee {
                Some((e, c)) if *e == epoch => Arc::clone(c),
                _ => {
                    let c = sample_committee(epoch, committee_size);
                    committee = Some((epoch, Arc::clone(&c)));
                    c
                }
            };
            let mut attested = CommitteeBits::with_len(committee_size);
            for i in (0..committee_size).filter(|i| !(i + s as usize).is_multiple_of(3)) {
                attested.set(i);
            }
            let outcome = match s % 4 {
                0 => ProposalOutcome::Mined,
                1 => ProposalOutcome::Proposed,
                2 => ProposalOutcome::CheckpointMissed,
                _ => ProposalOutcome::BlocksMissed,
            };
            let proposer = (committee_size > 0).then(|| members[s as usize % committee_size]);
            SlotFacts {
                slot: Slot(s),
                epoch,
                committee: members,
                proposer,
                outcome,
                attested,
                generation: Default::default(),
            }
        })
        .collect()
}

pub fn sample_stats(byte: u8, total_slots: u32) -> ValidatorStats {
    ValidatorStats {
        address: Address::repeat_byte(byte),
        last_proposal: Some(Slot(u64::from(total_slots))),
        last_attestation: None,
        total_slots,
        missed_proposals: MissedStats::new(1, 4, 1),
        missed_attestations: MissedStats::new(0, 0, 0),
    }
}

/// How many checks [`run_all`] runs (each on its own fresh store).
pub const CHECKS: usize = 24;

/// Runs every check, each on a fresh store from `fresh`.
pub async fn run_all<F, Fut>(mut fresh: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Box<dyn Store>>,
{
    identity_is_stored_then_enforced(fresh().await.as_ref()).await;
    checkpoint_follows_commits(fresh().await.as_ref()).await;
    slot_facts_round_trip(fresh().await.as_ref()).await;
    commit_slots_is_atomic(fresh().await.as_ref()).await;
    history_from_and_trim(fresh().await.as_ref()).await;
    rewind_forgets_slots_to_read_them_again(fresh().await.as_ref()).await;
    stats_round_trip_and_upsert(fresh().await.as_ref()).await;
    links_round_trip_and_relink(fresh().await.as_ref()).await;
    role_states_round_trip_and_upsert(fresh().await.as_ref()).await;
    alerts_round_trip_and_upsert(fresh().await.as_ref()).await;
    cursors_round_trip_and_move(fresh().await.as_ref()).await;
    alert_settings_round_trip_and_upsert(fresh().await.as_ref()).await;
    operators_find_their_validators_and_manual_links_are_audited(fresh().await.as_ref()).await;
    challenges_are_taken_once(fresh().await.as_ref()).await;
    a_user_keeps_at_most_a_few_challenges(fresh().await.as_ref()).await;
    an_expired_challenge_cannot_be_taken_and_is_gone(fresh().await.as_ref()).await;
    another_users_challenges_are_untouched(fresh().await.as_ref()).await;
    decisions_apply_whole_and_enqueue_once(fresh().await.as_ref()).await;
    bad_decisions_write_nothing(fresh().await.as_ref()).await;
    claims_lease_and_settle_with_a_fencing_token(fresh().await.as_ref()).await;
    retries_wait_until_due(fresh().await.as_ref()).await;
    concurrent_claims_never_share_an_entry(fresh().await.as_ref()).await;
    audit_log_is_per_subject_in_slot_order(fresh().await.as_ref()).await;
    leases_elect_one_holder_and_fence_the_old_one(fresh().await.as_ref()).await;
}

pub async fn operators_find_their_validators_and_manual_links_are_audited(store: &dyn Store) {
    let (a, b, c) = (Address::repeat_byte(3), Address::repeat_byte(1), Address::repeat_byte(2));
    assert!(store.validators_of("alice").await.unwrap().is_empty());
    for (operator, validator) in [("alice", a), ("alice", b), ("bob", c)] {
        store.link(&Link { operator: operator.into(), validator }).await.unwrap();
    }
    assert_eq!(store.validators_of("alice").await.unwrap(), vec![b, a], "ascending");
    let audit = AuditEntry {
        subject: "bob".into(),
        at_slot: Slot(77),
        change: format!("link {a:#x}"),
        evidence: "linked by moderator 42".into(),
    };
    store.link_audited(&Link { operator: "bob".into(), validator: a }, &audit).await.unwrap();
    assert_eq!(store.validators_of("alice").await.unwrap(), vec![b], "a validator has one operator");
    assert_eq!(store.validators_of("bob").await.unwrap(), vec![c, a]);
    assert_eq!(store.operator_of(&a).await.unwrap().as_deref(), Some("bob"));
    assert_eq!(store.audit_log("bob").await.unwrap(), vec![audit]);
}

pub async fn challenges_are_taken_once(store: &dyn Store) {
    let validator = Address::repeat_byte(5);
    let challenge = |nonce: &str| Challenge {
        user: "1301234567890123456".into(),
        validator,
        nonce: nonce.into(),
        issued_ms: 1_000,
        expires_ms: 901_000,
    };
    let user = "1301234567890123456";
    assert_eq!(store.take_challenge(user, &validator).await.unwrap(), None);
    store.put_challenge(&challenge("first")).await.unwrap();
    store.put_challenge(&challenge("second")).await.unwrap();
    let other = Challenge { user: "7".into(), ..challenge("other user") };
    store.put_challenge(&other).await.unwrap();
    assert_eq!(store.take_challenge(user, &validator).await.unwrap(), Some(challenge("second")), "replaced");
    assert_eq!(store.take_challenge(user, &validator).await.unwrap(), None, "taken once");
    assert_eq!(store.take_challenge("7", &validator).await.unwrap(), Some(other), "per user");

    store.put_challenge(&challenge("raced")).await.unwrap();
    let takers: Vec<_> = (0..8).map(|_| store.take_challenge(user, &validator)).collect();
    let won = futures_join_all(takers).await.into_iter().filter(|t| t.as_ref().unwrap().is_some()).count();
    assert_eq!(won, 1, "of eight concurrent takers exactly one gets the challenge");
}

/// Polls every future to completion concurrently (no extra dependency for one test).
async fn futures_join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut pinned: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in pinned.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending { std::task::Poll::Pending } else { std::task::Poll::Ready(()) }
    })
    .await;
    outputs.into_iter().map(|o| o.expect("every future finished")).collect()
}

pub async fn alert_settings_round_trip_and_upsert(store: &dyn Store) {
    assert_eq!(store.alert_settings("42").await.unwrap(), None);
    assert!(store.all_alert_settings().await.unwrap().is_empty());
    let muted = AlertSettings {
        operator: "42".into(),
        muted: true,
        snoozed_until_ms: None,
        miss_rate_threshold: None,
    };
    let tuned = AlertSettings {
        operator: "7".into(),
        muted: false,
        snoozed_until_ms: Some(5_000),
        miss_rate_threshold: Some(0.125),
    };
    store.put_alert_settings(&muted).await.unwrap();
    store.put_alert_settings(&tuned).await.unwrap();
    store.put_cursor("l1-events", 3).await.unwrap();
    assert_eq!(store.alert_settings("7").await.unwrap(), Some(tuned.clone()));
    let unmuted = AlertSettings { muted: false, miss_rate_threshold: Some(0.3), ..muted };
    store.put_alert_settings(&unmuted).await.unwrap();
    let mut all = store.all_alert_settings().await.unwrap();
    all.sort_by(|a, b| a.operator.cmp(&b.operator));
    assert_eq!(all, vec![unmuted, tuned], "only settings, each operator once, the latest");
    assert!(all[1].is_quiet(4_999) && !all[1].is_quiet(5_000), "snoozed until 5 s");
}

pub async fn cursors_round_trip_and_move(store: &dyn Store) {
    assert_eq!(store.cursor("l1-events").await.unwrap(), None);
    store.put_cursor("l1-events", 41).await.unwrap();
    store.put_cursor("other", 7).await.unwrap();
    assert_eq!(store.cursor("l1-events").await.unwrap(), Some(41));
    store.put_cursor("l1-events", 42).await.unwrap();
    assert_eq!(store.cursor("l1-events").await.unwrap(), Some(42));
    assert_eq!(store.cursor("other").await.unwrap(), Some(7));
    assert_eq!(store.checkpoint().await.unwrap(), None, "cursors are not the checkpoint");
}

pub async fn identity_is_stored_then_enforced(store: &dyn Store) {
    let id = sample_identity();
    store.check_identity(&id).await.expect("first identity is stored");
    store.check_identity(&id).await.expect("the same identity matches");
    let mut other = id.clone();
    other.timing.slot_duration_s = 36;
    match store.check_identity(&other).await {
        Err(e @ StoreError::IdentityMismatch { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("72s slots") && msg.contains("36s slots"), "names both identities: {msg}");
        }
        other => panic!("a different identity must be refused, got {other:?}"),
    }
    store.check_identity(&id).await.expect("a refused identity does not replace the stored one");
}

pub async fn checkpoint_follows_commits(store: &dyn Store) {
    assert_eq!(store.checkpoint().await.unwrap(), None, "a fresh store has no checkpoint");
    store.commit_slots(&[]).await.expect("an empty batch is fine");
    assert_eq!(store.checkpoint().await.unwrap(), None, "an empty batch moves nothing");
    store.commit_slots(&sample_facts(0..5, 4)).await.unwrap();
    assert_eq!(store.checkpoint().await.unwrap(), Some(Slot(4)));
    store.commit_slots(&sample_facts(5..6, 4)).await.unwrap();
    assert_eq!(store.checkpoint().await.unwrap(), Some(Slot(5)));
}

pub async fn slot_facts_round_trip(store: &dyn Store) {
    // Spans an epoch boundary; includes a slot with no committee and one whose committee differs from
    // the rest of its epoch.
    let mut facts = sample_facts(28..40, 48);
    facts[2].committee = Arc::from(Vec::new());
    facts[2].proposer = None;
    facts[2].attested = CommitteeBits::default();
    facts[3].committee = sample_committee(Epoch(99), 5);
    store.commit_slots(&facts).await.unwrap();
    let back = store.slot_history(Slot(0)).await.unwrap();
    assert_eq!(back, facts, "facts come back exactly as committed");
}

pub async fn commit_slots_is_atomic(store: &dyn Store) {
    store.commit_slots(&sample_facts(0..3, 4)).await.unwrap();
    let mut bad = sample_facts(3..6, 4);
    bad.push(sample_facts(4..5, 4).remove(0));
    match store.commit_slots(&bad).await {
        Err(StoreError::InvalidInput(msg)) => assert!(msg.contains("ascending"), "{msg}"),
        other => panic!("a batch out of order must be refused, got {other:?}"),
    }
    assert_eq!(store.checkpoint().await.unwrap(), Some(Slot(2)), "a refused batch moves no checkpoint");
    assert_eq!(
        store.slot_history(Slot(0)).await.unwrap(),
        sample_facts(0..3, 4),
        "no slot of a refused batch is kept"
    );
}

pub async fn history_from_and_trim(store: &dyn Store) {
    let facts = sample_facts(0..100, 8);
    store.commit_slots(&facts).await.unwrap();
    assert_eq!(store.slot_history(Slot(90)).await.unwrap(), facts[90..].to_vec());
    assert_eq!(store.slot_history(Slot(99)).await.unwrap().len(), 1);
    assert!(store.slot_history(Slot(100)).await.unwrap().is_empty(), "nothing after the checkpoint");

    assert_eq!(store.trim_history(Slot(40)).await.unwrap(), 40);
    assert_eq!(store.trim_history(Slot(40)).await.unwrap(), 0, "trimming twice removes nothing more");
    assert_eq!(store.slot_history(Slot(0)).await.unwrap(), facts[40..].to_vec());
    assert_eq!(store.checkpoint().await.unwrap(), Some(Slot(99)), "trimming keeps the checkpoint");

    store.commit_slots(&sample_facts(100..101, 8)).await.unwrap();
    assert_eq!(store.trim_history(Slot(1_000)).await.unwrap(), 61);
    assert!(store.slot_history(Slot(0)).await.unwrap().is_empty());
    let more = sample_facts(101..103, 8);
    store.commit_slots(&more).await.unwrap();
    assert_eq!(store.slot_history(Slot(0)).await.unwrap(), more, "commits after a full trim still work");
}

pub async fn rewind_forgets_slots_to_read_them_again(store: &dyn Store) {
    let facts = sample_facts(0..40, 8);
    store.commit_slots(&facts).await.unwrap();
    assert_eq!(store.rewind(Slot(50)).await.unwrap(), 0, "nothing stored past the checkpoint");
    assert_eq!(store.checkpoint().await.unwrap(), Some(Slot(39)));

    // Slots 21.. were read from a lying source: forgotten, then read again with other committees.
    assert_eq!(store.rewind(Slot(21)).await.unwrap(), 19);
    assert_eq!(store.checkpoint().await.unwrap(), Some(Slot(20)));
    assert_eq!(store.slot_history(Slot(0)).await.unwrap(), facts[..21].to_vec());
    let mut reread = sample_facts(21..45, 8);
    for f in &mut reread {
        f.committee = sample_committee(Epoch(f.epoch.0 + 100), 6);
        f.attested = sparta_core::CommitteeBits::with_len(6);
    }
    store.commit_slots(&reread).await.unwrap();
    let history = store.slot_history(Slot(0)).await.unwrap();
    assert_eq!(history[..21], facts[..21], "the kept slots are untouched");
    assert_eq!(history[21..], reread[..], "the re-read slots are stored as read, committees and all");

    assert_eq!(store.rewind(Slot(0)).await.unwrap(), 45);
    assert_eq!(store.checkpoint().await.unwrap(), None, "rewound to before the first slot");
    assert!(store.slot_history(Slot(0)).await.unwrap().is_empty());
}

pub async fn stats_round_trip_and_upsert(store: &dyn Store) {
    assert!(store.all_stats().await.unwrap().is_empty());
    let (a, b) = (sample_stats(2, 10), sample_stats(1, 20));
    store.put_stats(&[a.clone(), b.clone()]).await.unwrap();
    assert_eq!(store.stats(&a.address).await.unwrap(), Some(a.clone()));
    assert_eq!(store.stats(&Address::repeat_byte(9)).await.unwrap(), None);
    let newer = sample_stats(2, 11);
    store.put_stats(std::slice::from_ref(&newer)).await.unwrap();
    assert_eq!(store.all_stats().await.unwrap(), vec![b, newer], "one row per validator, by address");
}

pub async fn links_round_trip_and_relink(store: &dyn Store) {
    let (v1, v2) = (Address::repeat_byte(1), Address::repeat_byte(2));
    assert_eq!(store.operator_of(&v1).await.unwrap(), None);
    store.link(&Link { operator: "1234".into(), validator: v2 }).await.unwrap();
    store.link(&Link { operator: "1234".into(), validator: v1 }).await.unwrap();
    store.link(&Link { operator: "alice".into(), validator: v2 }).await.unwrap();
    assert_eq!(store.operator_of(&v2).await.unwrap().as_deref(), Some("alice"), "relinking replaces");
    assert_eq!(
        store.links().await.unwrap(),
        vec![
            Link { operator: "1234".into(), validator: v1 },
            Link { operator: "alice".into(), validator: v2 },
        ]
    );
}

pub async fn role_states_round_trip_and_upsert(store: &dyn Store) {
    let role = |subject: &str, role: &str, held, since| RoleState {
        subject: subject.into(),
        role: role.into(),
        held,
        since_slot: Slot(since),
    };
    store.put_role_state(&role("u2", "healthy", true, 5)).await.unwrap();
    store.put_role_state(&role("u1", "sequencer", true, 3)).await.unwrap();
    store.put_role_state(&role("u1", "healthy", true, 4)).await.unwrap();
    store.put_role_state(&role("u1", "healthy", false, 9)).await.unwrap();
    assert_eq!(
        store.role_states().await.unwrap(),
        vec![
            role("u1", "healthy", false, 9),
            role("u1", "sequencer", true, 3),
            role("u2", "healthy", true, 5)
        ]
    );
    assert_eq!(store.role_state("u1", "healthy").await.unwrap(), Some(role("u1", "healthy", false, 9)));
    assert_eq!(store.role_state("u1", "nothing").await.unwrap(), None);
    assert_eq!(store.role_state("u3", "healthy").await.unwrap(), None);
}

pub async fn alerts_round_trip_and_upsert(store: &dyn Store) {
    let alert = |subject: &str, kind: &str, firing: bool, since| {
        let incident = Incident {
            phase: if firing { Phase::Firing } else { Phase::Resolved },
            since: Slot(since),
            severity: Severity::Warning,
            score: 0.625,
            notified: Some(Slot(since)),
            evidence: format!("missed 5 of 8 attestations \"until\" slot {since}"),
            evidence_slot: Slot(since),
            until: firing.then_some(Slot(since + 100)),
        };
        AlertRecord::new(subject, kind, &incident)
    };
    store.put_alert(&alert("0xab", "attestation-streak", true, 10)).await.unwrap();
    store.put_alert(&alert("0xab", "slashed", true, 12)).await.unwrap();
    store.put_alert(&alert("0xab", "attestation-streak", false, 20)).await.unwrap();
    assert_eq!(
        store.alerts().await.unwrap(),
        vec![alert("0xab", "attestation-streak", false, 20), alert("0xab", "slashed", true, 12)]
    );
}
