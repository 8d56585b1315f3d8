//! Pure decisions over [`ValidatorStats`]: who holds a performance role, and when a miss alert fires.

use serde::{Deserialize, Serialize};

use crate::stats::{MissedStats, ValidatorStats};
use crate::time::Slot;

/// Rates are compared with this slack so a rate exactly on a threshold (e.g. 7/100 against
/// 0.05 + 0.02) is not decided by floating-point rounding.
const RATE_EPSILON: f64 = 1e-9;

fn at_most(rate: f64, limit: f64) -> bool {
    rate <= limit + RATE_EPSILON
}

/// One performance role. Hysteresis: a holder keeps it while its miss rates stay within
/// `max + hysteresis`; a newcomer needs `min_attestations` judged attestations and rates within `max`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RolePolicy {
    pub role: String,
    pub min_attestations: u32,
    pub max_attestation_miss_rate: f64,
    pub max_proposal_miss_rate: f64,
    pub hysteresis: f64,
}

impl Default for RolePolicy {
    fn default() -> Self {
        Self {
            role: "performant".to_owned(),
            min_attestations: 16,
            max_attestation_miss_rate: 0.05,
            max_proposal_miss_rate: 0.34,
            hysteresis: 0.02,
        }
    }
}

impl RolePolicy {
    /// Whether the validator should hold the role now. A holder with too small a sample keeps it
    /// (no evidence against it) unless the misses it does have already exceed the loosened limits.
    pub fn qualifies(&self, stats: &ValidatorStats, currently_held: bool) -> bool {
        let slack = if currently_held { self.hysteresis.max(0.0) } else { 0.0 };
        let attestations = &stats.missed_attestations;
        if !currently_held && attestations.total < self.min_attestations {
            return false;
        }
        let within = |missed: &MissedStats, max: f64| missed.rate.is_none_or(|r| at_most(r, max + slack));
        within(attestations, self.max_attestation_miss_rate)
            && within(&stats.missed_proposals, self.max_proposal_miss_rate)
    }
}

/// Miss alert: fires when the attestation miss rate over the window exceeds the threshold with enough
/// sample, or the current attestation or proposal streak reaches `streak_threshold` (0 disables streaks);
/// resolves when neither holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertPolicy {
    pub miss_rate_threshold: f64,
    pub min_sample: u32,
    pub streak_threshold: u32,
}

impl Default for AlertPolicy {
    fn default() -> Self {
        Self { miss_rate_threshold: 0.2, min_sample: 16, streak_threshold: 4 }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AlertKind {
    AttestationMisses,
    Slashed,
    StatusChanged,
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AttestationMisses => "attestation-misses",
            Self::Slashed => "slashed",
            Self::StatusChanged => "status-changed",
        }
    }

    /// How loud this kind is unless configured otherwise.
    pub fn default_severity(self) -> Severity {
        match self {
            Self::AttestationMisses => Severity::Warning,
            Self::Slashed => Severity::Critical,
            Self::StatusChanged => Severity::Info,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Critical => "critical",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AlertVerdict {
    Healthy,
    /// `evidence` states the numbers behind the verdict, for the alert text.
    Breach {
        evidence: String,
    },
}

impl AlertPolicy {
    pub fn evaluate(&self, stats: &ValidatorStats, as_of: Slot) -> AlertVerdict {
        let attestations = &stats.missed_attestations;
        let proposals = &stats.missed_proposals;
        let rate_breach = attestations.total >= self.min_sample
            && attestations.rate.is_some_and(|r| r > self.miss_rate_threshold + RATE_EPSILON);
        let streak_breach =
            |m: &MissedStats| self.streak_threshold > 0 && m.current_streak >= self.streak_threshold;
        if !(rate_breach || streak_breach(attestations) || streak_breach(proposals)) {
            return AlertVerdict::Healthy;
        }
        let mut evidence = describe(attestations, "attestations");
        if proposals.count > 0 || streak_breach(proposals) {
            evidence.push_str("; ");
            evidence.push_str(&describe(proposals, "proposals"));
        }
        evidence.push_str(&format!(", as of slot {as_of}"));
        AlertVerdict::Breach { evidence }
    }
}

/// "missed 7 of 20 attestations (35.0%), streak 5"
fn describe(missed: &MissedStats, duty: &str) -> String {
    let rate = missed.rate.map(|r| format!(" ({:.1}%)", r * 100.0)).unwrap_or_default();
    format!("missed {} of {} {duty}{rate}, streak {}", missed.count, missed.total, missed.current_streak)
}

/// What to send for one (subject, kind) alert.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AlertTransition {
    Fire,
    Resolve,
}

/// One lifecycle step: fire on a new breach, resolve a firing alert once healthy, otherwise nothing.
pub fn alert_step(currently_firing: bool, verdict: &AlertVerdict) -> Option<AlertTransition> {
    match (currently_firing, verdict) {
        (false, AlertVerdict::Breach { .. }) => Some(AlertTransition::Fire),
        (true, AlertVerdict::Healthy) => Some(AlertTransition::Resolve),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(att_missed: u32, att_total: u32, att_streak: u32, prop: (u32, u32, u32)) -> ValidatorStats {
        ValidatorStats {
            missed_attestations: MissedStats::new(att_missed, att_total, att_streak),
            missed_proposals: MissedStats::new(prop.0, prop.1, prop.2),
            ..ValidatorStats::default()
        }
    }

    #[test]
    fn a_newcomer_needs_the_minimum_sample() {
        let p = RolePolicy::default();
        assert!(!p.qualifies(&stats(0, 15, 0, (0, 0, 0)), false));
        assert!(p.qualifies(&stats(0, 16, 0, (0, 0, 0)), false));
        assert!(p.qualifies(&stats(0, 3, 0, (0, 0, 0)), true), "a holder is not dropped for a small sample");
        assert!(!p.qualifies(&stats(3, 3, 3, (0, 0, 0)), true), "but is for the misses it has");
    }

    #[test]
    fn hysteresis_widens_the_limit_only_for_holders() {
        let p = RolePolicy::default();
        let at_max = stats(5, 100, 0, (0, 0, 0));
        let at_loosened = stats(7, 100, 0, (0, 0, 0));
        let past_loosened = stats(8, 100, 0, (0, 0, 0));
        assert!(p.qualifies(&at_max, false), "exactly at max qualifies");
        assert!(!p.qualifies(&stats(6, 100, 0, (0, 0, 0)), false));
        assert!(!p.qualifies(&at_loosened, false));
        assert!(p.qualifies(&at_loosened, true), "exactly at max + hysteresis keeps it");
        assert!(!p.qualifies(&past_loosened, true));
    }

    #[test]
    fn proposal_misses_count_when_there_were_proposals() {
        let p = RolePolicy::default();
        assert!(p.qualifies(&stats(0, 20, 0, (1, 3, 0)), false), "1 of 3 is within 0.34");
        assert!(!p.qualifies(&stats(0, 20, 0, (2, 3, 0)), false));
        assert!(p.qualifies(&stats(0, 20, 0, (0, 0, 0)), false), "no proposals is no evidence");
    }

    #[test]
    fn the_rate_rule_needs_the_minimum_sample() {
        let p = AlertPolicy::default();
        assert_eq!(
            p.evaluate(&stats(6, 15, 0, (0, 0, 0)), Slot(1)),
            AlertVerdict::Healthy,
            "15 < min sample"
        );
        assert!(matches!(p.evaluate(&stats(6, 16, 0, (0, 0, 0)), Slot(1)), AlertVerdict::Breach { .. }));
        assert_eq!(p.evaluate(&stats(4, 20, 0, (0, 0, 0)), Slot(1)), AlertVerdict::Healthy, "exactly 20%");
    }

    #[test]
    fn a_streak_fires_without_the_sample() {
        let p = AlertPolicy::default();
        assert_eq!(p.evaluate(&stats(3, 3, 3, (0, 0, 0)), Slot(1)), AlertVerdict::Healthy);
        assert!(matches!(p.evaluate(&stats(4, 4, 4, (0, 0, 0)), Slot(1)), AlertVerdict::Breach { .. }));
        assert!(matches!(p.evaluate(&stats(0, 4, 0, (4, 4, 4)), Slot(1)), AlertVerdict::Breach { .. }));
        let off = AlertPolicy { streak_threshold: 0, ..AlertPolicy::default() };
        assert_eq!(off.evaluate(&stats(0, 4, 0, (4, 4, 4)), Slot(1)), AlertVerdict::Healthy);
    }

    #[test]
    fn evidence_states_the_numbers() {
        let verdict = AlertPolicy::default().evaluate(&stats(7, 20, 5, (0, 1, 0)), Slot(123));
        let expected = "missed 7 of 20 attestations (35.0%), streak 5, as of slot 123";
        assert_eq!(verdict, AlertVerdict::Breach { evidence: expected.to_owned() });
        let verdict = AlertPolicy::default().evaluate(&stats(0, 0, 0, (4, 5, 4)), Slot(9));
        let expected =
            "missed 0 of 0 attestations, streak 0; missed 4 of 5 proposals (80.0%), streak 4, as of slot 9";
        assert_eq!(verdict, AlertVerdict::Breach { evidence: expected.to_owned() });
    }

    #[test]
    fn alert_lifecycle_fires_once_and_resolves_once() {
        let breach = AlertVerdict::Breach { evidence: String::new() };
        assert_eq!(alert_step(false, &breach), Some(AlertTransition::Fire));
        assert_eq!(alert_step(true, &breach), None);
        assert_eq!(alert_step(true, &AlertVerdict::Healthy), Some(AlertTransition::Resolve));
        assert_eq!(alert_step(false, &AlertVerdict::Healthy), None);
    }

    #[test]
    fn kinds_and_severities_serialize_as_their_names() {
        for kind in [AlertKind::AttestationMisses, AlertKind::Slashed, AlertKind::StatusChanged] {
            assert_eq!(serde_json::to_string(&kind).unwrap(), format!("\"{}\"", kind.as_str()));
        }
        for severity in [Severity::Info, Severity::Warning, Severity::Critical] {
            assert_eq!(serde_json::to_string(&severity).unwrap(), format!("\"{}\"", severity.as_str()));
        }
        assert!(Severity::Critical > Severity::Warning);
        assert_eq!(AlertKind::Slashed.default_severity(), Severity::Critical);
    }
}
