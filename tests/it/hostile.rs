//! sparta as an attacker meets it: a hostile RPC provider in front of the devnet (300 MB answers, a
//! current slot far in the future, 2 MB error messages forging log lines), provider keys in URLs, and
//! idle connections under a low file limit. Memory, log volume, stored history and every line of output
//! are checked.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use sparta_core::{ChainTiming, CommitteeBits, Generation, ProposalOutcome, Slot, SlotFacts};
use sparta_store::{EmbeddedStore, Store};

use crate::hostile_proxy::{Attack, FORGED, HostileProxy};
use crate::process::{Sparta, after, sparta, sparta_with_env};

const MINUTE: Duration = Duration::from_secs(60);
const NETWORK: [&str; 10] =
    ["--validators", "40", "--committee", "12", "--epoch-slots", "8", "--slot-seconds", "1", "--seed", "11"];
/// Fragments of fake provider keys: none may appear in any output.
const KEY_FRAGMENTS: [&str; 4] = ["SECRETKEY", "SECRETQUERY", "SECRETPW", "NODEKEY"];

fn serve_devnet(dir: &Path) -> (Sparta, String, String) {
    let mut args = vec!["devnet", "serve", "--node-addr", "127.0.0.1:0", "--l1-addr", "127.0.0.1:0"];
    args.extend(NETWORK);
    let mut serve = sparta(&args, dir);
    let node =
        after(&serve.wait_for("the node URL", MINUTE, |l| l.starts_with("node: ")), "node: ").to_owned();
    let l1 = after(&serve.wait_for("the L1 URL", MINUTE, |l| l.starts_with("l1: ")), "l1: ").to_owned();
    (serve, node, l1)
}

/// The chain's timing, as `sparta check` reads it.
fn timing(node: &str, l1: &str, dir: &Path) -> ChainTiming {
    let mut check = sparta(&["check", "--node-url", node, "--l1-url", l1], dir);
    let (status, _) = check.wait_exit(MINUTE);
    assert!(status.success(), "{}", check.output());
    // The pretty JSON runs from a line `{` to a line `}`; log lines come around it.
    let start = check.seen.iter().position(|l| l == "{").expect("the facts as JSON");
    let end = start + check.seen[start..].iter().position(|l| l == "}").expect("the end of the JSON");
    let facts: Value = serde_json::from_str(&check.seen[start..=end].join("\n")).unwrap();
    serde_json::from_value(facts["timing"].clone()).unwrap()
}

fn clock_slot(timing: &ChainTiming) -> Slot {
    timing.slot_at(SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs())
}

/// `GET path` on `addr` with a deadline; `None` when nothing (or not a 200) came back in time.
fn get(addr: &str, path: &str, timeout: Duration) -> Option<String> {
    let mut stream = TcpStream::connect_timeout(&addr.parse().ok()?, timeout).ok()?;
    stream.set_read_timeout(Some(timeout)).ok()?;
    stream.set_write_timeout(Some(timeout)).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split_whitespace().nth(1);
    (status == Some("200")).then(|| response.split("\r\n\r\n").nth(1).unwrap_or("").to_owned())
}

fn last_processed_slot(metrics: &str) -> Option<u64> {
    let page = get(metrics, "/metrics", Duration::from_secs(5))?;
    page.lines()
        .find(|l| l.starts_with("sparta_engine_last_processed_slot "))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .map(|v| v as u64)
}

/// Waits until the engine has processed a slot after `after`; returns it.
fn processed_past(metrics: &str, after: u64, run: &mut Sparta) -> u64 {
    let deadline = Instant::now() + MINUTE * 2;
    loop {
        run.collect();
        if let Some(slot) = last_processed_slot(metrics).filter(|s| *s > after) {
            return slot;
        }
        assert!(Instant::now() < deadline, "no slot processed past {after}:\n{}", run.output());
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn output_bytes(run: &Sparta) -> usize {
    run.seen.iter().map(|l| l.len() + 1).sum()
}

fn assert_no_key_fragment(output: &str) {
    for fragment in KEY_FRAGMENTS {
        assert!(!output.contains(fragment), "{fragment} leaked:\n{output}");
    }
}

/// `sparta run` following the devnet through two hostile proxies, with keys in both URLs.
struct Followed {
    dir: tempfile::TempDir,
    serve: Sparta,
    timing: ChainTiming,
    node_proxy: HostileProxy,
    l1_proxy: HostileProxy,
    run: Sparta,
    metrics: String,
    store: std::path::PathBuf,
}

impl Followed {
    /// Started and past its first processed slot.
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (serve, node, l1) = serve_devnet(dir.path());
        let timing = timing(&node, &l1, dir.path());
        let (node_proxy, l1_proxy) = (HostileProxy::start(&node), HostileProxy::start(&l1));
        let config = dir.path().join("sparta.toml");
        let store = dir.path().join("store.redb");
        std::fs::write(
            &config,
            format!(
                "[chain]\nnode_url = \"http://{}/rpc/NODEKEY\"\n[store]\npath = {store:?}\n[metrics]\nlisten = \"127.0.0.1:0\"\n",
                node_proxy.addr
            ),
        )
        .unwrap();
        let l1_url = format!("http://user:SECRETPW@{}/v2/SECRETKEY?apikey=SECRETQUERY", l1_proxy.addr);
        let mut run = sparta_with_env(
            &["run", "--config", config.to_str().unwrap()],
            dir.path(),
            &[("SPARTA_L1_URL", &l1_url)],
        );
        let metrics =
            after(&run.wait_for("the metrics URL", MINUTE, |l| l.starts_with("metrics: ")), "http://")
                .trim_end_matches("/metrics")
                .to_owned();
        processed_past(&metrics, 0, &mut run);
        Self { dir, serve, timing, node_proxy, l1_proxy, run, metrics, store }
    }

    fn both(&self, attack: Attack) {
        self.node_proxy.set(attack);
        self.l1_proxy.set(attack);
    }

    /// Stops everything; checks the output for keys and forged lines, and the stored history: no slot
    /// past the clock, no gap, no empty committee.
    fn finish(mut self) {
        self.run.interrupt();
        let (status, _) = self.run.wait_exit(MINUTE);
        assert!(status.success(), "{}", self.run.output());
        self.serve.interrupt();
        let _ = self.serve.wait_exit(MINUTE);
        let output = self.run.output();
        assert_no_key_fragment(&output);
        assert!(!output.lines().any(|l| l.trim_start().starts_with(FORGED)), "a forged line:\n{output}");

        let (checkpoint, history) = stored(&self.store);
        assert!(checkpoint <= clock_slot(&self.timing), "checkpoint {checkpoint} past the clock");
        let slots: BTreeSet<u64> = history.iter().map(|f| f.slot.0).collect();
        let first = *slots.first().unwrap();
        assert_eq!(slots.len() as u64, checkpoint.0 - first + 1, "no gap from {first} to {checkpoint}");
        let empty: Vec<u64> = history.iter().filter(|f| f.committee.is_empty()).map(|f| f.slot.0).collect();
        assert!(empty.is_empty(), "slots stored with an empty committee: {empty:?}");
        drop(self.dir);
    }
}

#[test]
fn huge_answers_and_noisy_errors_bound_memory_and_logs() {
    let mut f = Followed::start();
    let before = last_processed_slot(&f.metrics).unwrap();

    // 25 s of 300 MB answers from both sources: memory and log volume stay bounded.
    let (logged_before, flood_started) = (output_bytes(&f.run), Instant::now());
    f.both(Attack::Flood);
    while flood_started.elapsed() < Duration::from_secs(25) {
        std::thread::sleep(Duration::from_millis(500));
        f.run.collect();
    }
    let peak = f.run.peak_rss_bytes();
    let logged = output_bytes(&f.run) - logged_before;
    eprintln!("flood: peak RSS {} MiB, {logged} bytes of output in 25 s", peak >> 20);
    assert!(peak < 256 << 20, "peak RSS {} MiB under the flood", peak >> 20);
    assert!(logged < 10 << 20, "{logged} bytes of output during the flood");

    // `sparta check` through the flood: a short, clear refusal, and memory stays small.
    let urls = [format!("http://{}/", f.node_proxy.addr), format!("http://{}/", f.l1_proxy.addr)];
    let mut check = sparta(&["check", "--node-url", &urls[0], "--l1-url", &urls[1]], f.dir.path());
    let (status, check_peak) = check.wait_exit_sampling_rss(MINUTE);
    let output = check.output();
    eprintln!("check under the flood: peak RSS {} MiB, {} bytes of output", check_peak >> 20, output.len());
    assert!(!status.success());
    assert!(output.contains("refused") && output.contains("limit"), "{output}");
    assert!(check_peak < 256 << 20 && output.len() < 10_000, "{} MiB:\n{output}", check_peak >> 20);

    // 2 MB error messages with newlines: cut, escaped, never a forged line.
    f.both(Attack::NoisyErrors);
    std::thread::sleep(Duration::from_secs(5));
    f.both(Attack::None);
    processed_past(&f.metrics, before + 3, &mut f.run);
    f.finish();
}

#[test]
fn a_lie_about_the_current_slot_commits_nothing_past_the_clock() {
    let mut f = Followed::start();
    // 15 s of L1 claiming slot 2^63: nothing is committed past the clock, and following goes on.
    f.l1_proxy.set(Attack::FutureSlot);
    let lie_started = Instant::now();
    let mut highest = 0;
    while lie_started.elapsed() < Duration::from_secs(15) {
        if let Some(slot) = last_processed_slot(&f.metrics) {
            highest = highest.max(slot);
            let clock = clock_slot(&f.timing).0;
            assert!(slot <= clock, "slot {slot} committed while the clock is at {clock}");
        }
        f.run.collect();
        std::thread::sleep(Duration::from_millis(300));
    }
    f.l1_proxy.set(Attack::None);
    processed_past(&f.metrics, highest + 3, &mut f.run);
    f.finish();
}

#[test]
fn no_key_fragment_reaches_any_output() {
    let dir = tempfile::tempdir().unwrap();
    let (mut serve, node, l1) = serve_devnet(dir.path());
    let (node_proxy, l1_proxy) = (HostileProxy::start(&node), HostileProxy::start(&l1));
    let node_url = format!("http://{}/rpc/NODEKEY", node_proxy.addr);
    let l1_url = format!("http://user:SECRETPW@{}/v2/SECRETKEY?apikey=SECRETQUERY", l1_proxy.addr);
    let debug = [("RUST_LOG", "debug")];

    // Working sources, every transport line logged: the facts show URLs without their keys.
    let mut check =
        sparta_with_env(&["check", "--node-url", &node_url, "--l1-url", &l1_url], dir.path(), &debug);
    let (status, _) = check.wait_exit(MINUTE);
    assert!(status.success(), "{}", check.output());
    assert!(check.output().contains(&format!("\"node_url\": \"http://{}/…\"", node_proxy.addr)));
    assert_no_key_fragment(&check.output());

    // A dead L1 with the key in user info, path and query: the exit error is masked too.
    let dead = crate::tools::free_port();
    let dead_l1 = format!("http://user:SECRETPW@127.0.0.1:{dead}/v2/SECRETKEY?apikey=SECRETQUERY");
    let mut check =
        sparta_with_env(&["check", "--node-url", &node_url, "--l1-url", &dead_l1], dir.path(), &debug);
    let (status, _) = check.wait_exit(MINUTE);
    assert!(!status.success());
    assert!(check.output().contains("error:"), "{}", check.output());
    assert_no_key_fragment(&check.output());

    // The same through `sparta run` and the secret in the environment.
    let config = dir.path().join("dead.toml");
    std::fs::write(
        &config,
        format!("[chain]\nnode_url = {node_url:?}\n[metrics]\nlisten = \"127.0.0.1:0\"\n"),
    )
    .unwrap();
    let mut run = sparta_with_env(
        &["run", "--config", config.to_str().unwrap()],
        dir.path(),
        &[("SPARTA_L1_URL", &dead_l1), ("RUST_LOG", "debug")],
    );
    let (status, _) = run.wait_exit(MINUTE);
    assert!(!status.success());
    assert_no_key_fragment(&run.output());

    // A secret put in the config file by mistake: refused without being printed.
    let leaky = dir.path().join("leaky.toml");
    std::fs::write(
        &leaky,
        format!("[chain]\nnode_url = {node_url:?}\nl1_url = {dead_l1:?}\ndiscord_token = \"SECRETKEY\"\n"),
    )
    .unwrap();
    let mut config_check = sparta(&["config", "check", "--config", leaky.to_str().unwrap()], dir.path());
    let (status, _) = config_check.wait_exit(MINUTE);
    assert!(!status.success());
    assert!(config_check.output().contains("line 4"), "{}", config_check.output());
    assert_no_key_fragment(&config_check.output());

    serve.interrupt();
    let _ = serve.wait_exit(MINUTE);
}

#[test]
fn health_answers_through_idle_connections_under_a_low_file_limit() {
    let dir = tempfile::tempdir().unwrap();
    let sparta_bin = env!("CARGO_BIN_EXE_sparta");
    let mut args = vec!["-c", "ulimit -n 256 && exec \"$0\" \"$@\"", sparta_bin];
    args.extend(["devnet", "--data-dir", "data", "--metrics-addr", "127.0.0.1:0", "--for", "60s"]);
    args.extend(NETWORK);
    let mut run = crate::process::command("sh", &args, dir.path());
    let metrics = after(&run.wait_for("the metrics URL", MINUTE, |l| l.contains("metrics: http")), "http://")
        .trim_end_matches("/metrics")
        .to_owned();
    assert!(get(&metrics, "/healthz", Duration::from_secs(5)).is_some(), "healthy before");

    // 300 connections that never send a byte, held open.
    let idle: Vec<TcpStream> = (0..300).filter_map(|_| TcpStream::connect(&metrics).ok()).collect();
    assert!(idle.len() >= 250, "only {} idle connections opened", idle.len());
    let started = Instant::now();
    let mut answered = 0;
    while started.elapsed() < Duration::from_secs(12) {
        // As a load balancer's check: a few tries within its timeout.
        let probe_started = Instant::now();
        let ok = loop {
            if get(&metrics, "/healthz", Duration::from_secs(2)).is_some() {
                break true;
            }
            if probe_started.elapsed() > Duration::from_secs(4) {
                break false;
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        assert!(ok, "/healthz gave no answer for 4 s, {:?} into the idle flood", started.elapsed());
        answered += 1;
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(answered >= 10, "{answered} health checks answered");
    let page =
        get(&metrics, "/metrics", Duration::from_secs(5)).expect("metrics answer once idle ones are gone");
    assert!(page.contains("sparta_telemetry_connections_refused_total"), "the refusals are counted");
    drop(idle);
    run.kill();
    let _ = run.wait_exit(MINUTE);
}

/// What an older sparta committed after a 15 s lie about the current slot: the slots from the
/// checkpoint on to far past the clock, each with an empty committee.
fn corrupt(store: &Path, timing: &ChainTiming) -> (Slot, Slot) {
    let store = EmbeddedStore::open(store).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let first = store.checkpoint().await.unwrap().expect("a followed store").next();
        let last = Slot(clock_slot(timing).0 + 40);
        let lies: Vec<SlotFacts> = (first.0..=last.0)
            .map(|slot| SlotFacts {
                slot: Slot(slot),
                epoch: timing.epoch_of(Slot(slot)),
                committee: Arc::from([]),
                proposer: None,
                outcome: ProposalOutcome::Mined,
                attested: CommitteeBits::default(),
                generation: Generation::default(),
            })
            .collect();
        store.commit_slots(&lies).await.unwrap();
        (first, last)
    })
}

fn stored(store: &Path) -> (Slot, Vec<SlotFacts>) {
    let store = EmbeddedStore::open(store).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        (store.checkpoint().await.unwrap().unwrap(), store.slot_history(Slot(0)).await.unwrap())
    })
}

#[test]
fn a_store_filled_from_a_lying_source_is_repaired() {
    let dir = tempfile::tempdir().unwrap();
    let (mut serve, node, l1) = serve_devnet(dir.path());
    let timing = timing(&node, &l1, dir.path());
    let store = dir.path().join("store.redb");
    let config = dir.path().join("sparta.toml");
    std::fs::write(
        &config,
        format!(
            "[chain]\nnode_url = {node:?}\nl1_url = {l1:?}\n[store]\npath = {store:?}\n[metrics]\nlisten = \"127.0.0.1:0\"\n"
        ),
    )
    .unwrap();
    let follow = |until: Option<u64>| {
        let mut run = sparta(&["run", "--config", config.to_str().unwrap()], dir.path());
        let metrics =
            after(&run.wait_for("the metrics URL", MINUTE, |l| l.starts_with("metrics: ")), "http://")
                .trim_end_matches("/metrics")
                .to_owned();
        let reached = processed_past(&metrics, until.unwrap_or(0), &mut run);
        run.interrupt();
        let (status, _) = run.wait_exit(MINUTE);
        assert!(status.success(), "{}", run.output());
        reached
    };
    follow(None);
    let (first_lie, last_lie) = corrupt(&store, &timing);

    // The repair forgets the lies; the next run reads those slots again, from the chain.
    let mut repair = sparta(
        &["repair", "--from-slot", &first_lie.0.to_string(), "--store", store.to_str().unwrap()],
        dir.path(),
    );
    let (status, _) = repair.wait_exit(MINUTE);
    assert!(status.success(), "{}", repair.output());
    let forgot =
        format!("forgot {} stored slot(s) from {first_lie} through {last_lie}", last_lie.0 - first_lie.0 + 1);
    assert!(repair.output().contains(&forgot), "{}", repair.output());
    assert_eq!(stored(&store).0, Slot(first_lie.0 - 1), "the checkpoint is back before the lies");

    follow(Some(first_lie.0 + 3));
    serve.interrupt();
    let _ = serve.wait_exit(MINUTE);
    let (checkpoint, history) = stored(&store);
    assert!(checkpoint <= clock_slot(&timing));
    let slots: Vec<u64> = history.iter().map(|f| f.slot.0).collect();
    assert_eq!(slots, (slots[0]..=checkpoint.0).collect::<Vec<_>>(), "no gap");
    assert!(history.iter().all(|f| !f.committee.is_empty()), "every slot read again has its committee");
}
