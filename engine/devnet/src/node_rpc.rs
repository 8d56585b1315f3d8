//! The Aztec node JSON-RPC, answering in the configured generation's namespace and shapes (the
//! [`Dialect`] table): `node_*` with 2.x/4.1.2 shapes, or `aztec_*` (and the `node_*` legacy alias)
//! with the 5.x/6.x ones.
//!
//! Simplifications: every checkpoint holds exactly one L2 block (so block number = checkpoint
//! number), block bodies are not simulated (`blocks: []`), and the finalized tip equals the proven one.

use std::sync::Arc;

use alloy_primitives::{Address, hex};
use serde_json::{Value, json};
use sparta_core::{Generation, Slot, ValidatorStats};

use crate::derive;
use crate::dialect::{CheckpointAnswer, Dialect};
use crate::jsonrpc::{RpcError, RpcHandler, address_param, u64_param};
use crate::network::{Network, SlotRecord};
use crate::params::MAX_CHECKPOINTS_PER_CALL;
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
    fn call(&self, full_method: &str, params: &[Value]) -> Result<Option<Value>, RpcError> {
        let dialect = self.dialect();
        let Some(method) = dialect.method(full_method) else {
            return Err(RpcError::method_not_found(full_method));
        };
        let result = match method {
            "getNodeInfo" => self.node_info(),
            "getNodeVersion" => json!(dialect.node_version),
            "getVersion" => json!(self.network.rollup_version()),
            "getChainId" => json!(self.network.config().chain_id),
            "isReady" => json!(true),
            "getL1ContractAddresses" => self.l1_contract_addresses(),
            tips if tips == dialect.tips_method => self.l2_tips(),
            "getBlockNumber" => self.block_number(params)?,
            "getCheckpointNumber" => json!(self.pending()),
            // Removed in 5.x, where `getBlockNumber` takes the tip instead.
            "getCheckpointedBlockNumber" if dialect.checkpoints != CheckpointAnswer::Response => {
                json!(self.pending())
            }
            "getProvenBlockNumber" if dialect.checkpoints != CheckpointAnswer::Response => {
                json!(self.proven())
            }
            "getCheckpoints" if dialect.checkpoints != CheckpointAnswer::None => self.checkpoints(params)?,
            "getValidatorsStats" => self.validators_stats(),
            "getValidatorStats" => return self.validator_stats(params),
            _ => return Err(RpcError::method_not_found(full_method)),
        };
        Ok(Some(result))
    }

    fn headers(&self) -> Vec<(&'static str, String)> {
        vec![
            ("x-aztec-l1chainid", self.network.config().chain_id.to_string()),
            ("x-aztec-rollupversion", self.network.rollup_version().to_string()),
            ("x-aztec-l1rollupaddress", wire::address(&self.network.addresses().rollup_address)),
            ("x-aztec-packageversion", self.dialect().node_version.to_string()),
        ]
    }
}

impl NodeRpc {
    pub fn new(network: Arc<Network>) -> Self {
        Self { sentinel: Sentinel::new(network.clone()), network }
    }

    fn dialect(&self) -> &'static Dialect {
        Dialect::of(self.network.config().protocol)
    }

    /// `getBlockNumber(tip?)`: 5.x takes a tip name; the simulation has one block per checkpoint.
    fn block_number(&self, params: &[Value]) -> Result<Value, RpcError> {
        match params.first() {
            None | Some(Value::Null) => Ok(json!(self.pending())),
            Some(Value::String(tip)) if self.dialect().checkpoints == CheckpointAnswer::Response => {
                match tip.as_str() {
                    "proposed" | "checkpointed" => Ok(json!(self.pending())),
                    "proven" | "finalized" => Ok(json!(self.proven())),
                    other => Err(RpcError::new(VALIDATION_ERROR, format!("tip: unknown tip {other:?}"))),
                }
            }
            Some(other) => Err(RpcError::new(VALIDATION_ERROR, format!("getBlockNumber takes no {other}"))),
        }
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
        let mut info = json!({
            "nodeVersion": self.dialect().node_version,
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
        });
        if self.dialect().node_info_v5 {
            info["txsLimits"] = json!({ "gas": { "daGas": 786_432, "l2Gas": 6_540_000 } });
        }
        info
    }

    fn l1_contract_addresses(&self) -> Value {
        let a = self.network.addresses();
        let hex = |x: &Address| wire::address(x);
        let mut addresses = json!({
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
        });
        if self.dialect().node_info_v5 {
            addresses.as_object_mut().map(|o| o.remove("slashFactoryAddress"));
        }
        addresses
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
        match self.dialect().checkpoints {
            CheckpointAnswer::Published | CheckpointAnswer::Response => json!({
                "proposed": self.block_id(pending),
                "checkpointed": { "block": self.block_id(pending), "checkpoint": self.checkpoint_id(pending) },
                "proven": { "block": self.block_id(proven), "checkpoint": self.checkpoint_id(proven) },
                "finalized": { "block": self.block_id(proven), "checkpoint": self.checkpoint_id(proven) },
            }),
            CheckpointAnswer::None => json!({
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
        let include = match (self.dialect().checkpoints, params.get(2)) {
            (CheckpointAnswer::Response, options) => Include::from_options(options)?,
            (_, None | Some(Value::Null)) => Include::ALL,
            // 4.1.2's schema is a two-element tuple.
            (_, Some(_)) => {
                return Err(RpcError::new(VALIDATION_ERROR, "Too big: expected array to have <=2 items"));
            }
        };
        let last = self.pending().min(from.saturating_add(limit - 1));
        let published = (from..=last)
            .filter_map(|n| self.network.checkpoint(n))
            .map(|record| match self.dialect().checkpoints {
                CheckpointAnswer::Response => self.checkpoint_response(&record, include),
                _ => self.published_checkpoint(&record),
            })
            .collect();
        Ok(Value::Array(published))
    }

    /// The header, archive and L1 data every checkpoint shape shares.
    fn checkpoint_parts(&self, record: &SlotRecord) -> (Value, Value, Value) {
        let network = &self.network;
        let seed = network.config().seed;
        let number = record.checkpoint.unwrap_or_default();
        let timestamp = network.timing().slot_start_s(record.slot);
        let l1_block = network.l1_block_of(record.slot);
        let h = |tag: &str| wire::fr_bytes(&derive::hash(seed, tag, number, 0));
        let proposer_index = network.validator(&record.proposer).map_or(0, |v| v.index as u64);
        let archive = json!({
            "root": wire::fr_bytes(&network.archive_of(number)),
            "nextAvailableLeafIndex": number + 1,
        });
        let mut header = json!({
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
        });
        let protocol = self.network.config().protocol;
        if protocol >= Generation::V5 {
            header["slotNumber"] = json!(record.slot.0);
            header["accumulatedFees"] = json!(wire::fr(0));
        }
        if protocol >= Generation::V6 {
            let fields = header.as_object_mut().expect("an object");
            fields.remove("inHash");
            fields.insert("inboxRollingHash".into(), json!(h("inbox-rolling-hash")));
        }
        let l1 = json!({
            "blockNumber": l1_block.to_string(),
            "timestamp": timestamp.to_string(),
            "blockHash": wire::fr_bytes(&network.l1_block_hash(l1_block)),
        });
        (header, archive, l1)
    }

    /// 4.1.2 `PublishedCheckpoint`.
    fn published_checkpoint(&self, record: &SlotRecord) -> Value {
        let seed = self.network.config().seed;
        let (header, archive, l1) = self.checkpoint_parts(record);
        // 4.1.2 keeps every member's address, with a zero signature for those that did not sign.
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
                "archive": archive,
                "header": header,
                "blocks": [],
                "number": record.checkpoint.unwrap_or_default(),
                "feeAssetPriceModifier": "0",
            },
            "l1": l1,
            "attestations": attestations,
        })
    }

    /// 5.x/6.x `CheckpointResponse`: `l1` and `attestations` only when asked for.
    fn checkpoint_response(&self, record: &SlotRecord, include: Include) -> Value {
        let seed = self.network.config().seed;
        let number = record.checkpoint.unwrap_or_default();
        let (header, archive, mut l1) = self.checkpoint_parts(record);
        let mut response = json!({
            "number": number,
            "header": header,
            "archive": archive,
            "checkpointOutHash": wire::fr_bytes(&derive::hash(seed, "checkpoint-out-hash", number, 0)),
            "startBlock": number,
            "blockCount": 1,
            "feeAssetPriceModifier": "0",
        });
        if include.l1 {
            l1["published"] = json!(true);
            response["l1"] = l1;
        }
        if include.attestations {
            // Signers are known by their signature (address zero); the others by their address, with
            // an empty signature (`0x` + r, s as zeros + v "0": 129 digits).
            let empty = format!("0x{}", "0".repeat(129));
            let attestations: Vec<Value> = record
                .committee
                .iter()
                .enumerate()
                .map(|(i, member)| {
                    if record.attested.get(i) {
                        let signature = derive::attestation_signature(seed, *member, record.slot.0);
                        json!({ "address": wire::address(&Address::ZERO), "signature": hex::encode_prefixed(signature) })
                    } else {
                        json!({ "address": wire::address(member), "signature": empty })
                    }
                })
                .collect();
            response["attestations"] = json!(attestations);
        }
        response
    }

    fn validators_stats(&self) -> Value {
        let dialect = self.dialect();
        let stats: serde_json::Map<String, Value> = self
            .sentinel
            .all()
            .iter()
            .map(|view| (wire::address(&view.stats.address), self.stats_json(view)))
            .collect();
        let mut result = json!({ "stats": stats, "slotWindow": self.sentinel.slot_window() });
        if let Some(last) = self.sentinel.last_processed_slot() {
            result["lastProcessedSlot"] = wire::slot(dialect, last);
            result["initialSlot"] = wire::slot(dialect, Slot(0));
        }
        result
    }

    fn validator_stats(&self, params: &[Value]) -> Result<Option<Value>, RpcError> {
        let dialect = self.dialect();
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
            "slotWindow": window,
        });
        result[dialect.epoch_performance_field] = json!(performance);
        if let Some(last) = self.sentinel.last_processed_slot() {
            result["lastProcessedSlot"] = wire::slot(dialect, last);
            result["initialSlot"] = wire::slot(dialect, Slot(0));
        }
        Ok(Some(result))
    }

    fn stats_json(&self, view: &SentinelView) -> Value {
        let dialect = self.dialect();
        let ValidatorStats { address, last_proposal, last_attestation, total_slots, .. } = &view.stats;
        let mut stats = json!({
            "address": wire::address(address),
            "totalSlots": total_slots,
            "missedProposals": view.stats.missed_proposals,
            "missedAttestations": view.stats.missed_attestations,
            "history": view.history.iter().map(|(slot, status)| json!({
                "slot": wire::slot(dialect, *slot),
                "status": status.as_str(),
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
        json!({ "timestamp": ts.to_string(), "slot": wire::slot(self.dialect(), slot), "date": wire::iso_date(ts) })
    }
}

/// What a 5.x `getCheckpoints` caller asked to include.
#[derive(Clone, Copy, Debug)]
struct Include {
    l1: bool,
    attestations: bool,
}

impl Include {
    const ALL: Include = Include { l1: true, attestations: true };

    fn from_options(options: Option<&Value>) -> Result<Include, RpcError> {
        let flag = |o: &serde_json::Map<String, Value>, name: &str| match o.get(name) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(other) => {
                Err(RpcError::new(VALIDATION_ERROR, format!("{name}: expected boolean, received {other}")))
            }
        };
        match options {
            None | Some(Value::Null) => Ok(Include { l1: false, attestations: false }),
            Some(Value::Object(o)) => Ok(Include {
                l1: flag(o, "includeL1PublishInfo")?,
                attestations: flag(o, "includeAttestations")?,
            }),
            Some(other) => {
                Err(RpcError::new(VALIDATION_ERROR, format!("options: expected object, received {other}")))
            }
        }
    }
}
