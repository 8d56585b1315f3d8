//! The outbox and audit log on DynamoDB.
//!
//! Each outbox item carries its record as JSON plus a `version` for optimistic concurrency: every
//! claim and settle is a read followed by a `PutItem` conditioned on the version read, so of two
//! publishers racing for an entry exactly one wins. While an entry is claimable it carries `queue`
//! and `due`, the keys of the sparse `by_due` index that claims query; a settled entry drops out of
//! the index and gets `expires_at`, so TTL forgets it after [`SETTLED_RETENTION_MS`].

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{Put, Select, TransactWriteItem};

use super::calls::build_error;
use super::errors::sdk_error;
use super::items::{Item, address_key, from_json, get_n, item, n, s, to_json};
use super::tables::{
    AUDIT_SK, BY_DUE_INDEX, DUE, EXPIRES_AT, KIND, LINK_RECORD, OPERATOR, OUTBOX_PK, QUEUE, ROLE, SUBJECT,
    VALIDATORS_PK, VALIDATORS_SK,
};
use super::{DynamoStore, JSON};
use crate::outbox::{AuditEntry, Decision, OutboxRecord, SETTLED_RETENTION_MS, SettleRefused, Settlement};
use crate::{Link, StoreError};

/// The one partition of the `by_due` index: every claimable entry.
const DUE_QUEUE: &str = "due";
const VERSION: &str = "version";
/// A settle that loses a race re-reads and tries again this many times.
const SETTLE_ROUNDS: usize = 4;

fn outbox_key(key: &str) -> Item {
    item([(OUTBOX_PK, s(key))])
}

fn outbox_item(record: &OutboxRecord, version: u64) -> Result<Item, StoreError> {
    let mut row =
        item([(OUTBOX_PK, s(record.entry.key.clone())), (JSON, to_json(record)?), (VERSION, n(version))]);
    if let Some(due) = record.claimable_from() {
        row.insert(QUEUE.into(), s(DUE_QUEUE));
        row.insert(DUE.into(), n(due));
    }
    if let Some(at_ms) = record.settled_at() {
        row.insert(EXPIRES_AT.into(), n(at_ms.saturating_add(SETTLED_RETENTION_MS) / 1_000));
    }
    Ok(row)
}

fn audit_sort_key(entry: &AuditEntry) -> String {
    // Zero-padded so string order is slot order.
    format!("{:020}#{}", entry.at_slot.0, entry.change)
}

fn put(table: &str, row: Item, condition: Option<&str>) -> Result<TransactWriteItem, StoreError> {
    let mut put = Put::builder().table_name(table).set_item(Some(row));
    if let Some(condition) = condition {
        put = put.condition_expression(condition).expression_attribute_names("#key", OUTBOX_PK);
    }
    Ok(TransactWriteItem::builder().put(put.build().map_err(build_error)?).build())
}

impl DynamoStore {
    /// A link row and its audit entry in one transaction.
    pub(super) async fn link_audited_items(&self, link: &Link, audit: &AuditEntry) -> Result<(), StoreError> {
        let t = &self.tables;
        let link_row = item([
            (VALIDATORS_PK, s(address_key(&link.validator))),
            (VALIDATORS_SK, s(LINK_RECORD)),
            (OPERATOR, s(link.operator.clone())),
        ]);
        let audit_row = item([
            (SUBJECT, s(audit.subject.clone())),
            (AUDIT_SK, s(audit_sort_key(audit))),
            (JSON, to_json(audit)?),
        ]);
        let writes = vec![put(&t.validators, link_row, None)?, put(&t.audit, audit_row, None)?];
        self.client
            .transact_write_items()
            .set_transact_items(Some(writes))
            .send()
            .await
            .map_err(|e| sdk_error(&t.validators, "TransactWriteItems", e))?;
        Ok(())
    }

    pub(super) async fn commit_decision_items(&self, decision: &Decision) -> Result<Vec<String>, StoreError> {
        decision.validate().map_err(StoreError::InvalidInput)?;
        if decision.is_empty() {
            return Ok(Vec::new());
        }
        let t = &self.tables;
        let mut states = Vec::new();
        if let Some(fence) = &self.fence {
            states.push(super::lease::fence_check(&t.meta, fence)?);
        }
        for r in &decision.roles {
            let row = item([(SUBJECT, s(r.subject.clone())), (ROLE, s(r.role.clone())), (JSON, to_json(r)?)]);
            states.push(put(&t.roles, row, None)?);
        }
        for a in &decision.alerts {
            let row = item([(SUBJECT, s(a.subject.clone())), (KIND, s(a.kind.clone())), (JSON, to_json(a)?)]);
            states.push(put(&t.alerts, row, None)?);
        }
        for e in &decision.audit {
            let row = item([
                (SUBJECT, s(e.subject.clone())),
                (AUDIT_SK, s(audit_sort_key(e))),
                (JSON, to_json(e)?),
            ]);
            states.push(put(&t.audit, row, None)?);
        }
        let records: Vec<OutboxRecord> = decision.outbox.iter().cloned().map(OutboxRecord::new).collect();
        let mut fresh: Vec<&OutboxRecord> = records.iter().collect();
        // An existing key cancels the whole transaction; drop the keys that exist and try again.
        for _ in 0..=records.len() {
            let mut writes = states.clone();
            for record in &fresh {
                writes.push(put(&t.outbox, outbox_item(record, 0)?, Some("attribute_not_exists(#key)"))?);
            }
            // Nothing but the fence check left: nothing to write.
            if writes.len() == usize::from(self.fence.is_some()) {
                return Ok(Vec::new());
            }
            match self.client.transact_write_items().set_transact_items(Some(writes)).send().await {
                Ok(_) => return Ok(fresh.iter().map(|r| r.entry.key.clone()).collect()),
                Err(e) if e.code() == Some("TransactionCanceledException") => {
                    self.stale_fence().await?;
                    if fresh.is_empty() {
                        return Err(sdk_error(&t.outbox, "TransactWriteItems", e));
                    }
                    let mut still_new = Vec::with_capacity(fresh.len());
                    for record in fresh {
                        if self.get(&t.outbox, outbox_key(&record.entry.key)).await?.is_none() {
                            still_new.push(record);
                        }
                    }
                    fresh = still_new;
                }
                Err(e) => return Err(sdk_error(&t.outbox, "TransactWriteItems", e)),
            }
        }
        Err(StoreError::Backend(format!(
            "DynamoDB kept cancelling the decision's transaction on table {} (outbox keys kept appearing)",
            t.outbox
        )))
    }

    async fn read_outbox(&self, key: &str) -> Result<Option<(OutboxRecord, u64)>, StoreError> {
        let table = &self.tables.outbox;
        let Some(found) = self.get(table, outbox_key(key)).await? else { return Ok(None) };
        Ok(Some((from_json(table, &found, JSON)?, get_n(table, &found, VERSION)?)))
    }

    /// Replaces the record if it is still at `version`; false if another writer got there first.
    async fn replace_outbox(&self, record: &OutboxRecord, version: u64) -> Result<bool, StoreError> {
        let table = &self.tables.outbox;
        if let Some(fence) = &self.fence {
            let put = Put::builder()
                .table_name(table)
                .set_item(Some(outbox_item(record, version + 1)?))
                .condition_expression("#version = :version")
                .expression_attribute_names("#version", VERSION)
                .expression_attribute_values(":version", n(version))
                .build()
                .map_err(build_error)?;
            let writes = vec![
                super::lease::fence_check(&self.tables.meta, fence)?,
                TransactWriteItem::builder().put(put).build(),
            ];
            return match self.client.transact_write_items().set_transact_items(Some(writes)).send().await {
                Ok(_) => Ok(true),
                Err(e) if e.code() == Some("TransactionCanceledException") => {
                    self.stale_fence().await?;
                    Ok(false)
                }
                Err(e) => Err(sdk_error(table, "TransactWriteItems", e)),
            };
        }
        let written = self
            .client
            .put_item()
            .table_name(table)
            .set_item(Some(outbox_item(record, version + 1)?))
            .condition_expression("#version = :version")
            .expression_attribute_names("#version", VERSION)
            .expression_attribute_values(":version", n(version))
            .send()
            .await;
        match written {
            Ok(_) => Ok(true),
            Err(e) if e.code() == Some("ConditionalCheckFailedException") => Ok(false),
            Err(e) => Err(sdk_error(table, "PutItem", e)),
        }
    }

    /// Keys of claimable entries due by `now_ms`, oldest first (the index is eventually consistent;
    /// the conditional write of each claim decides).
    async fn due_keys(&self, now_ms: u64, limit: usize) -> Result<Vec<String>, StoreError> {
        let table = &self.tables.outbox;
        let out = self
            .client
            .query()
            .table_name(table)
            .index_name(BY_DUE_INDEX)
            .key_condition_expression("#queue = :queue AND #due <= :now")
            .expression_attribute_names("#queue", QUEUE)
            .expression_attribute_names("#due", DUE)
            .expression_attribute_values(":queue", s(DUE_QUEUE))
            .expression_attribute_values(":now", n(now_ms))
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(|e| sdk_error(table, "Query", e))?;
        let items = out.items.unwrap_or_default();
        items.iter().map(|i| super::items::get_s(table, i, OUTBOX_PK).map(str::to_owned)).collect()
    }

    pub(super) async fn claim_items(
        &self,
        now_ms: u64,
        lease_ms: u64,
        limit: usize,
    ) -> Result<Vec<OutboxRecord>, StoreError> {
        let mut claimed = Vec::new();
        if limit == 0 {
            return Ok(claimed);
        }
        for key in self.due_keys(now_ms, limit).await? {
            let Some((record, version)) = self.read_outbox(&key).await? else { continue };
            if !record.is_claimable(now_ms) {
                continue; // the index lagged behind a claim or settle
            }
            let record = record.claimed(now_ms, lease_ms);
            if self.replace_outbox(&record, version).await? {
                claimed.push(record);
            }
        }
        Ok(claimed)
    }

    pub(super) async fn settle_item(
        &self,
        key: &str,
        attempt: u32,
        settlement: &Settlement,
        now_ms: u64,
    ) -> Result<(), StoreError> {
        let refused = |reason| StoreError::Settle { key: key.to_owned(), reason };
        for _ in 0..SETTLE_ROUNDS {
            let (record, version) =
                self.read_outbox(key).await?.ok_or_else(|| refused(SettleRefused::Unknown))?;
            let settled = record.settled(attempt, settlement, now_ms).map_err(refused)?;
            if self.replace_outbox(&settled, version).await? {
                return Ok(());
            }
        }
        Err(StoreError::Backend(format!(
            "outbox entry {key:?} in {} kept changing while being settled",
            self.tables.outbox
        )))
    }

    pub(super) async fn outbox_record_item(&self, key: &str) -> Result<Option<OutboxRecord>, StoreError> {
        Ok(self.read_outbox(key).await?.map(|(record, _)| record))
    }

    pub(super) async fn backlog_count(&self) -> Result<u64, StoreError> {
        let table = &self.tables.outbox;
        let mut total = 0u64;
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(table)
                .index_name(BY_DUE_INDEX)
                .key_condition_expression("#queue = :queue")
                .expression_attribute_names("#queue", QUEUE)
                .expression_attribute_values(":queue", s(DUE_QUEUE))
                .select(Select::Count)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| sdk_error(table, "Query", e))?;
            total += u64::try_from(out.count).unwrap_or_default();
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(total),
            }
        }
    }

    pub(super) async fn audit_items(&self, subject: &str) -> Result<Vec<AuditEntry>, StoreError> {
        let table = &self.tables.audit;
        let items = self.query_partition(table, None, SUBJECT, subject).await?;
        items.iter().map(|i| from_json(table, i, JSON)).collect()
    }
}
