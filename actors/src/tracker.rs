//! A validator-tracker shard: owns the monitor state of the validators whose address maps to it,
//! turns each slot batch into updated stats, persists the stats that changed and hands them on.
//!
//! Every shard sees every batch (one message per shard per batch, not per attestation) and records
//! only its own validators. A shard that starts, restarts or notices a gap rebuilds from the store's
//! slot history, which the watcher wrote before sending anything.

use std::sync::Arc;

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use serde::Serialize;
use sparta_core::monitor::NetworkSummary;
use sparta_core::{Address, EpochPerformance, Slot, SlotFacts, ValidatorMonitor, ValidatorStats};
use tracing::{debug, info};

use crate::alerts::AlertMsg;
use crate::context::EngineContext;
use crate::names::ChildKind;
use crate::roles::RoleMsg;

pub enum TrackerMsg {
    Slots(Arc<Vec<SlotFacts>>),
    Stats(Address, RpcReplyPort<Option<ValidatorReport>>),
    Summary(RpcReplyPort<ShardSummary>),
    /// Fault injection for supervision tests: panics inside the actor.
    InjectPanic,
}

/// One validator's stats plus its per-epoch trend.
#[derive(Clone, Debug, Serialize)]
pub struct ValidatorReport {
    pub stats: ValidatorStats,
    pub epochs: Vec<EpochPerformance>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct ShardSummary {
    pub validators: usize,
    pub last_processed_slot: Option<Slot>,
    pub network: NetworkSummary,
}

/// Stats that changed in one batch, as of its last slot.
#[derive(Clone, Debug)]
pub struct StatsUpdate {
    pub as_of: Slot,
    pub stats: Vec<ValidatorStats>,
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
        let mut state = TrackerState {
            monitor: ValidatorMonitor::new(args.ctx.config.monitor.clone()),
            ctx: args.ctx,
            shard: args.shard,
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
        publish(&state, all).await?;
        Ok(state)
    }

    async fn handle(
        &self,
        _myself: ActorRef<TrackerMsg>,
        msg: TrackerMsg,
        state: &mut TrackerState,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            TrackerMsg::Slots(batch) => {
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
                publish(state, changed).await?;
            }
            TrackerMsg::Stats(validator, reply) => {
                let report = state.monitor.stats(&validator).map(|stats| ValidatorReport {
                    stats,
                    epochs: state.monitor.epoch_performance(&validator),
                });
                let _ = reply.send(report);
            }
            TrackerMsg::Summary(reply) => {
                let _ = reply.send(ShardSummary {
                    validators: state.monitor.len(),
                    last_processed_slot: state.monitor.last_processed_slot(),
                    network: state.monitor.network_summary(),
                });
            }
            TrackerMsg::InjectPanic => panic!("injected fault in validator tracker {}", state.shard),
        }
        Ok(())
    }
}

fn register(state: &mut TrackerState, batch: &[SlotFacts]) -> Vec<Address> {
    let shards = state.ctx.config.trackers;
    let shard = state.shard;
    let mut changed = Vec::new();
    for facts in batch {
        changed.extend(state.monitor.register_slot_for(facts, |a| shard_of(a, shards) == shard));
    }
    changed.sort_unstable();
    changed.dedup();
    changed
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

/// Persists the changed stats (writes scale with what changed, not with the validator count) and
/// hands them to the role assigner and the alert publisher.
async fn publish(state: &TrackerState, changed: Vec<Address>) -> Result<(), ActorProcessingErr> {
    let Some(as_of) = state.monitor.last_processed_slot() else { return Ok(()) };
    if changed.is_empty() {
        return Ok(());
    }
    let stats: Vec<ValidatorStats> = changed.iter().filter_map(|a| state.monitor.stats(a)).collect();
    state.ctx.store.put_stats(&stats).await?;
    let update = Arc::new(StatsUpdate { as_of, stats });
    let names = &state.ctx.names;
    // Missing peers rebuild from the stored stats when they start, so a failed send loses nothing.
    if let Some(roles) = names.lookup::<RoleMsg>(ChildKind::Roles) {
        let _ = roles.send_message(RoleMsg::Stats(update.clone()));
    }
    if let Some(alerts) = names.lookup::<AlertMsg>(ChildKind::Alerts) {
        let _ = alerts.send_message(AlertMsg::Stats(update));
    }
    Ok(())
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
