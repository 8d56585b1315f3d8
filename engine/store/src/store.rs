//! The storage contract every backend (embedded today, DynamoDB later) fulfils.

use async_trait::async_trait;
use sparta_core::{Address, Slot, SlotFacts, ValidatorStats};

use crate::error::StoreError;
use crate::model::{AlertRecord, Link, NetworkIdentity, RoleState};

/// Persistence for the engine. Every method is one atomic operation of the backend.
#[async_trait]
pub trait Store: Send + Sync {
    /// The first start stores `id`; later starts must present the same one, else
    /// [`StoreError::IdentityMismatch`] naming both.
    async fn check_identity(&self, id: &NetworkIdentity) -> Result<(), StoreError>;

    /// The last fully processed slot, `None` before the first commit.
    async fn checkpoint(&self) -> Result<Option<Slot>, StoreError>;

    /// Appends (or replaces) the facts of each slot and moves the checkpoint to the last one, in one
    /// transaction. `facts` must be strictly ascending by slot, else [`StoreError::InvalidInput`] and
    /// nothing is written. An empty batch changes nothing.
    async fn commit_slots(&self, facts: &[SlotFacts]) -> Result<(), StoreError>;

    /// Stored facts for `from..=checkpoint`, ascending.
    async fn slot_history(&self, from: Slot) -> Result<Vec<SlotFacts>, StoreError>;

    /// Removes the facts of every slot before `before`; returns how many slots were removed.
    async fn trim_history(&self, before: Slot) -> Result<u64, StoreError>;

    /// Upserts the latest stats of each validator.
    async fn put_stats(&self, stats: &[ValidatorStats]) -> Result<(), StoreError>;

    async fn stats(&self, validator: &Address) -> Result<Option<ValidatorStats>, StoreError>;

    /// Every validator's stats, ordered by address.
    async fn all_stats(&self) -> Result<Vec<ValidatorStats>, StoreError>;

    /// Links a validator to an operator, replacing any previous operator of that validator.
    async fn link(&self, link: &Link) -> Result<(), StoreError>;

    /// Every link, ordered by validator address.
    async fn links(&self) -> Result<Vec<Link>, StoreError>;

    async fn operator_of(&self, validator: &Address) -> Result<Option<String>, StoreError>;

    /// Every role state, ordered by (subject, role).
    async fn role_states(&self) -> Result<Vec<RoleState>, StoreError>;

    /// Upserts the state keyed by (subject, role).
    async fn put_role_state(&self, state: &RoleState) -> Result<(), StoreError>;

    /// Every alert, ordered by (subject, kind).
    async fn alerts(&self) -> Result<Vec<AlertRecord>, StoreError>;

    /// Upserts the alert keyed by (subject, kind).
    async fn put_alert(&self, alert: &AlertRecord) -> Result<(), StoreError>;

    /// A named position in an external stream (e.g. the last L1 block whose logs were handled).
    async fn cursor(&self, name: &str) -> Result<Option<u64>, StoreError>;

    /// Moves the named cursor.
    async fn put_cursor(&self, name: &str, value: u64) -> Result<(), StoreError>;
}
