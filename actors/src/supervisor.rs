//! The engine supervisor. Restart policy, written out: one-for-one — a child that fails (panic or
//! error) or stops unexpectedly is restarted alone, with the same arguments; every child rebuilds
//! its state from the store, so a restart loses no event. More than `max_restarts` restarts within
//! `restart_window_s` stop the whole engine with an error instead of looping. A restart that itself
//! fails is retried after a short delay.

use sparta_telemetry::catalog;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ractor::{Actor, ActorCell, ActorId, ActorProcessingErr, ActorRef, RpcReplyPort, SupervisionEvent};
use tracing::{error, info, warn};

use crate::alerts::AlertPublisher;
use crate::context::EngineContext;
use crate::metrics::MetricsPublisher;
use crate::names::ChildKind;
use crate::publisher::OutboxPublisher;
use crate::roles::RoleAssigner;
use crate::slashing::SlashingDetector;
use crate::tracker::{TrackerArgs, TrackerMsg, ValidatorTracker};
use crate::watcher::{ChainWatcher, WatcherMsg};

pub enum SupervisorMsg {
    Restart(ChildKind),
    Restarts(RpcReplyPort<BTreeMap<String, u64>>),
    /// Stops every child, then the supervisor.
    Shutdown(RpcReplyPort<()>),
}

pub struct EngineSupervisor;

pub struct SupervisorState {
    ctx: Arc<EngineContext>,
    children: HashMap<ActorId, ChildKind>,
    recent: VecDeque<Instant>,
    restarts: BTreeMap<String, u64>,
    stopping: bool,
}

impl EngineSupervisor {
    /// Children in start order: consumers before producers, so nothing is sent to a missing actor.
    fn children(ctx: &EngineContext) -> Vec<ChildKind> {
        let mut kinds = vec![ChildKind::Publisher, ChildKind::Roles, ChildKind::Alerts, ChildKind::Slashing];
        kinds.extend((0..ctx.config.trackers.max(1)).map(ChildKind::Tracker));
        kinds.extend([ChildKind::Metrics, ChildKind::Watcher]);
        kinds
    }

    async fn spawn(
        ctx: &Arc<EngineContext>,
        kind: ChildKind,
        supervisor: ActorCell,
    ) -> Result<ActorCell, ActorProcessingErr> {
        let name = Some(ctx.names.of(kind));
        let ctx = ctx.clone();
        let cell = match kind {
            ChildKind::Watcher => {
                Actor::spawn_linked(name, ChainWatcher, ctx, supervisor).await?.0.get_cell()
            }
            ChildKind::Tracker(shard) => {
                Actor::spawn_linked(name, ValidatorTracker, TrackerArgs { ctx, shard }, supervisor)
                    .await?
                    .0
                    .get_cell()
            }
            ChildKind::Slashing => {
                Actor::spawn_linked(name, SlashingDetector, ctx, supervisor).await?.0.get_cell()
            }
            ChildKind::Roles => Actor::spawn_linked(name, RoleAssigner, ctx, supervisor).await?.0.get_cell(),
            ChildKind::Alerts => {
                Actor::spawn_linked(name, AlertPublisher, ctx, supervisor).await?.0.get_cell()
            }
            ChildKind::Metrics => {
                Actor::spawn_linked(name, MetricsPublisher, ctx, supervisor).await?.0.get_cell()
            }
            ChildKind::Publisher => {
                Actor::spawn_linked(name, OutboxPublisher, ctx, supervisor).await?.0.get_cell()
            }
        };
        Ok(cell)
    }
}

impl Actor for EngineSupervisor {
    type Msg = SupervisorMsg;
    type State = SupervisorState;
    type Arguments = Arc<EngineContext>;

    async fn pre_start(
        &self,
        myself: ActorRef<SupervisorMsg>,
        ctx: Arc<EngineContext>,
    ) -> Result<SupervisorState, ActorProcessingErr> {
        let mut children = HashMap::new();
        for kind in Self::children(&ctx) {
            // Every child's restart counter exists from the start, at zero (`increase()` needs a baseline).
            metrics::counter!(catalog::ACTOR_RESTARTS_TOTAL, "actor" => kind.to_string()).increment(0);
            let cell = Self::spawn(&ctx, kind, myself.get_cell()).await?;
            children.insert(cell.get_id(), kind);
        }
        info!(children = children.len(), "engine started");
        Ok(SupervisorState {
            ctx,
            children,
            recent: VecDeque::new(),
            restarts: BTreeMap::new(),
            stopping: false,
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<SupervisorMsg>,
        msg: SupervisorMsg,
        state: &mut SupervisorState,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            SupervisorMsg::Restart(kind) if !state.stopping => {
                match Self::spawn(&state.ctx, kind, myself.get_cell()).await {
                    Ok(cell) => {
                        state.children.insert(cell.get_id(), kind);
                        info!(actor = %kind, "restarted");
                    }
                    Err(error) => {
                        warn!(actor = %kind, %error, "restart failed; retrying shortly");
                        myself.send_after(Duration::from_millis(500), move || SupervisorMsg::Restart(kind));
                    }
                }
            }
            SupervisorMsg::Restart(_) => {}
            SupervisorMsg::Restarts(reply) => {
                let _ = reply.send(state.restarts.clone());
            }
            SupervisorMsg::Shutdown(reply) => {
                state.stopping = true;
                // The producer first: the watcher finishes the batch it is on (committed and sent), then
                // stops. A call to each tracker then waits behind the batches already queued there, which
                // store their stats as they are handled, so a stop never leaves stats behind the slots.
                if let Some(watcher) = state.ctx.names.lookup::<WatcherMsg>(ChildKind::Watcher) {
                    let _ =
                        watcher.stop_and_wait(Some("shutdown".into()), Some(Duration::from_secs(5))).await;
                }
                for shard in 0..state.ctx.config.trackers.max(1) {
                    if let Some(tracker) = state.ctx.names.lookup::<TrackerMsg>(ChildKind::Tracker(shard)) {
                        let _ = tracker.call(TrackerMsg::Summary, Some(Duration::from_secs(5))).await;
                    }
                }
                myself.stop_children_and_wait(Some("shutdown".into()), Some(Duration::from_secs(2))).await;
                let _ = reply.send(());
                myself.stop(Some("shutdown".into()));
            }
        }
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<SupervisorMsg>,
        event: SupervisionEvent,
        state: &mut SupervisorState,
    ) -> Result<(), ActorProcessingErr> {
        let (cell, why) = match event {
            SupervisionEvent::ActorFailed(cell, error) => (cell, format!("failed: {error}")),
            SupervisionEvent::ActorTerminated(cell, _, reason) => {
                (cell, format!("stopped: {}", reason.unwrap_or_else(|| "no reason".into())))
            }
            _ => return Ok(()),
        };
        let Some(kind) = state.children.remove(&cell.get_id()) else { return Ok(()) };
        if state.stopping {
            return Ok(());
        }
        error!(actor = %kind, why, "child ended; restarting");
        metrics::counter!(catalog::ACTOR_RESTARTS_TOTAL, "actor" => kind.to_string()).increment(1);
        *state.restarts.entry(kind.to_string()).or_default() += 1;

        let window = Duration::from_secs(state.ctx.config.restart_window_s);
        let now = Instant::now();
        state.recent.push_back(now);
        while state.recent.front().is_some_and(|t| now.duration_since(*t) > window) {
            state.recent.pop_front();
        }
        if state.recent.len() > state.ctx.config.max_restarts {
            error!(restarts = state.recent.len(), "too many restarts; stopping the engine");
            state.stopping = true;
            myself.stop_children(Some("restart limit reached".into()));
            myself.stop(Some(format!("restart limit reached: {kind} {why}")));
            return Ok(());
        }
        myself.send_message(SupervisorMsg::Restart(kind))?;
        Ok(())
    }
}
