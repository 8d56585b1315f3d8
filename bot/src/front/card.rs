//! One validator rendered as a few lines: standing, misses, trend, slashing risk; and for its owner
//! also the role bar and firing alerts.

use std::fmt::Write as _;

use sparta_core::ValidatorStats;

use super::backend::{Policies, Source, Standing, ValidatorView};
use super::format::{last_slot, misses, percent, trend};

/// Who is looking: the owner sees their role standing and alerts, anyone else the public view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    Owner { holds_role: bool },
    Public,
}

const TREND_EPOCHS: usize = 8;

pub fn card(view: &ValidatorView, policies: &Policies, audience: Audience) -> String {
    let stats = &view.stats;
    let mut text = format!("**{:#x}** — {}\n", stats.address, standing(view.standing));
    let _ = writeln!(
        text,
        "• attestations: {} · last sent {}",
        misses(&stats.missed_attestations),
        last_slot(stats.last_attestation)
    );
    let _ = writeln!(
        text,
        "• proposals: {} · last {}",
        misses(&stats.missed_proposals),
        last_slot(stats.last_proposal)
    );
    if let Some(trend) = trend(&view.epochs, TREND_EPOCHS) {
        let _ = writeln!(text, "• trend: {trend}");
    }
    if let Some(risk) = risk(view, policies) {
        let _ = writeln!(text, "• slashing risk: {risk}");
    }
    if let Audience::Owner { holds_role } = audience {
        let _ = writeln!(text, "• role: {}", role_bar(stats, view.standing, policies, holds_role));
        if !view.alerts.is_empty() {
            let _ = writeln!(text, "• alerts firing: {}", view.alerts.join(", "));
        }
    }
    if view.source == Source::Stored {
        text.push_str("• (from the stored copy: this instance is a standby; trends show on the leader)\n");
    }
    text
}

pub fn standing(standing: Standing) -> &'static str {
    match standing {
        Standing::Validating => "validating",
        Standing::Exiting => "exiting (withdrawal initiated)",
        Standing::Slashed => "**slashed**",
    }
}

/// The inactivity projection, or `None` when there is nothing to warn about.
fn risk(view: &ValidatorView, policies: &Policies) -> Option<String> {
    if view.standing != Standing::Validating {
        return None;
    }
    let rule = &policies.inactivity;
    let risk = rule.assess(&view.epochs);
    let latest = risk.latest?;
    let (epoch, rate) = (latest.epoch, latest.miss_rate().unwrap_or_default());
    let bar = percent(Some(rule.target));
    if risk.is_offence() {
        Some(format!(
            "**inactive {} epochs in a row** (epoch {epoch}: {} missed); nodes with the default thresholds \
             (≥ {bar} for {} epochs) vote to slash it for inactivity",
            risk.inactive_streak,
            percent(Some(rate)),
            risk.needed
        ))
    } else if risk.is_at_risk() {
        let so_far = if risk.inactive_streak == 0 {
            "no inactive epoch yet".to_owned()
        } else {
            format!("inactive in epoch {epoch} ({} missed)", percent(Some(rate)))
        };
        Some(format!("{so_far}; one more epoch at ≥ {bar} missed and nodes vote to slash it"))
    } else {
        None
    }
}

/// Whether the validator meets the performance role's bar, and if not what it needs.
fn role_bar(stats: &ValidatorStats, standing: Standing, policies: &Policies, holds_role: bool) -> String {
    let policy = &policies.roles;
    let role = &policy.role;
    match standing {
        Standing::Slashed => {
            return format!("`{}` (a slashed validator replaces `{role}`)", policies.slashed_role);
        }
        Standing::Exiting => return "not judged while exiting".to_owned(),
        Standing::Validating => {}
    }
    let attestations = &stats.missed_attestations;
    if !holds_role && attestations.total < policy.min_attestations {
        return format!(
            "`{role}` needs {} judged attestations first ({} so far)",
            policy.min_attestations, attestations.total
        );
    }
    if policy.qualifies(stats, holds_role) {
        let slack = if holds_role { policy.hysteresis } else { 0.0 };
        return format!(
            "meets `{role}` (attestation misses ≤ {}, proposal misses ≤ {})",
            percent(Some(policy.max_attestation_miss_rate + slack)),
            percent(Some(policy.max_proposal_miss_rate + slack))
        );
    }
    let mut needs = Vec::new();
    let limit = |max: f64| max + if holds_role { policy.hysteresis } else { 0.0 };
    if attestations.rate.is_some_and(|r| r > limit(policy.max_attestation_miss_rate)) {
        needs.push(format!(
            "attestation misses ≤ {} (now {})",
            percent(Some(limit(policy.max_attestation_miss_rate))),
            percent(attestations.rate)
        ));
    }
    if stats.missed_proposals.rate.is_some_and(|r| r > limit(policy.max_proposal_miss_rate)) {
        needs.push(format!(
            "proposal misses ≤ {} (now {})",
            percent(Some(limit(policy.max_proposal_miss_rate))),
            percent(stats.missed_proposals.rate)
        ));
    }
    format!("below `{role}`: needs {}", needs.join(" and "))
}

#[cfg(test)]
mod tests {
    use sparta_core::{Address, Epoch, EpochPerformance, MissedStats, Slot};

    use super::*;

    fn view(att: (u32, u32), epochs: &[(u64, u32, u32)]) -> ValidatorView {
        ValidatorView {
            stats: ValidatorStats {
                address: Address::repeat_byte(0xab),
                last_proposal: Some(Slot(90)),
                last_attestation: Some(Slot(99)),
                total_slots: 50,
                missed_proposals: MissedStats::new(0, 2, 0),
                missed_attestations: MissedStats::new(att.0, att.1, 0),
            },
            epochs: epochs
                .iter()
                .map(|&(e, missed, total)| EpochPerformance { epoch: Epoch(e), missed, total })
                .collect(),
            standing: Standing::Validating,
            operator: Some("42".into()),
            alerts: vec!["attestation-misses".into()],
            as_of: None,
            source: Source::Live,
        }
    }

    fn policies() -> Policies {
        Policies { slashed_role: "slashed".into(), ..Policies::default() }
    }

    #[test]
    fn the_owner_sees_what_the_role_needs_and_the_public_does_not() {
        let v = view((6, 40), &[(1, 0, 10), (2, 8, 10)]);
        let owner = card(&v, &policies(), Audience::Owner { holds_role: false });
        assert!(owner.contains("attestations: 6/40 missed (15.0 %)"), "{owner}");
        assert!(
            owner.contains("below `performant`: needs attestation misses ≤ 5.0 % (now 15.0 %)"),
            "{owner}"
        );
        assert!(owner.contains("alerts firing: attestation-misses"), "{owner}");
        assert!(owner.contains("inactive in epoch 2 (80.0 % missed); one more epoch"), "{owner}");
        let public = card(&v, &policies(), Audience::Public);
        assert!(!public.contains("role:") && !public.contains("alerts"), "{public}");
    }

    #[test]
    fn a_holder_is_judged_with_hysteresis_and_a_newcomer_needs_a_sample() {
        let holder = card(&view((3, 50), &[]), &policies(), Audience::Owner { holds_role: true });
        assert!(holder.contains("meets `performant` (attestation misses ≤ 7.0 %"), "{holder}");
        let newcomer = card(&view((0, 5), &[]), &policies(), Audience::Owner { holds_role: false });
        assert!(newcomer.contains("needs 16 judged attestations first (5 so far)"), "{newcomer}");
    }

    #[test]
    fn two_inactive_epochs_are_reported_as_an_offence() {
        let text = card(&view((20, 40), &[(3, 9, 10), (4, 10, 10)]), &policies(), Audience::Public);
        assert!(text.contains("**inactive 2 epochs in a row** (epoch 4: 100.0 % missed)"), "{text}");
    }
}
