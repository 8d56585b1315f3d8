//! A scripted L1: answers `eth_call` by target and selector with alloy-encoded return data, and
//! `eth_getLogs` from a list of logs filtered by block range.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use alloy::rpc::types::Log;
use alloy_primitives::{Address, Bytes, LogData, U256, hex};
use alloy_sol_types::{SolCall, SolError, SolEvent};
use serde_json::{Value, json};
use sparta_chain::l1::abi::{
    ChainTips, IRegistry, IRollup, ISlasher, ValidatorSelection__InsufficientCommitteeSize,
    ValidatorSelection__InsufficientValidatorSetSize,
};
use sparta_core::{ChainTiming, Slot};

use crate::rpc_double::{Reply, RpcDouble};

pub const REGISTRY: Address = Address::repeat_byte(0xee);
pub const ROLLUP: Address = Address::repeat_byte(0x70);
pub const SLASHER: Address = Address::repeat_byte(0x5a);
pub const PROPOSER_CONTRACT: Address = Address::repeat_byte(0x5b);

pub const TIMING: ChainTiming =
    ChainTiming { genesis_time_s: 1_700_000_000, slot_duration_s: 36, epoch_duration_slots: 4 };

#[derive(Clone, Debug)]
pub struct FakeL1 {
    pub chain_id: u64,
    pub head_block: u64,
    pub current_slot: u64,
    pub rollup: Address,
    pub target_committee_size: u64,
    /// What `getGenesisTime` answers (the timing's genesis unless a test lies).
    pub genesis_time_s: u64,
    /// Reverts "too few validators" under the error's 2.x name.
    pub v2_error_names: bool,
    pub l1_block_at_genesis: u64,
    pub committees: HashMap<u64, Vec<Address>>,
    /// Epochs whose committee query reverts (not yet stable).
    pub unstable_epochs: HashSet<u64>,
    pub proposers: HashMap<u64, Address>,
    pub statuses: HashMap<Address, u8>,
    pub tips: (u64, u64),
    pub active_attesters: u64,
    pub logs: Vec<Log>,
}

impl Default for FakeL1 {
    fn default() -> Self {
        Self {
            chain_id: 31_337,
            head_block: 200,
            current_slot: 20,
            rollup: ROLLUP,
            target_committee_size: 4,
            genesis_time_s: TIMING.genesis_time_s,
            v2_error_names: false,
            l1_block_at_genesis: 100,
            committees: HashMap::new(),
            unstable_epochs: HashSet::new(),
            proposers: HashMap::new(),
            statuses: HashMap::new(),
            tips: (7, 5),
            active_attesters: 12,
            logs: Vec::new(),
        }
    }
}

/// How a call reverts: with a reason string, or with a custom error's data.
enum Revert {
    Reason(String),
    Data(Vec<u8>),
}

impl FakeL1 {
    /// Adds a log emitted by `address` in `block`, timestamped like the block of an L1 chain whose
    /// genesis-slot block is `l1_block_at_genesis`, 12 s apart.
    pub fn push_log(&mut self, address: Address, block: u64, data: LogData) {
        let timestamp = TIMING.genesis_time_s + (block - self.l1_block_at_genesis) * 12;
        self.logs.push(Log {
            inner: alloy_primitives::Log { address, data },
            block_number: Some(block),
            block_timestamp: Some(timestamp),
            ..Default::default()
        });
    }

    pub fn push_event(&mut self, address: Address, block: u64, event: &impl SolEvent) {
        self.push_log(address, block, event.encode_log_data());
    }

    pub async fn serve(self) -> (RpcDouble, Arc<Mutex<FakeL1>>) {
        let state = Arc::new(Mutex::new(self));
        let shared = state.clone();
        let double =
            RpcDouble::start(move |method, params| shared.lock().unwrap().answer(method, params)).await;
        (double, state)
    }

    fn answer(&self, method: &str, params: &[Value]) -> Reply {
        match method {
            "eth_chainId" => Reply::Result(json!(format!("{:#x}", self.chain_id))),
            "eth_blockNumber" => Reply::Result(json!(format!("{:#x}", self.head_block))),
            "eth_call" => self.call(&params[0]),
            "eth_getLogs" => Reply::Result(self.logs_in(&params[0])),
            other => Reply::Error { code: -32601, message: format!("method {other} not supported") },
        }
    }

    fn call(&self, tx: &Value) -> Reply {
        let to: Address = tx["to"].as_str().and_then(|s| s.parse().ok()).unwrap_or_default();
        let input = tx.get("input").or_else(|| tx.get("data")).and_then(Value::as_str).unwrap_or("0x");
        let input = hex::decode(input).unwrap_or_default();
        match self.encode_return(to, &input) {
            Some(Ok(data)) => Reply::Result(json!(format!("0x{}", hex::encode(data)))),
            Some(Err(Revert::Reason(reason))) => {
                Reply::Error { code: 3, message: format!("execution reverted: {reason}") }
            }
            Some(Err(Revert::Data(data))) => Reply::Revert { data: format!("0x{}", hex::encode(data)) },
            // Like calling an address without code: success with empty data.
            None => Reply::Result(json!("0x")),
        }
    }

    fn encode_return(&self, to: Address, input: &[u8]) -> Option<Result<Vec<u8>, Revert>> {
        let u = |v: u64| U256::from(v);
        let selector: [u8; 4] = input.get(..4)?.try_into().ok()?;
        let data = match (to, selector) {
            (REGISTRY, IRegistry::getCanonicalRollupCall::SELECTOR) => {
                IRegistry::getCanonicalRollupCall::abi_encode_returns(&self.rollup)
            }
            (ROLLUP, IRollup::getGenesisTimeCall::SELECTOR) => {
                IRollup::getGenesisTimeCall::abi_encode_returns(&u(self.genesis_time_s))
            }
            (ROLLUP, IRollup::getSlotDurationCall::SELECTOR) => {
                IRollup::getSlotDurationCall::abi_encode_returns(&u(TIMING.slot_duration_s))
            }
            (ROLLUP, IRollup::getEpochDurationCall::SELECTOR) => {
                IRollup::getEpochDurationCall::abi_encode_returns(&u(TIMING.epoch_duration_slots))
            }
            (ROLLUP, IRollup::getTargetCommitteeSizeCall::SELECTOR) => {
                IRollup::getTargetCommitteeSizeCall::abi_encode_returns(&u(self.target_committee_size))
            }
            (ROLLUP, IRollup::L1_BLOCK_AT_GENESISCall::SELECTOR) => {
                IRollup::L1_BLOCK_AT_GENESISCall::abi_encode_returns(&u(self.l1_block_at_genesis))
            }
            (ROLLUP, IRollup::getSlasherCall::SELECTOR) => {
                IRollup::getSlasherCall::abi_encode_returns(&SLASHER)
            }
            (SLASHER, ISlasher::PROPOSERCall::SELECTOR) => {
                ISlasher::PROPOSERCall::abi_encode_returns(&PROPOSER_CONTRACT)
            }
            (ROLLUP, IRollup::getCurrentSlotCall::SELECTOR) => {
                IRollup::getCurrentSlotCall::abi_encode_returns(&u(self.current_slot))
            }
            (ROLLUP, IRollup::getTipsCall::SELECTOR) => {
                IRollup::getTipsCall::abi_encode_returns(&ChainTips {
                    pending: u(self.tips.0),
                    proven: u(self.tips.1),
                })
            }
            (ROLLUP, IRollup::getActiveAttesterCountCall::SELECTOR) => {
                IRollup::getActiveAttesterCountCall::abi_encode_returns(&u(self.active_attesters))
            }
            (ROLLUP, IRollup::getEpochCommitteeCall::SELECTOR) => {
                let epoch = IRollup::getEpochCommitteeCall::abi_decode(input).ok()?._epoch.to::<u64>();
                if self.unstable_epochs.contains(&epoch) {
                    return Some(Err(Revert::Reason("ValidatorSelection__EpochNotStable".into())));
                }
                // As the contract does: an epoch without a committee had too few validators.
                let Some(committee) = self.committees.get(&epoch).cloned() else {
                    let (actual, expected) = (U256::ZERO, U256::from(self.target_committee_size));
                    let data = if self.v2_error_names {
                        ValidatorSelection__InsufficientCommitteeSize { actual, expected }.abi_encode()
                    } else {
                        ValidatorSelection__InsufficientValidatorSetSize { actual, expected }.abi_encode()
                    };
                    return Some(Err(Revert::Data(data)));
                };
                IRollup::getEpochCommitteeCall::abi_encode_returns(&committee)
            }
            (ROLLUP, IRollup::getProposerAtCall::SELECTOR) => {
                let ts = IRollup::getProposerAtCall::abi_decode(input).ok()?._ts.to::<u64>();
                let slot = TIMING.slot_at(ts);
                assert_eq!(TIMING.slot_start_s(slot), ts, "proposer asked at a slot's start");
                let proposer = self.proposers.get(&slot.0).copied().unwrap_or_default();
                IRollup::getProposerAtCall::abi_encode_returns(&proposer)
            }
            (ROLLUP, IRollup::getStatusCall::SELECTOR) => {
                let attester = IRollup::getStatusCall::abi_decode(input).ok()?._attester;
                IRollup::getStatusCall::abi_encode_returns(
                    &self.statuses.get(&attester).copied().unwrap_or(1),
                )
            }
            _ => return None,
        };
        Some(Ok(data))
    }

    fn logs_in(&self, filter: &Value) -> Value {
        let block = |key: &str| {
            filter[key].as_str().and_then(|s| u64::from_str_radix(s.trim_start_matches("0x"), 16).ok())
        };
        let (from, to) = (block("fromBlock").unwrap_or(0), block("toBlock").unwrap_or(u64::MAX));
        let logs: Vec<&Log> =
            self.logs.iter().filter(|l| l.block_number.is_some_and(|b| (from..=to).contains(&b))).collect();
        serde_json::to_value(logs).unwrap()
    }
}

/// The slot an event at `block` is in, by [`FakeL1::push_log`]'s clock.
pub fn slot_of_block(l1: &FakeL1, block: u64) -> Slot {
    TIMING.slot_at(TIMING.genesis_time_s + (block - l1.l1_block_at_genesis) * 12)
}

/// An unknown log (skipped by the reader).
pub fn foreign_log() -> LogData {
    LogData::new_unchecked(vec![alloy_primitives::B256::repeat_byte(0x42)], Bytes::new())
}
