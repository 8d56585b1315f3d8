//! How each simulated validator behaves.
//!
//! # Scripted assignment
//!
//! The first five validators (by index) follow a script, so a watcher sees every interesting
//! case within the first 30 slots (one minute at 2 s slots):
//!
//! | index | profile | what a watcher sees |
//! |---|---|---|
//! | 0 | [`Profile::Reliable`] | every duty done: ≥ 16 attestations well before slot 30 |
//! | 1 | [`Profile::Flaky`] 10 % | occasional misses |
//! | 2 | [`Profile::GoesOffline`] from slot 6 | every duty missed from slot 6 on |
//! | 3 | [`Profile::Slashed`] at slot 20 | tally votes at slots 17–19, `Slashed` at 20, ZOMBIE, silent |
//! | 4 | [`Profile::Exits`] at slot 24 | `WithdrawInitiated` at 24, EXITING, silent |
//!
//! Scripted validators sit in every committee while they are in the set, so their duties do not
//! depend on sampling luck. Of the other validators about 10 % are `Flaky { miss_pct: 10 }` (a
//! seeded roll per validator); the rest are `Reliable`.
//!
//! A validator that leaves the set (slashed or exited) goes silent at once: it stays in its current
//! epoch's committee (committees are fixed per epoch) but does no more duties, and is absent from
//! every later committee.

use serde::{Deserialize, Serialize};
use sparta_core::Slot;

use crate::derive;

/// A validator's behaviour over time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Profile {
    /// Proposes and attests every time.
    Reliable,
    /// Misses each duty with probability `miss_pct` %.
    Flaky { miss_pct: u8 },
    /// Reliable before `from_slot`, silent from it on.
    GoesOffline { from_slot: Slot },
    /// Silent from `from_slot` through `to_slot`, reliable before and after (a node that was down).
    Outage { from_slot: Slot, to_slot: Slot },
    /// Misses every duty of every `every`-th slot, and none other: a miss rate of exactly `1/every`
    /// over time (a validator hovering at a threshold).
    Periodic { every: u64 },
    /// Reliable until slashed out of the set at `at_slot` (status ZOMBIE).
    Slashed { at_slot: Slot },
    /// Reliable until it initiates a withdrawal at `at_slot` (status EXITING).
    Exits { at_slot: Slot },
}

/// The scripted profiles of validators `0..SCRIPTED.len()`.
pub const SCRIPTED: [Profile; 5] = [
    Profile::Reliable,
    Profile::Flaky { miss_pct: 10 },
    Profile::GoesOffline { from_slot: Slot(6) },
    Profile::Slashed { at_slot: Slot(20) },
    Profile::Exits { at_slot: Slot(24) },
];

/// Share of unscripted validators that are flaky, in percent.
const FLAKY_SHARE_PCT: u8 = 10;
const FLAKY_MISS_PCT: u8 = 10;

impl Profile {
    /// The profile of validator `index` in a network seeded with `seed`.
    pub fn assigned(seed: u64, index: usize) -> Profile {
        if let Some(scripted) = SCRIPTED.get(index) {
            return *scripted;
        }
        if derive::percent(seed, "profile", index as u64, 0) < FLAKY_SHARE_PCT {
            Profile::Flaky { miss_pct: FLAKY_MISS_PCT }
        } else {
            Profile::Reliable
        }
    }

    /// The slot at which the validator leaves the attester set, if it ever does.
    pub fn leaves_at(self) -> Option<Slot> {
        match self {
            Profile::Slashed { at_slot } | Profile::Exits { at_slot } => Some(at_slot),
            _ => None,
        }
    }

    /// Whether the validator is still in the attester set at `slot`.
    pub fn in_set_at(self, slot: Slot) -> bool {
        self.leaves_at().is_none_or(|leave| slot < leave)
    }

    /// Chance in percent that the validator misses a duty in `slot` (100 = certainly).
    pub fn miss_pct_at(self, slot: Slot) -> u8 {
        match self {
            Profile::Reliable => 0,
            Profile::Flaky { miss_pct } => miss_pct.min(100),
            Profile::GoesOffline { from_slot } => {
                if slot >= from_slot {
                    100
                } else {
                    0
                }
            }
            Profile::Outage { from_slot, to_slot } => {
                if (from_slot..=to_slot).contains(&slot) {
                    100
                } else {
                    0
                }
            }
            Profile::Periodic { every } => {
                if every > 0 && slot.0.is_multiple_of(every) {
                    100
                } else {
                    0
                }
            }
            Profile::Slashed { .. } | Profile::Exits { .. } => {
                if self.in_set_at(slot) {
                    0
                } else {
                    100
                }
            }
        }
    }
}

impl std::fmt::Display for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Profile::Reliable => write!(f, "reliable"),
            Profile::Flaky { miss_pct } => write!(f, "flaky ({miss_pct}% misses)"),
            Profile::GoesOffline { from_slot } => write!(f, "goes offline at slot {from_slot}"),
            Profile::Outage { from_slot, to_slot } => write!(f, "offline from slot {from_slot} to {to_slot}"),
            Profile::Periodic { every } => write!(f, "misses every {every}th slot"),
            Profile::Slashed { at_slot } => write!(f, "gets slashed at slot {at_slot}"),
            Profile::Exits { at_slot } => write!(f, "exits at slot {at_slot}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripted_validators_come_first_and_the_rest_are_mostly_reliable() {
        assert_eq!(Profile::assigned(42, 2), Profile::GoesOffline { from_slot: Slot(6) });
        let flaky = (SCRIPTED.len()..1_000)
            .filter(|i| matches!(Profile::assigned(42, *i), Profile::Flaky { .. }))
            .count();
        assert!((50..=150).contains(&flaky), "about 10 % flaky, got {flaky} of 995");
    }

    #[test]
    fn leaving_silences_a_validator() {
        let p = Profile::Slashed { at_slot: Slot(20) };
        assert!(p.in_set_at(Slot(19)) && !p.in_set_at(Slot(20)));
        assert_eq!(p.miss_pct_at(Slot(19)), 0);
        assert_eq!(p.miss_pct_at(Slot(20)), 100);
        assert_eq!(Profile::GoesOffline { from_slot: Slot(6) }.miss_pct_at(Slot(5)), 0);
    }
}
