//! The node's JSON-RPC result shapes (v2 and v4), decoded leniently.
//!
//! Unknown fields are ignored and optional ones may be absent, so a newer node does not break
//! decoding; numbers that changed shape between versions go through [`super::num`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sparta_core::{Address, Epoch, EpochPerformance, MissedStats, Slot, ValidatorStatusInSlot};

use super::num;

/// `node_getNodeInfo`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeInfo {
    pub node_version: String,
    #[serde(deserialize_with = "num::u64_from")]
    pub l1_chain_id: u64,
    #[serde(deserialize_with = "num::u64_from")]
    pub rollup_version: u64,
    #[serde(default)]
    pub enr: Option<String>,
    pub l1_contract_addresses: L1ContractAddresses,
}

/// The L1 contracts the node follows. Only the rollup and registry are always present.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct L1ContractAddresses {
    pub rollup_address: Address,
    pub registry_address: Address,
    #[serde(default)]
    pub gse_address: Option<Address>,
    #[serde(default)]
    pub inbox_address: Option<Address>,
    #[serde(default)]
    pub outbox_address: Option<Address>,
    #[serde(default)]
    pub staking_asset_address: Option<Address>,
    #[serde(default)]
    pub slash_factory_address: Option<Address>,
}

/// One tip: a block (or checkpoint) number and its hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TipId {
    #[serde(deserialize_with = "num::u64_from")]
    pub number: u64,
    #[serde(default)]
    pub hash: Option<String>,
}

/// A tip of the settled chain: the last block, and in v4 the checkpoint that holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettledTip {
    pub block: TipId,
    /// `None` on a v2 (block-based) node.
    pub checkpoint: Option<TipId>,
}

/// `node_getL2Tips`, normalized over v4 `{proposed, checkpointed, proven, finalized}` and v2
/// `{latest, proven, finalized}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawL2Tips")]
pub struct L2Tips {
    /// The latest proposed L2 block (v2 `latest`).
    pub proposed: TipId,
    /// `None` on a v2 node, which has no checkpoints.
    pub checkpointed: Option<SettledTip>,
    pub proven: SettledTip,
    pub finalized: SettledTip,
}

impl L2Tips {
    /// The last checkpoint on L1 as the node sees it (`None` on v2).
    pub fn checkpointed_checkpoint(&self) -> Option<u64> {
        self.checkpointed.as_ref().and_then(|t| t.checkpoint.as_ref()).map(|c| c.number)
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawSettledTip {
    V4 { block: TipId, checkpoint: TipId },
    V2(TipId),
}

impl From<RawSettledTip> for SettledTip {
    fn from(raw: RawSettledTip) -> Self {
        match raw {
            RawSettledTip::V4 { block, checkpoint } => SettledTip { block, checkpoint: Some(checkpoint) },
            RawSettledTip::V2(block) => SettledTip { block, checkpoint: None },
        }
    }
}

#[derive(Deserialize)]
struct RawL2Tips {
    proposed: Option<TipId>,
    latest: Option<TipId>,
    checkpointed: Option<RawSettledTip>,
    proven: RawSettledTip,
    finalized: RawSettledTip,
}

impl TryFrom<RawL2Tips> for L2Tips {
    type Error = String;

    fn try_from(raw: RawL2Tips) -> Result<Self, String> {
        let proposed = raw.proposed.or(raw.latest).ok_or("L2 tips have neither `proposed` nor `latest`")?;
        Ok(L2Tips {
            proposed,
            checkpointed: raw.checkpointed.map(Into::into),
            proven: raw.proven.into(),
            finalized: raw.finalized.into(),
        })
    }
}

/// One element of `node_getCheckpoints`: a checkpoint, where it landed on L1 and who signed it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PublishedCheckpoint {
    pub checkpoint: Checkpoint,
    pub l1: L1PublishedData,
    /// In committee order.
    #[serde(default)]
    pub attestations: Vec<CommitteeAttestation>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Checkpoint {
    #[serde(deserialize_with = "num::u64_from")]
    pub number: u64,
    pub header: CheckpointHeader,
    #[serde(default)]
    pub archive: Option<serde_json::Value>,
    /// The L2 blocks of the checkpoint, summarized (bodies are skipped).
    #[serde(default)]
    pub blocks: Vec<L2BlockSummary>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckpointHeader {
    /// A field element on the wire (`0x` + 64 hex digits).
    #[serde(deserialize_with = "num::slot_from")]
    pub slot_number: Slot,
    #[serde(deserialize_with = "num::u64_from")]
    pub timestamp: u64,
    /// The reward recipient, not the proposer.
    #[serde(default)]
    pub coinbase: Option<Address>,
    #[serde(default)]
    pub last_archive_root: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct L2BlockSummary {
    #[serde(default)]
    pub header: Option<L2BlockHeaderSummary>,
    #[serde(default, deserialize_with = "num::opt_u64_from")]
    pub checkpoint_number: Option<u64>,
    #[serde(default, deserialize_with = "num::opt_u64_from")]
    pub index_within_checkpoint: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct L2BlockHeaderSummary {
    pub global_variables: GlobalVariables,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GlobalVariables {
    #[serde(deserialize_with = "num::u64_from")]
    pub block_number: u64,
    #[serde(deserialize_with = "num::slot_from")]
    pub slot_number: Slot,
    #[serde(deserialize_with = "num::u64_from")]
    pub timestamp: u64,
    #[serde(default)]
    pub coinbase: Option<Address>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct L1PublishedData {
    #[serde(deserialize_with = "num::u64_from")]
    pub block_number: u64,
    #[serde(deserialize_with = "num::u64_from")]
    pub timestamp: u64,
    #[serde(default)]
    pub block_hash: Option<String>,
}

/// One committee member's entry in a published checkpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitteeAttestation {
    /// Zero when the node only kept the signature (the signer is then known by position).
    #[serde(default)]
    pub address: Address,
    /// `0x` r‖s‖v; empty (`"0x"`) or all zeros when the member did not sign.
    #[serde(default)]
    pub signature: String,
}

impl CommitteeAttestation {
    pub fn signed(&self) -> bool {
        let hex = self.signature.strip_prefix("0x").unwrap_or(&self.signature);
        hex.chars().any(|c| c != '0')
    }
}

/// `node_getValidatorsStats`. With the Sentinel off the node answers `{"stats":{},"slotWindow":0}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidatorsStats {
    #[serde(default)]
    pub stats: BTreeMap<Address, ValidatorStats>,
    #[serde(default, deserialize_with = "num::opt_slot_from")]
    pub last_processed_slot: Option<Slot>,
    #[serde(default, deserialize_with = "num::opt_slot_from")]
    pub initial_slot: Option<Slot>,
    #[serde(default, deserialize_with = "num::u64_from")]
    pub slot_window: u64,
}

impl ValidatorsStats {
    /// A node without the Sentinel reports an empty window.
    pub fn sentinel_enabled(&self) -> bool {
        self.slot_window > 0
    }
}

/// One validator's Sentinel record as the node reports it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidatorStats {
    pub address: Address,
    #[serde(default)]
    pub last_proposal: Option<SlotTime>,
    #[serde(default)]
    pub last_attestation: Option<SlotTime>,
    #[serde(default)]
    pub total_slots: u32,
    pub missed_proposals: ValidatorMissedStats,
    pub missed_attestations: ValidatorMissedStats,
    #[serde(default)]
    pub history: Vec<HistoryEntry>,
}

impl ValidatorStats {
    /// The engine's shape of the same stats (for field-by-field comparison).
    pub fn to_core(&self) -> sparta_core::ValidatorStats {
        sparta_core::ValidatorStats {
            address: self.address,
            last_proposal: self.last_proposal.as_ref().map(|p| p.slot),
            last_attestation: self.last_attestation.as_ref().map(|a| a.slot),
            total_slots: self.total_slots,
            missed_proposals: self.missed_proposals.into(),
            missed_attestations: self.missed_attestations.into(),
        }
    }

    /// The status recorded for `slot`, if any.
    pub fn status_at(&self, slot: Slot) -> Option<ValidatorStatusInSlot> {
        self.history.iter().rev().find(|e| e.slot == slot).map(|e| e.status)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotTime {
    /// Unix seconds (a bigint string on the wire).
    #[serde(deserialize_with = "num::u64_from")]
    pub timestamp: u64,
    #[serde(deserialize_with = "num::slot_from")]
    pub slot: Slot,
    #[serde(default)]
    pub date: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    #[serde(deserialize_with = "num::slot_from")]
    pub slot: Slot,
    pub status: ValidatorStatusInSlot,
}

/// Misses of one duty; `rate` is absent when `total == 0`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidatorMissedStats {
    #[serde(default)]
    pub current_streak: u32,
    #[serde(default)]
    pub rate: Option<f64>,
    pub count: u32,
    pub total: u32,
}

impl From<ValidatorMissedStats> for MissedStats {
    fn from(m: ValidatorMissedStats) -> Self {
        MissedStats { current_streak: m.current_streak, rate: m.rate, count: m.count, total: m.total }
    }
}

/// `node_getValidatorStats`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SingleValidatorStats {
    pub validator: ValidatorStats,
    /// `allTimeProvenPerformance` up to 4.x, renamed `allTimeEpochPerformance` later.
    #[serde(default, rename = "allTimeProvenPerformance", alias = "allTimeEpochPerformance")]
    pub epoch_performance: Vec<WireEpochPerformance>,
    #[serde(default, deserialize_with = "num::opt_slot_from")]
    pub last_processed_slot: Option<Slot>,
    #[serde(default, deserialize_with = "num::opt_slot_from")]
    pub initial_slot: Option<Slot>,
    #[serde(default, deserialize_with = "num::u64_from")]
    pub slot_window: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireEpochPerformance {
    #[serde(deserialize_with = "num::epoch_from")]
    pub epoch: Epoch,
    pub missed: u32,
    pub total: u32,
}

impl From<WireEpochPerformance> for EpochPerformance {
    fn from(p: WireEpochPerformance) -> Self {
        EpochPerformance { epoch: p.epoch, missed: p.missed, total: p.total }
    }
}
