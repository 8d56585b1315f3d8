//! Leases and fencing on DynamoDB. A lease is one meta item (`lease#<name>`) holding the lease as JSON
//! and its `token` as a number. Taking or renewing it is a `PutItem` conditioned on the item being
//! exactly as read, so of two instances racing for it one wins. Fenced writes add a `ConditionCheck`
//! on `token` to their transaction.

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{ConditionCheck, TransactWriteItem};

use super::calls::build_error;
use super::errors::sdk_error;
use super::items::{Item, from_json, item, n, s, to_json};
use super::tables::META_PK;
use super::{DynamoStore, JSON};
use crate::{Fence, Lease, StoreError};

const TOKEN: &str = "token";
/// A lost race re-reads and tries again this many times.
const ROUNDS: usize = 3;

pub(super) fn lease_item_name(name: &str) -> String {
    format!("lease#{name}")
}

/// A transaction item that cancels the transaction unless `fence` holds the current token.
pub(super) fn fence_check(meta_table: &str, fence: &Fence) -> Result<TransactWriteItem, StoreError> {
    let check = ConditionCheck::builder()
        .table_name(meta_table)
        .key(META_PK, s(lease_item_name(&fence.lease)))
        .condition_expression("#token = :token")
        .expression_attribute_names("#token", TOKEN)
        .expression_attribute_values(":token", n(fence.token))
        .build()
        .map_err(build_error)?;
    Ok(TransactWriteItem::builder().condition_check(check).build())
}

impl DynamoStore {
    pub(super) async fn read_lease(&self, name: &str) -> Result<Option<Lease>, StoreError> {
        let found = self.meta_item(&lease_item_name(name)).await?;
        found.map(|i| from_json(&self.tables.meta, &i, JSON)).transpose()
    }

    /// After a cancelled fenced transaction: [`StoreError::Fenced`] if the fence is stale, else `Ok`
    /// (the cancellation had another reason).
    pub(super) async fn stale_fence(&self) -> Result<(), StoreError> {
        let Some(fence) = &self.fence else { return Ok(()) };
        let current = self.read_lease(&fence.lease).await?.map_or(0, |l| l.token);
        if current != fence.token {
            return Err(StoreError::Fenced { lease: fence.lease.clone(), token: fence.token, current });
        }
        Ok(())
    }

    pub(super) async fn acquire(
        &self,
        name: &str,
        holder: &str,
        now_ms: u64,
        ttl_ms: u64,
    ) -> Result<Lease, StoreError> {
        let table = &self.tables.meta;
        for _ in 0..ROUNDS {
            let current = self.read_lease(name).await?;
            let wanted = Lease::requested(current.as_ref(), name, holder, now_ms, ttl_ms);
            if current.as_ref() == Some(&wanted) {
                return Ok(wanted);
            }
            let row: Item = item([
                (META_PK, s(lease_item_name(name))),
                (JSON, to_json(&wanted)?),
                (TOKEN, n(wanted.token)),
            ]);
            let mut put = self.client.put_item().table_name(table).set_item(Some(row));
            put = match &current {
                None => put
                    .condition_expression("attribute_not_exists(#name)")
                    .expression_attribute_names("#name", META_PK),
                Some(seen) => put
                    .condition_expression("#json = :seen")
                    .expression_attribute_names("#json", JSON)
                    .expression_attribute_values(":seen", to_json(seen)?),
            };
            match put.send().await {
                Ok(_) => return Ok(wanted),
                Err(e) if e.code() == Some("ConditionalCheckFailedException") => continue,
                Err(e) => return Err(sdk_error(table, "PutItem", e)),
            }
        }
        // Others keep changing it: report what is in force now.
        self.read_lease(name).await?.ok_or_else(|| {
            StoreError::Backend(format!("lease {name} in {table} kept changing while being acquired"))
        })
    }
}
