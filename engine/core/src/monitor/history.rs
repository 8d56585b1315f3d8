//! One validator's status history in compact form: a bounded ring of packed `(slot, status)` words.

use std::collections::VecDeque;

use crate::Address;
use crate::outage::Excused;
use crate::stats::{MissedStats, ValidatorStats};
use crate::status::{StatusCategory, ValidatorStatusInSlot};
use crate::time::Slot;

/// The largest slot a packed entry can hold (56 bits; mainnet reaches 2^32 after ~9,800 years).
pub const MAX_SLOT: u64 = (1 << 56) - 1;

/// A slot and a status code in one word: 8 bytes per history entry, no heap per entry.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Entry(u64);

impl Entry {
    fn new(slot: u64, status: ValidatorStatusInSlot) -> Self {
        Self((slot << 8) | u64::from(status.code()))
    }

    fn slot(self) -> u64 {
        self.0 >> 8
    }

    fn status(self) -> ValidatorStatusInSlot {
        ValidatorStatusInSlot::from_code((self.0 & 0xff) as u8)
    }
}

/// The entries of one validator, ascending by slot, at most `cap` of them (oldest dropped on write).
#[derive(Clone, Default)]
pub struct History {
    entries: VecDeque<Entry>,
}

impl History {
    pub fn last_slot(&self) -> Option<u64> {
        self.entries.back().map(|e| e.slot())
    }

    /// Appends an entry; returns false (and records nothing) unless `slot` is after the last entry
    /// and representable, so a replayed slot or a repeated committee seat is recorded once.
    pub fn push(&mut self, slot: u64, status: ValidatorStatusInSlot, cap: usize) -> bool {
        if slot > MAX_SLOT || self.last_slot().is_some_and(|last| slot <= last) {
            return false;
        }
        while self.entries.len() >= cap.max(1) {
            self.entries.pop_front();
        }
        self.entries.push_back(Entry::new(slot, status));
        true
    }

    /// Drops the entries before `slot`, and gives back memory the ring no longer needs (a validator
    /// off the committee for a window holds none).
    pub fn drop_before(&mut self, slot: u64) {
        let stale = self.entries.partition_point(|e| e.slot() < slot);
        if stale == 0 {
            return;
        }
        self.entries.drain(..stale);
        if self.entries.is_empty() || self.entries.capacity() > 2 * self.entries.len() + 4 {
            self.entries.shrink_to_fit();
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (Slot, ValidatorStatusInSlot)> + '_ {
        self.entries.iter().map(|e| (Slot(e.slot()), e.status()))
    }

    /// Stats over the entries with `from <= slot <= to` (both inclusive, as the node does).
    pub fn stats(&self, address: Address, from: u64, to: u64) -> ValidatorStats {
        let start = self.entries.partition_point(|e| e.slot() < from);
        let end = self.entries.partition_point(|e| e.slot() <= to).max(start);
        let mut tally = Tally::default();
        for entry in self.entries.range(start..end) {
            tally.add(entry.slot(), entry.status());
        }
        ValidatorStats {
            address,
            last_proposal: tally.last_proposal.map(Slot),
            last_attestation: tally.last_attestation.map(Slot),
            total_slots: (end - start) as u32,
            missed_proposals: tally.proposals.finish(),
            missed_attestations: tally.attestations.finish(),
        }
    }
}

impl History {
    /// The missed attestations with `from <= slot <= to` that `excused` forgives, and how many of the
    /// current attestation streak those are.
    pub fn excused(&self, from: u64, to: u64, excused: impl Fn(Slot) -> bool) -> Excused {
        let start = self.entries.partition_point(|e| e.slot() < from);
        let end = self.entries.partition_point(|e| e.slot() <= to).max(start);
        let mut out = Excused::default();
        let mut in_streak = true;
        for entry in self.entries.range(start..end).rev() {
            match entry.status().category() {
                StatusCategory::AttestMiss => {
                    let forgiven = excused(Slot(entry.slot()));
                    out.misses += u32::from(forgiven);
                    out.streak += u32::from(forgiven && in_streak);
                }
                StatusCategory::AttestGood => in_streak = false,
                _ => {}
            }
        }
        out
    }
}

/// Running counts of one duty; the streak resets on every success, so it ends as the tail's misses.
#[derive(Default)]
struct DutyTally {
    count: u32,
    total: u32,
    streak: u32,
}

impl DutyTally {
    fn add(&mut self, missed: bool) {
        self.total += 1;
        if missed {
            self.count += 1;
            self.streak += 1;
        } else {
            self.streak = 0;
        }
    }

    fn finish(&self) -> MissedStats {
        MissedStats::new(self.count, self.total, self.streak)
    }
}

#[derive(Default)]
struct Tally {
    proposals: DutyTally,
    attestations: DutyTally,
    last_proposal: Option<u64>,
    last_attestation: Option<u64>,
}

impl Tally {
    fn add(&mut self, slot: u64, status: ValidatorStatusInSlot) {
        match status.category() {
            StatusCategory::ProposerGood => {
                self.proposals.add(false);
                self.last_proposal = Some(slot);
            }
            StatusCategory::ProposerMiss => self.proposals.add(true),
            StatusCategory::AttestGood => {
                self.attestations.add(false);
                self.last_attestation = Some(slot);
            }
            StatusCategory::AttestMiss => self.attestations.add(true),
            StatusCategory::Uncounted => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ValidatorStatusInSlot::*;

    fn history(entries: &[(u64, ValidatorStatusInSlot)], cap: usize) -> History {
        let mut h = History::default();
        for (slot, status) in entries {
            h.push(*slot, *status, cap);
        }
        h
    }

    #[test]
    fn excused_counts_forgiven_misses_in_range_and_in_the_streak() {
        let h = history(
            &[
                (1, AttestationMissed),
                (2, AttestationSent),
                (3, AttestationMissed),
                (4, CheckpointMissed),
                (5, AttestationMissed),
                (6, AttestationMissed),
            ],
            16,
        );
        let wide = |s: Slot| [1, 3, 5].contains(&s.0);
        assert_eq!(
            h.excused(0, 6, wide),
            Excused { misses: 3, streak: 2 },
            "slots 3 and 5 are in the streak"
        );
        assert_eq!(h.excused(2, 5, wide), Excused { misses: 2, streak: 2 });
        assert_eq!(h.excused(0, 6, |_| false), Excused::default());
    }

    #[test]
    fn entries_pack_every_status_and_large_slots() {
        for status in ValidatorStatusInSlot::ALL {
            let e = Entry::new(MAX_SLOT, status);
            assert_eq!((e.slot(), e.status()), (MAX_SLOT, status));
        }
    }

    #[test]
    fn push_rejects_old_and_unrepresentable_slots() {
        let mut h = History::default();
        assert!(h.push(5, AttestationSent, 4));
        assert!(!h.push(5, AttestationMissed, 4), "same slot twice");
        assert!(!h.push(3, AttestationMissed, 4), "older slot");
        assert!(!h.push(MAX_SLOT + 1, AttestationSent, 4));
        assert_eq!(h.iter().collect::<Vec<_>>(), vec![(Slot(5), AttestationSent)]);
    }

    #[test]
    fn push_trims_to_the_cap_keeping_the_newest() {
        let h = history(&[(1, AttestationSent), (2, AttestationMissed), (3, CheckpointMined)], 2);
        assert_eq!(h.iter().map(|(s, _)| s.0).collect::<Vec<_>>(), vec![2, 3]);
    }

    #[test]
    fn dropping_old_entries_keeps_the_rest_and_frees_an_emptied_ring() {
        let mut h = history(&[(1, AttestationSent), (5, AttestationMissed), (9, CheckpointMined)], 8);
        h.drop_before(5);
        assert_eq!(h.iter().map(|(s, _)| s.0).collect::<Vec<_>>(), vec![5, 9]);
        h.drop_before(5);
        assert_eq!(h.iter().count(), 2, "nothing older left");
        h.drop_before(100);
        assert_eq!(h.iter().count(), 0);
        assert_eq!(h.entries.capacity(), 0, "an empty ring holds no memory");
        assert!(h.push(101, AttestationSent, 8), "and takes new entries");
    }

    #[test]
    fn stats_bounds_are_inclusive() {
        let h = history(&[(10, AttestationMissed), (11, AttestationSent), (12, AttestationMissed)], 8);
        let s = h.stats(Address::ZERO, 10, 11);
        assert_eq!(s.total_slots, 2);
        assert_eq!(s.missed_attestations, MissedStats::new(1, 2, 0));
        assert_eq!(s.last_attestation, Some(Slot(11)));
        assert_eq!(h.stats(Address::ZERO, 12, 11).total_slots, 0, "empty range");
    }

    #[test]
    fn streaks_count_only_the_tail_of_their_own_duty() {
        let h = history(
            &[
                (1, AttestationMissed),
                (2, AttestationSent),
                (3, AttestationMissed),
                (4, CheckpointMined),
                (5, AttestationMissed),
                (6, BlocksMissed),
            ],
            16,
        );
        let s = h.stats(Address::ZERO, 0, 100);
        assert_eq!(s.missed_attestations, MissedStats::new(3, 4, 2), "a proposal does not break it");
        assert_eq!(s.missed_proposals, MissedStats::new(1, 2, 1));
        assert_eq!(s.last_proposal, Some(Slot(4)));
        assert_eq!(s.total_slots, 6);
    }

    #[test]
    fn rate_is_absent_without_entries_of_that_duty() {
        let h = history(&[(1, AttestationSent), (2, Unknown)], 4);
        let s = h.stats(Address::ZERO, 0, 10);
        assert_eq!(s.missed_proposals.rate, None);
        assert_eq!(s.missed_attestations.rate, Some(0.0));
        assert_eq!(s.total_slots, 2, "uncounted statuses still occupy a slot");
    }
}
