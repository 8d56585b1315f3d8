//! `sparta devnet` killed with SIGKILL at random moments, 20 times, then run to the end, on each store
//! backend. Afterwards: no decided Discord action was lost or delivered as a second effect, no slot
//! is missing from the processed history, and the stored stats are exactly what the history gives.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sparta_core::{ChainTiming, MonitorConfig, Slot, ValidatorMonitor};
use sparta_store::local::LocalMoto;
use sparta_store::{DynamoStore, EmbeddedStore, OutboxState, Store};

use crate::process::sparta;

const KILLS: usize = 20;
/// Small and fast, so the scripted incidents (offline, slash, exit within 30 slots) and role grants
/// happen while the kills do.
const NETWORK: [&str; 10] =
    ["--validators", "40", "--committee", "12", "--epoch-slots", "8", "--slot-seconds", "1", "--seed", "7"];

/// Every delivery line the console sink printed (JSON mode), by idempotency key.
pub fn deliveries(lines: &[String], into: &mut BTreeMap<String, usize>) {
    for line in lines.iter().filter(|l| l.starts_with('{')) {
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(line)
            && let Some(key) = value.get("key").and_then(|k| k.as_str())
        {
            *into.entry(key.to_owned()).or_default() += 1;
        }
    }
}

/// Runs the kill/restart cycle and returns how often each key reached the sink.
fn kill_and_restart(dir: &Path, store_args: &[&str], seed: u64) -> BTreeMap<String, usize> {
    let data_dir = dir.join("devnet");
    let data_dir = data_dir.to_str().unwrap();
    let mut args = vec!["devnet", "--data-dir", data_dir, "--metrics-addr", "127.0.0.1:0", "--json"];
    args.extend(NETWORK);
    args.extend(store_args);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut received = BTreeMap::new();
    for kill in 0..KILLS {
        let mut run = sparta(&args, dir);
        // Killed anywhere from start-up to mid-flight, including while slots are committed and actions sent.
        let after = Duration::from_millis(rng.random_range(300..3_500));
        run.wait_for("the engine starting", Duration::from_secs(60), |l| l.contains("metrics:"));
        std::thread::sleep(after);
        run.kill();
        let (status, _) = run.wait_exit(Duration::from_secs(10));
        assert!(!status.success(), "kill {kill}: the process was killed, not finished");
        deliveries(&run.seen, &mut received);
    }
    // A last run long enough for leases of interrupted deliveries (5 s in devnet) to expire.
    let mut last_args = args.clone();
    last_args.extend(["--for", "12s"]);
    let mut run = sparta(&last_args, dir);
    let (status, _) = run.wait_exit(Duration::from_secs(90));
    assert!(status.success(), "the last run ends cleanly:\n{}", run.output());
    deliveries(&run.seen, &mut received);
    received
}

/// What must hold after the crashes, whatever the backend.
pub async fn assert_nothing_lost(store: &dyn Store, received: &BTreeMap<String, usize>, timing: ChainTiming) {
    // Outbox: every decision delivered, every delivery a decision.
    let records = store.outbox_records().await.unwrap();
    assert!(!records.is_empty(), "the run decided something");
    assert_eq!(store.outbox_backlog().await.unwrap(), 0, "nothing left undelivered");
    let mut effects = BTreeSet::new();
    for record in &records {
        let key = &record.entry.key;
        match &record.state {
            OutboxState::Delivered { .. } => {
                assert!(
                    received.contains_key(key),
                    "{key} is settled as delivered but never reached the sink"
                )
            }
            OutboxState::Rejected { reason, .. } => {
                assert!(reason.contains("superseded"), "{key} rejected: {reason}");
                // Sent before a kill cut its settle short, then overtaken by a later change: once is right.
                if let Some(times) = received.get(key) {
                    assert_eq!(*times, 1, "{key}");
                    effects.insert(key.clone());
                }
                continue;
            }
            other => panic!("{key} is still {other:?}"),
        }
        effects.insert(key.clone());
        let times = received[key];
        // A repeat is only possible when a kill fell between the send and its settle; the repeat then
        // carries the same key (Discord drops it by nonce) and the record shows the second claim.
        assert!(times == 1 || record.attempts >= 2, "{key} sent {times} times without an interrupted claim");
    }
    let unknown: Vec<&String> = received.keys().filter(|k| !effects.contains(*k)).collect();
    assert!(unknown.is_empty(), "the sink got keys the store never decided: {unknown:?}");
    let repeats = received.values().filter(|n| **n > 1).count();
    eprintln!("{} actions decided and delivered, {repeats} resent after a kill mid-delivery", effects.len());

    // History: every slot from the first to the checkpoint, once.
    let checkpoint = store.checkpoint().await.unwrap().expect("slots were processed");
    let history = store.slot_history(Slot(0)).await.unwrap();
    let first = history.first().expect("history").slot;
    let slots: Vec<u64> = history.iter().map(|f| f.slot.0).collect();
    assert_eq!(slots, (first.0..=checkpoint.0).collect::<Vec<_>>(), "no gap in processed slots");

    // Stats: exactly what one uninterrupted pass over the history gives.
    let mut monitor = ValidatorMonitor::new(MonitorConfig::for_timing(&timing));
    for facts in &history {
        monitor.register_slot(facts);
        monitor.mark_processed(facts.slot);
    }
    let stored = store.all_stats().await.unwrap();
    assert!(!stored.is_empty());
    for stats in &stored {
        assert_eq!(Some(stats), monitor.stats(&stats.address).as_ref(), "stats of {:#x}", stats.address);
    }
}

fn timing_of(dir: &Path) -> ChainTiming {
    let text = std::fs::read_to_string(dir.join("devnet/network.json")).unwrap();
    let params: serde_json::Value = serde_json::from_str(&text).unwrap();
    ChainTiming {
        genesis_time_s: params["genesis_time_s"].as_u64().unwrap(),
        slot_duration_s: params["slot_seconds"].as_u64().unwrap(),
        epoch_duration_slots: params["epoch_slots"].as_u64().unwrap(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_twenty_times_loses_nothing_on_the_embedded_store() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_owned();
    let received = tokio::task::spawn_blocking(move || kill_and_restart(&root, &[], 11)).await.unwrap();
    let store = EmbeddedStore::open(&dir.path().join("devnet/sparta.redb")).unwrap();
    assert_nothing_lost(&store, &received, timing_of(dir.path())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_twenty_times_loses_nothing_on_dynamodb() {
    let Some(moto) = LocalMoto::shared() else { return };
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_owned();
    let endpoint = moto.endpoint().to_owned();
    let prefix = format!("crash{}-", std::process::id());
    let args = ["--dynamodb-endpoint".to_owned(), endpoint, "--dynamodb-prefix".to_owned(), prefix.clone()];
    let received = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        kill_and_restart(&root, &args, 12)
    })
    .await
    .unwrap();
    let store: Arc<dyn Store> = Arc::new(DynamoStore::new(moto.client(), &prefix));
    assert_nothing_lost(store.as_ref(), &received, timing_of(dir.path())).await;
}
