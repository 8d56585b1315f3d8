//! A devnet, a store in a temp dir, a recording Discord sink and an engine, driven by a manual clock.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use sparta_actors::{Engine, EngineConfig, EngineContext, OutboxConfig};
use sparta_bot::{DiscordAction, DiscordSink, SinkError};
use sparta_chain::node::NodeClient;
use sparta_chain::source::ChainSource;
use sparta_core::{ManualSlotClock, Slot, SlotClock};
use sparta_devnet::{Devnet, DevnetConfig, ListenAddrs, RunningDevnet};
use sparta_store::{EmbeddedStore, Link, Store};

/// How the recording sink answers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SinkMode {
    #[default]
    Deliver,
    /// Like Discord down or rate limiting: worth retrying.
    FailTransiently,
    /// Like an unknown member: never worth retrying.
    Reject,
}

/// Records every action delivered, in order, with its idempotency key. With [`Self::track_roles`] it
/// also plays the guild's roles: deliveries change them, a test can change them by hand, and the
/// reconcile reads them.
#[derive(Default)]
pub struct RecordingSink {
    delivered: Mutex<Vec<(String, DiscordAction)>>,
    mode: Mutex<SinkMode>,
    refused: Mutex<Vec<String>>,
    guild: Mutex<Option<BTreeMap<String, std::collections::BTreeSet<String>>>>,
    reads: std::sync::atomic::AtomicUsize,
    /// While set, a read takes its answer and then waits (a slow Discord answering with what it saw).
    reads_paused: std::sync::atomic::AtomicBool,
    reads_waiting: std::sync::atomic::AtomicUsize,
    reads_released: tokio::sync::Notify,
}

#[async_trait]
impl DiscordSink for RecordingSink {
    async fn deliver(&self, key: &str, action: &DiscordAction) -> Result<(), SinkError> {
        let mode = *self.mode.lock().unwrap();
        if mode != SinkMode::Deliver {
            self.refused.lock().unwrap().push(key.to_owned());
        }
        match mode {
            SinkMode::Deliver => {
                self.delivered.lock().unwrap().push((key.to_owned(), action.clone()));
                match action {
                    DiscordAction::AddRole { user, role, .. } => self.set_role(user, role, true),
                    DiscordAction::RemoveRole { user, role, .. } => self.set_role(user, role, false),
                    _ => {}
                }
                Ok(())
            }
            SinkMode::FailTransiently => Err(SinkError::Transient("503 from the test double".into())),
            SinkMode::Reject => Err(SinkError::Rejected("10007 unknown member (test double)".into())),
        }
    }

    async fn member_roles(&self, user: &str) -> Result<Option<Vec<String>>, SinkError> {
        use std::sync::atomic::Ordering::SeqCst;
        let answer = {
            let guild = self.guild.lock().unwrap();
            let Some(guild) = guild.as_ref() else { return Ok(None) };
            self.reads.fetch_add(1, SeqCst);
            guild.get(user).map(|r| r.iter().cloned().collect()).unwrap_or_default()
        };
        if self.reads_paused.load(SeqCst) {
            self.reads_waiting.fetch_add(1, SeqCst);
            loop {
                // Registered before the check, so a release in between is not lost.
                let released = self.reads_released.notified();
                if !self.reads_paused.load(SeqCst) {
                    break;
                }
                released.await;
            }
            self.reads_waiting.fetch_sub(1, SeqCst);
        }
        Ok(Some(answer))
    }
}

impl RecordingSink {
    /// From now on the sink keeps the guild's roles (starting with none held).
    pub fn track_roles(&self) {
        *self.guild.lock().unwrap() = Some(BTreeMap::new());
    }

    /// A role given or taken in the guild (by a delivery, or by hand in a test).
    pub fn set_role(&self, user: &str, role: &str, held: bool) {
        if let Some(guild) = self.guild.lock().unwrap().as_mut() {
            let roles = guild.entry(user.to_owned()).or_default();
            if held {
                roles.insert(role.to_owned());
            } else {
                roles.remove(role);
            }
        }
    }

    /// Holds every member-role read (after it has taken its answer) until [`Self::release_reads`].
    pub fn pause_reads(&self) {
        self.reads_paused.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn release_reads(&self) {
        self.reads_paused.store(false, std::sync::atomic::Ordering::SeqCst);
        self.reads_released.notify_waiters();
    }

    /// Reads held by [`Self::pause_reads`] right now.
    pub fn reads_waiting(&self) -> usize {
        self.reads_waiting.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Member-role reads answered so far.
    pub fn reads(&self) -> usize {
        self.reads.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn set_mode(&self, mode: SinkMode) {
        *self.mode.lock().unwrap() = mode;
    }

    /// Keys of the deliveries answered with an error so far.
    pub fn refused(&self) -> Vec<String> {
        self.refused.lock().unwrap().clone()
    }

    pub fn keys(&self) -> Vec<String> {
        self.delivered.lock().unwrap().iter().map(|(k, _)| k.clone()).collect()
    }

    pub fn actions(&self) -> Vec<DiscordAction> {
        self.delivered.lock().unwrap().iter().map(|(_, a)| a.clone()).collect()
    }

    /// Keys delivered more than once (a decision that reached Discord twice).
    pub fn repeated_keys(&self) -> Vec<String> {
        let mut seen = std::collections::BTreeSet::new();
        let delivered = self.delivered.lock().unwrap();
        delivered.iter().filter(|(k, _)| !seen.insert(k.clone())).map(|(k, _)| k.clone()).collect()
    }
}

pub struct Harness {
    pub clock: ManualSlotClock,
    devnet: Option<RunningDevnet>,
    devnet_config: DevnetConfig,
    pub store: Arc<dyn Store>,
    pub sink: Arc<RecordingSink>,
    _dir: tempfile::TempDir,
    engines: usize,
}

pub fn devnet_config() -> DevnetConfig {
    DevnetConfig {
        validators: 40,
        committee_size: 12,
        epoch_slots: 8,
        slot_seconds: 2,
        seed: 7,
        genesis_time_s: 1_700_000_000,
        ..DevnetConfig::default()
    }
}

impl Harness {
    pub async fn new() -> Self {
        Self::with_devnet(devnet_config()).await
    }

    pub async fn with_devnet(config: DevnetConfig) -> Self {
        let timing = sparta_core::ChainTiming {
            genesis_time_s: config.genesis_time_s,
            slot_duration_s: config.slot_seconds,
            epoch_duration_slots: config.epoch_slots,
        };
        let clock = ManualSlotClock::at_slot(timing, Slot(0));
        let devnet = Devnet::start(config.clone(), Arc::new(clock.clone())).await.expect("devnet starts");
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(EmbeddedStore::open(&dir.path().join("sparta.redb")).unwrap());
        // Every scripted validator has an operator; so does every fourth other validator.
        for (operator, validator) in devnet.network.demo_operators(4) {
            store.link(&Link { operator, validator }).await.unwrap();
        }
        Self {
            clock,
            devnet: Some(devnet),
            devnet_config: config,
            store,
            sink: Arc::new(RecordingSink::default()),
            _dir: dir,
            engines: 0,
        }
    }

    pub fn devnet(&self) -> &RunningDevnet {
        self.devnet.as_ref().expect("the devnet is up")
    }

    /// Stops the devnet's node and L1 servers (a dead network, as far as the engine can tell).
    pub async fn stop_devnet(&mut self) -> ListenAddrs {
        let devnet = self.devnet.take().expect("the devnet is up");
        let addr = |url: &str| url.trim_start_matches("http://").trim_end_matches('/').parse().unwrap();
        let addrs = ListenAddrs { node: addr(&devnet.node_url), l1: addr(&devnet.l1_url) };
        devnet.shutdown().await;
        addrs
    }

    /// Brings the same network back on the same addresses.
    pub async fn restart_devnet(&mut self, addrs: ListenAddrs) {
        let clock = Arc::new(self.clock.clone());
        let devnet =
            Devnet::start_on(self.devnet_config.clone(), clock, addrs).await.expect("devnet restarts");
        self.devnet = Some(devnet);
    }

    pub fn engine_config(&self) -> EngineConfig {
        EngineConfig {
            trackers: 2,
            batch_slots: 16,
            max_poll_ms: 20,
            call_timeout_ms: 2_000,
            outbox: OutboxConfig { poll_ms: 20, retry_ms: 20, max_retry_ms: 200, ..OutboxConfig::default() },
            ..EngineConfig::default()
        }
    }

    pub async fn start_engine(&mut self) -> Engine {
        self.start_engine_with(self.engine_config()).await
    }

    pub async fn start_engine_with(&mut self, mut config: EngineConfig) -> Engine {
        self.engines += 1;
        config.name = format!("engine-{}", self.engines);
        let source = ChainSource::connect(&self.devnet().node_url, &self.devnet().l1_url)
            .await
            .expect("source connects");
        let clock: Arc<dyn SlotClock> = Arc::new(self.clock.clone());
        let ctx = EngineContext::new(config, self.store.clone(), self.sink.clone(), clock, source);
        Engine::start(ctx).await.expect("engine starts")
    }

    /// Moves the chain to `slot`; the engine can then process up to `slot - 2` (the settling lag).
    pub fn advance_to(&self, slot: u64) {
        self.clock.set_slot(Slot(slot));
    }

    #[track_caller]
    pub fn wait_for_checkpoint(&self, slot: u64) -> impl std::future::Future<Output = ()> + '_ {
        let caller = std::panic::Location::caller();
        async move {
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                let checkpoint = self.store.checkpoint().await.unwrap();
                if checkpoint.is_some_and(|c| c.0 >= slot) {
                    return;
                }
                assert!(
                    Instant::now() < deadline,
                    "{caller}: checkpoint stuck at {checkpoint:?}, wanted {slot}"
                );
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
        }
    }

    /// Waits until the engine has committed `slot`, every tracker has processed it, and both deciders
    /// have decided on what the trackers sent (a call queues behind those messages); then delivers the
    /// outbox. What the sink holds afterwards is everything decided through `slot`.
    #[track_caller]
    pub fn settle<'a>(&'a self, engine: &'a Engine, slot: u64) -> impl std::future::Future<Output = ()> + 'a {
        let caller = std::panic::Location::caller();
        async move {
            self.wait_for_checkpoint(slot).await;
            let deadline = Instant::now() + Duration::from_secs(60);
            while engine.tracked_through().await.unwrap().is_none_or(|s| s.0 < slot) {
                assert!(Instant::now() < deadline, "{caller}: trackers stuck before slot {slot}");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            engine.firing_alerts().await.unwrap();
            engine.held_roles().await.unwrap();
            engine.flush_outbox().await.unwrap();
        }
    }

    /// Moves the clock from slot 8 to `last`, 4 slots at a time, settling each step (so alerts ripen and
    /// roles change as they would following live).
    pub async fn step_through(&self, engine: &Engine, last: u64) {
        for slot in (8..=last).step_by(4) {
            self.advance_to(slot);
            self.settle(engine, slot - 2).await;
        }
    }

    /// Polls `probe` until it returns Some, or fails after 30 s.
    pub async fn eventually<T, F, Fut>(&self, what: &str, mut probe: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(v) = probe().await {
                return v;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    pub fn node(&self) -> NodeClient {
        NodeClient::new(&self.devnet().node_url).unwrap()
    }

    /// Every validator's stats in the engine equal the node Sentinel's view (the simulator runs the
    /// node's rules): nothing was dropped, doubled or computed differently.
    #[track_caller]
    pub fn assert_engine_equals_node<'a>(
        &'a self,
        engine: &'a Engine,
    ) -> impl std::future::Future<Output = ()> + 'a {
        let caller = std::panic::Location::caller();
        async move {
            let node = self.node().validators_stats().await.expect("node stats");
            assert!(!node.stats.is_empty(), "{caller}: the node reports no validators");
            for stats in node.stats.values() {
                let expected = stats.to_core();
                let report = engine.validator(expected.address).await.unwrap();
                let actual = report
                    .unwrap_or_else(|| panic!("{caller}: engine does not track {:#x}", expected.address));
                assert_eq!(
                    actual.stats, expected,
                    "{caller}: stats of {:#x} differ from the node's",
                    expected.address
                );
            }
        }
    }

    /// How many times each action was delivered (by kind, user/channel and role/content).
    pub fn delivery_counts(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for action in self.sink.actions() {
            *counts.entry(format!("{action:?}")).or_default() += 1;
        }
        counts
    }
}
