//! Pure decisions over [`ValidatorStats`]: who holds a performance role, and when a miss alert fires.

use serde::{Deserialize, Serialize};

use crate::alerting::{Breach, Lifecycle, Observation};
use crate::outage::Excused;
use crate::stats::{MissedStats, ValidatorStats};
use crate::time::Slot;

/// Rates are compared with this slack so a rate exactly on a threshold (e.g. 7/100 against
/// 0.05 + 0.02) is not decided by floating-point rounding.
const RATE_EPSILON: f64 = 1e-9;

fn at_most(rate: f64, limit: f64) -> bool {
    rate <= limit + RATE_EPSILON
}

/// The performance roles. The base role (`role` and the thresholds beside it) and optional stricter
/// `tiers` above it form a ladder; a member holds only the highest rung it earns (see
/// [`crate::roles`]). Hysteresis: a holder keeps a rung while its miss rates stay within
/// `max + hysteresis`; a newcomer needs the rung's `min_attestations` and rates within `max`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RolePolicy {
    pub role: String,
    pub min_attestations: u32,
    pub max_attestation_miss_rate: f64,
    pub max_proposal_miss_rate: f64,
    /// The longest run of missed attestations at the tail a member may show (0: no limit).
    pub max_attestation_streak: u32,
    /// Completed epochs with duties each validator needs in its retained history (0: none).
    pub min_epochs_active: u32,
    pub hysteresis: f64,
    /// Stricter roles above the base one, lowest first.
    pub tiers: Vec<Tier>,
    /// A role for members with a validator on its way out (EXITING), when set.
    pub exiting_role: Option<String>,
}

/// A role above the base one, with its own thresholds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    pub role: String,
    pub min_attestations: u32,
    pub max_attestation_miss_rate: f64,
    pub max_proposal_miss_rate: f64,
    #[serde(default)]
    pub max_attestation_streak: u32,
    #[serde(default)]
    pub min_epochs_active: u32,
}

impl Default for RolePolicy {
    fn default() -> Self {
        Self {
            role: "performant".to_owned(),
            min_attestations: 16,
            max_attestation_miss_rate: 0.05,
            max_proposal_miss_rate: 0.34,
            max_attestation_streak: 0,
            min_epochs_active: 0,
            hysteresis: 0.02,
            tiers: Vec::new(),
            exiting_role: None,
        }
    }
}

/// One rung of the ladder, as judged.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rung<'a> {
    pub role: &'a str,
    pub min_attestations: u32,
    pub max_attestation_miss_rate: f64,
    pub max_proposal_miss_rate: f64,
    pub max_attestation_streak: u32,
    pub min_epochs_active: u32,
    pub hysteresis: f64,
}

impl RolePolicy {
    /// The base role, then the tiers, lowest first.
    pub fn ladder(&self) -> Vec<Rung<'_>> {
        let tiers = self.tiers.iter().map(|t| Rung {
            role: &t.role,
            min_attestations: t.min_attestations,
            max_attestation_miss_rate: t.max_attestation_miss_rate,
            max_proposal_miss_rate: t.max_proposal_miss_rate,
            max_attestation_streak: t.max_attestation_streak,
            min_epochs_active: t.min_epochs_active,
            hysteresis: self.hysteresis,
        });
        std::iter::once(self.base()).chain(tiers).collect()
    }

    /// The base rung alone (no allocation: judged per validator).
    pub fn base(&self) -> Rung<'_> {
        Rung {
            role: &self.role,
            min_attestations: self.min_attestations,
            max_attestation_miss_rate: self.max_attestation_miss_rate,
            max_proposal_miss_rate: self.max_proposal_miss_rate,
            max_attestation_streak: self.max_attestation_streak,
            min_epochs_active: self.min_epochs_active,
            hysteresis: self.hysteresis,
        }
    }

    /// Every performance role name, lowest first.
    pub fn role_names(&self) -> Vec<&str> {
        std::iter::once(self.role.as_str()).chain(self.tiers.iter().map(|t| t.role.as_str())).collect()
    }

    /// Every role the engine manages: the performance rungs, `slashed_role` and the exiting role.
    pub fn managed_roles<'a>(&'a self, slashed_role: &'a str) -> Vec<&'a str> {
        let mut roles = self.role_names();
        roles.push(slashed_role);
        roles.extend(self.exiting_role.as_deref());
        roles
    }

    /// Whether any rung asks for epochs of service (else nobody needs to count them).
    pub fn counts_epochs(&self) -> bool {
        self.min_epochs_active > 0 || self.tiers.iter().any(|t| t.min_epochs_active > 0)
    }

    /// Whether the validator qualifies for the base role now.
    pub fn qualifies(&self, stats: &ValidatorStats, currently_held: bool) -> bool {
        self.base().qualifies(stats, currently_held)
    }
}

impl Rung<'_> {
    /// Whether the validator qualifies for this rung now. A holder with too small a sample keeps it
    /// (no evidence against it) unless the misses it does have already exceed the loosened limits.
    pub fn qualifies(&self, stats: &ValidatorStats, currently_held: bool) -> bool {
        let slack = if currently_held { self.hysteresis.max(0.0) } else { 0.0 };
        let attestations = &stats.missed_attestations;
        if !currently_held && attestations.total < self.min_attestations {
            return false;
        }
        if self.max_attestation_streak > 0 && attestations.current_streak > self.max_attestation_streak {
            return false;
        }
        let within = |missed: &MissedStats, max: f64| missed.rate.is_none_or(|r| at_most(r, max + slack));
        within(attestations, self.max_attestation_miss_rate)
            && within(&stats.missed_proposals, self.max_proposal_miss_rate)
    }
}

/// Miss alert: breaches when the attestation miss rate over the window exceeds the threshold with
/// enough sample, or the current attestation or proposal streak reaches `streak_threshold` (0 disables
/// streaks); critical from `critical_miss_rate`. Misses the network shared are excused (see
/// [`crate::outage`]); when to tell is the [`Lifecycle`]'s business.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertPolicy {
    pub miss_rate_threshold: f64,
    pub min_sample: u32,
    pub streak_threshold: u32,
    /// A miss rate from which the alert is critical (and told at once).
    pub critical_miss_rate: f64,
    /// The chain data counts as stale once the last processed slot is this many slots behind the
    /// chain's clock (the normal lag is the source's settling lag, about two slots).
    pub stale_after_slots: u64,
    pub lifecycle: Lifecycle,
}

impl Default for AlertPolicy {
    fn default() -> Self {
        Self {
            miss_rate_threshold: 0.2,
            min_sample: 16,
            streak_threshold: 4,
            critical_miss_rate: 0.5,
            stale_after_slots: 8,
            lifecycle: Lifecycle::default(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AlertKind {
    AttestationMisses,
    Slashed,
    StatusChanged,
    /// One more inactive epoch and the nodes' Sentinels want the validator slashed.
    InactivityRisk,
    /// Most of the committee is missing its duties (subject: the network).
    NetworkOutage,
    /// The chain data stopped advancing (subject: the network).
    StaleData,
    /// Votes of an open tally slashing round would slash the validator.
    SlashVote,
    /// The escape hatch is open: proposals bypass the committee, so nobody's misses count (subject:
    /// the network; told when it opens and when it closes).
    EscapeHatch,
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AttestationMisses => "attestation-misses",
            Self::Slashed => "slashed",
            Self::StatusChanged => "status-changed",
            Self::InactivityRisk => "inactivity-risk",
            Self::NetworkOutage => "network-outage",
            Self::StaleData => "stale-data",
            Self::SlashVote => "slash-vote",
            Self::EscapeHatch => "escape-hatch",
        }
    }

    /// Every kind, for parsing and listing.
    pub const ALL: [AlertKind; 8] = [
        Self::AttestationMisses,
        Self::Slashed,
        Self::StatusChanged,
        Self::InactivityRisk,
        Self::NetworkOutage,
        Self::StaleData,
        Self::SlashVote,
        Self::EscapeHatch,
    ];

    /// When this kind is told. Misses and outages wait out the pending period (they flap); the
    /// others are facts from L1 or a closed epoch and are told at once.
    pub fn lifecycle(self, configured: &Lifecycle) -> Lifecycle {
        match self {
            Self::AttestationMisses | Self::NetworkOutage => configured.clone(),
            _ => Lifecycle { pending_slots: 0, ..configured.clone() },
        }
    }

    /// How loud this kind is when its evidence does not say otherwise (misses, inactivity and votes
    /// turn critical by their own numbers).
    pub fn default_severity(self) -> Severity {
        match self {
            Self::Slashed => Severity::Critical,
            // A change of rules to know about, not a fault.
            Self::EscapeHatch => Severity::Info,
            _ => Severity::Warning,
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

impl AlertPolicy {
    /// The miss alert's observation of `stats`, with the misses `excused` as network-wide.
    pub fn evaluate(&self, stats: &ValidatorStats, excused: Excused, as_of: Slot) -> Observation {
        let Some(breach) = self.breach(stats, as_of) else { return Observation::Healthy };
        if excused == Excused::default() {
            return Observation::Breach(breach);
        }
        let note = format!(" ({} of the misses were network-wide and are excused)", excused.misses);
        match self.breach(&stats.excusing(excused), as_of) {
            Some(own) => Observation::Breach(Breach { evidence: own.evidence + &note, ..own }),
            None => Observation::Excused(Breach { evidence: breach.evidence.clone() + &note, ..breach }),
        }
    }

    fn breach(&self, stats: &ValidatorStats, as_of: Slot) -> Option<Breach> {
        let attestations = &stats.missed_attestations;
        let proposals = &stats.missed_proposals;
        let sampled = attestations.total >= self.min_sample;
        let rate_breach =
            sampled && attestations.rate.is_some_and(|r| r > self.miss_rate_threshold + RATE_EPSILON);
        let streak_breach =
            |m: &MissedStats| self.streak_threshold > 0 && m.current_streak >= self.streak_threshold;
        if !(rate_breach || streak_breach(attestations) || streak_breach(proposals)) {
            return None;
        }
        let score = attestations.rate.unwrap_or(0.0);
        let critical = sampled && score >= self.critical_miss_rate - RATE_EPSILON;
        let mut evidence = describe(attestations, "attestations");
        if proposals.count > 0 || streak_breach(proposals) {
            evidence.push_str("; ");
            evidence.push_str(&describe(proposals, "proposals"));
        }
        evidence.push_str(&format!(", as of slot {as_of}"));
        let severity = if critical { Severity::Critical } else { Severity::Warning };
        Some(Breach::new(severity, score, evidence))
    }
}

/// "missed 7 of 20 attestations (35.0%), streak 5"
fn describe(missed: &MissedStats, duty: &str) -> String {
    let rate = missed.rate.map(|r| format!(" ({:.1}%)", r * 100.0)).unwrap_or_default();
    format!("missed {} of {} {duty}{rate}, streak {}", missed.count, missed.total, missed.current_streak)
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
    fn tiers_stack_above_the_base_role_and_a_streak_limit_applies() {
        let p = RolePolicy {
            tiers: vec![Tier {
                role: "elite".into(),
                min_attestations: 64,
                max_attestation_miss_rate: 0.01,
                max_proposal_miss_rate: 0.0,
                max_attestation_streak: 1,
                min_epochs_active: 0,
            }],
            ..RolePolicy::default()
        };
        assert_eq!(p.role_names(), vec!["performant", "elite"]);
        let elite = p.ladder()[1];
        assert!(elite.qualifies(&stats(0, 64, 0, (0, 2, 0)), false));
        assert!(!elite.qualifies(&stats(0, 63, 0, (0, 2, 0)), false), "its own minimum sample");
        assert!(!elite.qualifies(&stats(0, 64, 0, (1, 2, 0)), false), "no proposal miss allowed");
        assert!(elite.qualifies(&stats(2, 100, 0, (0, 2, 0)), true), "2% is within 1% + hysteresis");
        assert!(!elite.qualifies(&stats(2, 100, 2, (0, 2, 0)), true), "but not a streak of 2");
    }

    #[test]
    fn proposal_misses_count_when_there_were_proposals() {
        let p = RolePolicy::default();
        assert!(p.qualifies(&stats(0, 20, 0, (1, 3, 0)), false), "1 of 3 is within 0.34");
        assert!(!p.qualifies(&stats(0, 20, 0, (2, 3, 0)), false));
        assert!(p.qualifies(&stats(0, 20, 0, (0, 0, 0)), false), "no proposals is no evidence");
    }

    fn breach(observation: Observation) -> Breach {
        match observation {
            Observation::Breach(b) => b,
            other => panic!("expected a breach, got {other:?}"),
        }
    }

    const NONE: Excused = Excused { misses: 0, streak: 0 };

    #[test]
    fn the_rate_rule_needs_the_minimum_sample() {
        let p = AlertPolicy::default();
        let at = |s: &ValidatorStats| p.evaluate(s, NONE, Slot(1));
        assert_eq!(at(&stats(6, 15, 0, (0, 0, 0))), Observation::Healthy, "15 < min sample");
        assert_eq!(breach(at(&stats(6, 16, 0, (0, 0, 0)))).severity, Severity::Warning);
        assert_eq!(at(&stats(4, 20, 0, (0, 0, 0))), Observation::Healthy, "exactly 20%");
    }

    #[test]
    fn a_streak_fires_without_the_sample() {
        let p = AlertPolicy::default();
        let at = |p: &AlertPolicy, s: &ValidatorStats| p.evaluate(s, NONE, Slot(1));
        assert_eq!(at(&p, &stats(3, 3, 3, (0, 0, 0))), Observation::Healthy);
        assert!(matches!(at(&p, &stats(4, 4, 4, (0, 0, 0))), Observation::Breach(_)));
        assert!(matches!(at(&p, &stats(0, 4, 0, (4, 4, 4))), Observation::Breach(_)));
        let off = AlertPolicy { streak_threshold: 0, ..AlertPolicy::default() };
        assert_eq!(at(&off, &stats(0, 4, 0, (4, 4, 4))), Observation::Healthy);
    }

    #[test]
    fn a_high_rate_with_enough_sample_is_critical_and_scored_by_the_rate() {
        let p = AlertPolicy::default();
        let b = breach(p.evaluate(&stats(10, 20, 10, (0, 0, 0)), NONE, Slot(1)));
        assert_eq!((b.severity, b.score), (Severity::Critical, 0.5));
        let few = breach(p.evaluate(&stats(8, 8, 8, (0, 0, 0)), NONE, Slot(1)));
        assert_eq!(few.severity, Severity::Warning, "a streak on a small sample is not critical yet");
    }

    #[test]
    fn network_wide_misses_are_excused_and_what_remains_is_judged() {
        let p = AlertPolicy::default();
        // 8 of 20 missed in a streak of 6; 6 of them (the whole streak) were network-wide.
        let s = stats(8, 20, 6, (0, 0, 0));
        match p.evaluate(&s, Excused { misses: 6, streak: 6 }, Slot(30)) {
            Observation::Excused(b) => {
                assert!(b.evidence.contains("6 of the misses were network-wide"), "{b:?}")
            }
            other => panic!("expected excused, got {other:?}"),
        }
        // Only 2 of the streak's 6 were network-wide: 4 in a row are the validator's own.
        let own = breach(p.evaluate(&s, Excused { misses: 2, streak: 2 }, Slot(30)));
        assert!(own.evidence.starts_with("missed 6 of 20 attestations"), "{}", own.evidence);
    }

    #[test]
    fn evidence_states_the_numbers() {
        let p = AlertPolicy::default();
        let b = breach(p.evaluate(&stats(7, 20, 5, (0, 1, 0)), NONE, Slot(123)));
        assert_eq!(b.evidence, "missed 7 of 20 attestations (35.0%), streak 5, as of slot 123");
        let b = breach(p.evaluate(&stats(0, 0, 0, (4, 5, 4)), NONE, Slot(9)));
        let expected =
            "missed 0 of 0 attestations, streak 0; missed 4 of 5 proposals (80.0%), streak 4, as of slot 9";
        assert_eq!(b.evidence, expected);
    }

    #[test]
    fn facts_are_told_at_once_and_misses_wait() {
        let configured = Lifecycle::default();
        assert_eq!(AlertKind::AttestationMisses.lifecycle(&configured), configured);
        assert_eq!(AlertKind::InactivityRisk.lifecycle(&configured).pending_slots, 0);
    }

    #[test]
    fn kinds_and_severities_serialize_as_their_names() {
        for kind in AlertKind::ALL {
            assert_eq!(serde_json::to_string(&kind).unwrap(), format!("\"{}\"", kind.as_str()));
        }
        for severity in [Severity::Info, Severity::Warning, Severity::Critical] {
            assert_eq!(serde_json::to_string(&severity).unwrap(), format!("\"{}\"", severity.as_str()));
        }
        assert!(Severity::Critical > Severity::Warning);
        assert_eq!(AlertKind::Slashed.default_severity(), Severity::Critical);
    }
}
