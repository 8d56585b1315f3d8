//! The chain watcher: once per slot it reads every newly final slot from the chain source, commits
//! the facts to the store (so nothing acted upon can be lost), then fans them out as one batch per
//! tracker shard. L1 events (slashes, exits, prunes) go to the slashing detector, and the L1 cursor
//! moves only after the detector acknowledged them.

use sparta_telemetry::catalog;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ractor::{Actor, ActorProcessingErr, ActorRef};
use sparta_chain::plausible::safe_slot_within_clock;
use sparta_chain::source::{SlotSource, SourceError};
use sparta_core::monitor::SlotSummary;
use sparta_core::{ChainEvent, Epoch, Slot, SlotFacts};
use tracing::{debug, info, warn};

use crate::alerts::{AlertMsg, NetworkPulse};
use crate::context::EngineContext;
use crate::names::ChildKind;
use crate::slashing::SlashingMsg;
use crate::tracker::TrackerMsg;

/// The name of the store cursor holding the last L1 block whose logs were handled.
pub const L1_CURSOR: &str = "l1-events";

pub enum WatcherMsg {
    Tick,
    /// Fault injection for supervision tests: panics inside the actor.
    InjectPanic,
}

pub struct ChainWatcher;

pub struct WatcherState {
    ctx: Arc<EngineContext>,
    /// The next slot to read; everything before it is committed.
    next_slot: Option<Slot>,
    failures: u32,
    pending_tip: TipAge,
    /// The epoch whose validator count was last published.
    validators_counted: Option<Epoch>,
    /// Summaries of the slots committed since the last pulse to the alert publisher.
    fresh: Vec<SlotSummary>,
}

/// When the pending checkpoint last advanced, for the "chain stalled" signal. Before the first advance
/// this process sees, the age counts from its first observation (a restart resets it, never inflates it).
#[derive(Debug, Default)]
pub(crate) struct TipAge {
    seen: Option<(u64, Instant)>,
}

impl TipAge {
    /// Records the tip observed at `now` and returns how long it has stood still.
    pub(crate) fn observe(&mut self, tip: u64, now: Instant) -> Duration {
        match self.seen {
            Some((last, since)) if last == tip => now.saturating_duration_since(since),
            _ => {
                self.seen = Some((tip, now));
                Duration::ZERO
            }
        }
    }
}

impl Actor for ChainWatcher {
    type Msg = WatcherMsg;
    type State = WatcherState;
    type Arguments = Arc<EngineContext>;

    async fn pre_start(
        &self,
        myself: ActorRef<WatcherMsg>,
        ctx: Arc<EngineContext>,
    ) -> Result<WatcherState, ActorProcessingErr> {
        let next_slot = ctx.store.checkpoint().await?.map(Slot::next);
        myself.send_message(WatcherMsg::Tick)?;
        Ok(WatcherState {
            ctx,
            next_slot,
            failures: 0,
            pending_tip: TipAge::default(),
            validators_counted: None,
            fresh: Vec::new(),
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<WatcherMsg>,
        msg: WatcherMsg,
        state: &mut WatcherState,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            WatcherMsg::InjectPanic => panic!("injected fault in the chain watcher"),
            WatcherMsg::Tick => {
                let delay = match poll(state).await {
                    Ok(Progress::CaughtUp) => {
                        state.failures = 0;
                        // Wake just after the next slot starts; the source adds its own settling lag.
                        let next_slot = state.ctx.clock.duration_to_next_slot() + Duration::from_millis(50);
                        next_slot.min(Duration::from_millis(state.ctx.config.max_poll_ms))
                    }
                    Ok(Progress::MoreToRead) => {
                        state.failures = 0;
                        Duration::ZERO
                    }
                    Ok(Progress::Backlogged) => BACKLOG_PAUSE,
                    Err(error) => {
                        state.failures += 1;
                        metrics::counter!(catalog::ENGINE_POLL_ERRORS_TOTAL).increment(1);
                        let backoff = backoff(state.failures, &state.ctx);
                        warn!(%error, retry_in = ?backoff, "chain poll failed; will retry");
                        backoff
                    }
                };
                pulse(state);
                myself.send_after(delay, || WatcherMsg::Tick);
            }
        }
        Ok(())
    }
}

enum Progress {
    CaughtUp,
    MoreToRead,
    /// More to read, but the actors downstream have not taken what was sent yet.
    Backlogged,
}

/// How long the watcher waits for a backlog downstream to drain before reading on.
const BACKLOG_PAUSE: Duration = Duration::from_millis(5);

/// True when a tracker or a decider has more than `max_queued_batches` messages waiting: reading on
/// would only grow queues (memory) while catching up, not speed anything up.
fn backlogged(ctx: &EngineContext) -> bool {
    ctx.mailboxes.deepest() > ctx.config.max_queued_batches
}

/// Exponential backoff capped at one slot, so a dead node is retried at least once a slot.
fn backoff(failures: u32, ctx: &EngineContext) -> Duration {
    let slot = Duration::from_secs(ctx.clock.timing().slot_duration_s.max(1));
    Duration::from_millis(250 << failures.min(8)).min(slot)
}

async fn poll(state: &mut WatcherState) -> Result<Progress, ActorProcessingErr> {
    let ctx = state.ctx.clone();
    let mut source = ctx.source.lock().await;
    // Held to the slot clock: a source that runs ahead of it (lying or broken) must not make slots
    // that have not happened look final.
    let safe = safe_slot_within_clock(source.safe_slot().await?, ctx.clock.current_slot());
    let next = match state.next_slot {
        Some(next) => next,
        None => {
            let start = Slot(safe.0.saturating_sub(ctx.config.backfill_slots));
            info!(slot = %start, "no checkpoint stored: starting at the window before the chain's safe slot");
            start
        }
    };
    state.next_slot = Some(next);
    publish_chain_gauges(&ctx, safe);
    match source.tips().await {
        Ok((pending, proven)) => {
            metrics::gauge!(catalog::NETWORK_PENDING_CHECKPOINT).set(pending as f64);
            metrics::gauge!(catalog::NETWORK_PROVEN_CHECKPOINT).set(proven as f64);
            let read_at_s = crate::publisher::now_ms() / 1000;
            ctx.set_tips(crate::context::ChainTips { pending, proven, read_at_s });
            let still = state.pending_tip.observe(pending, Instant::now());
            metrics::gauge!(catalog::NETWORK_CHECKPOINT_AGE_SECONDS).set(still.as_secs_f64());
        }
        Err(error) => debug!(%error, "no chain tips this round"),
    }
    // The validator set changes at most once an epoch: one count per epoch is enough.
    let epoch = ctx.clock.current_epoch();
    if state.validators_counted != Some(epoch) {
        match source.validators_by_status().await {
            Ok(counts) => {
                for (status, count) in counts {
                    metrics::gauge!(catalog::NETWORK_VALIDATORS, "status" => status).set(count as f64);
                }
                state.validators_counted = Some(epoch);
            }
            Err(error) => debug!(%error, "no validator count this round"),
        }
    }
    if next > safe {
        // No slot to settle yet, but L1 logs need no settling: a slash is seen within a poll, not a slot.
        let events = read_l1_events(&ctx, &mut source).await?;
        drop(source);
        deliver_events(&ctx, events).await?;
        return Ok(Progress::CaughtUp);
    }

    if backlogged(&ctx) {
        return Ok(Progress::Backlogged);
    }
    let last = Slot(safe.0.min(next.0 + ctx.config.batch_slots.max(1) - 1));
    let mut batch = Vec::with_capacity((last.0 - next.0 + 1) as usize);
    let mut node_behind = false;
    for slot in next.0..=last.0 {
        match source.slot_facts(Slot(slot)).await {
            Ok(facts) => batch.push(facts),
            // Final for L1 but not processed by the node yet: wait for it (stale data is reported
            // by the alert publisher, never turned into misses).
            Err(SourceError::NodeBehind { slot, node_at }) => {
                debug!(slot = %slot, node_at = %node_at, "the node is behind; waiting for it");
                node_behind = true;
                break;
            }
            Err(error) => return Err(error.into()),
        }
    }
    let events = read_l1_events(&ctx, &mut source).await?;
    drop(source);
    let read_at = Instant::now();
    let Some(last) = batch.last().map(|f| f.slot) else {
        deliver_events(&ctx, events).await?;
        return Ok(Progress::CaughtUp);
    };

    // Durable first: a crash after this line loses nothing, the trackers can re-read it.
    let started = Instant::now();
    ctx.store.commit_slots(&batch).await?;
    metrics::histogram!(catalog::STORE_OPERATION_DURATION_SECONDS, "op" => "commit_slots")
        .record(started.elapsed().as_secs_f64());
    state.next_slot = Some(last.next());
    state.fresh.extend(batch.iter().map(SlotSummary::of));
    record_progress(&ctx, &batch);
    trim_history(&ctx, &batch).await?;

    pulse(state);
    fan_out(&ctx, Arc::new(batch), read_at);
    deliver_events(&ctx, events).await?;
    Ok(if last < safe && !node_behind { Progress::MoreToRead } else { Progress::CaughtUp })
}

/// Tells the alert publisher how far the data goes and what the network did in the new slots, after
/// every poll (failed ones too: a dead node is stale data). Sent before the trackers' stats of the same
/// slots can reach it, so it judges them knowing about a network-wide outage.
fn pulse(state: &mut WatcherState) {
    let ctx = &state.ctx;
    let Some(alerts) = ctx.names.lookup::<AlertMsg>(ChildKind::Alerts) else { return };
    let pulse = NetworkPulse {
        slots: std::mem::take(&mut state.fresh),
        processed_through: state.next_slot.and_then(|next| next.0.checked_sub(1)).map(Slot),
        current_slot: ctx.clock.current_slot(),
    };
    if alerts.send_message(AlertMsg::Network(Arc::new(pulse))).is_ok() {
        ctx.mailboxes.sent(ChildKind::Alerts);
    }
}

/// Keeps the stored history bounded: what a rebuilding tracker needs (the window plus the
/// per-epoch trend), trimmed once an epoch.
async fn trim_history(ctx: &EngineContext, batch: &[SlotFacts]) -> Result<(), ActorProcessingErr> {
    let timing = ctx.clock.timing();
    let Some(epoch_end) = batch.iter().rev().find(|f| timing.is_last_slot_of_epoch(f.slot)) else {
        return Ok(());
    };
    let monitor = &ctx.config.monitor;
    let keep = monitor.slot_window + monitor.epoch_duration_slots * monitor.epoch_history as u64;
    let before = Slot(epoch_end.slot.0.saturating_sub(keep));
    if before.0 > 0 {
        let removed = ctx.store.trim_history(before).await?;
        debug!(removed, before = %before, "trimmed slot history");
    }
    Ok(())
}

fn fan_out(ctx: &EngineContext, batch: Arc<Vec<SlotFacts>>, read_at: Instant) {
    for shard in 0..ctx.config.trackers.max(1) {
        match ctx.names.lookup::<TrackerMsg>(ChildKind::Tracker(shard)) {
            // A tracker that misses this batch (restarting right now) reads it from the store.
            Some(tracker) => match tracker.send_message(TrackerMsg::Slots(batch.clone(), read_at)) {
                Ok(()) => ctx.mailboxes.sent(ChildKind::Tracker(shard)),
                Err(_) => debug!(shard, "tracker is restarting; it will catch up from the store"),
            },
            None => debug!(shard, "tracker is restarting; it will catch up from the store"),
        }
    }
}

/// Reads L1 logs from the stored cursor to the L1 head; returns them with the new cursor.
async fn read_l1_events(
    ctx: &EngineContext,
    source: &mut Box<dyn SlotSource>,
) -> Result<Option<(Vec<ChainEvent>, u64)>, ActorProcessingErr> {
    let head = source.l1_head_block().await?;
    let from = match ctx.store.cursor(L1_CURSOR).await? {
        Some(done) => done + 1,
        None => source.l1_genesis_block(),
    };
    if from > head {
        return Ok(None);
    }
    let events = source.events_between(from, head).await?;
    Ok(Some((events, head)))
}

/// Hands L1 events to the slashing detector and waits for its acknowledgement before moving the
/// cursor, so a crash in between re-delivers them (the detector is idempotent).
async fn deliver_events(
    ctx: &EngineContext,
    events: Option<(Vec<ChainEvent>, u64)>,
) -> Result<(), ActorProcessingErr> {
    let Some((events, head)) = events else { return Ok(()) };
    if !events.is_empty() {
        let detector =
            ctx.names.lookup::<SlashingMsg>(ChildKind::Slashing).ok_or("slashing detector is not running")?;
        let timeout = Some(ctx.config.call_timeout());
        let events = Arc::new(events);
        match detector.call(|reply| SlashingMsg::Events(events.clone(), reply), timeout).await? {
            ractor::rpc::CallResult::Success(()) => {}
            other => return Err(format!("slashing detector did not acknowledge: {other:?}").into()),
        }
    }
    ctx.store.put_cursor(L1_CURSOR, head).await?;
    Ok(())
}

fn publish_chain_gauges(ctx: &EngineContext, safe: Slot) {
    let timing = ctx.clock.timing();
    let current = ctx.clock.current_slot();
    metrics::gauge!(catalog::NETWORK_SLOT).set(current.0 as f64);
    metrics::gauge!(catalog::NETWORK_EPOCH).set(timing.epoch_of(current).0 as f64);
    metrics::gauge!(catalog::ENGINE_SAFE_SLOT).set(safe.0 as f64);
}

fn record_progress(ctx: &EngineContext, batch: &[SlotFacts]) {
    let Some(last) = batch.last() else { return };
    metrics::counter!(catalog::ENGINE_SLOTS_PROCESSED_TOTAL).increment(batch.len() as u64);
    metrics::gauge!(catalog::ENGINE_LAST_PROCESSED_SLOT).set(last.slot.0 as f64);
    metrics::gauge!(catalog::NETWORK_COMMITTEE_SIZE).set(last.committee.len() as f64);
    let lag = ctx.clock.current_slot().0.saturating_sub(last.slot.0);
    metrics::gauge!(catalog::ENGINE_LAG_SLOTS).set(lag as f64);
    metrics::gauge!(catalog::ENGINE_DATA_AGE_SECONDS).set(ctx.clock.age_of(last.slot).as_secs_f64());
    info!(
        from = %batch[0].slot,
        to = %last.slot,
        epoch = %last.epoch,
        committee = last.committee.len(),
        "slots processed"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tip_age_grows_while_the_tip_stands_and_resets_when_it_moves() {
        let t0 = Instant::now();
        let mut age = TipAge::default();
        assert_eq!(age.observe(7, t0), Duration::ZERO, "the first sight starts the count");
        assert_eq!(age.observe(7, t0 + Duration::from_secs(30)), Duration::from_secs(30));
        assert_eq!(age.observe(7, t0 + Duration::from_secs(90)), Duration::from_secs(90));
        assert_eq!(age.observe(8, t0 + Duration::from_secs(95)), Duration::ZERO, "an advance resets it");
        assert_eq!(age.observe(8, t0 + Duration::from_secs(100)), Duration::from_secs(5));
        // A prune moves the tip back: that is movement too, not a stall.
        assert_eq!(age.observe(6, t0 + Duration::from_secs(101)), Duration::ZERO);
    }
}
