//! One test per Sentinel rule, driven through the public API with a small harness.

use std::sync::Arc;

use super::*;
use crate::Generation;
use crate::facts::{CommitteeBits, ProposalOutcome};
use crate::stats::MissedStats;
use ValidatorStatusInSlot::*;

fn v(n: u8) -> Address {
    Address::repeat_byte(n)
}

fn monitor(slot_window: u64, epoch_duration_slots: u64) -> ValidatorMonitor {
    ValidatorMonitor::new(MonitorConfig {
        slot_window,
        epoch_history: 64,
        epoch_duration_slots,
        keep_old_entries: true,
    })
}

/// Slot facts with committee `v(1)..=v(size)`, proposer `v(1)`, and the given seats attesting.
fn facts(slot: u64, epoch_len: u64, size: u8, outcome: ProposalOutcome, attested: &[usize]) -> SlotFacts {
    let committee: Arc<[Address]> = (1..=size).map(v).collect();
    let mut bits = CommitteeBits::with_len(size as usize);
    attested.iter().for_each(|&seat| bits.set(seat));
    SlotFacts {
        slot: Slot(slot),
        epoch: Epoch(slot / epoch_len),
        proposer: committee.first().copied(),
        committee,
        outcome,
        attested: bits,
        generation: Generation::V4,
    }
}

#[track_caller]
fn assert_history(m: &ValidatorMonitor, who: Address, expected: &[(u64, ValidatorStatusInSlot)]) {
    let expected: Vec<_> = expected.iter().map(|(s, st)| (Slot(*s), *st)).collect();
    assert_eq!(m.history(&who), expected, "history of {who}");
}

#[test]
fn a_v5_slot_names_the_proposer_in_v5_words_and_blames_attesters_only_for_valid_checkpoints() {
    let mut m = monitor(16, 32);
    let v5 = |slot, outcome, attested: &[usize]| SlotFacts {
        generation: Generation::V5,
        ..facts(slot, 32, 3, outcome, attested)
    };
    m.register_slot(&v5(1, ProposalOutcome::Proposed, &[1]));
    m.register_slot(&v5(2, ProposalOutcome::Invalid, &[1]));
    m.register_slot(&v5(3, ProposalOutcome::Unvalidated, &[]));
    m.register_slot(&v5(4, ProposalOutcome::Unknown, &[]));
    assert_history(
        &m,
        v(1),
        &[(1, CheckpointValid), (2, CheckpointInvalid), (3, CheckpointUnvalidated), (4, Unknown)],
    );
    // v(3) stayed silent: blamed for the valid checkpoint only.
    assert_history(&m, v(3), &[(1, AttestationMissed)]);
    assert_history(&m, v(2), &[(1, AttestationSent), (2, AttestationSent)]);
    let stats = m.stats(&v(1)).unwrap();
    assert_eq!(stats.missed_proposals, MissedStats::new(2, 3, 2), "an unknown status is never a miss");
    assert_eq!(stats.last_proposal, Some(Slot(1)));
}

#[test]
fn the_proposer_status_follows_the_outcome() {
    let mut m = monitor(16, 32);
    let outcomes = [
        (ProposalOutcome::Mined, CheckpointMined),
        (ProposalOutcome::Proposed, CheckpointProposed),
        (ProposalOutcome::CheckpointMissed, CheckpointMissed),
        (ProposalOutcome::BlocksMissed, BlocksMissed),
    ];
    for (slot, (outcome, _)) in outcomes.iter().enumerate() {
        m.register_slot(&facts(slot as u64, 32, 1, *outcome, &[]));
    }
    let expected: Vec<_> = outcomes.iter().enumerate().map(|(s, (_, st))| (s as u64, *st)).collect();
    assert_history(&m, v(1), &expected);
    let stats = m.stats(&v(1)).unwrap();
    assert_eq!(stats.missed_proposals, MissedStats::new(2, 4, 2));
    assert_eq!(stats.last_proposal, Some(Slot(1)));
}

#[test]
fn attesters_are_judged_only_when_there_was_a_proposal() {
    let mut m = monitor(16, 32);
    m.register_slot(&facts(1, 32, 3, ProposalOutcome::Mined, &[1]));
    m.register_slot(&facts(2, 32, 3, ProposalOutcome::Proposed, &[]));
    m.register_slot(&facts(3, 32, 3, ProposalOutcome::CheckpointMissed, &[1]));
    m.register_slot(&facts(4, 32, 3, ProposalOutcome::BlocksMissed, &[]));
    assert_history(&m, v(2), &[(1, AttestationSent), (2, AttestationMissed), (3, AttestationSent)]);
    assert_history(&m, v(3), &[(1, AttestationMissed), (2, AttestationMissed)]);
}

#[test]
fn the_proposer_is_never_judged_as_an_attester() {
    let mut m = monitor(16, 32);
    let changed = m.register_slot(&facts(1, 32, 2, ProposalOutcome::Mined, &[0]));
    assert_eq!(changed, vec![v(1), v(2)]);
    assert_history(&m, v(1), &[(1, CheckpointMined)]);
    assert_eq!(m.stats(&v(1)).unwrap().missed_attestations.total, 0);
    assert_eq!(m.network_summary().attestations_total, 1, "the proposer's seat is not an attestation");
}

#[test]
fn an_empty_committee_records_nothing_but_processes_the_slot() {
    let mut m = monitor(16, 32);
    assert!(m.register_slot(&facts(7, 32, 0, ProposalOutcome::BlocksMissed, &[])).is_empty());
    assert!(m.is_empty());
    assert_eq!(m.last_processed_slot(), Some(Slot(7)));
    assert_eq!(m.network_summary().slots_processed, 1);
    assert_eq!(m.network_summary().proposals_total, 0);
}

#[test]
fn a_replayed_or_older_slot_is_ignored() {
    let mut m = monitor(16, 32);
    m.register_slot(&facts(5, 32, 2, ProposalOutcome::Mined, &[1]));
    let before = (m.history(&v(2)), m.network_summary());
    assert!(m.register_slot(&facts(5, 32, 2, ProposalOutcome::Mined, &[])).is_empty());
    assert!(m.register_slot(&facts(4, 32, 2, ProposalOutcome::Mined, &[])).is_empty());
    m.mark_processed(Slot(3));
    assert_eq!((m.history(&v(2)), m.network_summary()), before);
    assert_eq!(m.last_processed_slot(), Some(Slot(5)));
}

#[test]
fn facts_from_an_earlier_epoch_are_ignored() {
    let mut m = monitor(16, 4);
    m.register_slot(&facts(8, 4, 2, ProposalOutcome::Mined, &[1]));
    let mut stale = facts(9, 4, 2, ProposalOutcome::Mined, &[1]);
    stale.epoch = Epoch(1);
    assert!(m.register_slot(&stale).is_empty());
    assert_eq!(m.last_processed_slot(), Some(Slot(8)));
}

#[test]
fn history_is_trimmed_to_the_window_on_write() {
    let mut m = monitor(3, 32);
    for slot in 1..=5 {
        m.register_slot(&facts(slot, 32, 2, ProposalOutcome::Mined, &[]));
    }
    assert_history(&m, v(2), &[(3, AttestationMissed), (4, AttestationMissed), (5, AttestationMissed)]);
    assert_eq!(m.stats(&v(2)).unwrap().total_slots, 3);
}

#[test]
fn stats_cover_the_slot_window_inclusive_of_both_ends() {
    let mut m = monitor(10, 32);
    for slot in [1, 2, 12] {
        m.register_slot(&facts(slot, 32, 2, ProposalOutcome::Mined, &[]));
    }
    // Window [12 - 10, 12] = [2, 12]: slot 1 is out, slot 2 is in.
    let stats = m.stats(&v(2)).unwrap();
    assert_eq!(stats.total_slots, 2);
    assert_eq!(stats.missed_attestations, MissedStats::new(2, 2, 2));
    let early = m.stats_between(&v(2), Slot(0), Slot(1)).unwrap();
    assert_eq!(early.missed_attestations, MissedStats::new(1, 1, 1));
}

#[test]
fn streaks_count_the_misses_at_the_tail() {
    let mut m = monitor(32, 32);
    for (slot, attested) in [(1, true), (2, false), (3, true), (4, false), (5, false)] {
        let seats: &[usize] = if attested { &[1] } else { &[] };
        m.register_slot(&facts(slot, 32, 2, ProposalOutcome::Proposed, seats));
    }
    let stats = m.stats(&v(2)).unwrap();
    assert_eq!(stats.missed_attestations, MissedStats::new(3, 5, 2));
    assert_eq!(stats.last_attestation, Some(Slot(3)));
}

#[test]
fn rate_is_absent_when_a_duty_has_no_entries() {
    let mut m = monitor(32, 32);
    m.register_slot(&facts(1, 32, 3, ProposalOutcome::Mined, &[1, 2]));
    let stats = m.stats(&v(2)).unwrap();
    assert_eq!(stats.missed_proposals, MissedStats { current_streak: 0, rate: None, count: 0, total: 0 });
    assert_eq!(stats.missed_attestations.rate, Some(0.0));
    assert_eq!(m.stats(&v(9)), None, "never seen");
}

#[test]
fn epoch_performance_appears_once_the_epoch_is_complete() {
    let mut m = monitor(64, 4);
    m.register_slot(&facts(1, 4, 2, ProposalOutcome::Mined, &[]));
    m.register_slot(&facts(2, 4, 2, ProposalOutcome::BlocksMissed, &[]));
    assert!(m.epoch_performance(&v(1)).is_empty(), "epoch 0 is still running");
    m.register_slot(&facts(3, 4, 2, ProposalOutcome::Mined, &[1]));
    // Slot 3 is the last of epoch 0: the epoch is complete.
    let perf = |epoch, missed, total| EpochPerformance { epoch: Epoch(epoch), missed, total };
    assert_eq!(m.epoch_performance(&v(1)), vec![perf(0, 1, 3)]);
    assert_eq!(m.epoch_performance(&v(2)), vec![perf(0, 1, 2)], "the blocks-missed slot does not count");

    m.register_slot(&facts(5, 4, 2, ProposalOutcome::Mined, &[]));
    m.mark_processed(Slot(9));
    assert_eq!(m.epoch_performance(&v(2)), vec![perf(0, 1, 2), perf(1, 1, 1)], "a later slot closes epoch 1");
}

#[test]
fn sharded_registration_records_only_owned_validators() {
    let mut m = monitor(16, 32);
    let changed = m.register_slot_for(&facts(1, 32, 4, ProposalOutcome::Mined, &[1]), |a| *a == v(3));
    assert_eq!(changed, vec![v(3)]);
    assert_eq!(m.validators().copied().collect::<Vec<_>>(), vec![v(3)]);
    let net = m.network_summary();
    assert_eq!((net.proposals_total, net.attestations_total, net.attestations_missed), (1, 3, 2));
    assert_eq!(m.slot_summary(Slot(1)).map(|s| s.attestations_missed), Some(2));
}

#[test]
fn validators_whose_entries_leave_the_window_are_reported_changed() {
    let mut m = monitor(4, 32);
    m.register_slot(&facts(1, 32, 2, ProposalOutcome::Mined, &[]));
    let mut other = facts(6, 32, 2, ProposalOutcome::Mined, &[]);
    other.committee = Arc::from(vec![v(7), v(8)]);
    other.proposer = Some(v(7));
    // Window moves to [2, 6]: slot 1 leaves, so v(1) and v(2) changed too.
    assert_eq!(m.register_slot(&other), vec![v(7), v(8), v(1), v(2)]);
    assert_eq!(m.stats(&v(2)).unwrap().total_slots, 0);
    assert_eq!(m.network_summary().slots_processed, 1);
}

#[test]
fn a_repeated_committee_seat_keeps_its_first_status() {
    let mut m = monitor(16, 32);
    let mut f = facts(1, 32, 3, ProposalOutcome::Mined, &[2]);
    f.committee = Arc::from(vec![v(1), v(2), v(2)]);
    m.register_slot(&f);
    assert_history(&m, v(2), &[(1, AttestationMissed)]);
}

#[test]
fn imported_statuses_count_once_processed() {
    let mut m = monitor(16, 4);
    m.register_status(v(1), Slot(2), AttestationMissed);
    m.register_status(v(1), Slot(5), CheckpointMined);
    m.register_status(v(1), Slot(5), BlocksMissed);
    assert_history(&m, v(1), &[(2, AttestationMissed), (5, CheckpointMined)]);
    let perf = m.epoch_performance(&v(1));
    assert_eq!(perf, vec![EpochPerformance { epoch: Epoch(0), missed: 1, total: 1 }]);
    m.mark_processed(Slot(7));
    assert_eq!(m.epoch_performance(&v(1)).len(), 2);
    assert_eq!(m.stats(&v(1)).unwrap().last_proposal, Some(Slot(5)));
    assert_eq!(m.network_summary().slots_processed, 0, "imports are not network facts");
}

#[test]
fn forget_drops_a_validator() {
    let mut m = monitor(16, 32);
    m.register_slot(&facts(1, 32, 2, ProposalOutcome::Mined, &[]));
    m.forget(&v(2));
    assert_eq!((m.len(), m.stats(&v(2))), (1, None));
    assert!(m.history(&v(2)).is_empty());
}

#[test]
fn a_zero_config_is_raised_to_usable_values() {
    let mut m = monitor(0, 0);
    m.register_slot(&facts(3, 1, 2, ProposalOutcome::Mined, &[]));
    assert_eq!(m.history(&v(2)).len(), 1);
    assert_eq!(m.config().slot_window, 1);
}
