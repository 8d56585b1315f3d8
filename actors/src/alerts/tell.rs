//! Telling: one lifecycle step per observation, stored in one decision with the messages it sends,
//! and who hears them in which words.

use ractor::ActorProcessingErr;
use sparta_bot::DiscordAction;
use sparta_core::Slot;
use sparta_core::alerting::{Incident, Notice, Observation, Phase};
use sparta_core::policy::{AlertKind, Severity};
use sparta_store::{AlertRecord, AuditEntry, Decision, OutboxEntry};
use sparta_telemetry::catalog;
use tracing::info;

use super::{AlertState, Subject};

/// One lifecycle step for (subject, kind): stores the new state with its messages when it changed.
pub(super) async fn observe(
    state: &mut AlertState,
    subject: Subject,
    kind: AlertKind,
    observation: &Observation,
    now: Slot,
) -> Result<(), ActorProcessingErr> {
    let key = (subject, kind);
    let lifecycle = kind.lifecycle(&state.ctx.config.alerts.lifecycle);
    let current = state.incidents.get(&key);
    let step = lifecycle.step(current, observation, now);
    let Some(next) = step.next else { return Ok(()) };
    match observation {
        Observation::Breach(breach) if next.phase == Phase::Pending => {
            state.awaiting.insert(key, breach.clone().as_of(breach.as_of.unwrap_or(now)));
        }
        _ => {
            state.awaiting.remove(&key);
        }
    }
    let phase_changed = current.is_none_or(|c| c.phase != next.phase);
    let started = match (step.notice, current) {
        (Some(Notice::Resolve | Notice::Worse), Some(c)) => c.since,
        _ => next.since,
    };
    if step.notice.is_none() && !phase_changed {
        // Fresher numbers only: kept in memory for `/alerts`, not worth a write per slot.
        state.incidents.insert(key, next);
        return Ok(());
    }
    let mut outbox = Vec::new();
    if let Some(notice) = step.notice {
        let context = format!("{}:{started}:{}:{now}", kind.as_str(), notice.as_str());
        let told = Told { subject, kind, incident: &next, notice, started };
        for action in route(state, &told) {
            outbox.push(OutboxEntry {
                key: action.idempotency_key(&context),
                payload: serde_json::to_string(&action)?,
                created_slot: now,
            });
        }
    }
    let stored_subject = subject.key();
    let record = AlertRecord::new(&stored_subject, kind.as_str(), &next);
    let change = match step.notice {
        Some(notice) => format!("alert {} {}", notice.as_str(), kind.as_str()),
        None => format!("alert {} {}", next.phase.as_str(), kind.as_str()),
    };
    let decision = Decision {
        alerts: vec![record],
        audit: vec![AuditEntry {
            subject: stored_subject.clone(),
            at_slot: now,
            change,
            evidence: next.evidence.clone(),
        }],
        outbox,
        ..Decision::default()
    };
    state.ctx.store.commit_decision(&decision).await?;
    if !decision.outbox.is_empty() {
        state.ctx.outbox_changed();
    }
    if let Some(notice) = step.notice {
        metrics::counter!(catalog::ALERTS_TOTAL, "kind" => kind.as_str(), "transition" => notice.as_str())
            .increment(1);
        info!(subject = stored_subject, kind = kind.as_str(), transition = notice.as_str(), "alert");
    }
    state.incidents.insert(key, next);
    Ok(())
}

/// One notice about to go out.
struct Told<'a> {
    subject: Subject,
    kind: AlertKind,
    incident: &'a Incident,
    notice: Notice,
    /// When the incident began firing.
    started: Slot,
}

/// Who hears about one notice.
fn route(state: &AlertState, told: &Told<'_>) -> Vec<DiscordAction> {
    let Told { subject, kind, incident, notice, .. } = *told;
    let text = message(state, told);
    let channel = || DiscordAction::ChannelPost {
        channel: state.ctx.config.alerts_channel.clone(),
        content: text.clone(),
    };
    let validator = match subject {
        Subject::Network => return vec![channel()],
        Subject::Validator(v) => v,
    };
    let mut actions = Vec::new();
    let now_ms = state.ctx.clock.now().as_millis() as u64;
    match state.user_of.get(&validator) {
        // The record still changes while the operator is muted or snoozed; only the DM is skipped.
        Some(user) if state.settings.get(user).is_some_and(|s| s.is_quiet(now_ms)) => {
            info!(user, validator = %validator, "alert DM skipped: the operator muted or snoozed alerts");
        }
        Some(user) => {
            actions.push(DiscordAction::DirectMessage { user: user.clone(), content: text.clone() })
        }
        // Nobody to DM: the moderators read it in the digest (or at once, below, when critical).
        None => {}
    }
    let critical_fact = matches!(kind, AlertKind::Slashed | AlertKind::InactivityRisk)
        && incident.severity == Severity::Critical
        && notice != Notice::Resolve;
    if critical_fact {
        actions.push(channel());
    }
    actions
}

/// "[warning] attestation-misses for validator 0x…: <evidence> (evidence as of slot N, 4 s old)"
fn message(state: &AlertState, told: &Told<'_>) -> String {
    let Told { subject, kind, incident, notice, started } = *told;
    let who = subject.describe();
    let age = state.ctx.clock.age_of(incident.evidence_slot).as_secs();
    match notice {
        Notice::Fire | Notice::Worse => {
            let (worse, since) = match notice {
                Notice::Worse => (" got worse", format!("firing since slot {started}; ")),
                _ => ("", String::new()),
            };
            format!(
                "[{}] {} for {who}{worse}: {} ({since}evidence as of slot {}, {age} s old)",
                incident.severity.as_str(),
                kind.as_str(),
                incident.evidence,
                incident.evidence_slot
            )
        }
        Notice::Resolve => {
            let now = incident.evidence_slot;
            let why = match kind {
                AlertKind::SlashVote => {
                    format!("the slashing round was executed or can no longer be (slot {now})")
                }
                AlertKind::StaleData => format!("chain data is fresh again (slot {now})"),
                AlertKind::NetworkOutage => format!("committees attest again (slot {now})"),
                AlertKind::EscapeHatch => {
                    format!("the escape hatch closed; committees have their duties again (slot {now})")
                }
                _ => incident.evidence.clone(),
            };
            format!("[resolved] {} for {who}: {why} (firing since slot {started})", kind.as_str())
        }
    }
}
