//! A validator-tracker shard: owns the monitor state of the validators whose address maps to it,
//! turns each slot batch into updated stats, hands the changed ones on at once and stores them once
//! per epoch.
//!
//! Every shard sees every batch (one message per shard per batch, not per attestation) and records
//! only its own validators. A shard that starts, restarts or notices a gap rebuilds from the store's
//! slot history, which the watcher wrote before sending anything.

use std::sync::Arc;
use std::time::Instant;

use alloy_primitives::map::{AddressHashMap, AddressHashSet};
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use serde::Serialize;
use sparta_core::monitor::NetworkSummary;
use sparta_core::scoreboard::{Ranked, worst_attesters};
use sparta_telemetry::catalog;
use std::collections::BTreeSet;

use sparta_core::{
    Address, Epoch, EpochPerformance, Excused, InactivityRisk, Slot, SlotFacts, ValidatorMonitor,
    ValidatorStats,
};
use tracing::{debug, info};

use crate::alerts::AlertMsg;
use crate::context::EngineContext;
use crate::names::ChildKind;
use crate::roles::RoleMsg;

pub enum TrackerMsg {
    /// A batch of slots, and when the watcher finished reading it from the chain.
    Slots(Arc<Vec<SlotFacts>>, Instant),
    Stats(Address, RpcReplyPort<Option<ValidatorReport>>),
    /// The validator's stats over `from..=to` (the node's `node_getValidatorStats(v, from, to)`).
    StatsBetween(Address, Slot, Slot, RpcReplyPort<Option<ValidatorStats>>),
    Summary(RpcReplyPort<ShardSummary>),
    /// The last slot this shard processed (cheap: no stats are computed).
    ProcessedThrough(RpcReplyPort<Option<Slot>>),
    /// Send every validator's current stats to the deciders (one of them restarted).
    Republish,
    /// Fault injection for supervision tests: panics inside the actor.
    InjectPanic,
}

/// One validator's stats plus its per-epoch trend.
#[derive(Clone, Debug, Serialize)]
pub struct ValidatorReport {
    /// The last slot the shard processed: what the stats are as of.
    pub as_of: Option<Slot>,
    pub stats: ValidatorStats,
    pub epochs: Vec<EpochPerformance>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct ShardSummary {
    pub validators: usize,
    pub last_processed_slot: Option<Slot>,
    /// Seats of the last processed slot's committee.
    pub committee_size: Option<u32>,
    pub network: NetworkSummary,
    /// This shard's worst attesters (the metrics publisher merges the shards' lists).
    pub worst: Vec<Ranked>,
}

/// Stats that changed in one batch, as of its last slot.
#[derive(Clone, Debug)]
pub struct StatsUpdate {
    pub as_of: Slot,
    pub stats: Vec<ValidatorStats>,
    /// Misses in these validators' windows that were network-wide (only validators with some).
    pub excused: AddressHashMap<Excused>,
    /// Completed epochs with duties of each of these validators, in the kept history (only when a
    /// role asks for them).
    pub epochs_active: AddressHashMap<u32>,
    /// Where the validators that sat on a committee of an epoch that just closed stand against the
    /// nodes' inactivity rule.
    pub inactivity: Vec<(Address, InactivityRisk)>,
    /// When the batch behind these stats was read from the chain (not set for a republish), for the
    /// deciders' latency.
    pub read_at: Option<Instant>,
}

impl StatsUpdate {
    /// Records how long the update took from the chain read to `decider`'s decision on it.
    pub(crate) fn record_latency(&self, decider: &'static str) {
        if let Some(read_at) = self.read_at {
            metrics::histogram!(catalog::ENGINE_DECISION_LATENCY_SECONDS, "decider" => decider)
                .record(read_at.elapsed().as_secs_f64());
        }
    }
}

pub struct ValidatorTracker;

pub struct TrackerArgs {
    pub ctx: Arc<EngineContext>,
    pub shard: usize,
}

pub struct TrackerState {
    ctx: Arc<EngineContext>,
    shard: usize,
    monitor: ValidatorMonitor,
    /// Validators whose stats changed since they were last stored.
    dirty: BTreeSet<Address>,
    /// The epoch of the last stats flush.
    flushed_epoch: Option<Epoch>,
    /// The epoch being registered and this shard's members of its committee.
    open_epoch: Option<(Epoch, Vec<Address>)>,
    /// Members of committees whose epochs closed since the last publish: their inactivity is assessed.
    closed_members: AddressHashSet,
}

/// The shard a validator belongs to: stable across restarts and across processes.
pub fn shard_of(validator: &Address, shards: usize) -> usize {
    let tail: [u8; 8] = validator.0[12..20].try_into().expect("an address has 20 bytes");
    (u64::from_be_bytes(tail) % shards.max(1) as u64) as usize
}

impl Actor for ValidatorTracker {
    type Msg = TrackerMsg;
    type State = TrackerState;
    type Arguments = TrackerArgs;

    async fn pre_start(
        &self,
        _myself: ActorRef<TrackerMsg>,
        args: TrackerArgs,
    ) -> Result<TrackerState, ActorProcessingErr> {
        args.ctx.mailboxes.reset(ChildKind::Tracker(args.shard));
        let mut state = TrackerState {
            monitor: ValidatorMonitor::new(args.ctx.config.monitor.clone()),
            ctx: args.ctx,
            shard: args.shard,
            dirty: BTreeSet::new(),
            flushed_epoch: None,
            open_epoch: None,
            closed_members: AddressHashSet::default(),
        };
        let rebuilt = catch_up(&mut state, None).await?;
        info!(
            shard = state.shard,
            slots = rebuilt,
            validators = state.monitor.len(),
            "tracker rebuilt from the store"
        );
        // Everything is (re)published: whoever missed updates while this shard was down catches up.
        let all: Vec<Address> = state.monitor.validators().copied().collect();
        publish(&mut state, all, None);
        flush(&mut state).await?;
        Ok(state)
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<TrackerMsg>,
        state: &mut TrackerState,
    ) -> Result<(), ActorProcessingErr> {
        // A clean stop stores the last partial epoch too (after a crash, the restart recomputes it).
        flush(state).await
    }

    async fn handle(
        &self,
        _myself: ActorRef<TrackerMsg>,
        msg: TrackerMsg,
        state: &mut TrackerState,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            TrackerMsg::Slots(batch, read_at) => {
                state.ctx.mailboxes.taken(ChildKind::Tracker(state.shard));
                let expected = state.monitor.last_processed_slot().map(Slot::next);
                let gap = matches!((expected, batch.first()), (Some(e), Some(f)) if f.slot > e);
                let changed = if gap {
                    debug!(shard = state.shard, "gap before this batch; reading it from the store");
                    let mut changed = Vec::new();
                    catch_up(state, Some(&mut changed)).await?;
                    changed
                } else {
                    register(state, &batch)
                };
                publish(state, changed, Some(read_at));
                // Stored every batch: a stop that cuts the tracker short must not leave stored stats
                // behind stored slots (per-epoch flushing did; see the README's request counts).
                flush(state).await?;
            }
            TrackerMsg::Stats(validator, reply) => {
                let report = state.monitor.stats(&validator).map(|stats| ValidatorReport {
                    as_of: state.monitor.last_processed_slot(),
                    stats,
                    epochs: state.monitor.epoch_performance(&validator),
                });
                let _ = reply.send(report);
            }
            TrackerMsg::StatsBetween(validator, from, to, reply) => {
                let _ = reply.send(state.monitor.stats_between(&validator, from, to));
            }
            TrackerMsg::Summary(reply) => {
                let board = &state.ctx.config.scoreboard;
                let stats = state.monitor.validators().filter_map(|a| state.monitor.stats(a));
                let _ = reply.send(ShardSummary {
                    worst: worst_attesters(stats, board.worst_k, board.min_sample),
                    validators: state.monitor.len(),
                    last_processed_slot: state.monitor.last_processed_slot(),
                    committee_size: state
                        .monitor
                        .last_processed_slot()
                        .and_then(|s| state.monitor.slot_summary(s))
                        .map(|s| s.committee_size),
                    network: state.monitor.network_summary(),
                });
            }
            TrackerMsg::ProcessedThrough(reply) => {
                let _ = reply.send(state.monitor.last_processed_slot());
            }
            TrackerMsg::Republish => {
                let all: Vec<Address> = state.monitor.validators().copied().collect();
                hand_on(state, &all, None);
            }
            TrackerMsg::InjectPanic => panic!("injected fault in validator tracker {}", state.shard),
        }
        Ok(())
    }
}

fn register(state: &mut TrackerState, batch: &[SlotFacts]) -> Vec<Address> {
    let shards = state.ctx.config.trackers;
    let shard = state.shard;
    // A validator changes in many slots of a batch: dedupe as they come, sort the few that remain.
    let mut changed = AddressHashSet::default();
    for facts in batch {
        if state.monitor.last_processed_slot().is_none_or(|last| facts.slot > last) {
            note_epoch(state, facts);
        }
        changed.extend(state.monitor.register_slot_for(facts, |a| shard_of(a, shards) == shard));
    }
    let mut changed: Vec<Address> = changed.into_iter().collect();
    changed.sort_unstable();
    changed
}

/// Keeps this shard's committee members of the open epoch; when a later epoch starts, they are due an
/// inactivity assessment (committees are fixed per epoch, so the first slot tells them all).
fn note_epoch(state: &mut TrackerState, facts: &SlotFacts) {
    if state.open_epoch.as_ref().is_some_and(|(epoch, _)| *epoch == facts.epoch) {
        return;
    }
    let shards = state.ctx.config.trackers;
    let members = facts.committee.iter().filter(|a| shard_of(a, shards) == state.shard).copied().collect();
    if let Some((_, closed)) = state.open_epoch.replace((facts.epoch, members)) {
        state.closed_members.extend(closed);
    }
}

/// Applies every stored slot after the monitor's last one. Returns how many slots were read.
async fn catch_up(
    state: &mut TrackerState,
    changed: Option<&mut Vec<Address>>,
) -> Result<usize, ActorProcessingErr> {
    let config = &state.ctx.config.monitor;
    let from = match state.monitor.last_processed_slot() {
        Some(last) => last.next(),
        // Enough history for the window and the per-epoch trend.
        None => match state.ctx.store.checkpoint().await? {
            Some(checkpoint) => Slot(checkpoint.0.saturating_sub(
                config.slot_window + config.epoch_duration_slots * config.epoch_history as u64,
            )),
            None => return Ok(0),
        },
    };
    let history = state.ctx.store.slot_history(from).await?;
    let newly = register(state, &history);
    if let Some(changed) = changed {
        changed.extend(newly);
    }
    Ok(history.len())
}

fn epoch_of(state: &TrackerState, slot: Slot) -> Epoch {
    Epoch(slot.0 / state.ctx.config.monitor.epoch_duration_slots.max(1))
}

/// Stores the stats that changed since the last flush: once per epoch, each changed validator once,
/// so writes scale with what changed in the epoch, not with slots or the validator count. The stored
/// stats serve readers (the bot) and start-up; the engine itself works from its in-memory state, and
/// a restart recomputes anything a crash kept from being stored.
async fn flush(state: &mut TrackerState) -> Result<(), ActorProcessingErr> {
    let Some(last) = state.monitor.last_processed_slot() else { return Ok(()) };
    if !state.dirty.is_empty() {
        let stats: Vec<ValidatorStats> = state.dirty.iter().filter_map(|a| state.monitor.stats(a)).collect();
        state.ctx.store.put_stats(&stats).await?;
        state.dirty.clear();
    }
    state.flushed_epoch = Some(epoch_of(state, last));
    Ok(())
}

/// Hands the changed stats to the role assigner and the alert publisher, and marks them for the
/// next flush.
fn publish(state: &mut TrackerState, changed: Vec<Address>, read_at: Option<Instant>) {
    if !changed.is_empty() || !state.closed_members.is_empty() {
        hand_on(state, &changed, read_at);
        state.dirty.extend(changed);
    }
}

/// Sends the current stats of `validators` to the role assigner and the alert publisher.
fn hand_on(state: &mut TrackerState, validators: &[Address], read_at: Option<Instant>) {
    let Some(as_of) = state.monitor.last_processed_slot() else { return };
    let stats: Vec<ValidatorStats> = validators.iter().filter_map(|a| state.monitor.stats(a)).collect();
    let config = &state.ctx.config;
    let mut excused = AddressHashMap::default();
    if state.monitor.has_network_wide_slots(&config.outage) {
        for validator in validators {
            let forgiven = state.monitor.excused(validator, &config.outage);
            if forgiven != Excused::default() {
                excused.insert(*validator, forgiven);
            }
        }
    }
    let inactivity = state
        .closed_members
        .drain()
        .map(|v| (v, config.inactivity.assess(&state.monitor.epoch_performance(&v))))
        .collect();
    let epochs_active = if config.roles.counts_epochs() {
        stats.iter().map(|s| (s.address, state.monitor.epochs_active(&s.address))).collect()
    } else {
        AddressHashMap::default()
    };
    let update = Arc::new(StatsUpdate { as_of, stats, excused, epochs_active, inactivity, read_at });
    let names = &state.ctx.names;
    // Missing peers ask for everything when they start, so a failed send loses nothing.
    if let Some(roles) = names.lookup::<RoleMsg>(ChildKind::Roles)
        && roles.send_message(RoleMsg::Stats(update.clone())).is_ok()
    {
        state.ctx.mailboxes.sent(ChildKind::Roles);
    }
    if let Some(alerts) = names.lookup::<AlertMsg>(ChildKind::Alerts)
        && alerts.send_message(AlertMsg::Stats(update)).is_ok()
    {
        state.ctx.mailboxes.sent(ChildKind::Alerts);
    }
}

/// A decider (re)started: every running tracker sends it all current stats.
pub fn ask_for_all_stats(ctx: &EngineContext) {
    for shard in 0..ctx.config.trackers.max(1) {
        if let Some(tracker) = ctx.names.lookup::<TrackerMsg>(ChildKind::Tracker(shard)) {
            let _ = tracker.send_message(TrackerMsg::Republish);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_stable_and_cover_every_index() {
        let mut seen = [false; 3];
        for b in 0..=255u8 {
            let a = Address::repeat_byte(b);
            let s = shard_of(&a, 3);
            assert_eq!(s, shard_of(&a, 3));
            seen[s] = true;
        }
        assert!(seen.iter().all(|s| *s));
        assert_eq!(shard_of(&Address::repeat_byte(7), 1), 0);
    }
}
