//! Slot history on DynamoDB: committees stored once per epoch, commits that never move the checkpoint
//! ahead of their rows, and reads that resolve committee references.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use sparta_core::{Address, Epoch, Slot, SlotFacts};

use super::calls::{build_error, put_request};
use super::errors::{malformed, sdk_error};
use super::items::{Item, b, get_b, get_n, item, n, s};
use super::tables::{COMMITTEES_PARTITION, EXPIRES_AT, META_PK, SLOTS_PARTITION, SLOTS_PK, SLOTS_SK};
use super::{CHECKPOINT_ITEM, DynamoStore, VALUE};
use crate::StoreError;
use crate::codec::{self, CommitteeRef};

/// The most items one `TransactWriteItems` call may carry.
pub(super) const TRANSACTION_LIMIT: usize = 100;
/// A committee row lives a day longer than the first slot row of its epoch.
pub(super) const COMMITTEE_TTL_MARGIN_S: u64 = 24 * 3600;

pub(super) fn committee_key(epoch: Epoch) -> Item {
    item([(SLOTS_PK, s(COMMITTEES_PARTITION)), (SLOTS_SK, n(epoch.0))])
}

pub(super) fn slot_key(slot: u64) -> Item {
    item([(SLOTS_PK, s(SLOTS_PARTITION)), (SLOTS_SK, n(slot))])
}

impl DynamoStore {
    pub(super) async fn stored_committee(&self, epoch: Epoch) -> Result<Option<Arc<[Address]>>, StoreError> {
        let table = &self.tables.slots;
        let Some(found) = self.get(table, committee_key(epoch)).await? else { return Ok(None) };
        let committee = codec::decode_committee(get_b(table, &found, "committee")?)
            .map_err(|e| malformed(table, format!("committee of epoch {epoch}: {e}")))?;
        Ok(Some(committee))
    }

    pub(super) async fn read_checkpoint(&self) -> Result<Option<Slot>, StoreError> {
        let found = self.meta_item(CHECKPOINT_ITEM).await?;
        found.map(|i| get_n(&self.tables.meta, &i, VALUE).map(Slot)).transpose()
    }

    pub(super) fn checkpoint_item(slot: Slot) -> Item {
        item([(META_PK, s(CHECKPOINT_ITEM)), (VALUE, n(slot.0))])
    }

    /// The slot and committee rows for `facts`, each epoch's committee written once.
    pub(super) async fn slot_rows(&self, facts: &[SlotFacts]) -> Result<Vec<Item>, StoreError> {
        let mut known: HashMap<Epoch, Arc<[Address]>> = HashMap::new();
        let mut rows = Vec::with_capacity(facts.len() + 1);
        let expires_at = self.expires_at();
        for f in facts {
            let epoch_committee = match known.get(&f.epoch) {
                Some(c) => Arc::clone(c),
                None => {
                    let committee = match self.stored_committee(f.epoch).await? {
                        Some(stored) => stored,
                        None => {
                            let mut row = committee_key(f.epoch);
                            row.insert("committee".into(), b(codec::encode_committee(&f.committee)));
                            // Outlives every slot row of its epoch, which are written later.
                            row.insert(EXPIRES_AT.into(), n(expires_at + COMMITTEE_TTL_MARGIN_S));
                            rows.push(row);
                            Arc::clone(&f.committee)
                        }
                    };
                    known.insert(f.epoch, Arc::clone(&committee));
                    committee
                }
            };
            let shared = Arc::ptr_eq(&epoch_committee, &f.committee) || *epoch_committee == *f.committee;
            let mut row = slot_key(f.slot.0);
            row.insert("row".into(), b(codec::encode_slot(f, shared)));
            row.insert(EXPIRES_AT.into(), n(expires_at));
            rows.push(row);
        }
        Ok(rows)
    }

    /// Rows and checkpoint in one transaction.
    pub(super) async fn commit_in_one_transaction(
        &self,
        rows: Vec<Item>,
        last: Slot,
    ) -> Result<(), StoreError> {
        let put = |table: &str, item: Item| -> Result<TransactWriteItem, StoreError> {
            let put = Put::builder().table_name(table).set_item(Some(item)).build().map_err(build_error)?;
            Ok(TransactWriteItem::builder().put(put).build())
        };
        let mut ops = rows.into_iter().map(|r| put(&self.tables.slots, r)).collect::<Result<Vec<_>, _>>()?;
        ops.push(put(&self.tables.meta, Self::checkpoint_item(last))?);
        if let Some(fence) = &self.fence {
            ops.push(super::lease::fence_check(&self.tables.meta, fence)?);
        }
        match self.client.transact_write_items().set_transact_items(Some(ops)).send().await {
            Ok(_) => Ok(()),
            Err(e) => {
                if e.code() == Some("TransactionCanceledException") {
                    self.stale_fence().await?;
                }
                Err(sdk_error(&self.tables.slots, "TransactWriteItems", e))
            }
        }
    }

    /// Too many rows for one transaction: rows first, then the checkpoint, conditional on no other
    /// writer having moved it meanwhile. A crash in between leaves rows beyond the checkpoint (rewritten
    /// by the next commit), never a checkpoint ahead of its rows.
    pub(super) async fn commit_rows_then_checkpoint(
        &self,
        rows: Vec<Item>,
        last: Slot,
    ) -> Result<(), StoreError> {
        let seen = self.read_checkpoint().await?;
        let requests = rows.into_iter().map(put_request).collect::<Result<Vec<_>, _>>()?;
        self.stale_fence().await?;
        self.batch_write(&self.tables.slots, requests).await?;
        let table = &self.tables.meta;
        if let Some(fence) = &self.fence {
            // The checkpoint moves only while the fence holds (rows alone are invisible past it).
            let mut check = Put::builder()
                .table_name(table)
                .set_item(Some(Self::checkpoint_item(last)))
                .expression_attribute_names("#v", VALUE);
            check = match seen {
                None => check.condition_expression("attribute_not_exists(#v)"),
                Some(slot) => {
                    check.condition_expression("#v = :seen").expression_attribute_values(":seen", n(slot.0))
                }
            };
            let ops = vec![
                TransactWriteItem::builder().put(check.build().map_err(build_error)?).build(),
                super::lease::fence_check(table, fence)?,
            ];
            return match self.client.transact_write_items().set_transact_items(Some(ops)).send().await {
                Ok(_) => Ok(()),
                Err(e) => {
                    if e.code() == Some("TransactionCanceledException") {
                        self.stale_fence().await?;
                    }
                    Err(sdk_error(table, "TransactWriteItems", e))
                }
            };
        }
        let mut put = self
            .client
            .put_item()
            .table_name(table)
            .set_item(Some(Self::checkpoint_item(last)))
            .expression_attribute_names("#v", VALUE);
        put = match seen {
            None => put.condition_expression("attribute_not_exists(#v)"),
            Some(slot) => {
                put.condition_expression("#v = :seen").expression_attribute_values(":seen", n(slot.0))
            }
        };
        match put.send().await {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("ConditionalCheckFailedException") => {
                Err(StoreError::Backend(format!(
                    "the checkpoint in {table} moved while slots were being written: another sparta writes \
                 to this store (only one may)"
                )))
            }
            Err(e) => Err(sdk_error(table, "PutItem", e)),
        }
    }

    pub(super) async fn resolve_history(&self, rows: Vec<Item>) -> Result<Vec<SlotFacts>, StoreError> {
        let table = &self.tables.slots;
        let mut by_epoch: HashMap<Epoch, Arc<[Address]>> = HashMap::new();
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let slot = Slot(get_n(table, &r, SLOTS_SK)?);
            let row = codec::decode_slot(get_b(table, &r, "row")?)
                .map_err(|e| malformed(table, format!("slot {slot}: {e}")))?;
            let committee = match &row.committee {
                CommitteeRef::Inline(c) => Arc::clone(c),
                CommitteeRef::Epoch => match by_epoch.get(&row.epoch) {
                    Some(c) => Arc::clone(c),
                    None => {
                        let c = self.stored_committee(row.epoch).await?.ok_or_else(|| {
                            malformed(
                                table,
                                format!("slot {slot}: committee of epoch {} is missing", row.epoch),
                            )
                        })?;
                        by_epoch.insert(row.epoch, Arc::clone(&c));
                        c
                    }
                },
            };
            out.push(row.into_facts(slot, committee));
        }
        Ok(out)
    }
}

pub(super) fn check_ascending(facts: &[SlotFacts]) -> Result<(), StoreError> {
    for pair in facts.windows(2) {
        if pair[0].slot >= pair[1].slot {
            return Err(StoreError::InvalidInput(format!(
                "slot facts must be strictly ascending, got slot {} after {}",
                pair[1].slot, pair[0].slot
            )));
        }
    }
    Ok(())
}
