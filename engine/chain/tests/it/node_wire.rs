//! Every node answer shape (v2, v4, master) decodes, including the odd ones.

use serde::de::DeserializeOwned;
use sparta_chain::node::wire::{
    L2Tips, NodeInfo, PublishedCheckpoint, SingleValidatorStats, ValidatorsStats,
};
use sparta_core::{Address, Epoch, EpochPerformance, MissedStats, Slot, ValidatorStatusInSlot};

use crate::rpc_double::fixture_result;

#[track_caller]
fn decode<T: DeserializeOwned>(name: &str) -> T {
    serde_json::from_value(fixture_result(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn addr(hex: &str) -> Address {
    hex.parse().unwrap()
}

#[test]
fn node_info_v4_with_extra_fields_and_v2_with_missing_optional_ones() {
    let v4: NodeInfo = decode("node_info.v4.json");
    assert_eq!(v4.node_version, "4.1.2");
    assert_eq!(v4.l1_chain_id, 11_155_111);
    assert_eq!(v4.l1_contract_addresses.registry_address, addr("0xa0bfb1b494fb49041e5c6e8c2c1be09cd171c6ba"));
    assert_eq!(v4.l1_contract_addresses.gse_address, Some(Address::repeat_byte(0x55)));

    let v2: NodeInfo = decode("node_info.v2.json");
    assert_eq!((v2.l1_chain_id, v2.rollup_version), (1, 3_924_331_020), "numbers as decimal strings");
    assert_eq!(v2.l1_contract_addresses.gse_address, None);
    assert_eq!(
        v2.l1_contract_addresses.rollup_address,
        addr("0x603bb2c05d474794ea97805e8de69bccfb3bca12"),
        "upper-case hex reads as the same address"
    );
}

#[test]
fn l2_tips_normalize_v4_and_v2() {
    let v4: L2Tips = decode("l2_tips.v4.json");
    assert_eq!(v4.proposed.number, 130);
    assert_eq!(v4.checkpointed_checkpoint(), Some(42));
    assert_eq!(v4.proven.block.number, 100);
    assert_eq!(v4.proven.checkpoint.as_ref().map(|c| c.number), Some(35));

    let v2: L2Tips = decode("l2_tips.v2.json");
    assert_eq!(v2.proposed.number, 5120, "v2 `latest` is the proposed tip");
    assert_eq!(v2.checkpointed_checkpoint(), None);
    assert_eq!((v2.proven.block.number, v2.proven.checkpoint.clone()), (5000, None));
    assert_eq!(v2.finalized.block.hash, None, "a missing hash is tolerated");
}

#[test]
fn l2_tips_without_any_head_are_an_error() {
    let err =
        serde_json::from_str::<L2Tips>(r#"{"proven":{"number":1},"finalized":{"number":1}}"#).unwrap_err();
    assert!(err.to_string().contains("neither `proposed` nor `latest`"), "{err}");
}

#[test]
fn published_checkpoints_read_the_fr_slot_and_who_signed() {
    let checkpoints: Vec<PublishedCheckpoint> = decode("checkpoints.v4.json");
    assert_eq!(checkpoints.len(), 2);
    let first = &checkpoints[0];
    assert_eq!(first.checkpoint.number, 41);
    assert_eq!(first.checkpoint.header.slot_number, Slot(12345), "Fr hex slot");
    assert_eq!(first.checkpoint.header.timestamp, 1_767_225_600 + 12345 * 72, "bigint string");
    assert_eq!(first.l1.block_number, 9_000_041);
    assert_eq!(first.checkpoint.blocks[0].header.as_ref().unwrap().global_variables.slot_number, Slot(12345));
    let signed: Vec<bool> = first.attestations.iter().map(|a| a.signed()).collect();
    assert_eq!(signed, vec![true, false, true, false], "\"0x\" and all-zero signatures did not sign");
    assert_eq!(first.attestations[1].address, addr("0x2a2b2c2d2e2f30313233343536373839404142a3"));
    assert!(first.attestations[2].address.is_zero());
    assert!(checkpoints[1].attestations.is_empty());
}

#[test]
fn validators_stats_v4_convert_to_the_engine_shape() {
    let stats: ValidatorsStats = decode("validators_stats.v4.json");
    assert!(stats.sentinel_enabled());
    assert_eq!(stats.last_processed_slot, Some(Slot(12398)));
    assert_eq!(stats.slot_window, 768);
    let first = &stats.stats[&addr("0x1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c")];
    assert_eq!(first.status_at(Slot(12346)), Some(ValidatorStatusInSlot::AttestationSent));
    assert_eq!(first.status_at(Slot(1)), None);
    let core = first.to_core();
    assert_eq!(core.last_proposal, Some(Slot(12345)));
    assert_eq!(core.last_attestation, Some(Slot(12395)));
    assert_eq!(
        core.missed_attestations,
        MissedStats { current_streak: 2, rate: Some(0.05), count: 2, total: 39 }
    );

    let idle = &stats.stats[&addr("0x2a2b2c2d2e2f30313233343536373839404142a3")];
    assert_eq!(idle.missed_proposals.rate, None, "rate is absent when total is 0");
    assert_eq!(idle.to_core().last_proposal, None);
}

#[test]
fn validators_stats_v2_have_string_slots_and_block_statuses() {
    let stats: ValidatorsStats = decode("validators_stats.v2.json");
    assert_eq!((stats.last_processed_slot, stats.initial_slot), (Some(Slot(779)), Some(Slot(700))));
    let v = stats.stats.values().next().unwrap();
    let statuses: Vec<_> = v.history.iter().map(|e| (e.slot, e.status)).collect();
    assert_eq!(
        statuses,
        vec![
            (Slot(777), ValidatorStatusInSlot::BlockMined),
            (Slot(778), ValidatorStatusInSlot::BlockMissed),
            (Slot(779), ValidatorStatusInSlot::AttestationSent),
        ]
    );
}

#[test]
fn sentinel_off_is_an_empty_window() {
    let stats: ValidatorsStats = decode("validators_stats.sentinel_off.json");
    assert!(!stats.sentinel_enabled());
    assert!(stats.stats.is_empty());
    assert_eq!(stats.last_processed_slot, None);
}

#[test]
fn single_validator_stats_under_both_performance_names() {
    let v4: SingleValidatorStats = decode("validator_stats.v4.json");
    let perf: Vec<EpochPerformance> = v4.epoch_performance.iter().map(|p| (*p).into()).collect();
    assert_eq!(
        perf,
        vec![
            EpochPerformance { epoch: Epoch(385), missed: 1, total: 32 },
            EpochPerformance { epoch: Epoch(386), missed: 0, total: 30 },
        ]
    );
    assert_eq!(v4.validator.status_at(Slot(12345)), Some(ValidatorStatusInSlot::CheckpointProposed));

    let master: SingleValidatorStats = decode("validator_stats.master.json");
    assert_eq!(master.epoch_performance.len(), 1, "allTimeEpochPerformance is the renamed field");
    assert_eq!(master.initial_slot, None);
    let statuses: Vec<_> = master.validator.history.iter().map(|e| e.status).collect();
    assert_eq!(
        statuses,
        vec![
            ValidatorStatusInSlot::CheckpointValid,
            ValidatorStatusInSlot::Unknown,
            ValidatorStatusInSlot::CheckpointUnvalidated
        ],
        "an unknown status is kept as Unknown"
    );
}
