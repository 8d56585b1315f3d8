//! `sparta replay`: the whole engine over a simulated history, as fast as it goes. What it stores must
//! be what one monitor computes over the same history, a killed replay must resume to the same end,
//! and bad arguments must be refused with a clear message.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sparta_core::{Address, ManualSlotClock, MonitorConfig, Slot, ValidatorMonitor, ValidatorStats};
use sparta_devnet::{DevnetConfig, Network, SCRIPTED};
use sparta_store::{EmbeddedStore, Store};

use crate::process::sparta;

const VALIDATORS: usize = 400;
/// Within one 768-slot window: stored stats do not depend on when they were stored.
const TO_SLOT: u64 = 700;

fn replay_args<'a>(dir: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args =
        vec!["replay", "--from-slot", "0", "--to-slot", "700", "--validators", "400", "--data-dir", dir];
    args.extend_from_slice(extra);
    args
}

/// The replayed network, its clock past the end of the range.
fn network() -> Network {
    let config = DevnetConfig { validators: VALIDATORS, ..DevnetConfig::default() };
    let clock = ManualSlotClock::at_slot(config.timing(), Slot(TO_SLOT + 2));
    Network::new(config, Arc::new(clock)).unwrap()
}

/// One monitor over the same slots: what every stored stat must equal.
fn expected_stats() -> (BTreeMap<Address, ValidatorStats>, u64) {
    let network = network();
    let mut monitor = ValidatorMonitor::new(MonitorConfig::for_timing(&network.timing()));
    let mut records = 0;
    for record in network.slots(Slot(0), Slot(TO_SLOT)) {
        records += record.committee.len() as u64;
        monitor.register_slot(&record.facts());
    }
    let stats = monitor.validators().map(|a| (*a, monitor.stats(a).unwrap())).collect();
    (stats, records)
}

async fn stored(path: &Path) -> (Arc<dyn Store>, BTreeMap<Address, ValidatorStats>) {
    let store: Arc<dyn Store> = Arc::new(EmbeddedStore::open(&path.join("sparta.redb")).unwrap());
    let stats = store.all_stats().await.unwrap().into_iter().map(|s| (s.address, s)).collect();
    (store, stats)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_stores_what_one_monitor_computes_and_decides_as_production_does() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("replay");
    let mut run = sparta(&replay_args(data.to_str().unwrap(), &["--batch-slots", "64"]), dir.path());
    let (status, _) = run.wait_exit(Duration::from_secs(120));
    assert!(status.success(), "replay failed:\n{}", run.output());

    let (expected, records) = expected_stats();
    let summary = run.wait_for("the summary", Duration::ZERO, |l| l.contains("records/s"));
    assert!(summary.contains(&format!("701 slots, {records} records in")), "{summary}");
    assert!(summary.contains("peak RSS") && summary.contains("decision latency roles p50"), "{summary}");

    let (store, stats) = stored(&data).await;
    assert_eq!(store.checkpoint().await.unwrap(), Some(Slot(TO_SLOT)));
    assert_eq!(stats.len(), expected.len(), "one stored record per validator that had a duty");
    for (address, want) in &expected {
        assert_eq!(stats.get(address), Some(want), "stored stats of {address:#x}");
    }

    // Decided as in production: the offline validator's alert, the slash, a performance role.
    let scripted: Vec<Address> = network().scripted().into_iter().map(|(a, _)| a).collect();
    assert_eq!(scripted.len(), SCRIPTED.len());
    let alerts = store.alerts().await.unwrap();
    let firing = |validator: &Address, kind: &str| {
        alerts.iter().any(|a| a.subject.contains(&format!("{validator:#x}")) && a.kind == kind && a.firing)
    };
    assert!(firing(&scripted[2], "attestation-misses"), "the offline validator's alert: {alerts:#?}");
    assert!(firing(&scripted[3], "slashed"), "the slash: {alerts:#?}");
    let roles = store.role_states().await.unwrap();
    assert!(roles.iter().any(|r| r.role == "performant" && r.held), "performance roles: {roles:#?}");
    assert!(roles.iter().any(|r| r.role == "slashed" && r.held), "the slashed role: {roles:#?}");
    assert_eq!(store.outbox_backlog().await.unwrap(), 0, "every decided action was handed to the sink");
    let decided: u64 =
        summary.split(" Discord actions").next().unwrap().rsplit(' ').next().unwrap().parse().unwrap();
    assert_eq!(decided, store.outbox_records().await.unwrap().len() as u64, "{summary}");
    assert!(decided > 0, "{summary}");
    drop(store); // one process at a time holds the file

    // Run again: nothing left to do.
    let mut again = sparta(&replay_args(data.to_str().unwrap(), &["--batch-slots", "64"]), dir.path());
    assert!(again.wait_exit(Duration::from_secs(60)).0.success(), "{}", again.output());
    again.wait_for("nothing to do", Duration::ZERO, |l| l.contains("are already in"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_replay_resumes_and_ends_where_an_uninterrupted_one_does() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("killed");
    // Durable every 50 ms, so the kill lands after some durable commits and among non-durable ones.
    let args = replay_args(data.to_str().unwrap(), &["--batch-slots", "8", "--sync-every", "50ms"]);
    let mut first = sparta(&args, dir.path());
    // Killed once a good part is stored (the progress log says so), long before the end.
    first.wait_for("slot 200 processed", Duration::from_secs(120), |l| {
        l.contains("slots processed") && to_slot(l).is_some_and(|to| to >= 200)
    });
    first.kill();
    let killed_at = first.seen.iter().filter_map(|l| to_slot(l)).max().unwrap();
    assert!(killed_at < TO_SLOT, "killed before the end (at {killed_at})");

    let mut second = sparta(&args, dir.path());
    let (status, _) = second.wait_exit(Duration::from_secs(120));
    assert!(status.success(), "{}", second.output());
    second.wait_for("resuming", Duration::ZERO, |l| l.contains(", resuming"));

    let (store, stats) = stored(&data).await;
    let (expected, _) = expected_stats();
    assert_eq!(store.checkpoint().await.unwrap(), Some(Slot(TO_SLOT)));
    assert_eq!(stats, expected, "the resumed replay stores what one uninterrupted monitor computes");
    let firing: Vec<_> =
        store.alerts().await.unwrap().into_iter().filter(|a| a.firing).map(|a| a.kind).collect();
    assert!(firing.iter().any(|k| k == "slashed"), "{firing:?}");
}

#[test]
fn bad_ranges_and_another_replays_directory_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut backwards = sparta(&["replay", "--from-slot", "10", "--to-slot", "5"], dir.path());
    assert!(!backwards.wait_exit(Duration::from_secs(30)).0.success());
    backwards
        .wait_for("the error", Duration::ZERO, |l| l.contains("--to-slot (5) is before --from-slot (10)"));

    let data = dir.path().join("r");
    let data = data.to_str().unwrap();
    let mut small =
        sparta(&["replay", "--from-slot", "0", "--to-slot", "40", "--data-dir", data], dir.path());
    assert!(small.wait_exit(Duration::from_secs(60)).0.success(), "{}", small.output());
    let mut other = sparta(
        &["replay", "--from-slot", "0", "--to-slot", "40", "--validators", "300", "--data-dir", data],
        dir.path(),
    );
    assert!(!other.wait_exit(Duration::from_secs(30)).0.success());
    other.wait_for("the refusal", Duration::ZERO, |l| {
        l.contains("holds another replay") && l.contains("--fresh")
    });
}

/// The `to=` slot of a "slots processed" log line.
fn to_slot(line: &str) -> Option<u64> {
    if !line.contains("slots processed") {
        return None;
    }
    let at = line.find(" to=")?;
    line[at + 4..].split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}
