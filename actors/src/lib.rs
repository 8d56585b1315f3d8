//! The ractor supervisor tree of sparta: thin actors that call the engine's pure core.
//!
//! ```text
//! EngineSupervisor
//!  ├─ ChainWatcher        polls the node + L1 each slot, persists slot facts, fans them out, and
//!  │                      tells the alert publisher how fresh the data is and what the network did
//!  ├─ ValidatorTracker×N  one shard of validators each (keyed by address), Sentinel-equivalent stats,
//!  │                      network-wide misses excused, inactivity assessed as epochs close
//!  ├─ SlashingDetector    Slashed logs, attester status changes and tally slashing votes
//!  ├─ RoleAssigner        desired roles per Discord member (a ladder of tiers), diffed against what
//!  │                      they hold; periodic reconcile against what Discord shows
//!  ├─ AlertPublisher      persisted alert lifecycle → DMs, moderator posts, a per-epoch digest
//!  ├─ OutboxPublisher     the one actor that calls Discord: claims, delivers, settles outbox entries
//!  └─ MetricsPublisher    network and engine gauges every slot
//! ```
//!
//! Nothing is lost when an actor crashes: slot facts are committed to the store *before* they are
//! fanned out, a tracker that sees a gap re-reads it from the store, and the role and alert actors
//! rebuild their view from persisted state when they start. Their decisions are written together
//! with the Discord actions that announce them (the outbox), so a decision is delivered exactly when
//! it was stored, however the process dies.

mod alerts;
mod backend;
mod context;
mod engine;
mod mailbox;
mod metrics;
mod names;
mod publisher;
mod roles;
mod slashing;
mod supervisor;
mod tracker;
mod watcher;

pub use backend::{EngineBackend, EngineSlot, LateBackend};
pub use context::{ChainTips, EngineConfig, EngineContext};
pub use engine::{Engine, EngineError, EngineHandle, EngineStatus};
pub use names::ChildKind;
pub use publisher::OutboxConfig;
pub use roles::{FLAG_EXITING, FLAG_SLASHED, RoleChange, validator_subject};
pub use tracker::{ShardSummary, ValidatorReport};
