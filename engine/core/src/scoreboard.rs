//! Bounded views for dashboards: the K validators that miss most, and each operator's totals. Both
//! stay bounded however many validators the network has (K, and a cap on operators), which is what
//! keeps a metrics exposition's series count independent of the validator set.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Address, ValidatorStats};

/// How the bounded views are sized (`[engine.scoreboard]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScoreboardConfig {
    /// How many of the worst validators are named.
    pub worst_k: usize,
    /// Accountable attestations a validator needs over the window to be ranked at all (one missed
    /// duty of two is no signal).
    pub min_sample: u32,
    /// The most operators given series of their own; beyond it, the worst are kept.
    pub max_operators: usize,
}

impl Default for ScoreboardConfig {
    fn default() -> Self {
        Self { worst_k: 10, min_sample: 8, max_operators: 1_000 }
    }
}

/// A validator's attestation misses over the stats window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Ranked {
    pub address: Address,
    pub missed: u32,
    pub total: u32,
}

impl Ranked {
    pub fn ratio(&self) -> f64 {
        if self.total == 0 { 0.0 } else { f64::from(self.missed) / f64::from(self.total) }
    }

    /// Worst first: the higher miss ratio, then more misses, then the lower address (a total order,
    /// so shards merge to the same list however the validators were split).
    fn worse(&self, other: &Self) -> Ordering {
        let (a, b) = (
            u64::from(self.missed) * u64::from(other.total),
            u64::from(other.missed) * u64::from(self.total),
        );
        b.cmp(&a).then(other.missed.cmp(&self.missed)).then(self.address.cmp(&other.address))
    }
}

/// The `k` validators with the highest attestation miss ratio among those with at least `min_sample`
/// accountable attestations; validators that missed nothing are never named.
pub fn worst_attesters(
    stats: impl IntoIterator<Item = impl Borrow<ValidatorStats>>,
    k: usize,
    min_sample: u32,
) -> Vec<Ranked> {
    let candidates = stats.into_iter().filter_map(|s| {
        let s = s.borrow();
        let m = s.missed_attestations;
        (m.total >= min_sample.max(1) && m.count > 0).then_some(Ranked {
            address: s.address,
            missed: m.count,
            total: m.total,
        })
    });
    top(candidates.collect(), k)
}

/// The `k` worst of several shards' own lists.
pub fn merge_worst(lists: impl IntoIterator<Item = Vec<Ranked>>, k: usize) -> Vec<Ranked> {
    top(lists.into_iter().flatten().collect(), k)
}

fn top(mut all: Vec<Ranked>, k: usize) -> Vec<Ranked> {
    if k == 0 {
        return Vec::new();
    }
    if all.len() > k {
        all.select_nth_unstable_by(k - 1, Ranked::worse);
        all.truncate(k);
    }
    all.sort_unstable_by(Ranked::worse);
    all
}

/// One operator's validators, summed over the stats window.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct OperatorTally {
    pub operator: String,
    pub validators: u32,
    pub slashed: u32,
    pub attestations_missed: u64,
    pub attestations_total: u64,
    pub proposals_missed: u64,
    pub proposals_total: u64,
}

impl OperatorTally {
    /// `None` without any accountable attestation (a ratio of nothing is not 0).
    pub fn attestation_miss_ratio(&self) -> Option<f64> {
        (self.attestations_total > 0)
            .then(|| self.attestations_missed as f64 / self.attestations_total as f64)
    }

    pub fn proposal_miss_ratio(&self) -> Option<f64> {
        (self.proposals_total > 0).then(|| self.proposals_missed as f64 / self.proposals_total as f64)
    }
}

/// Every operator's tally from its linked validators (`links`: operator → validators). A validator
/// without stats yet counts as linked, with no duties.
pub fn operator_tallies<'a>(
    links: &BTreeMap<String, Vec<Address>>,
    stats: impl Fn(&Address) -> Option<&'a ValidatorStats>,
    slashed: impl Fn(&Address) -> bool,
) -> Vec<OperatorTally> {
    links
        .iter()
        .map(|(operator, validators)| {
            let mut tally = OperatorTally { operator: operator.clone(), ..OperatorTally::default() };
            for validator in validators {
                tally.validators += 1;
                tally.slashed += u32::from(slashed(validator));
                if let Some(s) = stats(validator) {
                    tally.attestations_missed += u64::from(s.missed_attestations.count);
                    tally.attestations_total += u64::from(s.missed_attestations.total);
                    tally.proposals_missed += u64::from(s.missed_proposals.count);
                    tally.proposals_total += u64::from(s.missed_proposals.total);
                }
            }
            tally
        })
        .collect()
}

/// At most `cap` tallies: the ones with slashed validators, then the highest attestation miss ratio,
/// then by name. Returns them with how many were left out.
pub fn cap_operators(mut tallies: Vec<OperatorTally>, cap: usize) -> (Vec<OperatorTally>, usize) {
    if tallies.len() <= cap {
        return (tallies, 0);
    }
    let ratio = |t: &OperatorTally| t.attestation_miss_ratio().unwrap_or(0.0);
    tallies.sort_by(|a, b| {
        b.slashed
            .min(1)
            .cmp(&a.slashed.min(1))
            .then(ratio(b).total_cmp(&ratio(a)))
            .then(a.operator.cmp(&b.operator))
    });
    let dropped = tallies.len() - cap;
    tallies.truncate(cap);
    (tallies, dropped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MissedStats;

    fn stats(byte: u8, missed: u32, total: u32) -> ValidatorStats {
        ValidatorStats {
            address: Address::repeat_byte(byte),
            missed_attestations: MissedStats::new(missed, total, 0),
            missed_proposals: MissedStats::new(missed.min(1), 1, 0),
            ..ValidatorStats::default()
        }
    }

    #[test]
    fn the_worst_are_ranked_by_ratio_then_misses_then_address() {
        let all = [stats(1, 1, 10), stats(2, 5, 10), stats(3, 10, 20), stats(4, 3, 4), stats(5, 0, 50)];
        let worst = worst_attesters(&all, 3, 8);
        let order: Vec<u8> = worst.iter().map(|r| r.address.0[0]).collect();
        // 4 has the highest ratio but too small a sample; 2 and 3 tie at 0.5, 3 missed more.
        assert_eq!(order, [3, 2, 1]);
        assert_eq!(worst[0].ratio(), 0.5);
        assert!(worst_attesters(&all, 0, 8).is_empty());
        assert_eq!(worst_attesters(&all, 10, 8).len(), 3, "who missed nothing is not named");
    }

    #[test]
    fn merged_shards_give_the_same_list_as_one_shard() {
        let all: Vec<ValidatorStats> = (1..=60u8).map(|b| stats(b, u32::from(b % 7), 20)).collect();
        let whole = worst_attesters(&all, 5, 8);
        let (left, right): (Vec<_>, Vec<_>) = all.iter().partition(|s| s.address.0[0] % 2 == 0);
        let merged = merge_worst([worst_attesters(left, 5, 8), worst_attesters(right, 5, 8)], 5);
        assert_eq!(merged, whole);
        assert_eq!(whole.len(), 5);
        assert!(whole.windows(2).all(|w| w[0].ratio() >= w[1].ratio()));
    }

    #[test]
    fn operators_sum_their_validators_and_the_cap_keeps_the_worst() {
        let all = [stats(1, 2, 10), stats(2, 0, 10), stats(3, 9, 10)];
        let links: BTreeMap<String, Vec<Address>> = [
            ("alice".to_owned(), vec![Address::repeat_byte(1), Address::repeat_byte(2)]),
            ("bob".to_owned(), vec![Address::repeat_byte(3)]),
            ("carol".to_owned(), vec![Address::repeat_byte(9)]),
        ]
        .into();
        let find = |a: &Address| all.iter().find(|s| s.address == *a);
        let tallies = operator_tallies(&links, find, |a| *a == Address::repeat_byte(2));
        assert_eq!(tallies[0].validators, 2);
        assert_eq!((tallies[0].attestations_missed, tallies[0].attestations_total), (2, 20));
        assert_eq!(tallies[0].slashed, 1);
        assert_eq!(tallies[0].attestation_miss_ratio(), Some(0.1));
        assert_eq!(tallies[2].attestation_miss_ratio(), None, "no duties yet: no ratio");

        let (kept, dropped) = cap_operators(tallies.clone(), 2);
        let names: Vec<&str> = kept.iter().map(|t| t.operator.as_str()).collect();
        assert_eq!(names, ["alice", "bob"], "slashed first, then the worst ratio");
        assert_eq!(dropped, 1);
        assert_eq!(cap_operators(tallies, 5).1, 0);
    }
}
