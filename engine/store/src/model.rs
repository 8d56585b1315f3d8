//! The records a store keeps besides slot facts and stats (those come from `sparta-core`).

use std::fmt;

use serde::{Deserialize, Serialize};
use sparta_core::alerting::{Incident, Phase};
use sparta_core::policy::Severity;
use sparta_core::{Address, ChainTiming, Slot};

/// The parameters that must not change across restarts: a store belongs to exactly one rollup.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkIdentity {
    pub chain_id: u64,
    pub rollup: Address,
    pub timing: ChainTiming,
}

impl fmt::Display for NetworkIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = &self.timing;
        write!(
            f,
            "chain id {} rollup {} (genesis {}s, {}s slots, {} slots per epoch)",
            self.chain_id, self.rollup, t.genesis_time_s, t.slot_duration_s, t.epoch_duration_slots
        )
    }
}

/// An operator's claim on a validator. A validator has at most one operator; an operator may run many.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// Discord user id or operator name.
    pub operator: String,
    pub validator: Address,
}

/// Whether `subject` (a Discord user id) holds `role`, and since which slot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleState {
    pub subject: String,
    pub role: String,
    pub held: bool,
    pub since_slot: Slot,
}

/// The persisted state of one alert (keyed by subject and kind), so a restart neither repeats nor loses
/// it. Records written before the lifecycle had phases carry only `firing`, `since_slot` and `evidence`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertRecord {
    pub subject: String,
    pub kind: String,
    /// Told and not yet resolved (the firing phase).
    pub firing: bool,
    pub since_slot: Slot,
    pub evidence: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<Phase>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    #[serde(default)]
    pub score: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notified_slot: Option<Slot>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence_slot: Option<Slot>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until_slot: Option<Slot>,
}

impl AlertRecord {
    pub fn new(subject: impl Into<String>, kind: impl Into<String>, incident: &Incident) -> Self {
        Self {
            subject: subject.into(),
            kind: kind.into(),
            firing: incident.phase == Phase::Firing,
            since_slot: incident.since,
            evidence: incident.evidence.clone(),
            phase: Some(incident.phase),
            severity: Some(incident.severity),
            score: incident.score,
            notified_slot: incident.notified,
            evidence_slot: Some(incident.evidence_slot),
            until_slot: incident.until,
        }
    }

    /// The lifecycle state (an old record's phase follows from `firing`).
    pub fn incident(&self) -> Incident {
        let phase = self.phase.unwrap_or(if self.firing { Phase::Firing } else { Phase::Resolved });
        Incident {
            phase,
            since: self.since_slot,
            severity: self.severity.unwrap_or(Severity::Warning),
            score: self.score,
            notified: self.notified_slot.or(self.firing.then_some(self.since_slot)),
            evidence: self.evidence.clone(),
            evidence_slot: self.evidence_slot.unwrap_or(self.since_slot),
            until: self.until_slot,
        }
    }
}

/// A `/register` challenge: the text a validator's key must sign for `user` to link it. Redeemed
/// (taken) at most once; the caller checks `expires_ms`. Storing one drops the user's expired ones and
/// keeps at most [`MAX_CHALLENGES_PER_USER`](crate::MAX_CHALLENGES_PER_USER) (see `challenges.rs`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Challenge {
    pub user: String,
    pub validator: Address,
    pub nonce: String,
    /// Unix milliseconds.
    pub issued_ms: u64,
    pub expires_ms: u64,
}

impl Challenge {
    /// Whether it can no longer be answered at `now_ms` (unix milliseconds).
    pub fn is_expired_at(&self, now_ms: u64) -> bool {
        now_ms > self.expires_ms
    }
}

/// An operator's alert preferences (`/alerts`): absent means the engine's defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertSettings {
    pub operator: String,
    /// No DMs until unmuted (setting a threshold unmutes).
    pub muted: bool,
    /// Unix milliseconds; no DMs before it.
    pub snoozed_until_ms: Option<u64>,
    /// Replaces the engine's missed-attestation threshold for this operator's validators.
    pub miss_rate_threshold: Option<f64>,
}

impl AlertSettings {
    /// Whether DMs to this operator are held back at `now_ms`.
    pub fn is_quiet(&self, now_ms: u64) -> bool {
        self.muted || self.snoozed_until_ms.is_some_and(|until| now_ms < until)
    }
}

/// A named lease: who leads, until when, and the fencing token of their term. The token grows with
/// every change of holder, so a write carrying an older token is from a leader that was replaced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    pub name: String,
    pub holder: String,
    pub token: u64,
    /// Unix milliseconds.
    pub expires_ms: u64,
}

impl Lease {
    /// The lease after `holder` asks for it at `now_ms`: taken when free or expired, renewed when
    /// `holder` already has it, else unchanged (another holder's lease is still in force).
    pub fn requested(current: Option<&Lease>, name: &str, holder: &str, now_ms: u64, ttl_ms: u64) -> Lease {
        let expires_ms = now_ms.saturating_add(ttl_ms.max(1));
        match current {
            Some(c) if c.holder == holder && c.expires_ms > now_ms => Lease { expires_ms, ..c.clone() },
            Some(c) if c.expires_ms > now_ms => c.clone(),
            Some(c) => Lease { name: name.into(), holder: holder.into(), token: c.token + 1, expires_ms },
            None => Lease { name: name.into(), holder: holder.into(), token: 1, expires_ms },
        }
    }
}

/// Proof of leadership carried by writes with side effects: refused unless `token` is the lease's current one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fence {
    pub lease: String,
    pub token: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_alert_written_before_phases_reads_as_its_lifecycle_state() {
        let old = r#"{"subject":"validator:0xab","kind":"attestation-misses","firing":true,"since_slot":7,"evidence":"missed 5 of 8"}"#;
        let record: AlertRecord = serde_json::from_str(old).unwrap();
        let incident = record.incident();
        assert_eq!(
            (incident.phase, incident.since, incident.notified),
            (Phase::Firing, Slot(7), Some(Slot(7)))
        );
        assert_eq!(AlertRecord::new(&record.subject, &record.kind, &incident).incident(), incident);
    }

    #[test]
    fn a_lease_is_taken_renewed_kept_and_taken_over() {
        let first = Lease::requested(None, "leader", "a", 1_000, 500);
        assert_eq!(first, Lease { name: "leader".into(), holder: "a".into(), token: 1, expires_ms: 1_500 });
        let renewed = Lease::requested(Some(&first), "leader", "a", 1_200, 500);
        assert_eq!((renewed.token, renewed.expires_ms), (1, 1_700), "a renewal keeps the token");
        assert_eq!(Lease::requested(Some(&renewed), "leader", "b", 1_600, 500), renewed, "still a's");
        let taken = Lease::requested(Some(&renewed), "leader", "b", 1_700, 500);
        assert_eq!((taken.holder.as_str(), taken.token), ("b", 2), "expired: b takes it with a new token");
        let back = Lease::requested(Some(&taken), "leader", "a", 2_300, 500);
        assert_eq!((back.holder.as_str(), back.token), ("a", 3), "a returning is a new term");
    }
}
