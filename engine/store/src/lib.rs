//! Persistence for sparta: the [`Store`] contract, [`EmbeddedStore`] (its single-file ACID backend) and
//! [`DynamoStore`] (the same contract on DynamoDB).
//!
//! Backends are interchangeable behind `dyn Store`; [`conformance`] holds the behaviour every backend
//! must show, written once and run against each of them.
//!
//! Encoding: slot facts, the bulk of the data, use a compact binary row with each epoch's committee
//! stored once (about 40 bytes per slot instead of ~1 KiB); all other records are serde_json, small and
//! readable. A schema version is written when a store is created and checked on every open.

mod challenges;
mod codec;
pub mod conformance;
pub mod dynamo;
mod embedded;
mod error;
#[cfg(feature = "local-moto")]
pub mod local;
mod model;
pub mod outbox;
mod store;

pub use challenges::MAX_CHALLENGES_PER_USER;
pub use dynamo::{DynamoConfig, DynamoStore};
pub use embedded::{Durability, EmbeddedStore};
pub use error::{SCHEMA_VERSION, StoreError};
pub use model::{AlertRecord, AlertSettings, Challenge, Fence, Lease, Link, NetworkIdentity, RoleState};
pub use outbox::{AuditEntry, Decision, OutboxEntry, OutboxRecord, OutboxState, SettleRefused, Settlement};
pub use store::Store;
