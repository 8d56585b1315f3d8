//! Decoding what the chain sends: the node's Sentinel snapshot at 10,000 validators, checkpoints,
//! the sequencer's `propose` calldata (inside Multicall3) and the Rollup's logs. Inputs are the real
//! bytes recorded from an Aztec 4.1.2 network (`engine/chain/testdata`), the snapshot scaled up from
//! its recorded shape.

use std::hint::black_box;
use std::path::PathBuf;

use alloy::rpc::types::Log;
use alloy_primitives::Address;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::Value;
use sparta_chain::l1::{events, propose_calls_in};
use sparta_chain::node::{PublishedCheckpoint, ValidatorsStats, decode_answer};

const VALIDATORS: usize = 10_000;

fn recorded(name: &str) -> Vec<u8> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../engine/chain/testdata/localnet-4.1.2").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The id a recorded answer carries (the decoder checks it against the request's).
fn answer_id(body: &[u8]) -> u64 {
    serde_json::from_slice::<Value>(body).unwrap()["id"].as_u64().unwrap()
}

/// The recorded `node_getValidatorsStats` answer with its first validator's record repeated under
/// `VALIDATORS` addresses.
fn sentinel_snapshot() -> Vec<u8> {
    let mut answer: Value = serde_json::from_slice(&recorded("node_getValidatorsStats.json")).unwrap();
    let stats = answer["result"]["stats"].as_object_mut().unwrap();
    let template = stats.values().next().unwrap().clone();
    stats.clear();
    for i in 0..VALIDATORS {
        let address = format!("{:#x}", Address::left_padding_from(&(i as u64 + 1).to_be_bytes()));
        let mut record = template.clone();
        record["address"] = Value::String(address.clone());
        stats.insert(address, record);
    }
    serde_json::to_vec(&answer).unwrap()
}

fn node(c: &mut Criterion) {
    let mut group = c.benchmark_group("node_decode");
    let snapshot = sentinel_snapshot();
    let snapshot_id = answer_id(&snapshot);
    group.throughput(Throughput::Elements(VALIDATORS as u64));
    group.bench_function("validators_stats_10000", |b| {
        b.iter(|| {
            let decoded = decode_answer::<ValidatorsStats>(
                "node_getValidatorsStats",
                snapshot_id,
                200,
                black_box(&snapshot),
            );
            black_box(decoded.unwrap().unwrap().stats.len())
        })
    });
    let checkpoints = recorded("node_getCheckpoints.json");
    let checkpoints_id = answer_id(&checkpoints);
    group.throughput(Throughput::Bytes(checkpoints.len() as u64));
    group.bench_function("checkpoints_recorded", |b| {
        b.iter(|| {
            decode_answer::<Vec<PublishedCheckpoint>>(
                "node_getCheckpoints",
                checkpoints_id,
                200,
                black_box(&checkpoints),
            )
        })
    });
    group.finish();
}

fn l1(c: &mut Criterion) {
    let view: Value = serde_json::from_slice(&recorded("l1_view.json")).unwrap();
    let rollup: Address = view["rollup"].as_str().unwrap().parse().unwrap();
    let transactions: Value = serde_json::from_slice(&recorded("propose_transactions.json")).unwrap();
    let inputs: Vec<Vec<u8>> = transactions
        .as_array()
        .unwrap()
        .iter()
        .map(|t| alloy_primitives::hex::decode(t["input"].as_str().unwrap()).unwrap())
        .collect();
    let logs: Value = serde_json::from_slice(&recorded("eth_getLogs.rollup.json")).unwrap();
    let logs: Vec<Log> = serde_json::from_value(logs["result"].clone()).unwrap();

    let mut group = c.benchmark_group("l1_decode");
    group.throughput(Throughput::Elements(inputs.len() as u64));
    group.bench_function("propose_in_multicall3_recorded", |b| {
        b.iter(|| {
            for input in &inputs {
                black_box(propose_calls_in(black_box(input), rollup).unwrap());
            }
        })
    });
    group.throughput(Throughput::Elements(logs.len() as u64));
    group.bench_function("rollup_logs_recorded", |b| {
        b.iter(|| {
            for log in &logs {
                let _ = black_box(events::decode_log(black_box(log)));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, node, l1);
criterion_main!(benches);
