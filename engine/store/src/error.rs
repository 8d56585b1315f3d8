//! What can go wrong in a store, phrased so an operator knows what to do next.

use std::path::PathBuf;

use crate::model::NetworkIdentity;
use crate::outbox::SettleRefused;

/// The schema version this build writes and expects (see `migrate.rs` for what each version added).
pub const SCHEMA_VERSION: u32 = 3;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the store was written with schema version {found}, but this build of sparta expects version \
         {expected}; run `sparta migrate` to upgrade it (or point sparta at a fresh store)"
    )]
    SchemaMismatch { found: u32, expected: u32 },

    #[error(
        "the store was written with schema version {found} by a newer sparta, but this build only knows \
         versions up to {expected}; run the newer sparta (a store is never downgraded)"
    )]
    SchemaTooNew { found: u32, expected: u32 },

    #[error(
        "store file {path} is corrupt or truncated ({detail}); sparta will not re-create it on its own: \
         restore it from a backup or move it away to start from an empty store"
    )]
    Corrupt { path: PathBuf, detail: String },

    #[error(
        "store file {path} is already open in another process (only one sparta may use a store file at a time)"
    )]
    Locked { path: PathBuf },

    #[error(
        "this store belongs to another network: it holds {stored}, but sparta is configured for {configured}; \
         use a separate store file per network"
    )]
    IdentityMismatch { stored: Box<NetworkIdentity>, configured: Box<NetworkIdentity> },

    #[error("outbox entry {key:?} was not settled: {reason}")]
    Settle { key: String, reason: SettleRefused },

    #[error(
        "refused: this instance's leadership (lease {lease}, token {token}) was taken over (current token \
         {current}); it must stop publishing"
    )]
    Fenced { lease: String, token: u64, current: u64 },

    #[error("invalid input to the store: {0}")]
    InvalidInput(String),

    #[error("store I/O error on {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },

    #[error("store backend error: {0}")]
    Backend(String),
}

impl StoreError {
    /// The error for a store found at schema version `found` by this build.
    pub fn schema(found: u32) -> Option<Self> {
        match found.cmp(&SCHEMA_VERSION) {
            std::cmp::Ordering::Equal => None,
            std::cmp::Ordering::Less => Some(StoreError::SchemaMismatch { found, expected: SCHEMA_VERSION }),
            std::cmp::Ordering::Greater => Some(StoreError::SchemaTooNew { found, expected: SCHEMA_VERSION }),
        }
    }
}
