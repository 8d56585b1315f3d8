//! Two `sparta run` instances with leader election on one DynamoDB (moto) against `sparta devnet serve`:
//! the leader is SIGKILLed at random moments and the other takes over; a leader frozen past its lease
//! sends nothing once thawed. Afterwards no Discord action was lost or delivered as a second effect.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sparta_core::{ChainTiming, ManualSlotClock, Slot};
use sparta_devnet::{DevnetConfig, Network};
use sparta_store::local::LocalMoto;
use sparta_store::{DynamoStore, Store};

use crate::crash::{assert_nothing_lost, deliveries};
use crate::process::{Sparta, after, sparta};

const TTL_MS: u64 = 2_000;
const FAILOVERS: usize = 10;
const NETWORK: [&str; 10] =
    ["--validators", "40", "--committee", "12", "--epoch-slots", "8", "--slot-seconds", "1", "--seed", "9"];

/// The devnet's operators (same seed, same addresses), so role changes and DMs have someone to go to.
fn links() -> String {
    let config = DevnetConfig {
        validators: 40,
        committee_size: 12,
        epoch_slots: 8,
        slot_seconds: 1,
        seed: 9,
        ..DevnetConfig::default()
    };
    let clock = ManualSlotClock::at_slot(config.timing(), Slot(0));
    let network = Network::new(config, Arc::new(clock)).unwrap();
    network
        .demo_operators(4)
        .into_iter()
        .map(|(operator, validator)| {
            format!("[[links]]\noperator = \"{operator}\"\nvalidator = \"{validator:#x}\"\n")
        })
        .collect()
}

fn write_config(dir: &Path, instance: &str, node: &str, l1: &str, endpoint: &str, prefix: &str) -> String {
    let path = dir.join(format!("{instance}.toml"));
    let text = format!(
        "[chain]\nnode_url = \"{node}\"\nl1_url = \"{l1}\"\n\
         [store]\nbackend = \"dynamodb\"\n[store.dynamodb]\nendpoint_url = \"{endpoint}\"\ntable_prefix = \"{prefix}\"\ncreate_tables = true\n\
         [metrics]\nlisten = \"127.0.0.1:0\"\n\
         [engine]\nmax_poll_ms = 500\n[engine.outbox]\nlease_ms = 3000\npoll_ms = 1000\n\
         [discord]\nconsole_json = true\n\
         [ha]\nenabled = true\ninstance = \"{instance}\"\nttl_ms = {TTL_MS}\n{}",
        links()
    );
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

/// `GET /readyz` → the role this instance reports, or None if it does not answer.
fn role(addr: &str) -> Option<String> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(stream, "GET /readyz HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let body = response.split("\r\n\r\n").nth(1)?;
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    value["role"].as_str().map(str::to_owned)
}

struct Instance {
    name: &'static str,
    config: String,
    process: Sparta,
    addr: String,
    /// Output of earlier, killed processes of this instance.
    earlier: Vec<String>,
}

impl Instance {
    fn start(name: &'static str, config: String, dir: &Path) -> Self {
        let mut process = sparta(&["run", "--config", &config], dir);
        let line =
            process.wait_for("the metrics address", Duration::from_secs(60), |l| l.starts_with("metrics: "));
        let addr = after(&line, "metrics: http://").trim_end_matches("/metrics").to_owned();
        Self { name, config, process, addr, earlier: Vec::new() }
    }

    fn restart(&mut self, dir: &Path) {
        let fresh = Self::start(self.name, self.config.clone(), dir);
        let old = std::mem::replace(self, fresh);
        let mut old = old;
        old.process.collect();
        self.earlier = old.earlier;
        self.earlier.append(&mut old.process.seen);
    }

    fn wait_role(&self, want: &str, within: Duration) -> Duration {
        let started = Instant::now();
        while started.elapsed() < within {
            if role(&self.addr).as_deref() == Some(want) {
                return started.elapsed();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("{} did not become {want} within {within:?}; it says {:?}", self.name, role(&self.addr));
    }

    fn all_output(&mut self) -> Vec<String> {
        self.process.collect();
        self.earlier.iter().chain(&self.process.seen).cloned().collect()
    }
}

fn serve_devnet(dir: &Path) -> (Sparta, String, String) {
    let mut args = vec!["devnet", "serve", "--node-addr", "127.0.0.1:0", "--l1-addr", "127.0.0.1:0"];
    args.extend(NETWORK);
    let mut serve = sparta(&args, dir);
    let node =
        after(&serve.wait_for("node url", Duration::from_secs(60), |l| l.starts_with("node: ")), "node: ")
            .to_owned();
    let l1 = after(&serve.wait_for("l1 url", Duration::from_secs(10), |l| l.starts_with("l1: ")), "l1: ")
        .to_owned();
    (serve, node, l1)
}

fn received(instances: &mut [&mut Instance]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for i in instances.iter_mut() {
        deliveries(&i.all_output(), &mut counts);
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_leader_killed_ten_times_is_replaced_within_two_ttls_and_nothing_is_lost_or_doubled() {
    let Some(moto) = LocalMoto::shared() else { return };
    let dir = tempfile::tempdir().unwrap();
    let prefix = format!("failover{}-", std::process::id());
    let (root, endpoint, p) = (dir.path().to_owned(), moto.endpoint().to_owned(), prefix.clone());
    let (received, takeovers) = tokio::task::spawn_blocking(move || {
        let (_serve, node, l1) = serve_devnet(&root);
        let mut a = Instance::start("a", write_config(&root, "a", &node, &l1, &endpoint, &p), &root);
        a.wait_role("leader", Duration::from_secs(30));
        let mut b = Instance::start("b", write_config(&root, "b", &node, &l1, &endpoint, &p), &root);
        b.wait_role("standby", Duration::from_secs(30));
        let mut rng = ChaCha8Rng::seed_from_u64(21);
        let mut takeovers = Vec::new();
        for _ in 0..FAILOVERS {
            std::thread::sleep(Duration::from_millis(rng.random_range(500..3_000)));
            let (leader, standby) =
                if role(&a.addr).as_deref() == Some("leader") { (&mut a, &mut b) } else { (&mut b, &mut a) };
            assert_eq!(role(&standby.addr).as_deref(), Some("standby"), "exactly one leader");
            leader.process.kill();
            takeovers.push(standby.wait_role("leader", Duration::from_millis(2 * TTL_MS)));
            leader.restart(&root);
            leader.wait_role("standby", Duration::from_secs(30));
        }
        // Long enough for claims the killed leaders held (3 s outbox lease) to be taken over and sent.
        std::thread::sleep(Duration::from_secs(8));
        for i in [&a, &b] {
            i.process.interrupt();
        }
        for i in [&mut a, &mut b] {
            let (status, _) = i.process.wait_exit(Duration::from_secs(30));
            assert!(status.success(), "{} ends cleanly:\n{}", i.name, i.process.output());
        }
        (received(&mut [&mut a, &mut b]), takeovers)
    })
    .await
    .unwrap();
    let worst = takeovers.iter().max().unwrap();
    eprintln!("{FAILOVERS} failovers, takeover after a kill: worst {worst:?}, all {takeovers:?}");
    let store: Arc<dyn Store> = Arc::new(DynamoStore::new(moto.client(), &prefix));
    let timing = ChainTiming { genesis_time_s: 0, slot_duration_s: 1, epoch_duration_slots: 8 };
    assert_nothing_lost(store.as_ref(), &received, timing).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_frozen_past_its_lease_sends_nothing_once_thawed() {
    let Some(moto) = LocalMoto::shared() else { return };
    let dir = tempfile::tempdir().unwrap();
    let prefix = format!("frozen{}-", std::process::id());
    let (root, endpoint, p) = (dir.path().to_owned(), moto.endpoint().to_owned(), prefix.clone());
    tokio::task::spawn_blocking(move || {
        let (_serve, node, l1) = serve_devnet(&root);
        let mut a = Instance::start("a", write_config(&root, "a", &node, &l1, &endpoint, &p), &root);
        a.wait_role("leader", Duration::from_secs(30));
        let b = Instance::start("b", write_config(&root, "b", &node, &l1, &endpoint, &p), &root);
        b.wait_role("standby", Duration::from_secs(30));
        // Let a publish the first decisions, then freeze it mid-run.
        a.process.wait_for("a first delivery", Duration::from_secs(60), |l| l.contains("\"key\""));
        a.process.pause(true);
        b.wait_role("leader", Duration::from_millis(3 * TTL_MS));
        a.process.collect();
        let before = a.process.seen.len();
        a.process.pause(false);
        a.wait_role("standby", Duration::from_millis(2 * TTL_MS));
        std::thread::sleep(Duration::from_secs(3));
        a.process.collect();
        let after_thaw = &a.process.seen[before..];
        let sent: Vec<&String> = after_thaw.iter().filter(|l| l.contains("\"key\"")).collect();
        assert!(sent.is_empty(), "the replaced leader sent after thawing: {sent:?}");
        assert!(
            after_thaw.iter().any(|l| l.contains("ha: stepping down")),
            "it says it stepped down:\n{}",
            after_thaw.join("\n")
        );
    })
    .await
    .unwrap();
}
