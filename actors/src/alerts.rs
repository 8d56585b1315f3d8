//! The alert publisher: a persisted lifecycle per (validator, kind). An alert is sent once when it
//! starts firing and once when it resolves; restarts do not resend it and do not forget to resolve
//! it: each transition is stored together with its messages (the outbox) and records are reloaded at
//! start.
//!
//! Routing: a DM to the validator's linked operator; validators nobody linked, and every slash,
//! go to the moderators' alert channel.

use sparta_telemetry::catalog;
use std::collections::HashMap;
use std::sync::Arc;

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use sparta_bot::DiscordAction;
use sparta_core::policy::{AlertKind, AlertPolicy, AlertTransition, AlertVerdict, Severity, alert_step};
use sparta_core::{Address, AttesterStatus, SlashedEvent, Slot};
use sparta_store::{AlertRecord, AlertSettings, AuditEntry, Decision, Link, OutboxEntry};
use tracing::info;

use crate::context::EngineContext;
use crate::names::ChildKind;
use crate::tracker::StatsUpdate;

pub enum AlertMsg {
    Stats(Arc<StatsUpdate>),
    Slashed {
        event: SlashedEvent,
        reply: RpcReplyPort<()>,
    },
    StatusChanged {
        attester: Address,
        to: AttesterStatus,
        slot: Slot,
        reply: RpcReplyPort<()>,
    },
    /// Alerts firing now.
    Firing(RpcReplyPort<Vec<AlertRecord>>),
    /// A validator was linked (the link is stored): its alerts go to the operator from now on.
    Linked(Link),
    /// An operator changed their alert preferences (already stored).
    Settings(AlertSettings),
}

pub struct AlertPublisher;

pub struct AlertState {
    ctx: Arc<EngineContext>,
    records: HashMap<(String, String), AlertRecord>,
    user_of: HashMap<Address, String>,
    /// Operators' preferences (mute, snooze, own threshold); absent means the engine's defaults.
    settings: HashMap<String, AlertSettings>,
}

fn subject(validator: &Address) -> String {
    format!("validator:{validator:#x}")
}

impl Actor for AlertPublisher {
    type Msg = AlertMsg;
    type State = AlertState;
    type Arguments = Arc<EngineContext>;

    async fn pre_start(
        &self,
        _myself: ActorRef<AlertMsg>,
        ctx: Arc<EngineContext>,
    ) -> Result<AlertState, ActorProcessingErr> {
        ctx.mailboxes.reset(ChildKind::Alerts);
        let records =
            ctx.store.alerts().await?.into_iter().map(|r| ((r.subject.clone(), r.kind.clone()), r)).collect();
        let user_of = ctx.store.links().await?.into_iter().map(|l| (l.validator, l.operator)).collect();
        let settings =
            ctx.store.all_alert_settings().await?.into_iter().map(|s| (s.operator.clone(), s)).collect();
        let state = AlertState { ctx, records, user_of, settings };
        // Re-evaluated from the trackers' current stats (stored ones may be an epoch old): resolves
        // what healed while we were down, fires what broke.
        crate::tracker::ask_for_all_stats(&state.ctx);
        Ok(state)
    }

    async fn handle(
        &self,
        _myself: ActorRef<AlertMsg>,
        msg: AlertMsg,
        state: &mut AlertState,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            AlertMsg::Stats(update) => {
                state.ctx.mailboxes.taken(ChildKind::Alerts);
                evaluate(state, &update).await?;
                update.record_latency("alerts");
            }
            AlertMsg::Slashed { event, reply } => {
                let evidence = format!(
                    "Slashed({:#x}, {}) at L1 block {} (slot {})",
                    event.attester, event.amount, event.l1_block, event.slot
                );
                let verdict = AlertVerdict::Breach { evidence };
                transition(
                    state,
                    event.attester,
                    AlertKind::Slashed,
                    Severity::Critical,
                    &verdict,
                    event.slot,
                    true,
                )
                .await?;
                let _ = reply.send(());
            }
            AlertMsg::StatusChanged { attester, to, slot, reply } => {
                let verdict = match to {
                    AttesterStatus::Validating => AlertVerdict::Healthy,
                    other => AlertVerdict::Breach {
                        evidence: format!("attester status is now {} (slot {slot})", other.as_str()),
                    },
                };
                transition(
                    state,
                    attester,
                    AlertKind::StatusChanged,
                    Severity::Warning,
                    &verdict,
                    slot,
                    false,
                )
                .await?;
                let _ = reply.send(());
            }
            AlertMsg::Firing(reply) => {
                let _ = reply.send(state.records.values().filter(|r| r.firing).cloned().collect());
            }
            AlertMsg::Linked(link) => {
                state.user_of.insert(link.validator, link.operator);
            }
            AlertMsg::Settings(settings) => {
                state.settings.insert(settings.operator.clone(), settings);
            }
        }
        Ok(())
    }
}

async fn evaluate(state: &mut AlertState, update: &StatsUpdate) -> Result<(), ActorProcessingErr> {
    let default = &state.ctx.config.alerts;
    let mut verdicts = Vec::with_capacity(update.stats.len());
    for stats in &update.stats {
        // An operator's own threshold replaces the engine's for their validators.
        let own = state.user_of.get(&stats.address).and_then(|u| state.settings.get(u)?.miss_rate_threshold);
        let verdict = match own {
            Some(threshold) => AlertPolicy { miss_rate_threshold: threshold, ..default.clone() }
                .evaluate(stats, update.as_of),
            None => default.evaluate(stats, update.as_of),
        };
        verdicts.push((stats.address, verdict));
    }
    for (validator, verdict) in verdicts {
        transition(
            state,
            validator,
            AlertKind::AttestationMisses,
            Severity::Warning,
            &verdict,
            update.as_of,
            false,
        )
        .await?;
    }
    Ok(())
}

/// One lifecycle step: sends the message and persists the record when the alert fires or resolves.
async fn transition(
    state: &mut AlertState,
    validator: Address,
    kind: AlertKind,
    severity: Severity,
    verdict: &AlertVerdict,
    slot: Slot,
    always_to_channel: bool,
) -> Result<(), ActorProcessingErr> {
    let key = (subject(&validator), kind.as_str().to_owned());
    let firing = state.records.get(&key).is_some_and(|r| r.firing);
    let Some(step) = alert_step(firing, verdict) else { return Ok(()) };
    let (text, evidence) = match (step, verdict) {
        (AlertTransition::Fire, AlertVerdict::Breach { evidence }) => (
            format!("[{}] {} for validator {validator:#x}: {evidence}", severity.as_str(), kind.as_str()),
            evidence.clone(),
        ),
        _ => (
            format!("[resolved] {} for validator {validator:#x} (as of slot {slot})", kind.as_str()),
            format!("healthy again as of slot {slot}"),
        ),
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
        None => actions.push(DiscordAction::ChannelPost {
            channel: state.ctx.config.alerts_channel.clone(),
            content: text.clone(),
        }),
    }
    if always_to_channel && state.user_of.contains_key(&validator) {
        actions.push(DiscordAction::ChannelPost {
            channel: state.ctx.config.alerts_channel.clone(),
            content: text,
        });
    }
    let fire = matches!(step, AlertTransition::Fire);
    let transition = if fire { "fire" } else { "resolve" };
    // Keyed by the incident (when it began) and the step, so a re-decision after a crash is the same entry.
    let since = if fire { slot } else { state.records.get(&key).map_or(slot, |r| r.since_slot) };
    let context = format!("{}:{since}:{transition}", kind.as_str());
    let mut outbox = Vec::with_capacity(actions.len());
    for action in &actions {
        outbox.push(OutboxEntry {
            key: action.idempotency_key(&context),
            payload: serde_json::to_string(action)?,
            created_slot: slot,
        });
    }
    let record =
        AlertRecord { subject: key.0.clone(), kind: key.1.clone(), firing: fire, since_slot: slot, evidence };
    let decision = Decision {
        alerts: vec![record.clone()],
        audit: vec![AuditEntry {
            subject: key.0.clone(),
            at_slot: slot,
            change: format!("alert {transition} {}", kind.as_str()),
            evidence: record.evidence.clone(),
        }],
        outbox,
        ..Decision::default()
    };
    state.ctx.store.commit_decision(&decision).await?;
    state.ctx.outbox_changed();
    state.records.insert(key, record);
    metrics::counter!(catalog::ALERTS_TOTAL, "kind" => kind.as_str(), "transition" => transition)
        .increment(1);
    info!(validator = %validator, kind = kind.as_str(), transition, "alert");
    Ok(())
}
