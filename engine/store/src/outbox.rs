//! The outbox: side effects (DMs, role changes, channel posts) written in the same transaction as the
//! decision behind them, then claimed, delivered and settled by a publisher.
//!
//! Together with idempotency keys this gives "decided once, delivered once": a decision that commits
//! always gets delivered (a crash only delays it), re-deciding the same thing after a crash enqueues
//! nothing new (the key exists), and a lease keeps two publishers from taking the same entry. The
//! rules of one entry's life live here, so both backends apply exactly the same ones.

use serde::{Deserialize, Serialize};
use sparta_core::Slot;

use crate::model::{AlertRecord, RoleState};

/// A side effect waiting for delivery. The store does not interpret `payload`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// The same key for the same decision however often it is made (see `DiscordAction::idempotency_key`).
    pub key: String,
    pub payload: String,
    /// The slot as of which it was decided (evidence, and the age shown to operators).
    pub created_slot: Slot,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum OutboxState {
    /// Waiting; deliverable from `due_ms` (Unix milliseconds).
    Pending {
        due_ms: u64,
    },
    /// Claimed by a publisher until `until_ms`; after that any publisher may claim it again.
    Leased {
        until_ms: u64,
    },
    Delivered {
        at_ms: u64,
    },
    /// Delivery can never succeed (unknown user, missing permission); kept as evidence.
    Rejected {
        at_ms: u64,
        reason: String,
    },
}

/// An entry and where it is in its life.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxRecord {
    pub entry: OutboxEntry,
    pub state: OutboxState,
    /// How many times it was claimed. A claim's `attempts` is its fencing token: only the latest
    /// claimer may settle the entry.
    pub attempts: u32,
}

/// How a claimed delivery ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Settlement {
    Delivered,
    Rejected(String),
    /// A transient failure: deliverable again from `at_ms`.
    RetryAt(u64),
}

/// Why a settlement was not recorded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SettleRefused {
    #[error("no outbox entry has this key")]
    Unknown,
    #[error("the lease was lost: the entry was claimed again (attempt {current}) after attempt {attempt}")]
    LeaseLost { attempt: u32, current: u32 },
    #[error("the entry is not claimed (it is {0})")]
    NotClaimed(&'static str),
}

impl OutboxRecord {
    pub fn new(entry: OutboxEntry) -> Self {
        Self { entry, state: OutboxState::Pending { due_ms: 0 }, attempts: 0 }
    }

    /// From when a publisher may claim it; `None` once settled.
    pub fn claimable_from(&self) -> Option<u64> {
        match self.state {
            OutboxState::Pending { due_ms } => Some(due_ms),
            OutboxState::Leased { until_ms } => Some(until_ms),
            OutboxState::Delivered { .. } | OutboxState::Rejected { .. } => None,
        }
    }

    /// When it was settled; `None` while it still waits for delivery.
    pub fn settled_at(&self) -> Option<u64> {
        match self.state {
            OutboxState::Delivered { at_ms } | OutboxState::Rejected { at_ms, .. } => Some(at_ms),
            OutboxState::Pending { .. } | OutboxState::Leased { .. } => None,
        }
    }

    pub fn is_claimable(&self, now_ms: u64) -> bool {
        self.claimable_from().is_some_and(|from| from <= now_ms)
    }

    /// The record after a claim at `now_ms` (the caller checked [`is_claimable`](Self::is_claimable)).
    pub fn claimed(mut self, now_ms: u64, lease_ms: u64) -> Self {
        self.state = OutboxState::Leased { until_ms: now_ms.saturating_add(lease_ms.max(1)) };
        self.attempts += 1;
        self
    }

    /// The record after the holder of claim `attempt` settled it at `now_ms`.
    pub fn settled(
        mut self,
        attempt: u32,
        settlement: &Settlement,
        now_ms: u64,
    ) -> Result<Self, SettleRefused> {
        if attempt != self.attempts {
            return Err(SettleRefused::LeaseLost { attempt, current: self.attempts });
        }
        match self.state {
            OutboxState::Leased { .. } => {}
            OutboxState::Pending { .. } => return Err(SettleRefused::NotClaimed("pending")),
            OutboxState::Delivered { .. } => return Err(SettleRefused::NotClaimed("delivered")),
            OutboxState::Rejected { .. } => return Err(SettleRefused::NotClaimed("rejected")),
        }
        self.state = match settlement {
            Settlement::Delivered => OutboxState::Delivered { at_ms: now_ms },
            Settlement::Rejected(reason) => OutboxState::Rejected { at_ms: now_ms, reason: reason.clone() },
            Settlement::RetryAt(at_ms) => OutboxState::Pending { due_ms: *at_ms },
        };
        Ok(self)
    }
}

/// One entry of the audit log: what changed for a subject, when, and the evidence for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub subject: String,
    pub at_slot: Slot,
    /// What changed, e.g. `role+ performant` or `alert fire attestation_misses`.
    pub change: String,
    pub evidence: String,
}

/// One decision, applied atomically: the new states, the audit entries that explain them and the side
/// effects that announce them. Either all of it is stored or none of it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Decision {
    pub roles: Vec<RoleState>,
    pub alerts: Vec<AlertRecord>,
    pub audit: Vec<AuditEntry>,
    pub outbox: Vec<OutboxEntry>,
}

impl Decision {
    /// The most records one decision may hold (DynamoDB's limit for one transaction).
    pub const MAX_RECORDS: usize = 100;

    pub fn len(&self) -> usize {
        self.roles.len() + self.alerts.len() + self.audit.len() + self.outbox.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Input errors shared by every backend: too large, or one key twice (ambiguous which wins).
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.len() > Self::MAX_RECORDS {
            return Err(format!(
                "a decision holds at most {} records, this one has {}",
                Self::MAX_RECORDS,
                self.len()
            ));
        }
        let mut keys = std::collections::HashSet::new();
        if let Some(dup) = self.outbox.iter().find(|e| !keys.insert(e.key.as_str())) {
            return Err(format!("outbox key {:?} appears twice in one decision", dup.key));
        }
        if let Some(empty) = self.outbox.iter().find(|e| e.key.is_empty()) {
            return Err(format!("an outbox entry has an empty key (payload {:?})", empty.payload));
        }
        Ok(())
    }
}

/// How long settled entries stay, so a late re-decision of the same key is still recognised.
pub const SETTLED_RETENTION_MS: u64 = 30 * 24 * 3_600 * 1_000;

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> OutboxRecord {
        OutboxRecord::new(OutboxEntry { key: "k".into(), payload: "p".into(), created_slot: Slot(3) })
    }

    #[test]
    fn a_claim_leases_and_expires() {
        let r = record();
        assert!(r.is_claimable(0));
        let claimed = r.claimed(1_000, 500);
        assert_eq!(claimed.attempts, 1);
        assert!(!claimed.is_claimable(1_499));
        assert!(claimed.is_claimable(1_500), "an expired lease may be claimed again");
    }

    #[test]
    fn only_the_latest_claimer_settles() {
        let first = record().claimed(0, 10);
        let second = first.clone().claimed(20, 10);
        assert_eq!(
            second.clone().settled(1, &Settlement::Delivered, 25),
            Err(SettleRefused::LeaseLost { attempt: 1, current: 2 })
        );
        let done = second.settled(2, &Settlement::Delivered, 25).unwrap();
        assert_eq!(done.state, OutboxState::Delivered { at_ms: 25 });
        assert_eq!(done.claimable_from(), None);
        assert_eq!(done.settled_at(), Some(25));
        assert_eq!(
            done.settled(2, &Settlement::Delivered, 30),
            Err(SettleRefused::NotClaimed("delivered")),
            "a settled entry stays settled"
        );
    }

    #[test]
    fn a_retry_waits_and_a_rejection_is_final() {
        let retried = record().claimed(0, 10).settled(1, &Settlement::RetryAt(100), 5).unwrap();
        assert!(!retried.is_claimable(99));
        assert!(retried.is_claimable(100));
        let rejected =
            retried.claimed(100, 10).settled(2, &Settlement::Rejected("gone".into()), 101).unwrap();
        assert_eq!(rejected.state, OutboxState::Rejected { at_ms: 101, reason: "gone".into() });
        assert!(!rejected.is_claimable(u64::MAX));
    }

    #[test]
    fn settling_an_unclaimed_entry_is_refused() {
        assert_eq!(record().settled(0, &Settlement::Delivered, 1), Err(SettleRefused::NotClaimed("pending")));
    }

    #[test]
    fn decisions_reject_duplicate_empty_and_oversized_input() {
        let entry =
            |key: &str| OutboxEntry { key: key.into(), payload: String::new(), created_slot: Slot(0) };
        let ok = Decision { outbox: vec![entry("a"), entry("b")], ..Decision::default() };
        assert_eq!(ok.validate(), Ok(()));
        let dup = Decision { outbox: vec![entry("a"), entry("a")], ..Decision::default() };
        assert!(dup.validate().unwrap_err().contains("twice"));
        let empty = Decision { outbox: vec![entry("")], ..Decision::default() };
        assert!(empty.validate().unwrap_err().contains("empty key"));
        let big = Decision {
            outbox: (0..=Decision::MAX_RECORDS).map(|i| entry(&i.to_string())).collect(),
            ..Decision::default()
        };
        assert!(big.validate().unwrap_err().contains("at most 100"));
    }
}
