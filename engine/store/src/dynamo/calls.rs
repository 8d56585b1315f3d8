//! Single DynamoDB calls the backend builds on: paginated reads, plain puts and gets, and batch writes
//! that resend unprocessed items; each maps failures to a [`StoreError`] naming its table.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::types::{DeleteRequest, PutRequest, WriteRequest};

use super::DynamoStore;
use super::errors::sdk_error;
use super::items::{Item, n, s};
use super::retry::{BATCH_WRITE_LIMIT, BatchFailure, write_all};
use super::tables::{SLOTS_PK, SLOTS_SK};
use crate::StoreError;

pub(super) fn build_error(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("building a DynamoDB request failed: {e}"))
}

pub(super) fn put_request(item: Item) -> Result<WriteRequest, StoreError> {
    Ok(WriteRequest::builder()
        .put_request(PutRequest::builder().set_item(Some(item)).build().map_err(build_error)?)
        .build())
}

pub(super) fn delete_request(key: Item) -> Result<WriteRequest, StoreError> {
    Ok(WriteRequest::builder()
        .delete_request(DeleteRequest::builder().set_key(Some(key)).build().map_err(build_error)?)
        .build())
}

impl DynamoStore {
    pub(super) async fn timed<T>(&self, op: &'static str, fut: impl Future<Output = T>) -> T {
        let started = Instant::now();
        let out = fut.await;
        metrics::histogram!("sparta_store_operation_duration_seconds", "op" => op)
            .record(started.elapsed().as_secs_f64());
        out
    }

    pub(super) fn expires_at(&self) -> u64 {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        now.saturating_add(self.retention).as_secs()
    }

    /// Writes `requests` to `table` through `BatchWriteItem`, resending unprocessed items.
    pub(super) async fn batch_write(
        &self,
        table: &str,
        requests: Vec<WriteRequest>,
    ) -> Result<(), StoreError> {
        let written = write_all(requests, BATCH_WRITE_LIMIT, self.backoff, |chunk| async move {
            let out = self.client.batch_write_item().request_items(table, chunk).send().await?;
            Ok(out.unprocessed_items.and_then(|mut u| u.remove(table)).unwrap_or_default())
        })
        .await;
        written.map_err(|failure| match failure {
            BatchFailure::Call(e) => sdk_error(table, "BatchWriteItem", e),
            BatchFailure::Exhausted { unprocessed, attempts } => StoreError::Backend(format!(
                "DynamoDB left {unprocessed} items unprocessed in table {table} after {attempts} attempts \
                 (throttled: raise the table's capacity or retry later)"
            )),
        })
    }

    /// Every item of a query or scan, following pagination.
    pub(super) async fn collect_pages<F, Fut>(
        &self,
        table: &str,
        op: &str,
        mut page: F,
    ) -> Result<Vec<Item>, StoreError>
    where
        F: FnMut(Option<Item>) -> Fut,
        Fut: Future<Output = Result<(Vec<Item>, Option<Item>), StoreError>>,
    {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let (items, next) = page(start).await?;
            out.extend(items);
            match next {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(out),
            }
            tracing::trace!(table, op, "next page");
        }
    }

    pub(super) async fn query_slots(
        &self,
        partition: &str,
        condition: &str,
        bound: u64,
    ) -> Result<Vec<Item>, StoreError> {
        let table = &self.tables.slots;
        self.collect_pages(table, "Query", |start| async move {
            let out = self
                .client
                .query()
                .table_name(table)
                .consistent_read(true)
                .key_condition_expression(format!("#pk = :pk AND #sk {condition} :bound"))
                .expression_attribute_names("#pk", SLOTS_PK)
                .expression_attribute_names("#sk", SLOTS_SK)
                .expression_attribute_values(":pk", s(partition))
                .expression_attribute_values(":bound", n(bound))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| sdk_error(table, "Query", e))?;
            Ok((out.items.unwrap_or_default(), out.last_evaluated_key))
        })
        .await
    }

    /// Every item whose partition attribute `key` equals `value`, in the table or in its `index`,
    /// following pagination. Table reads are strongly consistent; index reads cannot be.
    pub(super) async fn query_partition(
        &self,
        table: &str,
        index: Option<&str>,
        key: &str,
        value: &str,
    ) -> Result<Vec<Item>, StoreError> {
        self.collect_pages(table, "Query", |start| async move {
            let out = self
                .client
                .query()
                .table_name(table)
                .set_index_name(index.map(str::to_owned))
                .consistent_read(index.is_none())
                .key_condition_expression("#key = :value")
                .expression_attribute_names("#key", key)
                .expression_attribute_values(":value", s(value))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| sdk_error(table, "Query", e))?;
            Ok((out.items.unwrap_or_default(), out.last_evaluated_key))
        })
        .await
    }

    pub(super) async fn scan(&self, table: &str) -> Result<Vec<Item>, StoreError> {
        self.collect_pages(table, "Scan", |start| async move {
            let out = self
                .client
                .scan()
                .table_name(table)
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| sdk_error(table, "Scan", e))?;
            Ok((out.items.unwrap_or_default(), out.last_evaluated_key))
        })
        .await
    }

    pub(super) async fn get(&self, table: &str, key: Item) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error(table, "GetItem", e))?;
        Ok(out.item)
    }

    pub(super) async fn put(&self, table: &str, item: Item) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| sdk_error(table, "PutItem", e))?;
        Ok(())
    }
}
