//! The chain as a typed stream of events, in the order the watcher observed them.

use serde::{Deserialize, Serialize};

use crate::Address;
use crate::facts::SlotFacts;
use crate::time::{Epoch, Slot};

/// An attester's status in the Rollup (`getStatus`): `NONE=0, VALIDATING=1, ZOMBIE=2, EXITING=3`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttesterStatus {
    None,
    Validating,
    /// Slashed out of the set; funds wait in an exit the withdrawer must claim.
    Zombie,
    Exiting,
    /// A status code this version does not know.
    Unknown,
}

impl AttesterStatus {
    pub fn from_code(code: u8) -> Self {
        match code {
            0 => Self::None,
            1 => Self::Validating,
            2 => Self::Zombie,
            3 => Self::Exiting,
            _ => Self::Unknown,
        }
    }

    pub fn code(self) -> u8 {
        match self {
            Self::None => 0,
            Self::Validating => 1,
            Self::Zombie => 2,
            Self::Exiting => 3,
            Self::Unknown => 255,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Validating => "validating",
            Self::Zombie => "zombie",
            Self::Exiting => "exiting",
            Self::Unknown => "unknown",
        }
    }
}

/// A `Slashed(attester, amount)` log from the Rollup.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlashedEvent {
    pub attester: Address,
    /// Amount in the staking asset's base units (decimal string keeps full uint256 precision).
    pub amount: String,
    pub l1_block: u64,
    /// The L2 slot that was current when the log landed.
    pub slot: Slot,
}

/// Where a tally slashing round stands, for the validators its votes would slash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlashVotes {
    pub round: u64,
    /// The L2 slot of the latest vote or of the execution.
    pub slot: Slot,
    /// Votes cast in the round so far, and how many slash a validator.
    pub votes_cast: u32,
    pub quorum: u32,
    /// The round can be executed from this slot on, and no longer from `expires_at`.
    pub executable_from: Slot,
    pub expires_at: Slot,
    /// The round was executed: its slashes are done (as `Slashed` logs), its votes over.
    pub executed: bool,
    /// Validators at least one vote would slash.
    pub targets: Vec<SlashVoteTarget>,
}

/// How a round's votes treat one validator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlashVoteTarget {
    pub validator: Address,
    /// Votes for at least one slash unit.
    pub votes: u32,
    /// The most units any vote asks for (1 = `SLASH_AMOUNT_SMALL`, 2 = medium, 3 = large).
    pub max_units: u8,
}

/// One observation of the chain. The watcher emits them in slot order; a slot is finished when its
/// [`ChainEvent::SlotObserved`] has been processed by every consumer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChainEvent {
    SlotObserved(SlotFacts),
    Slashed(SlashedEvent),
    AttesterStatusChanged {
        attester: Address,
        from: AttesterStatus,
        to: AttesterStatus,
        slot: Slot,
    },
    /// Votes of a tally slashing round (after a `VoteCast`), or its execution (`RoundExecuted`).
    SlashVotes(SlashVotes),
    /// The pending chain was pruned back to `proven` (unproven checkpoints removed).
    Pruned {
        proven_checkpoint: u64,
        pending_checkpoint: u64,
        slot: Slot,
    },
    /// Whether the escape hatch is open in `epoch` (said for every epoch read, so a restart repeats
    /// the current state and the alert publisher's record decides what is news).
    EscapeHatch {
        epoch: Epoch,
        open: bool,
        slot: Slot,
    },
}

impl ChainEvent {
    pub fn slot(&self) -> Slot {
        match self {
            ChainEvent::SlotObserved(f) => f.slot,
            ChainEvent::Slashed(s) => s.slot,
            ChainEvent::SlashVotes(v) => v.slot,
            ChainEvent::AttesterStatusChanged { slot, .. }
            | ChainEvent::Pruned { slot, .. }
            | ChainEvent::EscapeHatch { slot, .. } => *slot,
        }
    }
}
