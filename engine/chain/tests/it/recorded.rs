//! Real bytes from a real Aztec 4.1.2 network (recorded by `scripts/localnet/record` into
//! `testdata/localnet-4.1.2`): every node answer the engine reads goes through the client, the
//! Rollup's logs through the log decoder, and the sequencer's `propose` transactions through the
//! calldata decoder, which must agree with what the node says about the same checkpoints.

use std::collections::BTreeMap;
use std::path::PathBuf;

use alloy::rpc::types::Log;
use serde_json::Value;
use sparta_chain::l1::events::{decode_log, known_topics};
use sparta_chain::l1::{L1EventKind, propose_calls_in};
use sparta_chain::node::{NodeClient, NodeError, PublishedCheckpoint};
use sparta_core::{Address, Slot};

use crate::rpc_double::{Reply, RpcDouble};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/localnet-4.1.2")
}

fn text(name: &str) -> String {
    let path = dir().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn json(name: &str) -> Value {
    serde_json::from_str(&text(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The recorded network: its rollup, validators (in key order) and the offline one.
struct Recorded {
    rollup: Address,
    validators: Vec<Address>,
    offline: Address,
}

fn recorded() -> Recorded {
    let view = json("l1_view.json");
    let addresses = |key: &str| -> Vec<Address> {
        view[key].as_array().unwrap().iter().map(|a| a.as_str().unwrap().parse().unwrap()).collect()
    };
    Recorded {
        rollup: view["rollup"].as_str().unwrap().parse().unwrap(),
        validators: addresses("validators"),
        offline: addresses("offline")[0],
    }
}

/// Serves the recorded node answers: by method, and for `node_getValidatorStats` by its params.
async fn recorded_node() -> RpcDouble {
    let validators = recorded().validators;
    RpcDouble::start(move |method, params| {
        let file = match method {
            "node_getValidatorStats" => {
                let who: Address = params[0].as_str().unwrap().parse().unwrap();
                match (params.get(1), params.get(2)) {
                    (None, None) => {
                        let i = validators.iter().position(|v| *v == who).expect("a recorded validator");
                        format!("node_getValidatorStats.{}.json", i + 1)
                    }
                    (Some(from), _) if from == 0 => "node_getValidatorStats.too_wide.json".into(),
                    _ => "node_getValidatorStats.range.json".into(),
                }
            }
            "node_noSuchMethod" => "node_unknown_method.json".into(),
            other => format!("{other}.json"),
        };
        // A method the node was not recorded answering (`aztec_*`, `getChainTips`) gets the real node's
        // recorded answer to an unknown method, naming it: what 4.1.2 says to a 5.x-first client.
        if !dir().join(&file).exists() {
            let body = text("node_unknown_method.json").replace("node_noSuchMethod", method);
            return Reply::Raw { status: 200, body };
        }
        Reply::Raw { status: 200, body: text(&file) }
    })
    .await
}

fn recorded_checkpoints() -> Vec<PublishedCheckpoint> {
    serde_json::from_value(json("node_getCheckpoints.json")["result"].clone()).expect("checkpoints decode")
}

#[tokio::test]
async fn every_recorded_node_answer_decodes_through_the_client() {
    let net = recorded();
    let double = recorded_node().await;
    let node = NodeClient::new(&double.url).unwrap();

    let info = node.node_info().await.unwrap();
    assert_eq!(info.node_version, "4.1.2");
    assert_eq!(info.l1_contract_addresses.rollup_address, net.rollup);
    let tips = node.chain_tips().await.unwrap();
    let checkpointed = tips.checkpointed_checkpoint().expect("a v4 node reports checkpoints");
    assert!(checkpointed > 0);
    assert!(node.block_number().await.unwrap() >= tips.proven.block.number);

    let checkpoints = node.checkpoints(1, 50).await.unwrap();
    assert_eq!(checkpoints.len() as u64, checkpointed.min(50));
    for (i, published) in checkpoints.iter().enumerate() {
        assert_eq!(published.checkpoint.number, i as u64 + 1, "checkpoints in order");
        assert_eq!(published.attestations.len(), 4, "one entry per committee member");
        let signed = published.attestations.iter().filter(|a| a.signed()).count();
        assert!(signed >= 3, "checkpoint {i}: {signed} signatures, below the quorum of 3");
        let blank = published.attestations.iter().find(|a| !a.signed()).expect("the offline member");
        assert_eq!(blank.address, net.offline, "the member that did not sign is named");
    }
    let slots: Vec<Slot> = checkpoints.iter().map(|c| c.checkpoint.header.slot_number).collect();
    assert!(slots.windows(2).all(|w| w[0] < w[1]), "one checkpoint per slot at most: {slots:?}");

    let stats = node.validators_stats().await.unwrap();
    assert!(stats.sentinel_enabled());
    assert_eq!(stats.stats.len(), net.validators.len());
    for (address, record) in &stats.stats {
        let attestations = record.missed_attestations;
        assert!(attestations.total > 0, "{address:#x} had duties");
        if *address == net.offline {
            assert_eq!((attestations.count, attestations.rate), (attestations.total, Some(1.0)));
            assert!(record.last_attestation.is_none());
        } else {
            assert_eq!(attestations.count, 0, "{address:#x} is held by the node and attests");
            assert!(record.last_attestation.is_some());
        }
    }
    for &validator in &net.validators {
        let single = node.validator_stats(validator, None, None).await.unwrap().expect("history");
        assert_eq!(single.validator.address, validator);
        assert!(!single.epoch_performance.is_empty(), "the proven epochs' performance");
    }
    let last = stats.last_processed_slot.unwrap();
    let ranged = node.validator_stats(net.validators[0], Some(Slot(last.0 - 4)), Some(last)).await.unwrap();
    assert!(ranged.unwrap().validator.history.iter().all(|h| h.slot.0 >= last.0 - 4 && h.slot <= last));

    // The node's own refusals come back as its words, not as a decoding failure.
    match node.validator_stats(net.validators[0], Some(Slot(0)), Some(Slot(last.0 + 1_000))).await {
        Err(NodeError::Rpc { message, .. }) => {
            assert!(message.contains("exceeds history length"), "{message}")
        }
        other => panic!("a too-wide range is the node's error, got {other:?}"),
    }
    let unknown: Result<Option<Value>, _> = node.call("node_noSuchMethod", serde_json::json!([])).await;
    assert!(matches!(unknown, Err(ref e) if e.is_unknown_method()), "{unknown:?}");
}

#[test]
fn the_recorded_rollup_logs_decode_and_nothing_known_is_dropped() {
    let answer = json("eth_getLogs.rollup.json");
    let logs: Vec<Log> = serde_json::from_value(answer["result"].clone()).expect("logs decode");
    assert!(!logs.is_empty());
    let known = known_topics();
    let mut kinds = BTreeMap::<&str, usize>::new();
    for log in &logs {
        let topic = *log.topic0().unwrap();
        match decode_log(log).expect("recorded logs decode") {
            Some(event) => {
                let kind = match event.kind {
                    L1EventKind::CheckpointProposed { .. } => "CheckpointProposed",
                    L1EventKind::L2ProofVerified { .. } => "L2ProofVerified",
                    L1EventKind::Slashed { .. } => "Slashed",
                    L1EventKind::PrunedPending { .. } => "PrunedPending",
                    L1EventKind::WithdrawInitiated { .. } => "WithdrawInitiated",
                    L1EventKind::VoteCast { .. } => "VoteCast",
                    L1EventKind::RoundExecuted { .. } => "RoundExecuted",
                    L1EventKind::L2BlockProposed { .. } => "L2BlockProposed",
                };
                *kinds.entry(kind).or_default() += 1;
            }
            None => assert!(!known.contains(&topic), "a log sparta reads was dropped: {log:?}"),
        }
    }
    let checkpoints = recorded_checkpoints();
    assert!(kinds["CheckpointProposed"] >= checkpoints.len(), "{kinds:?}");
    assert!(kinds.contains_key("L2ProofVerified"), "fake proofs land too: {kinds:?}");
    assert!(kinds.contains_key("Slashed"), "the live test's slash is in the recording: {kinds:?}");
}

#[test]
fn the_recorded_propose_calldata_agrees_with_the_nodes_checkpoints() {
    let net = recorded();
    let by_number: BTreeMap<u64, PublishedCheckpoint> =
        recorded_checkpoints().into_iter().map(|c| (c.checkpoint.number, c)).collect();
    let view = json("l1_view.json");
    let transactions = json("propose_transactions.json");
    let transactions = transactions.as_array().unwrap();
    assert!(!transactions.is_empty());
    for tx in transactions {
        let number = tx["checkpoint"].as_u64().unwrap();
        let input = alloy_primitives::hex::decode(tx["input"].as_str().unwrap()).unwrap();
        let calls = propose_calls_in(&input, net.rollup).unwrap();
        assert_eq!(calls.len(), 1, "checkpoint {number}: one propose per transaction");
        let call = &calls[0];
        let Some(published) = by_number.get(&number) else { continue };
        assert_eq!(call.slot, published.checkpoint.header.slot_number, "checkpoint {number}");
        let signed: Vec<bool> = published.attestations.iter().map(|a| a.signed()).collect();
        assert_eq!(
            call.signature_bitmap, signed,
            "checkpoint {number}: L1 bitmap vs the node's attestations"
        );
        assert_eq!(call.non_signers, vec![(signed.iter().position(|s| !s).unwrap(), net.offline)]);
        // The committee of the slot's epoch, read from the contract, in the same order.
        let epoch = call.slot.0 / view["epoch_slots"].as_u64().unwrap();
        let committee = &view["committees"][epoch.to_string()];
        let committee = alloy_primitives::hex::decode(committee.as_str().expect("a committee")).unwrap();
        let members: Vec<Address> =
            committee[64..].chunks(32).map(|w| Address::from_slice(&w[12..])).collect();
        let expected_signers: Vec<Address> =
            members.iter().zip(&signed).filter(|(_, s)| **s).map(|(m, _)| *m).collect();
        assert_eq!(call.signers, expected_signers, "checkpoint {number}: signers in committee order");
    }
}

#[test]
fn a_transaction_that_is_neither_propose_nor_a_bundle_is_refused() {
    let net = recorded();
    let err = propose_calls_in(&[0xde, 0xad, 0xbe, 0xef], net.rollup).unwrap_err();
    assert!(err.to_string().contains("neither propose nor aggregate3"), "{err}");
    assert!(propose_calls_in(&[], net.rollup).is_err());
}

/// v2 (block-based) rollups emit `L2BlockProposed` and count blocks where v4 counts checkpoints; the
/// fixture follows the 2.x event shapes (no v2 network runs here).
#[test]
fn v2_rollup_logs_decode_through_the_same_decoder() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/l1/logs.v2.json");
    let answer: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let logs: Vec<Log> = serde_json::from_value(answer["result"].clone()).unwrap();
    let events: Vec<_> = logs.iter().map(|l| decode_log(l).unwrap().expect("a known log")).collect();
    assert!(matches!(
        &events[0].kind,
        L1EventKind::L2BlockProposed { block, .. } if *block == alloy_primitives::U256::from(5121)
    ));
    assert_eq!(events[0].l1_timestamp, Some(1_767_225_684), "the log's block timestamp is kept");
    assert!(
        matches!(&events[1].kind, L1EventKind::L2ProofVerified { checkpoint, .. } if *checkpoint == alloy_primitives::U256::from(5000))
    );
    assert!(matches!(
        &events[2].kind,
        L1EventKind::Slashed { attester, .. } if *attester == Address::repeat_byte(0x3c)
    ));
}
