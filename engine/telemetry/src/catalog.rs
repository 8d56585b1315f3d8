//! Every metric sparta emits, declared once. Dashboards, alert rules and alarms are checked against
//! this list, and [`crate::install`] describes each entry to the exporter.
//!
//! Names follow `sparta_<component>_<name>[_<unit>][_total]`: counters end in `_total`, durations in
//! `_seconds`, ratios (0..=1) in `_ratio`, slot distances in `_slots`.

/// How a metric behaves over time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricKind {
    Counter,
    Gauge,
    Histogram,
}

/// What a metric's value measures. A unit with a suffix fixes how the name ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricUnit {
    Seconds,
    /// A fraction in 0..=1.
    Ratio,
    /// A distance in slots.
    Slots,
    /// A plain number: a count of things, or an identifier such as a slot or epoch number.
    Number,
}

impl MetricUnit {
    /// The name suffix this unit requires (before `_total`), if any.
    pub fn suffix(self) -> Option<&'static str> {
        match self {
            MetricUnit::Seconds => Some("_seconds"),
            MetricUnit::Ratio => Some("_ratio"),
            MetricUnit::Slots => Some("_slots"),
            MetricUnit::Number => None,
        }
    }

    /// The unit as the `metrics` facade knows it (it has no ratio or slot unit).
    pub fn as_metrics_unit(self) -> Option<metrics::Unit> {
        match self {
            MetricUnit::Seconds => Some(metrics::Unit::Seconds),
            MetricUnit::Number => Some(metrics::Unit::Count),
            MetricUnit::Ratio | MetricUnit::Slots => None,
        }
    }
}

/// One catalog entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MetricDef {
    pub name: &'static str,
    pub kind: MetricKind,
    pub unit: MetricUnit,
    pub help: &'static str,
    pub labels: &'static [&'static str],
}

/// The components a name may start with (after `sparta_`).
pub const COMPONENTS: &[&str] = &[
    "network",
    "engine",
    "chain",
    "actor",
    "store",
    "roles",
    "alerts",
    "discord",
    "validators",
    "operator",
    "telemetry",
];

const fn def(
    name: &'static str,
    kind: MetricKind,
    unit: MetricUnit,
    help: &'static str,
    labels: &'static [&'static str],
) -> MetricDef {
    MetricDef { name, kind, unit, help, labels }
}

use MetricKind::{Counter, Gauge, Histogram};
use MetricUnit::{Number, Ratio, Seconds, Slots};

pub const NETWORK_SLOT: &str = "sparta_network_slot";
pub const NETWORK_EPOCH: &str = "sparta_network_epoch";
pub const NETWORK_PENDING_CHECKPOINT: &str = "sparta_network_pending_checkpoint";
pub const NETWORK_PROVEN_CHECKPOINT: &str = "sparta_network_proven_checkpoint";
pub const NETWORK_COMMITTEE_SIZE: &str = "sparta_network_committee_size";
pub const NETWORK_ATTESTATION_MISS_RATIO: &str = "sparta_network_attestation_miss_ratio";
pub const NETWORK_PROPOSAL_MISS_RATIO: &str = "sparta_network_proposal_miss_ratio";
pub const NETWORK_VALIDATORS: &str = "sparta_network_validators";
pub const NETWORK_SLASHES_TOTAL: &str = "sparta_network_slashes_total";
pub const ENGINE_SLOTS_PROCESSED_TOTAL: &str = "sparta_engine_slots_processed_total";
pub const ENGINE_LAST_PROCESSED_SLOT: &str = "sparta_engine_last_processed_slot";
pub const ENGINE_LAG_SLOTS: &str = "sparta_engine_lag_slots";
pub const ENGINE_SAFE_SLOT: &str = "sparta_engine_safe_slot";
pub const ENGINE_POLL_ERRORS_TOTAL: &str = "sparta_engine_poll_errors_total";
pub const NETWORK_PRUNES_TOTAL: &str = "sparta_network_prunes_total";
pub const NETWORK_CHECKPOINT_AGE_SECONDS: &str = "sparta_network_checkpoint_age_seconds";
pub const ENGINE_DATA_AGE_SECONDS: &str = "sparta_engine_data_age_seconds";
pub const ENGINE_DECISION_LATENCY_SECONDS: &str = "sparta_engine_decision_latency_seconds";
pub const ENGINE_LEADER: &str = "sparta_engine_leader";
pub const ENGINE_LEADER_TOKEN: &str = "sparta_engine_leader_token";
pub const CHAIN_RPC_DURATION_SECONDS: &str = "sparta_chain_rpc_duration_seconds";
pub const CHAIN_RPC_ERRORS_TOTAL: &str = "sparta_chain_rpc_errors_total";
pub const CHAIN_UNKNOWN_SHAPES_TOTAL: &str = "sparta_chain_unknown_shapes_total";
pub const CHAIN_IMPLAUSIBLE_TOTAL: &str = "sparta_chain_implausible_total";
pub const ACTOR_RESTARTS_TOTAL: &str = "sparta_actor_restarts_total";
pub const ACTOR_MAILBOX_DEPTH: &str = "sparta_actor_mailbox_depth";
pub const STORE_OPERATION_DURATION_SECONDS: &str = "sparta_store_operation_duration_seconds";
pub const ROLES_CHANGES_TOTAL: &str = "sparta_roles_changes_total";
pub const ALERTS_TOTAL: &str = "sparta_alerts_total";
pub const DISCORD_ACTIONS_TOTAL: &str = "sparta_discord_actions_total";
pub const DISCORD_OUTBOX_BACKLOG: &str = "sparta_discord_outbox_backlog";
pub const DISCORD_OUTBOX_SETTLED_TOTAL: &str = "sparta_discord_outbox_settled_total";
pub const DISCORD_RATE_LIMITED_TOTAL: &str = "sparta_discord_rate_limited_total";
pub const DISCORD_REQUESTS_TOTAL: &str = "sparta_discord_requests_total";
pub const VALIDATORS_TRACKED: &str = "sparta_validators_tracked";
pub const VALIDATORS_WORST_ATTESTATION_MISS_RATIO: &str = "sparta_validators_worst_attestation_miss_ratio";
pub const VALIDATORS_WORST_ATTESTATION_MISSES: &str = "sparta_validators_worst_attestation_misses";
pub const OPERATOR_VALIDATORS: &str = "sparta_operator_validators";
pub const OPERATOR_SLASHED_VALIDATORS: &str = "sparta_operator_slashed_validators";
pub const OPERATOR_ATTESTATION_MISS_RATIO: &str = "sparta_operator_attestation_miss_ratio";
pub const OPERATOR_PROPOSAL_MISS_RATIO: &str = "sparta_operator_proposal_miss_ratio";
pub const STORE_RETRIES_TOTAL: &str = "sparta_store_retries_total";
pub const TELEMETRY_SERIES_DROPPED_TOTAL: &str = "sparta_telemetry_series_dropped_total";
pub const TELEMETRY_CLOUDWATCH_PUTS_TOTAL: &str = "sparta_telemetry_cloudwatch_puts_total";
pub const TELEMETRY_CONNECTIONS_REFUSED_TOTAL: &str = "sparta_telemetry_connections_refused_total";

pub static CATALOG: &[MetricDef] = &[
    // network: what the chain looks like
    def(NETWORK_SLOT, Gauge, Number, "Current L2 slot by the slot clock.", &[]),
    def(NETWORK_EPOCH, Gauge, Number, "Current epoch by the slot clock.", &[]),
    def(
        NETWORK_PENDING_CHECKPOINT,
        Gauge,
        Number,
        "Latest pending (published) checkpoint number on L1.",
        &[],
    ),
    def(NETWORK_PROVEN_CHECKPOINT, Gauge, Number, "Latest proven checkpoint number on L1.", &[]),
    def(NETWORK_COMMITTEE_SIZE, Gauge, Number, "Members of the current epoch's committee.", &[]),
    def(
        NETWORK_ATTESTATION_MISS_RATIO,
        Gauge,
        Ratio,
        "Share of accountable attestations missed over the stats window (0..1).",
        &[],
    ),
    def(
        NETWORK_PROPOSAL_MISS_RATIO,
        Gauge,
        Ratio,
        "Share of proposer duties missed over the stats window (0..1).",
        &[],
    ),
    def(
        NETWORK_VALIDATORS,
        Gauge,
        Number,
        "Validators registered on the rollup, by attester status.",
        &["status"],
    ),
    def(NETWORK_SLASHES_TOTAL, Counter, Number, "Slashing events observed on L1.", &[]),
    def(NETWORK_PRUNES_TOTAL, Counter, Number, "Pending-chain prunes observed on L1.", &[]),
    def(
        NETWORK_CHECKPOINT_AGE_SECONDS,
        Gauge,
        Seconds,
        "Seconds since the pending checkpoint last advanced on L1 (counted from this process's start).",
        &[],
    ),
    // engine health
    def(ENGINE_SLOTS_PROCESSED_TOTAL, Counter, Number, "Slots the engine has fully processed.", &[]),
    def(ENGINE_LAST_PROCESSED_SLOT, Gauge, Number, "The last fully processed slot (the checkpoint).", &[]),
    def(
        ENGINE_LAG_SLOTS,
        Gauge,
        Slots,
        "Slots between the clock's current slot and the last processed one.",
        &[],
    ),
    def(
        ENGINE_SAFE_SLOT,
        Gauge,
        Number,
        "The latest slot whose facts the chain source considers final (current slot minus the settling lag).",
        &[],
    ),
    def(
        ENGINE_POLL_ERRORS_TOTAL,
        Counter,
        Number,
        "Chain polls that failed and were retried with backoff.",
        &[],
    ),
    def(ENGINE_DATA_AGE_SECONDS, Gauge, Seconds, "Age of the last processed slot's start.", &[]),
    def(
        ENGINE_DECISION_LATENCY_SECONDS,
        Histogram,
        Seconds,
        "From a slot batch read from the chain to the role or alert decision on its stats, by decider.",
        &["decider"],
    ),
    def(ENGINE_LEADER, Gauge, Number, "1 while this instance leads (publishes), 0 while it stands by.", &[]),
    def(ENGINE_LEADER_TOKEN, Gauge, Number, "Fencing token of the current leadership term.", &[]),
    def(
        CHAIN_RPC_DURATION_SECONDS,
        Histogram,
        Seconds,
        "Duration of chain RPC calls, by source (node, l1) and method.",
        &["source", "method"],
    ),
    def(
        CHAIN_RPC_ERRORS_TOTAL,
        Counter,
        Number,
        "Failed chain RPC calls, by source, method and failure class (unreachable, http_<status>, rpc_<code>, reverted, decode, …).",
        &["source", "method", "code"],
    ),
    def(
        CHAIN_UNKNOWN_SHAPES_TOTAL,
        Counter,
        Number,
        "Shapes from a newer protocol than this build knows, kept as unknown and never judged, by kind (status, propose_selector).",
        &["kind"],
    ),
    def(
        CHAIN_IMPLAUSIBLE_TOTAL,
        Counter,
        Number,
        "Source answers refused as impossible and read again later, by kind (future_slot: ahead of the slot clock; empty_committee: no committee nobody explains).",
        &["kind"],
    ),
    def(ACTOR_RESTARTS_TOTAL, Counter, Number, "Actor restarts by the supervisor.", &["actor"]),
    def(ACTOR_MAILBOX_DEPTH, Gauge, Number, "Messages waiting in an actor's mailbox.", &["actor"]),
    def(STORE_OPERATION_DURATION_SECONDS, Histogram, Seconds, "Duration of store operations.", &["op"]),
    def(
        STORE_RETRIES_TOTAL,
        Counter,
        Number,
        "Store requests sent again, by operation and reason (sdk: the SDK retried a throttled, failed or timed-out call; unprocessed: items DynamoDB handed back).",
        &["op", "reason"],
    ),
    // decisions
    def(
        ROLES_CHANGES_TOTAL,
        Counter,
        Number,
        "Discord role changes decided, by role and action (add, remove).",
        &["role", "action"],
    ),
    def(
        ALERTS_TOTAL,
        Counter,
        Number,
        "Alert messages decided, by kind and transition (fire, worse, resolve).",
        &["kind", "transition"],
    ),
    def(DISCORD_ACTIONS_TOTAL, Counter, Number, "Actions delivered to the Discord sink, by kind.", &["kind"]),
    def(DISCORD_OUTBOX_BACKLOG, Gauge, Number, "Decided Discord actions not yet delivered.", &[]),
    def(
        DISCORD_OUTBOX_SETTLED_TOTAL,
        Counter,
        Number,
        "Outbox deliveries settled, by outcome (delivered, retry, rejected).",
        &["outcome"],
    ),
    def(
        DISCORD_REQUESTS_TOTAL,
        Counter,
        Number,
        "Discord REST requests answered or failed, by outcome (ok, http_<status> such as http_429, unreachable, decode, invalid).",
        &["outcome"],
    ),
    def(
        DISCORD_RATE_LIMITED_TOTAL,
        Counter,
        Number,
        "Discord REST requests that had to wait for a rate limit (after a 429 or pre-emptively), by scope (route, global).",
        &["scope"],
    ),
    // validators: aggregates, and the K worst (a snapshot family: bounded, replaced every slot)
    def(VALIDATORS_TRACKED, Gauge, Number, "Validators the engine keeps stats for.", &[]),
    def(
        VALIDATORS_WORST_ATTESTATION_MISS_RATIO,
        Gauge,
        Ratio,
        "Attestation miss ratio of the K validators that miss most (with enough sample), over the stats window.",
        &["validator", "operator"],
    ),
    def(
        VALIDATORS_WORST_ATTESTATION_MISSES,
        Gauge,
        Number,
        "Attestations missed over the stats window by the same K validators.",
        &["validator", "operator"],
    ),
    // operators: one series each per registered operator (a snapshot family, capped)
    def(OPERATOR_VALIDATORS, Gauge, Number, "Validators linked to the operator.", &["operator"]),
    def(
        OPERATOR_SLASHED_VALIDATORS,
        Gauge,
        Number,
        "Of the operator's validators, those seen slashed.",
        &["operator"],
    ),
    def(
        OPERATOR_ATTESTATION_MISS_RATIO,
        Gauge,
        Ratio,
        "Share of the operator's accountable attestations missed over the stats window (0..1).",
        &["operator"],
    ),
    def(
        OPERATOR_PROPOSAL_MISS_RATIO,
        Gauge,
        Ratio,
        "Share of the operator's proposer duties missed over the stats window (0..1).",
        &["operator"],
    ),
    // the exporters themselves
    def(
        TELEMETRY_SERIES_DROPPED_TOTAL,
        Counter,
        Number,
        "Series left out to keep a family or a CloudWatch put under its cap, by family.",
        &["family"],
    ),
    def(
        TELEMETRY_CLOUDWATCH_PUTS_TOTAL,
        Counter,
        Number,
        "PutMetricData requests (or EMF blocks), by outcome (ok, failed).",
        &["outcome"],
    ),
    def(
        TELEMETRY_CONNECTIONS_REFUSED_TOTAL,
        Counter,
        Number,
        "Connections to the metrics, health and API port closed at once because every slot (the general pool and the health reserve) was taken.",
        &[],
    ),
];

/// The families rendered from snapshots ([`crate::families`]) rather than through the facade: their
/// series come and go with validators and operators, and a snapshot drops the ones that left.
pub const SNAPSHOT_FAMILIES: &[&str] = &[
    VALIDATORS_WORST_ATTESTATION_MISS_RATIO,
    VALIDATORS_WORST_ATTESTATION_MISSES,
    OPERATOR_VALIDATORS,
    OPERATOR_SLASHED_VALIDATORS,
    OPERATOR_ATTESTATION_MISS_RATIO,
    OPERATOR_PROPOSAL_MISS_RATIO,
];

/// The exposition's series budget, independent of the validator count: the facade's series (histogram
/// buckets per RPC method and store operation, per-actor and per-kind counters) stay under
/// [`SERIES_BUDGET_FIXED`]; each operator given series adds at most [`SERIES_PER_OPERATOR`], each of
/// the K worst validators [`SERIES_PER_WORST_VALIDATOR`].
pub const SERIES_BUDGET_FIXED: usize = 1_000;
pub const SERIES_PER_OPERATOR: usize = 4;
pub const SERIES_PER_WORST_VALIDATOR: usize = 2;

/// The most series an exposition may hold with `operators` operators given series (at most
/// `max_operators` of the scoreboard config) and the `worst_k` worst validators named.
pub fn series_budget(operators: usize, worst_k: usize) -> usize {
    SERIES_BUDGET_FIXED + SERIES_PER_OPERATOR * operators + SERIES_PER_WORST_VALIDATOR * worst_k
}

/// Counters whose label values form a closed set: registered at zero on install, so a query or a
/// rule over them has a series to work with before the first event (an absent series is not a 0).
pub const CLOSED_COUNTERS: &[(&str, &str, &[&str])] = &[
    (DISCORD_RATE_LIMITED_TOTAL, "scope", &["route", "global"]),
    (DISCORD_OUTBOX_SETTLED_TOTAL, "outcome", &["delivered", "retry", "rejected"]),
    (TELEMETRY_CLOUDWATCH_PUTS_TOTAL, "outcome", &["ok", "failed"]),
    (TELEMETRY_SERIES_DROPPED_TOTAL, "family", &["operator", "cloudwatch"]),
    (CHAIN_UNKNOWN_SHAPES_TOTAL, "kind", &["status", "propose_selector"]),
    (CHAIN_IMPLAUSIBLE_TOTAL, "kind", &["future_slot", "empty_committee"]),
];

/// The default CloudWatch namespace (`metrics.cloudwatch.namespace`); terraform's alarms default to it.
pub const CLOUDWATCH_NAMESPACE: &str = "Sparta";

/// The one dimension every CloudWatch datum carries: the deployment's name, so two networks (or two
/// stacks) share a namespace without mixing. Several instances of one deployment publish into the same
/// series, so alarms aggregate across them (the leader gauge's Maximum says whether anyone leads).
pub const CLOUDWATCH_DIMENSION: &str = "Deployment";

/// The catalog entries published to CloudWatch, under their catalog names: the health signals alarms
/// are built on. Per-validator and per-label detail stays in Prometheus (CloudWatch bills per series).
pub const CLOUDWATCH_METRICS: &[&str] = &[
    NETWORK_SLOT,
    NETWORK_PENDING_CHECKPOINT,
    NETWORK_PROVEN_CHECKPOINT,
    NETWORK_CHECKPOINT_AGE_SECONDS,
    NETWORK_ATTESTATION_MISS_RATIO,
    NETWORK_PROPOSAL_MISS_RATIO,
    NETWORK_SLASHES_TOTAL,
    ENGINE_LAG_SLOTS,
    ENGINE_DATA_AGE_SECONDS,
    ENGINE_LEADER,
    DISCORD_OUTBOX_BACKLOG,
    DISCORD_RATE_LIMITED_TOTAL,
    OPERATOR_ATTESTATION_MISS_RATIO,
];

/// Labels kept as CloudWatch dimensions (beside `Deployment`), by metric; every other label is summed
/// away. Each kept label multiplies series, so the publisher caps their count (`max_series`).
pub const CLOUDWATCH_DIMENSIONS: &[(&str, &[&str])] = &[(OPERATOR_ATTESTATION_MISS_RATIO, &["operator"])];

/// The labels `name` keeps as CloudWatch dimensions.
pub fn cloudwatch_dimensions(name: &str) -> &'static [&'static str] {
    CLOUDWATCH_DIMENSIONS.iter().find(|(n, _)| *n == name).map_or(&[], |(_, labels)| labels)
}

/// The catalog entry named `name`.
pub fn find(name: &str) -> Option<&'static MetricDef> {
    CATALOG.iter().find(|d| d.name == name)
}

/// Why `def` breaks the naming rule, if it does (the component list and unit suffixes; the
/// character-level rule is checked by the tests with a regex).
pub fn naming_violation(def: &MetricDef) -> Option<String> {
    let name = def.name;
    let Some(rest) = name.strip_prefix("sparta_") else {
        return Some(format!("{name}: does not start with sparta_"));
    };
    if !COMPONENTS.iter().any(|c| rest.starts_with(&format!("{c}_"))) {
        return Some(format!("{name}: component is not one of {COMPONENTS:?}"));
    }
    let is_counter = def.kind == MetricKind::Counter;
    let base = match (is_counter, name.strip_suffix("_total")) {
        (true, Some(base)) => base,
        (true, None) => return Some(format!("{name}: a counter must end in _total")),
        (false, Some(_)) => return Some(format!("{name}: only counters end in _total")),
        (false, None) => name,
    };
    if let Some(suffix) = def.unit.suffix()
        && !base.ends_with(suffix)
    {
        return Some(format!("{name}: a {:?} metric must end in {suffix}", def.unit));
    }
    if def.unit.suffix().is_none()
        && let Some(s) = ["_seconds", "_ratio", "_slots"].iter().find(|s| base.ends_with(**s))
    {
        return Some(format!("{name}: ends in {s} but its unit is {:?}", def.unit));
    }
    if def.kind == MetricKind::Histogram && def.unit != MetricUnit::Seconds {
        return Some(format!("{name}: histograms here measure durations, in seconds"));
    }
    None
}
