//! Network-wide misses. When a large share of a slot's committee missed its attestation, the cause is
//! the network (a p2p partition, a bad release, an L1 outage), not each validator: those misses are
//! excused from every validator's alerts and roles, and the moderators get one notice instead of
//! every operator getting a DM.

use serde::{Deserialize, Serialize};

use crate::monitor::SlotSummary;
use crate::stats::{MissedStats, ValidatorStats};
use crate::time::Slot;

/// When a slot's misses count as network-wide.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutageRule {
    /// Share of the judged committee seats that missed.
    pub committee_share: f64,
    /// An outage ends after this many judged slots in a row below the share.
    pub clear_after_slots: u32,
}

impl Default for OutageRule {
    fn default() -> Self {
        Self { committee_share: 0.5, clear_after_slots: 2 }
    }
}

impl OutageRule {
    /// Whether the slot's attestation misses were network-wide. Slots without judged attestations
    /// (no proposal to attest to) say nothing either way.
    pub fn is_network_wide(&self, slot: &SlotSummary) -> bool {
        miss_share(slot).is_some_and(|share| share >= self.committee_share - 1e-9)
    }
}

/// The share of the slot's judged attestations that were missed (`None`: none were judged).
fn miss_share(slot: &SlotSummary) -> Option<f64> {
    (slot.attestations_total > 0)
        .then(|| f64::from(slot.attestations_missed) / f64::from(slot.attestations_total))
}

/// Misses in a validator's window that fell on network-wide slots.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Excused {
    /// Missed attestations at network-wide slots inside the window.
    pub misses: u32,
    /// How many of the current attestation streak's misses were network-wide.
    pub streak: u32,
}

impl ValidatorStats {
    /// These stats with the excused misses forgiven, as if the validator had done those duties (the
    /// network, not it, failed them): its own record, on the same sample as its peers'.
    pub fn excusing(&self, excused: Excused) -> ValidatorStats {
        if excused == Excused::default() {
            return self.clone();
        }
        let a = &self.missed_attestations;
        let misses = excused.misses.min(a.count);
        let own =
            MissedStats::new(a.count - misses, a.total, a.current_streak.saturating_sub(excused.streak));
        ValidatorStats { missed_attestations: own, ..self.clone() }
    }
}

/// A network-wide outage in progress (or just ended).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Outage {
    pub first: Slot,
    pub last: Slot,
    /// Network-wide slots so far.
    pub slots: u32,
    /// The largest share of a committee that missed one slot.
    pub worst_share: f64,
}

impl Outage {
    pub fn describe(&self) -> String {
        format!(
            "{} slot(s) from slot {} to {} where most of the committee missed its attestation (worst {:.0}%)",
            self.slots,
            self.first,
            self.last,
            self.worst_share * 100.0
        )
    }
}

/// Follows the network's slots and says when an outage begins and ends.
#[derive(Clone, Debug, Default)]
pub struct NetworkHealth {
    rule: OutageRule,
    outage: Option<Outage>,
    clean_run: u32,
    last_seen: Option<Slot>,
}

impl NetworkHealth {
    pub fn new(rule: OutageRule) -> Self {
        Self { rule, ..Self::default() }
    }

    /// The outage in progress.
    pub fn outage(&self) -> Option<&Outage> {
        self.outage.as_ref()
    }

    /// Takes in one slot (in slot order; an old slot is ignored). Returns the outage that just ended.
    pub fn observe(&mut self, slot: &SlotSummary) -> Option<Outage> {
        if self.last_seen.is_some_and(|seen| slot.slot <= seen) {
            return None;
        }
        self.last_seen = Some(slot.slot);
        let share = miss_share(slot)?;
        if self.rule.is_network_wide(slot) {
            self.clean_run = 0;
            let outage = self.outage.get_or_insert(Outage {
                first: slot.slot,
                last: slot.slot,
                slots: 0,
                worst_share: 0.0,
            });
            outage.last = slot.slot;
            outage.slots += 1;
            outage.worst_share = outage.worst_share.max(share);
            return None;
        }
        self.clean_run += 1;
        if self.clean_run >= self.rule.clear_after_slots.max(1) { self.outage.take() } else { None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(n: u64, missed: u32, total: u32) -> SlotSummary {
        SlotSummary {
            slot: Slot(n),
            committee_size: total + 1,
            proposal_missed: Some(false),
            attestations_total: total,
            attestations_missed: missed,
        }
    }

    #[test]
    fn most_of_a_committee_missing_is_network_wide() {
        let rule = OutageRule::default();
        assert!(rule.is_network_wide(&slot(1, 6, 12)));
        assert!(!rule.is_network_wide(&slot(1, 5, 12)));
        assert!(!rule.is_network_wide(&slot(1, 0, 0)), "no proposal: nothing judged");
    }

    #[test]
    fn an_outage_begins_with_a_network_wide_slot_and_ends_after_clean_ones() {
        let mut health = NetworkHealth::new(OutageRule::default());
        assert_eq!(health.observe(&slot(1, 0, 12)), None);
        assert!(health.outage().is_none());
        health.observe(&slot(2, 11, 12));
        health.observe(&slot(3, 0, 0));
        health.observe(&slot(4, 9, 12));
        let outage = health.outage().cloned().expect("in an outage");
        assert_eq!((outage.first, outage.last, outage.slots), (Slot(2), Slot(4), 2));
        assert!((outage.worst_share - 11.0 / 12.0).abs() < 1e-9);
        assert_eq!(health.observe(&slot(5, 1, 12)), None, "one clean slot is not the end");
        assert_eq!(health.observe(&slot(5, 1, 12)), None, "a repeated slot is ignored");
        assert_eq!(health.observe(&slot(6, 0, 12)), Some(outage));
        assert!(health.outage().is_none());
    }

    #[test]
    fn excusing_takes_network_wide_misses_out_of_the_record() {
        let stats =
            ValidatorStats { missed_attestations: MissedStats::new(7, 20, 6), ..ValidatorStats::default() };
        let own = stats.excusing(Excused { misses: 5, streak: 5 });
        assert_eq!(own.missed_attestations, MissedStats::new(2, 20, 1));
        assert_eq!(stats.excusing(Excused::default()), stats);
    }
}
