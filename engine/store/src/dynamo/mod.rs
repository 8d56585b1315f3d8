//! The DynamoDB backend: the same [`Store`](crate::Store) contract as the embedded file, for deployments
//! that run without local disk. Table design and the reasons for it are in `docs/store.md`.

mod attempts;
mod backend;
mod calls;
mod errors;
mod items;
mod lease;
mod outbox;
mod retry;
mod slots;
mod tables;

use std::sync::Arc;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;

pub use retry::Backoff;
pub use tables::{
    AttrType, BY_DUE_INDEX, BY_OPERATOR_INDEX, DESIGN, IndexDesign, KeyAttr, TableDesign, TableNames,
};

use crate::{SCHEMA_VERSION, StoreError};
use errors::sdk_error;
use items::{get_n, item, n, s};

/// Meta item names.
pub(crate) const SCHEMA_ITEM: &str = "schema_version";
pub(crate) const IDENTITY_ITEM: &str = "identity";
pub(crate) const CHECKPOINT_ITEM: &str = "checkpoint";
/// Meta attributes: numbers under `value`, JSON under `json`.
pub(crate) const VALUE: &str = "value";
pub(crate) const JSON: &str = "json";

/// Where to find the tables.
#[derive(Clone, Debug)]
pub struct DynamoConfig {
    pub region: String,
    /// A non-AWS endpoint (a local emulator); `None` for AWS itself.
    pub endpoint_url: Option<String>,
    /// Prepended to every table name, e.g. `sparta-testnet-`.
    pub table_prefix: String,
}

/// The DynamoDB store. Cheap to clone; clones share one client.
#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    tables: Arc<TableNames>,
    backoff: Backoff,
    retention: Duration,
    /// Set on a [`fenced`](crate::Store::fenced) handle.
    fence: Option<crate::Fence>,
}

impl DynamoStore {
    /// How long slot rows live before DynamoDB's TTL may sweep them, unless trimmed earlier.
    pub const DEFAULT_RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);

    pub fn new(client: Client, table_prefix: &str) -> Self {
        let client =
            Client::from_conf(client.config().to_builder().interceptor(attempts::CountRetries).build());
        Self {
            client,
            tables: Arc::new(TableNames::new(table_prefix)),
            backoff: Backoff::default(),
            retention: Self::DEFAULT_RETENTION,
            fence: None,
        }
    }

    /// Builds a client from the default credential chain (environment, profile, instance role) with
    /// the SDK's standard retries for throttling and 5xx responses. No request is sent.
    pub async fn connect(config: DynamoConfig) -> Self {
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).region(Region::new(config.region));
        if let Some(url) = config.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        Self::new(Client::new(&loader.load().await), &config.table_prefix)
    }

    /// How `BatchWriteItem` retries unprocessed items.
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// Sets the time-to-live written on slot rows.
    pub fn with_retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    pub fn tables(&self) -> &TableNames {
        &self.tables
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Creates the tables that do not exist yet (for tests and development), waits until they are
    /// ACTIVE, then writes or checks the schema version.
    pub async fn create_tables(&self) -> Result<(), StoreError> {
        tables::create_tables(&self.client, &self.tables, Duration::from_secs(60)).await?;
        self.ensure_schema().await
    }

    /// Writes the schema version into a fresh store, or checks it: an older version is
    /// [`StoreError::SchemaMismatch`] (run `sparta migrate`), a newer one [`StoreError::SchemaTooNew`];
    /// missing tables are an error saying how to create them.
    pub async fn ensure_schema(&self) -> Result<(), StoreError> {
        match StoreError::schema(self.schema_version().await?) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Brings tables written by an older build to [`SCHEMA_VERSION`]: creates the tables added since
    /// (version 2: `outbox` and `audit`), then moves the version, conditioned on it being unchanged.
    /// Returns the version found. Safe to re-run after an interruption.
    pub async fn migrate(&self) -> Result<u32, StoreError> {
        let found = self.schema_version().await?;
        match StoreError::schema(found) {
            None => return Ok(found),
            Some(e @ StoreError::SchemaTooNew { .. }) => return Err(e),
            Some(_) => {}
        }
        tables::create_tables(&self.client, &self.tables, Duration::from_secs(60)).await?;
        let table = &self.tables.meta;
        self.client
            .put_item()
            .table_name(table)
            .set_item(Some(item([(tables::META_PK, s(SCHEMA_ITEM)), (VALUE, n(SCHEMA_VERSION.into()))])))
            .condition_expression("#value = :found")
            .expression_attribute_names("#value", VALUE)
            .expression_attribute_values(":found", n(found.into()))
            .send()
            .await
            .map_err(|e| sdk_error(table, "PutItem", e))?;
        Ok(found)
    }

    /// Rewrites the stored schema version (tests use it to fake tables of another build).
    #[doc(hidden)]
    pub async fn force_schema_version(&self, version: u32) -> Result<(), StoreError> {
        let row = item([(tables::META_PK, s(SCHEMA_ITEM)), (VALUE, n(version.into()))]);
        self.put(&self.tables.meta, row).await
    }

    /// The stored schema version, writing this build's into a fresh store.
    async fn schema_version(&self) -> Result<u32, StoreError> {
        let fresh = item([(tables::META_PK, s(SCHEMA_ITEM)), (VALUE, n(SCHEMA_VERSION.into()))]);
        let stored = self.meta_item_or_insert(SCHEMA_ITEM, fresh).await?;
        let found = get_n(&self.tables.meta, &stored, VALUE)?;
        Ok(u32::try_from(found).unwrap_or(u32::MAX))
    }

    /// The meta item `name` as stored now: `fresh` if this call wrote it, else what another writer
    /// stored first. The write is conditional, so a first-start race has exactly one winner.
    pub(crate) async fn meta_item_or_insert(
        &self,
        name: &str,
        fresh: items::Item,
    ) -> Result<items::Item, StoreError> {
        let table = &self.tables.meta;
        // Two rounds: if another writer wins the race, its item is read back in the second.
        for _ in 0..2 {
            if let Some(stored) = self.meta_item(name).await? {
                return Ok(stored);
            }
            let written = self
                .client
                .put_item()
                .table_name(table)
                .set_item(Some(fresh.clone()))
                .condition_expression("attribute_not_exists(#name)")
                .expression_attribute_names("#name", tables::META_PK)
                .send()
                .await;
            match written {
                Ok(_) => return Ok(fresh),
                Err(e) if e.code() == Some("ConditionalCheckFailedException") => continue,
                Err(e) => return Err(sdk_error(table, "PutItem", e)),
            }
        }
        Err(StoreError::Backend(format!("the {name} item in {table} vanished while it was being checked")))
    }

    /// Reads one meta item, strongly consistent.
    pub(crate) async fn meta_item(&self, name: &str) -> Result<Option<items::Item>, StoreError> {
        let table = &self.tables.meta;
        let got = self
            .client
            .get_item()
            .table_name(table)
            .key(tables::META_PK, s(name))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error(table, "GetItem", e))?;
        Ok(got.item)
    }
}
