//! The narrow handle the front asks: everything a command needs, already computed by the engine or
//! read from the store. Nothing behind it calls the chain: answers come from what the engine holds.

use async_trait::async_trait;
use serde::Serialize;
use sparta_core::monitor::NetworkSummary;
use sparta_core::policy::RolePolicy;
use sparta_core::{Address, Epoch, EpochPerformance, InactivityRule, Slot, ValidatorStats};

/// A validator's standing on L1, as far as the engine has seen it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Standing {
    /// On the set and attesting (or waiting for a committee seat).
    Validating,
    /// Withdrawal initiated: leaves the set, no longer judged for roles.
    Exiting,
    /// Slashed: out of the set if its stake fell below the minimum (a zombie).
    Slashed,
}

/// The slot data is as of, and when that slot ended (unix seconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct AsOf {
    pub slot: Slot,
    pub slot_end_s: u64,
}

/// Whether an answer came from the running engine or, on a standby, from the stored copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Live,
    Stored,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ValidatorView {
    pub stats: ValidatorStats,
    /// Per-epoch misses, oldest first (empty when answered from the store).
    pub epochs: Vec<EpochPerformance>,
    pub standing: Standing,
    /// The Discord user or operator name it is linked to.
    pub operator: Option<String>,
    /// Kinds of the alerts firing for it (e.g. `attestation-misses`).
    pub alerts: Vec<String>,
    pub as_of: Option<AsOf>,
    pub source: Source,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChainView {
    /// The slot and epoch by the clock, which the engine trails by its confirmation lag.
    pub clock_slot: Slot,
    pub clock_epoch: Epoch,
    /// The last slot the engine processed.
    pub as_of: Option<AsOf>,
    /// Pending and proven checkpoint numbers on L1, as last read.
    pub pending_checkpoint: Option<u64>,
    pub proven_checkpoint: Option<u64>,
    /// Seats of the last processed slot's committee.
    pub committee_size: Option<u32>,
    pub network: NetworkSummary,
    pub source: Source,
}

/// A role change the next reconcile would make.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PlannedRoleChange {
    pub user: String,
    pub role: String,
    pub grant: bool,
    pub reason: String,
}

/// An open `/register` challenge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingLink {
    pub user: String,
    pub validator: Address,
    pub nonce: String,
    pub issued_ms: u64,
    pub expires_ms: u64,
}

/// An operator's alert preferences (`/alerts`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct AlertPreferences {
    pub muted: bool,
    /// Unix milliseconds; alerts resume after it.
    pub snoozed_until_ms: Option<u64>,
    /// Overrides the engine's missed-attestation threshold for this operator.
    pub miss_rate_threshold: Option<f64>,
}

/// The thresholds answers explain themselves with.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Policies {
    pub roles: RolePolicy,
    pub slashed_role: String,
    pub inactivity: InactivityRule,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    /// The engine or the store did not answer (restarting, overloaded, unreachable).
    #[error("{0}")]
    Unavailable(String),
}

#[async_trait]
pub trait Backend: Send + Sync {
    fn policies(&self) -> &Policies;

    /// Unix milliseconds (injected so tests control expiry and freshness).
    fn now_ms(&self) -> u64;

    async fn chain(&self) -> Result<ChainView, BackendError>;

    /// `None` when the engine has never seen the validator.
    async fn validator(&self, address: Address) -> Result<Option<ValidatorView>, BackendError>;

    /// The validators linked to `operator`, ascending.
    async fn linked_validators(&self, operator: &str) -> Result<Vec<Address>, BackendError>;

    /// The roles `user` holds (as decided; the outbox delivers them).
    async fn held_roles(&self, user: &str) -> Result<Vec<String>, BackendError>;

    async fn role_dry_run(&self) -> Result<Vec<PlannedRoleChange>, BackendError>;

    /// Stores a challenge, replacing an earlier one for the same user and validator. The store keeps
    /// only a user's few newest live challenges, so an older one may be gone when `/verify` asks.
    async fn put_challenge(&self, challenge: &PendingLink) -> Result<(), BackendError>;

    /// Removes and returns the challenge: each one can be redeemed once.
    async fn take_challenge(
        &self,
        user: &str,
        validator: Address,
    ) -> Result<Option<PendingLink>, BackendError>;

    /// Links `validator` to `operator` and lets the engine judge them. `moderator` is set for a manual
    /// link, which is audited under the moderator's name.
    async fn link(
        &self,
        operator: &str,
        validator: Address,
        moderator: Option<&str>,
    ) -> Result<(), BackendError>;

    async fn alert_preferences(&self, operator: &str) -> Result<AlertPreferences, BackendError>;

    async fn put_alert_preferences(
        &self,
        operator: &str,
        prefs: &AlertPreferences,
    ) -> Result<(), BackendError>;
}
