//! `eth_call` against the simulated contracts: Registry, Rollup, GSE, Slasher and the
//! TallySlashingProposer, decoded and encoded with the engine's own `sol!` interfaces.
//!
//! Calls are evaluated as of the block they name (`latest` = the current slot). Reverts carry an
//! `Error(string)` reason named after the contract's custom error.

use alloy_primitives::{Address, Bytes, U256};
use alloy_sol_types::{Revert, SolCall, SolError};
use serde_json::json;
use sparta_chain::l1::abi::{
    AttesterConfig, AttesterView, ChainTips, CheckpointLog, Exit, FeeHeader, G1Point, IEscapeHatch, IGSE,
    IRegistry, IRollup, IRollupV2, ISlasher, ITallySlashingProposer,
    ValidatorSelection__InsufficientValidatorSetSize,
};
use sparta_core::{AttesterStatus, Epoch, Generation, Slot};

use crate::derive;
use crate::jsonrpc::RpcError;
use crate::network::Network;
use crate::params::{
    self, EXECUTION_DELAY_IN_ROUNDS, EXIT_DELAY_S, L1_GENESIS_BLOCK, LAG_IN_EPOCHS_FOR_RANDAO,
    LAG_IN_EPOCHS_FOR_VALIDATOR_SET, LIFETIME_IN_ROUNDS, ROUND_SIZE_IN_EPOCHS, SLASH_OFFSET_IN_ROUNDS,
};

/// The escape hatch contract, when the network has one (4.x on, with hatch epochs scripted).
pub const ESCAPE_HATCH: Address = Address::repeat_byte(0xe5);

/// Geth's code for a revert that carries data.
pub const EXECUTION_REVERTED: i64 = 3;
/// Geth's code for a revert without data (no matching function, no fallback).
pub const SERVER_ERROR: i64 = -32000;

/// A revert with a reason string (`Error(string)`).
pub fn revert(reason: &str) -> RpcError {
    let data = Bytes::from(Revert::from(reason).abi_encode());
    RpcError::new(EXECUTION_REVERTED, format!("execution reverted: {reason}")).with_data(json!(data))
}

/// The contract's custom error for an epoch sampled when the set was smaller than a committee.
fn too_few_validators(committee_size: usize) -> RpcError {
    let error = ValidatorSelection__InsufficientValidatorSetSize {
        actual: U256::ZERO,
        expected: U256::from(committee_size),
    };
    let data = Bytes::from(error.abi_encode());
    RpcError::new(EXECUTION_REVERTED, "execution reverted").with_data(json!(data))
}

fn no_such_function() -> RpcError {
    RpcError::new(SERVER_ERROR, "execution reverted")
}

fn decode<C: SolCall>(data: &[u8]) -> Result<C, RpcError> {
    C::abi_decode(data).map_err(|_| no_such_function())
}

fn ret<C: SolCall>(value: C::Return) -> Result<Vec<u8>, RpcError> {
    Ok(C::abi_encode_returns(&value))
}

/// The simulated contracts, viewed at one slot.
pub struct Contracts<'a> {
    pub network: &'a Network,
    pub at: Slot,
}

impl Contracts<'_> {
    /// Runs a call; `Ok` holds the ABI-encoded return data.
    pub fn call(&self, to: Address, data: &[u8]) -> Result<Vec<u8>, RpcError> {
        let addresses = self.network.addresses();
        if data.len() < 4 {
            return if [addresses.registry_address, addresses.rollup_address].contains(&to) {
                Err(no_such_function())
            } else {
                Ok(Vec::new())
            };
        }
        let selector: [u8; 4] = data[..4].try_into().unwrap_or_default();
        match to {
            a if a == addresses.registry_address => self.registry(selector),
            a if a == addresses.rollup_address => self.rollup(selector, data),
            a if a == addresses.gse_address => self.gse(selector, data),
            a if a == addresses.slasher_address => self.slasher(selector),
            a if a == addresses.slashing_proposer_address => self.tally(selector, data),
            ESCAPE_HATCH if self.has_escape_hatch() => self.escape_hatch(selector, data),
            // An address without code: the call succeeds with empty return data, as on a real chain.
            _ => Ok(Vec::new()),
        }
    }

    /// Rollups from 4.x on know the escape hatch; the devnet installs one when hatch epochs are
    /// scripted.
    fn has_escape_hatch(&self) -> bool {
        self.network.config().protocol >= Generation::V4
            && !self.network.config().escape_hatch_epochs.is_empty()
    }

    fn escape_hatch(&self, selector: [u8; 4], data: &[u8]) -> Result<Vec<u8>, RpcError> {
        match selector {
            IEscapeHatch::isHatchOpenCall::SELECTOR => {
                let call = decode::<IEscapeHatch::isHatchOpenCall>(data)?;
                let epoch = u64::try_from(call._epoch).unwrap_or(u64::MAX);
                let open = self.network.config().escape_hatch_epochs.contains(&epoch);
                // The designated proposer is nobody's concern here: any fixed address will do.
                let proposer = if open { Address::repeat_byte(0xe6) } else { Address::ZERO };
                ret::<IEscapeHatch::isHatchOpenCall>(IEscapeHatch::isHatchOpenReturn {
                    isOpen: open,
                    proposer,
                })
            }
            _ => Err(no_such_function()),
        }
    }

    fn registry(&self, selector: [u8; 4]) -> Result<Vec<u8>, RpcError> {
        match selector {
            IRegistry::getCanonicalRollupCall::SELECTOR => {
                ret::<IRegistry::getCanonicalRollupCall>(self.network.addresses().rollup_address)
            }
            _ => Err(no_such_function()),
        }
    }

    fn rollup(&self, selector: [u8; 4], data: &[u8]) -> Result<Vec<u8>, RpcError> {
        use IRollup::*;
        let n = self.network;
        let config = n.config();
        let u = |v: u64| U256::from(v);
        match selector {
            L1_BLOCK_AT_GENESISCall::SELECTOR => ret::<L1_BLOCK_AT_GENESISCall>(u(L1_GENESIS_BLOCK)),
            getGenesisTimeCall::SELECTOR => ret::<getGenesisTimeCall>(u(config.genesis_time_s)),
            getSlotDurationCall::SELECTOR => ret::<getSlotDurationCall>(u(config.slot_seconds)),
            getEpochDurationCall::SELECTOR => ret::<getEpochDurationCall>(u(config.epoch_slots)),
            getTargetCommitteeSizeCall::SELECTOR => {
                ret::<getTargetCommitteeSizeCall>(u(config.committee_size as u64))
            }
            getLagInEpochsForValidatorSetCall::SELECTOR => {
                ret::<getLagInEpochsForValidatorSetCall>(u(LAG_IN_EPOCHS_FOR_VALIDATOR_SET))
            }
            getLagInEpochsForRandaoCall::SELECTOR => {
                ret::<getLagInEpochsForRandaoCall>(u(LAG_IN_EPOCHS_FOR_RANDAO))
            }
            getVersionCall::SELECTOR => ret::<getVersionCall>(u(n.rollup_version())),
            getCurrentSlotCall::SELECTOR => ret::<getCurrentSlotCall>(u(self.at.0)),
            getCurrentEpochCall::SELECTOR => ret::<getCurrentEpochCall>(u(n.epoch_of(self.at).0)),
            getPendingCheckpointNumberCall::SELECTOR => {
                ret::<getPendingCheckpointNumberCall>(u(n.pending_checkpoint_at(self.at)))
            }
            IRollupV2::getPendingBlockNumberCall::SELECTOR => {
                ret::<IRollupV2::getPendingBlockNumberCall>(u(n.pending_checkpoint_at(self.at)))
            }
            getProvenCheckpointNumberCall::SELECTOR => {
                ret::<getProvenCheckpointNumberCall>(u(n.proven_checkpoint_at(self.at)))
            }
            IRollupV2::getProvenBlockNumberCall::SELECTOR => {
                ret::<IRollupV2::getProvenBlockNumberCall>(u(n.proven_checkpoint_at(self.at)))
            }
            getTipsCall::SELECTOR => ret::<getTipsCall>(ChainTips {
                pending: u(n.pending_checkpoint_at(self.at)),
                proven: u(n.proven_checkpoint_at(self.at)),
            }),
            getCheckpointCall::SELECTOR => {
                let call = decode::<getCheckpointCall>(data)?;
                ret::<getCheckpointCall>(self.checkpoint_log(call._checkpointNumber)?)
            }
            // A 2.x rollup has no such function.
            getEscapeHatchForEpochCall::SELECTOR if config.protocol >= Generation::V4 => ret::<
                getEscapeHatchForEpochCall,
            >(
                if self.has_escape_hatch() { ESCAPE_HATCH } else { Address::ZERO },
            ),
            getEpochCommitteeCall::SELECTOR => {
                let call = decode::<getEpochCommitteeCall>(data)?;
                let epoch = self.stable_epoch(call._epoch)?;
                let committee = n.committee(epoch);
                if committee.is_empty() {
                    return Err(too_few_validators(n.config().committee_size));
                }
                ret::<getEpochCommitteeCall>(committee.to_vec())
            }
            getCommitteeAtCall::SELECTOR => {
                let call = decode::<getCommitteeAtCall>(data)?;
                let epoch = self.stable_epoch(U256::from(n.epoch_of(self.slot_at_ts(call._ts)?).0))?;
                ret::<getCommitteeAtCall>(n.committee(epoch).to_vec())
            }
            getProposerAtCall::SELECTOR => {
                let call = decode::<getProposerAtCall>(data)?;
                let slot = self.slot_at_ts(call._ts)?;
                self.stable_epoch(U256::from(n.epoch_of(slot).0))?;
                ret::<getProposerAtCall>(n.proposer_at(slot))
            }
            getSampleSeedAtCall::SELECTOR => {
                let call = decode::<getSampleSeedAtCall>(data)?;
                let epoch = n.epoch_of(self.slot_at_ts(call._ts)?);
                if epoch.0 > n.epoch_of(self.at).0 + LAG_IN_EPOCHS_FOR_RANDAO {
                    return Err(revert("ValidatorSelection__EpochNotStable"));
                }
                ret::<getSampleSeedAtCall>(n.sample_seed(epoch))
            }
            getStatusCall::SELECTOR => {
                let call = decode::<getStatusCall>(data)?;
                ret::<getStatusCall>(n.status_at(&call._attester, self.at).code())
            }
            getAttesterViewCall::SELECTOR => {
                let call = decode::<getAttesterViewCall>(data)?;
                ret::<getAttesterViewCall>(self.attester_view(&call._attester))
            }
            getActiveAttesterCountCall::SELECTOR => {
                ret::<getActiveAttesterCountCall>(u(n.active_attesters_at(self.at).len() as u64))
            }
            getAttesterAtIndexCall::SELECTOR => {
                let call = decode::<getAttesterAtIndexCall>(data)?;
                let active = n.active_attesters_at(self.at);
                let attester = usize::try_from(call._index)
                    .ok()
                    .and_then(|i| active.get(i).copied())
                    .ok_or_else(|| revert("GSE__OutOfBounds"))?;
                ret::<getAttesterAtIndexCall>(attester)
            }
            getGSECall::SELECTOR => ret::<getGSECall>(n.addresses().gse_address),
            getSlasherCall::SELECTOR => ret::<getSlasherCall>(n.addresses().slasher_address),
            _ => Err(no_such_function()),
        }
    }

    fn gse(&self, selector: [u8; 4], data: &[u8]) -> Result<Vec<u8>, RpcError> {
        match selector {
            IGSE::getAttestersFromIndicesAtTimeCall::SELECTOR => {
                let call = decode::<IGSE::getAttestersFromIndicesAtTimeCall>(data)?;
                if call._instance != self.network.addresses().rollup_address {
                    return Err(revert("GSE__NotRollup"));
                }
                let active = self.network.active_attesters_at(self.slot_at_ts(call._timestamp)?);
                let attesters = call
                    ._indices
                    .iter()
                    .map(|i| usize::try_from(*i).ok().and_then(|i| active.get(i).copied()))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| revert("GSE__OutOfBounds"))?;
                ret::<IGSE::getAttestersFromIndicesAtTimeCall>(attesters)
            }
            _ => Err(no_such_function()),
        }
    }

    fn slasher(&self, selector: [u8; 4]) -> Result<Vec<u8>, RpcError> {
        match selector {
            ISlasher::PROPOSERCall::SELECTOR => {
                ret::<ISlasher::PROPOSERCall>(self.network.addresses().slashing_proposer_address)
            }
            ISlasher::isSlashingEnabledCall::SELECTOR => ret::<ISlasher::isSlashingEnabledCall>(true),
            _ => Err(no_such_function()),
        }
    }

    fn tally(&self, selector: [u8; 4], data: &[u8]) -> Result<Vec<u8>, RpcError> {
        use ITallySlashingProposer::*;
        let n = self.network;
        let round_size = n.round_size();
        let u = |v: u64| U256::from(v);
        match selector {
            // The protocol default quorum; the devnet executes its scripted slashes regardless.
            QUORUMCall::SELECTOR => ret::<QUORUMCall>(u(round_size / 2 + 1)),
            ROUND_SIZECall::SELECTOR => ret::<ROUND_SIZECall>(u(round_size)),
            ROUND_SIZE_IN_EPOCHSCall::SELECTOR => ret::<ROUND_SIZE_IN_EPOCHSCall>(u(ROUND_SIZE_IN_EPOCHS)),
            COMMITTEE_SIZECall::SELECTOR => ret::<COMMITTEE_SIZECall>(u(n.config().committee_size as u64)),
            LIFETIME_IN_ROUNDSCall::SELECTOR => ret::<LIFETIME_IN_ROUNDSCall>(u(LIFETIME_IN_ROUNDS)),
            EXECUTION_DELAY_IN_ROUNDSCall::SELECTOR => {
                ret::<EXECUTION_DELAY_IN_ROUNDSCall>(u(EXECUTION_DELAY_IN_ROUNDS))
            }
            SLASH_OFFSET_IN_ROUNDSCall::SELECTOR => {
                ret::<SLASH_OFFSET_IN_ROUNDSCall>(u(SLASH_OFFSET_IN_ROUNDS))
            }
            getCurrentRoundCall::SELECTOR => ret::<getCurrentRoundCall>(u(n.round_of(self.at))),
            getRoundCall::SELECTOR => {
                let call = decode::<getRoundCall>(data)?;
                let round = u64::try_from(call._round).unwrap_or(u64::MAX);
                let (is_executed, votes) =
                    if round > n.round_of(self.at) { (false, 0) } else { n.round_at(round, self.at) };
                ret::<getRoundCall>(getRoundReturn { isExecuted: is_executed, voteCount: u(votes) })
            }
            getVotesCall::SELECTOR => {
                let call = decode::<getVotesCall>(data)?;
                let round = u64::try_from(call._round).unwrap_or(u64::MAX);
                let index = u64::try_from(call._index).unwrap_or(u64::MAX);
                // The contract indexes past the votes cast into empty storage.
                let vote = n.vote(round, index, self.at).unwrap_or_default();
                ret::<getVotesCall>(vote.into())
            }
            getSlashTargetCommitteesCall::SELECTOR => {
                let call = decode::<getSlashTargetCommitteesCall>(data)?;
                let round = u64::try_from(call._round).unwrap_or(u64::MAX);
                let committees = n.slash_target_committees(round).ok_or_else(|| revert("Panic(0x11)"))?;
                ret::<getSlashTargetCommitteesCall>(committees.iter().map(|c| c.to_vec()).collect())
            }
            _ => Err(no_such_function()),
        }
    }

    /// The slot at an L1 timestamp; a timestamp after the viewed block reverts.
    fn slot_at_ts(&self, ts: U256) -> Result<Slot, RpcError> {
        let ts = u64::try_from(ts).map_err(|_| revert("ValidatorSelection__InvalidTimestamp"))?;
        let slot = self.network.timing().slot_at(ts);
        if slot > self.at {
            return Err(revert("ValidatorSelection__EpochNotStable"));
        }
        Ok(slot)
    }

    /// Committees are known `LAG_IN_EPOCHS_FOR_VALIDATOR_SET` epochs ahead, no further.
    fn stable_epoch(&self, epoch: U256) -> Result<Epoch, RpcError> {
        let current = self.network.epoch_of(self.at).0;
        match u64::try_from(epoch) {
            Ok(e) if e <= current + LAG_IN_EPOCHS_FOR_VALIDATOR_SET => Ok(Epoch(e)),
            _ => Err(revert("ValidatorSelection__EpochNotStable")),
        }
    }

    fn checkpoint_log(&self, number: U256) -> Result<CheckpointLog, RpcError> {
        let n = self.network;
        let pending = n.pending_checkpoint_at(self.at);
        let number = u64::try_from(number).ok().filter(|x| *x <= pending);
        let Some(number) = number else {
            return Err(revert("Rollup__InvalidCheckpointNumber"));
        };
        // L1 keeps checkpoint logs in a circular buffer of about two epochs.
        let buffer = n.config().epoch_slots * 2;
        if pending - number >= buffer {
            return Err(revert("Rollup__UnavailableTempCheckpointLog"));
        }
        let seed = n.config().seed;
        let h = |tag: &str| derive::hash(seed, tag, number, 0);
        let slot = match number {
            0 => Slot(0),
            _ => n
                .checkpoint(number)
                .map(|r| r.slot)
                .ok_or_else(|| revert("Rollup__InvalidCheckpointNumber"))?,
        };
        Ok(CheckpointLog {
            archive: n.archive_of(number),
            headerHash: h("checkpoint-header"),
            blobCommitmentsHash: h("blob-commitments"),
            outHash: h("epoch-out-hash"),
            attestationsHash: h("attestations-hash"),
            payloadDigest: h("payload-digest"),
            slotNumber: U256::from(slot.0),
            feeHeader: FeeHeader {
                excessMana: U256::ZERO,
                manaUsed: U256::ZERO,
                ethPerFeeAsset: U256::from(10_000_000u64),
                congestionCost: U256::ZERO,
                proverCost: U256::ZERO,
            },
        })
    }

    fn attester_view(&self, attester: &Address) -> AttesterView {
        let n = self.network;
        let Some(v) = n.validator(attester) else {
            return empty_view();
        };
        let status = n.status_at(attester, self.at);
        let left_at = v.profile.leaves_at().unwrap_or_default();
        let exitable_at = U256::from(n.timing().slot_start_s(left_at) + EXIT_DELAY_S);
        let (effective_balance, exit) = match status {
            AttesterStatus::Zombie => (
                U256::ZERO,
                Exit {
                    withdrawalId: U256::from(v.index),
                    amount: params::activation_stake() - params::slash_amount(),
                    exitableAt: exitable_at,
                    recipientOrWithdrawer: v.withdrawer,
                    isRecipient: false,
                    exists: true,
                },
            ),
            AttesterStatus::Exiting => (
                U256::ZERO,
                Exit {
                    withdrawalId: U256::from(v.index),
                    amount: params::activation_stake(),
                    exitableAt: exitable_at,
                    recipientOrWithdrawer: v.withdrawer,
                    isRecipient: true,
                    exists: true,
                },
            ),
            _ => (params::activation_stake(), no_exit()),
        };
        let key = |tag: &str| U256::from_be_bytes(derive::hash(n.config().seed, tag, v.index as u64, 0).0);
        AttesterView {
            status: status.code(),
            effectiveBalance: effective_balance,
            exit,
            config: AttesterConfig {
                publicKey: G1Point { x: key("bls-x"), y: key("bls-y") },
                withdrawer: v.withdrawer,
            },
        }
    }
}

fn no_exit() -> Exit {
    Exit {
        withdrawalId: U256::ZERO,
        amount: U256::ZERO,
        exitableAt: U256::ZERO,
        recipientOrWithdrawer: Address::ZERO,
        isRecipient: false,
        exists: false,
    }
}

fn empty_view() -> AttesterView {
    AttesterView {
        status: AttesterStatus::None.code(),
        effectiveBalance: U256::ZERO,
        exit: no_exit(),
        config: AttesterConfig {
            publicKey: G1Point { x: U256::ZERO, y: U256::ZERO },
            withdrawer: Address::ZERO,
        },
    }
}
