//! The Aztec node side: a JSON-RPC client and the shapes it decodes.

pub mod client;
pub mod error;
pub mod num;
pub mod wire;

pub use client::{NodeClient, decode_answer};
pub use error::NodeError;
pub use wire::{
    CommitteeAttestation, L2Tips, NodeInfo, PublishedCheckpoint, SingleValidatorStats, ValidatorMissedStats,
    ValidatorStats, ValidatorsStats,
};
