//! The tally slashing proposer's open rounds: which validators a round's votes would slash, and when
//! the round can be executed. Votes are read from the contract (`getVotes`), the committees they index
//! from `getSlashTargetCommittees`, and the timing from its immutables.

use alloy_primitives::{Address, Bytes, U256};
use serde::Serialize;
use sparta_core::{SlashVoteTarget, Slot};

use super::abi::ITallySlashingProposer;
use super::error::L1Error;
use super::reader::L1Reader;
use crate::instrument::timed;

/// The proposer's immutables that place a round in time and say what wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct TallyParams {
    pub quorum: u64,
    /// Slots per round.
    pub round_size: u64,
    pub round_size_in_epochs: u64,
    pub committee_size: u64,
    pub execution_delay_in_rounds: u64,
    pub lifetime_in_rounds: u64,
}

impl TallyParams {
    /// The first slot from which the round can be executed (`currentRound > round + delay`).
    pub fn executable_from(&self, round: u64) -> Slot {
        Slot((round + self.execution_delay_in_rounds + 1) * self.round_size)
    }

    /// The first slot at which the round can no longer be executed (`currentRound > round + lifetime`).
    pub fn expires_at(&self, round: u64) -> Slot {
        Slot((round + self.lifetime_in_rounds + 1) * self.round_size)
    }
}

/// A round's votes as read, with the committees they index.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoundVotes {
    pub executed: bool,
    pub votes: Vec<Bytes>,
    pub committees: Vec<Vec<Address>>,
}

/// The slash units one vote gives each validator of the target committees: validator
/// `epoch_index * committee_size + position` sits in byte `i / 4`, bits `2 * (i % 4)` and up.
pub fn decode_vote(vote: &[u8], committees: &[Vec<Address>], committee_size: usize) -> Vec<(Address, u8)> {
    let mut out = Vec::new();
    for (epoch_index, committee) in committees.iter().enumerate() {
        for (position, validator) in committee.iter().enumerate() {
            let i = epoch_index * committee_size + position;
            let Some(byte) = vote.get(i / 4) else { continue };
            let units = (byte >> (2 * (i % 4))) & 0b11;
            if units > 0 {
                out.push((*validator, units));
            }
        }
    }
    out
}

/// Every validator at least one vote would slash, with the count of such votes and the most units asked.
pub fn tally(votes: &[Bytes], committees: &[Vec<Address>], committee_size: usize) -> Vec<SlashVoteTarget> {
    let mut targets: Vec<SlashVoteTarget> = Vec::new();
    for vote in votes {
        for (validator, units) in decode_vote(vote, committees, committee_size) {
            match targets.iter_mut().find(|t| t.validator == validator) {
                Some(t) => {
                    t.votes += 1;
                    t.max_units = t.max_units.max(units);
                }
                None => targets.push(SlashVoteTarget { validator, votes: 1, max_units: units }),
            }
        }
    }
    targets.sort_by_key(|t| t.validator);
    targets
}

impl L1Reader {
    /// The proposer's immutables; `None` when slashing is not set up.
    pub async fn tally_params(&self) -> Result<Option<TallyParams>, L1Error> {
        let Some(proposer) = self.params().slashing_proposer else { return Ok(None) };
        let p = ITallySlashingProposer::new(proposer, self.provider().clone());
        let read = |function: &'static str, value: Result<U256, alloy::contract::Error>| {
            let value = value.map_err(|e| self.call_error(function, e))?;
            u64::try_from(value)
                .map_err(|_| L1Error::Decode { function, detail: format!("{value} does not fit in 64 bits") })
        };
        let params = timed("l1", "tallyParams", async {
            Ok::<_, L1Error>(TallyParams {
                quorum: read("QUORUM", p.QUORUM().call().await)?,
                round_size: read("ROUND_SIZE", p.ROUND_SIZE().call().await)?,
                round_size_in_epochs: read("ROUND_SIZE_IN_EPOCHS", p.ROUND_SIZE_IN_EPOCHS().call().await)?,
                committee_size: read("COMMITTEE_SIZE", p.COMMITTEE_SIZE().call().await)?,
                execution_delay_in_rounds: read(
                    "EXECUTION_DELAY_IN_ROUNDS",
                    p.EXECUTION_DELAY_IN_ROUNDS().call().await,
                )?,
                lifetime_in_rounds: read("LIFETIME_IN_ROUNDS", p.LIFETIME_IN_ROUNDS().call().await)?,
            })
        })
        .await?;
        if params.round_size == 0 || params.committee_size == 0 {
            return Err(L1Error::Decode {
                function: "ROUND_SIZE",
                detail: format!(
                    "round size {} / committee size {} must be > 0",
                    params.round_size, params.committee_size
                ),
            });
        }
        Ok(Some(params))
    }

    /// Whether the round was executed and how many votes it holds.
    pub async fn round(&self, round: u64) -> Result<(bool, u64), L1Error> {
        let p = self.tally_contract("getRound")?;
        let call = p.getRound(U256::from(round));
        let answer =
            timed("l1", "getRound", async { call.call().await.map_err(|e| self.call_error("getRound", e)) })
                .await?;
        let count = u64::try_from(answer.voteCount).map_err(|_| L1Error::Decode {
            function: "getRound",
            detail: format!("vote count {} does not fit in 64 bits", answer.voteCount),
        })?;
        Ok((answer.isExecuted, count))
    }

    /// The `index`-th vote of the round.
    pub async fn vote(&self, round: u64, index: u64) -> Result<Bytes, L1Error> {
        let p = self.tally_contract("getVotes")?;
        let call = p.getVotes(U256::from(round), U256::from(index));
        timed("l1", "getVotes", async { call.call().await.map_err(|e| self.call_error("getVotes", e)) }).await
    }

    /// The committees of the epochs the round votes on, in vote order.
    pub async fn slash_target_committees(&self, round: u64) -> Result<Vec<Vec<Address>>, L1Error> {
        let p = self.tally_contract("getSlashTargetCommittees")?;
        let call = p.getSlashTargetCommittees(U256::from(round));
        timed("l1", "getSlashTargetCommittees", async {
            call.call().await.map_err(|e| self.call_error("getSlashTargetCommittees", e))
        })
        .await
    }

    fn tally_contract(
        &self,
        function: &'static str,
    ) -> Result<ITallySlashingProposer::ITallySlashingProposerInstance<alloy::providers::DynProvider>, L1Error>
    {
        let proposer = self
            .params()
            .slashing_proposer
            .ok_or(L1Error::Reverted { function, detail: "the rollup has no slashing proposer".into() })?;
        Ok(ITallySlashingProposer::new(proposer, self.provider().clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn committee(tag: u8, n: usize) -> Vec<Address> {
        (0..n).map(|i| Address::repeat_byte(tag.wrapping_add(i as u8))).collect()
    }

    #[test]
    fn a_vote_packs_two_bits_per_validator_lsb_first() {
        let committees = vec![committee(0x10, 4), committee(0x20, 4)];
        // Epoch 0: position 1 → 2 units (bits 2-3 of byte 0). Epoch 1: position 2 → i = 6, byte 1, bits 4-5 → 3 units.
        let vote = [0b0000_1000u8, 0b0011_0000];
        let decoded = decode_vote(&vote, &committees, 4);
        assert_eq!(decoded, vec![(Address::repeat_byte(0x11), 2), (Address::repeat_byte(0x22), 3)]);
        assert!(decode_vote(&[], &committees, 4).is_empty(), "a short vote slashes nobody it does not cover");
    }

    #[test]
    fn tally_counts_votes_per_validator_and_the_largest_ask() {
        let committees = vec![committee(0x10, 4)];
        let votes = [Bytes::from(vec![0b01u8]), Bytes::from(vec![0b11u8 | 0b0100]), Bytes::from(vec![0u8])];
        let targets = tally(&votes, &committees, 4);
        assert_eq!(
            targets,
            vec![
                SlashVoteTarget { validator: Address::repeat_byte(0x10), votes: 2, max_units: 3 },
                SlashVoteTarget { validator: Address::repeat_byte(0x11), votes: 1, max_units: 1 },
            ]
        );
    }

    #[test]
    fn a_round_opens_after_the_delay_and_closes_after_its_lifetime() {
        let p = TallyParams {
            quorum: 65,
            round_size: 128,
            round_size_in_epochs: 4,
            committee_size: 48,
            execution_delay_in_rounds: 28,
            lifetime_in_rounds: 34,
        };
        assert_eq!(p.executable_from(10), Slot(39 * 128));
        assert_eq!(p.expires_at(10), Slot(45 * 128));
    }
}
