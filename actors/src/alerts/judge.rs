//! From data to observations: a validator's stats and inactivity, a slashing round's votes, and the
//! network's health and freshness, each turned into what the lifecycle is told.

use std::borrow::Cow;

use ractor::ActorProcessingErr;
use sparta_core::alerting::{Breach, Observation, Phase};
use sparta_core::freshness::FreshnessVerdict;
use sparta_core::policy::{AlertKind, AlertPolicy, Severity};
use sparta_core::{InactivityRisk, SlashVoteTarget, SlashVotes, Slot};
use tracing::info;

use super::digest::digest;
use super::tell::observe;
use super::{AlertState, NetworkPulse, Subject};
use crate::context::EngineContext;
use crate::tracker::StatsUpdate;

pub(super) async fn evaluate(state: &mut AlertState, update: &StatsUpdate) -> Result<(), ActorProcessingErr> {
    let ctx = state.ctx.clone();
    let default = &ctx.config.alerts;
    // While the network is down or the data stale, a breach may be the network's or the data's: wait.
    let hold = state.stale || state.health.outage().is_some();
    for stats in &update.stats {
        // An operator's own threshold replaces the engine's for their validators.
        let own = state.user_of.get(&stats.address).and_then(|u| state.settings.get(u)?.miss_rate_threshold);
        let policy = match own {
            Some(threshold) => Cow::Owned(AlertPolicy { miss_rate_threshold: threshold, ..default.clone() }),
            None => Cow::Borrowed(default),
        };
        let excused = update.excused.get(&stats.address).copied().unwrap_or_default();
        // A validator slashed out of the set, or leaving it, has no duties to miss that matter.
        let left = [AlertKind::Slashed, AlertKind::StatusChanged].into_iter().any(|kind| {
            state
                .incidents
                .get(&(Subject::Validator(stats.address), kind))
                .is_some_and(|i| i.phase == Phase::Firing)
        });
        let observation = match policy.evaluate(stats, excused, update.as_of) {
            Observation::Breach(b) if hold || left => Observation::Excused(b),
            other => other,
        };
        observe(
            state,
            Subject::Validator(stats.address),
            AlertKind::AttestationMisses,
            &observation,
            update.as_of,
        )
        .await?;
    }
    for (validator, risk) in &update.inactivity {
        let observation = inactivity_observation(&state.ctx, risk);
        observe(state, Subject::Validator(*validator), AlertKind::InactivityRisk, &observation, update.as_of)
            .await?;
    }
    Ok(())
}

/// The warning an epoch before the nodes' Sentinels would want the validator slashed, and the critical
/// alert once they do.
fn inactivity_observation(ctx: &EngineContext, risk: &InactivityRisk) -> Observation {
    let rule = &ctx.config.inactivity;
    let Some(latest) = risk.latest.filter(|_| risk.is_offence() || risk.is_at_risk()) else {
        return Observation::Healthy;
    };
    let epoch = format!(
        "missed {} of {} duties in epoch {} ({:.0}%, the nodes' inactivity target is {:.0}%)",
        latest.missed,
        latest.total,
        latest.epoch,
        latest.miss_rate().unwrap_or(0.0) * 100.0,
        rule.target * 100.0
    );
    if risk.is_offence() {
        let evidence = format!(
            "{epoch}; inactive {} epochs in a row: the nodes' Sentinels now want it slashed for inactivity",
            risk.inactive_streak
        );
        Observation::Breach(Breach::new(Severity::Critical, 1.0, evidence))
    } else {
        let evidence = format!(
            "{epoch}; one more inactive epoch with duties and the nodes want it slashed for inactivity ({} in a row)",
            risk.needed
        );
        Observation::Breach(Breach::new(Severity::Warning, 0.5, evidence))
    }
}

/// "A slash vote against you is open": how many votes, the quorum, and when the round can run. Over
/// once the round is executed (its slashes arrive as `Slashed`) or can no longer be.
pub(super) fn slash_vote_observation(
    ctx: &EngineContext,
    votes: &SlashVotes,
    target: &SlashVoteTarget,
) -> Observation {
    if votes.executed || votes.slot >= votes.expires_at {
        return Observation::Healthy;
    }
    let slot_s = ctx.clock.timing().slot_duration_s;
    let wait = votes.executable_from.0.saturating_sub(votes.slot.0) * slot_s;
    let evidence = format!(
        "{} of the {} votes cast in slashing round {} would slash it (up to {} unit(s); quorum {}); the round can be executed from slot {} (in about {}) until slot {}",
        target.votes,
        votes.votes_cast,
        votes.round,
        target.max_units,
        votes.quorum,
        votes.executable_from,
        humanize(wait),
        votes.expires_at,
    );
    let quorum = votes.quorum.max(1);
    let severity = if target.votes >= quorum { Severity::Critical } else { Severity::Warning };
    let breach = Breach::new(severity, f64::from(target.votes) / f64::from(quorum), evidence);
    Observation::Breach(breach.until(votes.expires_at))
}

/// "3 d 4 h", "12 min", "40 s".
fn humanize(seconds: u64) -> String {
    match seconds {
        s if s >= 86_400 => format!("{} d {} h", s / 86_400, s % 86_400 / 3_600),
        s if s >= 3_600 => format!("{} h {} min", s / 3_600, s % 3_600 / 60),
        s if s >= 60 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

/// The network's own alerts (outage, stale data), and the digest.
pub(super) async fn network(state: &mut AlertState, pulse: &NetworkPulse) -> Result<(), ActorProcessingErr> {
    for slot in &pulse.slots {
        if let Some(ended) = state.health.observe(slot) {
            info!(outage = ended.describe(), "network-wide outage over");
        }
    }
    let now = pulse.processed_through.unwrap_or_default();
    let outage = match state.health.outage() {
        Some(outage) => {
            let severity = AlertKind::NetworkOutage.default_severity();
            Observation::Breach(Breach::new(severity, outage.worst_share, outage.describe()))
        }
        None => Observation::Healthy,
    };
    observe(state, Subject::Network, AlertKind::NetworkOutage, &outage, now).await?;

    state.freshness.observe(pulse.processed_through, pulse.current_slot);
    let stale_after = state.ctx.config.alerts.stale_after_slots;
    let slot_s = state.ctx.clock.timing().slot_duration_s;
    let stale = match state.freshness.verdict(pulse.current_slot, stale_after) {
        FreshnessVerdict::Fresh => Some(Observation::Healthy),
        FreshnessVerdict::Unsure => None,
        FreshnessVerdict::Stale { last, behind, still_for } => {
            let last = last.map_or("none yet".to_owned(), |s| s.to_string());
            let evidence = format!(
                "no new chain data for {still_for} slots ({} s): last processed slot {last}, the chain is at slot {} ({behind} behind); the node is stalled, syncing or unreachable",
                still_for * slot_s,
                pulse.current_slot
            );
            let severity = AlertKind::StaleData.default_severity();
            Some(Observation::Breach(Breach::new(severity, behind as f64, evidence)))
        }
    };
    if let Some(observation) = stale {
        state.stale = matches!(observation, Observation::Breach(_));
        observe(state, Subject::Network, AlertKind::StaleData, &observation, pulse.current_slot).await?;
    }
    if let Some(judged) = state.judged_through {
        ripen(state, judged).await?;
    }
    state.judged_through = pulse.processed_through;
    digest(state, pulse).await
}

/// As of `judged` (every stats update through it has been judged): breaches past their known end
/// resolve, and pending breaches of the subjects' own that got no fresher stats and have waited out
/// the pending period fire, unless the network is down or the data stale.
async fn ripen(state: &mut AlertState, judged: Slot) -> Result<(), ActorProcessingErr> {
    // Breaches known to end by a slot (a slashing round's lifetime) resolve once it has passed.
    let mut expired: Vec<(Subject, AlertKind)> = state
        .incidents
        .iter()
        .filter(|(_, i)| i.phase != Phase::Resolved && i.until.is_some_and(|until| judged >= until))
        .map(|(key, _)| *key)
        .collect();
    expired.sort();
    for (subject, kind) in expired {
        observe(state, subject, kind, &Observation::Healthy, judged).await?;
    }
    if state.stale || state.health.outage().is_some() {
        return Ok(());
    }
    let pending_slots = state.ctx.config.alerts.lifecycle.pending_slots;
    let mut ripe: Vec<((Subject, AlertKind), Breach)> = state
        .awaiting
        .iter()
        .filter(|(key, breach)| {
            breach.as_of.is_some_and(|seen| seen < judged)
                && state
                    .incidents
                    .get(*key)
                    .is_some_and(|i| judged.0.saturating_sub(i.since.0) >= pending_slots)
        })
        .map(|(key, breach)| (*key, breach.clone()))
        .collect();
    // In a stable order, so a replay decides the same way.
    ripe.sort_by_key(|(key, _)| *key);
    for ((subject, kind), breach) in ripe {
        observe(state, subject, kind, &Observation::Breach(breach), judged).await?;
    }
    Ok(())
}
