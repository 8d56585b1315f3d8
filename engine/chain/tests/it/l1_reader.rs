//! The L1 reader against the scripted L1.

use alloy_primitives::{Address, U256};
use sparta_chain::l1::abi::{IRollup, ITallySlashingProposer};
use sparta_chain::l1::{L1Error, L1EventKind, L1Reader};
use sparta_core::{AttesterStatus, Epoch, Slot};

use crate::fake_l1::{FakeL1, PROPOSER_CONTRACT, REGISTRY, ROLLUP, SLASHER, TIMING, foreign_log};
use crate::rpc_double::refused_url;

#[tokio::test]
async fn connect_resolves_the_rollup_through_the_registry_and_reads_its_params() {
    let (double, _) = FakeL1::default().serve().await;
    let l1 = L1Reader::connect(&double.url, REGISTRY).await.unwrap();
    let p = l1.params();
    assert_eq!((p.chain_id, p.registry, p.rollup), (31_337, REGISTRY, ROLLUP));
    assert_eq!((p.target_committee_size, p.l1_block_at_genesis), (4, 100));
    assert_eq!((p.slasher, p.slashing_proposer), (SLASHER, Some(PROPOSER_CONTRACT)));
    assert_eq!(l1.timing(), TIMING);
    assert!(l1.ensure_chain(31_337).is_ok());
    assert!(matches!(l1.ensure_chain(1), Err(L1Error::WrongChain { expected: 1, actual: 31_337 })));
}

#[tokio::test]
async fn a_registry_without_a_rollup_or_a_dead_url_is_a_clear_error() {
    let (double, _) = FakeL1 { rollup: Address::ZERO, ..Default::default() }.serve().await;
    let err = L1Reader::connect(&double.url, REGISTRY).await.unwrap_err();
    assert!(matches!(err, L1Error::NoRollup { registry } if registry == REGISTRY), "{err}");

    let (double, _) = FakeL1::default().serve().await;
    let err = L1Reader::connect(&double.url, Address::repeat_byte(1)).await.unwrap_err();
    assert!(matches!(&err, L1Error::Reverted { function: "getCanonicalRollup", .. }), "no code there: {err}");

    let err = L1Reader::connect(&refused_url(), REGISTRY).await.unwrap_err();
    assert!(matches!(err, L1Error::Unreachable { .. }), "{err}");
    assert!(matches!(L1Reader::connect("nope", REGISTRY).await, Err(L1Error::InvalidUrl { .. })));
}

#[tokio::test]
async fn committees_are_cached_per_epoch_but_reverts_are_not() {
    let telemetry = sparta_telemetry::install().unwrap();
    let members = vec![Address::repeat_byte(1), Address::repeat_byte(2)];
    let mut fake = FakeL1::default();
    fake.committees.insert(3, members.clone());
    fake.unstable_epochs.insert(4);
    let (double, state) = fake.serve().await;
    let l1 = L1Reader::connect(&double.url, REGISTRY).await.unwrap();

    assert_eq!(&*l1.committee(Epoch(3)).await.unwrap(), members.as_slice());
    assert_eq!(&*l1.committee(Epoch(3)).await.unwrap(), members.as_slice());
    assert!(l1.committee(Epoch(4)).await.unwrap().is_empty(), "a revert means no committee");
    assert!(l1.committee(Epoch(9)).await.unwrap().is_empty(), "an empty answer means no committee");

    state.lock().unwrap().unstable_epochs.clear();
    state.lock().unwrap().committees.insert(4, members.clone());
    assert_eq!(&*l1.committee(Epoch(4)).await.unwrap(), members.as_slice(), "re-read once stable");

    let committee_calls = double
        .calls_of("eth_call")
        .iter()
        .filter(|p| {
            p[0]["input"].as_str().or(p[0]["data"].as_str()).is_some_and(|i| i.starts_with("0x69457a6f"))
        })
        .count();
    assert_eq!(committee_calls, 4, "epoch 3 once, epoch 4 twice, epoch 9 once");
    // "No committee yet" is an answer, not a failure: the error counter must not alarm on it.
    let scraped = telemetry.render();
    assert!(
        !scraped.contains("sparta_chain_rpc_errors_total{source=\"l1\",method=\"getEpochCommittee\""),
        "{scraped}"
    );
    assert!(
        scraped.contains(
            "sparta_chain_rpc_duration_seconds_count{source=\"l1\",method=\"getEpochCommittee\"} 4"
        ),
        "{scraped}"
    );
}

#[tokio::test]
async fn proposer_status_tips_head_and_counts() {
    let mut fake = FakeL1::default();
    fake.proposers.insert(13, Address::repeat_byte(7));
    fake.statuses.insert(Address::repeat_byte(7), 2);
    fake.statuses.insert(Address::repeat_byte(8), 9);
    let (double, _) = fake.serve().await;
    let l1 = L1Reader::connect(&double.url, REGISTRY).await.unwrap();

    assert_eq!(l1.proposer_at(Slot(13)).await.unwrap(), Some(Address::repeat_byte(7)));
    assert_eq!(l1.proposer_at(Slot(14)).await.unwrap(), None, "zero address means no proposer");
    assert_eq!(l1.attester_status(Address::repeat_byte(7)).await.unwrap(), AttesterStatus::Zombie);
    assert_eq!(l1.attester_status(Address::repeat_byte(8)).await.unwrap(), AttesterStatus::Unknown);
    assert_eq!(l1.tips().await.unwrap(), (7, 5));
    assert_eq!(l1.head_block().await.unwrap(), 200);
    assert_eq!(l1.current_slot().await.unwrap(), Slot(20));
    assert_eq!(l1.active_attester_count().await.unwrap(), 12);
}

#[tokio::test]
async fn events_are_read_in_chunks_decoded_and_unknown_logs_skipped() {
    let attester = Address::repeat_byte(0xa1);
    let mut fake = FakeL1::default();
    fake.push_event(ROLLUP, 101, &IRollup::Slashed { attester, amount: U256::from(10u64.pow(18)) });
    fake.push_log(ROLLUP, 104, foreign_log());
    fake.push_event(
        PROPOSER_CONTRACT,
        105,
        &ITallySlashingProposer::RoundExecuted { round: U256::from(2), slashCount: U256::from(1) },
    );
    fake.push_event(
        ROLLUP,
        109,
        &IRollup::PrunedPending {
            provenCheckpointNumber: U256::from(5),
            pendingCheckpointNumber: U256::from(7),
        },
    );
    fake.push_event(ROLLUP, 150, &IRollup::Slashed { attester, amount: U256::from(1) });
    let (double, _) = fake.serve().await;
    let l1 = L1Reader::connect(&double.url, REGISTRY).await.unwrap().with_log_chunk_blocks(3);

    let events = l1.events(100, 110).await.unwrap();
    let blocks: Vec<u64> = events.iter().map(|e| e.l1_block).collect();
    assert_eq!(blocks, vec![101, 105, 109], "in range, unknown skipped, none twice");
    assert!(matches!(events[0].kind, L1EventKind::Slashed { attester: a, .. } if a == attester));
    assert!(matches!(events[1].kind, L1EventKind::RoundExecuted { .. }));
    assert!(matches!(events[2].kind, L1EventKind::PrunedPending { .. }));
    assert_eq!(double.calls_of("eth_getLogs").len(), 4, "11 blocks in chunks of 3");
    assert!(l1.events(111, 110).await.unwrap().is_empty(), "an empty range asks nothing");
    assert_eq!(double.calls_of("eth_getLogs").len(), 4);
}
