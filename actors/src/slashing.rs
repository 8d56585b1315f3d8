//! The slashing detector: turns executed slashes and attester status changes from L1 into role
//! flags and alerts (and passes the escape hatch's state on to the alert publisher). It acknowledges a batch only after both the role assigner and the alert
//! publisher acknowledged, so the watcher re-delivers anything a crash interrupted; both
//! downstream steps are idempotent.

use sparta_telemetry::catalog;
use std::sync::Arc;

use ractor::rpc::CallResult;
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use sparta_core::{AttesterStatus, ChainEvent};
use tracing::{info, warn};

use crate::alerts::AlertMsg;
use crate::context::EngineContext;
use crate::names::ChildKind;
use crate::roles::{FLAG_EXITING, FLAG_SLASHED, RoleMsg};

pub enum SlashingMsg {
    Events(Arc<Vec<ChainEvent>>, RpcReplyPort<()>),
}

pub struct SlashingDetector;

impl Actor for SlashingDetector {
    type Msg = SlashingMsg;
    type State = Arc<EngineContext>;
    type Arguments = Arc<EngineContext>;

    async fn pre_start(
        &self,
        _myself: ActorRef<SlashingMsg>,
        ctx: Arc<EngineContext>,
    ) -> Result<Arc<EngineContext>, ActorProcessingErr> {
        Ok(ctx)
    }

    async fn handle(
        &self,
        _myself: ActorRef<SlashingMsg>,
        msg: SlashingMsg,
        ctx: &mut Arc<EngineContext>,
    ) -> Result<(), ActorProcessingErr> {
        let SlashingMsg::Events(events, reply) = msg;
        match handle_events(ctx, &events).await {
            // No reply means the watcher's call fails and it re-delivers later.
            Err(error) => warn!(%error, "slashing events not fully handled; the watcher will re-deliver"),
            Ok(()) => {
                let _ = reply.send(());
            }
        }
        Ok(())
    }
}

async fn handle_events(ctx: &EngineContext, events: &[ChainEvent]) -> Result<(), ActorProcessingErr> {
    for event in events {
        match event {
            ChainEvent::Slashed(slashed) => {
                info!(attester = %slashed.attester, amount = slashed.amount, slot = %slashed.slot, "slash executed on L1");
                metrics::counter!(catalog::NETWORK_SLASHES_TOTAL).increment(1);
                let (attester, slot) = (slashed.attester, slashed.slot);
                flag(ctx, |reply| RoleMsg::Flag { validator: attester, flag: FLAG_SLASHED, slot, reply })
                    .await?;
                alert(ctx, |reply| AlertMsg::Slashed { event: slashed.clone(), reply }).await?;
            }
            ChainEvent::AttesterStatusChanged { attester, from, to, slot } => {
                info!(attester = %attester, from = from.as_str(), to = to.as_str(), "attester status changed");
                let (attester, to, slot) = (*attester, *to, *slot);
                if to == AttesterStatus::Exiting {
                    flag(ctx, |reply| RoleMsg::Flag { validator: attester, flag: FLAG_EXITING, slot, reply })
                        .await?;
                }
                alert(ctx, |reply| AlertMsg::StatusChanged { attester, to, slot, reply }).await?;
            }
            ChainEvent::SlashVotes(votes) => {
                info!(
                    round = votes.round,
                    votes = votes.votes_cast,
                    targets = votes.targets.len(),
                    executed = votes.executed,
                    "slashing round"
                );
                let votes = votes.clone();
                alert(ctx, |reply| AlertMsg::SlashVotes { votes, reply }).await?;
            }
            ChainEvent::Pruned { proven_checkpoint, pending_checkpoint, slot } => {
                warn!(proven_checkpoint, pending_checkpoint, slot = %slot, "pending chain pruned");
                metrics::counter!(catalog::NETWORK_PRUNES_TOTAL).increment(1);
            }
            ChainEvent::EscapeHatch { epoch, open, slot } => {
                let (epoch, open, slot) = (*epoch, *open, *slot);
                alert(ctx, |reply| AlertMsg::EscapeHatch { epoch, open, slot, reply }).await?;
            }
            ChainEvent::SlotObserved(_) => {}
        }
    }
    Ok(())
}

async fn flag(
    ctx: &EngineContext,
    msg: impl FnOnce(RpcReplyPort<()>) -> RoleMsg,
) -> Result<(), ActorProcessingErr> {
    let roles = ctx.names.lookup::<RoleMsg>(ChildKind::Roles).ok_or("role assigner is not running")?;
    acknowledged(roles.call(msg, Some(ctx.config.call_timeout())).await?, "role assigner")
}

async fn alert(
    ctx: &EngineContext,
    msg: impl FnOnce(RpcReplyPort<()>) -> AlertMsg,
) -> Result<(), ActorProcessingErr> {
    let alerts = ctx.names.lookup::<AlertMsg>(ChildKind::Alerts).ok_or("alert publisher is not running")?;
    acknowledged(alerts.call(msg, Some(ctx.config.call_timeout())).await?, "alert publisher")
}

fn acknowledged(result: CallResult<()>, who: &str) -> Result<(), ActorProcessingErr> {
    match result {
        CallResult::Success(()) => Ok(()),
        other => Err(format!("{who} did not acknowledge: {other:?}").into()),
    }
}
