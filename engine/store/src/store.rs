//! The storage contract every backend (embedded today, DynamoDB later) fulfils.

use async_trait::async_trait;
use sparta_core::{Address, Slot, SlotFacts, ValidatorStats};

use crate::error::StoreError;
use std::sync::Arc;

use crate::model::{AlertRecord, AlertSettings, Challenge, Fence, Lease, Link, NetworkIdentity, RoleState};
use crate::outbox::{AuditEntry, Decision, OutboxRecord, Settlement};

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

    /// Forgets the facts of `from` and every later slot and moves the checkpoint back to the slot before
    /// (none when `from` is slot 0), so those slots are read again from the chain: the repair of a range
    /// committed from a lying source. The checkpoint moves first, so an interrupted rewind leaves rows
    /// past the checkpoint (not history, rewritten by the next commit), never history with holes.
    /// Returns how many slots were forgotten; a `from` past the checkpoint changes nothing.
    async fn rewind(&self, from: Slot) -> Result<u64, StoreError>;

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

    /// The validators linked to `operator`, ascending: an index read, not a scan.
    async fn validators_of(&self, operator: &str) -> Result<Vec<Address>, StoreError>;

    /// [`link`](Self::link) and an audit entry for it, in one transaction (a moderator's manual link).
    async fn link_audited(&self, link: &Link, audit: &AuditEntry) -> Result<(), StoreError>;

    /// Stores a challenge, replacing an earlier one of the same user and validator. It also deletes the
    /// user's challenges expired at its `issued_ms`, and the user's oldest ones beyond
    /// [`MAX_CHALLENGES_PER_USER`](crate::MAX_CHALLENGES_PER_USER), so `/register` cannot grow the store.
    async fn put_challenge(&self, challenge: &Challenge) -> Result<(), StoreError>;

    /// Removes and returns the challenge in one atomic step: of concurrent takers, one gets it. The
    /// store has no clock: the caller refuses one past its `expires_ms`, which is gone all the same.
    async fn take_challenge(&self, user: &str, validator: &Address) -> Result<Option<Challenge>, StoreError>;

    /// Every role state, ordered by (subject, role).
    async fn role_states(&self) -> Result<Vec<RoleState>, StoreError>;

    /// The state keyed by (subject, role), if any.
    async fn role_state(&self, subject: &str, role: &str) -> Result<Option<RoleState>, StoreError>;

    /// Upserts the state keyed by (subject, role).
    async fn put_role_state(&self, state: &RoleState) -> Result<(), StoreError>;

    /// Every alert, ordered by (subject, kind).
    async fn alerts(&self) -> Result<Vec<AlertRecord>, StoreError>;

    /// Upserts the alert keyed by (subject, kind).
    async fn put_alert(&self, alert: &AlertRecord) -> Result<(), StoreError>;

    /// The operator's alert preferences, if they set any.
    async fn alert_settings(&self, operator: &str) -> Result<Option<AlertSettings>, StoreError>;

    /// Every operator's alert preferences (a few records: read once when the alert publisher starts).
    async fn all_alert_settings(&self) -> Result<Vec<AlertSettings>, StoreError>;

    /// Upserts the preferences keyed by operator.
    async fn put_alert_settings(&self, settings: &AlertSettings) -> Result<(), StoreError>;

    /// A named position in an external stream (e.g. the last L1 block whose logs were handled).
    async fn cursor(&self, name: &str) -> Result<Option<u64>, StoreError>;

    /// Moves the named cursor.
    async fn put_cursor(&self, name: &str, value: u64) -> Result<(), StoreError>;

    /// Applies one decision in one transaction: upserts its role and alert states, appends its audit
    /// entries and enqueues its outbox entries. An outbox key that is already stored (pending or
    /// settled) is left as it is, so re-making a decision after a crash enqueues nothing twice.
    /// Returns the keys that were newly enqueued. More than [`Decision::MAX_RECORDS`] records, or a key
    /// twice, is [`StoreError::InvalidInput`] and nothing is written.
    async fn commit_decision(&self, decision: &Decision) -> Result<Vec<String>, StoreError>;

    /// Leases up to `limit` claimable entries (pending and due, or with an expired lease) until
    /// `now_ms + lease_ms`, oldest first. Concurrent callers never receive the same claim: each
    /// returned record's `attempts` is the claim's fencing token for [`settle_outbox`](Self::settle_outbox).
    async fn claim_outbox(
        &self,
        now_ms: u64,
        lease_ms: u64,
        limit: usize,
    ) -> Result<Vec<OutboxRecord>, StoreError>;

    /// Records how the delivery of claim `attempt` of `key` ended. A claim that was overtaken (its
    /// lease expired and another publisher claimed the entry) is [`StoreError::Settle`] and changes
    /// nothing.
    async fn settle_outbox(
        &self,
        key: &str,
        attempt: u32,
        settlement: &Settlement,
        now_ms: u64,
    ) -> Result<(), StoreError>;

    async fn outbox_record(&self, key: &str) -> Result<Option<OutboxRecord>, StoreError>;

    /// Every outbox record, ordered by key: a full read, for audits and tests, never the hot path.
    async fn outbox_records(&self) -> Result<Vec<OutboxRecord>, StoreError>;

    /// How many entries still wait for delivery (pending or leased).
    async fn outbox_backlog(&self) -> Result<u64, StoreError>;

    /// The audit entries of `subject`, oldest first.
    async fn audit_log(&self, subject: &str) -> Result<Vec<AuditEntry>, StoreError>;

    /// Asks for the lease `name` on behalf of `holder` at `now_ms` (see [`Lease::requested`]) in one
    /// atomic step, and returns the lease in force afterwards: `holder`'s if it got or renewed it.
    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        now_ms: u64,
        ttl_ms: u64,
    ) -> Result<Lease, StoreError>;

    async fn lease(&self, name: &str) -> Result<Option<Lease>, StoreError>;

    /// The same store, whose writes with side effects (`commit_decision`, `claim_outbox`,
    /// `settle_outbox`) each check in their own transaction that `fence` is still the lease's current
    /// token, and are [`StoreError::Fenced`] otherwise. A leader hands this to its engine, so once a
    /// newer leader exists nothing the old one does can reach Discord.
    fn fenced(&self, fence: Fence) -> Arc<dyn Store>;
}
