//! The role rule: which roles a Discord member should hold, from all their linked validators, and the
//! changes that would bring them there (the reconcile diff). Pure: the role assigner feeds it what it
//! knows and stores what it returns.
//!
//! The rule, per member:
//! - the slashed role while any linked validator is slashed;
//! - the performance role when nothing is slashed, at least one validator is still active (neither
//!   slashed nor exiting), and every active validator with enough history qualifies under the
//!   [`RolePolicy`]. A newcomer needs `min_attestations` on at least one validator; a holder is judged
//!   on whatever history there is, with the policy's hysteresis (a restart or a short window is no
//!   evidence against it).

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
    let perf_role = policy.role.as_str();
    let slashed = validators.iter().find(|v| v.slashed);
    let active: Vec<&LinkedValidator<'_>> = validators.iter().filter(|v| !v.slashed && !v.exiting).collect();
    let holder = holds(perf_role);
    let judged: Vec<&ValidatorStats> = active
        .iter()
        .filter_map(|v| v.stats)
        .filter(|s| holder || s.missed_attestations.total >= policy.min_attestations)
        .collect();
    let performs = slashed.is_none()
        && !active.is_empty()
        && (holder || !judged.is_empty())
        && judged.iter().all(|s| policy.qualifies(s, holder));

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
    want(perf_role, performs, evidence(&judged, as_of, performs));
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
        LinkedValidator { address: s.address, stats: Some(s), slashed: false, exiting: false }
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
    }
}
