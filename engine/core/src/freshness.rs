//! Whether the chain data still advances. Lagging while catching up is not stale; standing still is.

use crate::time::Slot;

/// What the freshness of the data says now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FreshnessVerdict {
    /// The processed slot is within `stale_after` slots of the chain's clock.
    Fresh,
    /// Behind, but not standing still for long (catching up, or just stopped): no verdict yet.
    Unsure,
    /// Behind by `behind` slots and not advanced for `still_for` slots of the clock.
    Stale { last: Option<Slot>, behind: u64, still_for: u64 },
}

/// Follows the last processed slot against the chain's clock.
#[derive(Clone, Debug, Default)]
pub struct Freshness {
    last: Option<Slot>,
    /// The clock's slot when `last` last changed (or was first seen).
    changed_at: Option<Slot>,
}

impl Freshness {
    pub fn observe(&mut self, processed: Option<Slot>, clock: Slot) {
        if self.changed_at.is_none() || processed != self.last {
            self.last = processed;
            self.changed_at = Some(clock);
        }
    }

    pub fn verdict(&self, clock: Slot, stale_after: u64) -> FreshnessVerdict {
        let Some(changed_at) = self.changed_at else { return FreshnessVerdict::Unsure };
        let behind = clock.0.saturating_sub(self.last.map_or(0, |s| s.0));
        let still_for = clock.0.saturating_sub(changed_at.0);
        if behind <= stale_after {
            FreshnessVerdict::Fresh
        } else if still_for >= stale_after {
            FreshnessVerdict::Stale { last: self.last, behind, still_for }
        } else {
            FreshnessVerdict::Unsure
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn following_closely_is_fresh() {
        let mut f = Freshness::default();
        assert_eq!(f.verdict(Slot(10), 8), FreshnessVerdict::Unsure, "nothing seen yet");
        f.observe(Some(Slot(8)), Slot(10));
        assert_eq!(f.verdict(Slot(10), 8), FreshnessVerdict::Fresh);
    }

    #[test]
    fn standing_still_while_the_clock_runs_is_stale() {
        let mut f = Freshness::default();
        f.observe(Some(Slot(8)), Slot(10));
        for clock in 11..=16 {
            f.observe(Some(Slot(8)), Slot(clock));
        }
        assert_eq!(f.verdict(Slot(16), 8), FreshnessVerdict::Fresh, "8 behind is within the bound");
        f.observe(Some(Slot(8)), Slot(18));
        assert_eq!(
            f.verdict(Slot(18), 8),
            FreshnessVerdict::Stale { last: Some(Slot(8)), behind: 10, still_for: 8 }
        );
        f.observe(Some(Slot(12)), Slot(19));
        assert_eq!(f.verdict(Slot(19), 8), FreshnessVerdict::Fresh);
    }

    #[test]
    fn catching_up_from_far_behind_is_not_stale() {
        let mut f = Freshness::default();
        for (clock, processed) in [(1000, 100), (1001, 400), (1002, 700), (1003, 998)] {
            f.observe(Some(Slot(processed)), Slot(clock));
            let verdict = f.verdict(Slot(clock), 8);
            assert!(!matches!(verdict, FreshnessVerdict::Stale { .. }), "{clock}: {verdict:?}");
        }
        assert_eq!(f.verdict(Slot(1003), 8), FreshnessVerdict::Fresh);
    }

    #[test]
    fn nothing_processed_for_long_is_stale() {
        let mut f = Freshness::default();
        f.observe(None, Slot(20));
        f.observe(None, Slot(30));
        assert_eq!(f.verdict(Slot(30), 8), FreshnessVerdict::Stale { last: None, behind: 30, still_for: 10 });
    }
}
