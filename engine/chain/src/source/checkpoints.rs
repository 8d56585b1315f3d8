//! Which slots have a checkpoint on L1, learned incrementally from the node's `node_getCheckpoints`.

use std::collections::BTreeMap;

use sparta_core::Slot;

use crate::node::client::MAX_CHECKPOINTS_PER_CALL;
use crate::node::{CommitteeAttestation, NodeClient, NodeError};

/// Bounds memory: about a week of mainnet slots.
const MAX_CACHED: usize = 8_192;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeenCheckpoint {
    pub number: u64,
    /// In committee order, as the node published them.
    pub attestations: Vec<CommitteeAttestation>,
}

/// Slot → checkpoint for every checkpoint from `floor` up to the last synced number.
#[derive(Debug, Default)]
pub struct CheckpointCache {
    by_slot: BTreeMap<Slot, SeenCheckpoint>,
    /// Every checkpoint whose slot is `>= floor` and number `< next` is in `by_slot`.
    floor: Option<Slot>,
    next: u64,
}

impl CheckpointCache {
    /// Whether the cache can answer for `slot` without seeking back.
    pub fn covers(&self, slot: Slot) -> bool {
        self.floor.is_some_and(|floor| slot >= floor)
    }

    /// Restarts the cache at checkpoint `number`, known to be at or before `slot`'s checkpoint.
    pub fn seek(&mut self, number: u64, slot: Slot) {
        self.by_slot.clear();
        self.floor = Some(slot);
        self.next = number.max(1);
    }

    pub fn get(&self, slot: Slot) -> Option<&SeenCheckpoint> {
        self.by_slot.get(&slot)
    }

    /// Fetches every checkpoint from the next unseen one up to `tip` (the node's checkpointed tip).
    pub async fn sync(&mut self, node: &NodeClient, tip: u64) -> Result<(), NodeError> {
        self.next = self.next.max(1);
        if tip.saturating_add(1) < self.next {
            // The pending chain was pruned: what we hold past the tip is gone from L1.
            self.forget_after(tip);
        }
        // Each round moves `next` forward or stops, so this ends after at most (tip-next)/50+1 pages.
        while self.next <= tip {
            let limit = (tip - self.next + 1).min(u64::from(MAX_CHECKPOINTS_PER_CALL)) as u32;
            let page = node.checkpoints(self.next, limit).await?;
            let Some(last) = page.iter().map(|c| c.checkpoint.number).max() else { break };
            if last < self.next {
                break;
            }
            for published in page {
                let slot = published.checkpoint.header.slot_number;
                let number = published.checkpoint.number;
                self.by_slot.insert(slot, SeenCheckpoint { number, attestations: published.attestations });
            }
            self.next = last + 1;
        }
        self.trim();
        Ok(())
    }

    /// Drops checkpoints numbered above `checkpoint` (after a prune) so they are fetched again.
    pub fn forget_after(&mut self, checkpoint: u64) {
        self.by_slot.retain(|_, seen| seen.number <= checkpoint);
        self.next = self.next.min(checkpoint + 1).max(1);
    }

    fn trim(&mut self) {
        while self.by_slot.len() > MAX_CACHED {
            if let Some((slot, _)) = self.by_slot.pop_first() {
                self.floor = Some(slot.next());
            }
        }
    }
}
