//! A naive Sentinel, written from the rules alone: full history vectors, everything recomputed by brute
//! force. It exists only to check the compact monitor against.

use std::collections::HashMap;

use sparta_core::{
    Address, Epoch, EpochPerformance, Generation, MissedStats, ProposalOutcome, Slot, SlotFacts,
    ValidatorStats, ValidatorStatusInSlot as S,
};

pub struct ReferenceSentinel {
    pub window: u64,
    pub epoch_len: u64,
    pub epoch_history: usize,
    /// Every status ever recorded, never trimmed: (slot, epoch, status).
    entries: HashMap<Address, Vec<(u64, u64, S)>>,
    last_processed: Option<u64>,
    last_facts_epoch: Option<u64>,
    /// Epochs strictly below this one are complete.
    complete_below: u64,
}

impl ReferenceSentinel {
    pub fn new(window: u64, epoch_len: u64, epoch_history: usize) -> Self {
        Self {
            window,
            epoch_len,
            epoch_history,
            entries: HashMap::new(),
            last_processed: None,
            last_facts_epoch: None,
            complete_below: 0,
        }
    }

    fn process(&mut self, slot: u64, epoch: u64) {
        self.last_processed = Some(slot);
        let is_last_of_epoch = slot % self.epoch_len == self.epoch_len - 1;
        let below = if is_last_of_epoch { epoch + 1 } else { epoch };
        if below > self.complete_below {
            self.complete_below = below;
        }
    }

    pub fn register_slot(&mut self, facts: &SlotFacts, owns: &dyn Fn(&Address) -> bool) {
        let slot = facts.slot.0;
        let replayed = self.last_processed.is_some_and(|last| slot <= last);
        let epoch_went_back = self.last_facts_epoch.is_some_and(|e| facts.epoch.0 < e);
        if replayed || epoch_went_back {
            return;
        }
        self.last_facts_epoch = Some(facts.epoch.0);
        self.process(slot, facts.epoch.0);
        for (seat, who) in facts.committee.iter().enumerate() {
            let status = if Some(*who) == facts.proposer {
                Some(proposer_status(facts.generation, facts.outcome))
            } else if facts.attested.get(seat) {
                Some(S::AttestationSent)
            } else if attestations_expected(facts.outcome) {
                Some(S::AttestationMissed)
            } else {
                None
            };
            if let (Some(status), true) = (status, owns(who)) {
                self.entries.entry(*who).or_default().push((slot, facts.epoch.0, status));
            }
        }
    }

    pub fn mark_processed(&mut self, slot: u64) {
        if self.last_processed.is_none_or(|last| slot > last) {
            self.process(slot, slot / self.epoch_len);
        }
    }

    pub fn last_processed(&self) -> Option<u64> {
        self.last_processed
    }

    /// Every entry ever recorded for `who`, oldest first.
    pub fn all_entries(&self, who: &Address) -> Vec<(u64, S)> {
        self.entries.get(who).map(|e| e.iter().map(|(s, _, st)| (*s, *st)).collect()).unwrap_or_default()
    }

    /// The newest `window` entries: what the node keeps.
    fn kept(&self, who: &Address) -> &[(u64, u64, S)] {
        let all = self.entries.get(who).map(Vec::as_slice).unwrap_or_default();
        &all[all.len().saturating_sub(self.window as usize)..]
    }

    pub fn kept_entries(&self, who: &Address) -> Vec<(Slot, S)> {
        self.kept(who).iter().map(|(s, _, st)| (Slot(*s), *st)).collect()
    }

    pub fn stats(&self, who: &Address) -> Option<ValidatorStats> {
        match self.last_processed {
            Some(last) => self.stats_between(who, last.saturating_sub(self.window), last),
            None => self.stats_between(who, 0, u64::MAX),
        }
    }

    pub fn stats_between(&self, who: &Address, from: u64, to: u64) -> Option<ValidatorStats> {
        if !self.entries.contains_key(who) {
            return None;
        }
        let in_range: Vec<(Slot, S)> = self
            .kept(who)
            .iter()
            .filter(|(s, _, _)| *s >= from && *s <= to)
            .map(|(s, _, st)| (Slot(*s), *st))
            .collect();
        let proposer_good = |s: &S| PROPOSER_GOOD.contains(s);
        let proposer_miss = |s: &S| PROPOSER_MISS.contains(s);
        let attest_good = |s: &S| *s == S::AttestationSent;
        let attest_miss = |s: &S| *s == S::AttestationMissed;
        Some(ValidatorStats {
            address: *who,
            last_proposal: in_range.iter().filter(|(_, st)| proposer_good(st)).map(|(s, _)| *s).next_back(),
            last_attestation: in_range.iter().filter(|(_, st)| attest_good(st)).map(|(s, _)| *s).next_back(),
            total_slots: in_range.len() as u32,
            missed_proposals: missed(&in_range, &|s| proposer_good(s) || proposer_miss(s), &proposer_miss),
            missed_attestations: missed(&in_range, &|s| attest_good(s) || attest_miss(s), &attest_miss),
        })
    }

    pub fn epoch_performance(&self, who: &Address) -> Vec<EpochPerformance> {
        let Some(entries) = self.entries.get(who) else { return Vec::new() };
        let mut epochs: Vec<u64> =
            entries.iter().map(|(_, e, _)| *e).filter(|e| *e < self.complete_below).collect();
        epochs.dedup();
        let mut out: Vec<EpochPerformance> = epochs
            .into_iter()
            .map(|epoch| {
                let of_epoch = entries.iter().filter(|(_, e, _)| *e == epoch);
                let counted: Vec<&S> =
                    of_epoch.map(|(_, _, st)| st).filter(|st| **st != S::Unknown).collect();
                let missed = counted
                    .iter()
                    .filter(|st| PROPOSER_MISS.contains(st) || ***st == S::AttestationMissed)
                    .count();
                EpochPerformance { epoch: Epoch(epoch), missed: missed as u32, total: counted.len() as u32 }
            })
            .collect();
        let skip = out.len().saturating_sub(self.epoch_history);
        out.drain(..skip);
        out
    }
}

/// The proposer statuses that count as a proposal made (`lastProposal`), in every generation's words:
/// 4.1.2 `checkpoint-mined | checkpoint-proposed`, 5.x/6.x `checkpoint-mined | checkpoint-valid`, 2.x
/// `block-mined | block-proposed`.
const PROPOSER_GOOD: [S; 5] =
    [S::CheckpointMined, S::CheckpointProposed, S::CheckpointValid, S::BlockMined, S::BlockProposed];
/// The statuses of `missedProposals`: 5.x/6.x count the re-execution verdicts too.
const PROPOSER_MISS: [S; 5] =
    [S::CheckpointMissed, S::BlocksMissed, S::CheckpointInvalid, S::CheckpointUnvalidated, S::BlockMissed];

/// The proposer's status, as each generation's Sentinel writes it (`getSlotActivity`).
fn proposer_status(generation: Generation, outcome: ProposalOutcome) -> S {
    use ProposalOutcome as O;
    match (generation, outcome) {
        (_, O::Unknown) => S::Unknown,
        (Generation::V2, O::Mined) => S::BlockMined,
        (Generation::V2, O::Proposed) => S::BlockProposed,
        (Generation::V2, _) => S::BlockMissed,
        (Generation::V4, O::Mined) => S::CheckpointMined,
        (Generation::V4, O::Proposed) => S::CheckpointProposed,
        (Generation::V4, O::BlocksMissed) => S::BlocksMissed,
        (Generation::V4, _) => S::CheckpointMissed,
        (Generation::V5 | Generation::V6, O::Mined) => S::CheckpointMined,
        (Generation::V5 | Generation::V6, O::Proposed) => S::CheckpointValid,
        (Generation::V5 | Generation::V6, O::Invalid) => S::CheckpointInvalid,
        (Generation::V5 | Generation::V6, O::Unvalidated) => S::CheckpointUnvalidated,
        (Generation::V5 | Generation::V6, O::CheckpointMissed) => S::CheckpointMissed,
        (Generation::V5 | Generation::V6, O::BlocksMissed) => S::BlocksMissed,
    }
}

/// Silent attesters miss only where the Sentinel had positive evidence of a proposal: 4.1.2 a mined
/// or proposed (attested) checkpoint, 5.x/6.x `attestorsExpected = checkpoint-mined || checkpoint-valid`.
fn attestations_expected(outcome: ProposalOutcome) -> bool {
    matches!(outcome, ProposalOutcome::Mined | ProposalOutcome::Proposed)
}

fn missed(entries: &[(Slot, S)], relevant: &dyn Fn(&S) -> bool, is_miss: &dyn Fn(&S) -> bool) -> MissedStats {
    let relevant: Vec<&S> = entries.iter().map(|(_, st)| st).filter(|st| relevant(st)).collect();
    let count = relevant.iter().filter(|st| is_miss(st)).count() as u32;
    let streak = relevant.iter().rev().take_while(|st| is_miss(st)).count() as u32;
    MissedStats::new(count, relevant.len() as u32, streak)
}
