//! The Aztec node JSON-RPC over HTTP: documented shapes, v2 differences, envelope errors.

use serde_json::{Value, json};
use sparta_core::Slot;
use sparta_devnet::Generation;

use crate::harness::{Harness, hex_addr};

#[tokio::test]
async fn node_info_names_the_l1_contracts_and_version() {
    let h = Harness::start(Generation::V4, 3).await;
    let info = h.node("node_getNodeInfo", json!([])).await;
    assert_eq!(info["nodeVersion"], "4.1.2-sparta-devnet");
    assert_eq!(info["l1ChainId"], 31337);
    let addresses = &info["l1ContractAddresses"];
    assert_eq!(addresses["registryAddress"], hex_addr(&h.devnet.registry_address));
    assert_eq!(addresses["rollupAddress"], hex_addr(&h.devnet.network.addresses().rollup_address));
    assert_eq!(addresses["gseAddress"], hex_addr(&h.devnet.network.addresses().gse_address));
    h.stop().await;
}

#[tokio::test]
async fn l2_tips_have_the_v4_shape_and_the_v2_shape_under_the_flag() {
    let h = Harness::start(Generation::V4, 60).await;
    let tips = h.node("node_getL2Tips", json!([])).await;
    let pending = h.devnet.network.pending_checkpoint_at(Slot(60));
    assert_eq!(tips["proposed"]["number"], pending);
    assert_eq!(tips["checkpointed"]["checkpoint"]["number"], pending);
    assert_eq!(tips["proven"]["checkpoint"]["number"], h.devnet.network.proven_checkpoint_at(Slot(60)));
    assert!(tips["finalized"]["block"]["hash"].as_str().unwrap().len() == 66);
    assert_eq!(h.node("node_getBlockNumber", json!([])).await, pending);
    h.stop().await;

    let h = Harness::start(Generation::V2, 60).await;
    let tips = h.node("node_getL2Tips", json!([])).await;
    assert_eq!(tips["latest"]["number"], pending);
    assert!(tips.get("proposed").is_none() && tips["proven"]["number"].is_u64());
    h.stop().await;
}

#[tokio::test]
async fn checkpoints_carry_slot_l1_and_attestations_in_committee_order() {
    let h = Harness::start(Generation::V4, 40).await;
    let network = &h.devnet.network;
    let list = h.node("node_getCheckpoints", json!([1, 50])).await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len() as u64, network.pending_checkpoint_at(Slot(40)));
    for (i, published) in list.iter().enumerate() {
        let number = i as u64 + 1;
        let record = network.checkpoint(number).unwrap();
        let checkpoint = &published["checkpoint"];
        assert_eq!(checkpoint["number"], number);
        assert_eq!(checkpoint["header"]["slotNumber"], format!("0x{:064x}", record.slot.0));
        assert!(checkpoint["header"]["timestamp"].is_string());
        assert_eq!(checkpoint["blocks"], json!([]));
        assert_eq!(published["l1"]["blockNumber"], (100 + record.slot.0).to_string());
        let attestations = published["attestations"].as_array().unwrap();
        assert_eq!(attestations.len(), record.committee.len());
        for (seat, attestation) in attestations.iter().enumerate() {
            assert_eq!(attestation["address"], hex_addr(&record.committee[seat]));
            let signature = attestation["signature"].as_str().unwrap();
            assert_eq!(signature.len(), 2 + 130);
            let empty = signature[2..].bytes().all(|b| b == b'0');
            assert_eq!(!empty, record.attested.get(seat), "checkpoint {number} seat {seat}");
        }
    }
    let page = h.node("node_getCheckpoints", json!([3, 2])).await;
    assert_eq!(page.as_array().unwrap().len(), 2);
    assert_eq!(page[0]["checkpoint"]["number"], 3);
    for bad in [json!([0, 10]), json!([1, 51]), json!([1, 0]), json!(["x", 1])] {
        let response = h.node_call("node_getCheckpoints", bad.clone()).await;
        assert!(response["error"]["code"].as_i64().unwrap() < 0, "{bad} → {response}");
    }
    h.stop().await;
}

fn history_statuses(stats: &Value) -> Vec<String> {
    stats["history"].as_array().unwrap().iter().map(|e| e["status"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn sentinel_stats_show_the_reliable_and_the_offline_validator() {
    let h = Harness::start(Generation::V4, 32).await;
    let scripted = h.devnet.network.scripted();
    let all = h.node("node_getValidatorsStats", json!([])).await;
    assert_eq!(all["slotWindow"], 768);
    assert_eq!(all["lastProcessedSlot"], 30);
    let stats = all["stats"].as_object().unwrap();
    assert_eq!(stats.len(), 48, "exactly the epoch-0 committee has history");

    let reliable = &stats[&hex_addr(&scripted[0].0)];
    assert_eq!(reliable["address"], hex_addr(&scripted[0].0));
    let sent = history_statuses(reliable).iter().filter(|s| *s == "attestation-sent").count();
    assert!(sent >= 16, "sent {sent}");
    assert_eq!(reliable["missedAttestations"]["count"], 0);
    assert!(reliable["lastAttestation"]["date"].as_str().unwrap().ends_with('Z'));
    assert!(reliable["lastAttestation"]["slot"].is_u64());

    let offline = &stats[&hex_addr(&scripted[2].0)];
    let streak = offline["missedAttestations"]["currentStreak"].as_u64().unwrap();
    assert!(streak >= 15, "offline streak {streak}");
    let history = offline["history"].as_array().unwrap();
    assert!(
        history
            .iter()
            .filter(|e| e["slot"].as_u64().unwrap() >= 6)
            .all(|e| { matches!(e["status"].as_str().unwrap(), "attestation-missed" | "blocks-missed") })
    );
    assert!(history.windows(2).all(|w| w[0]["slot"].as_u64() < w[1]["slot"].as_u64()), "ascending");

    let one = h.node("node_getValidatorStats", json!([hex_addr(&scripted[0].0)])).await;
    assert_eq!(one["validator"]["totalSlots"], reliable["totalSlots"]);
    assert!(one["allTimeProvenPerformance"].is_array());
    let ranged = h.node("node_getValidatorStats", json!([hex_addr(&scripted[0].0), 0, 9])).await;
    assert!(
        ranged["validator"]["history"].as_array().unwrap().iter().all(|e| e["slot"].as_u64().unwrap() <= 9)
    );

    let unknown =
        h.node_call("node_getValidatorStats", json!(["0x00000000000000000000000000000000000000aa"])).await;
    assert!(unknown.get("result").is_none() && unknown.get("error").is_none(), "{unknown}");
    let too_wide = h.node_call("node_getValidatorStats", json!([hex_addr(&scripted[0].0), 0, 769])).await;
    assert!(too_wide["error"]["code"].is_i64(), "{too_wide}");
    h.stop().await;
}

#[tokio::test]
async fn sentinel_advances_with_the_clock() {
    let h = Harness::start(Generation::V4, 1).await;
    let early = h.node("node_getValidatorsStats", json!([])).await;
    assert!(early.get("lastProcessedSlot").is_none());
    assert_eq!(early["stats"], json!({}));
    h.set_slot(12);
    let later = h.node("node_getValidatorsStats", json!([])).await;
    assert_eq!(later["lastProcessedSlot"], 10);
    h.stop().await;
}

#[tokio::test]
async fn v2_writes_slots_as_strings_and_block_statuses() {
    let h = Harness::start(Generation::V2, 32).await;
    let all = h.node("node_getValidatorsStats", json!([])).await;
    assert_eq!(all["lastProcessedSlot"], "30");
    let offline = &all["stats"][&hex_addr(&h.devnet.network.scripted()[2].0)];
    assert!(offline["history"][0]["slot"].is_string());
    let statuses: Vec<String> =
        all["stats"].as_object().unwrap().values().flat_map(history_statuses).collect();
    assert!(statuses.iter().any(|s| s == "block-mined"));
    assert!(statuses.iter().all(|s| !s.starts_with("checkpoint") && s != "blocks-missed"));
    h.stop().await;
}

#[tokio::test]
async fn envelope_errors_batches_and_headers() {
    let h = Harness::start(Generation::V4, 5).await;
    let url = h.devnet.node_url.clone();
    let unknown = h.node_call("node_doesNotExist", json!([])).await;
    assert_eq!(unknown["error"]["code"], -32601);
    let garbage = h.post(&url, "{\"jsonrpc\": \"2.0\", \"method\": ".into()).await;
    assert_eq!(garbage["error"]["code"], -32700);
    let batch = json!([
        {"jsonrpc": "2.0", "id": 1, "method": "node_getBlockNumber", "params": []},
        {"jsonrpc": "2.0", "id": 2, "method": "nope", "params": []},
    ]);
    let answers = h.post(&url, batch.to_string()).await;
    assert_eq!(answers[0]["id"], 1);
    assert!(answers[0]["result"].is_u64());
    assert_eq!(answers[1]["error"]["code"], -32601);
    // The server is still up after bad input.
    assert!(h.node("node_isReady", json!([])).await.as_bool().unwrap());

    let response = reqwest::Client::new()
        .post(&url)
        .body(json!({"jsonrpc": "2.0", "id": 1, "method": "node_getNodeVersion"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-aztec-l1chainid"], "31337");
    h.stop().await;
}

#[tokio::test]
async fn a_scripted_outage_answers_503_for_its_duration_and_the_l1_stays_up() {
    let h = Harness::start(Generation::V4, 10).await;
    let http = reqwest::Client::new();
    let ask = |url: String| {
        let http = http.clone();
        async move {
            let body =
                serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "node_getBlockNumber", "params": []});
            http.post(url).json(&body).send().await.unwrap().status().as_u16()
        }
    };
    assert_eq!(ask(h.devnet.node_url.clone()).await, 200);
    h.devnet.node_outage.schedule(std::time::Duration::ZERO, std::time::Duration::from_millis(400));
    assert_eq!(ask(h.devnet.node_url.clone()).await, 503, "the node is down");
    assert_eq!(ask(h.devnet.l1_url.clone()).await, 200, "L1 is not part of the outage");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(ask(h.devnet.node_url.clone()).await, 200, "the node is back");
}

#[tokio::test]
async fn a_v5_node_speaks_aztec_with_the_node_alias_and_no_l2_tips() {
    let h = Harness::start(Generation::V5, 60).await;
    let pending = h.devnet.network.pending_checkpoint_at(Slot(60));
    assert_eq!(h.node("aztec_getNodeInfo", json!([])).await["nodeVersion"], "5.2.0-sparta-devnet");
    let tips = h.node("aztec_getChainTips", json!([])).await;
    assert_eq!(tips["checkpointed"]["checkpoint"]["number"], pending);
    assert_eq!(h.node("node_getChainTips", json!([])).await, tips, "node_ is a legacy alias");
    assert_eq!(h.node_call("aztec_getL2Tips", json!([])).await["error"]["code"], -32601, "removed in 5.x");
    assert_eq!(
        h.node("aztec_getBlockNumber", json!(["proven"])).await,
        h.devnet.network.proven_checkpoint_at(Slot(60))
    );

    // Without options, a checkpoint carries neither attestations nor L1 data; with them, both.
    let bare = h.node("aztec_getCheckpoints", json!([1, 2])).await;
    assert!(bare[0].get("attestations").is_none() && bare[0].get("l1").is_none(), "{bare}");
    let options = json!({ "includeAttestations": true, "includeL1PublishInfo": true });
    let full = h.node("aztec_getCheckpoints", json!([1, 2, options])).await;
    assert_eq!(full[0]["number"], 1);
    assert!(full[0]["header"]["slotNumber"].is_u64() && full[0]["header"].get("accumulatedFees").is_some());
    assert_eq!(full[0]["l1"]["published"], true);
    let signers = full[0]["attestations"].as_array().unwrap();
    assert!(
        signers.iter().any(|a| a["address"] == "0x0000000000000000000000000000000000000000"),
        "signers by signature"
    );
    h.stop().await;

    let h = Harness::start(Generation::V4, 60).await;
    assert_eq!(
        h.node_call("aztec_getNodeInfo", json!([])).await["error"]["code"],
        -32601,
        "4.x has no aztec_"
    );
    let refused = h.node_call("node_getCheckpoints", json!([1, 2, { "includeAttestations": true }])).await;
    assert_eq!(refused["error"]["code"], -32701, "4.1.2 takes two arguments: {refused}");
    h.stop().await;
}

#[tokio::test]
async fn a_v5_sentinel_writes_the_re_execution_verdicts_and_never_checkpoint_proposed() {
    let h = Harness::start(Generation::V5, 800).await;
    let stats = h.node("aztec_getValidatorsStats", json!([])).await;
    let statuses: std::collections::BTreeSet<String> = stats["stats"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|v| {
            v["history"].as_array().unwrap().iter().map(|e| e["status"].as_str().unwrap().to_owned())
        })
        .collect();
    for expected in ["checkpoint-mined", "checkpoint-invalid", "checkpoint-unvalidated", "attestation-missed"]
    {
        assert!(statuses.contains(expected), "{expected} missing from {statuses:?}");
    }
    assert!(!statuses.contains("checkpoint-proposed"), "a 4.x status on a 5.x node: {statuses:?}");
    let who = stats["stats"].as_object().unwrap().keys().next().unwrap().clone();
    let one = h.node("aztec_getValidatorStats", json!([who])).await;
    assert!(
        one.get("allTimeEpochPerformance").is_some() && one.get("allTimeProvenPerformance").is_none(),
        "{one}"
    );
    h.stop().await;
}
