//! Shared synthetic inputs for the benches: a deterministic network of validators and its per-slot facts.

use std::sync::Arc;

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sparta_core::{Address, CommitteeBits, Epoch, ProposalOutcome, Slot, SlotFacts};

/// The `index`-th synthetic validator address (distinct for every index).
pub fn address(index: usize) -> Address {
    Address::left_padding_from(&(index as u64 + 1).to_be_bytes())
}

/// A seeded network: a committee sampled per epoch, ~95% of seats attesting, ~90% of slots mined.
pub struct SyntheticNetwork {
    validators: Vec<Address>,
    committee_size: usize,
    epoch_duration_slots: u64,
    rng: ChaCha8Rng,
    committee: Option<(Epoch, Arc<[Address]>)>,
}

impl SyntheticNetwork {
    pub fn new(validators: usize, committee_size: usize, epoch_duration_slots: u64, seed: u64) -> Self {
        Self {
            validators: (0..validators).map(address).collect(),
            committee_size: committee_size.min(validators),
            epoch_duration_slots: epoch_duration_slots.max(1),
            rng: ChaCha8Rng::seed_from_u64(seed),
            committee: None,
        }
    }

    pub fn validators(&self) -> &[Address] {
        &self.validators
    }

    /// The facts of `slot`; call with increasing slots so committees are shared within an epoch.
    pub fn slot(&mut self, slot: u64) -> SlotFacts {
        let epoch = Epoch(slot / self.epoch_duration_slots);
        let committee = match &self.committee {
            Some((e, committee)) if *e == epoch => committee.clone(),
            _ => {
                let sampled: Arc<[Address]> =
                    self.validators.choose_multiple(&mut self.rng, self.committee_size).copied().collect();
                self.committee = Some((epoch, sampled.clone()));
                sampled
            }
        };
        let mut attested = CommitteeBits::with_len(committee.len());
        for seat in 0..committee.len() {
            if self.rng.random_bool(0.95) {
                attested.set(seat);
            }
        }
        let outcome = match self.rng.random_range(0..20) {
            0 => ProposalOutcome::BlocksMissed,
            1 => ProposalOutcome::Proposed,
            _ => ProposalOutcome::Mined,
        };
        let proposer = (!committee.is_empty()).then(|| committee[self.rng.random_range(0..committee.len())]);
        SlotFacts {
            slot: Slot(slot),
            epoch,
            committee,
            proposer,
            outcome,
            attested,
            generation: Default::default(),
        }
    }

    /// The facts of `count` consecutive slots starting at `first`.
    pub fn slots(&mut self, first: u64, count: u64) -> Vec<SlotFacts> {
        (first..first + count).map(|slot| self.slot(slot)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committees_are_shared_within_an_epoch_and_seeded() {
        let mut a = SyntheticNetwork::new(100, 8, 4, 7);
        let mut b = SyntheticNetwork::new(100, 8, 4, 7);
        let slots = a.slots(0, 8);
        assert_eq!(slots, b.slots(0, 8), "same seed, same facts");
        assert!(Arc::ptr_eq(&slots[0].committee, &slots[3].committee));
        assert_eq!(slots[4].epoch, Epoch(1));
        assert!(slots.iter().all(|f| f.committee.len() == 8 && f.proposer.is_some()));
        assert_ne!(address(0), address(1));
    }
}
