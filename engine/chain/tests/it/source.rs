//! The slot-facts source end to end: a node double and the scripted L1, both on loopback.

use std::sync::{Arc, Mutex};

use alloy_primitives::{Address, U256};
use serde_json::{Value, json};
use sparta_chain::l1::abi::IRollup;
use sparta_chain::source::{ChainSource, SourceError};
use sparta_core::{AttesterStatus, ChainEvent, Epoch, ProposalOutcome, SlashedEvent, Slot, SlotFacts};

use crate::fake_l1::{FakeL1, REGISTRY, ROLLUP, TIMING, slot_of_block};
use crate::rpc_double::{Reply, RpcDouble};

const SIGNATURE: &str = "0x1111111111111111111111111111111111111111111111111111111111111111\
                         2222222222222222222222222222222222222222222222222222222222222222\
                         1b";

fn member(i: u8) -> Address {
    Address::repeat_byte(0xa0 + i)
}

fn hex(a: Address) -> String {
    format!("{a:#x}")
}

/// What the node double knows; tests change it between calls.
struct NodeState {
    chain_id: u64,
    checkpointed: u64,
    checkpoints: Vec<Value>,
    sentinel_on: bool,
    /// (validator, slot) → status in that validator's history.
    history: Vec<(Address, u64, &'static str)>,
}

fn checkpoint(number: u64, slot: u64, attestations: Value) -> Value {
    json!({
        "checkpoint": {
            "number": number,
            "header": {"slotNumber": format!("0x{slot:064x}"), "timestamp": (TIMING.slot_start_s(Slot(slot))).to_string()},
            "blocks": []
        },
        "l1": {"blockNumber": (100 + slot).to_string(), "timestamp": "0", "blockHash": "0x00"},
        "attestations": attestations
    })
}

fn stats_of(state: &NodeState, validator: Address) -> Value {
    let history: Vec<Value> = state
        .history
        .iter()
        .filter(|(v, _, _)| *v == validator)
        .map(|(_, slot, status)| json!({"slot": slot, "status": status}))
        .collect();
    json!({
        "address": hex(validator),
        "totalSlots": history.len(),
        "missedProposals": {"currentStreak": 0, "count": 0, "total": 0},
        "missedAttestations": {"currentStreak": 0, "count": 0, "total": 0},
        "history": history
    })
}

impl NodeState {
    fn answer(&self, method: &str, params: &[Value]) -> Reply {
        match method {
            "node_getNodeInfo" => Reply::Result(json!({
                "nodeVersion": "4.1.2", "l1ChainId": self.chain_id, "rollupVersion": 1,
                "l1ContractAddresses": {"rollupAddress": hex(ROLLUP), "registryAddress": hex(REGISTRY)}
            })),
            "node_getL2Tips" => {
                let tip = json!({"block": {"number": self.checkpointed * 2}, "checkpoint": {"number": self.checkpointed}});
                Reply::Result(
                    json!({"proposed": {"number": 99}, "checkpointed": tip, "proven": tip, "finalized": tip}),
                )
            }
            "node_getCheckpoints" => {
                let (from, limit) = (params[0].as_u64().unwrap(), params[1].as_u64().unwrap());
                let page: Vec<&Value> = self
                    .checkpoints
                    .iter()
                    .filter(|c| (from..from + limit).contains(&c["checkpoint"]["number"].as_u64().unwrap()))
                    .filter(|c| c["checkpoint"]["number"].as_u64().unwrap() <= self.checkpointed)
                    .collect();
                Reply::Result(json!(page))
            }
            "node_getValidatorsStats" if !self.sentinel_on => {
                Reply::Result(json!({"stats": {}, "slotWindow": 0}))
            }
            "node_getValidatorsStats" => {
                let stats: serde_json::Map<String, Value> =
                    (0..4).map(member).map(|m| (hex(m), stats_of(self, m))).collect();
                Reply::Result(json!({"stats": stats, "lastProcessedSlot": 18, "slotWindow": 16}))
            }
            "node_getValidatorStats" => {
                let validator: Address = params[0].as_str().unwrap().parse().unwrap();
                if !self.sentinel_on || !self.history.iter().any(|(v, _, _)| *v == validator) {
                    return Reply::NoResult;
                }
                Reply::Result(
                    json!({"validator": stats_of(self, validator), "allTimeProvenPerformance": [], "slotWindow": 16}),
                )
            }
            other => Reply::Error { code: -32601, message: format!("Method not found: {other}") },
        }
    }
}

pub(crate) struct Setup {
    pub(crate) node: RpcDouble,
    node_state: Arc<Mutex<NodeState>>,
    pub(crate) l1: RpcDouble,
    pub(crate) l1_state: Arc<Mutex<FakeL1>>,
}

/// Epoch 3 (slots 12..=15) has committee a0..a3, slot 12+i proposed by a_i; epoch 4 has none.
/// Checkpoint 1 lands in slot 12 (a0 proposer; a2 signed by position; a1, a3 did not sign),
/// checkpoint 2 in slot 16. The Sentinel saw slot 13 proposed and attested by a0 and a2,
/// slot 14 with blocks but no checkpoint, and nothing for slot 15.
pub(crate) async fn setup(sentinel_on: bool) -> Setup {
    let mut fake = FakeL1::default();
    fake.committees.insert(3, (0..4).map(member).collect());
    for i in 0..4u8 {
        fake.proposers.insert(12 + u64::from(i), member(i));
    }
    let zero = hex(Address::ZERO);
    let node_state = NodeState {
        chain_id: fake.chain_id,
        checkpointed: 2,
        checkpoints: vec![
            checkpoint(
                1,
                12,
                json!([
                    {"address": hex(member(0)), "signature": SIGNATURE},
                    {"address": hex(member(1)).to_uppercase().replace("0X", "0x"), "signature": "0x"},
                    {"address": zero, "signature": SIGNATURE},
                    {"address": hex(member(3)), "signature": format!("0x{}", "00".repeat(65))},
                ]),
            ),
            checkpoint(2, 16, json!([])),
        ],
        sentinel_on,
        history: vec![
            (member(1), 13, "checkpoint-proposed"),
            (member(0), 13, "attestation-sent"),
            (member(2), 13, "attestation-sent"),
            (member(3), 13, "attestation-missed"),
            (member(2), 14, "checkpoint-missed"),
        ],
    };
    let (l1, l1_state) = fake.serve().await;
    let node_state = Arc::new(Mutex::new(node_state));
    let shared = node_state.clone();
    let node = RpcDouble::start(move |method, params| shared.lock().unwrap().answer(method, params)).await;
    Setup { node, node_state, l1, l1_state }
}

impl Setup {
    pub(crate) async fn source(&self) -> ChainSource {
        ChainSource::connect(&self.node.url, &self.l1.url).await.expect("source connects")
    }
}

#[track_caller]
fn assert_facts(
    facts: &SlotFacts,
    outcome: ProposalOutcome,
    proposer: Option<Address>,
    attesters: &[Address],
) {
    assert_eq!(facts.outcome, outcome, "slot {}", facts.slot);
    assert_eq!(facts.proposer, proposer, "slot {}", facts.slot);
    assert_eq!(facts.attesters().collect::<Vec<_>>(), attesters, "slot {}", facts.slot);
}

#[tokio::test]
async fn slot_facts_come_from_checkpoints_then_the_sentinel() {
    let s = setup(true).await;
    let mut source = s.source().await;
    assert_eq!(source.safe_slot().await.unwrap(), Slot(18));

    let mined = source.slot_facts(Slot(12)).await.unwrap();
    assert_eq!((mined.slot, mined.epoch, mined.committee.len()), (Slot(12), Epoch(3), 4));
    assert_facts(&mined, ProposalOutcome::Mined, Some(member(0)), &[member(0), member(2)]);
    assert_eq!(mined.missed_attestations(), 2, "a1 and a3 did not sign");

    let proposed = source.slot_facts(Slot(13)).await.unwrap();
    assert_facts(&proposed, ProposalOutcome::Proposed, Some(member(1)), &[member(0), member(2)]);
    let missed = source.slot_facts(Slot(14)).await.unwrap();
    assert_facts(&missed, ProposalOutcome::CheckpointMissed, Some(member(2)), &[]);
    let nothing = source.slot_facts(Slot(15)).await.unwrap();
    assert_facts(&nothing, ProposalOutcome::BlocksMissed, Some(member(3)), &[]);

    let no_committee = source.slot_facts(Slot(16)).await.unwrap();
    assert!(no_committee.committee.is_empty());
    assert_facts(&no_committee, ProposalOutcome::Mined, None, &[]);
    assert_facts(&source.slot_facts(Slot(17)).await.unwrap(), ProposalOutcome::BlocksMissed, None, &[]);

    assert_eq!(s.node.calls_of("node_getCheckpoints"), vec![vec![json!(1), json!(2)]], "fetched once");
    assert_eq!(
        s.node.calls_of("node_getValidatorsStats").len(),
        1,
        "the snapshot covers slot 13 and is reused"
    );
    assert_eq!(
        s.node.calls_of("node_getValidatorStats")[0],
        vec![json!(hex(member(1))), json!(13), json!(13)],
        "the proposer's record for exactly that slot"
    );
}

#[tokio::test]
async fn new_checkpoints_are_fetched_incrementally_and_prunes_forget_them() {
    let s = setup(true).await;
    let mut source = s.source().await;
    source.slot_facts(Slot(12)).await.unwrap();
    {
        let mut node = s.node_state.lock().unwrap();
        node.checkpointed = 3;
        node.checkpoints.push(checkpoint(3, 18, json!([])));
    }
    assert_eq!(source.slot_facts(Slot(18)).await.unwrap().outcome, ProposalOutcome::Mined);
    assert_eq!(s.node.calls_of("node_getCheckpoints").last().unwrap(), &vec![json!(3), json!(1)]);

    // Checkpoint 3 is pruned from L1 and a new checkpoint 3 lands in slot 19 instead.
    s.l1_state.lock().unwrap().push_event(
        ROLLUP,
        150,
        &IRollup::PrunedPending {
            provenCheckpointNumber: U256::from(2),
            pendingCheckpointNumber: U256::from(3),
        },
    );
    {
        let mut node = s.node_state.lock().unwrap();
        node.checkpoints.pop();
        node.checkpoints.push(checkpoint(3, 19, json!([])));
    }
    source.events_between(150, 150).await.unwrap();
    assert_eq!(source.slot_facts(Slot(18)).await.unwrap().outcome, ProposalOutcome::BlocksMissed);
    assert_eq!(source.slot_facts(Slot(19)).await.unwrap().outcome, ProposalOutcome::Mined);
}

#[tokio::test]
async fn without_the_sentinel_a_slot_without_checkpoint_is_blocks_missed() {
    let s = setup(false).await;
    let mut source = s.source().await;
    assert_eq!(source.slot_facts(Slot(12)).await.unwrap().outcome, ProposalOutcome::Mined);
    let facts = source.slot_facts(Slot(13)).await.unwrap();
    assert_facts(&facts, ProposalOutcome::BlocksMissed, Some(member(1)), &[]);
    assert_eq!(facts.missed_attestations(), 0, "attesters are not judged");
}

#[tokio::test]
async fn l1_events_become_slashes_status_changes_and_prunes() {
    let s = setup(true).await;
    {
        let mut l1 = s.l1_state.lock().unwrap();
        l1.push_event(ROLLUP, 120, &IRollup::Slashed { attester: member(0), amount: U256::from(2_000u64) });
        l1.push_event(
            ROLLUP,
            121,
            &IRollup::WithdrawInitiated {
                attester: member(1),
                recipient: Address::repeat_byte(0x99),
                amount: U256::from(1u64),
            },
        );
        l1.push_event(ROLLUP, 122, &IRollup::Slashed { attester: member(0), amount: U256::from(1u64) });
        l1.push_event(
            ROLLUP,
            123,
            &IRollup::PrunedPending {
                provenCheckpointNumber: U256::from(1),
                pendingCheckpointNumber: U256::from(2),
            },
        );
        l1.statuses.insert(member(0), 2);
        l1.statuses.insert(member(1), 3);
    }
    let mut source = s.source().await;
    let slot_at = |block| slot_of_block(&s.l1_state.lock().unwrap(), block);
    let events = source.events_between(110, 130).await.unwrap();
    let expected = vec![
        ChainEvent::Slashed(SlashedEvent {
            attester: member(0),
            amount: "2000".into(),
            l1_block: 120,
            slot: slot_at(120),
        }),
        ChainEvent::AttesterStatusChanged {
            attester: member(0),
            from: AttesterStatus::Validating,
            to: AttesterStatus::Zombie,
            slot: slot_at(120),
        },
        ChainEvent::AttesterStatusChanged {
            attester: member(1),
            from: AttesterStatus::Validating,
            to: AttesterStatus::Exiting,
            slot: slot_at(121),
        },
        ChainEvent::Slashed(SlashedEvent {
            attester: member(0),
            amount: "1".into(),
            l1_block: 122,
            slot: slot_at(122),
        }),
        ChainEvent::Pruned { proven_checkpoint: 1, pending_checkpoint: 2, slot: slot_at(123) },
    ];
    assert_eq!(events, expected);
    assert_ne!(slot_at(120), slot_at(123), "slots come from each log's own block time");
}

#[tokio::test]
async fn chain_facts_report_both_sides() {
    let s = setup(true).await;
    let mut source = s.source().await;
    let facts = source.chain_facts().await.unwrap();
    assert_eq!(
        (facts.chain_id, facts.rollup, facts.node_rollup, facts.registry),
        (31_337, ROLLUP, ROLLUP, REGISTRY)
    );
    assert_eq!(facts.timing, TIMING);
    assert_eq!((facts.current_slot, facts.current_epoch, facts.safe_slot), (Slot(20), Epoch(5), Slot(18)));
    assert_eq!((facts.pending_checkpoint, facts.proven_checkpoint, facts.node_checkpointed), (7, 5, Some(2)));
    assert_eq!((facts.committee_size, facts.active_attesters, facts.l1_head_block), (0, 12, 200));
    assert!(facts.sentinel_enabled);
    assert_eq!(source.l1_genesis_block(), 100);
    let json = serde_json::to_value(&facts).unwrap();
    assert_eq!(json["timing"]["slot_duration_s"], 36);
}

#[tokio::test]
async fn a_node_on_another_l1_chain_is_refused() {
    let s = setup(true).await;
    s.node_state.lock().unwrap().chain_id = 1;
    let err = ChainSource::connect(&s.node.url, &s.l1.url).await.unwrap_err();
    assert!(matches!(err, SourceError::Mismatch { what: "L1 chain id", .. }), "{err}");
}

/// The engine drives the source from actors on a multi-threaded runtime: its futures must be `Send`.
#[allow(dead_code)]
fn source_futures_are_send(source: &mut ChainSource) {
    fn send<T: Send>(_: T) {}
    send(source.slot_facts(Slot(1)));
    send(source.events_between(1, 2));
    send(source.chain_facts());
    send(source.safe_slot());
    send(ChainSource::connect("", ""));
}
