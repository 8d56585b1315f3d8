//! The embedded backend: one redb file, ACID, no server.
//!
//! Layout (schema version [`SCHEMA_VERSION`]):
//! - `meta`: `schema_version` (u32 LE), `identity` (JSON [`NetworkIdentity`]), `checkpoint` (u64 LE slot)
//! - `slots`: slot → compact binary row (see `codec.rs`); `committees`: epoch → 20-byte addresses
//! - `stats`: address → JSON `ValidatorStats`; `links`: validator address → operator (UTF-8)
//! - `roles`: (subject, role) → JSON [`RoleState`]; `alerts`: (subject, kind) → JSON [`AlertRecord`]
//! - since version 2: `outbox`, its `outbox_due` and `outbox_settled` indexes, and `audit` (see `outbox.rs`)
//! - since version 3: `alert_settings`: operator → JSON [`AlertSettings`]; `challenges`: (user, validator
//!   address) → JSON [`Challenge`], a few per user (see `challenges.rs`)
//!
//! Slot facts are the bulk of the file, hence the binary rows; everything else is small and JSON keeps
//! it readable and forward-compatible. redb is blocking, so every operation runs on tokio's blocking pool.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use redb::{Database, ReadableTable, TableDefinition};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sparta_core::{Address, Slot, SlotFacts, ValidatorStats};

use crate::challenges;
use crate::codec::{self, CommitteeRef};
use crate::error::{SCHEMA_VERSION, StoreError};
use crate::model::{AlertRecord, AlertSettings, Challenge, Fence, Lease, Link, NetworkIdentity, RoleState};
use crate::outbox::{AuditEntry, Decision, OutboxRecord, Settlement};
use crate::store::Store;

mod db;
mod outbox;

use db::Db;
pub use db::Durability;

const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const SLOTS: TableDefinition<u64, &[u8]> = TableDefinition::new("slots");
const COMMITTEES: TableDefinition<u64, &[u8]> = TableDefinition::new("committees");
const STATS: TableDefinition<&[u8; 20], &[u8]> = TableDefinition::new("stats");
const LINKS: TableDefinition<&[u8; 20], &str> = TableDefinition::new("links");
const ROLES: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("roles");
const ALERTS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("alerts");
const ALERT_SETTINGS: TableDefinition<&str, &[u8]> = TableDefinition::new("alert_settings");
const CHALLENGES: TableDefinition<(&str, &[u8; 20]), &[u8]> = TableDefinition::new("challenges");

/// redb's page cache. Its default (1 GiB) would let a long run's cache outgrow the engine itself; the
/// working set (the slot window, every validator's stats, live outbox entries) is a few MB.
const CACHE_BYTES: usize = 64 * 1024 * 1024;

const KEY_SCHEMA: &str = "schema_version";
const KEY_IDENTITY: &str = "identity";
const KEY_CHECKPOINT: &str = "checkpoint";

/// The single-file store. Cheap to clone; clones share the open database.
#[derive(Clone)]
pub struct EmbeddedStore {
    db: Arc<Db>,
    path: Arc<PathBuf>,
    /// Set on a [`fenced`](Store::fenced) handle.
    fence: Option<Arc<Fence>>,
}

impl std::fmt::Debug for EmbeddedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedStore").field("path", &self.path).finish()
    }
}

impl EmbeddedStore {
    /// Opens the store at `path`, creating it (and writing the schema version) if the file does not exist.
    ///
    /// An existing file is integrity-checked on open: a corrupt, truncated or empty file is
    /// [`StoreError::Corrupt`] and is never re-created; another schema is [`StoreError::SchemaMismatch`];
    /// a file another process holds is [`StoreError::Locked`].
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_with(path, Durability::EveryCommit)
    }

    /// [`Self::open`] with a chosen commit durability (bulk replays commit to disk once a second).
    pub fn open_with(path: &Path, durability: Durability) -> Result<Self, StoreError> {
        let io = |source| StoreError::Io { path: path.to_path_buf(), source };
        let exists = path.try_exists().map_err(io)?;
        if exists && std::fs::metadata(path).map_err(io)?.len() == 0 {
            // redb would silently initialise an empty file; an empty store file means lost data.
            return Err(corrupt(path, "the file is empty"));
        }
        let mut builder = Database::builder();
        builder.set_check_integrity_on_open(true).set_cache_size(CACHE_BYTES);
        let opened = if exists { builder.open(path) } else { builder.create(path) };
        let db = opened.map_err(|e| map_open_error(path, e))?;
        let store =
            Self { db: Arc::new(Db::new(db, durability)), path: Arc::new(path.to_path_buf()), fence: None };
        if exists {
            store.check_schema()?
        } else {
            store.initialise()?
        }
        Ok(store)
    }

    /// Makes every commit so far durable (with [`Durability::AtMostEvery`]; a no-op otherwise).
    pub async fn sync(&self) -> Result<(), StoreError> {
        self.run("sync", |db| Ok(db.sync()?)).await
    }

    /// The file this store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn initialise(&self) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(|e| self.fail(e))?;
        (|| -> Result<(), Fail> {
            txn.open_table(META)?.insert(KEY_SCHEMA, SCHEMA_VERSION.to_le_bytes().as_slice())?;
            txn.open_table(SLOTS)?;
            txn.open_table(COMMITTEES)?;
            txn.open_table(STATS)?;
            txn.open_table(LINKS)?;
            txn.open_table(ROLES)?;
            txn.open_table(ALERTS)?;
            outbox::create_tables(&txn)?;
            txn.open_table(ALERT_SETTINGS)?;
            txn.open_table(CHALLENGES)?;
            Ok(())
        })()
        .map_err(|f| f.into_store_error(&self.path))?;
        txn.commit().map_err(|e| self.fail(e))
    }

    /// Brings a store written by an older build to [`SCHEMA_VERSION`] in one transaction (a crash
    /// leaves it as it was). Returns the version found; a store of a newer build is refused.
    pub fn migrate(path: &Path) -> Result<u32, StoreError> {
        if !path.try_exists().map_err(|source| StoreError::Io { path: path.to_path_buf(), source })? {
            return Err(StoreError::InvalidInput(format!("no store at {}", path.display())));
        }
        let mut builder = Database::builder();
        builder.set_check_integrity_on_open(true);
        let db = builder.open(path).map_err(|e| map_open_error(path, e))?;
        let store = Self {
            db: Arc::new(Db::new(db, Durability::EveryCommit)),
            path: Arc::new(path.to_path_buf()),
            fence: None,
        };
        let found = store.schema_version()?;
        match StoreError::schema(found) {
            None => return Ok(found),
            Some(e @ StoreError::SchemaTooNew { .. }) => return Err(e),
            Some(_) => {}
        }
        let txn = store.db.begin_write().map_err(|e| store.fail(e))?;
        (|| -> Result<(), Fail> {
            // Version 2 added the outbox and the audit log, version 3 alert settings and challenges;
            // nothing else changed shape.
            outbox::create_tables(&txn)?;
            txn.open_table(ALERT_SETTINGS)?;
            txn.open_table(CHALLENGES)?;
            txn.open_table(META)?.insert(KEY_SCHEMA, SCHEMA_VERSION.to_le_bytes().as_slice())?;
            Ok(())
        })()
        .map_err(|f| f.into_store_error(&store.path))?;
        txn.commit().map_err(|e| store.fail(e))?;
        Ok(found)
    }

    /// Rewrites the stored schema version (tests use it to fake a store of another build).
    #[doc(hidden)]
    pub fn force_schema_version(path: &Path, version: u32) -> Result<(), StoreError> {
        let db = Database::builder().open(path).map_err(|e| map_open_error(path, e))?;
        let store = Self {
            db: Arc::new(Db::new(db, Durability::EveryCommit)),
            path: Arc::new(path.to_path_buf()),
            fence: None,
        };
        let txn = store.db.begin_write().map_err(|e| store.fail(e))?;
        txn.open_table(META)
            .and_then(|mut meta| {
                meta.insert(KEY_SCHEMA, version.to_le_bytes().as_slice()).map(|_| ()).map_err(Into::into)
            })
            .map_err(|e| store.fail(e))?;
        txn.commit().map_err(|e| store.fail(e))
    }

    fn check_schema(&self) -> Result<(), StoreError> {
        match StoreError::schema(self.schema_version()?) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn schema_version(&self) -> Result<u32, StoreError> {
        let read = || -> Result<Option<Vec<u8>>, Fail> {
            let txn = self.db.begin_read()?;
            let meta = match txn.open_table(META) {
                Ok(meta) => meta,
                Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
                Err(e) => return Err(e.into()),
            };
            Ok(meta.get(KEY_SCHEMA)?.map(|v| v.value().to_vec()))
        };
        let bytes = read().map_err(|f| f.into_store_error(&self.path))?;
        let bytes = bytes.ok_or_else(|| corrupt(&self.path, "no schema version: not a sparta store"))?;
        let found = u32::from_le_bytes(
            bytes.as_slice().try_into().map_err(|_| corrupt(&self.path, "malformed schema version"))?,
        );
        Ok(found)
    }

    fn fail(&self, e: impl Into<redb::Error>) -> StoreError {
        Fail::Db(e.into()).into_store_error(&self.path)
    }

    /// Runs `op` on the blocking pool and records its duration under `sparta_store_operation_duration_seconds`.
    async fn run<T, F>(&self, name: &'static str, op: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Db) -> Result<T, Fail> + Send + 'static,
    {
        let db = Arc::clone(&self.db);
        let started = Instant::now();
        let joined = tokio::task::spawn_blocking(move || op(&db)).await;
        metrics::histogram!("sparta_store_operation_duration_seconds", "op" => name)
            .record(started.elapsed().as_secs_f64());
        joined
            .map_err(|e| StoreError::Backend(format!("store operation {name} did not finish: {e}")))?
            .map_err(|f| f.into_store_error(&self.path))
    }
}

/// An error inside a blocking operation, given the store's path only when it leaves `run`.
pub(crate) enum Fail {
    Db(redb::Error),
    Corrupt(String),
    Store(StoreError),
}

impl Fail {
    fn into_store_error(self, path: &Path) -> StoreError {
        match self {
            Fail::Store(e) => e,
            Fail::Corrupt(detail) => corrupt(path, &detail),
            Fail::Db(redb::Error::Corrupted(detail)) => corrupt(path, &detail),
            Fail::Db(redb::Error::TableDoesNotExist(table)) => {
                corrupt(path, &format!("table {table} is missing"))
            }
            Fail::Db(redb::Error::DatabaseAlreadyOpen) => StoreError::Locked { path: path.to_path_buf() },
            // redb reports a file that ends early, or holds no database, as these I/O kinds.
            Fail::Db(redb::Error::Io(source)) if source.kind() == std::io::ErrorKind::UnexpectedEof => {
                corrupt(path, &format!("the file ends early (truncated?): {source}"))
            }
            Fail::Db(redb::Error::Io(source)) if source.kind() == std::io::ErrorKind::InvalidData => {
                corrupt(path, &format!("not a database file: {source}"))
            }
            Fail::Db(redb::Error::Io(source)) => StoreError::Io { path: path.to_path_buf(), source },
            Fail::Db(other) => StoreError::Backend(other.to_string()),
        }
    }
}

macro_rules! fail_from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for Fail {
            fn from(e: $t) -> Self {
                Fail::Db(e.into())
            }
        }
    )*};
}
fail_from_redb!(redb::Error, redb::StorageError, redb::TableError, redb::TransactionError, redb::CommitError);

impl From<StoreError> for Fail {
    fn from(e: StoreError) -> Self {
        Fail::Store(e)
    }
}

fn corrupt(path: &Path, detail: &str) -> StoreError {
    StoreError::Corrupt { path: path.to_path_buf(), detail: detail.to_string() }
}

fn map_open_error(path: &Path, e: redb::DatabaseError) -> StoreError {
    match e {
        redb::DatabaseError::DatabaseAlreadyOpen | redb::DatabaseError::LockProtocolMismatch => {
            StoreError::Locked { path: path.to_path_buf() }
        }
        redb::DatabaseError::RepairAborted => corrupt(path, "the file needs a repair that did not complete"),
        redb::DatabaseError::UpgradeRequired(v) => {
            corrupt(path, &format!("written in an older file format (v{v}) that this build cannot read"))
        }
        other => Fail::Db(other.into()).into_store_error(path),
    }
}

fn addr_key(a: &Address) -> &[u8; 20] {
    &a.0.0
}

pub(crate) fn to_json<T: Serialize>(value: &T) -> Result<Vec<u8>, Fail> {
    serde_json::to_vec(value).map_err(|e| Fail::Store(StoreError::InvalidInput(e.to_string())))
}

pub(crate) fn from_json<T: DeserializeOwned>(what: &str, bytes: &[u8]) -> Result<T, Fail> {
    serde_json::from_slice(bytes).map_err(|e| Fail::Corrupt(format!("undecodable {what} record: {e}")))
}

fn lease_key(name: &str) -> String {
    format!("lease:{name}")
}

/// Refuses the transaction unless `fence` (if any) holds the lease's current token.
/// Removes the slot rows in `range`, then every epoch committee no remaining row refers to; returns
/// how many rows went.
fn remove_slots(txn: &redb::WriteTransaction, range: impl std::ops::RangeBounds<u64>) -> Result<u64, Fail> {
    let mut slots = txn.open_table(SLOTS)?;
    let doomed: Vec<u64> =
        slots.range(range)?.map(|e| e.map(|(k, _)| k.value())).collect::<Result<_, _>>()?;
    for slot in &doomed {
        slots.remove(*slot)?;
    }
    let mut referenced = BTreeSet::new();
    for entry in slots.iter()? {
        let (slot, row) = entry?;
        let row = codec::decode_slot(row.value())
            .map_err(|e| Fail::Corrupt(format!("slot {}: {e}", slot.value())))?;
        if matches!(row.committee, CommitteeRef::Epoch) {
            referenced.insert(row.epoch.0);
        }
    }
    txn.open_table(COMMITTEES)?.retain(|epoch, _| referenced.contains(&epoch))?;
    Ok(doomed.len() as u64)
}

fn check_fence(txn: &redb::WriteTransaction, fence: Option<&Fence>) -> Result<(), Fail> {
    let Some(fence) = fence else { return Ok(()) };
    let meta = txn.open_table(META)?;
    let current: Option<Lease> =
        meta.get(lease_key(&fence.lease).as_str())?.map(|v| from_json("lease", v.value())).transpose()?;
    let current = current.map_or(0, |l| l.token);
    if current != fence.token {
        return Err(Fail::Store(StoreError::Fenced {
            lease: fence.lease.clone(),
            token: fence.token,
            current,
        }));
    }
    Ok(())
}

fn cursor_key(name: &str) -> String {
    format!("cursor:{name}")
}

fn read_checkpoint(meta: &impl ReadableTable<&'static str, &'static [u8]>) -> Result<Option<Slot>, Fail> {
    let Some(v) = meta.get(KEY_CHECKPOINT)? else { return Ok(None) };
    let bytes: [u8; 8] = v.value().try_into().map_err(|_| Fail::Corrupt("malformed checkpoint".into()))?;
    Ok(Some(Slot(u64::from_le_bytes(bytes))))
}

/// Every challenge `user` holds: one key range, as the user leads the key.
fn challenges_of(
    table: &impl ReadableTable<(&'static str, &'static [u8; 20]), &'static [u8]>,
    user: &str,
) -> Result<Vec<Challenge>, Fail> {
    let mut out = Vec::new();
    for row in table.range((user, &[0u8; 20])..=(user, &[0xffu8; 20]))? {
        out.push(from_json("challenge", row?.1.value())?);
    }
    Ok(out)
}

/// Reads every value of a JSON table, in key order.
fn read_all_json<K: redb::Key + 'static, T: DeserializeOwned>(
    db: &Db,
    table: TableDefinition<K, &'static [u8]>,
    what: &str,
) -> Result<Vec<T>, Fail> {
    let txn = db.begin_read()?;
    let table = txn.open_table(table)?;
    let mut out = Vec::new();
    for entry in table.iter()? {
        out.push(from_json(what, entry?.1.value())?);
    }
    Ok(out)
}

#[async_trait]
impl Store for EmbeddedStore {
    async fn check_identity(&self, id: &NetworkIdentity) -> Result<(), StoreError> {
        let id = id.clone();
        self.run("check_identity", move |db| {
            let txn = db.begin_write()?;
            {
                let mut meta = txn.open_table(META)?;
                let stored = meta.get(KEY_IDENTITY)?.map(|v| v.value().to_vec());
                match stored {
                    Some(bytes) => {
                        let stored: NetworkIdentity = from_json("identity", &bytes)?;
                        if stored != id {
                            return Err(Fail::Store(StoreError::IdentityMismatch {
                                stored: Box::new(stored),
                                configured: Box::new(id),
                            }));
                        }
                    }
                    None => {
                        meta.insert(KEY_IDENTITY, to_json(&id)?.as_slice())?;
                    }
                }
            }
            txn.commit()?;
            Ok(())
        })
        .await
    }

    async fn checkpoint(&self) -> Result<Option<Slot>, StoreError> {
        self.run("checkpoint", |db| read_checkpoint(&db.begin_read()?.open_table(META)?)).await
    }

    async fn commit_slots(&self, facts: &[SlotFacts]) -> Result<(), StoreError> {
        let Some(last) = facts.last() else { return Ok(()) };
        let last = last.slot;
        let facts = facts.to_vec();
        let fence = self.fence.clone();
        self.run("commit_slots", move |db| {
            let txn = db.begin_write()?;
            check_fence(&txn, fence.as_deref())?;
            {
                let mut slots = txn.open_table(SLOTS)?;
                let mut committees = txn.open_table(COMMITTEES)?;
                let mut known: HashMap<u64, Arc<[sparta_core::Address]>> = HashMap::new();
                let mut previous: Option<Slot> = None;
                for f in &facts {
                    // Checked while writing, so a bad batch also proves the transaction rolls back.
                    if previous.is_some_and(|p| p >= f.slot) {
                        return Err(Fail::Store(StoreError::InvalidInput(format!(
                            "slot facts must be strictly ascending, got slot {} after {}",
                            f.slot,
                            previous.unwrap_or_default()
                        ))));
                    }
                    previous = Some(f.slot);
                    let epoch_committee = match known.get(&f.epoch.0) {
                        Some(c) => Arc::clone(c),
                        None => {
                            let stored = committees.get(f.epoch.0)?.map(|v| v.value().to_vec());
                            let committee = match stored {
                                Some(bytes) => codec::decode_committee(&bytes).map_err(Fail::Corrupt)?,
                                None => {
                                    let bytes = codec::encode_committee(&f.committee);
                                    committees.insert(f.epoch.0, bytes.as_slice())?;
                                    Arc::clone(&f.committee)
                                }
                            };
                            known.insert(f.epoch.0, Arc::clone(&committee));
                            committee
                        }
                    };
                    let shared =
                        Arc::ptr_eq(&epoch_committee, &f.committee) || *epoch_committee == *f.committee;
                    slots.insert(f.slot.0, codec::encode_slot(f, shared).as_slice())?;
                }
                txn.open_table(META)?.insert(KEY_CHECKPOINT, last.0.to_le_bytes().as_slice())?;
            }
            txn.commit()?;
            Ok(())
        })
        .await
    }

    async fn slot_history(&self, from: Slot) -> Result<Vec<SlotFacts>, StoreError> {
        self.run("slot_history", move |db| {
            let txn = db.begin_read()?;
            let Some(checkpoint) = read_checkpoint(&txn.open_table(META)?)? else { return Ok(Vec::new()) };
            if from > checkpoint {
                return Ok(Vec::new());
            }
            let slots = txn.open_table(SLOTS)?;
            let committees = txn.open_table(COMMITTEES)?;
            // One Arc per epoch, as the engine builds them, so history costs one list per epoch in memory.
            let mut by_epoch: HashMap<u64, Arc<[sparta_core::Address]>> = HashMap::new();
            let mut out = Vec::new();
            for entry in slots.range(from.0..=checkpoint.0)? {
                let (slot, row) = entry?;
                let slot = Slot(slot.value());
                let row = codec::decode_slot(row.value())
                    .map_err(|e| Fail::Corrupt(format!("slot {slot}: {e}")))?;
                let committee = match &row.committee {
                    CommitteeRef::Inline(c) => Arc::clone(c),
                    CommitteeRef::Epoch => match by_epoch.get(&row.epoch.0) {
                        Some(c) => Arc::clone(c),
                        None => {
                            let bytes = committees.get(row.epoch.0)?.ok_or_else(|| {
                                Fail::Corrupt(format!(
                                    "slot {slot}: committee of epoch {} is missing",
                                    row.epoch
                                ))
                            })?;
                            let c = codec::decode_committee(bytes.value()).map_err(Fail::Corrupt)?;
                            by_epoch.insert(row.epoch.0, Arc::clone(&c));
                            c
                        }
                    },
                };
                out.push(row.into_facts(slot, committee));
            }
            Ok(out)
        })
        .await
    }

    async fn trim_history(&self, before: Slot) -> Result<u64, StoreError> {
        let fence = self.fence.clone();
        self.run("trim_history", move |db| {
            let txn = db.begin_write()?;
            check_fence(&txn, fence.as_deref())?;
            let removed = remove_slots(&txn, ..before.0)?;
            txn.commit()?;
            Ok(removed)
        })
        .await
    }

    async fn rewind(&self, from: Slot) -> Result<u64, StoreError> {
        let fence = self.fence.clone();
        self.run("rewind", move |db| {
            let txn = db.begin_write()?;
            check_fence(&txn, fence.as_deref())?;
            {
                let mut meta = txn.open_table(META)?;
                match read_checkpoint(&meta)? {
                    Some(checkpoint) if checkpoint >= from => match from.0.checked_sub(1) {
                        Some(before) => {
                            meta.insert(KEY_CHECKPOINT, before.to_le_bytes().as_slice())?;
                        }
                        None => {
                            meta.remove(KEY_CHECKPOINT)?;
                        }
                    },
                    _ => return Ok(0),
                }
            }
            // A forgotten epoch's committee goes too: its slots are read again, committee and all.
            let removed = remove_slots(&txn, from.0..)?;
            txn.commit()?;
            Ok(removed)
        })
        .await
    }

    async fn put_stats(&self, stats: &[ValidatorStats]) -> Result<(), StoreError> {
        let stats = stats.to_vec();
        let fence = self.fence.clone();
        self.run("put_stats", move |db| {
            let txn = db.begin_write()?;
            check_fence(&txn, fence.as_deref())?;
            {
                let mut table = txn.open_table(STATS)?;
                for s in &stats {
                    table.insert(addr_key(&s.address), to_json(s)?.as_slice())?;
                }
            }
            txn.commit()?;
            Ok(())
        })
        .await
    }

    async fn stats(&self, validator: &Address) -> Result<Option<ValidatorStats>, StoreError> {
        let validator = *validator;
        self.run("stats", move |db| {
            let txn = db.begin_read()?;
            let table = txn.open_table(STATS)?;
            let value = table.get(addr_key(&validator))?;
            value.map(|v| from_json("stats", v.value())).transpose()
        })
        .await
    }

    async fn all_stats(&self) -> Result<Vec<ValidatorStats>, StoreError> {
        self.run("all_stats", |db| read_all_json(db, STATS, "stats")).await
    }

    async fn link(&self, link: &Link) -> Result<(), StoreError> {
        let link = link.clone();
        self.run("link", move |db| {
            let txn = db.begin_write()?;
            txn.open_table(LINKS)?.insert(addr_key(&link.validator), link.operator.as_str())?;
            txn.commit()?;
            Ok(())
        })
        .await
    }

    async fn validators_of(&self, operator: &str) -> Result<Vec<Address>, StoreError> {
        let operator = operator.to_owned();
        // A pass over the memory-mapped links (tens of microseconds for thousands): no second index
        // to keep in step.
        self.run("validators_of", move |db| {
            let txn = db.begin_read()?;
            let table = txn.open_table(LINKS)?;
            let mut out = Vec::new();
            for row in table.iter()? {
                let (validator, linked_to) = row?;
                if linked_to.value() == operator {
                    out.push(Address::from(*validator.value()));
                }
            }
            Ok(out)
        })
        .await
    }

    async fn link_audited(&self, link: &Link, audit: &AuditEntry) -> Result<(), StoreError> {
        let (link, audit) = (link.clone(), audit.clone());
        self.run("link_audited", move |db| {
            let txn = db.begin_write()?;
            txn.open_table(LINKS)?.insert(addr_key(&link.validator), link.operator.as_str())?;
            outbox::append_audit(&txn, std::slice::from_ref(&audit))?;
            txn.commit()?;
            Ok(())
        })
        .await
    }

    async fn put_challenge(&self, challenge: &Challenge) -> Result<(), StoreError> {
        let challenge = challenge.clone();
        self.run("put_challenge", move |db| {
            let bytes = to_json(&challenge)?;
            let user = challenge.user.as_str();
            let txn = db.begin_write()?;
            {
                let mut table = txn.open_table(CHALLENGES)?;
                let stored = challenges_of(&table, user)?;
                for validator in challenges::displaced_by(&challenge, &stored) {
                    table.remove((user, addr_key(&validator)))?;
                }
                table.insert((user, addr_key(&challenge.validator)), bytes.as_slice())?;
            }
            txn.commit()?;
            Ok(())
        })
        .await
    }

    async fn take_challenge(&self, user: &str, validator: &Address) -> Result<Option<Challenge>, StoreError> {
        let (user, validator) = (user.to_owned(), *validator);
        self.run("take_challenge", move |db| {
            let txn = db.begin_write()?;
            let taken = {
                let mut table = txn.open_table(CHALLENGES)?;
                let removed = table.remove((user.as_str(), addr_key(&validator)))?;
                removed.map(|v| from_json::<Challenge>("challenge", v.value())).transpose()?
            };
            txn.commit()?;
            Ok(taken)
        })
        .await
    }

    async fn links(&self) -> Result<Vec<Link>, StoreError> {
        self.run("links", |db| {
            let txn = db.begin_read()?;
            let table = txn.open_table(LINKS)?;
            let mut out = Vec::new();
            for entry in table.iter()? {
                let (validator, operator) = entry?;
                out.push(Link {
                    operator: operator.value().to_string(),
                    validator: Address::from(*validator.value()),
                });
            }
            Ok(out)
        })
        .await
    }

    async fn operator_of(&self, validator: &Address) -> Result<Option<String>, StoreError> {
        let validator = *validator;
        self.run("operator_of", move |db| {
            let txn = db.begin_read()?;
            let table = txn.open_table(LINKS)?;
            let operator = table.get(addr_key(&validator))?.map(|v| v.value().to_string());
            Ok(operator)
        })
        .await
    }

    async fn role_states(&self) -> Result<Vec<RoleState>, StoreError> {
        self.run("role_states", |db| read_all_json(db, ROLES, "role state")).await
    }

    async fn role_state(&self, subject: &str, role: &str) -> Result<Option<RoleState>, StoreError> {
        let (subject, role) = (subject.to_owned(), role.to_owned());
        self.run("role_state", move |db| {
            let txn = db.begin_read()?;
            let table = txn.open_table(ROLES)?;
            let value = table.get((subject.as_str(), role.as_str()))?;
            value.map(|v| from_json("role state", v.value())).transpose()
        })
        .await
    }

    async fn put_role_state(&self, state: &RoleState) -> Result<(), StoreError> {
        let state = state.clone();
        self.run("put_role_state", move |db| {
            let txn = db.begin_write()?;
            let key = (state.subject.as_str(), state.role.as_str());
            txn.open_table(ROLES)?.insert(key, to_json(&state)?.as_slice())?;
            txn.commit()?;
            Ok(())
        })
        .await
    }

    async fn alerts(&self) -> Result<Vec<AlertRecord>, StoreError> {
        self.run("alerts", |db| read_all_json(db, ALERTS, "alert")).await
    }

    async fn alert_settings(&self, operator: &str) -> Result<Option<AlertSettings>, StoreError> {
        let operator = operator.to_owned();
        self.run("alert_settings", move |db| {
            let txn = db.begin_read()?;
            let table = match txn.open_table(ALERT_SETTINGS) {
                Ok(table) => table,
                Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
                Err(e) => return Err(e.into()),
            };
            let found = table.get(operator.as_str())?;
            found
                .map(|v| serde_json::from_slice(v.value()).map_err(|e| Fail::Corrupt(e.to_string())))
                .transpose()
        })
        .await
    }

    async fn all_alert_settings(&self) -> Result<Vec<AlertSettings>, StoreError> {
        self.run("all_alert_settings", |db| {
            let txn = db.begin_read()?;
            let table = match txn.open_table(ALERT_SETTINGS) {
                Ok(table) => table,
                Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
                Err(e) => return Err(e.into()),
            };
            let mut out = Vec::new();
            for row in table.iter()? {
                let (_, v) = row?;
                out.push(serde_json::from_slice(v.value()).map_err(|e| Fail::Corrupt(e.to_string()))?);
            }
            Ok(out)
        })
        .await
    }

    async fn put_alert_settings(&self, settings: &AlertSettings) -> Result<(), StoreError> {
        let settings = settings.clone();
        self.run("put_alert_settings", move |db| {
            let bytes = serde_json::to_vec(&settings).map_err(|e| Fail::Corrupt(e.to_string()))?;
            let txn = db.begin_write()?;
            txn.open_table(ALERT_SETTINGS)?.insert(settings.operator.as_str(), bytes.as_slice())?;
            txn.commit()?;
            Ok(())
        })
        .await
    }

    async fn cursor(&self, name: &str) -> Result<Option<u64>, StoreError> {
        let key = cursor_key(name);
        self.run("cursor", move |db| {
            let txn = db.begin_read()?;
            let meta = txn.open_table(META)?;
            let Some(v) = meta.get(key.as_str())? else { return Ok(None) };
            let bytes: [u8; 8] =
                v.value().try_into().map_err(|_| Fail::Corrupt("malformed cursor".into()))?;
            Ok(Some(u64::from_le_bytes(bytes)))
        })
        .await
    }

    async fn put_cursor(&self, name: &str, value: u64) -> Result<(), StoreError> {
        let key = cursor_key(name);
        let fence = self.fence.clone();
        self.run("put_cursor", move |db| {
            let txn = db.begin_write()?;
            check_fence(&txn, fence.as_deref())?;
            txn.open_table(META)?.insert(key.as_str(), value.to_le_bytes().as_slice())?;
            txn.commit()?;
            Ok(())
        })
        .await
    }

    async fn commit_decision(&self, decision: &Decision) -> Result<Vec<String>, StoreError> {
        decision.validate().map_err(StoreError::InvalidInput)?;
        let decision = decision.clone();
        let fence = self.fence.clone();
        self.run("commit_decision", move |db| {
            let txn = db.begin_write()?;
            check_fence(&txn, fence.as_deref())?;
            let enqueued;
            {
                let mut roles = txn.open_table(ROLES)?;
                for state in &decision.roles {
                    roles
                        .insert((state.subject.as_str(), state.role.as_str()), to_json(state)?.as_slice())?;
                }
                let mut alerts = txn.open_table(ALERTS)?;
                for alert in &decision.alerts {
                    alerts
                        .insert((alert.subject.as_str(), alert.kind.as_str()), to_json(alert)?.as_slice())?;
                }
                outbox::append_audit(&txn, &decision.audit)?;
                enqueued = outbox::enqueue(&txn, &decision.outbox)?;
            }
            txn.commit()?;
            Ok(enqueued)
        })
        .await
    }

    async fn claim_outbox(
        &self,
        now_ms: u64,
        lease_ms: u64,
        limit: usize,
    ) -> Result<Vec<OutboxRecord>, StoreError> {
        let fence = self.fence.clone();
        self.run("claim_outbox", move |db| {
            let txn = db.begin_write()?;
            check_fence(&txn, fence.as_deref())?;
            let claimed = outbox::claim(&txn, now_ms, lease_ms, limit)?;
            txn.commit()?;
            Ok(claimed)
        })
        .await
    }

    async fn settle_outbox(
        &self,
        key: &str,
        attempt: u32,
        settlement: &Settlement,
        now_ms: u64,
    ) -> Result<(), StoreError> {
        let key = key.to_owned();
        let settlement = settlement.clone();
        let fence = self.fence.clone();
        self.run("settle_outbox", move |db| {
            let txn = db.begin_write()?;
            check_fence(&txn, fence.as_deref())?;
            outbox::settle(&txn, &key, attempt, &settlement, now_ms)?;
            txn.commit()?;
            Ok(())
        })
        .await
    }

    async fn outbox_record(&self, key: &str) -> Result<Option<OutboxRecord>, StoreError> {
        let key = key.to_owned();
        self.run("outbox_record", move |db| outbox::record(&db.begin_read()?, &key)).await
    }

    async fn outbox_records(&self) -> Result<Vec<OutboxRecord>, StoreError> {
        self.run("outbox_records", |db| outbox::all(&db.begin_read()?)).await
    }

    async fn outbox_backlog(&self) -> Result<u64, StoreError> {
        self.run("outbox_backlog", |db| outbox::backlog(&db.begin_read()?)).await
    }

    async fn audit_log(&self, subject: &str) -> Result<Vec<AuditEntry>, StoreError> {
        let subject = subject.to_owned();
        self.run("audit_log", move |db| outbox::audit_of(&db.begin_read()?, &subject)).await
    }

    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        now_ms: u64,
        ttl_ms: u64,
    ) -> Result<Lease, StoreError> {
        let (name, holder) = (name.to_owned(), holder.to_owned());
        self.run("acquire_lease", move |db| {
            let txn = db.begin_write()?;
            let lease;
            {
                let mut meta = txn.open_table(META)?;
                let key = lease_key(&name);
                let current: Option<Lease> =
                    meta.get(key.as_str())?.map(|v| from_json("lease", v.value())).transpose()?;
                lease = Lease::requested(current.as_ref(), &name, &holder, now_ms, ttl_ms);
                if current.as_ref() != Some(&lease) {
                    meta.insert(key.as_str(), to_json(&lease)?.as_slice())?;
                }
            }
            txn.commit()?;
            Ok(lease)
        })
        .await
    }

    async fn lease(&self, name: &str) -> Result<Option<Lease>, StoreError> {
        let key = lease_key(name);
        self.run("lease", move |db| {
            let txn = db.begin_read()?;
            let meta = txn.open_table(META)?;
            let value = meta.get(key.as_str())?;
            value.map(|v| from_json("lease", v.value())).transpose()
        })
        .await
    }

    fn fenced(&self, fence: Fence) -> Arc<dyn Store> {
        Arc::new(Self { fence: Some(Arc::new(fence)), ..self.clone() })
    }

    async fn put_alert(&self, alert: &AlertRecord) -> Result<(), StoreError> {
        let alert = alert.clone();
        self.run("put_alert", move |db| {
            let txn = db.begin_write()?;
            let key = (alert.subject.as_str(), alert.kind.as_str());
            txn.open_table(ALERTS)?.insert(key, to_json(&alert)?.as_slice())?;
            txn.commit()?;
            Ok(())
        })
        .await
    }
}
