//! Starting the engine against a node + L1 endpoint (shared by `run` and `devnet`), and waiting
//! for it to stop.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sparta_actors::{Engine, EngineBackend, EngineConfig, EngineContext, LateBackend};
use sparta_bot::{ApiKey, DiscordPublicKey, DiscordSink, FollowUp, FrontConfig};
use sparta_chain::HttpLimits;
use sparta_chain::redact::shown_url;
use sparta_chain::source::ChainSource;
use sparta_core::{SlotClock, SystemSlotClock};
use sparta_store::{Link, NetworkIdentity};
use sparta_telemetry::cloudwatch::CloudWatchPublisher;
use tokio::sync::watch;
use tracing::info;

use crate::cloudwatch::CloudWatchSection;
use crate::config::{Config, ConfigSource};
use crate::ha::{Elector, HaConfig, Parts};
use crate::secrets::Secrets;
use crate::store::StoreConfig;

pub struct StartOptions {
    /// `[metrics.cloudwatch]`; off for the devnet.
    pub cloudwatch: CloudWatchSection,
    pub node_url: String,
    pub l1_url: String,
    /// The bounds every answer from the node and L1 is held to.
    pub http: HttpLimits,
    pub store: StoreConfig,
    pub metrics_addr: SocketAddr,
    pub engine: EngineConfig,
    pub links: Vec<Link>,
    /// Where Discord actions go (the REST client, or the console).
    pub sink: Arc<dyn DiscordSink>,
    /// What is served to Discord and API clients beside `/metrics`.
    pub serving: Serving,
    pub ha: HaConfig,
}

/// The interactions endpoint and the API; each is off without its key.
#[derive(Default)]
pub struct Serving {
    pub public_key: Option<DiscordPublicKey>,
    pub api_key: Option<ApiKey>,
    pub front: FrontConfig,
    /// Answers deferred commands (the REST client, when a bot token is set).
    pub follow_up: Option<Arc<dyn FollowUp>>,
}

pub struct Running {
    mode: Mode,
    pub metrics: sparta_telemetry::MetricsServer,
    cloudwatch: Option<CloudWatchPublisher>,
}

enum Mode {
    /// The only instance: the engine runs from the start.
    Single(Engine),
    /// One of several: the engine runs while this instance holds the lease.
    Elected(Elector),
}

pub async fn start(options: StartOptions) -> anyhow::Result<Running> {
    let telemetry = sparta_telemetry::install().context("cannot install the metrics recorder")?;
    let cloudwatch = match options.cloudwatch.enabled {
        true => Some(options.cloudwatch.start(telemetry.clone()).await?),
        false => None,
    };
    // Served before the chain and the store are reached, so health checks answer during start-up;
    // commands answer "still starting" until the backend is set below.
    let backend = Arc::new(LateBackend::new(options.engine.policies()));
    let Serving { public_key, api_key, front, follow_up } = options.serving;
    let routes = crate::discord::routes(backend.clone(), front, public_key, api_key, follow_up);
    let metrics = sparta_telemetry::serve_with(telemetry, options.metrics_addr, routes)
        .await
        .with_context(|| format!("cannot serve metrics on {}", options.metrics_addr))?;
    println!("metrics: http://{}/metrics", metrics.local_addr());

    let mut source = ChainSource::connect_with(&options.node_url, &options.l1_url, options.http)
        .await
        .with_context(|| {
            format!(
                "cannot follow the chain (node {}, L1 {})",
                shown_url(&options.node_url),
                shown_url(&options.l1_url)
            )
        })?;
    let facts = source.chain_facts().await.context("cannot read the chain's facts")?;
    let identity = NetworkIdentity { chain_id: facts.chain_id, rollup: facts.rollup, timing: facts.timing };

    let store = options.store.open().await?;
    store.check_identity(&identity).await?;
    for link in &options.links {
        store.link(link).await?;
    }
    match store.checkpoint().await? {
        Some(slot) => println!("resuming from stored slot {slot} ({})", options.store.describe()),
        None => println!("fresh store ({}): starting at the chain's window", options.store.describe()),
    }
    info!(rollup = %identity.rollup, chain_id = identity.chain_id, "following the rollup");

    let clock: Arc<dyn SlotClock> = Arc::new(SystemSlotClock::new(identity.timing));
    let sink = options.sink;
    let (engine_slot, engine_seen) = watch::channel(None);
    backend.set(EngineBackend::new(engine_seen, store.clone(), clock.clone(), options.engine.policies()));
    if options.ha.enabled {
        let parts = Parts {
            config: options.engine,
            store,
            sink,
            clock,
            node_url: options.node_url,
            l1_url: options.l1_url,
            http: options.http,
            source,
            engine_slot,
        };
        let elector = Elector::start(options.ha, parts, metrics.readiness().clone());
        return Ok(Running { mode: Mode::Elected(elector), metrics, cloudwatch });
    }
    let ctx = EngineContext::new(options.engine, store, sink, clock, source);
    let engine = Engine::start(ctx).await?;
    engine_slot.send_replace(Some(engine.handle()));
    // The only instance always leads: the "no leader" alarm reads this gauge in both modes.
    metrics::gauge!(sparta_telemetry::catalog::ENGINE_LEADER).set(1.0);
    metrics.readiness().set(true, "single", "the only instance; publishing");
    Ok(Running { mode: Mode::Single(engine), metrics, cloudwatch })
}

/// Runs until Ctrl-C / SIGTERM, the optional deadline, or the engine stopping by itself (an error).
pub async fn until_stopped(mut running: Running, run_for: Option<Duration>) -> anyhow::Result<()> {
    let deadline = async {
        match run_for {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    let outcome = match &mut running.mode {
        Mode::Single(engine) => tokio::select! {
            _ = shutdown_signal() => { println!("stopping (signal)"); Ok(()) }
            _ = deadline => { println!("stopping (--for elapsed)"); Ok(()) }
            _ = engine.stopped() => Err(anyhow::anyhow!("the engine stopped: too many actor restarts (see the log)")),
        },
        Mode::Elected(elector) => tokio::select! {
            _ = shutdown_signal() => { println!("stopping (signal)"); Ok(()) }
            _ = deadline => { println!("stopping (--for elapsed)"); Ok(()) }
            ended = elector.ended() => ended.and(Err(anyhow::anyhow!("the leader election ended"))),
        },
    };
    match running.mode {
        Mode::Single(engine) => {
            if let Ok(status) = engine.status().await {
                println!(
                    "stopped at slot {} with {} validators tracked",
                    status.checkpoint.map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
                    status.validators
                );
            }
            engine.stop().await;
        }
        Mode::Elected(elector) => elector.stop().await?,
    }
    // A last put, so the final counts of a clean stop reach CloudWatch.
    if let Some(cloudwatch) = running.cloudwatch {
        cloudwatch.stop().await;
    }
    let _ = running.metrics.shutdown().await;
    outcome
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            },
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

/// `sparta run [--config FILE]`.
pub async fn main(source: &ConfigSource) -> anyhow::Result<()> {
    let config = Config::load(source)?;
    let secrets = Secrets::load()?;
    let l1_url = config.l1_url(&secrets)?;
    crate::secrets::mask_urls([config.chain.node_url.as_str(), l1_url.as_str()]);
    println!("{source}: {}", secrets.describe());
    let rest = config.discord.rest(&config.engine, &secrets)?;
    let sink = config.discord.sink(rest.as_ref());
    let api_key = match &secrets.api_key {
        Some(key) => Some(ApiKey::new(key.expose()).context("SPARTA_API_KEY is not usable")?),
        None => None,
    };
    let serving = Serving {
        public_key: secrets.discord_public_key,
        api_key,
        front: config.discord.front(),
        follow_up: rest.map(|rest| rest as Arc<dyn FollowUp>),
    };
    let running = start(StartOptions {
        http: config.chain.http_limits(),
        node_url: config.chain.node_url,
        l1_url,
        store: config.store,
        metrics_addr: config.metrics.listen,
        cloudwatch: config.metrics.cloudwatch,
        engine: config.engine,
        links: config
            .links
            .into_iter()
            .map(|l| Link { operator: l.operator, validator: l.validator })
            .collect(),
        sink,
        serving,
        ha: config.ha,
    })
    .await?;
    until_stopped(running, None).await
}
