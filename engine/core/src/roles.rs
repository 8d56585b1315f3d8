//! The role rule: which roles a Discord member should hold, from all their linked validators, and the
//! changes that would bring them there (the reconcile diff). Pure: the role assigner feeds it what it
//! knows and stores what it returns.
//!
//! The rule, per member:
//! - the slashed role while any linked validator is slashed;
//! - the exiting role (when configured) while a linked validator is exiting and none is slashed;
//! - otherwise the highest performance rung (the base role, or a tier above it) that the member earns,
//!   and no other rung. A member earns a rung when at least one validator is still active (neither
//!   slashed nor exiting) and every active validator with enough history qualifies under the rung's
//!   thresholds (miss rates, streak, epochs active). A newcomer to the rung needs its `min_attestations` on at least one validator; a
//!   member holding that rung or a higher one is judged on whatever history there is, with the
//!   policy's hysteresis (a restart or a short window is no evidence against it).
//!
//! The stats fed in are the validators' own record: misses the whole network shared are forgiven
//! first (see [`crate::outage`]), which is the grace after a network-wide outage.

use serde::Serialize;

use crate::Address;
use crate::policy::RolePolicy;
use crate::stats::ValidatorStats;
use crate::time::Slot;

/// One change to a member's roles, with the evidence that justifies it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RoleChange {
    pub user: String,
    pub role: String,
    pub grant: bool,
    pub reason: String,
}

/// A linked validator as the rule sees it.
#[derive(Clone, Copy, Debug)]
pub struct LinkedValidator<'a> {
    pub address: Address,
    /// `None` until the validator has had a duty.
    pub stats: Option<&'a ValidatorStats>,
    pub slashed: bool,
    pub exiting: bool,
    /// Completed epochs with duties in the retained history (the per-epoch trend).
    pub epochs_active: u32,
}

/// The changes that bring `user` from the roles it `holds` to the ones the rule gives it.
pub fn plan_roles(
    policy: &RolePolicy,
    slashed_role: &str,
    user: &str,
    validators: &[LinkedValidator<'_>],
    holds: impl Fn(&str) -> bool,
    as_of: Slot,
) -> Vec<RoleChange> {
    let slashed = validators.iter().find(|v| v.slashed);
    let active: Vec<&LinkedValidator<'_>> = validators.iter().filter(|v| !v.slashed && !v.exiting).collect();
    let ladder = policy.ladder();
    let held_rung = ladder.iter().rposition(|rung| holds(rung.role));
    // Each rung's verdict, judged as a holder at or below the rung held.
    let verdicts: Vec<(bool, Vec<&ValidatorStats>)> = ladder
        .iter()
        .enumerate()
        .map(|(i, rung)| {
            let holder = held_rung.is_some_and(|h| i <= h);
            let judged: Vec<(&ValidatorStats, u32)> = active
                .iter()
                .filter_map(|v| Some((v.stats?, v.epochs_active)))
                .filter(|(s, _)| holder || s.missed_attestations.total >= rung.min_attestations)
                .collect();
            let earns = slashed.is_none()
                && !active.is_empty()
                && (holder || !judged.is_empty())
                && judged
                    .iter()
                    .all(|(s, epochs)| rung.qualifies(s, holder) && *epochs >= rung.min_epochs_active);
            (earns, judged.into_iter().map(|(s, _)| s).collect::<Vec<_>>())
        })
        .collect();
    let earned = verdicts.iter().rposition(|(earns, _)| *earns);

    let mut changes = Vec::new();
    let mut want = |role: &str, desired: bool, reason: String| {
        if desired != holds(role) {
            changes.push(RoleChange { user: user.to_owned(), role: role.to_owned(), grant: desired, reason });
        }
    };
    let slashed_reason = match slashed {
        Some(v) => format!("validator {:#x} was slashed (as of slot {as_of})", v.address),
        None => format!("no linked validator is slashed (as of slot {as_of})"),
    };
    want(slashed_role, slashed.is_some(), slashed_reason);
    if let Some(exiting_role) = policy.exiting_role.as_deref() {
        let leaving = validators.iter().find(|v| v.exiting).filter(|_| slashed.is_none());
        let reason = match leaving {
            Some(v) => format!("validator {:#x} is exiting (as of slot {as_of})", v.address),
            None => format!("no linked validator is exiting (as of slot {as_of})"),
        };
        want(exiting_role, leaving.is_some(), reason);
    }
    for (i, (rung, (earns, judged))) in ladder.iter().zip(&verdicts).enumerate() {
        let reason = match (earned, slashed) {
            (Some(top), _) if top > i => {
                format!("earned the higher role {} (as of slot {as_of})", ladder[top].role)
            }
            (_, Some(_)) => format!("a linked validator was slashed (as of slot {as_of})"),
            _ if active.is_empty() => {
                format!("no linked validator is active: all are exiting (as of slot {as_of})")
            }
            _ => evidence(judged, as_of, *earns),
        };
        want(rung.role, earned == Some(i), reason);
    }
    changes
}

/// The worst judged validator, which is what a member reads to see why.
fn evidence(judged: &[&ValidatorStats], as_of: Slot, performs: bool) -> String {
    let worst = judged.iter().max_by(|a, b| {
        let rate = |s: &ValidatorStats| s.missed_attestations.rate.unwrap_or(0.0);
        rate(a).total_cmp(&rate(b))
    });
    match worst {
        Some(s) => format!(
            "{} {:#x}: missed {}/{} attestations, {}/{} proposals (as of slot {as_of})",
            if performs { "all validators perform; worst" } else { "below the bar:" },
            s.address,
            s.missed_attestations.count,
            s.missed_attestations.total,
            s.missed_proposals.count,
            s.missed_proposals.total,
        ),
        None => format!("no validator with enough history (as of slot {as_of})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::MissedStats;

    fn stats(address: u8, missed: u32, total: u32) -> ValidatorStats {
        ValidatorStats {
            address: Address::repeat_byte(address),
            missed_attestations: MissedStats::new(missed, total, 0),
            ..ValidatorStats::default()
        }
    }

    fn linked(s: &ValidatorStats) -> LinkedValidator<'_> {
        LinkedValidator {
            address: s.address,
            stats: Some(s),
            slashed: false,
            exiting: false,
            epochs_active: 8,
        }
    }

    fn roles(changes: &[RoleChange]) -> Vec<(&str, bool)> {
        changes.iter().map(|c| (c.role.as_str(), c.grant)).collect()
    }

    #[test]
    fn a_member_whose_validators_all_perform_gets_the_role_once() {
        let policy = RolePolicy::default();
        let (a, b) = (stats(1, 0, 32), stats(2, 1, 32));
        let validators = [linked(&a), linked(&b)];
        let changes = plan_roles(&policy, "slashed", "u", &validators, |_| false, Slot(40));
        assert_eq!(roles(&changes), vec![("performant", true)]);
        assert!(changes[0].reason.contains("worst 0x0202"), "{}", changes[0].reason);
        let held = plan_roles(&policy, "slashed", "u", &validators, |r| r == "performant", Slot(41));
        assert!(held.is_empty(), "nothing to change: the diff is empty");
    }

    #[test]
    fn one_weak_validator_or_too_little_history_earns_nothing() {
        let policy = RolePolicy::default();
        let (good, weak) = (stats(1, 0, 32), stats(2, 10, 32));
        let changes =
            plan_roles(&policy, "slashed", "u", &[linked(&good), linked(&weak)], |_| false, Slot(40));
        assert!(changes.is_empty(), "{changes:?}");
        let young = stats(3, 0, 4);
        assert!(plan_roles(&policy, "slashed", "u", &[linked(&young)], |_| false, Slot(5)).is_empty());
    }

    fn with_elite() -> RolePolicy {
        RolePolicy {
            tiers: vec![crate::policy::Tier {
                role: "elite".into(),
                min_attestations: 32,
                max_attestation_miss_rate: 0.01,
                max_proposal_miss_rate: 0.0,
                max_attestation_streak: 0,
                min_epochs_active: 0,
            }],
            ..RolePolicy::default()
        }
    }

    #[test]
    fn a_member_holds_only_the_highest_rung_it_earns() {
        let policy = with_elite();
        let flawless = stats(1, 0, 40);
        let changes = plan_roles(&policy, "slashed", "u", &[linked(&flawless)], |_| false, Slot(40));
        assert_eq!(roles(&changes), vec![("elite", true)], "straight to the top, not both");
        let from_base =
            plan_roles(&policy, "slashed", "u", &[linked(&flawless)], |r| r == "performant", Slot(41));
        assert_eq!(roles(&from_base), vec![("performant", false), ("elite", true)]);
        assert!(from_base[0].reason.contains("higher role elite"), "{}", from_base[0].reason);
    }

    #[test]
    fn a_tier_can_ask_for_epochs_of_service() {
        let mut policy = with_elite();
        policy.tiers[0].min_epochs_active = 16;
        let flawless = stats(1, 0, 40);
        let young = LinkedValidator { epochs_active: 15, ..linked(&flawless) };
        let changes = plan_roles(&policy, "slashed", "u", &[young], |_| false, Slot(40));
        assert_eq!(roles(&changes), vec![("performant", true)], "15 epochs: not yet elite");
        let seasoned = LinkedValidator { epochs_active: 16, ..linked(&flawless) };
        let changes = plan_roles(&policy, "slashed", "u", &[seasoned], |_| false, Slot(40));
        assert_eq!(roles(&changes), vec![("elite", true)]);
    }

    #[test]
    fn slipping_below_a_tier_steps_down_one_rung_not_off_the_ladder() {
        let policy = with_elite();
        let slipped = stats(1, 2, 40); // 5 %: past elite's 1 % + 2 %, within the base 5 %
        let changes = plan_roles(&policy, "slashed", "u", &[linked(&slipped)], |r| r == "elite", Slot(50));
        assert_eq!(roles(&changes), vec![("performant", true), ("elite", false)]);
        let hovering = stats(1, 1, 40); // 2.5 %: within elite's 1 % + 2 % for a holder
        let kept = plan_roles(&policy, "slashed", "u", &[linked(&hovering)], |r| r == "elite", Slot(50));
        assert!(kept.is_empty(), "hysteresis keeps the tier: {kept:?}");
        let newcomer = plan_roles(&policy, "slashed", "u", &[linked(&hovering)], |_| false, Slot(50));
        assert_eq!(roles(&newcomer), vec![("performant", true)], "but a newcomer needs 1 %");
    }

    #[test]
    fn a_slash_swaps_the_performance_role_for_the_slashed_one() {
        let policy = RolePolicy::default();
        let (good, hit) = (stats(1, 0, 32), stats(2, 0, 32));
        let slashed = LinkedValidator { slashed: true, ..linked(&hit) };
        let changes =
            plan_roles(&policy, "slashed", "u", &[linked(&good), slashed], |r| r == "performant", Slot(9));
        assert_eq!(roles(&changes), vec![("slashed", true), ("performant", false)]);
        assert!(changes[0].reason.contains("0x0202"), "{}", changes[0].reason);
    }

    #[test]
    fn an_exiting_validator_is_not_judged_but_a_member_with_only_exits_loses_the_role() {
        let policy = RolePolicy::default();
        let (good, leaving) = (stats(1, 0, 32), stats(2, 20, 32));
        let exiting = LinkedValidator { exiting: true, ..linked(&leaving) };
        let holds = |r: &str| r == "performant";
        assert!(plan_roles(&policy, "slashed", "u", &[linked(&good), exiting], holds, Slot(9)).is_empty());
        let changes = plan_roles(&policy, "slashed", "u", &[exiting], holds, Slot(9));
        assert_eq!(roles(&changes), vec![("performant", false)]);
        assert!(changes[0].reason.starts_with("no linked validator is active"), "{}", changes[0].reason);
        let with_role = RolePolicy { exiting_role: Some("exiting".into()), ..RolePolicy::default() };
        let changes = plan_roles(&with_role, "slashed", "u", &[linked(&good), exiting], holds, Slot(9));
        assert_eq!(
            roles(&changes),
            vec![("exiting", true)],
            "the member keeps performant for the active one"
        );
        assert!(changes[0].reason.contains("0x0202"), "{}", changes[0].reason);
    }
}
