//! The Ethereum JSON-RPC over HTTP with raw JSON, decoded with the engine's `sol!` types.

use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_sol_types::{SolCall, SolEvent};
use serde_json::{Value, json};
use sparta_chain::l1::abi::{IRegistry, IRollup, ISlasher, ITallySlashingProposer};
use sparta_core::{AttesterStatus, Epoch, Slot, SlotClock};
use sparta_devnet::Generation;

use crate::harness::{GENESIS, Harness, hex_addr};

async fn eth_call<C: SolCall>(h: &Harness, to: Address, call: C) -> C::Return {
    let data = Bytes::from(call.abi_encode());
    let out = h.l1("eth_call", json!([{"to": hex_addr(&to), "input": data}, "latest"])).await;
    let bytes: Bytes = serde_json::from_value(out).unwrap();
    C::abi_decode_returns(&bytes).expect("decodes with the abi.rs type")
}

#[tokio::test]
async fn chain_id_head_and_blocks() {
    let h = Harness::start(Generation::V4, 7).await;
    assert_eq!(h.l1("eth_chainId", json!([])).await, "0x7a69");
    assert_eq!(h.l1("eth_blockNumber", json!([])).await, "0x6b");
    let block = h.l1("eth_getBlockByNumber", json!(["latest", false])).await;
    assert_eq!(block["number"], "0x6b");
    assert_eq!(block["timestamp"], format!("{:#x}", GENESIS + 14));
    let parent = h.l1("eth_getBlockByNumber", json!(["0x6a", false])).await;
    assert_eq!(block["parentHash"], parent["hash"]);
    assert_eq!(h.l1("eth_getBlockByNumber", json!(["0x6c", false])).await, Value::Null, "future block");
    h.stop().await;
}

#[tokio::test]
async fn registry_rollup_and_slashing_getters_decode() {
    let h = Harness::start(Generation::V4, 40).await;
    let network = h.devnet.network.clone();
    let addresses = *network.addresses();
    let rollup = eth_call(&h, h.devnet.registry_address, IRegistry::getCanonicalRollupCall {}).await;
    assert_eq!(rollup, addresses.rollup_address);

    let committee = eth_call(&h, rollup, IRollup::getEpochCommitteeCall { _epoch: U256::from(1) }).await;
    assert_eq!(committee, network.committee(Epoch(1)).to_vec());
    let ts = U256::from(GENESIS + 2 * 37);
    let proposer = eth_call(&h, rollup, IRollup::getProposerAtCall { _ts: ts }).await;
    assert_eq!(proposer, network.proposer_at(Slot(37)));
    let at_ts = eth_call(&h, rollup, IRollup::getCommitteeAtCall { _ts: ts }).await;
    assert_eq!(at_ts, committee);

    assert_eq!(eth_call(&h, rollup, IRollup::getCurrentSlotCall {}).await, U256::from(40));
    assert_eq!(eth_call(&h, rollup, IRollup::getGenesisTimeCall {}).await, U256::from(GENESIS));
    assert_eq!(eth_call(&h, rollup, IRollup::L1_BLOCK_AT_GENESISCall {}).await, U256::from(100));
    let tips = eth_call(&h, rollup, IRollup::getTipsCall {}).await;
    assert_eq!(tips.pending, U256::from(network.pending_checkpoint_at(Slot(40))));
    let latest = tips.pending.to::<u64>();
    let log = eth_call(&h, rollup, IRollup::getCheckpointCall { _checkpointNumber: tips.pending }).await;
    assert_eq!(log.slotNumber, U256::from(network.checkpoint(latest).unwrap().slot.0));

    let slashed = network.scripted()[3].0;
    let status = eth_call(&h, rollup, IRollup::getStatusCall { _attester: slashed }).await;
    assert_eq!(AttesterStatus::from_code(status), AttesterStatus::Zombie);
    let view = eth_call(&h, rollup, IRollup::getAttesterViewCall { _attester: slashed }).await;
    assert!(view.exit.exists && !view.exit.isRecipient);
    let exiting = network.scripted()[4].0;
    let status = eth_call(&h, rollup, IRollup::getStatusCall { _attester: exiting }).await;
    assert_eq!(AttesterStatus::from_code(status), AttesterStatus::Exiting);
    let count = eth_call(&h, rollup, IRollup::getActiveAttesterCountCall {}).await;
    assert_eq!(count, U256::from(198));

    let slasher = eth_call(&h, rollup, IRollup::getSlasherCall {}).await;
    let proposer = eth_call(&h, slasher, ISlasher::PROPOSERCall {}).await;
    assert_eq!(proposer, addresses.slashing_proposer_address);
    let round = eth_call(&h, proposer, ITallySlashingProposer::getRoundCall { _round: U256::ZERO }).await;
    assert!(round.isExecuted && round.voteCount > U256::ZERO);
    h.stop().await;
}

#[tokio::test]
async fn calls_honour_the_block_and_revert_like_a_node() {
    let h = Harness::start(Generation::V4, 40).await;
    let rollup = h.devnet.network.addresses().rollup_address;
    let slashed = h.devnet.network.scripted()[3].0;
    let data = Bytes::from(IRollup::getStatusCall { _attester: slashed }.abi_encode());
    let at_119 = h.l1("eth_call", json!([{"to": hex_addr(&rollup), "data": data}, "0x77"])).await;
    let bytes: Bytes = serde_json::from_value(at_119).unwrap();
    assert_eq!(IRollup::getStatusCall::abi_decode_returns(&bytes).unwrap(), 1, "validating before slot 20");

    let unknown =
        h.l1_call("eth_call", json!([{"to": hex_addr(&rollup), "input": "0xdeadbeef"}, "latest"])).await;
    assert_eq!(unknown["error"]["code"], -32000);
    assert!(unknown["error"]["message"].as_str().unwrap().contains("execution reverted"));
    let far = Bytes::from(IRollup::getEpochCommitteeCall { _epoch: U256::from(9) }.abi_encode());
    let unstable = h.l1_call("eth_call", json!([{"to": hex_addr(&rollup), "input": far}])).await;
    assert_eq!(unstable["error"]["code"], 3);
    assert!(unstable["error"]["data"].as_str().unwrap().starts_with("0x08c379a0"), "Error(string)");
    let future = h.l1_call("eth_call", json!([{"to": hex_addr(&rollup), "input": far}, "0x1000"])).await;
    assert!(future["error"].is_object());
    let bad = h.l1_call("eth_call", json!([{"input": "0x"}])).await;
    assert_eq!(bad["error"]["code"], -32602);
    h.stop().await;
}

fn topic(address: &Address) -> String {
    format!("{:#x}", B256::left_padding_from(address.as_slice()))
}

#[tokio::test]
async fn get_logs_filters_by_address_topics_and_range() {
    let h = Harness::start(Generation::V4, 40).await;
    let network = h.devnet.network.clone();
    let a = *network.addresses();
    let slashed = network.scripted()[3].0;
    let slashed_topic = format!("{:#x}", IRollup::Slashed::SIGNATURE_HASH);

    let logs = h
        .l1("eth_getLogs", json!([{"address": hex_addr(&a.rollup_address), "topics": [slashed_topic], "fromBlock": "0x64", "toBlock": "latest"}]))
        .await;
    let logs = logs.as_array().unwrap();
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0]["blockNumber"], "0x78", "slot 20 = block 120");
    assert_eq!(logs[0]["topics"][1], topic(&slashed));
    assert_eq!(logs[0]["removed"], false);
    let block = h.l1("eth_getBlockByNumber", json!(["0x78", false])).await;
    assert_eq!(logs[0]["blockHash"], block["hash"]);
    for key in ["transactionHash", "logIndex", "transactionIndex", "data"] {
        assert!(logs[0][key].is_string(), "{key}");
    }

    let before = h
        .l1("eth_getLogs", json!([{"topics": [slashed_topic], "fromBlock": "0x64", "toBlock": "0x77"}]))
        .await;
    assert_eq!(before, json!([]));
    let other = h
        .l1(
            "eth_getLogs",
            json!([{"topics": [slashed_topic, topic(&Address::repeat_byte(1))], "fromBlock": "earliest"}]),
        )
        .await;
    assert_eq!(other, json!([]));

    let withdraw = format!("{:#x}", IRollup::WithdrawInitiated::SIGNATURE_HASH);
    let vote = format!("{:#x}", ITallySlashingProposer::VoteCast::SIGNATURE_HASH);
    let either = h
        .l1("eth_getLogs", json!([{"address": [hex_addr(&a.rollup_address), hex_addr(&a.slashing_proposer_address)], "topics": [[slashed_topic, withdraw, vote]], "fromBlock": "0x64"}]))
        .await;
    let blocks: Vec<&str> =
        either.as_array().unwrap().iter().map(|l| l["blockNumber"].as_str().unwrap()).collect();
    assert!(blocks.contains(&"0x78") && blocks.contains(&"0x7c"), "{blocks:?}");
    assert!(
        blocks.iter().any(|b| ["0x75", "0x76", "0x77"].contains(b)),
        "a vote before the slash: {blocks:?}"
    );

    let proposed = format!("{:#x}", IRollup::CheckpointProposed::SIGNATURE_HASH);
    let checkpoints =
        h.l1("eth_getLogs", json!([{"topics": [proposed], "fromBlock": "0x64", "toBlock": "0x8c"}])).await;
    assert_eq!(checkpoints.as_array().unwrap().len() as u64, network.pending_checkpoint_at(Slot(40)));
    h.stop().await;
}

#[tokio::test]
async fn v2_announces_blocks_with_l2_block_proposed() {
    let h = Harness::start(Generation::V2, 10).await;
    let proposed = format!("{:#x}", sparta_chain::l1::abi::IRollupV2::L2BlockProposed::SIGNATURE_HASH);
    let logs = h.l1("eth_getLogs", json!([{"topics": [proposed], "fromBlock": "0x64"}])).await;
    assert_eq!(logs.as_array().unwrap().len() as u64, h.devnet.network.pending_checkpoint_at(Slot(10)));
    assert!(h.clock.current_slot() == Slot(10));
    h.stop().await;
}
