//! The simulated network: validators, committees, per-slot outcomes, checkpoints and L1 events.
//!
//! Everything is a pure function of the [`DevnetConfig`] and the slot; the only input that moves is
//! the [`SlotClock`], and nothing past its current slot is visible. Slot records are computed in
//! order the first time a slot becomes visible and cached, because checkpoint numbers count the
//! mined slots before them.
//!
//! Per slot:
//! - the epoch committee is the scripted validators still in the set plus a seeded sample of the
//!   rest, shuffled (see [`crate::profile`]);
//! - the proposer is `committee[keccak256(abi.encode(epoch, slot, sampleSeed)) % len]`, as on L1;
//! - a proposer that does its duty gathers attestations (each member rolls against its profile);
//!   with a 2/3 + 1 quorum the checkpoint is mined (numbered 1, 2, 3, …), otherwise it stays
//!   `Proposed`; a silent proposer gives `BlocksMissed`, a flaky miss `BlocksMissed` or
//!   `CheckpointMissed`;
//! - one L1 block per slot, number `L1_GENESIS_BLOCK + slot`, timestamp the slot start; it holds the
//!   slot's events (see [`L1Event`]);
//! - epoch `e` is proven half an epoch into epoch `e + 1`, so the proven tip trails by about an epoch.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use alloy_primitives::{Address, B256, U256};
use rand::SeedableRng;
use rand::seq::{SliceRandom, index};
use rand_chacha::ChaCha8Rng;
use sparta_core::{
    AttesterStatus, ChainTiming, CommitteeBits, Epoch, Generation, ProposalOutcome, Slot, SlotClock,
    SlotFacts,
};

use crate::addresses::L1Addresses;
use crate::config::{ConfigError, DevnetConfig};
use crate::derive;
use crate::params::{self, L1_GENESIS_BLOCK, ROUND_SIZE_IN_EPOCHS, VOTE_LEAD_SLOTS};
use crate::profile::{Profile, SCRIPTED};

/// Refuse clocks that would make the network simulate more history than this at start
/// (usually a genesis time of 0 with a wall clock).
const MAX_START_SLOT: u64 = 5_000_000;

/// One simulated validator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Validator {
    pub index: usize,
    /// The attester address.
    pub address: Address,
    /// Who may withdraw its stake (and receives it on exit).
    pub withdrawer: Address,
    pub profile: Profile,
}

/// What happened in one slot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlotRecord {
    pub slot: Slot,
    pub epoch: Epoch,
    pub committee: Arc<[Address]>,
    pub proposer: Address,
    pub outcome: ProposalOutcome,
    /// Members whose attestation exists (the proposer's own bit is set when it proposed).
    pub attested: CommitteeBits,
    /// The checkpoint published for this slot (only when `outcome` is `Mined`).
    pub checkpoint: Option<u64>,
    /// The protocol generation the network runs (whose Sentinel rule judges the slot).
    pub generation: Generation,
}

impl SlotRecord {
    /// The monitor's view of this slot.
    pub fn facts(&self) -> SlotFacts {
        SlotFacts {
            slot: self.slot,
            epoch: self.epoch,
            committee: self.committee.clone(),
            proposer: Some(self.proposer),
            outcome: self.outcome,
            attested: self.attested.clone(),
            generation: self.generation,
        }
    }
}

/// One log the simulated L1 emits, in block order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum L1Event {
    /// Rollup: a checkpoint landed (`L2BlockProposed` under v2).
    CheckpointProposed { checkpoint: u64, archive: B256 },
    /// Rollup: the epoch ending at `checkpoint` was proven.
    ProofVerified { checkpoint: u64, prover: Address },
    /// TallySlashingProposer: the slot's proposer voted (against a validator about to be slashed).
    VoteCast { round: u64, slot: Slot, proposer: Address },
    /// Rollup: stake taken from `attester`.
    Slashed { attester: Address, amount: U256 },
    /// TallySlashingProposer: a round's slashes were carried out.
    RoundExecuted { round: u64, slash_count: u64 },
    /// Rollup: `attester` started leaving.
    WithdrawInitiated { attester: Address, recipient: Address, amount: U256 },
}

#[derive(Default)]
struct State {
    /// Index = slot number − `forgotten`.
    records: std::collections::VecDeque<SlotRecord>,
    /// Slots whose records were dropped by [`Network::forget_before`].
    forgotten: u64,
    /// Index = checkpoint number − 1.
    checkpoint_slots: Vec<Slot>,
    committees: HashMap<u64, Arc<[Address]>>,
}

impl State {
    /// The first slot not simulated yet.
    fn next_slot(&self) -> u64 {
        self.forgotten + self.records.len() as u64
    }

    fn record(&self, slot: Slot) -> Option<&SlotRecord> {
        self.records.get(usize::try_from(slot.0.checked_sub(self.forgotten)?).ok()?)
    }
}

/// A deterministic Aztec network, advanced by its clock.
pub struct Network {
    config: DevnetConfig,
    clock: Arc<dyn SlotClock>,
    validators: Vec<Validator>,
    index_of: HashMap<Address, usize>,
    addresses: L1Addresses,
    prover: Address,
    state: Mutex<State>,
    /// While set, the node has stopped advancing at this slot (L1 goes on).
    node_stalled_at: Mutex<Option<Slot>>,
}

impl std::fmt::Debug for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Network")
            .field("config", &self.config)
            .field("current_slot", &self.current_slot())
            .finish_non_exhaustive()
    }
}

impl Network {
    pub fn new(config: DevnetConfig, clock: Arc<dyn SlotClock>) -> Result<Self, ConfigError> {
        config.validate()?;
        if clock.timing() != config.timing() {
            return Err(ConfigError::ClockMismatch { clock: clock.timing(), config: config.timing() });
        }
        let start = clock.current_slot();
        if start.0 > MAX_START_SLOT {
            return Err(ConfigError::GenesisTooFarInPast { slot: start.0, max: MAX_START_SLOT });
        }
        let seed = config.seed;
        let validators: Vec<Validator> = (0..config.validators)
            .map(|index| Validator {
                index,
                address: derive::address(seed, "validator", index as u64),
                withdrawer: derive::address(seed, "withdrawer", index as u64),
                profile: config
                    .profiles
                    .get(&index)
                    .copied()
                    .unwrap_or_else(|| Profile::assigned(seed, index)),
            })
            .collect();
        let index_of = validators.iter().map(|v| (v.address, v.index)).collect();
        Ok(Self {
            addresses: L1Addresses::derive(seed),
            prover: derive::address(seed, "prover", 0),
            config,
            clock,
            validators,
            index_of,
            state: Mutex::new(State::default()),
            node_stalled_at: Mutex::new(None),
        })
    }

    pub fn config(&self) -> &DevnetConfig {
        &self.config
    }

    pub fn timing(&self) -> ChainTiming {
        self.config.timing()
    }

    pub fn clock(&self) -> &Arc<dyn SlotClock> {
        &self.clock
    }

    pub fn current_slot(&self) -> Slot {
        self.clock.current_slot()
    }

    /// The slot the node has synced to: the current one, unless the node is stalled.
    pub fn node_slot(&self) -> Slot {
        let current = self.current_slot();
        self.node_stalled_at.lock().unwrap_or_else(|p| p.into_inner()).map_or(current, |at| at.min(current))
    }

    /// The node stops advancing now (its archiver and Sentinel stall; L1 goes on), or catches up again
    /// with `false`.
    pub fn stall_node(&self, stalled: bool) {
        let at = stalled.then(|| self.current_slot());
        *self.node_stalled_at.lock().unwrap_or_else(|p| p.into_inner()) = at;
    }

    pub fn epoch_of(&self, slot: Slot) -> Epoch {
        self.timing().epoch_of(slot)
    }

    pub fn addresses(&self) -> &L1Addresses {
        &self.addresses
    }

    /// The rollup's version number (`getVersion`, `rollupVersion`).
    pub fn rollup_version(&self) -> u64 {
        u64::from(u32::from_be_bytes(
            derive::hash(self.config.seed, "rollup-version", 0, 0)[..4].try_into().unwrap_or_default(),
        ))
    }

    pub fn validators(&self) -> &[Validator] {
        &self.validators
    }

    pub fn validator(&self, address: &Address) -> Option<&Validator> {
        self.index_of.get(address).map(|i| &self.validators[*i])
    }

    pub fn profile_of(&self, address: &Address) -> Option<Profile> {
        self.validator(address).map(|v| v.profile)
    }

    /// The scripted validators (see [`crate::profile`]) with their profiles, by index.
    pub fn scripted(&self) -> Vec<(Address, Profile)> {
        self.validators.iter().take(SCRIPTED.len()).map(|v| (v.address, v.profile)).collect()
    }

    /// Demo operators, so roles and DMs have someone to go to: `(operator-NNN, validator)` for every
    /// scripted validator (operator-001 … in scripted order), then for every `nth` other validator.
    pub fn demo_operators(&self, nth: usize) -> Vec<(String, Address)> {
        let scripted = self.validators.iter().take(SCRIPTED.len());
        let others = self.validators.iter().skip(SCRIPTED.len()).step_by(nth.max(1));
        scripted
            .chain(others)
            .enumerate()
            .map(|(i, v)| (format!("operator-{:03}", i + 1), v.address))
            .collect()
    }

    /// The epoch's committee in L1 order (pure: future epochs can be asked for too).
    pub fn committee(&self, epoch: Epoch) -> Arc<[Address]> {
        self.committee_in(&mut self.lock(), epoch)
    }

    /// `getSampleSeedAt` for any slot of `epoch`.
    pub fn sample_seed(&self, epoch: Epoch) -> U256 {
        derive::sample_seed(self.config.seed, epoch.0)
    }

    /// The slot's proposer (pure).
    pub fn proposer_at(&self, slot: Slot) -> Address {
        let epoch = self.epoch_of(slot);
        let committee = self.committee(epoch);
        let i = derive::proposer_index(epoch.0, slot.0, self.sample_seed(epoch), committee.len());
        committee.get(i).copied().unwrap_or(Address::ZERO)
    }

    /// The record of a slot that has started, `None` for a future slot.
    pub fn slot(&self, slot: Slot) -> Option<SlotRecord> {
        if slot > self.current_slot() {
            return None;
        }
        let mut state = self.lock();
        self.ensure_through(&mut state, slot);
        state.record(slot).cloned()
    }

    /// Records of `from..=to`, clipped to the current slot (and to what was not forgotten).
    pub fn slots(&self, from: Slot, to: Slot) -> Vec<SlotRecord> {
        let to = to.min(self.current_slot());
        if from > to {
            return Vec::new();
        }
        let mut state = self.lock();
        self.ensure_through(&mut state, to);
        let from = from.0.max(state.forgotten);
        (from..=to.0).filter_map(|slot| state.record(Slot(slot)).cloned()).collect()
    }

    /// The number of checkpoints mined up to and including `slot` (clipped to now).
    pub fn pending_checkpoint_at(&self, slot: Slot) -> u64 {
        let slot = slot.min(self.current_slot());
        let mut state = self.lock();
        self.ensure_through(&mut state, slot);
        state.checkpoint_slots.partition_point(|s| *s <= slot) as u64
    }

    /// The proven checkpoint as of `slot` (clipped to now).
    pub fn proven_checkpoint_at(&self, slot: Slot) -> u64 {
        let slot = slot.min(self.current_slot());
        match self.proven_epoch_at(slot) {
            Some(epoch) => self.pending_checkpoint_at(self.timing().last_slot(epoch)),
            None => 0,
        }
    }

    /// A published checkpoint's slot record, `None` when it does not exist (yet).
    pub fn checkpoint(&self, number: u64) -> Option<SlotRecord> {
        let now = self.current_slot();
        let mut state = self.lock();
        self.ensure_through(&mut state, now);
        let slot = *state.checkpoint_slots.get(usize::try_from(number.checked_sub(1)?).ok()?)?;
        state.record(slot).cloned()
    }

    /// Drops the cached records before `slot` (a long replay reads each slot once). Checkpoint
    /// numbering is unaffected; the records of forgotten slots read as absent.
    pub fn forget_before(&self, slot: Slot) {
        let mut state = self.lock();
        let slot = slot.0.min(state.next_slot());
        while state.forgotten < slot {
            state.records.pop_front();
            state.forgotten += 1;
        }
        // Committees are pure: one asked for again is sampled again.
        let epoch = self.epoch_of(Slot(slot)).0;
        state.committees.retain(|e, _| *e >= epoch);
    }

    /// `getStatus` of `address` at `slot`.
    pub fn status_at(&self, address: &Address, slot: Slot) -> AttesterStatus {
        match self.validator(address) {
            None => AttesterStatus::None,
            Some(v) => match v.profile {
                Profile::Slashed { at_slot } if slot >= at_slot => AttesterStatus::Zombie,
                Profile::Exits { at_slot } if slot >= at_slot => AttesterStatus::Exiting,
                _ => AttesterStatus::Validating,
            },
        }
    }

    /// The attester set at `slot`, in index order.
    pub fn active_attesters_at(&self, slot: Slot) -> Vec<Address> {
        self.validators.iter().filter(|v| v.profile.in_set_at(slot)).map(|v| v.address).collect()
    }

    /// The tally round a slot belongs to.
    pub fn round_of(&self, slot: Slot) -> u64 {
        slot.0 / self.round_size()
    }

    /// Slots per tally round.
    pub fn round_size(&self) -> u64 {
        ROUND_SIZE_IN_EPOCHS * self.config.epoch_slots
    }

    /// `getRound(round)` as of `slot`: whether it was executed and how many votes it holds.
    pub fn round_at(&self, round: u64, slot: Slot) -> (bool, u64) {
        let first = Slot(round * self.round_size());
        let last = Slot(first.0 + self.round_size() - 1).min(slot);
        let mut votes = 0;
        let mut executed = false;
        for s in self.slots(first, last) {
            for event in self.events_of(&s) {
                if matches!(event, L1Event::VoteCast { .. }) {
                    votes += 1;
                }
            }
        }
        for v in self.leavers() {
            if let Profile::Slashed { at_slot } = v.profile
                && at_slot <= slot.min(self.current_slot())
                && self.round_of(Slot(at_slot.0.saturating_sub(1))) == round
            {
                executed = true;
            }
        }
        (executed, votes)
    }

    /// The committees a round's votes index (`getSlashTargetCommittees`): the round's epochs, offset
    /// by `SLASH_OFFSET_IN_ROUNDS`.
    pub fn slash_target_committees(&self, round: u64) -> Option<Vec<Arc<[Address]>>> {
        let first = round.checked_sub(params::SLASH_OFFSET_IN_ROUNDS)? * ROUND_SIZE_IN_EPOCHS;
        Some((first..first + ROUND_SIZE_IN_EPOCHS).map(|e| self.committee(Epoch(e))).collect())
    }

    /// The `index`-th vote of `round` as of `slot` (`getVotes`): one slash unit for every seat a
    /// scripted slashed validator holds in the target committees, while its vote window is open.
    pub fn vote(&self, round: u64, index: u64, slot: Slot) -> Option<Vec<u8>> {
        let first = Slot(round * self.round_size());
        let last = Slot(first.0 + self.round_size() - 1).min(slot);
        let voted = self
            .slots(first, last)
            .into_iter()
            .filter(|r| self.events_of(r).iter().any(|e| matches!(e, L1Event::VoteCast { .. })))
            .nth(usize::try_from(index).ok()?)?
            .slot;
        let committees = self.slash_target_committees(round)?;
        let size = self.config.committee_size;
        let mut vote = vec![0u8; (size * committees.len()).div_ceil(4)];
        for (epoch_index, committee) in committees.iter().enumerate() {
            for (position, member) in committee.iter().enumerate() {
                let targeted = self.profile_of(member).is_some_and(|p| match p {
                    Profile::Slashed { at_slot } => {
                        (at_slot.0.saturating_sub(VOTE_LEAD_SLOTS)..at_slot.0).contains(&voted.0)
                    }
                    _ => false,
                });
                if targeted {
                    let i = epoch_index * size + position;
                    vote[i / 4] |= 1 << (2 * (i % 4));
                }
            }
        }
        Some(vote)
    }

    /// The L1 events of a slot that has started (empty for a future slot).
    pub fn events_at(&self, slot: Slot) -> Vec<L1Event> {
        self.slot(slot).map(|r| self.events_of(&r)).unwrap_or_default()
    }

    /// L1 block number carrying `slot`.
    pub fn l1_block_of(&self, slot: Slot) -> u64 {
        L1_GENESIS_BLOCK + slot.0
    }

    /// The slot an L1 block belongs to (`None` before genesis).
    pub fn slot_of_l1_block(&self, block: u64) -> Option<Slot> {
        block.checked_sub(L1_GENESIS_BLOCK).map(Slot)
    }

    /// The latest L1 block.
    pub fn l1_head(&self) -> u64 {
        self.l1_block_of(self.current_slot())
    }

    /// Unix timestamp of an L1 block (blocks before genesis are spaced one slot apart too).
    pub fn l1_block_timestamp(&self, block: u64) -> u64 {
        let timing = self.timing();
        match self.slot_of_l1_block(block) {
            Some(slot) => timing.slot_start_s(slot),
            None => timing.genesis_time_s.saturating_sub((L1_GENESIS_BLOCK - block) * timing.slot_duration_s),
        }
    }

    /// Synthetic hash of an L1 block.
    pub fn l1_block_hash(&self, block: u64) -> B256 {
        derive::hash(self.config.seed, "l1-block", block, 0)
    }

    /// The archive root of a checkpoint.
    pub fn archive_of(&self, checkpoint: u64) -> B256 {
        derive::hash(self.config.seed, "archive", checkpoint, 0)
    }

    fn events_of(&self, record: &SlotRecord) -> Vec<L1Event> {
        let slot = record.slot;
        let mut events = Vec::new();
        if let Some(checkpoint) = record.checkpoint {
            events.push(L1Event::CheckpointProposed { checkpoint, archive: self.archive_of(checkpoint) });
        }
        for v in self.leavers() {
            match v.profile {
                Profile::Slashed { at_slot } => {
                    let voting = at_slot.0.saturating_sub(VOTE_LEAD_SLOTS)..at_slot.0;
                    if voting.contains(&slot.0) && record.outcome == ProposalOutcome::Mined {
                        events.push(L1Event::VoteCast {
                            round: self.round_of(slot),
                            slot,
                            proposer: record.proposer,
                        });
                    }
                    if slot == at_slot {
                        events.push(L1Event::Slashed { attester: v.address, amount: params::slash_amount() });
                        events.push(L1Event::RoundExecuted {
                            round: self.round_of(Slot(slot.0.saturating_sub(1))),
                            slash_count: 1,
                        });
                    }
                }
                Profile::Exits { at_slot } if slot == at_slot => {
                    events.push(L1Event::WithdrawInitiated {
                        attester: v.address,
                        recipient: v.withdrawer,
                        amount: params::activation_stake(),
                    });
                }
                _ => {}
            }
        }
        if let Some(checkpoint) = self.proof_landing_at(slot) {
            events.push(L1Event::ProofVerified { checkpoint, prover: self.prover });
        }
        events
    }

    /// Validators that ever leave the set (only scripted ones do).
    fn leavers(&self) -> impl Iterator<Item = &Validator> {
        self.validators.iter().take(SCRIPTED.len()).filter(|v| v.profile.leaves_at().is_some())
    }

    /// The slot at which epoch `e` is proven: half an epoch into epoch `e + 1`.
    fn proof_slot(&self, epoch: Epoch) -> Slot {
        let e = self.config.epoch_slots;
        Slot((epoch.0 + 1) * e + e / 2)
    }

    fn proven_epoch_at(&self, slot: Slot) -> Option<Epoch> {
        let e = self.config.epoch_slots;
        let shifted = slot.0.checked_sub(e + e / 2)?;
        Some(Epoch(shifted / e))
    }

    /// A new proven checkpoint, if `slot` is a proof slot and the epoch added checkpoints.
    fn proof_landing_at(&self, slot: Slot) -> Option<u64> {
        let epoch = self.proven_epoch_at(slot)?;
        if self.proof_slot(epoch) != slot {
            return None;
        }
        let proven = self.pending_checkpoint_at(self.timing().last_slot(epoch));
        let before = match epoch.0.checked_sub(1) {
            Some(prev) => self.pending_checkpoint_at(self.timing().last_slot(Epoch(prev))),
            None => 0,
        };
        (proven > before).then_some(proven)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is only ever extended, never left half-written, so a poisoned lock is usable.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn committee_in(&self, state: &mut State, epoch: Epoch) -> Arc<[Address]> {
        if let Some(c) = state.committees.get(&epoch.0) {
            return c.clone();
        }
        let committee = self.sample_committee(epoch);
        state.committees.insert(epoch.0, committee.clone());
        committee
    }

    fn sample_committee(&self, epoch: Epoch) -> Arc<[Address]> {
        let start = self.timing().first_slot(epoch);
        let size = self.config.committee_size;
        let (scripted, rest): (Vec<&Validator>, Vec<&Validator>) = self
            .validators
            .iter()
            .filter(|v| v.profile.in_set_at(start))
            .partition(|v| v.index < SCRIPTED.len());
        let mut members: Vec<Address> = scripted.iter().take(size).map(|v| v.address).collect();
        let wanted = size.saturating_sub(members.len()).min(rest.len());
        let mut rng = ChaCha8Rng::from_seed(derive::hash(self.config.seed, "committee", epoch.0, 0).0);
        members.extend(index::sample(&mut rng, rest.len(), wanted).into_iter().map(|i| rest[i].address));
        members.shuffle(&mut rng);
        members.into()
    }

    fn ensure_through(&self, state: &mut State, slot: Slot) {
        while state.next_slot() <= slot.0 {
            let next = Slot(state.next_slot());
            let record = self.simulate(state, next);
            if let Some(n) = record.checkpoint {
                debug_assert_eq!(n as usize, state.checkpoint_slots.len() + 1);
                state.checkpoint_slots.push(next);
            }
            state.records.push_back(record);
        }
    }

    fn simulate(&self, state: &mut State, slot: Slot) -> SlotRecord {
        let seed = self.config.seed;
        let epoch = self.epoch_of(slot);
        let committee = self.committee_in(state, epoch);
        let proposer_at = derive::proposer_index(epoch.0, slot.0, self.sample_seed(epoch), committee.len());
        // Never empty: validation keeps `validators >= committee_size >= 1`, and only two scripted
        // validators ever leave the set.
        let proposer = committee[proposer_at];
        let misses = |member: &Address, duty: &str| {
            let v = &self.validators[self.index_of[member]];
            derive::percent(seed, duty, slot.0, v.index as u64) < v.profile.miss_pct_at(slot)
        };
        let mut attested = CommitteeBits::with_len(committee.len());
        let outcome = if misses(&proposer, "propose") {
            let silent = self.profile_of(&proposer).is_some_and(|p| p.miss_pct_at(slot) >= 100);
            let kind = derive::percent(seed, "miss-kind", slot.0, 0);
            let verdicts = self.config.protocol >= Generation::V5;
            match kind {
                _ if silent || kind < 50 => ProposalOutcome::BlocksMissed,
                // 5.x re-executes what it is sent: some misses are a rejected or unvalidated proposal.
                50..67 if verdicts => ProposalOutcome::Invalid,
                67..84 if verdicts => ProposalOutcome::Unvalidated,
                _ => ProposalOutcome::CheckpointMissed,
            }
        } else {
            let outage = self.config.p2p_outages.iter().any(|r| r.contains(slot.0));
            for (i, member) in committee.iter().enumerate() {
                if *member == proposer || (!outage && !misses(member, "attest")) {
                    attested.set(i);
                }
            }
            let quorum = committee.len() * 2 / 3 + 1;
            if attested.count() >= quorum { ProposalOutcome::Mined } else { ProposalOutcome::Proposed }
        };
        let checkpoint = (outcome == ProposalOutcome::Mined).then(|| state.checkpoint_slots.len() as u64 + 1);
        SlotRecord {
            slot,
            epoch,
            committee,
            proposer,
            outcome,
            attested,
            checkpoint,
            generation: self.config.protocol,
        }
    }
}
