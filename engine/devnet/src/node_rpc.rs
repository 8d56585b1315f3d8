//! The Aztec node JSON-RPC (`node_*`), answering with the 4.1.2 shapes (2.x shapes under
//! [`ProtocolVersion::V2`]).
//!
//! Simplifications: every checkpoint holds exactly one L2 block (so block number = checkpoint
//! number), block bodies are not simulated (`blocks: []`), and the finalized tip equals the proven one.

use std::sync::Arc;

use alloy_primitives::{Address, hex};
use serde_json::{Value, json};
use sparta_core::{Slot, ValidatorStats};

use crate::config::ProtocolVersion;
use crate::derive;
use crate::jsonrpc::{RpcError, RpcHandler, address_param, u64_param};
use crate::network::{Network, SlotRecord};
use crate::params::{MAX_CHECKPOINTS_PER_CALL, NODE_VERSION};
use crate::sentinel::{Sentinel, SentinelView};
use crate::wire;

/// The node's error code for params that fail validation.
pub const VALIDATION_ERROR: i64 = -32701;
/// The node's error code for a handler that threw.
pub const HANDLER_ERROR: i64 = -32702;

pub struct NodeRpc {
    network: Arc<Network>,
    sentinel: Sentinel,
}

impl std::fmt::Debug for NodeRpc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeRpc").field("network", &self.network).finish_non_exhaustive()
    }
}

impl RpcHandler for NodeRpc {
    fn call(&self, method: &str, params: &[Value]) -> Result<Option<Value>, RpcError> {
        let result = match method {
            "node_getNodeInfo" => self.node_info(),
            "node_getNodeVersion" => json!(NODE_VERSION),
            "node_getVersion" => json!(self.network.rollup_version()),
            "node_getChainId" => json!(self.network.config().chain_id),
            "node_isReady" => json!(true),
            "node_getL1ContractAddresses" => self.l1_contract_addresses(),
            "node_getL2Tips" => self.l2_tips(),
            "node_getBlockNumber" | "node_getCheckpointNumber" | "node_getCheckpointedBlockNumber" => {
                json!(self.pending())
            }
            "node_getProvenBlockNumber" => json!(self.proven()),
            "node_getCheckpoints" => self.checkpoints(params)?,
            "node_getValidatorsStats" => self.validators_stats(),
            "node_getValidatorStats" => return self.validator_stats(params),
            _ => return Err(RpcError::method_not_found(method)),
        };
        Ok(Some(result))
    }

    fn headers(&self) -> Vec<(&'static str, String)> {
        vec![
            ("x-aztec-l1chainid", self.network.config().chain_id.to_string()),
            ("x-aztec-rollupversion", self.network.rollup_version().to_string()),
            ("x-aztec-l1rollupaddress", wire::address(&self.network.addresses().rollup_address)),
            ("x-aztec-packageversion", NODE_VERSION.to_string()),
        ]
    }
}

impl NodeRpc {
    pub fn new(network: Arc<Network>) -> Self {
        Self { sentinel: Sentinel::new(network.clone()), network }
    }

    fn version(&self) -> ProtocolVersion {
        self.network.config().version
    }

    fn pending(&self) -> u64 {
        self.network.pending_checkpoint_at(self.network.node_slot())
    }

    fn proven(&self) -> u64 {
        self.network.proven_checkpoint_at(self.network.node_slot())
    }

    fn node_info(&self) -> Value {
        let seed = self.network.config().seed;
        let protocol = |name: &str| wire::fr_bytes(&derive::hash(seed, name, 0, 0));
        json!({
            "nodeVersion": NODE_VERSION,
            "l1ChainId": self.network.config().chain_id,
            "rollupVersion": self.network.rollup_version(),
            "l1ContractAddresses": self.l1_contract_addresses(),
            "protocolContractAddresses": {
                "classRegistry": protocol("class-registry"),
                "feeJuice": protocol("fee-juice-contract"),
                "instanceRegistry": protocol("instance-registry"),
                "multiCallEntrypoint": protocol("multicall-entrypoint"),
            },
            "realProofs": false,
        })
    }

    fn l1_contract_addresses(&self) -> Value {
        let a = self.network.addresses();
        let hex = |x: &Address| wire::address(x);
        json!({
            "rollupAddress": hex(&a.rollup_address),
            "registryAddress": hex(&a.registry_address),
            "inboxAddress": hex(&a.inbox_address),
            "outboxAddress": hex(&a.outbox_address),
            "feeJuiceAddress": hex(&a.fee_juice_address),
            "stakingAssetAddress": hex(&a.staking_asset_address),
            "feeJuicePortalAddress": hex(&a.fee_juice_portal_address),
            "coinIssuerAddress": hex(&a.coin_issuer_address),
            "rewardDistributorAddress": hex(&a.reward_distributor_address),
            "governanceProposerAddress": hex(&a.governance_proposer_address),
            "governanceAddress": hex(&a.governance_address),
            "slashFactoryAddress": hex(&a.slash_factory_address),
            "gseAddress": hex(&a.gse_address),
        })
    }

    fn block_id(&self, number: u64) -> Value {
        let hash = derive::hash(self.network.config().seed, "l2-block", number, 0);
        json!({ "number": number, "hash": wire::fr_bytes(&hash) })
    }

    fn checkpoint_id(&self, number: u64) -> Value {
        let hash = derive::hash(self.network.config().seed, "checkpoint-header", number, 0);
        json!({ "number": number, "hash": wire::fr_bytes(&hash) })
    }

    fn l2_tips(&self) -> Value {
        let (pending, proven) = (self.pending(), self.proven());
        match self.version() {
            ProtocolVersion::V4 => json!({
                "proposed": self.block_id(pending),
                "checkpointed": { "block": self.block_id(pending), "checkpoint": self.checkpoint_id(pending) },
                "proven": { "block": self.block_id(proven), "checkpoint": self.checkpoint_id(proven) },
                "finalized": { "block": self.block_id(proven), "checkpoint": self.checkpoint_id(proven) },
            }),
            ProtocolVersion::V2 => json!({
                "latest": self.block_id(pending),
                "proven": self.block_id(proven),
                "finalized": self.block_id(proven),
            }),
        }
    }

    fn checkpoints(&self, params: &[Value]) -> Result<Value, RpcError> {
        let from = u64_param(params, 0, "from")?.unwrap_or(0);
        let limit = u64_param(params, 1, "limit")?.unwrap_or(0);
        if from < 1 {
            return Err(RpcError::new(VALIDATION_ERROR, "from: must be >= 1"));
        }
        if !(1..=MAX_CHECKPOINTS_PER_CALL).contains(&limit) {
            return Err(RpcError::new(
                VALIDATION_ERROR,
                format!("limit: must be between 1 and {MAX_CHECKPOINTS_PER_CALL}"),
            ));
        }
        let last = self.pending().min(from.saturating_add(limit - 1));
        let published = (from..=last)
            .filter_map(|n| self.network.checkpoint(n))
            .map(|record| self.published_checkpoint(&record))
            .collect();
        Ok(Value::Array(published))
    }

    fn published_checkpoint(&self, record: &SlotRecord) -> Value {
        let network = &self.network;
        let seed = network.config().seed;
        let number = record.checkpoint.unwrap_or_default();
        let timestamp = network.timing().slot_start_s(record.slot);
        let l1_block = network.l1_block_of(record.slot);
        let h = |tag: &str| wire::fr_bytes(&derive::hash(seed, tag, number, 0));
        let proposer_index = network.validator(&record.proposer).map_or(0, |v| v.index as u64);
        let attestations: Vec<Value> = record
            .committee
            .iter()
            .enumerate()
            .map(|(i, member)| {
                let signature = if record.attested.get(i) {
                    derive::attestation_signature(seed, *member, record.slot.0).to_vec()
                } else {
                    vec![0u8; 65]
                };
                json!({ "address": wire::address(member), "signature": hex::encode_prefixed(&signature) })
            })
            .collect();
        json!({
            "checkpoint": {
                "archive": {
                    "root": wire::fr_bytes(&network.archive_of(number)),
                    "nextAvailableLeafIndex": number + 1,
                },
                "header": {
                    "lastArchiveRoot": wire::fr_bytes(&network.archive_of(number.saturating_sub(1))),
                    "blockHeadersHash": h("block-headers-hash"),
                    "blobsHash": h("blobs-hash"),
                    "inHash": h("in-hash"),
                    "epochOutHash": h("epoch-out-hash"),
                    "slotNumber": wire::fr(record.slot.0),
                    "timestamp": timestamp.to_string(),
                    "coinbase": wire::address(&derive::address(seed, "coinbase", proposer_index)),
                    "feeRecipient": wire::fr_bytes(&derive::hash(seed, "fee-recipient", proposer_index, 0)),
                    "gasFees": { "feePerDaGas": "0", "feePerL2Gas": "1000" },
                    "totalManaUsed": wire::fr(0),
                },
                "blocks": [],
                "number": number,
                "feeAssetPriceModifier": "0",
            },
            "l1": {
                "blockNumber": l1_block.to_string(),
                "timestamp": timestamp.to_string(),
                "blockHash": wire::fr_bytes(&network.l1_block_hash(l1_block)),
            },
            "attestations": attestations,
        })
    }

    fn validators_stats(&self) -> Value {
        let version = self.version();
        let stats: serde_json::Map<String, Value> = self
            .sentinel
            .all()
            .iter()
            .map(|view| (wire::address(&view.stats.address), self.stats_json(view)))
            .collect();
        let mut result = json!({ "stats": stats, "slotWindow": self.sentinel.slot_window() });
        if let Some(last) = self.sentinel.last_processed_slot() {
            result["lastProcessedSlot"] = wire::slot(version, last);
            result["initialSlot"] = wire::slot(version, Slot(0));
        }
        result
    }

    fn validator_stats(&self, params: &[Value]) -> Result<Option<Value>, RpcError> {
        let version = self.version();
        let address = address_param(params, 0, "validatorAddress")
            .map_err(|e| RpcError::new(VALIDATION_ERROR, e.message))?;
        let from =
            u64_param(params, 1, "fromSlot").map_err(|e| RpcError::new(VALIDATION_ERROR, e.message))?;
        let to = u64_param(params, 2, "toSlot").map_err(|e| RpcError::new(VALIDATION_ERROR, e.message))?;
        let window = self.sentinel.slot_window();
        let last = self.sentinel.last_processed_slot().map_or(0, |s| s.0);
        let (from_or_default, to_or_default) =
            (from.unwrap_or(last.saturating_sub(window)), to.unwrap_or(last));
        if to_or_default.saturating_sub(from_or_default) > window {
            return Err(RpcError::new(
                HANDLER_ERROR,
                format!(
                    "Cannot return stats for more than {window} slots (requested {from_or_default}..{to_or_default})"
                ),
            ));
        }
        let Some((view, epochs)) = self.sentinel.one(&address, from.map(Slot), to.map(Slot)) else {
            return Ok(None);
        };
        let performance: Vec<Value> = epochs
            .iter()
            .map(|e| json!({ "missed": e.missed, "total": e.total, "epoch": e.epoch.0 }))
            .collect();
        let mut result = json!({
            "validator": self.stats_json(&view),
            "allTimeProvenPerformance": performance,
            "slotWindow": window,
        });
        if let Some(last) = self.sentinel.last_processed_slot() {
            result["lastProcessedSlot"] = wire::slot(version, last);
            result["initialSlot"] = wire::slot(version, Slot(0));
        }
        Ok(Some(result))
    }

    fn stats_json(&self, view: &SentinelView) -> Value {
        let version = self.version();
        let ValidatorStats { address, last_proposal, last_attestation, total_slots, .. } = &view.stats;
        let mut stats = json!({
            "address": wire::address(address),
            "totalSlots": total_slots,
            "missedProposals": view.stats.missed_proposals,
            "missedAttestations": view.stats.missed_attestations,
            "history": view.history.iter().map(|(slot, status)| json!({
                "slot": wire::slot(version, *slot),
                "status": wire::status(version, *status),
            })).collect::<Vec<_>>(),
        });
        if let Some(slot) = last_proposal {
            stats["lastProposal"] = self.slot_stamp(*slot);
        }
        if let Some(slot) = last_attestation {
            stats["lastAttestation"] = self.slot_stamp(*slot);
        }
        stats
    }

    fn slot_stamp(&self, slot: Slot) -> Value {
        let ts = self.network.timing().slot_start_s(slot);
        json!({ "timestamp": ts.to_string(), "slot": wire::slot(self.version(), slot), "date": wire::iso_date(ts) })
    }
}
