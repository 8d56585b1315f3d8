//! Rollup and slashing-proposer logs, decoded into one enum. Logs this version does not know are skipped.

use alloy::rpc::types::Log;
use alloy_primitives::{Address, B256, U256};
use alloy_sol_types::SolEvent;

use super::abi::{IRollup, IRollupV2, ISlashingProposerV6, ITallySlashingProposer};
use super::error::L1Error;

/// One decoded L1 log with where it landed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct L1Event {
    pub l1_block: u64,
    /// The block's timestamp when the L1 node includes it in the log (`blockTimestamp`).
    pub l1_timestamp: Option<u64>,
    pub kind: L1EventKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum L1EventKind {
    Slashed {
        attester: Address,
        amount: U256,
    },
    WithdrawInitiated {
        attester: Address,
        recipient: Address,
        amount: U256,
    },
    PrunedPending {
        proven_checkpoint: U256,
        pending_checkpoint: U256,
    },
    CheckpointProposed {
        checkpoint: U256,
        archive: B256,
    },
    L2ProofVerified {
        checkpoint: U256,
        prover: Address,
    },
    /// 4.x/5.x `VoteCast(round, slot, proposer)`, or 6.x with the vote's index.
    VoteCast {
        round: U256,
        slot: U256,
        proposer: Address,
        vote_index: Option<U256>,
    },
    RoundExecuted {
        round: U256,
        slash_count: U256,
    },
    /// v2 (block-based) rollups.
    L2BlockProposed {
        block: U256,
        archive: B256,
    },
}

/// Decodes a log: `Ok(None)` when its topic is not one sparta reads or it has no block number yet
/// (pending). A log with a known topic that does not decode is an error, never skipped: it could be
/// a slash, and a changed ABI must stop the reader loudly rather than lose it.
pub fn decode_log(log: &Log) -> Result<Option<L1Event>, L1Error> {
    let (Some(l1_block), Some(&topic)) = (log.block_number, log.topic0()) else { return Ok(None) };
    let kind = if topic == IRollup::Slashed::SIGNATURE_HASH {
        let e: IRollup::Slashed = decode(log, l1_block)?;
        L1EventKind::Slashed { attester: e.attester, amount: e.amount }
    } else if topic == IRollup::WithdrawInitiated::SIGNATURE_HASH {
        let e: IRollup::WithdrawInitiated = decode(log, l1_block)?;
        L1EventKind::WithdrawInitiated { attester: e.attester, recipient: e.recipient, amount: e.amount }
    } else if topic == IRollup::PrunedPending::SIGNATURE_HASH {
        let e: IRollup::PrunedPending = decode(log, l1_block)?;
        L1EventKind::PrunedPending {
            proven_checkpoint: e.provenCheckpointNumber,
            pending_checkpoint: e.pendingCheckpointNumber,
        }
    } else if topic == IRollup::CheckpointProposed::SIGNATURE_HASH {
        let e: IRollup::CheckpointProposed = decode(log, l1_block)?;
        L1EventKind::CheckpointProposed { checkpoint: e.checkpointNumber, archive: e.archive }
    } else if topic == IRollup::L2ProofVerified::SIGNATURE_HASH {
        let e: IRollup::L2ProofVerified = decode(log, l1_block)?;
        L1EventKind::L2ProofVerified { checkpoint: e.checkpointNumber, prover: e.proverId }
    } else if topic == ITallySlashingProposer::VoteCast::SIGNATURE_HASH {
        let e: ITallySlashingProposer::VoteCast = decode(log, l1_block)?;
        L1EventKind::VoteCast { round: e.round, slot: e.slot, proposer: e.proposer, vote_index: None }
    } else if topic == ISlashingProposerV6::VoteCast::SIGNATURE_HASH {
        let e: ISlashingProposerV6::VoteCast = decode(log, l1_block)?;
        L1EventKind::VoteCast {
            round: e.round,
            slot: e.slot,
            proposer: e.proposer,
            vote_index: Some(e.voteIndex),
        }
    } else if topic == ITallySlashingProposer::RoundExecuted::SIGNATURE_HASH {
        let e: ITallySlashingProposer::RoundExecuted = decode(log, l1_block)?;
        L1EventKind::RoundExecuted { round: e.round, slash_count: e.slashCount }
    } else if topic == IRollupV2::L2BlockProposed::SIGNATURE_HASH {
        let e: IRollupV2::L2BlockProposed = decode(log, l1_block)?;
        L1EventKind::L2BlockProposed { block: e.blockNumber, archive: e.archive }
    } else {
        return Ok(None);
    };
    Ok(Some(L1Event { l1_block, l1_timestamp: log.block_timestamp, kind }))
}

fn decode<E: SolEvent>(log: &Log, l1_block: u64) -> Result<E, L1Error> {
    E::decode_log_data(log.data()).map_err(|e| L1Error::Decode {
        function: "eth_getLogs",
        detail: format!("{} log in L1 block {l1_block} does not decode: {e}", E::SIGNATURE),
    })
}

/// Every topic0 [`decode_log`] understands (for the `eth_getLogs` filter).
pub fn known_topics() -> Vec<B256> {
    vec![
        IRollup::Slashed::SIGNATURE_HASH,
        IRollup::WithdrawInitiated::SIGNATURE_HASH,
        IRollup::PrunedPending::SIGNATURE_HASH,
        IRollup::CheckpointProposed::SIGNATURE_HASH,
        IRollup::L2ProofVerified::SIGNATURE_HASH,
        ITallySlashingProposer::VoteCast::SIGNATURE_HASH,
        ISlashingProposerV6::VoteCast::SIGNATURE_HASH,
        ITallySlashingProposer::RoundExecuted::SIGNATURE_HASH,
        IRollupV2::L2BlockProposed::SIGNATURE_HASH,
    ]
}

#[cfg(test)]
mod tests {
    use alloy_primitives::LogData;

    use super::*;

    fn rpc_log(data: LogData, block: Option<u64>) -> Log {
        Log {
            inner: alloy_primitives::Log { address: Address::repeat_byte(9), data },
            block_number: block,
            block_timestamp: Some(1_000),
            ..Default::default()
        }
    }

    #[test]
    fn known_logs_decode_with_their_block() {
        let slashed = IRollup::Slashed { attester: Address::repeat_byte(1), amount: U256::from(5) };
        let event = decode_log(&rpc_log(slashed.encode_log_data(), Some(77))).unwrap().unwrap();
        assert_eq!(event.l1_block, 77);
        assert_eq!(event.l1_timestamp, Some(1_000));
        assert_eq!(
            event.kind,
            L1EventKind::Slashed { attester: Address::repeat_byte(1), amount: U256::from(5) }
        );

        let vote = ITallySlashingProposer::VoteCast {
            round: U256::from(3),
            slot: U256::from(400),
            proposer: Address::repeat_byte(2),
        };
        let event = decode_log(&rpc_log(vote.encode_log_data(), Some(78))).unwrap().unwrap();
        assert!(
            matches!(event.kind, L1EventKind::VoteCast { proposer, .. } if proposer == Address::repeat_byte(2))
        );
    }

    #[test]
    fn both_vote_cast_events_decode() {
        let v6 = ISlashingProposerV6::VoteCast {
            round: U256::from(3),
            slot: U256::from(400),
            proposer: Address::repeat_byte(2),
            voteIndex: U256::from(7),
        };
        assert_ne!(
            ISlashingProposerV6::VoteCast::SIGNATURE_HASH,
            ITallySlashingProposer::VoteCast::SIGNATURE_HASH
        );
        assert!(known_topics().contains(&ISlashingProposerV6::VoteCast::SIGNATURE_HASH));
        let event = decode_log(&rpc_log(v6.encode_log_data(), Some(79))).unwrap().unwrap();
        assert_eq!(
            event.kind,
            L1EventKind::VoteCast {
                round: U256::from(3),
                slot: U256::from(400),
                proposer: Address::repeat_byte(2),
                vote_index: Some(U256::from(7)),
            }
        );
    }

    #[test]
    fn unknown_and_pending_logs_are_skipped_and_a_malformed_known_one_is_an_error() {
        let unknown = LogData::new_unchecked(vec![B256::repeat_byte(0xee)], Default::default());
        assert_eq!(decode_log(&rpc_log(unknown, Some(1))).unwrap(), None);
        let slashed = IRollup::Slashed { attester: Address::ZERO, amount: U256::ZERO }.encode_log_data();
        assert_eq!(decode_log(&rpc_log(slashed, None)).unwrap(), None, "a pending log has no block yet");
        let no_indexed = LogData::new_unchecked(vec![IRollup::Slashed::SIGNATURE_HASH], Default::default());
        let err = decode_log(&rpc_log(no_indexed, Some(12))).unwrap_err().to_string();
        assert!(err.contains("Slashed(address,uint256) log in L1 block 12 does not decode"), "{err}");
    }
}
