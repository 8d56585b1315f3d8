//! The outbox and audit log in the redb file. Every function runs inside the caller's transaction.
//!
//! `outbox` holds each record by key; `outbox_due` indexes the claimable ones by the time they become
//! claimable (a pending entry's due time, a leased one's lease end), so a claim reads only what it
//! takes; `outbox_settled` indexes settled ones by settle time, so old ones are pruned without a scan.

use redb::{
    ReadOnlyTable, ReadTransaction, ReadableTable, ReadableTableMetadata, TableDefinition, WriteTransaction,
};

use super::{Fail, from_json, to_json};
use crate::StoreError;
use crate::outbox::{AuditEntry, OutboxEntry, OutboxRecord, SETTLED_RETENTION_MS, Settlement};

const OUTBOX: TableDefinition<&str, &[u8]> = TableDefinition::new("outbox");
const OUTBOX_DUE: TableDefinition<(u64, &str), ()> = TableDefinition::new("outbox_due");
const OUTBOX_SETTLED: TableDefinition<(u64, &str), ()> = TableDefinition::new("outbox_settled");
/// (subject, slot, change) → JSON [`AuditEntry`].
const AUDIT: TableDefinition<(&str, u64, &str), &[u8]> = TableDefinition::new("audit");

pub(super) fn create_tables(txn: &WriteTransaction) -> Result<(), Fail> {
    txn.open_table(OUTBOX)?;
    txn.open_table(OUTBOX_DUE)?;
    txn.open_table(OUTBOX_SETTLED)?;
    txn.open_table(AUDIT)?;
    Ok(())
}

/// Inserts the entries whose key is new; returns those keys.
pub(super) fn enqueue(txn: &WriteTransaction, entries: &[OutboxEntry]) -> Result<Vec<String>, Fail> {
    let mut outbox = txn.open_table(OUTBOX)?;
    let mut due = txn.open_table(OUTBOX_DUE)?;
    let mut enqueued = Vec::new();
    for entry in entries {
        if outbox.get(entry.key.as_str())?.is_some() {
            continue;
        }
        let record = OutboxRecord::new(entry.clone());
        outbox.insert(entry.key.as_str(), to_json(&record)?.as_slice())?;
        due.insert((record.claimable_from().unwrap_or_default(), entry.key.as_str()), ())?;
        enqueued.push(entry.key.clone());
    }
    Ok(enqueued)
}

pub(super) fn claim(
    txn: &WriteTransaction,
    now_ms: u64,
    lease_ms: u64,
    limit: usize,
) -> Result<Vec<OutboxRecord>, Fail> {
    prune_settled(txn, now_ms)?;
    let mut outbox = txn.open_table(OUTBOX)?;
    let mut due = txn.open_table(OUTBOX_DUE)?;
    let ready: Vec<(u64, String)> = due
        .range(..(now_ms.saturating_add(1), ""))?
        .take(limit)
        .map(|e| e.map(|(k, _)| (k.value().0, k.value().1.to_owned())))
        .collect::<Result<_, _>>()?;
    let mut claimed = Vec::with_capacity(ready.len());
    for (at, key) in ready {
        due.remove((at, key.as_str()))?;
        let record = read(&outbox, &key)?
            .ok_or_else(|| Fail::Corrupt(format!("outbox index names {key:?}, which is missing")))?;
        let record = record.claimed(now_ms, lease_ms);
        outbox.insert(key.as_str(), to_json(&record)?.as_slice())?;
        due.insert((record.claimable_from().unwrap_or_default(), key.as_str()), ())?;
        claimed.push(record);
    }
    Ok(claimed)
}

pub(super) fn settle(
    txn: &WriteTransaction,
    key: &str,
    attempt: u32,
    settlement: &Settlement,
    now_ms: u64,
) -> Result<(), Fail> {
    let mut outbox = txn.open_table(OUTBOX)?;
    let refused = |reason| Fail::Store(StoreError::Settle { key: key.to_owned(), reason });
    let record = read(&outbox, key)?.ok_or_else(|| refused(crate::outbox::SettleRefused::Unknown))?;
    let before = record.claimable_from();
    let after = record.settled(attempt, settlement, now_ms).map_err(refused)?;
    let mut due = txn.open_table(OUTBOX_DUE)?;
    if let Some(at) = before {
        due.remove((at, key))?;
    }
    match (after.claimable_from(), after.settled_at()) {
        (Some(at), _) => {
            due.insert((at, key), ())?;
        }
        (None, Some(at)) => {
            txn.open_table(OUTBOX_SETTLED)?.insert((at, key), ())?;
        }
        (None, None) => {}
    }
    outbox.insert(key, to_json(&after)?.as_slice())?;
    Ok(())
}

/// Forgets entries settled longer ago than the retention (bounded work per call).
fn prune_settled(txn: &WriteTransaction, now_ms: u64) -> Result<(), Fail> {
    let Some(cutoff) = now_ms.checked_sub(SETTLED_RETENTION_MS) else { return Ok(()) };
    let mut settled = txn.open_table(OUTBOX_SETTLED)?;
    let old: Vec<(u64, String)> = settled
        .range(..(cutoff, ""))?
        .take(256)
        .map(|e| e.map(|(k, _)| (k.value().0, k.value().1.to_owned())))
        .collect::<Result<_, _>>()?;
    let mut outbox = txn.open_table(OUTBOX)?;
    for (at, key) in old {
        settled.remove((at, key.as_str()))?;
        outbox.remove(key.as_str())?;
    }
    Ok(())
}

fn read(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    key: &str,
) -> Result<Option<OutboxRecord>, Fail> {
    table.get(key)?.map(|v| from_json("outbox", v.value())).transpose()
}

pub(super) fn record(txn: &ReadTransaction, key: &str) -> Result<Option<OutboxRecord>, Fail> {
    read(&txn.open_table(OUTBOX)?, key)
}

pub(super) fn all(txn: &ReadTransaction) -> Result<Vec<OutboxRecord>, Fail> {
    let outbox = txn.open_table(OUTBOX)?;
    let mut out = Vec::new();
    for entry in outbox.iter()? {
        out.push(from_json("outbox", entry?.1.value())?);
    }
    Ok(out)
}

pub(super) fn backlog(txn: &ReadTransaction) -> Result<u64, Fail> {
    let due: ReadOnlyTable<(u64, &str), ()> = txn.open_table(OUTBOX_DUE)?;
    Ok(due.len()?)
}

pub(super) fn append_audit(txn: &WriteTransaction, entries: &[AuditEntry]) -> Result<(), Fail> {
    let mut audit = txn.open_table(AUDIT)?;
    for e in entries {
        audit.insert((e.subject.as_str(), e.at_slot.0, e.change.as_str()), to_json(e)?.as_slice())?;
    }
    Ok(())
}

pub(super) fn audit_of(txn: &ReadTransaction, subject: &str) -> Result<Vec<AuditEntry>, Fail> {
    let audit = txn.open_table(AUDIT)?;
    let mut out = Vec::new();
    for entry in audit.range((subject, 0, "")..)? {
        let (key, value) = entry?;
        if key.value().0 != subject {
            break;
        }
        out.push(from_json("audit", value.value())?);
    }
    Ok(out)
}
