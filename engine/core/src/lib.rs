//! The pure domain core of sparta: no async, no I/O.
//!
//! The chain arrives as [`ChainEvent`]s carrying [`SlotFacts`]; a [`ValidatorMonitor`] turns them into
//! per-validator [`ValidatorStats`] with the Aztec node Sentinel's semantics; policies turn stats into
//! role and alert decisions. Everything here is deterministic and driven by the caller's clock.

pub mod alerting;
pub mod events;
pub mod facts;
pub mod freshness;
pub mod generation;
pub mod inactivity;
pub mod monitor;
pub mod outage;
pub mod policy;
pub mod roles;
pub mod scoreboard;
pub mod stats;
pub mod status;
pub mod time;

pub use alloy_primitives::Address;
pub use events::{AttesterStatus, ChainEvent, SlashVoteTarget, SlashVotes, SlashedEvent};
pub use facts::{CommitteeBits, ProposalOutcome, SlotFacts};
pub use generation::Generation;
pub use inactivity::{InactivityRisk, InactivityRule};
pub use monitor::{MonitorConfig, ValidatorMonitor};
pub use outage::{Excused, OutageRule};
pub use stats::{EpochPerformance, MissedStats, ValidatorStats};
pub use status::{StatusCategory, ValidatorStatusInSlot};
pub use time::{ChainTiming, Epoch, ManualSlotClock, Slot, SlotClock, SystemSlotClock};
