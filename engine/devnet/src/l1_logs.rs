//! The simulated L1's logs: [`L1Event`]s encoded with the engine's `sol!` events, and `eth_getLogs`
//! filtering (addresses, topics with wildcards and alternatives, block ranges or a block hash).

use alloy::rpc::types::{BlockNumberOrTag, Filter, FilterBlockOption, Log};
use alloy_primitives::{Address, B256, LogData, U256};
use alloy_sol_types::SolEvent;
use sparta_chain::l1::abi::{IRollup, IRollupV2, ISlashingProposerV6, ITallySlashingProposer};
use sparta_core::{Generation, Slot};

use crate::derive;
use crate::dialect::{Dialect, VoteCastEvent};
use crate::jsonrpc::RpcError;
use crate::network::{L1Event, Network};
use crate::params::{L1_GENESIS_BLOCK, MAX_LOG_RANGE_BLOCKS};

/// `eth_getLogs`.
pub fn get_logs(network: &Network, filter: &Filter) -> Result<Vec<Log>, RpcError> {
    let head = network.l1_head();
    let (from, to) = match filter.block_option {
        FilterBlockOption::AtBlockHash(hash) => {
            let block = find_block(network, hash)
                .ok_or_else(|| RpcError::new(-32000, format!("unknown block {hash}")))?;
            (block, block)
        }
        FilterBlockOption::Range { from_block, to_block } => {
            (resolve(from_block, head), resolve(to_block, head).min(head))
        }
    };
    if from > to {
        return if from > head {
            Ok(Vec::new())
        } else {
            Err(RpcError::invalid_params("invalid block range params"))
        };
    }
    if to - from >= MAX_LOG_RANGE_BLOCKS {
        return Err(RpcError::new(-32005, format!("query exceeds max block range {MAX_LOG_RANGE_BLOCKS}")));
    }
    let mut logs = Vec::new();
    for block in from.max(L1_GENESIS_BLOCK)..=to {
        logs.extend(
            block_logs(network, block)
                .into_iter()
                .filter(|log| filter.matches_address(log.address()) && filter.matches_topics(log.topics())),
        );
    }
    Ok(logs)
}

/// Every log of one L1 block, with positions and hashes filled in as a node returns them.
pub fn block_logs(network: &Network, block: u64) -> Vec<Log> {
    let Some(slot) = network.slot_of_l1_block(block) else {
        return Vec::new();
    };
    let block_hash = network.l1_block_hash(block);
    let timestamp = network.l1_block_timestamp(block);
    network
        .events_at(slot)
        .iter()
        .enumerate()
        .map(|(i, event)| {
            let (address, data) = encode(network, event);
            Log {
                inner: alloy_primitives::Log { address, data },
                block_hash: Some(block_hash),
                block_number: Some(block),
                block_timestamp: Some(timestamp),
                transaction_hash: Some(derive::hash(network.config().seed, "l1-tx", block, i as u64)),
                transaction_index: Some(i as u64),
                log_index: Some(i as u64),
                removed: false,
            }
        })
        .collect()
}

/// The emitting contract and the log payload of an event.
fn encode(network: &Network, event: &L1Event) -> (Address, LogData) {
    let addresses = network.addresses();
    let seed = network.config().seed;
    let rollup = addresses.rollup_address;
    let tally = addresses.slashing_proposer_address;
    match event {
        L1Event::CheckpointProposed { checkpoint, archive } => {
            let number = U256::from(*checkpoint);
            let data = match network.config().protocol {
                Generation::V4 | Generation::V5 | Generation::V6 => IRollup::CheckpointProposed {
                    checkpointNumber: number,
                    archive: *archive,
                    versionedBlobHashes: Vec::new(),
                    payloadDigest: derive::hash(seed, "payload-digest", *checkpoint, 0),
                    attestationsHash: derive::hash(seed, "attestations-hash", *checkpoint, 0),
                }
                .encode_log_data(),
                Generation::V2 => IRollupV2::L2BlockProposed {
                    blockNumber: number,
                    archive: *archive,
                    versionedBlobHashes: Vec::new(),
                }
                .encode_log_data(),
            };
            (rollup, data)
        }
        L1Event::ProofVerified { checkpoint, prover } => (
            rollup,
            IRollup::L2ProofVerified { checkpointNumber: U256::from(*checkpoint), proverId: *prover }
                .encode_log_data(),
        ),
        L1Event::VoteCast { round, slot, proposer } => {
            let (round, slot_number, proposer) = (U256::from(*round), U256::from(slot.0), *proposer);
            let data = match Dialect::of(network.config().protocol).vote_cast {
                VoteCastEvent::Indexed3 => {
                    ITallySlashingProposer::VoteCast { round, slot: slot_number, proposer }.encode_log_data()
                }
                VoteCastEvent::WithVoteIndex => {
                    // The votes the round held before this one: the index `getVotes` reads it at.
                    let before =
                        slot.0.checked_sub(1).map_or(0, |prev| network.round_at(round.to(), Slot(prev)).1);
                    ISlashingProposerV6::VoteCast {
                        round,
                        slot: slot_number,
                        proposer,
                        voteIndex: U256::from(before),
                    }
                    .encode_log_data()
                }
            };
            (tally, data)
        }
        L1Event::Slashed { attester, amount } => {
            (rollup, IRollup::Slashed { attester: *attester, amount: *amount }.encode_log_data())
        }
        L1Event::RoundExecuted { round, slash_count } => (
            tally,
            ITallySlashingProposer::RoundExecuted {
                round: U256::from(*round),
                slashCount: U256::from(*slash_count),
            }
            .encode_log_data(),
        ),
        L1Event::WithdrawInitiated { attester, recipient, amount } => (
            rollup,
            IRollup::WithdrawInitiated { attester: *attester, recipient: *recipient, amount: *amount }
                .encode_log_data(),
        ),
    }
}

/// A block number for a filter bound; tags resolve to the head (the devnet never reorgs, so
/// `safe` and `finalized` are the head too).
fn resolve(tag: Option<BlockNumberOrTag>, head: u64) -> u64 {
    match tag {
        Some(BlockNumberOrTag::Number(n)) => n,
        Some(BlockNumberOrTag::Earliest) => 0,
        _ => head,
    }
}

/// The number of a recent block (within the log range limit) with this hash.
pub fn find_block(network: &Network, hash: B256) -> Option<u64> {
    let head = network.l1_head();
    (head.saturating_sub(MAX_LOG_RANGE_BLOCKS)..=head).rev().find(|b| network.l1_block_hash(*b) == hash)
}
