//! The Aztec node side: a JSON-RPC client and the shapes it decodes.

pub mod checkpoints;
pub mod client;
pub mod dialect;
pub mod error;
pub mod num;
pub mod wire;

pub use client::{NodeClient, decode_answer};
pub use dialect::{Namespace, NodeDialect, TipsMethod};
pub use error::NodeError;
pub use wire::{
    CommitteeAttestation, L2Tips, NodeInfo, PublishedCheckpoint, SingleValidatorStats, ValidatorMissedStats,
    ValidatorStats, ValidatorsStats,
};
