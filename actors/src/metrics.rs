//! The metrics publisher: once a slot, asks the tracker shards for their summaries and sets the
//! network and engine gauges. Per-validator series are deliberately absent (cardinality is designed:
//! aggregates here, top-K and per-operator series come with the metric catalog work).

use sparta_telemetry::catalog;
use std::sync::Arc;
use std::time::Duration;

use ractor::rpc::CallResult;
use ractor::{Actor, ActorProcessingErr, ActorRef};
use tracing::debug;

use crate::context::EngineContext;
use crate::names::ChildKind;
use crate::tracker::{ShardSummary, TrackerMsg};

pub enum MetricsMsg {
    Tick,
}

pub struct MetricsPublisher;

impl Actor for MetricsPublisher {
    type Msg = MetricsMsg;
    type State = Arc<EngineContext>;
    type Arguments = Arc<EngineContext>;

    async fn pre_start(
        &self,
        myself: ActorRef<MetricsMsg>,
        ctx: Arc<EngineContext>,
    ) -> Result<Arc<EngineContext>, ActorProcessingErr> {
        myself.send_message(MetricsMsg::Tick)?;
        Ok(ctx)
    }

    async fn handle(
        &self,
        myself: ActorRef<MetricsMsg>,
        MetricsMsg::Tick: MetricsMsg,
        ctx: &mut Arc<EngineContext>,
    ) -> Result<(), ActorProcessingErr> {
        publish(ctx).await;
        let period = Duration::from_secs(ctx.clock.timing().slot_duration_s.max(1));
        myself.send_after(period, || MetricsMsg::Tick);
        Ok(())
    }
}

async fn publish(ctx: &EngineContext) {
    let mut summaries: Vec<ShardSummary> = Vec::new();
    for shard in 0..ctx.config.trackers.max(1) {
        let Some(tracker) = ctx.names.lookup::<TrackerMsg>(ChildKind::Tracker(shard)) else { continue };
        match tracker.call(TrackerMsg::Summary, Some(ctx.config.call_timeout())).await {
            Ok(CallResult::Success(summary)) => summaries.push(summary),
            other => debug!(shard, ?other, "no summary from tracker this round"),
        }
    }
    let tracked: usize = summaries.iter().map(|s| s.validators).sum();
    metrics::gauge!(catalog::VALIDATORS_TRACKED).set(tracked as f64);
    // Every shard sees every slot, so any one holds the network-wide summary.
    let Some(network) = summaries.iter().map(|s| &s.network).max_by_key(|n| n.slots_processed) else {
        return;
    };
    let ratio = |missed: u64, total: u64| if total == 0 { 0.0 } else { missed as f64 / total as f64 };
    metrics::gauge!(catalog::NETWORK_ATTESTATION_MISS_RATIO)
        .set(ratio(network.attestations_missed, network.attestations_total));
    metrics::gauge!(catalog::NETWORK_PROPOSAL_MISS_RATIO)
        .set(ratio(network.proposals_missed, network.proposals_total));
    if let Some(last) = network.last_slot {
        metrics::gauge!(catalog::ENGINE_DATA_AGE_SECONDS).set(ctx.clock.age_of(last).as_secs_f64());
        let lag = ctx.clock.current_slot().0.saturating_sub(last.0);
        metrics::gauge!(catalog::ENGINE_LAG_SLOTS).set(lag as f64);
    }
}
