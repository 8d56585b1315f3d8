//! Network-wide counts over the slot window, kept incrementally: one small record per processed slot.

use std::collections::VecDeque;

use serde::Serialize;

use crate::Address;
use crate::time::Slot;

/// Totals over every committee seat of the processed slots inside the window.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NetworkSummary {
    pub last_slot: Option<Slot>,
    /// Slots inside the window that were registered with facts.
    pub slots_processed: u64,
    pub proposals_total: u64,
    pub proposals_missed: u64,
    pub attestations_total: u64,
    pub attestations_missed: u64,
}

/// What one slot contributed, for the whole committee (not only the validators this monitor owns).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SlotSummary {
    pub slot: Slot,
    pub committee_size: u32,
    /// `Some(missed)` when the proposer was judged, `None` for a slot without a proposer status.
    pub proposal_missed: Option<bool>,
    pub attestations_total: u32,
    pub attestations_missed: u32,
}

#[derive(Clone)]
struct SlotRecord {
    summary: SlotSummary,
    /// Validators this monitor recorded in the slot: their stats change when the slot leaves the window.
    recorded: Vec<Address>,
}

#[derive(Clone, Default)]
pub struct NetworkWindow {
    slots: VecDeque<SlotRecord>,
    totals: NetworkSummary,
}

impl NetworkWindow {
    pub fn push(&mut self, summary: SlotSummary, recorded: Vec<Address>) {
        let t = &mut self.totals;
        t.slots_processed += 1;
        if let Some(missed) = summary.proposal_missed {
            t.proposals_total += 1;
            t.proposals_missed += u64::from(missed);
        }
        t.attestations_total += u64::from(summary.attestations_total);
        t.attestations_missed += u64::from(summary.attestations_missed);
        self.slots.push_back(SlotRecord { summary, recorded });
    }

    /// Moves the window to end at `last`, dropping slots before `first`; returns who was recorded in them.
    pub fn advance(&mut self, last: Slot, first: Slot) -> Vec<Address> {
        self.totals.last_slot = Some(last);
        let mut expired = Vec::new();
        while let Some(front) = self.slots.front() {
            if front.summary.slot >= first {
                break;
            }
            let Some(SlotRecord { summary, recorded }) = self.slots.pop_front() else { break };
            let t = &mut self.totals;
            t.slots_processed -= 1;
            if let Some(missed) = summary.proposal_missed {
                t.proposals_total -= 1;
                t.proposals_missed -= u64::from(missed);
            }
            t.attestations_total -= u64::from(summary.attestations_total);
            t.attestations_missed -= u64::from(summary.attestations_missed);
            expired.extend(recorded);
        }
        expired
    }

    pub fn summary(&self) -> NetworkSummary {
        self.totals.clone()
    }

    pub fn slot(&self, slot: Slot) -> Option<SlotSummary> {
        let i = self.slots.partition_point(|r| r.summary.slot < slot);
        self.slots.get(i).map(|r| r.summary).filter(|s| s.slot == slot)
    }

    pub fn slots(&self) -> impl Iterator<Item = SlotSummary> + '_ {
        self.slots.iter().map(|r| r.summary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(slot: u64, proposal_missed: Option<bool>, total: u32, missed: u32) -> SlotSummary {
        SlotSummary {
            slot: Slot(slot),
            committee_size: total + 1,
            proposal_missed,
            attestations_total: total,
            attestations_missed: missed,
        }
    }

    #[test]
    fn totals_follow_the_window() {
        let mut w = NetworkWindow::default();
        let a = Address::repeat_byte(1);
        w.advance(Slot(1), Slot(0));
        w.push(summary(1, Some(true), 3, 2), vec![a]);
        w.advance(Slot(2), Slot(0));
        w.push(summary(2, Some(false), 3, 0), vec![]);
        w.advance(Slot(3), Slot(0));
        w.push(summary(3, None, 0, 0), vec![]);
        let s = w.summary();
        assert_eq!((s.slots_processed, s.proposals_total, s.proposals_missed), (3, 2, 1));
        assert_eq!((s.attestations_total, s.attestations_missed), (6, 2));
        assert_eq!(w.slot(Slot(1)).map(|s| s.attestations_missed), Some(2));

        assert_eq!(w.advance(Slot(4), Slot(2)), vec![a], "slot 1 left the window");
        let s = w.summary();
        assert_eq!((s.slots_processed, s.proposals_total, s.proposals_missed), (2, 1, 0));
        assert_eq!((s.attestations_total, s.attestations_missed), (3, 0));
        assert_eq!(s.last_slot, Some(Slot(4)));
        assert_eq!(w.slot(Slot(1)), None);
        assert_eq!(w.slots().count(), 2);
    }
}
