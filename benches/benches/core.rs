//! sparta-core hot paths: slot ingest into the validator monitor, and one validator's stats.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use sparta_benches::{SyntheticNetwork, address};
use sparta_core::{MonitorConfig, Slot, ValidatorMonitor, ValidatorStatusInSlot};

const VALIDATORS: usize = 10_000;
const COMMITTEE: usize = 48;
const EPOCH_SLOTS: u64 = 32;
const BATCH_SLOTS: u64 = 256;

/// Ingest into a monitor whose window is already full, so trimming and window moves are measured.
fn ingest(c: &mut Criterion) {
    let config = MonitorConfig::default();
    let mut network = SyntheticNetwork::new(VALIDATORS, COMMITTEE, EPOCH_SLOTS, 42);
    let mut warm = ValidatorMonitor::new(config.clone());
    for facts in network.slots(0, config.slot_window) {
        warm.register_slot(&facts);
    }
    let batch = network.slots(config.slot_window, BATCH_SLOTS);

    let mut group = c.benchmark_group("monitor_ingest");
    group.throughput(Throughput::Elements(BATCH_SLOTS * COMMITTEE as u64));
    group.bench_function("committee_48_of_10000", |b| {
        b.iter_batched(
            || warm.clone(),
            |mut monitor| {
                for facts in &batch {
                    black_box(monitor.register_slot(facts));
                }
                monitor
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

/// Stats of one validator with a full window of entries (the worst case).
fn stats(c: &mut Criterion) {
    let config = MonitorConfig::default();
    let mut monitor = ValidatorMonitor::new(config.clone());
    let who = address(0);
    for slot in 0..config.slot_window {
        let status = if slot % 10 == 0 {
            ValidatorStatusInSlot::AttestationMissed
        } else {
            ValidatorStatusInSlot::AttestationSent
        };
        monitor.register_status(who, Slot(slot), status);
    }
    monitor.mark_processed(Slot(config.slot_window));
    c.bench_function("monitor_stats_full_window", |b| b.iter(|| black_box(monitor.stats(black_box(&who)))));
}

criterion_group!(benches, ingest, stats);
criterion_main!(benches);
