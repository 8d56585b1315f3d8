//! The engine handle: starts the supervisor tree and answers questions about it (the bot and the
//! CLI go through here, never to an actor directly).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use ractor::rpc::CallResult;
use ractor::{Actor, ActorRef, ActorStatus};
use serde::Serialize;
use sparta_core::{Address, Slot, ValidatorStats};
use sparta_store::{AlertRecord, AlertSettings, Link, RoleState};
use tokio::task::JoinHandle;

use crate::alerts::AlertMsg;
use crate::context::{ChainTips, EngineContext};
use crate::names::ChildKind;
use crate::publisher::PublisherMsg;
use crate::roles::{RoleChange, RoleMsg};
use crate::supervisor::{EngineSupervisor, SupervisorMsg};
use crate::tracker::{ShardSummary, TrackerMsg, ValidatorReport, shard_of};
use crate::watcher::WatcherMsg;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("the engine could not start: {0}")]
    Start(String),
    #[error("the {0} did not answer in time (is the engine overloaded or restarting?)")]
    NoAnswer(String),
}

/// A snapshot for status lines, `/readyz` and tests.
#[derive(Clone, Debug, Serialize)]
pub struct EngineStatus {
    pub checkpoint: Option<Slot>,
    pub validators: usize,
    pub restarts: BTreeMap<String, u64>,
}

pub struct Engine {
    ctx: Arc<EngineContext>,
    supervisor: ActorRef<SupervisorMsg>,
    handle: JoinHandle<()>,
}

impl Engine {
    pub async fn start(ctx: Arc<EngineContext>) -> Result<Self, EngineError> {
        let (supervisor, handle) = Actor::spawn(Some(ctx.names.supervisor()), EngineSupervisor, ctx.clone())
            .await
            .map_err(|e| EngineError::Start(e.to_string()))?;
        Ok(Self { ctx, supervisor, handle })
    }

    pub fn context(&self) -> &Arc<EngineContext> {
        &self.ctx
    }

    /// True until the supervisor stops (after `stop`, or when the restart limit was reached).
    pub fn is_running(&self) -> bool {
        !matches!(self.supervisor.get_status(), ActorStatus::Stopped | ActorStatus::Stopping)
    }

    /// Resolves when the engine stops by itself (restart limit reached).
    pub async fn stopped(&mut self) {
        let _ = (&mut self.handle).await;
    }

    pub async fn status(&self) -> Result<EngineStatus, EngineError> {
        let restarts = self.ask_supervisor(SupervisorMsg::Restarts).await?;
        let checkpoint = self.ctx.store.checkpoint().await.ok().flatten();
        let mut validators = 0;
        for shard in 0..self.ctx.config.trackers.max(1) {
            if let Some(t) = self.ctx.names.lookup::<TrackerMsg>(ChildKind::Tracker(shard))
                && let Ok(CallResult::Success(s)) = t.call(TrackerMsg::Summary, Some(self.timeout())).await
            {
                validators += s.validators;
            }
        }
        Ok(EngineStatus { checkpoint, validators, restarts })
    }

    /// The slot every tracker shard has processed: the least of theirs (`None` until all have one).
    pub async fn tracked_through(&self) -> Result<Option<Slot>, EngineError> {
        let mut through: Option<Slot> = None;
        for shard in 0..self.ctx.config.trackers.max(1) {
            let kind = ChildKind::Tracker(shard);
            let tracker = self.lookup::<TrackerMsg>(kind)?;
            let Some(last) =
                answer(tracker.call(TrackerMsg::ProcessedThrough, Some(self.timeout())).await, kind)?
            else {
                return Ok(None);
            };
            through = Some(through.map_or(last, |t| t.min(last)));
        }
        Ok(through)
    }

    /// A cloneable handle answering questions while the engine runs (the bot's view of it).
    pub fn handle(&self) -> EngineHandle {
        EngineHandle { ctx: self.ctx.clone() }
    }

    pub async fn validator(&self, validator: Address) -> Result<Option<ValidatorReport>, EngineError> {
        self.handle().validator(validator).await
    }

    pub async fn held_roles(&self) -> Result<Vec<RoleState>, EngineError> {
        self.handle().held_roles().await
    }

    pub async fn role_dry_run(&self) -> Result<Vec<RoleChange>, EngineError> {
        self.handle().role_dry_run().await
    }

    pub async fn reconcile_roles(&self) -> Result<Vec<RoleChange>, EngineError> {
        self.handle().reconcile_roles().await
    }

    pub async fn firing_alerts(&self) -> Result<Vec<AlertRecord>, EngineError> {
        self.handle().firing_alerts().await
    }

    /// Delivers every due outbox entry now; returns how many still wait (retries not yet due).
    pub async fn flush_outbox(&self) -> Result<u64, EngineError> {
        let publisher = self.lookup::<PublisherMsg>(ChildKind::Publisher)?;
        answer(publisher.call(PublisherMsg::Flush, Some(self.timeout())).await, ChildKind::Publisher)
    }

    /// Fault injection for supervision tests: makes the actor panic. Returns false if it is not running.
    pub fn inject_panic(&self, kind: ChildKind) -> bool {
        match kind {
            ChildKind::Watcher => self
                .ctx
                .names
                .lookup::<WatcherMsg>(kind)
                .is_some_and(|a| a.send_message(WatcherMsg::InjectPanic).is_ok()),
            ChildKind::Tracker(_) => self
                .ctx
                .names
                .lookup::<TrackerMsg>(kind)
                .is_some_and(|a| a.send_message(TrackerMsg::InjectPanic).is_ok()),
            _ => false,
        }
    }

    /// Stops every actor; in-flight work is either committed or re-read on the next start.
    pub async fn stop(self) {
        // Long enough for the watcher's batch and the trackers' queued batches to be stored (see Shutdown).
        let _ = self.supervisor.call(SupervisorMsg::Shutdown, Some(Duration::from_secs(15))).await;
        let _ = tokio::time::timeout(Duration::from_secs(2), self.handle).await;
    }

    fn timeout(&self) -> Duration {
        self.ctx.config.call_timeout()
    }

    fn lookup<M: ractor::Message>(&self, kind: ChildKind) -> Result<ActorRef<M>, EngineError> {
        self.ctx.names.lookup::<M>(kind).ok_or_else(|| EngineError::NoAnswer(kind.to_string()))
    }

    async fn ask_supervisor<T: Send + 'static>(
        &self,
        msg: impl FnOnce(ractor::RpcReplyPort<T>) -> SupervisorMsg,
    ) -> Result<T, EngineError> {
        match self.supervisor.call(msg, Some(self.timeout())).await {
            Ok(CallResult::Success(v)) => Ok(v),
            _ => Err(EngineError::NoAnswer("supervisor".into())),
        }
    }
}

/// Questions to a running engine, each an actor call with the engine's call timeout. Cloneable and
/// cheap: the bot holds one per engine term.
#[derive(Clone)]
pub struct EngineHandle {
    ctx: Arc<EngineContext>,
}

impl EngineHandle {
    /// The validator's stats and per-epoch trend, from the shard that tracks it.
    pub async fn validator(&self, validator: Address) -> Result<Option<ValidatorReport>, EngineError> {
        let kind = ChildKind::Tracker(shard_of(&validator, self.ctx.config.trackers));
        let tracker = self.lookup::<TrackerMsg>(kind)?;
        answer(tracker.call(|r| TrackerMsg::Stats(validator, r), Some(self.timeout())).await, kind)
    }

    /// The validator's stats over the slots `from..=to` (within the retained window).
    pub async fn validator_between(
        &self,
        validator: Address,
        from: Slot,
        to: Slot,
    ) -> Result<Option<ValidatorStats>, EngineError> {
        let kind = ChildKind::Tracker(shard_of(&validator, self.ctx.config.trackers));
        let tracker = self.lookup::<TrackerMsg>(kind)?;
        answer(
            tracker.call(|r| TrackerMsg::StatsBetween(validator, from, to, r), Some(self.timeout())).await,
            kind,
        )
    }

    /// The network's counts over the window and the last processed slot. Every shard sees every
    /// committee seat, so shard 0 speaks for the network.
    pub async fn network(&self) -> Result<ShardSummary, EngineError> {
        let kind = ChildKind::Tracker(0);
        let tracker = self.lookup::<TrackerMsg>(kind)?;
        answer(tracker.call(TrackerMsg::Summary, Some(self.timeout())).await, kind)
    }

    /// The chain's pending and proven checkpoints as the watcher last read them.
    pub fn tips(&self) -> Option<ChainTips> {
        self.ctx.tips()
    }

    pub async fn held_roles(&self) -> Result<Vec<RoleState>, EngineError> {
        let roles = self.lookup::<RoleMsg>(ChildKind::Roles)?;
        answer(roles.call(RoleMsg::Held, Some(self.timeout())).await, ChildKind::Roles)
    }

    /// The role changes a reconcile would make now, without making them.
    pub async fn role_dry_run(&self) -> Result<Vec<RoleChange>, EngineError> {
        let roles = self.lookup::<RoleMsg>(ChildKind::Roles)?;
        let call = roles
            .call(|reply| RoleMsg::Reconcile { dry_run: true, reply: Some(reply) }, Some(RECONCILE_TIMEOUT));
        answer(call.await, ChildKind::Roles)
    }

    /// A full role reconcile now; answers with the changes it applied.
    pub async fn reconcile_roles(&self) -> Result<Vec<RoleChange>, EngineError> {
        let roles = self.lookup::<RoleMsg>(ChildKind::Roles)?;
        let call = roles
            .call(|reply| RoleMsg::Reconcile { dry_run: false, reply: Some(reply) }, Some(RECONCILE_TIMEOUT));
        answer(call.await, ChildKind::Roles)
    }

    pub async fn firing_alerts(&self) -> Result<Vec<AlertRecord>, EngineError> {
        let alerts = self.lookup::<AlertMsg>(ChildKind::Alerts)?;
        answer(alerts.call(AlertMsg::Firing, Some(self.timeout())).await, ChildKind::Alerts)
    }

    /// A validator was linked to an operator (already stored): the role assigner judges them now
    /// rather than at its next start.
    pub async fn linked(&self, link: Link) -> Result<(), EngineError> {
        if let Ok(alerts) = self.lookup::<AlertMsg>(ChildKind::Alerts) {
            let _ = alerts.send_message(AlertMsg::Linked(link.clone()));
        }
        let roles = self.lookup::<RoleMsg>(ChildKind::Roles)?;
        answer(
            roles.call(|reply| RoleMsg::Linked { link, reply }, Some(self.timeout())).await,
            ChildKind::Roles,
        )
    }

    /// An operator's alert preferences changed (already stored). A publisher that is restarting
    /// reads them from the store.
    pub fn alert_settings_changed(&self, settings: AlertSettings) {
        if let Ok(alerts) = self.lookup::<AlertMsg>(ChildKind::Alerts) {
            let _ = alerts.send_message(AlertMsg::Settings(settings));
        }
    }

    fn timeout(&self) -> Duration {
        self.ctx.config.call_timeout()
    }

    fn lookup<M: ractor::Message>(&self, kind: ChildKind) -> Result<ActorRef<M>, EngineError> {
        self.ctx.names.lookup::<M>(kind).ok_or_else(|| EngineError::NoAnswer(kind.to_string()))
    }
}

/// A reconcile reads every linked member's roles at Discord's pace (about 25 s per 1,000 members).
const RECONCILE_TIMEOUT: Duration = Duration::from_secs(600);

fn answer<T>(
    result: Result<CallResult<T>, ractor::MessagingErr<impl Sized>>,
    kind: ChildKind,
) -> Result<T, EngineError> {
    match result {
        Ok(CallResult::Success(v)) => Ok(v),
        _ => Err(EngineError::NoAnswer(kind.to_string())),
    }
}
