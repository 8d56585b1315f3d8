//! Per-slot decision work at 10,000 validators: ranking the worst attesters, tallying 1,000
//! operators, judging roles, the role diff for 1,000 members, judging alerts, and turning a 1,000-operator exposition into CloudWatch data.

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sparta_benches::address;
use sparta_core::alerting::Observation;
use sparta_core::policy::{AlertPolicy, RolePolicy};
use sparta_core::roles::{LinkedValidator, plan_roles};
use sparta_core::scoreboard::{operator_tallies, worst_attesters};
use sparta_core::{Address, Excused, MissedStats, Slot, ValidatorStats};
use sparta_telemetry::catalog;
use sparta_telemetry::cloudwatch::{CounterMemory, GaugeSamples, datums};

const VALIDATORS: usize = 10_000;
const PER_OPERATOR: usize = 10;

/// Stats with a spread of miss counts over a 768-slot window's worth of attestations.
fn stats() -> Vec<ValidatorStats> {
    (0..VALIDATORS)
        .map(|i| ValidatorStats {
            address: address(i),
            total_slots: 16,
            missed_attestations: MissedStats::new((i % 17) as u32, 16 + (i % 5) as u32, (i % 3) as u32),
            missed_proposals: MissedStats::new((i % 2) as u32, 1, 0),
            ..ValidatorStats::default()
        })
        .collect()
}

fn scoreboard(c: &mut Criterion) {
    let all = stats();
    let by_address: BTreeMap<Address, ValidatorStats> = all.iter().map(|s| (s.address, s.clone())).collect();
    let links: BTreeMap<String, Vec<Address>> = all
        .chunks(PER_OPERATOR)
        .enumerate()
        .map(|(i, chunk)| {
            (
                format!("{:018}", 100_000_000_000_000_000u64 + i as u64),
                chunk.iter().map(|s| s.address).collect(),
            )
        })
        .collect();
    let mut group = c.benchmark_group("scoreboard");
    group.throughput(Throughput::Elements(VALIDATORS as u64));
    group.bench_function("worst_10_of_10000", |b| {
        b.iter(|| black_box(worst_attesters(black_box(&all), 10, 8)))
    });
    group.bench_function("tallies_1000_operators", |b| {
        b.iter(|| black_box(operator_tallies(&links, |v| by_address.get(v), |_| false)))
    });
    group.finish();
}

fn policies(c: &mut Criterion) {
    let all = stats();
    let (roles, alerts) = (RolePolicy::default(), AlertPolicy::default());
    let mut group = c.benchmark_group("policies");
    group.throughput(Throughput::Elements(VALIDATORS as u64));
    group.bench_function("role_qualifies_10000", |b| {
        b.iter(|| all.iter().filter(|s| roles.qualifies(black_box(s), s.address.0[19] % 2 == 0)).count())
    });
    // The reconcile diff: every member's desired roles from their 10 validators (one in 37 slashed),
    // against what half of them hold.
    let linked: Vec<Vec<LinkedValidator<'_>>> = all
        .chunks(PER_OPERATOR)
        .map(|chunk| {
            chunk
                .iter()
                .map(|s| LinkedValidator {
                    address: s.address,
                    stats: Some(s),
                    slashed: s.address.0[19] % 37 == 0,
                    exiting: false,
                    epochs_active: 8,
                })
                .collect()
        })
        .collect();
    group.bench_function("role_diff_1000_members", |b| {
        b.iter(|| {
            linked
                .iter()
                .enumerate()
                .map(|(i, validators)| {
                    let holds = |role: &str| i % 2 == 0 && role == roles.role;
                    plan_roles(&roles, "slashed", "member", black_box(validators), holds, Slot(768)).len()
                })
                .sum::<usize>()
        })
    });
    group.bench_function("alert_evaluate_10000", |b| {
        b.iter(|| {
            all.iter()
                .map(|s| alerts.evaluate(black_box(s), Excused::default(), Slot(768)))
                .filter(|v| v != &Observation::Healthy)
                .count()
        })
    });
    group.finish();
}

fn cloudwatch(c: &mut Criterion) {
    let mut text = String::new();
    for (name, value) in
        [(catalog::ENGINE_LEADER, 1.0), (catalog::ENGINE_LAG_SLOTS, 2.0), (catalog::NETWORK_SLOT, 900.0)]
    {
        text.push_str(&format!("{name} {value}\n"));
    }
    for i in 0..1_000 {
        text.push_str(&format!(
            "{}{{operator=\"{i}\"}} {}\n",
            catalog::OPERATOR_ATTESTATION_MISS_RATIO,
            (i % 100) as f64 / 100.0
        ));
    }
    let mut samples = GaugeSamples::default();
    for _ in 0..5 {
        samples.record(&text);
    }
    let mut group = c.benchmark_group("cloudwatch");
    group.throughput(Throughput::Elements(1_003));
    group.bench_function("round_1000_operators_6_samples", |b| {
        b.iter(|| black_box(datums(black_box(&text), &CounterMemory::default(), 1_100, &samples)))
    });
    group.finish();
}

criterion_group!(benches, scoreboard, policies, cloudwatch);
criterion_main!(benches);
