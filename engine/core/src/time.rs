//! Slots, epochs and the clock that tells which slot it is.
//!
//! Arithmetic follows the Rollup contract: `slot = (ts - genesis) / slot_duration`,
//! `epoch = slot / epoch_duration`; timestamps before genesis fall in slot 0.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// An Aztec L2 slot number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Slot(pub u64);

/// An Aztec epoch number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Epoch(pub u64);

impl fmt::Display for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for Epoch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Slot {
    pub fn next(self) -> Slot {
        Slot(self.0 + 1)
    }
}

/// The timing parameters of one rollup instance (read from L1, persisted, checked at start).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainTiming {
    /// Unix seconds of the rollup's genesis (its deploy block timestamp).
    pub genesis_time_s: u64,
    /// Seconds per L2 slot (72 on mainnet).
    pub slot_duration_s: u64,
    /// Slots per epoch (32 on mainnet).
    pub epoch_duration_slots: u64,
}

impl ChainTiming {
    pub fn slot_at(&self, unix_s: u64) -> Slot {
        Slot(unix_s.saturating_sub(self.genesis_time_s) / self.slot_duration_s.max(1))
    }

    pub fn epoch_of(&self, slot: Slot) -> Epoch {
        Epoch(slot.0 / self.epoch_duration_slots.max(1))
    }

    pub fn epoch_at(&self, unix_s: u64) -> Epoch {
        self.epoch_of(self.slot_at(unix_s))
    }

    /// Unix seconds at which `slot` starts.
    pub fn slot_start_s(&self, slot: Slot) -> u64 {
        self.genesis_time_s + slot.0 * self.slot_duration_s
    }

    pub fn first_slot(&self, epoch: Epoch) -> Slot {
        Slot(epoch.0 * self.epoch_duration_slots)
    }

    pub fn last_slot(&self, epoch: Epoch) -> Slot {
        Slot(epoch.0 * self.epoch_duration_slots + self.epoch_duration_slots - 1)
    }

    pub fn epoch_start_s(&self, epoch: Epoch) -> u64 {
        self.slot_start_s(self.first_slot(epoch))
    }

    pub fn is_last_slot_of_epoch(&self, slot: Slot) -> bool {
        (slot.0 + 1).is_multiple_of(self.epoch_duration_slots.max(1))
    }
}

/// Where "now" comes from. The watcher sleeps until the next slot boundary instead of a fixed interval.
pub trait SlotClock: Send + Sync + 'static {
    /// Time since the Unix epoch.
    fn now(&self) -> Duration;

    fn timing(&self) -> ChainTiming;

    fn now_s(&self) -> u64 {
        self.now().as_secs()
    }

    fn current_slot(&self) -> Slot {
        self.timing().slot_at(self.now_s())
    }

    fn current_epoch(&self) -> Epoch {
        let t = self.timing();
        t.epoch_of(t.slot_at(self.now_s()))
    }

    /// How long until the next slot starts (never zero, so a loop on it cannot spin).
    fn duration_to_next_slot(&self) -> Duration {
        let t = self.timing();
        let next = t.slot_start_s(self.current_slot().next());
        Duration::from_secs(next).saturating_sub(self.now()).max(Duration::from_millis(1))
    }

    /// Seconds since `slot` started (0 for a slot in the future).
    fn age_of(&self, slot: Slot) -> Duration {
        self.now().saturating_sub(Duration::from_secs(self.timing().slot_start_s(slot)))
    }
}

/// The wall clock.
#[derive(Clone, Debug)]
pub struct SystemSlotClock {
    timing: ChainTiming,
}

impl SystemSlotClock {
    pub fn new(timing: ChainTiming) -> Self {
        Self { timing }
    }
}

impl SlotClock for SystemSlotClock {
    fn now(&self) -> Duration {
        SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default()
    }

    fn timing(&self) -> ChainTiming {
        self.timing
    }
}

/// A clock that moves only when told to; clones share the same time.
#[derive(Clone, Debug)]
pub struct ManualSlotClock {
    timing: ChainTiming,
    now_ms: Arc<AtomicU64>,
}

impl ManualSlotClock {
    pub fn new(timing: ChainTiming, now: Duration) -> Self {
        Self { timing, now_ms: Arc::new(AtomicU64::new(now.as_millis() as u64)) }
    }

    /// A clock standing at the start of `slot`.
    pub fn at_slot(timing: ChainTiming, slot: Slot) -> Self {
        Self::new(timing, Duration::from_secs(timing.slot_start_s(slot)))
    }

    pub fn set(&self, now: Duration) {
        self.now_ms.store(now.as_millis() as u64, Ordering::SeqCst);
    }

    pub fn advance(&self, by: Duration) {
        self.now_ms.fetch_add(by.as_millis() as u64, Ordering::SeqCst);
    }

    pub fn set_slot(&self, slot: Slot) {
        self.set(Duration::from_secs(self.timing.slot_start_s(slot)));
    }
}

impl SlotClock for ManualSlotClock {
    fn now(&self) -> Duration {
        Duration::from_millis(self.now_ms.load(Ordering::SeqCst))
    }

    fn timing(&self) -> ChainTiming {
        self.timing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: ChainTiming =
        ChainTiming { genesis_time_s: 1_000, slot_duration_s: 72, epoch_duration_slots: 32 };

    #[test]
    fn slot_arithmetic_matches_the_rollup() {
        assert_eq!(T.slot_at(999), Slot(0), "before genesis is slot 0");
        assert_eq!(T.slot_at(1_000), Slot(0));
        assert_eq!(T.slot_at(1_071), Slot(0));
        assert_eq!(T.slot_at(1_072), Slot(1));
        assert_eq!(T.epoch_of(Slot(31)), Epoch(0));
        assert_eq!(T.epoch_of(Slot(32)), Epoch(1));
        assert_eq!(T.slot_start_s(Slot(2)), 1_144);
        assert_eq!(T.first_slot(Epoch(2)), Slot(64));
        assert_eq!(T.last_slot(Epoch(2)), Slot(95));
        assert!(T.is_last_slot_of_epoch(Slot(95)));
        assert!(!T.is_last_slot_of_epoch(Slot(96)));
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualSlotClock::at_slot(T, Slot(10));
        assert_eq!(clock.current_slot(), Slot(10));
        assert_eq!(clock.duration_to_next_slot(), Duration::from_secs(72));
        clock.advance(Duration::from_secs(70));
        assert_eq!(clock.duration_to_next_slot(), Duration::from_secs(2));
        clock.advance(Duration::from_secs(2));
        assert_eq!(clock.current_slot(), Slot(11));
        assert_eq!(clock.current_epoch(), Epoch(0));
        assert_eq!(clock.age_of(Slot(10)), Duration::from_secs(72));
        assert_eq!(clock.age_of(Slot(12)), Duration::ZERO);
    }
}
