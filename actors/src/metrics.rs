//! The metrics publisher: once a slot, asks the tracker shards for their summaries and the role
//! assigner for the operators' totals, and sets the network and engine gauges and the bounded
//! snapshot families (per operator, the K worst validators). No family grows with the validator set.

use std::sync::Arc;
use std::time::Duration;

use ractor::rpc::CallResult;
use ractor::{Actor, ActorProcessingErr, ActorRef};
use sparta_core::scoreboard::{OperatorTally, Ranked, cap_operators, merge_worst};
use sparta_telemetry::catalog;
use sparta_telemetry::families::{self, Series};
use tracing::debug;

use crate::context::EngineContext;
use crate::names::ChildKind;
use crate::roles::{OperatorView, RoleMsg};
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

    /// A stopped engine (a standby, or a restart) names nobody: the families go with it.
    async fn post_stop(
        &self,
        _myself: ActorRef<MetricsMsg>,
        _ctx: &mut Arc<EngineContext>,
    ) -> Result<(), ActorProcessingErr> {
        for family in catalog::SNAPSHOT_FAMILIES {
            families::replace(family, Vec::new());
        }
        Ok(())
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
    for (kind, depth) in ctx.mailboxes.depths() {
        metrics::gauge!(catalog::ACTOR_MAILBOX_DEPTH, "actor" => kind.to_string()).set(depth as f64);
    }
    let tracked: usize = summaries.iter().map(|s| s.validators).sum();
    metrics::gauge!(catalog::VALIDATORS_TRACKED).set(tracked as f64);
    let board = &ctx.config.scoreboard;
    let worst = merge_worst(summaries.iter_mut().map(|s| std::mem::take(&mut s.worst)), board.worst_k);
    // A round without every shard would name a partial list: keep the last full one instead.
    let all_shards = summaries.len() == ctx.config.trackers.max(1);
    if let Some(view) = operators(ctx, &worst).await {
        publish_operators(view.tallies, board.max_operators);
        if all_shards {
            publish_worst(&worst, &view.operator_of);
        }
    }
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

async fn operators(ctx: &EngineContext, worst: &[Ranked]) -> Option<OperatorView> {
    let roles = ctx.names.lookup::<RoleMsg>(ChildKind::Roles)?;
    let of = worst.iter().map(|r| r.address).collect();
    let asked = roles.call(|reply| RoleMsg::Operators { of, reply }, Some(ctx.config.call_timeout())).await;
    match asked {
        Ok(CallResult::Success(view)) => Some(view),
        other => {
            debug!(?other, "no operator view from the role assigner this round");
            None
        }
    }
}

fn publish_operators(tallies: Vec<OperatorTally>, cap: usize) {
    let (kept, dropped) = cap_operators(tallies, cap);
    if dropped > 0 {
        metrics::counter!(catalog::TELEMETRY_SERIES_DROPPED_TOTAL, "family" => "operator")
            .increment(dropped as u64);
    }
    let label = |t: &OperatorTally| vec![("operator", t.operator.clone())];
    let each = |value: fn(&OperatorTally) -> Option<f64>| -> Vec<Series> {
        kept.iter().filter_map(|t| value(t).map(|v| Series::new(label(t), v))).collect()
    };
    families::replace(catalog::OPERATOR_VALIDATORS, each(|t| Some(f64::from(t.validators))));
    families::replace(catalog::OPERATOR_SLASHED_VALIDATORS, each(|t| Some(f64::from(t.slashed))));
    families::replace(catalog::OPERATOR_ATTESTATION_MISS_RATIO, each(OperatorTally::attestation_miss_ratio));
    families::replace(catalog::OPERATOR_PROPOSAL_MISS_RATIO, each(OperatorTally::proposal_miss_ratio));
}

fn publish_worst(worst: &[Ranked], operator_of: &[Option<String>]) {
    let labels = |i: usize, r: &Ranked| {
        let operator = operator_of.get(i).cloned().flatten().unwrap_or_default();
        vec![("validator", format!("{:#x}", r.address)), ("operator", operator)]
    };
    let ratio = worst.iter().enumerate().map(|(i, r)| Series::new(labels(i, r), r.ratio())).collect();
    let misses =
        worst.iter().enumerate().map(|(i, r)| Series::new(labels(i, r), f64::from(r.missed))).collect();
    families::replace(catalog::VALIDATORS_WORST_ATTESTATION_MISS_RATIO, ratio);
    families::replace(catalog::VALIDATORS_WORST_ATTESTATION_MISSES, misses);
}
