//! What every actor of one engine shares: configuration, the store, the Discord sink, the clock and
//! the chain source. Actors hold this as their (immutable) arguments; their mutable state is their own.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sparta_bot::DiscordSink;
use sparta_chain::source::SlotSource;
use sparta_core::policy::{AlertPolicy, RolePolicy};
use sparta_core::scoreboard::ScoreboardConfig;
use sparta_core::{InactivityRule, MonitorConfig, OutageRule, SlotClock};
use sparta_store::{Fence, Store};
use tokio::sync::Mutex;

use crate::mailbox::Mailboxes;
use crate::names::{ChildKind, Names};
use crate::publisher::{OutboxConfig, PublisherMsg};

/// Engine settings (the `[engine]`, `[roles]` and `[alerts]` parts of the config file).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EngineConfig {
    /// Distinguishes actor names when several engines run in one process.
    pub name: String,
    /// How many validator-tracker shards share the validators (by address).
    pub trackers: usize,
    /// At most this many slots are fetched, committed and fanned out as one batch.
    pub batch_slots: u64,
    /// On a first start, how many slots before the chain's safe slot to backfill.
    pub backfill_slots: u64,
    /// While catching up, the watcher reads on only while every tracker and decider has at most this
    /// many messages waiting, so a backlog is bounded in memory.
    pub max_queued_batches: u64,
    /// Sentinel window and per-epoch history.
    pub monitor: MonitorConfig,
    pub roles: RolePolicy,
    pub alerts: AlertPolicy,
    /// The nodes' inactivity-slashing thresholds, for the risk shown to operators and the warning an
    /// epoch before a validator would be flagged.
    pub inactivity: InactivityRule,
    /// When a slot's misses count as network-wide (excused for everyone; one notice to moderators).
    pub outage: OutageRule,
    /// Every this many epochs, a full role reconcile against the roles Discord shows (0: never; the
    /// engine still applies every change it decides).
    pub reconcile_every_epochs: u64,
    /// The bounded per-operator and worst-validator metric families.
    pub scoreboard: ScoreboardConfig,
    /// How decided Discord actions are delivered and retried.
    pub outbox: OutboxConfig,
    /// Moderator channel for alerts about validators nobody has linked, and for slashes.
    pub alerts_channel: String,
    /// Role given to members with a slashed validator (replaces the performance role).
    pub slashed_role: String,
    /// The watcher polls at every slot boundary, and at least this often (L1 events land between
    /// slot boundaries; tests with a manual clock set it low).
    pub max_poll_ms: u64,
    /// How long an actor-to-actor call may take before it counts as failed.
    pub call_timeout_ms: u64,
    /// More restarts than this within `restart_window_s` stop the engine instead of looping.
    pub max_restarts: usize,
    pub restart_window_s: u64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            name: "sparta".into(),
            trackers: 2,
            batch_slots: 32,
            backfill_slots: 768,
            max_queued_batches: 4,
            monitor: MonitorConfig::default(),
            roles: RolePolicy::default(),
            alerts: AlertPolicy::default(),
            inactivity: InactivityRule::default(),
            outage: OutageRule::default(),
            reconcile_every_epochs: 6,
            scoreboard: ScoreboardConfig::default(),
            outbox: OutboxConfig::default(),
            alerts_channel: "validator-alerts".into(),
            slashed_role: "slashed".into(),
            max_poll_ms: 6_000,
            call_timeout_ms: 5_000,
            max_restarts: 10,
            restart_window_s: 60,
        }
    }
}

impl EngineConfig {
    /// The thresholds the bot's answers explain themselves with.
    pub fn policies(&self) -> sparta_bot::Policies {
        sparta_bot::Policies {
            roles: self.roles.clone(),
            slashed_role: self.slashed_role.clone(),
            inactivity: self.inactivity.clone(),
        }
    }

    pub fn call_timeout(&self) -> Duration {
        Duration::from_millis(self.call_timeout_ms)
    }
}

/// Shared by every actor of one engine.
pub struct EngineContext {
    pub config: EngineConfig,
    pub names: Names,
    pub store: Arc<dyn Store>,
    pub sink: Arc<dyn DiscordSink>,
    pub clock: Arc<dyn SlotClock>,
    /// The source keeps caches (committees, checkpoints) that outlive a watcher restart.
    pub source: Mutex<Box<dyn SlotSource>>,
    /// Set when this engine runs as the elected leader: its store is fenced with this token and the
    /// outbox publisher checks the lease before every Discord send.
    pub leadership: Option<Fence>,
    /// What waits in the data-path actors' mailboxes.
    pub mailboxes: Mailboxes,
    /// The chain's tips as the watcher last read them (for `/chain-info`, without an RPC per question).
    tips: std::sync::Mutex<Option<ChainTips>>,
}

/// The rollup's pending and proven checkpoint numbers, and when they were read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ChainTips {
    pub pending: u64,
    pub proven: u64,
    /// Unix seconds.
    pub read_at_s: u64,
}

impl EngineContext {
    pub fn new(
        config: EngineConfig,
        store: Arc<dyn Store>,
        sink: Arc<dyn DiscordSink>,
        clock: Arc<dyn SlotClock>,
        source: impl SlotSource + 'static,
    ) -> Arc<Self> {
        Self::build(config, store, sink, clock, Box::new(source), None)
    }

    /// An engine that publishes only while `fence` is the current leadership term: every decision,
    /// outbox claim and settle is fenced in the store, and every send is preceded by a lease check.
    pub fn leading(
        config: EngineConfig,
        store: Arc<dyn Store>,
        sink: Arc<dyn DiscordSink>,
        clock: Arc<dyn SlotClock>,
        source: impl SlotSource + 'static,
        fence: Fence,
    ) -> Arc<Self> {
        let fenced = store.fenced(fence.clone());
        Self::build(config, fenced, sink, clock, Box::new(source), Some(fence))
    }

    fn build(
        mut config: EngineConfig,
        store: Arc<dyn Store>,
        sink: Arc<dyn DiscordSink>,
        clock: Arc<dyn SlotClock>,
        source: Box<dyn SlotSource>,
        leadership: Option<Fence>,
    ) -> Arc<Self> {
        // Epoch boundaries are the chain's, whatever the config file says.
        config.monitor.epoch_duration_slots = clock.timing().epoch_duration_slots;
        let names = Names::new(&config.name);
        let mailboxes = Mailboxes::new(config.trackers);
        Arc::new(Self {
            mailboxes,
            config,
            names,
            store,
            sink,
            clock,
            source: Mutex::new(source),
            leadership,
            tips: std::sync::Mutex::new(None),
        })
    }

    pub fn tips(&self) -> Option<ChainTips> {
        *self.tips.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn set_tips(&self, tips: ChainTips) {
        *self.tips.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(tips);
    }

    /// Tells the outbox publisher that new entries wait (if it is down, its restart drains them).
    pub fn outbox_changed(&self) {
        if let Some(publisher) = self.names.lookup::<PublisherMsg>(ChildKind::Publisher) {
            let _ = publisher.send_message(PublisherMsg::Drain);
        }
    }
}
