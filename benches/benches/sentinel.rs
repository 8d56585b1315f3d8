//! Side by side with the Aztec node's own Sentinel (npm `@aztec/aztec-node` 4.1.2, driven by
//! `benches/sentinel/sentinel-stats.mjs`): both compute every validator's stats over the same simulated
//! history and 768-slot window. Any disagreement exits 1 listing the first differences; otherwise one
//! line gives the time of each side's stats for all validators (median of several runs) and of ingest.
//! `scripts/bench-sentinel [--quick]`, which installs the node's code and points
//! `SPARTA_SENTINEL_NODE` / `SPARTA_SENTINEL_MODULES` at it.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sparta_core::{
    Address, ManualSlotClock, MissedStats, MonitorConfig, Slot, SlotFacts, ValidatorMonitor, ValidatorStats,
};
use sparta_devnet::{DevnetConfig, Generation, Network};

/// Runs of each side's stats computation; the median is reported.
const STATS_REPS: usize = 7;
/// Differences listed before giving up.
const SHOWN_DIFFERENCES: usize = 20;
/// Rates are compared this close (both sides divide the same integers, so they should be exact).
const RATE_TOLERANCE: f64 = 1e-12;

/// The simulated network and how much of its history both sides see.
struct Shape {
    validators: usize,
    committee: usize,
    epoch_slots: u64,
    /// Slots `0..slots`: more than the window, so the window is full and entries have left it.
    slots: u64,
}

impl Shape {
    /// Mainnet's committee and epoch over 10,000 validators, a full window plus 8 epochs.
    const FULL: Shape = Shape { validators: 10_000, committee: 48, epoch_slots: 32, slots: 768 + 256 };
    /// Small enough for CI.
    const QUICK: Shape = Shape { validators: 400, committee: 48, epoch_slots: 32, slots: 768 + 200 };
}

/// The facts of every slot, simulated before anything is timed.
fn simulate(shape: &Shape) -> (MonitorConfig, Vec<SlotFacts>) {
    let config = DevnetConfig {
        validators: shape.validators,
        committee_size: shape.committee,
        epoch_slots: shape.epoch_slots,
        // The Sentinel side is the 4.1.2 package: a 4.x history, in the statuses it knows.
        protocol: Generation::V4,
        ..DevnetConfig::default()
    };
    let last = Slot(shape.slots - 1);
    // Standing past the last slot, so the whole range has happened.
    let clock = ManualSlotClock::at_slot(config.timing(), Slot(last.0 + 2));
    let network = Network::new(config, Arc::new(clock)).expect("a valid devnet config");
    let facts = network.slots(Slot(0), last).iter().map(|record| record.facts()).collect();
    (MonitorConfig::for_timing(&network.timing()), facts)
}

fn ingest(config: MonitorConfig, facts: &[SlotFacts]) -> (ValidatorMonitor, Duration) {
    let mut monitor = ValidatorMonitor::new(config);
    let start = Instant::now();
    for slot in facts {
        black_box(monitor.register_slot(slot));
    }
    (monitor, start.elapsed())
}

/// Every validator's stats, as the Sentinel's `computeStats` gives them all at once; and the median time.
fn all_stats(monitor: &ValidatorMonitor) -> (Vec<ValidatorStats>, Duration) {
    let compute = || monitor.validators().filter_map(|v| monitor.stats(v)).collect::<Vec<_>>();
    let times = (0..STATS_REPS).map(|_| {
        let start = Instant::now();
        black_box(compute());
        start.elapsed()
    });
    (compute(), median(times.collect()))
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// The Sentinel's input: per slot, the statuses its store receives. Taken from a monitor that keeps old
/// entries as the node's store does (its newest `slot_window` per validator, whatever their age), so the
/// Sentinel holds the whole history and does its own windowing; the engine's monitor drops them.
fn sentinel_input(config: &MonitorConfig, facts: &[SlotFacts]) -> Value {
    let mut keeping = ValidatorMonitor::new(MonitorConfig { keep_old_entries: true, ..config.clone() });
    for slot in facts {
        keeping.register_slot(slot);
    }
    let mut by_slot: BTreeMap<u64, serde_json::Map<String, Value>> = BTreeMap::new();
    for validator in keeping.validators() {
        for (slot, status) in keeping.history(validator) {
            let status = serde_json::to_value(status).expect("a status serializes");
            by_slot.entry(slot.0).or_default().insert(key(validator), status);
        }
    }
    let last = keeping.last_processed_slot().expect("slots were registered").0;
    let slots: Vec<Value> =
        by_slot.into_iter().map(|(slot, statuses)| json!({ "slot": slot, "statuses": statuses })).collect();
    json!({
        "historyLength": config.slot_window,
        "epochDuration": config.epoch_duration_slots,
        // Only dates lastProposal/lastAttestation, which are compared by slot.
        "slotDuration": DevnetConfig::default().slot_seconds,
        // The window `stats()` uses: [last processed - window, last processed], both inclusive.
        "fromSlot": last.saturating_sub(config.slot_window),
        "toSlot": last,
        "reps": STATS_REPS,
        "slots": slots,
    })
}

/// An address as the Sentinel keys it (`EthAddress.toString()`: lowercase hex).
fn key(address: &Address) -> String {
    format!("{address:#x}")
}

/// What the harness reports.
struct SentinelRun {
    ingest: Duration,
    stats: Duration,
    by_validator: serde_json::Map<String, Value>,
}

fn run_sentinel(node: &str, modules: &str, dir: &Path, input: &Value) -> SentinelRun {
    let input_path = dir.join("input.json");
    let output_path = dir.join("output.json");
    std::fs::write(&input_path, serde_json::to_vec(input).expect("input serializes"))
        .expect("write the input");
    let harness = concat!(env!("CARGO_MANIFEST_DIR"), "/sentinel/sentinel-stats.mjs");
    let out = Command::new(node)
        .arg(harness)
        .arg(modules)
        .arg(&input_path)
        .arg(&output_path)
        // Its kv-store's temporary LMDB goes here too, removed with the rest.
        .env("TMPDIR", dir)
        .output()
        .unwrap_or_else(|e| fail(2, &format!("cannot run {node}: {e}")));
    if !out.status.success() {
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        fail(2, &format!("the Sentinel harness failed ({}):\n{stdout}{stderr}", out.status));
    }
    let output: Value =
        serde_json::from_slice(&std::fs::read(&output_path).expect("the harness wrote its output"))
            .expect("the harness's output is JSON");
    let ms = |v: &Value| Duration::from_secs_f64(v.as_f64().expect("a time in ms") / 1e3);
    let stats_times = output["statsMs"].as_array().expect("statsMs").iter().map(ms).collect();
    SentinelRun {
        ingest: ms(&output["ingestMs"]),
        stats: median(stats_times),
        by_validator: output["stats"].as_object().expect("stats by validator").clone(),
    }
}

/// Every field of every validator, in address order; one line per difference.
fn differences(ours: &[ValidatorStats], theirs: &serde_json::Map<String, Value>) -> Vec<String> {
    let ours: BTreeMap<String, &ValidatorStats> = ours.iter().map(|s| (key(&s.address), s)).collect();
    let mut found = Vec::new();
    for (address, stats) in &ours {
        match theirs.get(address) {
            Some(their) => compare(address, stats, their, &mut found),
            None => found.push(format!("{address}: sparta has stats, the Sentinel none")),
        }
    }
    for address in theirs.keys().filter(|a| !ours.contains_key(*a)) {
        found.push(format!("{address}: the Sentinel has stats, sparta none"));
    }
    found
}

fn compare(address: &str, ours: &ValidatorStats, their: &Value, found: &mut Vec<String>) {
    let slot = |s: Option<Slot>| s.map_or("none".to_owned(), |s| s.0.to_string());
    let their_slot = |v: &Value| v.as_u64().map_or("none".to_owned(), |s| s.to_string());
    // (field, sparta, Sentinel, equal), in the order they are listed.
    let exact = |field: String, ours: String, theirs: String| {
        let equal = ours == theirs;
        (field, ours, theirs, equal)
    };
    let mut fields = vec![
        exact("totalSlots".into(), ours.total_slots.to_string(), their["totalSlots"].to_string()),
        exact("lastProposal".into(), slot(ours.last_proposal), their_slot(&their["lastProposal"])),
        exact("lastAttestation".into(), slot(ours.last_attestation), their_slot(&their["lastAttestation"])),
    ];
    for (duty, ours) in
        [("missedProposals", &ours.missed_proposals), ("missedAttestations", &ours.missed_attestations)]
    {
        let theirs: MissedStats = match serde_json::from_value(their[duty].clone()) {
            Ok(theirs) => theirs,
            Err(e) => {
                fields.push((
                    duty.into(),
                    "stats".into(),
                    format!("unreadable {} ({e})", their[duty]),
                    false,
                ));
                continue;
            }
        };
        let rates_agree = match (ours.rate, theirs.rate) {
            (Some(a), Some(b)) => (a - b).abs() <= RATE_TOLERANCE,
            (a, b) => a == b,
        };
        fields.extend([
            exact(format!("{duty}.count"), ours.count.to_string(), theirs.count.to_string()),
            exact(format!("{duty}.total"), ours.total.to_string(), theirs.total.to_string()),
            exact(
                format!("{duty}.currentStreak"),
                ours.current_streak.to_string(),
                theirs.current_streak.to_string(),
            ),
            (format!("{duty}.rate"), format!("{:?}", ours.rate), format!("{:?}", theirs.rate), rates_agree),
        ]);
    }
    for (field, ours, theirs, _) in fields.into_iter().filter(|(.., equal)| !equal) {
        found.push(format!("{address} {field}: sparta {ours}, Sentinel {theirs}"));
    }
}

fn fail(code: i32, message: &str) -> ! {
    eprintln!("sentinel side-by-side: {message}");
    std::process::exit(code);
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    // `cargo bench` passes `--bench`; anything else but these is ignored.
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--list") {
        return;
    }
    let shape = if args.iter().any(|a| a == "--quick") { Shape::QUICK } else { Shape::FULL };
    let (Ok(node), Ok(modules)) =
        (std::env::var("SPARTA_SENTINEL_NODE"), std::env::var("SPARTA_SENTINEL_MODULES"))
    else {
        fail(
            2,
            "SPARTA_SENTINEL_NODE and SPARTA_SENTINEL_MODULES are not set; scripts/bench-sentinel sets them",
        );
    };

    let (config, facts) = simulate(&shape);
    let (monitor, our_ingest) = ingest(config.clone(), &facts);
    let (ours, our_stats) = all_stats(&monitor);

    let dir = tempfile::tempdir().expect("a temporary directory");
    let input = sentinel_input(&config, &facts);
    let theirs = run_sentinel(&node, &modules, dir.path(), &input);

    let found = differences(&ours, &theirs.by_validator);
    if !found.is_empty() {
        eprintln!("sentinel side-by-side: {} differences; the first:", found.len());
        for line in found.iter().take(SHOWN_DIFFERENCES) {
            eprintln!("  {line}");
        }
        std::process::exit(1);
    }
    let ratio = |theirs: Duration, ours: Duration| theirs.as_secs_f64() / ours.as_secs_f64().max(1e-9);
    println!(
        "sentinel side-by-side: {} validators, window {} slots, {} slots: answers equal for {} validators ({} with entries only before the window); \
         stats: sparta {} vs Sentinel {} ({:.1}×, median of {STATS_REPS}); ingest: sparta {} vs Sentinel {} ({:.1}×)",
        shape.validators,
        config.slot_window,
        shape.slots,
        ours.len(),
        ours.iter().filter(|s| s.total_slots == 0).count(),
        ms(our_stats),
        ms(theirs.stats),
        ratio(theirs.stats, our_stats),
        ms(our_ingest),
        ms(theirs.ingest),
        ratio(theirs.ingest, our_ingest),
    );
}
