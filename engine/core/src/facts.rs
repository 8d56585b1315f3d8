//! Per-slot facts: what the chain says happened in one slot. This is the monitor's only input.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::Address;
use crate::generation::Generation;
use crate::time::{Epoch, Slot};

/// What became of the slot's proposal (the proposer's duty), in Sentinel terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ProposalOutcome {
    /// A checkpoint for this slot landed on L1.
    Mined,
    /// Not on L1, but at least one committee member attested to it.
    Proposed,
    /// Blocks for the slot were seen, but no checkpoint was attested or published.
    CheckpointMissed,
    /// Nothing at all was seen for the slot.
    BlocksMissed,
    /// v5+: the node re-executed the checkpoint proposal and rejected it (the proposer's fault).
    Invalid,
    /// v5+: the node saw a checkpoint proposal but could not validate it (the proposer's fault).
    Unvalidated,
    /// The node reported a status sparta does not know (a newer generation): kept, never judged.
    Unknown,
}

impl ProposalOutcome {
    /// The proposer did its duty.
    pub fn is_good(self) -> bool {
        matches!(self, ProposalOutcome::Mined | ProposalOutcome::Proposed)
    }
}

/// A bitset over committee positions: bit `i` set means `committee[i]` attested.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CommitteeBits(Vec<u64>);

impl CommitteeBits {
    pub fn with_len(len: usize) -> Self {
        Self(vec![0; len.div_ceil(64)])
    }

    pub fn set(&mut self, index: usize) {
        let word = index / 64;
        if word >= self.0.len() {
            self.0.resize(word + 1, 0);
        }
        self.0[word] |= 1 << (index % 64);
    }

    pub fn get(&self, index: usize) -> bool {
        self.0.get(index / 64).is_some_and(|w| w & (1 << (index % 64)) != 0)
    }

    pub fn count(&self) -> usize {
        self.0.iter().map(|w| w.count_ones() as usize).sum()
    }

    pub fn words(&self) -> &[u64] {
        &self.0
    }

    pub fn from_words(words: Vec<u64>) -> Self {
        Self(words)
    }
}

/// Everything the monitor needs to know about one slot.
///
/// `committee` is shared by every slot of an epoch (an `Arc`), so a batch of 32 slots costs one list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotFacts {
    pub slot: Slot,
    pub epoch: Epoch,
    /// The epoch's committee in L1 order; empty when the network has no committee (then nothing is judged).
    pub committee: Arc<[Address]>,
    /// The slot's proposer (a committee member), `None` when there is no committee.
    pub proposer: Option<Address>,
    pub outcome: ProposalOutcome,
    /// Which committee members attested (signed on L1 or seen on p2p). The proposer's own bit is ignored.
    pub attested: CommitteeBits,
    /// The protocol generation the slot was observed under: whose Sentinel rule judges it.
    #[serde(default)]
    pub generation: Generation,
}

impl SlotFacts {
    /// The committee members that attested, in committee order.
    pub fn attesters(&self) -> impl Iterator<Item = Address> + '_ {
        self.committee.iter().enumerate().filter(|(i, _)| self.attested.get(*i)).map(|(_, a)| *a)
    }

    /// How many non-proposer committee members failed to attest (0 when the slot's generation does not
    /// blame silent attesters for its outcome).
    pub fn missed_attestations(&self) -> usize {
        if !self.generation.attesters_blamed(self.outcome) {
            return 0;
        }
        self.committee
            .iter()
            .enumerate()
            .filter(|(i, a)| Some(**a) != self.proposer && !self.attested.get(*i))
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committee_bits_set_get_count() {
        let mut bits = CommitteeBits::with_len(48);
        bits.set(0);
        bits.set(47);
        bits.set(100);
        assert!(bits.get(0) && bits.get(47) && bits.get(100));
        assert!(!bits.get(1) && !bits.get(1_000));
        assert_eq!(bits.count(), 3);
    }

    #[test]
    fn missed_attestations_exclude_the_proposer_and_unaccountable_slots() {
        let committee: Arc<[Address]> = (1..=4u8).map(Address::repeat_byte).collect();
        let mut attested = CommitteeBits::with_len(4);
        attested.set(1);
        let mut facts = SlotFacts {
            slot: Slot(5),
            epoch: Epoch(0),
            proposer: Some(committee[0]),
            committee,
            outcome: ProposalOutcome::Mined,
            attested,
            generation: Generation::V4,
        };
        assert_eq!(facts.missed_attestations(), 2);
        assert_eq!(facts.attesters().collect::<Vec<_>>(), vec![Address::repeat_byte(2)]);
        facts.outcome = ProposalOutcome::BlocksMissed;
        assert_eq!(facts.missed_attestations(), 0);
    }
}
