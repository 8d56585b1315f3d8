//! The redb database with the store's commit durability.
//!
//! Every commit is durable (fsync'd before it returns) unless the store was opened for bulk work
//! ([`Durability::AtMostEvery`]): then commits are durable at most once per period, and the ones in
//! between live in memory until the next durable one. A crash then loses the last period, never its
//! order: the file holds a prefix of the commits, which a replay re-does from its stored checkpoint.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use redb::{Database, ReadTransaction, ReadableDatabase, TransactionError, WriteTransaction};

/// How often commits reach the disk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// Every commit (the engine's default: facts are durable before anyone acts on them).
    #[default]
    EveryCommit,
    /// At most once per period, and on drop (`sparta replay`: no Discord call depends on it).
    AtMostEvery(Duration),
}

pub(crate) struct Db {
    database: Database,
    durability: Durability,
    /// When the last durable commit began (`None` before the first: a new file's schema is durable
    /// at once), and whether commits since then are only in memory.
    synced: Mutex<(Option<Instant>, bool)>,
}

impl Db {
    pub(crate) fn new(database: Database, durability: Durability) -> Self {
        Self { database, durability, synced: Mutex::new((None, false)) }
    }

    pub(crate) fn begin_read(&self) -> Result<ReadTransaction, TransactionError> {
        self.database.begin_read()
    }

    pub(crate) fn begin_write(&self) -> Result<WriteTransaction, redb::Error> {
        let mut txn = self.database.begin_write()?;
        if let Durability::AtMostEvery(period) = self.durability {
            let mut synced = self.synced.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if synced.0.is_some_and(|at| at.elapsed() < period) {
                txn.set_durability(redb::Durability::None).map_err(redb::Error::from)?;
                synced.1 = true;
            } else {
                *synced = (Some(Instant::now()), false);
            }
        }
        Ok(txn)
    }

    /// Makes every commit so far durable (an empty durable commit, when some were not).
    pub(crate) fn sync(&self) -> Result<(), redb::Error> {
        let mut synced = self.synced.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if synced.1 {
            self.database.begin_write()?.commit()?;
            *synced = (Some(Instant::now()), false);
        }
        Ok(())
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Err(error) = self.sync() {
            tracing::warn!(%error, "the store's last commits could not be made durable");
        }
    }
}
