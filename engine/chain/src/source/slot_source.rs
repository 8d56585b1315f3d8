//! What the chain watcher reads, as a trait: the live [`ChainSource`] (node + L1 over JSON-RPC) in
//! production, a recorded or synthetic history for `sparta replay`.

use async_trait::async_trait;
use sparta_core::{ChainEvent, Slot, SlotFacts};

use super::{ChainSource, SourceError};

#[async_trait]
pub trait SlotSource: Send {
    /// The latest slot whose facts are final.
    async fn safe_slot(&self) -> Result<Slot, SourceError>;

    /// The rollup's pending and proven checkpoint numbers.
    async fn tips(&self) -> Result<(u64, u64), SourceError>;

    /// Validators by attester status (`validating`, `exiting`, `zombie`).
    async fn validators_by_status(&self) -> Result<Vec<(&'static str, u64)>, SourceError>;

    /// What happened in `slot`. Slots are asked for in order.
    async fn slot_facts(&mut self, slot: Slot) -> Result<SlotFacts, SourceError>;

    /// Where L1 log scans start when no cursor is stored.
    fn l1_genesis_block(&self) -> u64;

    async fn l1_head_block(&self) -> Result<u64, SourceError>;

    /// L1 events in `[from_block, to_block]` as engine events.
    async fn events_between(
        &mut self,
        from_block: u64,
        to_block: u64,
    ) -> Result<Vec<ChainEvent>, SourceError>;
}

#[async_trait]
impl SlotSource for ChainSource {
    async fn safe_slot(&self) -> Result<Slot, SourceError> {
        ChainSource::safe_slot(self).await
    }

    async fn tips(&self) -> Result<(u64, u64), SourceError> {
        Ok(self.l1().tips().await?)
    }

    async fn validators_by_status(&self) -> Result<Vec<(&'static str, u64)>, SourceError> {
        ChainSource::validators_by_status(self).await
    }

    async fn slot_facts(&mut self, slot: Slot) -> Result<SlotFacts, SourceError> {
        ChainSource::slot_facts(self, slot).await
    }

    fn l1_genesis_block(&self) -> u64 {
        ChainSource::l1_genesis_block(self)
    }

    async fn l1_head_block(&self) -> Result<u64, SourceError> {
        ChainSource::l1_head_block(self).await
    }

    async fn events_between(
        &mut self,
        from_block: u64,
        to_block: u64,
    ) -> Result<Vec<ChainEvent>, SourceError> {
        ChainSource::events_between(self, from_block, to_block).await
    }
}
