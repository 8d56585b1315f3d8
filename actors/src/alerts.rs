//! The alert publisher: a persisted lifecycle per (validator, kind). An alert is sent once when it
//! starts firing and once when it resolves; restarts do not resend it (the record is persisted) and
//! do not forget to resolve it (records are reloaded at start).
//!
//! Routing: a DM to the validator's linked operator; validators nobody linked, and every slash,
//! go to the moderators' alert channel.

use sparta_telemetry::catalog;
use std::collections::HashMap;
use std::sync::Arc;

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use sparta_bot::DiscordAction;
use sparta_core::policy::{AlertKind, AlertTransition, AlertVerdict, Severity, alert_step};
use sparta_core::{Address, AttesterStatus, SlashedEvent, Slot};
use sparta_store::AlertRecord;
use tracing::{info, warn};

use crate::context::EngineContext;
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
}

pub struct AlertPublisher;

pub struct AlertState {
    ctx: Arc<EngineContext>,
    records: HashMap<(String, String), AlertRecord>,
    user_of: HashMap<Address, String>,
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
        let records =
            ctx.store.alerts().await?.into_iter().map(|r| ((r.subject.clone(), r.kind.clone()), r)).collect();
        let user_of = ctx.store.links().await?.into_iter().map(|l| (l.validator, l.operator)).collect();
        let mut state = AlertState { ctx, records, user_of };
        // Re-evaluate from the stored stats: resolves what healed while we were down, fires what broke.
        let stats = state.ctx.store.all_stats().await?;
        if let Some(as_of) = state.ctx.store.checkpoint().await? {
            evaluate(&mut state, &StatsUpdate { as_of, stats }).await?;
        }
        Ok(state)
    }

    async fn handle(
        &self,
        _myself: ActorRef<AlertMsg>,
        msg: AlertMsg,
        state: &mut AlertState,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            AlertMsg::Stats(update) => evaluate(state, &update).await?,
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
        }
        Ok(())
    }
}

async fn evaluate(state: &mut AlertState, update: &StatsUpdate) -> Result<(), ActorProcessingErr> {
    let policy = state.ctx.config.alerts.clone();
    for stats in &update.stats {
        let verdict = policy.evaluate(stats, update.as_of);
        transition(
            state,
            stats.address,
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
            String::new(),
        ),
    };
    let mut actions = Vec::new();
    match state.user_of.get(&validator) {
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
    for action in &actions {
        if let Err(error) = state.ctx.sink.deliver(action).await {
            // Not persisted, so the next evaluation tries again.
            warn!(%error, validator = %validator, kind = kind.as_str(), "alert not delivered; will retry");
            return Ok(());
        }
    }
    let fire = matches!(step, AlertTransition::Fire);
    let record =
        AlertRecord { subject: key.0.clone(), kind: key.1.clone(), firing: fire, since_slot: slot, evidence };
    state.ctx.store.put_alert(&record).await?;
    state.records.insert(key, record);
    let transition = if fire { "fire" } else { "resolve" };
    metrics::counter!(catalog::ALERTS_TOTAL, "kind" => kind.as_str(), "transition" => transition)
        .increment(1);
    info!(validator = %validator, kind = kind.as_str(), transition, "alert");
    Ok(())
}
