//! 5.x and 6.x nodes, from fixtures built from their source types (`testdata/README.md`): the client
//! finds the `aztec_` namespace and `getChainTips`, asks `getCheckpoints` for attestations and L1 data,
//! reads the new statuses, and treats `-32603` as the node's own failure.

use serde_json::{Value, json};
use sparta_chain::node::error::codes;
use sparta_chain::node::{Namespace, NodeClient, NodeError, TipsMethod};
use sparta_core::{Address, Generation, Slot, ValidatorStatusInSlot as S};

use crate::rpc_double::{Reply, RpcDouble, fixture_path};

fn built(generation: &str, name: &str) -> String {
    let path = fixture_path(&format!("node-{generation}")).join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// A node that answers only in `aztec_` (as a 5.x node's own client asks), and `-32601` to the rest.
async fn newer_node(generation: &'static str) -> RpcDouble {
    RpcDouble::start(move |method, _| {
        let file = match method {
            "aztec_getNodeInfo" => "node_info.json",
            "aztec_getChainTips" => "chain_tips.json",
            "aztec_getCheckpoints" => "checkpoints.json",
            "aztec_getValidatorsStats" => "validators_stats.json",
            "aztec_getValidatorStats" => "validator_stats.json",
            "aztec_getBlockNumber" => return Reply::Result(json!(1290)),
            _ => {
                return Reply::Error {
                    code: codes::METHOD_NOT_FOUND,
                    message: format!("Method not found: {method}"),
                };
            }
        };
        Reply::Raw { status: 200, body: built(generation, file) }
    })
    .await
}

#[tokio::test]
async fn a_5x_and_a_6x_node_are_read_in_their_own_words() {
    for (generation, expected) in [("v5", Generation::V5), ("v6", Generation::V6)] {
        let double = newer_node(generation).await;
        let node = NodeClient::new(&double.url).unwrap();

        let info = node.node_info().await.unwrap();
        assert_eq!(Generation::from_node_version(&info.node_version), Some(expected));
        let tips = node.chain_tips().await.unwrap();
        assert_eq!(tips.checkpointed_checkpoint(), Some(642));
        assert_eq!(node.block_number().await.unwrap(), 1290);
        let dialect = node.dialect();
        assert_eq!((dialect.namespace, dialect.tips), (Some(Namespace::Aztec), Some(TipsMethod::ChainTips)));

        let page = node.checkpoints(641, 3).await.unwrap();
        assert_eq!(page.len(), 2, "{generation}: the page ends before the checkpoint not yet on L1");
        assert_eq!(page[1].checkpoint.header.slot_number, Slot(1903));
        let signed: Vec<bool> = page[0].attestations.iter().map(|a| a.signed()).collect();
        assert_eq!(
            signed,
            [true, true, false, true],
            "{generation}: signers by signature, the silent one by address"
        );
        assert_eq!(page[0].attestations[2].address, Address::repeat_byte(0xa2));
        let options = json!({ "includeAttestations": true, "includeL1PublishInfo": true });
        assert_eq!(double.calls_of("aztec_getCheckpoints"), vec![vec![json!(641), json!(3), options]]);

        let stats = node.validators_stats().await.unwrap();
        let bad = &stats.stats[&Address::repeat_byte(0xa2)];
        assert_eq!(bad.status_at(Slot(1901)), Some(S::CheckpointInvalid));
        assert_eq!(bad.status_at(Slot(1902)), Some(S::CheckpointUnvalidated));
        assert_eq!((bad.missed_proposals.count, bad.missed_proposals.total), (2, 2));
        let good = &stats.stats[&Address::repeat_byte(0xa0)];
        assert_eq!(good.status_at(Slot(1903)), Some(S::CheckpointValid));
        assert_eq!(good.last_proposal.as_ref().map(|p| p.slot), Some(Slot(1903)));

        let one = node.validator_stats(Address::repeat_byte(0xa2), None, None).await.unwrap().unwrap();
        assert_eq!(one.epoch_performance.len(), 1, "{generation}: allTimeEpochPerformance");
        assert!(
            double.calls_of("node_getNodeInfo").is_empty(),
            "a node that speaks aztec_ is not asked in node_"
        );
    }
}

#[tokio::test]
async fn a_4x_node_is_asked_in_node_once_the_newer_spelling_is_refused() {
    let double = RpcDouble::start(|method, _| match method {
        "node_getNodeInfo" => Reply::fixture("node_info.v4.json"),
        "node_getL2Tips" => Reply::fixture("l2_tips.v4.json"),
        "node_getCheckpoints" => Reply::fixture("checkpoints.v4.json"),
        _ => Reply::Error { code: codes::METHOD_NOT_FOUND, message: format!("Method not found: {method}") },
    })
    .await;
    let node = NodeClient::new(&double.url).unwrap();
    node.node_info().await.unwrap();
    node.chain_tips().await.unwrap();
    node.chain_tips().await.unwrap();
    node.checkpoints(41, 2).await.unwrap();
    assert_eq!(double.calls_of("aztec_getNodeInfo").len(), 1, "probed once");
    assert_eq!(double.calls_of("node_getChainTips").len(), 1, "probed once");
    assert_eq!(double.calls_of("node_getL2Tips").len(), 2);
    assert_eq!(double.calls_of("node_getCheckpoints"), vec![vec![json!(41), json!(2)]], "no options for 4.x");
}

#[tokio::test]
async fn an_internal_error_is_the_nodes_failure_with_its_message_shortened_and_escaped() {
    let double = RpcDouble::start(|method, _| match method {
        "aztec_getNodeInfo" => Reply::Raw { status: 400, body: built("v5", "error.internal.json") },
        "aztec_getChainTips" => Reply::Error { code: codes::INTERNAL, message: "x".repeat(5_000) },
        _ => Reply::Raw { status: 400, body: built("v5", "error.unknown_method.json") },
    })
    .await;
    let node = NodeClient::new(&double.url).unwrap();
    match node.node_info().await.unwrap_err() {
        NodeError::NodeFailure { code, message, .. } => {
            assert_eq!(code, -32603);
            assert!(
                !message.contains('\n') && message.contains("\\n"),
                "a newline cannot forge a log line: {message}"
            );
        }
        other => panic!("expected a node-side failure, got {other}"),
    }
    let long = node.chain_tips().await.unwrap_err().to_string();
    assert!(long.len() < 400 && long.ends_with('…'), "{}", long.len());
}

#[test]
fn every_built_fixture_says_it_was_built_from_sources() {
    for generation in ["v5", "v6"] {
        let dir = fixture_path(&format!("node-{generation}"));
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let label = serde_json::from_str::<Value>(&text).unwrap()["_fixture"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            assert!(
                label.contains("built from source types") && label.contains("ccc0823b08"),
                "{}",
                path.display()
            );
        }
    }
}
