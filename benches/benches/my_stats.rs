//! `/my-stats` under load: the real interactions endpoint (Ed25519 verification, parsing, the front,
//! the engine backend) over loopback HTTP, at a fixed arrival rate.
//!
//! A simulated network of 5,000 validators (committee 48) feeds a real engine on the embedded store
//! until it has processed three epochs; 1,000 operators have 1–5 linked validators each. Then an
//! open-loop client sends signed `/my-stats` interactions from random operators at `SPARTA_BENCH_RPS`
//! (default 500) for `SPARTA_BENCH_SECONDS` (default 20). Latency is measured from each request's
//! scheduled send time (so a stalled server is not hidden by a stalled client) and, separately, as
//! server time around the whole endpoint. Chain RPC calls are counted during the load and during an
//! equally long idle window: the request path makes none.
//!
//! Client and server share the machine's cores. Run: `cargo bench -p sparta-benches --bench my_stats`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use axum::extract::Request;
use axum::middleware::Next;
use ed25519_dalek::{Signer, SigningKey};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use sparta_actors::{Engine, EngineBackend, EngineConfig, EngineContext};
use sparta_bot::{
    CommandHandler, DiscordAction, DiscordPublicKey, DiscordSink, Front, FrontConfig, InteractionsConfig,
    SinkError, interactions_router,
};
use sparta_chain::source::{ChainSource, SETTLING_SLOTS};
use sparta_core::{ManualSlotClock, Slot, SlotClock};
use sparta_devnet::{Devnet, DevnetConfig};
use sparta_store::{EmbeddedStore, Link, Store};

const VALIDATORS: usize = 5_000;
const OPERATORS: usize = 1_000;
const EPOCH_SLOTS: u64 = 32;
const EPOCHS: u64 = 3;

struct NullSink;

#[async_trait]
impl DiscordSink for NullSink {
    async fn deliver(&self, _key: &str, _action: &DiscordAction) -> Result<(), SinkError> {
        Ok(())
    }
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    let index = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index] as f64 / 1000.0
}

/// Sum of every `sparta_chain_rpc_duration_seconds_count` series in the exposition.
fn chain_calls(telemetry: &sparta_telemetry::Telemetry) -> u64 {
    telemetry
        .render()
        .lines()
        .filter(|l| l.starts_with("sparta_chain_rpc_duration_seconds_count"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

fn operator_id(index: usize) -> String {
    format!("{}", 1_100_000_000_000_000_000u64 + index as u64)
}

fn main() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(run());
}

async fn run() {
    let rps = env_or("SPARTA_BENCH_RPS", 500);
    let seconds = env_or("SPARTA_BENCH_SECONDS", 20);
    let telemetry = sparta_telemetry::install().expect("the metrics recorder installs");

    // The network and an engine that has processed EPOCHS epochs.
    let config = DevnetConfig {
        validators: VALIDATORS,
        committee_size: 48,
        epoch_slots: EPOCH_SLOTS,
        slot_seconds: 2,
        seed: 7,
        genesis_time_s: 1_700_000_000,
        ..DevnetConfig::default()
    };
    let clock = ManualSlotClock::at_slot(config.timing(), Slot(SETTLING_SLOTS));
    let devnet = Devnet::start(config, Arc::new(clock.clone())).await.expect("the devnet starts");
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(EmbeddedStore::open(&dir.path().join("bench.redb")).expect("store"));
    let validators: Vec<_> = devnet.network.validators().iter().map(|v| v.address).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut next = 0;
    for operator in 0..OPERATORS {
        for _ in 0..rng.random_range(1..=5) {
            store.link(&Link { operator: operator_id(operator), validator: validators[next] }).await.unwrap();
            next += 1;
        }
    }
    let engine_config = EngineConfig { name: "bench".into(), max_poll_ms: 20, ..EngineConfig::default() };
    let policies = engine_config.policies();
    let source = ChainSource::connect(&devnet.node_url, &devnet.l1_url).await.expect("the source connects");
    let slot_clock: Arc<dyn SlotClock> = Arc::new(clock.clone());
    let ctx =
        EngineContext::new(engine_config, store.clone(), Arc::new(NullSink), slot_clock.clone(), source);
    let engine = Engine::start(ctx).await.expect("the engine starts");
    let target = EPOCHS * EPOCH_SLOTS;
    eprintln!("processing {EPOCHS} epochs of {VALIDATORS} validators…");
    clock.set_slot(Slot(target + SETTLING_SLOTS));
    let deadline = Instant::now() + Duration::from_secs(600);
    while store.checkpoint().await.unwrap().is_none_or(|c| c.0 + 1 < target) {
        assert!(Instant::now() < deadline, "the engine did not catch up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The endpoint, exactly as `sparta run` serves it, plus a timer around it.
    let (_slot, seen) = tokio::sync::watch::channel(Some(engine.handle()));
    let backend = Arc::new(EngineBackend::new(seen, store.clone(), slot_clock, policies));
    let key = SigningKey::from_bytes(&[9; 32]);
    let public = DiscordPublicKey::from_bytes(key.verifying_key().as_bytes()).unwrap();
    let handler: Arc<dyn CommandHandler> = Arc::new(Front::new(backend, FrontConfig::default()));
    let server_times = Arc::new(Mutex::new(Vec::<u64>::with_capacity((rps * seconds) as usize)));
    let timer = server_times.clone();
    let router = interactions_router(InteractionsConfig::new(public), handler).layer(
        axum::middleware::from_fn(move |request: Request, next: Next| {
            let timer = timer.clone();
            async move {
                let started = Instant::now();
                let response = next.run(request).await;
                timer.lock().unwrap().push(started.elapsed().as_micros() as u64);
                response
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/interactions", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    // Signed ahead of time: signing is Discord's work, not ours.
    let total = (rps * seconds) as usize;
    let now_s = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs().to_string();
    let requests: Vec<(String, String)> = (0..total)
        .map(|i| {
            let user = operator_id(rng.random_range(0..OPERATORS));
            let body = json!({
                "id": format!("{}", 1_400_000_000_000_000_000u64 + i as u64), "application_id": "1001234567890123456",
                "type": 2, "token": "t", "version": 1, "guild_id": "1101234567890123456",
                "member": { "roles": [], "user": { "id": user, "username": "op" } },
                "data": { "id": "1601234567890123456", "name": "my-stats", "type": 1 },
            })
            .to_string();
            let signature = hex::encode(key.sign(format!("{now_s}{body}").as_bytes()).to_bytes());
            (body, signature)
        })
        .collect();

    let idle_before = chain_calls(&telemetry);
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let idle_calls = chain_calls(&telemetry) - idle_before;
    server_times.lock().unwrap().clear();

    let client = reqwest::Client::builder().pool_max_idle_per_host(256).build().unwrap();
    let latencies = Arc::new(Mutex::new(Vec::<u64>::with_capacity(total)));
    let failures = Arc::new(AtomicU64::new(0));
    let interval = Duration::from_secs_f64(1.0 / rps as f64);
    let load_before = chain_calls(&telemetry);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(total);
    for (i, (body, signature)) in requests.into_iter().enumerate() {
        let scheduled = started + interval * i as u32;
        let (client, url, latencies, failures, ts) =
            (client.clone(), url.clone(), latencies.clone(), failures.clone(), now_s.clone());
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep_until(scheduled.into()).await;
            let response = client
                .post(&url)
                .header("content-type", "application/json")
                .header("x-signature-ed25519", signature)
                .header("x-signature-timestamp", ts)
                .body(body)
                .send()
                .await;
            let ok = match response {
                Ok(r) if r.status().is_success() => {
                    r.text().await.is_ok_and(|t| t.contains("Your validators"))
                }
                _ => false,
            };
            latencies.lock().unwrap().push(scheduled.elapsed().as_micros() as u64);
            if !ok {
                failures.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let elapsed = started.elapsed();
    let load_calls = chain_calls(&telemetry) - load_before;

    let mut client_us = latencies.lock().unwrap().clone();
    let mut server_us = server_times.lock().unwrap().clone();
    client_us.sort_unstable();
    server_us.sort_unstable();
    println!("| /my-stats at {rps} req/s for {seconds} s ({total} requests) | p50 | p90 | p99 | max |");
    println!("|---|---:|---:|---:|---:|");
    for (what, us) in [
        ("server time (verify + parse + answer)", &server_us),
        ("client-observed, from the scheduled send", &client_us),
    ] {
        println!(
            "| {what} | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms |",
            percentile(us, 0.50),
            percentile(us, 0.90),
            percentile(us, 0.99),
            percentile(us, 1.0)
        );
    }
    println!(
        "\nachieved {:.0} req/s; {} failed; chain RPC calls: {load_calls} during the load, {idle_calls} in an equally long idle window",
        total as f64 / elapsed.as_secs_f64(),
        failures.load(Ordering::Relaxed)
    );
    engine.stop().await;
    devnet.shutdown().await;
}
