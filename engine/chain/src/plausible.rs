//! What a source says, held to what can be true. A slot ahead of the slot clock, or an empty committee
//! nobody explains, is never committed: the slot is read again later and the refusal is counted, so a
//! provider that lies for a while delays following and corrupts nothing.

use sparta_core::Slot;
use sparta_telemetry::catalog;

use crate::source::SETTLING_SLOTS;

/// How far ahead of the local clock L1 may run (its block times, a skewed local clock) and still be
/// believed.
pub const CLOCK_TOLERANCE_SLOTS: u64 = 1;

/// What was refused (the counter's `kind` label: a small, fixed set).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Implausible {
    /// L1's current slot ahead of the slot clock.
    FutureSlot,
    /// No committee while enough validators are active and L1 does not say why.
    EmptyCommittee,
}

impl Implausible {
    pub const ALL: [Implausible; 2] = [Implausible::FutureSlot, Implausible::EmptyCommittee];

    pub fn label(self) -> &'static str {
        match self {
            Implausible::FutureSlot => "future_slot",
            Implausible::EmptyCommittee => "empty_committee",
        }
    }
}

pub fn count_implausible(kind: Implausible) {
    metrics::counter!(catalog::CHAIN_IMPLAUSIBLE_TOTAL, "kind" => kind.label()).increment(1);
}

/// The safe slot a source reported, held to the slot clock: never past what the clock allows (its
/// current slot less the settling slots, plus the tolerance). A report past that is counted and cut.
pub fn safe_slot_within_clock(reported: Slot, clock_slot: Slot) -> Slot {
    let latest = Slot(clock_slot.0.saturating_sub(SETTLING_SLOTS) + CLOCK_TOLERANCE_SLOTS);
    if reported <= latest {
        return reported;
    }
    count_implausible(Implausible::FutureSlot);
    tracing::warn!(
        reported = %reported,
        clock_allows = %latest,
        "L1 reports a slot ahead of the slot clock; following only as far as the clock allows"
    );
    latest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_safe_slot_past_the_clock_is_cut_to_it() {
        let clock = Slot(520);
        assert_eq!(safe_slot_within_clock(Slot(518), clock), Slot(518), "the usual case");
        assert_eq!(safe_slot_within_clock(Slot(519), clock), Slot(519), "within the tolerance");
        assert_eq!(safe_slot_within_clock(Slot(1 << 63), clock), Slot(519));
        assert_eq!(safe_slot_within_clock(Slot(u64::MAX), Slot(0)), Slot(1), "near genesis");
        assert_eq!(safe_slot_within_clock(Slot(3), Slot(900)), Slot(3), "behind is lag, not a lie");
    }

    #[test]
    fn every_kind_is_registered_at_zero() {
        let (_, _, labels) = catalog::CLOSED_COUNTERS
            .iter()
            .find(|(name, ..)| *name == catalog::CHAIN_IMPLAUSIBLE_TOTAL)
            .expect("registered");
        assert_eq!(Implausible::ALL.map(Implausible::label).as_slice(), *labels);
    }
}
