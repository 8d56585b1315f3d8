//! Choosing, opening and migrating the store (the `[store]` config section and `sparta migrate`).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use serde::Deserialize;
use sparta_chain::redact::shown_url;
use sparta_store::{DynamoConfig, DynamoStore, EmbeddedStore, SCHEMA_VERSION, Store};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// One local file, no server (the default).
    #[default]
    Embedded,
    /// DynamoDB tables (production on AWS, or any endpoint that speaks its API).
    Dynamodb,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    pub backend: Backend,
    /// The embedded store's file.
    pub path: PathBuf,
    pub dynamodb: DynamoSection,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            backend: Backend::Embedded,
            path: PathBuf::from("sparta.redb"),
            dynamodb: DynamoSection::default(),
        }
    }
}

/// `[store.dynamodb]`. Credentials come from the standard AWS chain (environment, profile, role).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DynamoSection {
    pub region: String,
    /// Prepended to every table name; one prefix per network.
    pub table_prefix: String,
    /// A non-AWS endpoint (e.g. a local emulator).
    pub endpoint_url: Option<String>,
    /// Create missing tables at start (development; production tables come from terraform).
    pub create_tables: bool,
}

impl Default for DynamoSection {
    fn default() -> Self {
        Self {
            region: "us-east-1".into(),
            table_prefix: "sparta-".into(),
            endpoint_url: None,
            create_tables: false,
        }
    }
}

impl StoreConfig {
    /// Every problem, each naming its key.
    pub fn validate(&self, problems: &mut Vec<String>) {
        match self.backend {
            Backend::Embedded if self.path.as_os_str().is_empty() => {
                problems.push("store.path must name a file".into());
            }
            Backend::Embedded => {}
            Backend::Dynamodb => {
                let d = &self.dynamodb;
                if d.region.trim().is_empty() {
                    problems.push("store.dynamodb.region must name an AWS region".into());
                }
                let prefix_ok = !d.table_prefix.is_empty()
                    && d.table_prefix.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
                if !prefix_ok {
                    problems.push(format!(
                        "store.dynamodb.table_prefix must be non-empty and use only letters, digits, '-', '_' \
                         and '.', got {:?}",
                        d.table_prefix
                    ));
                }
                if let Some(url) = &d.endpoint_url
                    && !(url.starts_with("http://") || url.starts_with("https://"))
                {
                    problems.push(format!("store.dynamodb.endpoint_url must be an http(s) URL, got {url:?}"));
                }
            }
        }
    }

    /// Where the data lives, for status lines.
    pub fn describe(&self) -> String {
        match self.backend {
            Backend::Embedded => format!("embedded file {}", self.path.display()),
            Backend::Dynamodb => format!(
                "DynamoDB tables {}* in {}{}",
                self.dynamodb.table_prefix,
                self.dynamodb.region,
                self.dynamodb
                    .endpoint_url
                    .as_ref()
                    .map(|u| format!(" at {}", shown_url(u)))
                    .unwrap_or_default()
            ),
        }
    }

    async fn dynamo(&self) -> DynamoStore {
        let d = &self.dynamodb;
        DynamoStore::connect(DynamoConfig {
            region: d.region.clone(),
            endpoint_url: d.endpoint_url.clone(),
            table_prefix: d.table_prefix.clone(),
        })
        .await
    }

    /// Opens the store, refusing one of another schema version (with the way out in the message).
    pub async fn open(&self) -> anyhow::Result<Arc<dyn Store>> {
        match self.backend {
            Backend::Embedded => {
                if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .with_context(|| format!("cannot create {}", dir.display()))?;
                }
                Ok(Arc::new(EmbeddedStore::open(&self.path)?))
            }
            Backend::Dynamodb => {
                let store = self.dynamo().await;
                let ready = if self.dynamodb.create_tables {
                    store.create_tables().await
                } else {
                    store.ensure_schema().await
                };
                ready.with_context(|| format!("cannot use the store ({})", self.describe()))?;
                Ok(Arc::new(store))
            }
        }
    }

    /// `sparta migrate`: upgrades the store to this build's schema version.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        let found = match self.backend {
            Backend::Embedded => EmbeddedStore::migrate(&self.path)?,
            Backend::Dynamodb => self.dynamo().await.migrate().await?,
        };
        if found == SCHEMA_VERSION {
            println!("{}: already at schema version {SCHEMA_VERSION}; nothing to do", self.describe());
        } else {
            println!("{}: migrated from schema version {found} to {SCHEMA_VERSION}", self.describe());
        }
        Ok(())
    }
}

/// `sparta migrate --config FILE`, `sparta migrate --store FILE`, or `sparta migrate` with the config
/// in `SPARTA_CONFIG_TOML` (a one-off container task).
pub async fn migrate_command(args: crate::cli::MigrateArgs) -> anyhow::Result<()> {
    chosen_store(args.config, args.store)?.0.migrate().await
}

/// The store a one-off command works on: an embedded file (`--store`), or a config's `[store]` (from
/// `--config`, else `SPARTA_CONFIG_TOML`), with the config's `[ha]` section when there is one.
pub fn chosen_store(
    config: Option<PathBuf>,
    store: Option<PathBuf>,
) -> anyhow::Result<(StoreConfig, Option<crate::ha::HaConfig>)> {
    use crate::config::{CONFIG_ENV, Config, ConfigSource};
    let config = match (config, store) {
        (_, Some(path)) => return Ok((StoreConfig { path, ..StoreConfig::default() }, None)),
        (Some(config), None) => Config::load(&ConfigSource::File(config))?,
        (None, None) if std::env::var_os(CONFIG_ENV).is_some() => Config::load(&ConfigSource::Env)?,
        (None, None) => anyhow::bail!("name the store: --config FILE, --store FILE, or {CONFIG_ENV}"),
    };
    Ok((config.store, Some(config.ha)))
}
