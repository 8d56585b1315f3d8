//! DynamoDB requests per epoch of the real engine at 5,000 validators.
//!
//! The engine (`sparta_actors::Engine`) runs with a `DynamoStore` on a local moto server against a
//! simulated network of 5,000 validators (committee 48, 32-slot epochs) driven by a manual clock. An SDK
//! interceptor counts every HTTP request the store sends, retries included, by operation and table.
//!
//! One run: the first start (empty store, the default 24-epoch backfill), a catch-up past the history
//! the engine keeps (so measured epochs also trim), steady-state epochs driven slot by slot (a live
//! engine) and then one epoch per batch (an engine catching up), and a restart on the filled store.
//! Validators whose stats changed are found by diffing the stored stats around each epoch, read through
//! a client that is not counted.
//!
//! Run with `scripts/bench-dynamo` (installs moto first). `SPARTA_BENCH_EPOCHS` sets the measured
//! epochs per mode (default 8). Prints markdown tables on stdout, progress on stderr.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use serde_json::Value;
use sparta_actors::{Engine, EngineConfig, EngineContext};
use sparta_bot::{DiscordAction, DiscordSink, SinkError};
use sparta_chain::source::{ChainSource, SETTLING_SLOTS};
use sparta_core::{Address, ManualSlotClock, Slot, SlotClock, ValidatorStats};
use sparta_devnet::{Devnet, DevnetConfig, RunningDevnet};
use sparta_store::local::{LocalMoto, local_config};
use sparta_store::{DynamoStore, Link, Store};

const VALIDATORS: usize = 5_000;
const COMMITTEE: usize = 48;
const EPOCH_SLOTS: u64 = 32;
/// The engine's default backfill (768 slots) in epochs: the first start reads all of them.
const BACKFILL_EPOCHS: u64 = 24;
/// Items per `BatchWriteItem`.
const BATCH_ITEMS: u64 = 25;
/// The most a `Scan` page returns.
const SCAN_PAGE_BYTES: u64 = 1 << 20;
/// The engine keeps the stats window plus the per-epoch trend (24 + 64 epochs) and trims older rows.
const TRIM_HORIZON_EPOCHS: u64 = 24 + 64;
/// No request for this long, twice with the actors drained in between, ends a phase.
const QUIET: Duration = Duration::from_millis(400);
const PHASE_LIMIT: Duration = Duration::from_secs(600);

/// Requests counted since the last [`RequestCounter::take`].
#[derive(Clone, Debug, Default)]
struct Tally {
    by_operation: BTreeMap<String, u64>,
    /// (operation, table without the prefix)
    by_table: BTreeMap<(String, String), u64>,
    /// Stats items carried by `BatchWriteItem`s on the validators table.
    stats_written: u64,
}

impl Tally {
    fn total(&self) -> u64 {
        self.by_operation.values().sum()
    }

    fn get(&self, operation: &str) -> u64 {
        self.by_operation.get(operation).copied().unwrap_or(0)
    }

    fn add(&mut self, other: &Tally) {
        for (op, n) in &other.by_operation {
            *self.by_operation.entry(op.clone()).or_default() += n;
        }
        for (key, n) in &other.by_table {
            *self.by_table.entry(key.clone()).or_default() += n;
        }
        self.stats_written += other.stats_written;
    }
}

/// Counts each HTTP request just before it is sent, so retries count too.
#[derive(Clone, Debug)]
struct RequestCounter {
    prefix: String,
    tally: Arc<Mutex<Tally>>,
    sent: Arc<AtomicU64>,
}

impl RequestCounter {
    fn new(prefix: &str) -> Self {
        Self { prefix: prefix.into(), tally: Arc::default(), sent: Arc::default() }
    }

    fn take(&self) -> Tally {
        std::mem::take(&mut *self.tally.lock().unwrap())
    }

    fn sent(&self) -> u64 {
        self.sent.load(Ordering::SeqCst)
    }

    fn table<'a>(&self, name: &'a str) -> &'a str {
        name.strip_prefix(&self.prefix).unwrap_or(name)
    }

    /// The tables a request body names, and the stats items it writes.
    fn inspect(&self, operation: &str, body: &Value) -> (BTreeSet<String>, u64) {
        let mut tables = BTreeSet::new();
        let mut stats = 0;
        if let Some(name) = body["TableName"].as_str() {
            tables.insert(self.table(name).to_string());
        }
        if let Some(items) = body["RequestItems"].as_object() {
            for (name, writes) in items {
                let table = self.table(name);
                if operation == "BatchWriteItem" && table == "validators" {
                    let is_stats = |w: &Value| w["PutRequest"]["Item"]["record"]["S"] == "stats";
                    stats += writes.as_array().map_or(0, |w| w.iter().filter(|w| is_stats(w)).count()) as u64;
                }
                tables.insert(table.to_string());
            }
        }
        for item in body["TransactItems"].as_array().into_iter().flatten() {
            for part in item.as_object().into_iter().flat_map(|o| o.values()) {
                if let Some(name) = part["TableName"].as_str() {
                    tables.insert(self.table(name).to_string());
                }
            }
        }
        (tables, stats)
    }
}

impl Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "RequestCounter"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request();
        // `X-Amz-Target: DynamoDB_20120810.<Operation>`
        let target = request.headers().get("x-amz-target").unwrap_or("?");
        let operation = target.rsplit('.').next().unwrap_or(target).to_string();
        let body: Value =
            request.body().bytes().and_then(|b| serde_json::from_slice(b).ok()).unwrap_or_default();
        let (tables, stats) = self.inspect(&operation, &body);
        let mut tally = self.tally.lock().unwrap();
        *tally.by_operation.entry(operation.clone()).or_default() += 1;
        *tally.by_table.entry((operation, tables.into_iter().collect::<Vec<_>>().join("+"))).or_default() +=
            1;
        tally.stats_written += stats;
        self.sent.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// Takes every Discord action; counts them.
#[derive(Default)]
struct NullSink {
    delivered: AtomicU64,
}

#[async_trait]
impl DiscordSink for NullSink {
    async fn deliver(&self, _key: &str, _action: &DiscordAction) -> Result<(), SinkError> {
        self.delivered.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// How the clock moves through a measured epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Drive {
    /// One slot at a time, each committed before the next: a live engine following the chain.
    SlotBySlot,
    /// The whole epoch at once, read as one batch: an engine catching up.
    EpochAtOnce,
}

impl Drive {
    fn label(self) -> &'static str {
        match self {
            Drive::SlotBySlot => "live, slot by slot",
            Drive::EpochAtOnce => "catching up, one epoch per batch",
        }
    }

    /// Batches the watcher commits per epoch.
    fn batches(self) -> u64 {
        match self {
            Drive::SlotBySlot => EPOCH_SLOTS,
            Drive::EpochAtOnce => 1,
        }
    }
}

struct EpochResult {
    epoch: u64,
    tally: Tally,
    changed: usize,
    actions: u64,
}

impl EpochResult {
    /// `BatchWriteItem`s of stats.
    fn stats_requests(&self) -> u64 {
        self.tally.by_table.get(&("BatchWriteItem".into(), "validators".into())).copied().unwrap_or(0)
    }

    /// Decisions and their delivery: every request on the roles, alerts, audit or outbox tables (one
    /// transaction per role change or alert transition, then a claim and a settle per Discord action).
    fn event_requests(&self) -> u64 {
        let decision =
            |tables: &str| ["roles", "alerts", "audit", "outbox"].iter().any(|t| tables.contains(t));
        self.tally.by_table.iter().filter(|((_, tables), _)| decision(tables)).map(|(_, n)| n).sum()
    }

    /// Slot commits, the L1 cursor and trimming: a fixed cost per batch and per epoch.
    fn fixed_requests(&self) -> u64 {
        self.tally.total() - self.stats_requests() - self.event_requests()
    }
}

/// One engine on one network, its store reached through the counting client.
struct Bench {
    clock: ManualSlotClock,
    devnet: RunningDevnet,
    store: Arc<DynamoStore>,
    /// The same tables through a client that is not counted.
    probe: DynamoStore,
    counter: RequestCounter,
    sink: Arc<NullSink>,
    validators: Vec<Address>,
    trackers: usize,
    engines: usize,
    actions_seen: u64,
    stats: HashMap<Address, ValidatorStats>,
}

impl Bench {
    async fn new(moto: &LocalMoto, prefix: &str) -> Self {
        let config = DevnetConfig {
            validators: VALIDATORS,
            committee_size: COMMITTEE,
            epoch_slots: EPOCH_SLOTS,
            slot_seconds: 2,
            seed: 42,
            genesis_time_s: 1_700_000_000,
            ..DevnetConfig::default()
        };
        // The first start sees BACKFILL_EPOCHS whole epochs behind the chain's safe slot.
        let first = Slot(BACKFILL_EPOCHS * EPOCH_SLOTS - 1 + SETTLING_SLOTS);
        let clock = ManualSlotClock::at_slot(config.timing(), first);
        let devnet = Devnet::start(config, Arc::new(clock.clone())).await.expect("the devnet starts");
        let counter = RequestCounter::new(prefix);
        let counted = Client::from_conf(local_config(moto.endpoint()).interceptor(counter.clone()).build());
        let probe = DynamoStore::new(moto.client(), prefix);
        probe.create_tables().await.expect("tables are created");
        // Operators for every scripted validator and every fourth other one, as in the demo network.
        for (operator, validator) in devnet.network.demo_operators(4) {
            probe.link(&Link { operator, validator }).await.expect("link");
        }
        let validators = devnet.network.validators().iter().map(|v| v.address).collect();
        Self {
            clock,
            devnet,
            store: Arc::new(DynamoStore::new(counted, prefix)),
            probe,
            counter,
            sink: Arc::new(NullSink::default()),
            validators,
            trackers: EngineConfig::default().trackers,
            engines: 0,
            actions_seen: 0,
            stats: HashMap::new(),
        }
    }

    async fn start_engine(&mut self) -> Engine {
        self.engines += 1;
        let config = EngineConfig {
            name: format!("bench-{}", self.engines),
            trackers: self.trackers,
            // The manual clock never wakes the watcher by itself; idle polls send no store requests.
            max_poll_ms: 20,
            ..EngineConfig::default()
        };
        let source = ChainSource::connect(&self.devnet.node_url, &self.devnet.l1_url)
            .await
            .expect("the source connects");
        let clock: Arc<dyn SlotClock> = Arc::new(self.clock.clone());
        let store: Arc<dyn Store> = self.store.clone();
        let ctx = EngineContext::new(config, store, self.sink.clone(), clock, source);
        Engine::start(ctx).await.expect("the engine starts")
    }

    async fn wait_for_checkpoint(&self, slot: u64) {
        let deadline = Instant::now() + PHASE_LIMIT;
        loop {
            let checkpoint = self.probe.checkpoint().await.expect("checkpoint");
            if checkpoint.is_some_and(|c| c.0 >= slot) {
                return;
            }
            assert!(Instant::now() < deadline, "checkpoint stuck at {checkpoint:?}, wanted {slot}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    async fn quiet(&self) {
        let deadline = Instant::now() + PHASE_LIMIT;
        loop {
            let before = self.counter.sent();
            tokio::time::sleep(QUIET).await;
            if self.counter.sent() == before {
                return;
            }
            assert!(Instant::now() < deadline, "the engine never stopped sending requests");
        }
    }

    /// Waits until the engine has done everything for the slots it has read. None of the questions
    /// asked here reach the store, so they add no requests.
    async fn settle(&self, engine: &Engine) {
        self.quiet().await;
        // Actors answer in mailbox order: every tracker has handled its batches once it answers, and
        // the role and alert actors have handled the stats the trackers sent them.
        for validator in &self.validators {
            engine.validator(*validator).await.expect("a tracker answers");
        }
        engine.held_roles().await.expect("roles");
        engine.firing_alerts().await.expect("alerts");
        self.quiet().await;
    }

    async fn stored_stats(&self) -> HashMap<Address, ValidatorStats> {
        self.probe.all_stats().await.expect("stats").into_iter().map(|s| (s.address, s)).collect()
    }

    /// Moves the chain `epochs` epochs past the checkpoint (a slot at a time or all at once) and waits
    /// until the engine has handled them. Returns what that cost.
    async fn advance(&mut self, engine: &Engine, epochs: u64, drive: Drive) -> EpochResult {
        let from = self.probe.checkpoint().await.expect("checkpoint").map_or(0, |c| c.0 + 1);
        let end = from + epochs * EPOCH_SLOTS - 1;
        match drive {
            Drive::SlotBySlot => {
                for slot in from..=end {
                    self.clock.set_slot(Slot(slot + SETTLING_SLOTS));
                    self.wait_for_checkpoint(slot).await;
                }
            }
            Drive::EpochAtOnce => {
                self.clock.set_slot(Slot(end + SETTLING_SLOTS));
                self.wait_for_checkpoint(end).await;
            }
        }
        self.settle(engine).await;
        let tally = self.counter.take();
        let now = self.stored_stats().await;
        let changed = now.iter().filter(|(a, s)| self.stats.get(*a) != Some(*s)).count();
        self.stats = now;
        let delivered = self.sink.delivered.load(Ordering::Relaxed);
        let actions = delivered - std::mem::replace(&mut self.actions_seen, delivered);
        EpochResult { epoch: end / EPOCH_SLOTS, tally, changed, actions }
    }
}

struct Run {
    first_start: Tally,
    warm_up: EpochResult,
    warm_epochs: u64,
    live: Vec<EpochResult>,
    catch_up: Vec<EpochResult>,
    restart: Tally,
    links: usize,
    trackers: usize,
}

async fn run(moto: &LocalMoto, epochs: u64) -> Run {
    let mut bench = Bench::new(moto, "bench-").await;
    let links = bench.devnet.network.demo_operators(4).len();

    let engine = bench.start_engine().await;
    bench.wait_for_checkpoint(BACKFILL_EPOCHS * EPOCH_SLOTS - 1).await;
    bench.settle(&engine).await;
    let first_start = bench.counter.take();
    bench.stats = bench.stored_stats().await;
    bench.actions_seen = bench.sink.delivered.load(Ordering::Relaxed);
    eprintln!("first start: {} requests", first_start.total());

    // Past the history the engine keeps, so every measured epoch also trims one epoch of rows.
    let warm_epochs = TRIM_HORIZON_EPOCHS + 2 - BACKFILL_EPOCHS;
    let warm_up = bench.advance(&engine, warm_epochs, Drive::EpochAtOnce).await;
    eprintln!("warm-up over {warm_epochs} epochs: {} requests", warm_up.tally.total());

    let mut live = Vec::new();
    let mut catch_up = Vec::new();
    for (drive, results) in [(Drive::SlotBySlot, &mut live), (Drive::EpochAtOnce, &mut catch_up)] {
        for _ in 0..epochs {
            let result = bench.advance(&engine, 1, drive).await;
            eprintln!(
                "{}: epoch {}: {} requests, {} validators changed",
                drive.label(),
                result.epoch,
                result.tally.total(),
                result.changed
            );
            results.push(result);
        }
    }
    engine.stop().await;

    // A restart on the filled store: what the engine reads to rebuild its state.
    let engine = bench.start_engine().await;
    bench.settle(&engine).await;
    let restart = bench.counter.take();
    engine.stop().await;
    let trackers = bench.trackers;
    bench.devnet.shutdown().await;
    Run { first_start, warm_up, warm_epochs, live, catch_up, restart, links, trackers }
}

fn mean(values: impl Iterator<Item = u64>) -> f64 {
    let (n, sum) = values.fold((0u64, 0u64), |(n, s), v| (n + 1, s + v));
    sum as f64 / n.max(1) as f64
}

/// The per-epoch constant the design promises on top of ⌈changed/25⌉ (role and alert writes aside):
/// per batch, one committee read, one transaction, the L1 cursor read and write; per epoch, one partly
/// filled stats batch per tracker, two trim queries and two delete batches (32 rows + 1 committee).
fn design_constant(drive: Drive, trackers: usize) -> u64 {
    drive.batches() * 4 + trackers as u64 + 2 + (EPOCH_SLOTS + 1).div_ceil(BATCH_ITEMS)
}

fn print_steady(drive: Drive, results: &[EpochResult], trackers: usize) {
    println!("### Steady state, {} ({} epochs)\n", drive.label(), results.len());
    let mut all = Tally::default();
    for r in results {
        all.add(&r.tally);
    }
    println!("| operation | table | per epoch (mean) | min | max |");
    println!("|---|---|---:|---:|---:|");
    for (op, table) in all.by_table.keys() {
        let per = || {
            results.iter().map(|r| r.tally.by_table.get(&(op.clone(), table.clone())).copied().unwrap_or(0))
        };
        let (min, max) = (per().min().unwrap_or(0), per().max().unwrap_or(0));
        println!("| {op} | {table} | {:.1} | {min} | {max} |", mean(per()));
    }
    let totals = || results.iter().map(|r| r.tally.total());
    let (min, max) = (totals().min().unwrap_or(0), totals().max().unwrap_or(0));
    println!("| **total** | | **{:.1}** | {min} | {max} |\n", mean(totals()));

    let c = design_constant(drive, trackers);
    println!(
        "| epoch | requests | fixed | stats batches | role/alert writes | Discord actions | validators changed | \
         stats items written | ⌈changed/25⌉ + {c} | fixed + stats within it |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|");
    for r in results {
        let bound = (r.changed as u64).div_ceil(BATCH_ITEMS) + c;
        let within = r.fixed_requests() + r.stats_requests() <= bound;
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {bound} | {} |",
            r.epoch,
            r.tally.total(),
            r.fixed_requests(),
            r.stats_requests(),
            r.event_requests(),
            r.actions,
            r.changed,
            r.tally.stats_written,
            if within { "yes" } else { "no" }
        );
    }
    println!();
}

fn report(run: &Run, item_bytes: u64) {
    println!(
        "## DynamoDB requests per epoch: {VALIDATORS} validators, committee {COMMITTEE}, {EPOCH_SLOTS}-slot \
         epochs, {} trackers\n",
        run.trackers
    );
    print_steady(Drive::SlotBySlot, &run.live, run.trackers);
    print_steady(Drive::EpochAtOnce, &run.catch_up, run.trackers);

    println!("### Start-up\n");
    let w = &run.warm_up.tally;
    println!(
        "| operation | first start (backfill of {BACKFILL_EPOCHS} epochs) | catching up {} epochs | restart on the \
         filled store |",
        run.warm_epochs
    );
    println!("|---|---:|---:|---:|");
    let mut ops: BTreeSet<&String> = run.first_start.by_operation.keys().collect();
    ops.extend(run.restart.by_operation.keys());
    ops.extend(w.by_operation.keys());
    for op in ops {
        println!("| {op} | {} | {} | {} |", run.first_start.get(op), w.get(op), run.restart.get(op));
    }
    println!(
        "| **total** | **{}** | **{}** | **{}** |\n",
        run.first_start.total(),
        w.total(),
        run.restart.total()
    );
    println!("{} validators have an operator link.\n", run.links);

    let pages = |bytes: u64| (VALIDATORS as u64 * bytes).div_ceil(SCAN_PAGE_BYTES);
    println!("### The old bot, per epoch\n");
    println!("| validator item | scans | pages per scan | queries | requests |");
    println!("|---|---:|---:|---:|---:|");
    for bytes in [item_bytes, 1024] {
        let p = pages(bytes);
        println!("| ~{bytes} B | 3 | {p} | {VALIDATORS} | {} |", 3 * p + VALIDATORS as u64);
    }
    println!();
}

fn main() {
    let epochs: u64 = std::env::var("SPARTA_BENCH_EPOCHS").ok().and_then(|v| v.parse().ok()).unwrap_or(8);
    let Some(moto) = LocalMoto::start() else {
        eprintln!("moto is not available; scripts/bench-dynamo installs it");
        std::process::exit(2);
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let started = Instant::now();
    let run = runtime.block_on(run(&moto, epochs));
    // An old-bot validator item: address, operator id, peer id and two timestamps, names included.
    report(&run, 200);
    eprintln!("done in {:.0?}", started.elapsed());
}
