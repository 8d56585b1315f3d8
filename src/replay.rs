//! `sparta replay --from-slot A --to-slot B`: a simulated network's history, handed to the whole
//! engine directly (no JSON-RPC), committed to the embedded store and decided on as in production,
//! as fast as the engine takes it. Discord actions are decided and stored but never sent. It ends
//! with one summary line: committee-slot records per second, peak RSS and decision latency.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use async_trait::async_trait;
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};
use sparta_actors::{Engine, EngineConfig, EngineContext};
use sparta_bot::{ConsoleSink, DiscordAction, DiscordSink, SinkError};
use sparta_core::Slot;
use sparta_devnet::{Ahead, SyntheticHistory};
use sparta_store::{Durability, EmbeddedStore, Link, NetworkIdentity, Store};
use sparta_telemetry::catalog;

use crate::cli::ReplayArgs;
use crate::devnet::{self, DevnetParams};

/// Slot 0 of every replayed network (fixed, so a replay is the same history on every run).
const GENESIS_TIME_S: u64 = 1_700_000_000;

/// What makes a replay resumable: the same network and range (kept in the data directory).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct ReplayParams {
    network: DevnetParams,
    from_slot: u64,
    to_slot: u64,
    link_every: usize,
}

pub async fn main(args: ReplayArgs) -> anyhow::Result<()> {
    devnet::validate(&args.network)?;
    // The replay reads the simulated history directly, not through the L1 views the hatch is read from.
    anyhow::ensure!(args.network.escape_hatch.is_empty(), "replay does not simulate the escape hatch");
    if args.to_slot < args.from_slot {
        bail!("--to-slot ({}) is before --from-slot ({})", args.to_slot, args.from_slot);
    }
    if args.batch_slots == 0 || args.trackers == 0 {
        bail!("--batch-slots and --trackers must be positive");
    }
    let params = ReplayParams {
        network: DevnetParams::new(&args.network, GENESIS_TIME_S),
        from_slot: args.from_slot,
        to_slot: args.to_slot,
        link_every: args.link_every,
    };
    prepare_data_dir(&args.data_dir, args.fresh, &params)?;
    let (from, to) = (Slot(args.from_slot), Slot(args.to_slot));
    let ahead = if args.preload { Ahead::Whole } else { Ahead::Streaming };
    let history = SyntheticHistory::new(params.network.config(), from, to, ahead)
        .context("cannot build the simulated network")?;
    let telemetry = sparta_telemetry::install().context("cannot install the metrics recorder")?;

    let path = args.data_dir.join("sparta.redb");
    // Durable once a second (`--sync-every`), not at every commit: a killed replay resumes from the
    // last durable checkpoint (the file always holds a prefix of the commits), and no Discord call
    // depends on it.
    let embedded = EmbeddedStore::open_with(&path, Durability::AtMostEvery(args.sync_every))?;
    let store: Arc<dyn Store> = Arc::new(embedded.clone());
    let described = format!("embedded file {}", path.display());
    let network = history.network().clone();
    let addresses = network.addresses();
    let identity = NetworkIdentity {
        chain_id: network.config().chain_id,
        rollup: addresses.rollup_address,
        timing: history.timing(),
    };
    store.check_identity(&identity).await?;
    if args.link_every > 0 {
        for (operator, validator) in network.demo_operators(args.link_every) {
            store.link(&Link { operator, validator }).await?;
        }
    }
    let resumed = store.checkpoint().await?.filter(|s| *s >= from);
    let first = resumed.map_or(from, Slot::next);
    if first > to {
        println!("replay: slots {from}..={to} are already in {described}; --fresh replays them again");
        return Ok(());
    }
    let records = records_between(&network, first, to);
    println!(
        "replay: {} validators, committee {}, {}-slot epochs, slots {first}..={to} ({} slots, {records} committee-slot records){}",
        args.network.validators,
        args.network.committee,
        args.network.epoch_slots,
        to.0 - first.0 + 1,
        if resumed.is_some() { ", resuming" } else { "" },
    );

    let sink: Arc<dyn DiscordSink> = match args.print_actions {
        true => Arc::new(ConsoleSink::new(false)),
        false => Arc::new(DiscardingSink),
    };
    let counted = CountedSink { inner: sink, actions: AtomicU64::new(0) };
    let counted = Arc::new(counted);
    let engine = EngineConfig {
        name: "replay".into(),
        trackers: args.trackers,
        batch_slots: args.batch_slots,
        // The watcher starts `backfill_slots` before the source's safe slot: at `from`.
        backfill_slots: to.0 - from.0,
        // Barrier calls wait behind whole queues of batches.
        call_timeout_ms: 600_000,
        ..EngineConfig::default()
    };
    let preloaded = match ahead {
        Ahead::Whole => Some(preload(&history, to.0 - from.0 + 1).await),
        Ahead::Streaming => None,
    };
    let ctx = EngineContext::new(engine, store.clone(), counted.clone(), history.clock(), history);
    let started = Instant::now();
    let engine = Engine::start(ctx).await?;
    let progress = progress_bar(first, to);
    let outcome = wait_until_replayed(&engine, &store, first, to, &progress).await;
    progress.finish_and_clear();
    let elapsed = started.elapsed();
    let status = engine.status().await.ok();
    engine.stop().await;
    outcome?;
    embedded.sync().await?;

    let validators = status.map_or(0, |s| s.validators);
    let latency = latency_quantiles(&telemetry.render());
    let decided = store.outbox_records().await?.len();
    let memory = match (peak_rss(), preloaded) {
        (Some(peak), Some(held)) => format!("peak RSS {} (the preloaded history: {})", mb(peak), mb(held)),
        (Some(peak), None) => format!("peak RSS {}", mb(peak)),
        (None, _) => "peak RSS n/a".into(),
    };
    println!(
        "replay: {} slots, {records} records in {:.1} s: {:.0} records/s ({:.0} slots/s); {memory}; {validators} validators tracked; {decided} Discord actions decided, {} handed to the sink (never sent; the rest superseded before delivery); decision latency {latency}",
        to.0 - first.0 + 1,
        elapsed.as_secs_f64(),
        records as f64 / elapsed.as_secs_f64(),
        (to.0 - first.0 + 1) as f64 / elapsed.as_secs_f64(),
        counted.actions.load(Ordering::Relaxed),
    );
    Ok(())
}

/// A directory holding another replay is refused, not mixed; `--fresh` starts over.
fn prepare_data_dir(dir: &Path, fresh: bool, params: &ReplayParams) -> anyhow::Result<()> {
    if fresh && dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("cannot remove {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join("replay.json");
    if let Ok(text) = std::fs::read_to_string(&path) {
        let stored: ReplayParams = serde_json::from_str(&text)
            .with_context(|| format!("{} is corrupt; pass --fresh to start over", path.display()))?;
        if stored != *params {
            bail!(
                "{} holds another replay ({stored:?}); pass --fresh to start over or use another --data-dir",
                dir.display()
            );
        }
        return Ok(());
    }
    std::fs::write(&path, serde_json::to_string_pretty(params)?)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Committee seats over `from..=to`: what the engine judges (one record per member per slot).
fn records_between(network: &sparta_devnet::Network, from: Slot, to: Slot) -> u64 {
    let timing = network.timing();
    let (first, last) = (timing.epoch_of(from).0, timing.epoch_of(to).0);
    (first..=last)
        .map(|epoch| {
            let epoch = sparta_core::Epoch(epoch);
            let slots = timing.last_slot(epoch).0.min(to.0) + 1 - timing.first_slot(epoch).0.max(from.0);
            slots * network.committee(epoch).len() as u64
        })
        .sum()
}

fn progress_bar(first: Slot, to: Slot) -> ProgressBar {
    let bar = ProgressBar::new(to.0 - first.0 + 1);
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} slots ({per_sec}, eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar
}

/// Waits until every tracker shard has processed `to` and both deciders have decided on it.
async fn wait_until_replayed(
    engine: &Engine,
    store: &Arc<dyn Store>,
    first: Slot,
    to: Slot,
    progress: &ProgressBar,
) -> anyhow::Result<()> {
    let handle = engine.handle();
    loop {
        if !engine.is_running() {
            bail!("the engine stopped during the replay: too many actor restarts (see the log)");
        }
        let stored = store.checkpoint().await?.unwrap_or(first);
        progress.set_position(stored.0.saturating_sub(first.0) + 1);
        if stored >= to && engine.tracked_through().await? >= Some(to) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Each decider answers after every update queued before the question: the decisions are made.
    handle.held_roles().await?;
    handle.firing_alerts().await?;
    engine.flush_outbox().await?;
    Ok(())
}

/// Waits until the simulator has the whole range ready; returns how much memory that took (KiB).
async fn preload(history: &SyntheticHistory, slots: u64) -> u64 {
    let before = proc_status_kib("VmRSS:").unwrap_or(0);
    let bar = ProgressBar::new(slots).with_message("simulating");
    while (history.simulated_ahead() as u64) < slots {
        bar.set_position(history.simulated_ahead() as u64);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bar.finish_and_clear();
    proc_status_kib("VmRSS:").unwrap_or(0).saturating_sub(before)
}

/// Peak resident set size of this process in KiB (Linux), allocator slack included.
fn peak_rss() -> Option<u64> {
    proc_status_kib("VmHWM:")
}

fn proc_status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn mb(kib: u64) -> String {
    format!("{:.0} MB", kib as f64 / 1024.0)
}

/// p50 / p99 / max-bucket of the decision latency histogram, per decider, from the exposition text
/// (interpolated within buckets, as Prometheus' `histogram_quantile` does).
fn latency_quantiles(exposition: &str) -> String {
    let prefix = format!("{}_bucket{{", catalog::ENGINE_DECISION_LATENCY_SECONDS);
    let mut parts = Vec::new();
    for decider in ["roles", "alerts"] {
        let mut buckets: Vec<(f64, f64)> = exposition
            .lines()
            .filter(|l| l.starts_with(&prefix) && l.contains(&format!("decider=\"{decider}\"")))
            .filter_map(|l| {
                let le = l.split("le=\"").nth(1)?.split('"').next()?;
                let le = if le == "+Inf" { f64::INFINITY } else { le.parse().ok()? };
                Some((le, l.rsplit(' ').next()?.parse().ok()?))
            })
            .collect();
        buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        let Some(&(_, total)) = buckets.last() else { continue };
        if total == 0.0 {
            continue;
        }
        let q = |q: f64| quantile(&buckets, q * total);
        parts.push(format!("{decider} p50 {} p99 {} ({total:.0} updates)", q(0.5), q(0.99)));
    }
    if parts.is_empty() { "n/a".into() } else { parts.join(", ") }
}

fn quantile(buckets: &[(f64, f64)], rank: f64) -> String {
    let mut below = (0.0, 0.0);
    for &(le, count) in buckets {
        if count >= rank {
            if le.is_infinite() {
                return format!("> {} s", below.0);
            }
            let within = if count > below.1 { (rank - below.1) / (count - below.1) } else { 1.0 };
            let value = below.0 + (le - below.0) * within;
            return format!("{:.1} ms", value * 1000.0);
        }
        below = (le, count);
    }
    "n/a".into()
}

/// Takes Discord actions and drops them (a replay decides them; nothing reaches Discord).
struct DiscardingSink;

#[async_trait]
impl DiscordSink for DiscardingSink {
    async fn deliver(&self, _key: &str, _action: &DiscordAction) -> Result<(), SinkError> {
        Ok(())
    }
}

/// Counts what reaches the sink inside it.
struct CountedSink {
    inner: Arc<dyn DiscordSink>,
    actions: AtomicU64,
}

#[async_trait]
impl DiscordSink for CountedSink {
    async fn deliver(&self, key: &str, action: &DiscordAction) -> Result<(), SinkError> {
        self.actions.fetch_add(1, Ordering::Relaxed);
        self.inner.deliver(key, action).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_within_buckets() {
        let buckets = [(0.01, 50.0), (0.1, 99.0), (1.0, 100.0), (f64::INFINITY, 100.0)];
        assert_eq!(quantile(&buckets, 50.0), "10.0 ms");
        assert_eq!(quantile(&buckets, 25.0), "5.0 ms");
        assert_eq!(quantile(&buckets, 99.0), "100.0 ms");
        let slow = [(0.1, 0.0), (f64::INFINITY, 10.0)];
        assert_eq!(quantile(&slow, 5.0), "> 0.1 s");
    }

    #[test]
    fn latency_is_read_per_decider_from_the_exposition() {
        let text = "\
sparta_engine_decision_latency_seconds_bucket{decider=\"roles\",le=\"0.001\"} 0
sparta_engine_decision_latency_seconds_bucket{decider=\"roles\",le=\"0.01\"} 4
sparta_engine_decision_latency_seconds_bucket{decider=\"roles\",le=\"+Inf\"} 4
sparta_engine_decision_latency_seconds_count{decider=\"roles\"} 4
";
        assert_eq!(latency_quantiles(text), "roles p50 5.5 ms p99 9.9 ms (4 updates)");
        assert_eq!(latency_quantiles(""), "n/a");
    }
}
