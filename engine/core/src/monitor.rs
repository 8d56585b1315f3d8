//! The validator monitor: the Aztec node Sentinel's per-slot statuses and stats, in compact state.
//!
//! Per slot the proposer gets a status from the slot's outcome; every other committee member gets
//! `attestation-sent` when it attested, `attestation-missed` only when there was a proposal to attest to
//! (outcome mined or proposed), and nothing otherwise; names and blame follow the generation the slot
//! was observed under ([`crate::Generation`]). Each validator keeps its newest `slot_window`
//! entries; stats cover the entries with slot in `[last_processed - slot_window, last_processed]`.

mod epochs;
mod history;
mod network;

use std::fmt;

use alloy_primitives::map::AddressHashMap;
use serde::{Deserialize, Serialize};

pub use history::MAX_SLOT;
pub use network::{NetworkSummary, SlotSummary};

use self::epochs::EpochLedger;
use self::history::History;
use self::network::NetworkWindow;
use crate::Address;
use crate::facts::SlotFacts;
use crate::outage::{Excused, OutageRule};
use crate::stats::{EpochPerformance, ValidatorStats};
use crate::status::{StatusCategory, ValidatorStatusInSlot};
use crate::time::{ChainTiming, Epoch, Slot};

/// The node's history length: `SENTINEL_HISTORY_LENGTH_IN_EPOCHS` (24) epochs.
pub const SENTINEL_HISTORY_EPOCHS: u64 = 24;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MonitorConfig {
    /// Slots covered by the stats window, and entries kept per validator (the node's `slotWindow`).
    pub slot_window: u64,
    /// Completed epochs of performance kept per validator.
    pub epoch_history: usize,
    /// Slots per epoch, used to date statuses read without facts and to tell an epoch's last slot.
    pub epoch_duration_slots: u64,
    /// Keep each validator's newest `slot_window` entries whatever their age, as the node's Sentinel
    /// does, so [`ValidatorMonitor::stats_between`] answers for ranges before the window too. Off (the
    /// engine), an entry is dropped once the window has passed it: a validator that sat on a committee
    /// long ago holds no history, only its per-epoch trend, and memory follows the window.
    pub keep_old_entries: bool,
}

impl Default for MonitorConfig {
    fn default() -> Self {
        Self {
            slot_window: SENTINEL_HISTORY_EPOCHS * 32,
            epoch_history: 64,
            epoch_duration_slots: 32,
            keep_old_entries: false,
        }
    }
}

impl MonitorConfig {
    /// The node's window for a chain's epoch length, with the default epoch history.
    pub fn for_timing(timing: &ChainTiming) -> Self {
        let epoch = timing.epoch_duration_slots.max(1);
        Self { slot_window: SENTINEL_HISTORY_EPOCHS * epoch, epoch_duration_slots: epoch, ..Self::default() }
    }
}

#[derive(Clone, Default)]
struct ValidatorRecord {
    history: History,
    epochs: EpochLedger,
}

#[derive(Clone)]
pub struct ValidatorMonitor {
    config: MonitorConfig,
    /// Keyed with a fast fixed-bytes hasher: addresses are hashed several times per committee seat.
    validators: AddressHashMap<ValidatorRecord>,
    last_processed: Option<Slot>,
    /// The epoch of the newest registered facts; facts from an earlier epoch are inconsistent input.
    last_facts_epoch: Option<Epoch>,
    /// Every epoch before this one is complete.
    first_open_epoch: Epoch,
    network: NetworkWindow,
}

impl fmt::Debug for ValidatorMonitor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValidatorMonitor")
            .field("config", &self.config)
            .field("validators", &self.validators.len())
            .field("last_processed", &self.last_processed)
            .field("first_open_epoch", &self.first_open_epoch)
            .finish()
    }
}

impl ValidatorMonitor {
    /// A zero window or epoch length is raised to 1, so every configuration is usable.
    pub fn new(mut config: MonitorConfig) -> Self {
        config.slot_window = config.slot_window.max(1);
        config.epoch_duration_slots = config.epoch_duration_slots.max(1);
        Self {
            config,
            validators: AddressHashMap::default(),
            last_processed: None,
            last_facts_epoch: None,
            first_open_epoch: Epoch(0),
            network: NetworkWindow::default(),
        }
    }

    pub fn config(&self) -> &MonitorConfig {
        &self.config
    }

    /// Registers one slot for every committee member; returns the validators whose stats changed
    /// (those recorded in this slot, and those whose entries just left the window).
    /// Slots must increase: a slot <= the last processed one is ignored (returns empty), so replay is
    /// idempotent. Facts whose epoch is earlier than the previous facts' epoch are ignored too.
    pub fn register_slot(&mut self, facts: &SlotFacts) -> Vec<Address> {
        self.register_slot_for(facts, |_| true)
    }

    /// Same, but records only validators for which `owns` is true (sharding across tracker actors).
    /// The network summary still counts the whole slot.
    pub fn register_slot_for(&mut self, facts: &SlotFacts, owns: impl Fn(&Address) -> bool) -> Vec<Address> {
        if !self.is_new_slot(facts.slot) || self.last_facts_epoch.is_some_and(|e| facts.epoch < e) {
            return Vec::new();
        }
        self.last_facts_epoch = Some(facts.epoch);
        let expired = self.advance(facts.slot, facts.epoch);

        let mut summary = SlotSummary::empty(facts);
        let mut changed = Vec::new();
        for (seat, member) in facts.committee.iter().enumerate() {
            let Some(status) = seat_status(facts, seat, member) else { continue };
            summary.count(status);
            if owns(member) && self.record(*member, facts.slot, facts.epoch, status) {
                changed.push(*member);
            }
        }
        self.network.push(summary, changed.clone());
        self.merge_expired(changed, expired)
    }

    /// Records one status read directly from a node's Sentinel history (slot order per validator; an
    /// entry not after the validator's last one is ignored). It does not move the last processed slot:
    /// call [`Self::mark_processed`] with the node's `lastProcessedSlot` once the import is done.
    pub fn register_status(&mut self, validator: Address, slot: Slot, status: ValidatorStatusInSlot) {
        let epoch = self.epoch_of(slot);
        if self.record(validator, slot, epoch, status) {
            // A status in a later epoch means the earlier epochs are over.
            self.first_open_epoch = self.first_open_epoch.max(epoch);
        }
    }

    /// Moves the last processed slot without facts (e.g. a slot skipped by the source).
    /// A slot <= the last processed one is ignored.
    pub fn mark_processed(&mut self, slot: Slot) {
        if self.is_new_slot(slot) {
            let epoch = self.epoch_of(slot);
            self.advance(slot, epoch);
        }
    }

    pub fn last_processed_slot(&self) -> Option<Slot> {
        self.last_processed
    }

    /// Stats over the window ending at the last processed slot (all entries before any slot is processed).
    /// `None` if the validator was never recorded.
    pub fn stats(&self, validator: &Address) -> Option<ValidatorStats> {
        let (from, to) = match self.last_processed {
            Some(last) => (last.0.saturating_sub(self.config.slot_window), last.0),
            None => (0, u64::MAX),
        };
        self.stats_between(validator, Slot(from), Slot(to))
    }

    /// Stats over the retained entries with `from <= slot <= to`. Unlike the node, a range wider than the
    /// window is not an error: entries older than the newest `slot_window` are simply gone.
    pub fn stats_between(&self, validator: &Address, from: Slot, to: Slot) -> Option<ValidatorStats> {
        let record = self.validators.get(validator)?;
        Some(record.history.stats(*validator, from.0, to.0))
    }

    /// The validator's missed attestations inside the window that fell on network-wide slots (by
    /// `rule`, from the slots this monitor registered). Callers ask only when
    /// [`Self::has_network_wide_slots`], which is rare: a scan per validator is then affordable.
    pub fn excused(&self, validator: &Address, rule: &OutageRule) -> Excused {
        let (Some(record), Some(last)) = (self.validators.get(validator), self.last_processed) else {
            return Excused::default();
        };
        let from = last.0.saturating_sub(self.config.slot_window);
        let wide = |slot: Slot| self.network.slot(slot).is_some_and(|s| rule.is_network_wide(&s));
        record.history.excused(from, last.0, wide)
    }

    /// Whether the window holds any network-wide slot (by `rule`).
    pub fn has_network_wide_slots(&self, rule: &OutageRule) -> bool {
        self.network.slots().any(|s| rule.is_network_wide(&s))
    }

    /// The retained entries, ascending by slot.
    pub fn history(&self, validator: &Address) -> Vec<(Slot, ValidatorStatusInSlot)> {
        self.validators.get(validator).map(|r| r.history.iter().collect()).unwrap_or_default()
    }

    /// Completed epochs in which the validator had entries, oldest first, at most `epoch_history`.
    pub fn epoch_performance(&self, validator: &Address) -> Vec<EpochPerformance> {
        self.validators
            .get(validator)
            .map(|r| r.epochs.completed(self.first_open_epoch, self.config.epoch_history))
            .unwrap_or_default()
    }

    /// Completed epochs in which the validator had duties, within the kept per-epoch history.
    pub fn epochs_active(&self, validator: &Address) -> u32 {
        self.validators.get(validator).map_or(0, |r| r.epochs.active(self.first_open_epoch))
    }

    pub fn network_summary(&self) -> NetworkSummary {
        self.network.summary()
    }

    /// What a processed slot inside the window contributed network-wide (e.g. its missed attestations).
    pub fn slot_summary(&self, slot: Slot) -> Option<SlotSummary> {
        self.network.slot(slot)
    }

    /// The registered slots inside the window, oldest first.
    pub fn slot_summaries(&self) -> impl Iterator<Item = SlotSummary> + '_ {
        self.network.slots()
    }

    pub fn validators(&self) -> impl Iterator<Item = &Address> {
        self.validators.keys()
    }

    pub fn len(&self) -> usize {
        self.validators.len()
    }

    pub fn is_empty(&self) -> bool {
        self.validators.is_empty()
    }

    pub fn forget(&mut self, validator: &Address) {
        self.validators.remove(validator);
    }

    fn is_new_slot(&self, slot: Slot) -> bool {
        slot.0 <= MAX_SLOT && self.last_processed.is_none_or(|last| slot > last)
    }

    fn epoch_of(&self, slot: Slot) -> Epoch {
        Epoch(slot.0 / self.config.epoch_duration_slots)
    }

    /// Makes `slot` the last processed one; returns the validators recorded in slots that left the window.
    fn advance(&mut self, slot: Slot, epoch: Epoch) -> Vec<Address> {
        self.last_processed = Some(slot);
        let epoch_done = (slot.0 + 1).is_multiple_of(self.config.epoch_duration_slots);
        let first_open = if epoch_done { Epoch(epoch.0 + 1) } else { epoch };
        self.first_open_epoch = self.first_open_epoch.max(first_open);
        let window_start = slot.0.saturating_sub(self.config.slot_window);
        let expired = self.network.advance(slot, Slot(window_start));
        if !self.config.keep_old_entries {
            // Exactly the validators with an entry in a slot that just left the window.
            for validator in &expired {
                if let Some(record) = self.validators.get_mut(validator) {
                    record.history.drop_before(window_start);
                }
            }
        }
        expired
    }

    fn record(
        &mut self,
        validator: Address,
        slot: Slot,
        epoch: Epoch,
        status: ValidatorStatusInSlot,
    ) -> bool {
        let cap = usize::try_from(self.config.slot_window).unwrap_or(usize::MAX);
        if slot.0 > MAX_SLOT {
            return false;
        }
        let record = self.validators.entry(validator).or_default();
        if !record.history.push(slot.0, status, cap) {
            return false;
        }
        record.epochs.record(epoch, status.category(), self.config.epoch_history);
        true
    }

    fn merge_expired(&self, mut changed: Vec<Address>, expired: Vec<Address>) -> Vec<Address> {
        if expired.is_empty() {
            return changed;
        }
        // A committee's worth each: a scan beats building a set for every slot.
        let recorded = changed.len();
        for validator in expired {
            if !changed[..recorded].contains(&validator)
                && !changed[recorded..].contains(&validator)
                && self.validators.contains_key(&validator)
            {
                changed.push(validator);
            }
        }
        changed
    }
}

/// The status a committee seat earns in a slot, by the rule of the generation the slot was observed
/// under: the proposer's from the outcome; an attester's sent, or missed only when that generation's
/// Sentinel blames silent attesters; `None` (nothing recorded) otherwise.
fn seat_status(facts: &SlotFacts, seat: usize, member: &Address) -> Option<ValidatorStatusInSlot> {
    if Some(*member) == facts.proposer {
        Some(facts.generation.proposer_status(facts.outcome))
    } else if facts.attested.get(seat) {
        Some(ValidatorStatusInSlot::AttestationSent)
    } else if facts.generation.attesters_blamed(facts.outcome) {
        Some(ValidatorStatusInSlot::AttestationMissed)
    } else {
        None
    }
}

impl SlotSummary {
    /// What a slot contributes network-wide, from its facts alone.
    pub fn of(facts: &SlotFacts) -> SlotSummary {
        let mut summary = SlotSummary::empty(facts);
        for (seat, member) in facts.committee.iter().enumerate() {
            if let Some(status) = seat_status(facts, seat, member) {
                summary.count(status);
            }
        }
        summary
    }

    fn empty(facts: &SlotFacts) -> SlotSummary {
        SlotSummary {
            slot: facts.slot,
            committee_size: facts.committee.len() as u32,
            ..SlotSummary::default()
        }
    }

    fn count(&mut self, status: ValidatorStatusInSlot) {
        match status.category() {
            StatusCategory::ProposerGood | StatusCategory::ProposerMiss => {
                self.proposal_missed.get_or_insert(status.category() == StatusCategory::ProposerMiss);
            }
            StatusCategory::AttestGood => self.attestations_total += 1,
            StatusCategory::AttestMiss => {
                self.attestations_total += 1;
                self.attestations_missed += 1;
            }
            StatusCategory::Uncounted => {}
        }
    }
}

#[cfg(test)]
mod tests;
