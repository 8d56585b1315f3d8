//! One validator's per-epoch performance: misses and duties summed over each epoch's entries.
//!
//! Counted at write time, so trimming the slot history never changes an epoch's numbers.

use std::collections::VecDeque;

use crate::stats::EpochPerformance;
use crate::status::StatusCategory;
use crate::time::Epoch;

#[derive(Clone, Default)]
pub struct EpochLedger {
    /// The epoch of the latest entry; it may still receive entries.
    open: Option<EpochPerformance>,
    /// Earlier epochs, oldest first, at most `keep`.
    closed: VecDeque<EpochPerformance>,
}

impl EpochLedger {
    pub fn record(&mut self, epoch: Epoch, category: StatusCategory, keep: usize) {
        let open = match &mut self.open {
            // An older epoch than the open one only comes from inconsistent input; it counts in the open one.
            Some(open) if epoch <= open.epoch => open,
            slot => {
                if let Some(done) = slot.take() {
                    // Make room first, so the ring never grows past `keep` (and its memory never doubles).
                    while self.closed.len() >= keep.max(1) {
                        self.closed.pop_front();
                    }
                    self.closed.push_back(done);
                }
                slot.insert(EpochPerformance { epoch, missed: 0, total: 0 })
            }
        };
        match category {
            StatusCategory::ProposerMiss | StatusCategory::AttestMiss => {
                open.missed += 1;
                open.total += 1;
            }
            StatusCategory::ProposerGood | StatusCategory::AttestGood => open.total += 1,
            StatusCategory::Uncounted => {}
        }
    }

    /// How many epochs before `first_open_epoch` had duties (a count of [`Self::completed`]'s
    /// epochs with a total, without building it).
    pub fn active(&self, first_open_epoch: Epoch) -> u32 {
        let open = self.open.filter(|open| open.epoch < first_open_epoch);
        self.closed.iter().chain(open.as_ref()).filter(|e| e.total > 0).count() as u32
    }

    /// The epochs before `first_open_epoch` (those are complete network-wide), newest `keep`, oldest first.
    pub fn completed(&self, first_open_epoch: Epoch, keep: usize) -> Vec<EpochPerformance> {
        let open = self.open.filter(|open| open.epoch < first_open_epoch);
        let all: Vec<EpochPerformance> = self.closed.iter().copied().chain(open).collect();
        let skip = all.len().saturating_sub(keep);
        all[skip..].to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use StatusCategory::*;

    fn perf(epoch: u64, missed: u32, total: u32) -> EpochPerformance {
        EpochPerformance { epoch: Epoch(epoch), missed, total }
    }

    #[test]
    fn sums_misses_of_both_duties_per_epoch() {
        let mut ledger = EpochLedger::default();
        for (epoch, category) in
            [(0, AttestMiss), (0, ProposerGood), (0, AttestGood), (0, Uncounted), (1, ProposerMiss)]
        {
            ledger.record(Epoch(epoch), category, 8);
        }
        assert_eq!(ledger.completed(Epoch(1), 8), vec![perf(0, 1, 3)], "epoch 1 is still open");
        assert_eq!(ledger.completed(Epoch(2), 8), vec![perf(0, 1, 3), perf(1, 1, 1)]);
        assert_eq!((ledger.active(Epoch(1)), ledger.active(Epoch(2))), (1, 2));
    }

    #[test]
    fn keeps_only_the_newest_epochs() {
        let mut ledger = EpochLedger::default();
        for epoch in 0..10 {
            ledger.record(Epoch(epoch), AttestGood, 3);
        }
        let epochs: Vec<u64> = ledger.completed(Epoch(10), 3).iter().map(|p| p.epoch.0).collect();
        assert_eq!(epochs, vec![7, 8, 9]);
        let epochs: Vec<u64> = ledger.completed(Epoch(9), 3).iter().map(|p| p.epoch.0).collect();
        assert_eq!(epochs, vec![6, 7, 8]);
    }

    #[test]
    fn an_epoch_with_only_uncounted_entries_reports_zero_total() {
        let mut ledger = EpochLedger::default();
        ledger.record(Epoch(3), Uncounted, 4);
        assert_eq!(ledger.completed(Epoch(4), 4), vec![perf(3, 0, 0)]);
    }
}
