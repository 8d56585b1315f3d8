//! Table names, key attributes and table creation (for tests and development; production tables come
//! from infrastructure code that must match what is declared here). The design is explained in
//! `docs/store.md`.

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TableStatus, TimeToLiveSpecification,
};

use super::errors::sdk_error;
use crate::StoreError;

/// `meta`: one item per name (schema version, identity, checkpoint, cursors).
pub(crate) const META_PK: &str = "name";
/// `slots`: partition `pk` is [`SLOTS_PARTITION`] or [`COMMITTEES_PARTITION`], sort `sk` the slot or epoch.
pub(crate) const SLOTS_PK: &str = "pk";
pub(crate) const SLOTS_SK: &str = "sk";
pub(crate) const SLOTS_PARTITION: &str = "slots";
pub(crate) const COMMITTEES_PARTITION: &str = "committees";
/// Epoch seconds after which DynamoDB's TTL sweeper may delete a slot row.
pub(crate) const EXPIRES_AT: &str = "expires_at";
/// `validators`: partition the address (0x hex), sort the record kind ([`STATS_RECORD`] or [`LINK_RECORD`]).
pub(crate) const VALIDATORS_PK: &str = "address";
pub(crate) const VALIDATORS_SK: &str = "record";
pub(crate) const STATS_RECORD: &str = "stats";
pub(crate) const LINK_RECORD: &str = "link";
/// Present on link items only, so the index holds exactly the links.
pub(crate) const OPERATOR: &str = "operator";
pub const BY_OPERATOR_INDEX: &str = "by_operator";
/// `roles` and `alerts`: partition the subject, sort the role or alert kind.
pub(crate) const SUBJECT: &str = "subject";
pub(crate) const ROLE: &str = "role";
pub(crate) const KIND: &str = "kind";
/// `audit`: partition the subject, sort `entry` (zero-padded slot, then the change).
pub(crate) const AUDIT_SK: &str = "entry";
/// `outbox`: partition the idempotency key. Claimable entries also carry `queue` and `due` (Unix ms),
/// the keys of the sparse [`BY_DUE_INDEX`].
pub(crate) const OUTBOX_PK: &str = "key";
pub(crate) const QUEUE: &str = "queue";
pub(crate) const DUE: &str = "due";
pub const BY_DUE_INDEX: &str = "by_due";

/// The full names of the store's tables under one prefix.
#[derive(Clone, Debug)]
pub struct TableNames {
    pub meta: String,
    pub slots: String,
    pub validators: String,
    pub roles: String,
    pub alerts: String,
    pub outbox: String,
    pub audit: String,
}

impl TableNames {
    pub fn new(prefix: &str) -> Self {
        Self {
            meta: format!("{prefix}meta"),
            slots: format!("{prefix}slots"),
            validators: format!("{prefix}validators"),
            roles: format!("{prefix}roles"),
            alerts: format!("{prefix}alerts"),
            outbox: format!("{prefix}outbox"),
            audit: format!("{prefix}audit"),
        }
    }

    pub fn all(&self) -> [&str; 7] {
        [&self.meta, &self.slots, &self.validators, &self.roles, &self.alerts, &self.outbox, &self.audit]
    }
}

fn key(name: &str, key_type: KeyType) -> Result<KeySchemaElement, StoreError> {
    KeySchemaElement::builder().attribute_name(name).key_type(key_type).build().map_err(build_error)
}

fn attribute(name: &str, t: ScalarAttributeType) -> Result<AttributeDefinition, StoreError> {
    AttributeDefinition::builder().attribute_name(name).attribute_type(t).build().map_err(build_error)
}

fn build_error(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("building a DynamoDB request failed: {e}"))
}

/// One table's key: partition attribute and optional sort attribute with their types.
struct Shape<'a> {
    table: &'a str,
    pk: (&'a str, ScalarAttributeType),
    sk: Option<(&'a str, ScalarAttributeType)>,
}

/// Creates every table that does not exist yet, waits until all are ACTIVE, and enables TTL on slots.
pub(crate) async fn create_tables(
    client: &Client,
    names: &TableNames,
    wait: Duration,
) -> Result<(), StoreError> {
    use ScalarAttributeType::{N, S};
    let shapes = [
        Shape { table: &names.meta, pk: (META_PK, S), sk: None },
        Shape { table: &names.slots, pk: (SLOTS_PK, S), sk: Some((SLOTS_SK, N)) },
        Shape { table: &names.validators, pk: (VALIDATORS_PK, S), sk: Some((VALIDATORS_SK, S)) },
        Shape { table: &names.roles, pk: (SUBJECT, S), sk: Some((ROLE, S)) },
        Shape { table: &names.alerts, pk: (SUBJECT, S), sk: Some((KIND, S)) },
        Shape { table: &names.outbox, pk: (OUTBOX_PK, S), sk: None },
        Shape { table: &names.audit, pk: (SUBJECT, S), sk: Some((AUDIT_SK, S)) },
    ];
    for shape in &shapes {
        let mut request = client
            .create_table()
            .table_name(shape.table)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(key(shape.pk.0, KeyType::Hash)?)
            .attribute_definitions(attribute(shape.pk.0, shape.pk.1.clone())?);
        if let Some((sk, t)) = &shape.sk {
            request =
                request.key_schema(key(sk, KeyType::Range)?).attribute_definitions(attribute(sk, t.clone())?);
        }
        if shape.table == names.validators {
            request = request.attribute_definitions(attribute(OPERATOR, S)?).global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(BY_OPERATOR_INDEX)
                    .key_schema(key(OPERATOR, KeyType::Hash)?)
                    .key_schema(key(VALIDATORS_PK, KeyType::Range)?)
                    .projection(Projection::builder().projection_type(ProjectionType::KeysOnly).build())
                    .build()
                    .map_err(build_error)?,
            );
        }
        if shape.table == names.outbox {
            request = request
                .attribute_definitions(attribute(QUEUE, S)?)
                .attribute_definitions(attribute(DUE, N)?)
                .global_secondary_indexes(
                    GlobalSecondaryIndex::builder()
                        .index_name(BY_DUE_INDEX)
                        .key_schema(key(QUEUE, KeyType::Hash)?)
                        .key_schema(key(DUE, KeyType::Range)?)
                        .projection(Projection::builder().projection_type(ProjectionType::KeysOnly).build())
                        .build()
                        .map_err(build_error)?,
                );
        }
        match request.send().await {
            Ok(_) => {}
            Err(e) if e.code() == Some("ResourceInUseException") => {} // already there
            Err(e) => return Err(sdk_error(shape.table, "CreateTable", e)),
        }
    }
    for table in names.all() {
        wait_until_active(client, table, wait).await?;
    }
    for table in [&names.slots, &names.outbox] {
        let ttl = TimeToLiveSpecification::builder()
            .enabled(true)
            .attribute_name(EXPIRES_AT)
            .build()
            .map_err(build_error)?;
        match client.update_time_to_live().table_name(table).time_to_live_specification(ttl).send().await {
            Ok(_) => {}
            // Raised when TTL is already enabled on this attribute.
            Err(e) if e.code() == Some("ValidationException") => {}
            Err(e) => return Err(sdk_error(table, "UpdateTimeToLive", e)),
        }
    }
    Ok(())
}

async fn wait_until_active(client: &Client, table: &str, wait: Duration) -> Result<(), StoreError> {
    let deadline = Instant::now() + wait;
    loop {
        let described = client.describe_table().table_name(table).send().await;
        let described = described.map_err(|e| sdk_error(table, "DescribeTable", e))?;
        if described.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(StoreError::Backend(format!(
                "DynamoDB table {table} did not become ACTIVE within {}s",
                wait.as_secs()
            )));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
