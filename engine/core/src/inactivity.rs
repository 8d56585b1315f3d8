//! The Sentinel's inactivity offence, projected from a validator's per-epoch performance: how close
//! the validator is to being voted for an INACTIVITY slash.
//!
//! A validator is inactive in an epoch when it had duties there and missed at least `target` of them.
//! Enough inactive epochs in a row (counting only epochs in which it had duties) and every node's
//! Sentinel wants it slashed.

use serde::{Deserialize, Serialize};

use crate::stats::EpochPerformance;

/// The node-side thresholds (`SLASH_INACTIVITY_TARGET_PERCENTAGE` and
/// `SLASH_INACTIVITY_CONSECUTIVE_EPOCH_THRESHOLD`). The default is the 4.1.2 mainnet and testnet
/// preset; nodes may override it, so the projection is a warning, not a verdict. In a config file
/// either name a `preset` or give the numbers (given numbers override the preset's).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "InactivityConfig")]
pub struct InactivityRule {
    pub target: f64,
    pub consecutive_epochs: u32,
}

impl Default for InactivityRule {
    fn default() -> Self {
        Self::MAINNET
    }
}

impl InactivityRule {
    /// `--network mainnet` and `--network testnet` in 4.1.2: 70 % over two epochs in a row.
    pub const MAINNET: InactivityRule = InactivityRule { target: 0.7, consecutive_epochs: 2 };
    pub const TESTNET: InactivityRule = InactivityRule { target: 0.7, consecutive_epochs: 2 };
    /// A node started without a network preset: 90 % in a single epoch.
    pub const NODE_DEFAULTS: InactivityRule = InactivityRule { target: 0.9, consecutive_epochs: 1 };

    pub fn preset(name: &str) -> Option<InactivityRule> {
        match name {
            "mainnet" => Some(Self::MAINNET),
            "testnet" => Some(Self::TESTNET),
            "node-defaults" => Some(Self::NODE_DEFAULTS),
            _ => None,
        }
    }
}

/// The config file's form of [`InactivityRule`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InactivityConfig {
    preset: Option<String>,
    target: Option<f64>,
    consecutive_epochs: Option<u32>,
}

impl TryFrom<InactivityConfig> for InactivityRule {
    type Error = String;

    fn try_from(c: InactivityConfig) -> Result<Self, String> {
        let base = match c.preset.as_deref() {
            None => InactivityRule::default(),
            Some(name) => InactivityRule::preset(name).ok_or_else(|| {
                format!("unknown inactivity preset {name:?} (mainnet, testnet or node-defaults)")
            })?,
        };
        Ok(InactivityRule {
            target: c.target.unwrap_or(base.target),
            consecutive_epochs: c.consecutive_epochs.unwrap_or(base.consecutive_epochs),
        })
    }
}

/// Where a validator stands against the rule, as of its latest epoch with duties.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InactivityRisk {
    /// Inactive epochs in a row up to the latest epoch with duties.
    pub inactive_streak: u32,
    /// How many the rule needs for an offence.
    pub needed: u32,
    /// The latest epoch with duties.
    pub latest: Option<EpochPerformance>,
}

impl InactivityRisk {
    /// The streak already amounts to an offence.
    pub fn is_offence(&self) -> bool {
        self.needed > 0 && self.inactive_streak >= self.needed
    }

    /// One more inactive epoch would make it an offence.
    pub fn is_at_risk(&self) -> bool {
        !self.is_offence() && self.needed > 0 && self.inactive_streak + 1 >= self.needed
    }
}

impl InactivityRule {
    /// `epochs` in any order; epochs without an entry (not on a committee) are skipped, while an
    /// entry with no duties breaks the streak, as the Sentinel counts.
    pub fn assess(&self, epochs: &[EpochPerformance]) -> InactivityRisk {
        let mut sorted: Vec<&EpochPerformance> = epochs.iter().collect();
        sorted.sort_by_key(|e| std::cmp::Reverse(e.epoch));
        let latest = sorted.iter().find(|e| e.total > 0).map(|e| **e);
        let inactive_streak = sorted
            .iter()
            .take_while(|e| e.miss_rate().is_some_and(|rate| rate >= self.target - 1e-9))
            .count() as u32;
        InactivityRisk { inactive_streak, needed: self.consecutive_epochs, latest }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Epoch;

    fn epoch(n: u64, missed: u32, total: u32) -> EpochPerformance {
        EpochPerformance { epoch: Epoch(n), missed, total }
    }

    #[test]
    fn presets_and_numbers_read_from_config() {
        let read = |json: &str| serde_json::from_str::<InactivityRule>(json);
        assert_eq!(read(r#"{"preset":"node-defaults"}"#).unwrap(), InactivityRule::NODE_DEFAULTS);
        assert_eq!(read(r#"{"preset":"mainnet","target":0.8}"#).unwrap().target, 0.8);
        assert_eq!(read("{}").unwrap(), InactivityRule::default());
        assert!(read(r#"{"preset":"moon"}"#).unwrap_err().to_string().contains("unknown inactivity preset"));
        assert!(read(r#"{"targt":0.8}"#).is_err(), "unknown keys are refused");
    }

    #[test]
    fn counts_the_inactive_streak_from_the_latest_epoch() {
        let rule = InactivityRule::default();
        let risk = rule.assess(&[epoch(3, 8, 10), epoch(1, 0, 10), epoch(4, 7, 10)]);
        assert_eq!(risk.inactive_streak, 2, "epochs 4 and 3 are at or above 70 %");
        assert_eq!(risk.latest, Some(epoch(4, 7, 10)));
        assert!(risk.is_offence());
        assert!(!risk.is_at_risk());
    }

    #[test]
    fn one_inactive_epoch_is_a_warning_under_the_two_epoch_rule() {
        let risk = InactivityRule::default().assess(&[epoch(5, 1, 10), epoch(6, 9, 10)]);
        assert_eq!(risk.inactive_streak, 1);
        assert!(risk.is_at_risk());
        assert!(!risk.is_offence());
    }

    #[test]
    fn an_epoch_without_duties_breaks_the_streak_and_a_healthy_one_resets_it() {
        let rule = InactivityRule::default();
        let broken = rule.assess(&[epoch(1, 9, 10), epoch(2, 0, 0), epoch(3, 9, 10)]);
        assert_eq!(broken.inactive_streak, 1);
        let healthy = rule.assess(&[epoch(1, 9, 10), epoch(2, 10, 10), epoch(3, 6, 10)]);
        assert_eq!(healthy.inactive_streak, 0);
        assert!(!healthy.is_at_risk() && !healthy.is_offence());
        assert_eq!(rule.assess(&[]).latest, None);
    }
}
