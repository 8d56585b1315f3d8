//! `sparta devnet`: a simulated network on loopback, followed by the real engine through the same
//! JSON-RPC code paths as production, with the embedded store, the Prometheus endpoint and the
//! console Discord sink. `sparta devnet serve` runs only the simulated network.

use std::path::Path;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use sparta_actors::{EngineConfig, OutboxConfig};
use sparta_bot::{ApiKey, ConsoleSink, DiscordPublicKey, FrontConfig};
use sparta_chain::HttpLimits;
use sparta_core::{ChainTiming, SlotClock, SystemSlotClock};
use sparta_devnet::{Devnet, DevnetConfig, Generation, ListenAddrs};
use sparta_store::Link;

use crate::cli::{DevnetCommand, DevnetServe, NetworkArgs, ServeArgs};
use crate::ha::HaConfig;
use crate::run::{self, Serving, StartOptions};
use crate::secrets::DISCORD_PUBLIC_KEY_ENV;
use crate::store::{Backend, DynamoSection, StoreConfig};

/// What makes a devnet the same network across runs (kept in the data directory).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DevnetParams {
    validators: usize,
    committee: usize,
    epoch_slots: u64,
    slot_seconds: u64,
    seed: u64,
    protocol: Generation,
    genesis_time_s: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    escape_hatch: Vec<u64>,
}

impl DevnetParams {
    pub(crate) fn new(args: &NetworkArgs, genesis_time_s: u64) -> Self {
        Self {
            validators: args.validators,
            committee: args.committee,
            epoch_slots: args.epoch_slots,
            slot_seconds: args.slot_seconds,
            seed: args.seed,
            protocol: args.protocol,
            genesis_time_s,
            escape_hatch: args.escape_hatch.clone(),
        }
    }

    pub(crate) fn config(&self) -> DevnetConfig {
        DevnetConfig {
            validators: self.validators,
            committee_size: self.committee,
            epoch_slots: self.epoch_slots,
            slot_seconds: self.slot_seconds,
            seed: self.seed,
            genesis_time_s: self.genesis_time_s,
            protocol: self.protocol,
            escape_hatch_epochs: self.escape_hatch.clone(),
            ..DevnetConfig::default()
        }
    }

    fn timing(&self) -> ChainTiming {
        ChainTiming {
            genesis_time_s: self.genesis_time_s,
            slot_duration_s: self.slot_seconds,
            epoch_duration_slots: self.epoch_slots,
        }
    }

    /// The stored network, or a new one starting now. A different shape is refused, not mixed.
    fn load_or_create(dir: &Path, args: &NetworkArgs) -> anyhow::Result<Self> {
        let path = dir.join("network.json");
        let fresh = Self::new(args, now_s());
        if let Ok(text) = std::fs::read_to_string(&path) {
            let stored: Self = serde_json::from_str(&text)
                .with_context(|| format!("{} is corrupt; pass --fresh to start over", path.display()))?;
            if (Self { genesis_time_s: stored.genesis_time_s, ..fresh.clone() }) != stored {
                bail!(
                    "{} holds a different devnet ({stored:?}); pass --fresh to start over or use another --data-dir",
                    dir.display()
                );
            }
            return Ok(stored);
        }
        std::fs::write(&path, serde_json::to_string_pretty(&fresh)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(fresh)
    }
}

fn now_s() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

pub(crate) fn validate(args: &NetworkArgs) -> anyhow::Result<()> {
    if args.validators == 0 || args.committee == 0 || args.epoch_slots == 0 || args.slot_seconds == 0 {
        bail!("--validators, --committee, --epoch-slots and --slot-seconds must all be positive");
    }
    if args.committee > args.validators {
        bail!("--committee ({}) cannot exceed --validators ({})", args.committee, args.validators);
    }
    if !args.escape_hatch.is_empty() && args.protocol < Generation::V4 {
        bail!("--escape-hatch needs --protocol v4, v5 or v6 (a 2.x rollup has no escape hatch)");
    }
    Ok(())
}

pub async fn main(args: DevnetCommand) -> anyhow::Result<()> {
    if let Some(DevnetServe::Serve(serve)) = args.serve {
        return serve_only(serve).await;
    }
    validate(&args.network)?;
    if args.fresh && args.data_dir.exists() {
        std::fs::remove_dir_all(&args.data_dir)
            .with_context(|| format!("cannot remove {}", args.data_dir.display()))?;
    }
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("cannot create {}", args.data_dir.display()))?;
    let params = DevnetParams::load_or_create(&args.data_dir, &args.network)?;
    let clock: Arc<dyn SlotClock> = Arc::new(SystemSlotClock::new(params.timing()));
    let devnet = Devnet::start(params.config(), clock).await.context("cannot start the devnet")?;
    println!(
        "devnet: protocol {}, {} validators, committee {}, {}-slot epochs, {} s slots, seed {} — node {} · L1 {}",
        params.protocol,
        params.validators,
        params.committee,
        params.epoch_slots,
        params.slot_seconds,
        params.seed,
        devnet.node_url,
        devnet.l1_url
    );
    let links = devnet
        .network
        .demo_operators(10)
        .into_iter()
        .map(|(operator, validator)| Link { operator, validator })
        .collect();
    for (validator, profile) in devnet.network.scripted() {
        println!("  scripted validator {validator:#x}: {profile}");
    }
    if let Some((after, lasting)) = args.node_outage {
        devnet.node_outage.schedule(after, lasting);
        println!(
            "  scripted node outage: from {} for {}",
            humantime::format_duration(after),
            humantime::format_duration(lasting)
        );
    }

    let engine = EngineConfig {
        name: "devnet".into(),
        // A killed devnet hands its unsettled deliveries to the next run within seconds.
        outbox: OutboxConfig { lease_ms: 5_000, poll_ms: 1_000, ..OutboxConfig::default() },
        ..EngineConfig::default()
    };
    let store = match args.dynamodb_endpoint {
        Some(url) => StoreConfig {
            backend: Backend::Dynamodb,
            dynamodb: DynamoSection {
                endpoint_url: Some(url),
                table_prefix: args.dynamodb_prefix,
                create_tables: true,
                ..DynamoSection::default()
            },
            ..StoreConfig::default()
        },
        None => StoreConfig { path: args.data_dir.join("sparta.redb"), ..StoreConfig::default() },
    };
    let running = run::start(StartOptions {
        cloudwatch: Default::default(),
        node_url: devnet.node_url.clone(),
        l1_url: devnet.l1_url.clone(),
        http: HttpLimits::default(),
        store,
        metrics_addr: args.metrics_addr,
        engine,
        links,
        sink: Arc::new(ConsoleSink::new(args.json)),
        serving: Serving {
            api_key: Some(devnet_api_key()?),
            public_key: devnet_public_key()?,
            front: FrontConfig::default(),
            follow_up: None,
        },
        ha: HaConfig::default(),
    })
    .await?;
    let outcome = run::until_stopped(running, args.run_for).await;
    devnet.shutdown().await;
    outcome
}

/// The API is on in the devnet too: with `SPARTA_API_KEY` when set, else a fresh key printed here.
fn devnet_api_key() -> anyhow::Result<ApiKey> {
    let key = match std::env::var("SPARTA_API_KEY") {
        Ok(key) => key,
        Err(_) => {
            use std::hash::{BuildHasher, Hasher};
            let part = || std::collections::hash_map::RandomState::new().build_hasher().finish();
            let key = format!("devnet-{:016x}{:016x}", part(), part());
            println!("api key (this run only): {key}");
            key
        }
    };
    ApiKey::new(&key).context("SPARTA_API_KEY is not usable")
}

/// With `SPARTA_DISCORD_PUBLIC_KEY` set, the devnet answers signed slash commands too (to try a
/// Discord application against it through a tunnel, or to test the endpoint).
fn devnet_public_key() -> anyhow::Result<Option<DiscordPublicKey>> {
    match std::env::var(DISCORD_PUBLIC_KEY_ENV) {
        Ok(hex) => {
            Ok(Some(DiscordPublicKey::from_hex(&hex).map_err(|e| {
                anyhow::anyhow!("{DISCORD_PUBLIC_KEY_ENV} is not an Ed25519 public key: {e}")
            })?))
        }
        Err(_) => Ok(None),
    }
}

async fn serve_only(args: ServeArgs) -> anyhow::Result<()> {
    validate(&args.network)?;
    let params = DevnetParams::new(&args.network, now_s());
    let clock: Arc<dyn SlotClock> = Arc::new(SystemSlotClock::new(params.timing()));
    let listen = ListenAddrs { node: args.node_addr, l1: args.l1_addr };
    let devnet = Devnet::start_on(params.config(), clock, listen).await.context("cannot start the devnet")?;
    println!("node: {}", devnet.node_url);
    println!("l1: {}", devnet.l1_url);
    println!("registry: {:#x}", devnet.registry_address);
    let deadline = async {
        match args.run_for {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = deadline => {}
    }
    devnet.shutdown().await;
    Ok(())
}
