//! The node's Sentinel: per-validator statuses and stats, computed by [`ValidatorMonitor`] from the
//! simulated slots, processed up to `current slot − 2` like a real node.

use std::sync::{Arc, Mutex, MutexGuard};

use sparta_core::{
    Address, EpochPerformance, MonitorConfig, Slot, ValidatorMonitor, ValidatorStats, ValidatorStatusInSlot,
};

use crate::network::Network;
use crate::params::SENTINEL_LAG_SLOTS;

/// Slots copied out of the network per read, so catching up on a long history stays bounded.
const CATCH_UP_CHUNK: u64 = 4_096;

/// One validator's stats over a slot range, with the history entries inside it.
#[derive(Clone, Debug, PartialEq)]
pub struct SentinelView {
    pub stats: ValidatorStats,
    pub history: Vec<(Slot, ValidatorStatusInSlot)>,
}

pub struct Sentinel {
    network: Arc<Network>,
    slot_window: u64,
    monitor: Mutex<ValidatorMonitor>,
}

impl std::fmt::Debug for Sentinel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sentinel").field("slot_window", &self.slot_window).finish_non_exhaustive()
    }
}

impl Sentinel {
    pub fn new(network: Arc<Network>) -> Self {
        // The node keeps its newest entries whatever their age, and answers old ranges from them.
        let config = MonitorConfig { keep_old_entries: true, ..MonitorConfig::for_timing(&network.timing()) };
        Self { network, slot_window: config.slot_window, monitor: Mutex::new(ValidatorMonitor::new(config)) }
    }

    /// `slotWindow`: history length in slots (768 with 32-slot epochs).
    pub fn slot_window(&self) -> u64 {
        self.slot_window
    }

    /// The newest slot the sentinel has processed (`None` before slot 2).
    pub fn last_processed_slot(&self) -> Option<Slot> {
        self.caught_up().last_processed_slot()
    }

    /// Every validator with history, with its stats over the current window.
    pub fn all(&self) -> Vec<SentinelView> {
        let monitor = self.caught_up();
        let (from, to) = self.default_range(&monitor);
        let mut addresses: Vec<Address> = monitor.validators().copied().collect();
        addresses.sort();
        addresses.iter().filter_map(|a| Self::view(&monitor, a, from, to)).collect()
    }

    /// One validator's stats over `from..=to` (defaults: the current window); `None` without history.
    pub fn one(
        &self,
        address: &Address,
        from: Option<Slot>,
        to: Option<Slot>,
    ) -> Option<(SentinelView, Vec<EpochPerformance>)> {
        let monitor = self.caught_up();
        let (default_from, default_to) = self.default_range(&monitor);
        let view = Self::view(&monitor, address, from.unwrap_or(default_from), to.unwrap_or(default_to))?;
        Some((view, monitor.epoch_performance(address)))
    }

    fn default_range(&self, monitor: &ValidatorMonitor) -> (Slot, Slot) {
        match monitor.last_processed_slot() {
            Some(last) => (Slot(last.0.saturating_sub(self.slot_window)), last),
            None => (Slot(0), Slot(0)),
        }
    }

    fn view(monitor: &ValidatorMonitor, address: &Address, from: Slot, to: Slot) -> Option<SentinelView> {
        let stats = monitor.stats_between(address, from, to)?;
        let history =
            monitor.history(address).into_iter().filter(|(slot, _)| (from..=to).contains(slot)).collect();
        Some(SentinelView { stats, history })
    }

    /// The monitor, fed every slot up to `current − 2`.
    fn caught_up(&self) -> MutexGuard<'_, ValidatorMonitor> {
        let mut monitor = self.monitor.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let Some(target) = self.network.node_slot().0.checked_sub(SENTINEL_LAG_SLOTS) else {
            return monitor;
        };
        let mut next = monitor.last_processed_slot().map_or(0, |s| s.0 + 1);
        while next <= target {
            let end = (next + CATCH_UP_CHUNK - 1).min(target);
            for record in self.network.slots(Slot(next), Slot(end)) {
                monitor.register_slot(&record.facts());
            }
            next = end + 1;
        }
        monitor
    }
}
