//! Per-validator statistics, shaped like the node's `ValidatorStats` so the two compare field by field.

use serde::{Deserialize, Serialize};

use crate::Address;
use crate::time::{Epoch, Slot};

/// Misses of one duty over the window, as the Sentinel reports them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MissedStats {
    /// Consecutive misses at the tail of this duty's history.
    pub current_streak: u32,
    /// `count / total`; absent when `total == 0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    pub count: u32,
    pub total: u32,
}

impl MissedStats {
    pub fn new(count: u32, total: u32, current_streak: u32) -> Self {
        let rate = (total > 0).then(|| f64::from(count) / f64::from(total));
        Self { current_streak, rate, count, total }
    }
}

/// One validator's stats over the slot window ending at the last processed slot.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidatorStats {
    pub address: Address,
    pub last_proposal: Option<Slot>,
    pub last_attestation: Option<Slot>,
    /// History entries inside the window.
    pub total_slots: u32,
    pub missed_proposals: MissedStats,
    pub missed_attestations: MissedStats,
}

/// Misses over one epoch's slots: attestation and proposal duties combined, as the Sentinel's
/// per-epoch performance (only slots with activity count).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochPerformance {
    pub epoch: Epoch,
    pub missed: u32,
    pub total: u32,
}

impl EpochPerformance {
    pub fn miss_rate(&self) -> Option<f64> {
        (self.total > 0).then(|| f64::from(self.missed) / f64::from(self.total))
    }
}
