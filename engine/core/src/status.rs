//! What a validator did in one slot, in the Aztec node Sentinel's words (every protocol generation).

use serde::{Deserialize, Serialize};

/// A Sentinel history entry's status. Unknown strings are kept as [`ValidatorStatusInSlot::Unknown`]
/// rather than rejected, so a newer node never breaks decoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ValidatorStatusInSlot {
    // v4 proposer statuses
    CheckpointMined,
    CheckpointProposed,
    CheckpointMissed,
    BlocksMissed,
    // master / 5.x proposer statuses
    CheckpointValid,
    CheckpointInvalid,
    CheckpointUnvalidated,
    // v2 proposer statuses
    BlockMined,
    BlockProposed,
    BlockMissed,
    // attester statuses (all generations)
    AttestationSent,
    AttestationMissed,
    #[serde(other)]
    Unknown,
}

/// How a status counts in the stats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StatusCategory {
    ProposerGood,
    ProposerMiss,
    AttestGood,
    AttestMiss,
    /// Recorded, but counts in neither proposal nor attestation stats.
    Uncounted,
}

impl ValidatorStatusInSlot {
    pub const ALL: [ValidatorStatusInSlot; 13] = [
        Self::CheckpointMined,
        Self::CheckpointProposed,
        Self::CheckpointMissed,
        Self::BlocksMissed,
        Self::CheckpointValid,
        Self::CheckpointInvalid,
        Self::CheckpointUnvalidated,
        Self::BlockMined,
        Self::BlockProposed,
        Self::BlockMissed,
        Self::AttestationSent,
        Self::AttestationMissed,
        Self::Unknown,
    ];

    pub fn category(self) -> StatusCategory {
        use ValidatorStatusInSlot::*;
        match self {
            CheckpointMined | CheckpointProposed | CheckpointValid | BlockMined | BlockProposed => {
                StatusCategory::ProposerGood
            }
            CheckpointMissed | BlocksMissed | CheckpointInvalid | CheckpointUnvalidated | BlockMissed => {
                StatusCategory::ProposerMiss
            }
            AttestationSent => StatusCategory::AttestGood,
            AttestationMissed => StatusCategory::AttestMiss,
            Unknown => StatusCategory::Uncounted,
        }
    }

    /// A compact code for storage (stable: never renumber).
    pub fn code(self) -> u8 {
        Self::ALL.iter().position(|s| *s == self).unwrap_or(12) as u8
    }

    pub fn from_code(code: u8) -> Self {
        Self::ALL.get(code as usize).copied().unwrap_or(Self::Unknown)
    }

    /// The wire string, as the node writes it.
    pub fn as_str(self) -> &'static str {
        use ValidatorStatusInSlot::*;
        match self {
            CheckpointMined => "checkpoint-mined",
            CheckpointProposed => "checkpoint-proposed",
            CheckpointMissed => "checkpoint-missed",
            BlocksMissed => "blocks-missed",
            CheckpointValid => "checkpoint-valid",
            CheckpointInvalid => "checkpoint-invalid",
            CheckpointUnvalidated => "checkpoint-unvalidated",
            BlockMined => "block-mined",
            BlockProposed => "block-proposed",
            BlockMissed => "block-missed",
            AttestationSent => "attestation-sent",
            AttestationMissed => "attestation-missed",
            Unknown => "unknown",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_round_trips_through_its_wire_string_and_code() {
        for s in ValidatorStatusInSlot::ALL {
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
            let back: ValidatorStatusInSlot = serde_json::from_str(&json).unwrap();
            assert_eq!(back, s);
            assert_eq!(ValidatorStatusInSlot::from_code(s.code()), s);
        }
    }

    #[test]
    fn unknown_statuses_are_kept_not_rejected() {
        let s: ValidatorStatusInSlot = serde_json::from_str("\"checkpoint-teleported\"").unwrap();
        assert_eq!(s, ValidatorStatusInSlot::Unknown);
        assert_eq!(s.category(), StatusCategory::Uncounted);
    }
}
