//! The simulated network's history read directly, without JSON-RPC: the chain source of
//! `sparta replay`, which drives the whole engine over a long history as fast as it can take it.
//!
//! The whole range is final from the start (the network's clock stands past its end). A thread of
//! its own simulates the slots in order, a bounded distance ahead of the engine, and forgets each
//! one once sent, so simulating overlaps with the engine's work and memory does not grow with the
//! range.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use async_trait::async_trait;
use sparta_chain::source::{SETTLING_SLOTS, SlotSource, SourceError};
use sparta_core::{
    Address, AttesterStatus, ChainEvent, ChainTiming, ManualSlotClock, SlashedEvent, Slot, SlotClock,
    SlotFacts,
};
use tokio::sync::mpsc::{Receiver, Sender, channel};

use crate::config::{ConfigError, DevnetConfig};
use crate::network::{L1Event, Network};

/// Slots simulated ahead of the engine: enough to keep it fed, few enough to be no memory at all.
const AHEAD: usize = 2_048;

/// One simulated slot as the engine reads it.
struct Replayed {
    facts: SlotFacts,
    events: Vec<L1Event>,
    /// The rollup's pending and proven checkpoints once the slot is over.
    tips: (u64, u64),
}

/// How far ahead of the engine the simulator runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ahead {
    /// A bounded distance: memory stays flat over any range.
    Streaming,
    /// The whole range, before the engine asks for the first slot: the engine's throughput alone,
    /// as over a recorded history held in memory.
    Whole,
}

/// Slots `from..=to` of a simulated network.
pub struct SyntheticHistory {
    network: Arc<Network>,
    from: Slot,
    to: Slot,
    slots: Receiver<Replayed>,
    /// Slots handed out whose L1 events were not asked for yet, in order.
    unread_events: VecDeque<(Slot, Vec<L1Event>)>,
    /// The last slot handed out and the tips after it.
    head: Option<(Slot, (u64, u64))>,
    statuses: HashMap<Address, AttesterStatus>,
}

impl SyntheticHistory {
    /// The clock stands at the slot after `to` settled, so everything up to `to` is visible.
    pub fn new(config: DevnetConfig, from: Slot, to: Slot, ahead: Ahead) -> Result<Self, ConfigError> {
        let clock = ManualSlotClock::at_slot(config.timing(), Slot(to.0 + SETTLING_SLOTS));
        let network = Arc::new(Network::new(config, Arc::new(clock))?);
        let capacity = match ahead {
            Ahead::Streaming => AHEAD,
            Ahead::Whole => {
                usize::try_from(to.0.saturating_sub(from.0)).unwrap_or(usize::MAX).saturating_add(1)
            }
        };
        let (sender, slots) = channel(capacity.max(1));
        let simulated = network.clone();
        std::thread::Builder::new()
            .name("replay-simulator".into())
            .spawn(move || simulate(&simulated, from, to, &sender))
            .map_err(|e| ConfigError::Simulator(e.to_string()))?;
        Ok(Self {
            network,
            from,
            to,
            slots,
            unread_events: VecDeque::new(),
            head: None,
            statuses: HashMap::new(),
        })
    }

    /// How many slots wait, simulated, for the engine.
    pub fn simulated_ahead(&self) -> usize {
        self.slots.len()
    }

    pub fn network(&self) -> &Arc<Network> {
        &self.network
    }

    pub fn timing(&self) -> ChainTiming {
        self.network.timing()
    }

    /// The clock the engine should run on: the network's, past the end of the range.
    pub fn clock(&self) -> Arc<dyn SlotClock> {
        self.network.clock().clone()
    }

    fn head_slot(&self) -> Slot {
        self.head.map_or(Slot(self.from.0.saturating_sub(1)), |(slot, _)| slot)
    }

    /// A status change as the Rollup's `getStatus` would report it after `slot`.
    fn status_change(&mut self, attester: Address, slot: Slot, out: &mut Vec<ChainEvent>) {
        let to = self.network.status_at(&attester, slot);
        let from = self.statuses.insert(attester, to).unwrap_or(AttesterStatus::Validating);
        if from != to {
            out.push(ChainEvent::AttesterStatusChanged { attester, from, to, slot });
        }
    }
}

/// The simulator thread: every slot of the range in order; stops early when the source is dropped.
fn simulate(network: &Network, from: Slot, to: Slot, sender: &Sender<Replayed>) {
    for slot in from.0..=to.0 {
        let slot = Slot(slot);
        let Some(record) = network.slot(slot) else { return };
        let replayed = Replayed {
            events: network.events_at(slot),
            tips: (network.pending_checkpoint_at(slot), network.proven_checkpoint_at(slot)),
            facts: record.facts(),
        };
        network.forget_before(slot);
        if sender.blocking_send(replayed).is_err() {
            return;
        }
    }
}

#[async_trait]
impl SlotSource for SyntheticHistory {
    async fn safe_slot(&self) -> Result<Slot, SourceError> {
        Ok(self.to)
    }

    async fn tips(&self) -> Result<(u64, u64), SourceError> {
        Ok(self.head.map_or((0, 0), |(_, tips)| tips))
    }

    async fn validators_by_status(&self) -> Result<Vec<(&'static str, u64)>, SourceError> {
        let validating = self.network.active_attesters_at(self.head_slot()).len() as u64;
        let mut counts = vec![("validating", validating)];
        for (name, status) in [("exiting", AttesterStatus::Exiting), ("zombie", AttesterStatus::Zombie)] {
            counts.push((name, self.statuses.values().filter(|s| **s == status).count() as u64));
        }
        Ok(counts)
    }

    async fn slot_facts(&mut self, slot: Slot) -> Result<SlotFacts, SourceError> {
        let mismatch = |got: String| SourceError::Mismatch {
            what: "replayed slot",
            node: format!("slot {slot} asked for"),
            l1: got,
        };
        // Skips what the engine already has (a resumed replay starts past `from`).
        loop {
            let next = self
                .slots
                .recv()
                .await
                .ok_or_else(|| mismatch(format!("the history ends at {}", self.to)))?;
            let at = next.facts.slot;
            if at < slot {
                continue;
            }
            if at > slot {
                return Err(mismatch(format!("slot {at} came next (slots are read in order)")));
            }
            self.head = Some((at, next.tips));
            self.unread_events.push_back((at, next.events));
            return Ok(next.facts);
        }
    }

    fn l1_genesis_block(&self) -> u64 {
        // Events before the replayed range are not part of it.
        self.network.l1_block_of(self.from)
    }

    async fn l1_head_block(&self) -> Result<u64, SourceError> {
        Ok(self.network.l1_block_of(self.head_slot()))
    }

    async fn events_between(
        &mut self,
        from_block: u64,
        to_block: u64,
    ) -> Result<Vec<ChainEvent>, SourceError> {
        let mut out = Vec::new();
        while let Some((slot, _)) = self.unread_events.front() {
            let block = self.network.l1_block_of(*slot);
            if block > to_block {
                break;
            }
            let Some((slot, events)) = self.unread_events.pop_front() else { break };
            if block < from_block {
                continue;
            }
            for event in events {
                match event {
                    L1Event::Slashed { attester, amount } => {
                        let amount = amount.to_string();
                        out.push(ChainEvent::Slashed(SlashedEvent {
                            attester,
                            amount,
                            l1_block: block,
                            slot,
                        }));
                        self.status_change(attester, slot, &mut out);
                    }
                    L1Event::WithdrawInitiated { attester, .. } => {
                        self.status_change(attester, slot, &mut out)
                    }
                    _ => {}
                }
            }
        }
        Ok(out)
    }
}
