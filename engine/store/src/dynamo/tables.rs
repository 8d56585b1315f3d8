//! Table names, key attributes and table creation (for tests and development; production tables come
//! from infrastructure code that must match what is declared here). The design is explained in
//! `docs/store.md`.

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TableStatus, TimeToLiveSpecification, TimeToLiveStatus,
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
/// `challenges`: partition the Discord user, sort the validator (0x hex); rows expire with `expires_at`.
pub(crate) const USER: &str = "user";
pub(crate) const VALIDATOR: &str = "validator";

/// A key attribute's DynamoDB scalar type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttrType {
    /// `S`
    String,
    /// `N`
    Number,
}

impl AttrType {
    /// The type's letter in DynamoDB's API and in Terraform.
    pub fn code(self) -> &'static str {
        match self {
            AttrType::String => "S",
            AttrType::Number => "N",
        }
    }

    fn scalar(self) -> ScalarAttributeType {
        match self {
            AttrType::String => ScalarAttributeType::S,
            AttrType::Number => ScalarAttributeType::N,
        }
    }
}

/// One key attribute: its name and type.
pub type KeyAttr = (&'static str, AttrType);

/// A global secondary index. Every index here projects keys only: readers fetch what they need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IndexDesign {
    pub name: &'static str,
    pub hash: KeyAttr,
    pub range: KeyAttr,
}

/// One table as the store needs it. Development tables are created from this; the Terraform in
/// `terraform/dynamodb.tf` is checked against it by a test, so the two cannot drift.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableDesign {
    /// The table's name after the prefix.
    pub suffix: &'static str,
    pub hash: KeyAttr,
    pub range: Option<KeyAttr>,
    pub indexes: &'static [IndexDesign],
    /// The attribute DynamoDB's TTL sweeper reads (epoch seconds), if rows expire.
    pub ttl: Option<&'static str>,
}

use AttrType::{Number as N, String as S};

/// Every table of the store.
pub const DESIGN: [TableDesign; 8] = [
    TableDesign { suffix: "meta", hash: (META_PK, S), range: None, indexes: &[], ttl: None },
    TableDesign {
        suffix: "slots",
        hash: (SLOTS_PK, S),
        range: Some((SLOTS_SK, N)),
        indexes: &[],
        ttl: Some(EXPIRES_AT),
    },
    TableDesign {
        suffix: "validators",
        hash: (VALIDATORS_PK, S),
        range: Some((VALIDATORS_SK, S)),
        indexes: &[IndexDesign { name: BY_OPERATOR_INDEX, hash: (OPERATOR, S), range: (VALIDATORS_PK, S) }],
        ttl: None,
    },
    TableDesign { suffix: "roles", hash: (SUBJECT, S), range: Some((ROLE, S)), indexes: &[], ttl: None },
    TableDesign { suffix: "alerts", hash: (SUBJECT, S), range: Some((KIND, S)), indexes: &[], ttl: None },
    TableDesign {
        suffix: "outbox",
        hash: (OUTBOX_PK, S),
        range: None,
        indexes: &[IndexDesign { name: BY_DUE_INDEX, hash: (QUEUE, S), range: (DUE, N) }],
        ttl: Some(EXPIRES_AT),
    },
    TableDesign { suffix: "audit", hash: (SUBJECT, S), range: Some((AUDIT_SK, S)), indexes: &[], ttl: None },
    TableDesign {
        suffix: "challenges",
        hash: (USER, S),
        range: Some((VALIDATOR, S)),
        indexes: &[],
        ttl: Some(EXPIRES_AT),
    },
];

impl TableDesign {
    /// Every attribute a key or index names, each once (what `AttributeDefinitions` must list).
    pub fn key_attributes(&self) -> Vec<KeyAttr> {
        let mut all = vec![self.hash];
        all.extend(self.range);
        for index in self.indexes {
            all.extend([index.hash, index.range]);
        }
        let mut seen = Vec::new();
        all.retain(|(name, _)| {
            let new = !seen.contains(name);
            seen.push(*name);
            new
        });
        all
    }
}

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
    pub challenges: String,
}

impl TableNames {
    pub fn new(prefix: &str) -> Self {
        let [meta, slots, validators, roles, alerts, outbox, audit, challenges] =
            DESIGN.map(|t| format!("{prefix}{}", t.suffix));
        Self { meta, slots, validators, roles, alerts, outbox, audit, challenges }
    }

    /// The names in [`DESIGN`]'s order.
    pub fn all(&self) -> [&str; 8] {
        [
            &self.meta,
            &self.slots,
            &self.validators,
            &self.roles,
            &self.alerts,
            &self.outbox,
            &self.audit,
            &self.challenges,
        ]
    }
}

fn key(name: &str, key_type: KeyType) -> Result<KeySchemaElement, StoreError> {
    KeySchemaElement::builder().attribute_name(name).key_type(key_type).build().map_err(build_error)
}

fn build_error(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("building a DynamoDB request failed: {e}"))
}

/// Creates every table of [`DESIGN`] that does not exist yet, waits until all are ACTIVE, and turns on
/// TTL where it is off. It only reads what already exists, so `sparta migrate` against tables made by
/// terraform needs no permission to create or change tables.
pub(crate) async fn create_tables(
    client: &Client,
    names: &TableNames,
    wait: Duration,
) -> Result<(), StoreError> {
    for (design, table) in DESIGN.iter().zip(names.all()) {
        if !table_exists(client, table).await? {
            create_table(client, design, table).await?;
        }
    }
    for table in names.all() {
        wait_until_active(client, table, wait).await?;
    }
    for (design, table) in DESIGN.iter().zip(names.all()) {
        if let Some(attribute) = design.ttl {
            ensure_ttl(client, table, attribute).await?;
        }
    }
    Ok(())
}

async fn table_exists(client: &Client, table: &str) -> Result<bool, StoreError> {
    match client.describe_table().table_name(table).send().await {
        Ok(_) => Ok(true),
        Err(e) if e.code() == Some("ResourceNotFoundException") => Ok(false),
        Err(e) => Err(sdk_error(table, "DescribeTable", e)),
    }
}

async fn create_table(client: &Client, design: &TableDesign, table: &str) -> Result<(), StoreError> {
    let mut request = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(design.hash.0, KeyType::Hash)?);
    if let Some((range, _)) = design.range {
        request = request.key_schema(key(range, KeyType::Range)?);
    }
    for (name, t) in design.key_attributes() {
        let attribute = AttributeDefinition::builder().attribute_name(name).attribute_type(t.scalar());
        request = request.attribute_definitions(attribute.build().map_err(build_error)?);
    }
    for index in design.indexes {
        let projection = Projection::builder().projection_type(ProjectionType::KeysOnly).build();
        request = request.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(index.name)
                .key_schema(key(index.hash.0, KeyType::Hash)?)
                .key_schema(key(index.range.0, KeyType::Range)?)
                .projection(projection)
                .build()
                .map_err(build_error)?,
        );
    }
    match request.send().await {
        Ok(_) => Ok(()),
        // Another instance created it between our look and our request.
        Err(e) if e.code() == Some("ResourceInUseException") => Ok(()),
        Err(e) => Err(sdk_error(table, "CreateTable", e)),
    }
}

async fn ensure_ttl(client: &Client, table: &str, attribute: &str) -> Result<(), StoreError> {
    let described = client.describe_time_to_live().table_name(table).send().await;
    let described = described.map_err(|e| sdk_error(table, "DescribeTimeToLive", e))?;
    let current = described.time_to_live_description();
    let on = current.is_some_and(|d| {
        d.attribute_name() == Some(attribute)
            && matches!(d.time_to_live_status(), Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling))
    });
    if on {
        return Ok(());
    }
    let ttl = TimeToLiveSpecification::builder()
        .enabled(true)
        .attribute_name(attribute)
        .build()
        .map_err(build_error)?;
    match client.update_time_to_live().table_name(table).time_to_live_specification(ttl).send().await {
        Ok(_) => Ok(()),
        // Raised when TTL was enabled meanwhile.
        Err(e) if e.code() == Some("ValidationException") => Ok(()),
        Err(e) => Err(sdk_error(table, "UpdateTimeToLive", e)),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_design_and_attributes_are_listed_once() {
        let names = TableNames::new("p-");
        for (design, name) in DESIGN.iter().zip(names.all()) {
            assert_eq!(name, format!("p-{}", design.suffix));
        }
        let validators = DESIGN.iter().find(|t| t.suffix == "validators").unwrap();
        assert_eq!(
            validators.key_attributes(),
            [(VALIDATORS_PK, S), (VALIDATORS_SK, S), (OPERATOR, S)],
            "the index's range key is the table's hash key, defined once"
        );
    }
}
