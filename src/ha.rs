//! Two or more instances, one voice: leader election over the store's lease (`[ha]` in the config).
//!
//! Every instance renews or asks for the lease every third of its TTL. The holder runs the engine with
//! a store fenced by its term's token, so once another instance takes over, nothing the old one does
//! (decide, claim, settle, send) can reach Discord. A standby keeps its chain connection warm and
//! follows the chain's head; the engine's state lives in the shared store, which the leader keeps
//! current, so a takeover starts from the last committed slot within a second.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use serde::Deserialize;
use sparta_actors::{Engine, EngineConfig, EngineContext, EngineHandle};
use sparta_bot::DiscordSink;
use sparta_chain::HttpLimits;
use sparta_chain::source::ChainSource;
use sparta_core::SlotClock;
use sparta_store::{Fence, Lease, Store};
use sparta_telemetry::{Readiness, catalog};
use tokio::sync::watch;
use tracing::{info, warn};

/// `[ha]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HaConfig {
    pub enabled: bool,
    /// This instance's name in the lease (unique per instance; defaults to host, process id and a
    /// random part).
    pub instance: String,
    /// The lease's name: instances sharing it elect one leader.
    pub lease: String,
    /// A leader that cannot renew for this long is replaced.
    pub ttl_ms: u64,
}

impl Default for HaConfig {
    fn default() -> Self {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "sparta".into());
        // Containers may share a host name and all run as pid 1: a per-process random part keeps two
        // instances from ever taking each other for the lease holder.
        let nonce = {
            use std::hash::{BuildHasher, Hasher};
            std::collections::hash_map::RandomState::new().build_hasher().finish() as u32
        };
        Self {
            enabled: false,
            instance: format!("{host}-{}-{nonce:08x}", std::process::id()),
            lease: "leader".into(),
            ttl_ms: 10_000,
        }
    }
}

impl HaConfig {
    pub fn validate(&self, problems: &mut Vec<String>) {
        if self.enabled && self.instance.trim().is_empty() {
            problems.push("ha.instance must name this instance".into());
        }
        if self.enabled && self.ttl_ms < 300 {
            problems.push(format!("ha.ttl_ms must be at least 300, got {}", self.ttl_ms));
        }
    }
}

/// What an elected engine is built from.
pub struct Parts {
    pub config: EngineConfig,
    pub store: Arc<dyn Store>,
    pub sink: Arc<dyn DiscordSink>,
    pub clock: Arc<dyn SlotClock>,
    pub node_url: String,
    pub l1_url: String,
    pub http: HttpLimits,
    pub source: ChainSource,
    /// Holds this process's engine while it leads, for the bot's live answers.
    pub engine_slot: watch::Sender<Option<EngineHandle>>,
}

/// The running election; [`Elector::stop`] steps down and ends it.
pub struct Elector {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Elector {
    pub fn start(ha: HaConfig, parts: Parts, readiness: Readiness) -> Self {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(elect(ha, parts, readiness, stopped));
        Self { stop, task }
    }

    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(true);
        self.task.await.context("the election task failed")?
    }

    /// Resolves if the election ends by itself (it only does on an error).
    pub async fn ended(&mut self) -> anyhow::Result<()> {
        (&mut self.task).await.context("the election task failed")?
    }
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or_default()
}

struct Term {
    engine: Engine,
    /// Cleared when the term ends, so the bot answers from the store again.
    slot: watch::Sender<Option<EngineHandle>>,
    token: u64,
    renewed_at_ms: u64,
}

async fn elect(
    ha: HaConfig,
    parts: Parts,
    readiness: Readiness,
    mut stopped: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let Parts { config, store, sink, clock, node_url, l1_url, http, source, engine_slot } = parts;
    let mut source = Some(source);
    let mut term: Option<Term> = None;
    let tick = Duration::from_millis((ha.ttl_ms / 3).max(100));
    readiness.set(false, "starting", "asking for the lease");
    loop {
        // A leader that could not renew in time (paused, partitioned) steps down before anything else.
        if let Some(t) = &term
            && now_ms() >= t.renewed_at_ms + ha.ttl_ms
        {
            step_down(&mut term, "the lease expired before it could be renewed").await;
        }
        match store.acquire_lease(&ha.lease, &ha.instance, now_ms(), ha.ttl_ms).await {
            Ok(lease) if lease.holder == ha.instance => {
                if term.as_ref().is_some_and(|t| t.token != lease.token) {
                    step_down(&mut term, "a new term began").await;
                }
                match &mut term {
                    Some(t) => t.renewed_at_ms = now_ms(),
                    None => {
                        let source = match source.take() {
                            Some(s) => s,
                            None => ChainSource::connect_with(&node_url, &l1_url, http).await?,
                        };
                        let fence = Fence { lease: ha.lease.clone(), token: lease.token };
                        let config = EngineConfig {
                            name: format!("{}-t{}", config.name, lease.token),
                            ..config.clone()
                        };
                        let ctx = EngineContext::leading(
                            config,
                            store.clone(),
                            sink.clone(),
                            clock.clone(),
                            source,
                            fence,
                        );
                        let engine = Engine::start(ctx).await?;
                        println!("ha: {} leads (token {})", ha.instance, lease.token);
                        info!(token = lease.token, "took the lease; publishing");
                        engine_slot.send_replace(Some(engine.handle()));
                        term = Some(Term {
                            engine,
                            slot: engine_slot.clone(),
                            token: lease.token,
                            renewed_at_ms: now_ms(),
                        });
                    }
                }
                readiness.set(
                    true,
                    "leader",
                    format!("{} holds lease {} (token {})", ha.instance, ha.lease, lease.token),
                );
                metrics::gauge!(catalog::ENGINE_LEADER).set(1.0);
                metrics::gauge!(catalog::ENGINE_LEADER_TOKEN).set(lease.token as f64);
            }
            Ok(lease) => {
                if term.is_some() {
                    step_down(&mut term, &format!("{} took the lease", lease.holder)).await;
                }
                stand_by(&readiness, &ha, &lease);
                if source.is_none() {
                    source = ChainSource::connect_with(&node_url, &l1_url, http).await.ok();
                }
                // Follow the chain's head, so the connection and its caches are warm for a takeover.
                if let Some(s) = &mut source
                    && let Ok(slot) = s.safe_slot().await
                {
                    metrics::gauge!(catalog::ENGINE_SAFE_SLOT).set(slot.0 as f64);
                }
            }
            Err(error) => warn!(%error, "cannot reach the lease; retrying"),
        }
        let wake = {
            let engine_died = async {
                match &mut term {
                    Some(t) => t.engine.stopped().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(tick) => Wake::Tick,
                _ = stopped.changed() => Wake::Stop,
                _ = engine_died => Wake::EngineDied,
            }
        };
        match wake {
            Wake::Tick => {}
            Wake::Stop => {
                step_down(&mut term, "stopping").await;
                return Ok(());
            }
            Wake::EngineDied => {
                // Too many actor restarts: give the lease a chance to go to a healthier instance.
                step_down(&mut term, "the engine stopped by itself").await;
                tokio::time::sleep(Duration::from_millis(ha.ttl_ms)).await;
            }
        }
    }
}

enum Wake {
    Tick,
    Stop,
    EngineDied,
}

fn stand_by(readiness: &Readiness, ha: &HaConfig, lease: &Lease) {
    let detail = format!("{} holds lease {} (token {})", lease.holder, ha.lease, lease.token);
    if readiness.get().role != "standby" {
        println!("ha: {} stands by ({detail})", ha.instance);
    }
    readiness.set(true, "standby", detail);
    metrics::gauge!(catalog::ENGINE_LEADER).set(0.0);
}

async fn step_down(term: &mut Option<Term>, why: &str) {
    if let Some(t) = term.take() {
        println!("ha: stepping down (token {}): {why}", t.token);
        warn!(token = t.token, why, "stepping down");
        metrics::gauge!(catalog::ENGINE_LEADER).set(0.0);
        t.slot.send_replace(None);
        t.engine.stop().await;
    }
}
