//! Against a real Aztec 4.1.2 network (`scripts/localnet/up`): the real L1 contracts on anvil with a
//! committee of four, and a real node holding three of the keys, so the fourth validator misses every
//! duty. The engine must say what the node's Sentinel says and what the contracts say.
//!
//! Ignored in a plain `cargo test`: `scripts/localnet/test` starts the network, points
//! `SPARTA_LOCALNET_RUN` at it and runs this.

use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy_primitives::hex;
use serde_json::{Value, json};
use sparta_actors::{Engine, EngineConfig, EngineContext, OutboxConfig};
use sparta_bot::DiscordAction;
use sparta_chain::node::NodeClient;
use sparta_chain::source::ChainSource;
use sparta_core::{
    Address, ChainTiming, Epoch, Slot, SlotClock, StatusCategory, SystemSlotClock, ValidatorStatusInSlot,
};
use sparta_store::{EmbeddedStore, Link, RoleState, Store};

use crate::harness::RecordingSink;

/// How long the network may take to give two epochs with a committee (measured: ~7 min from the
/// deploy; the first two epochs have none).
const NETWORK_DEADLINE: Duration = Duration::from_secs(15 * 60);
const PERFORMANCE_ROLE: &str = "performant";

struct Localnet {
    node_url: String,
    l1_url: String,
    /// What the deploy wrote; the engine must find it through the Registry the node names.
    rollup: Address,
    validators: Vec<Address>,
    offline: Vec<Address>,
}

impl Localnet {
    fn from_env() -> Self {
        let run = std::env::var("SPARTA_LOCALNET_RUN")
            .expect("SPARTA_LOCALNET_RUN must name a running localnet (scripts/localnet/test sets it)");
        let env = std::fs::read_to_string(format!("{run}/env")).expect("the localnet's env file");
        let get = |key: &str| {
            env.lines()
                .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
                .unwrap_or_else(|| panic!("{key} missing from {run}/env"))
                .to_owned()
        };
        let addresses = |list: String| -> Vec<Address> {
            list.split(',').filter(|s| !s.is_empty()).map(|a| a.parse().unwrap()).collect()
        };
        Localnet {
            node_url: get("NODE_URL"),
            l1_url: get("L1_URL"),
            rollup: get("ROLLUP").parse().unwrap(),
            validators: addresses(get("VALIDATORS")),
            offline: addresses(get("OFFLINE")),
        }
    }

    fn operator(&self, validator: Address) -> String {
        let i = self.validators.iter().position(|v| *v == validator).expect("a localnet validator");
        format!("operator-{}", i + 1)
    }
}

/// Raw JSON-RPC, so the contracts are read without the engine's own ABI bindings.
struct Rpc {
    url: String,
    http: reqwest::Client,
}

impl Rpc {
    fn new(url: &str) -> Self {
        Rpc { url: url.to_owned(), http: reqwest::Client::new() }
    }

    async fn call(&self, method: &str, params: Value) -> Result<Value, String> {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let answer: Value = self
            .http
            .post(&self.url)
            .json(&body)
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        match answer.get("error") {
            Some(error) => Err(format!("{method}: {error}")),
            None => Ok(answer["result"].clone()),
        }
    }

    /// `eth_call` of `selector` (4 bytes, hex) with 32-byte words; the returned words.
    async fn eth_call(
        &self,
        to: Address,
        selector: &str,
        words: &[[u8; 32]],
    ) -> Result<Vec<[u8; 32]>, String> {
        let mut data = format!("0x{selector}");
        for word in words {
            data.push_str(&hex::encode(word));
        }
        let result =
            self.call("eth_call", json!([{"to": format!("{to:#x}"), "data": data}, "latest"])).await?;
        let bytes =
            hex::decode(result.as_str().ok_or("eth_call returned no data")?).map_err(|e| e.to_string())?;
        Ok(bytes.chunks(32).map(|c| c.try_into().expect("whole words")).collect())
    }

    async fn uint(&self, to: Address, selector: &str, words: &[[u8; 32]]) -> u64 {
        let out = self.eth_call(to, selector, words).await.unwrap_or_else(|e| panic!("{selector}: {e}"));
        u64::from_be_bytes(out[0][24..].try_into().unwrap())
    }

    /// A dynamic `address[]` return: offset, length, then one word per address.
    async fn addresses(
        &self,
        to: Address,
        selector: &str,
        words: &[[u8; 32]],
    ) -> Result<Vec<Address>, String> {
        let out = self.eth_call(to, selector, words).await?;
        let len = u64::from_be_bytes(out[1][24..].try_into().unwrap()) as usize;
        Ok(out[2..2 + len].iter().map(|w| Address::from_slice(&w[12..])).collect())
    }
}

fn word(value: u64) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[24..].copy_from_slice(&value.to_be_bytes());
    w
}

fn address_word(address: Address) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[12..].copy_from_slice(address.as_slice());
    w
}

/// Polls `probe` every second until it returns Some; panics with `what` at `deadline`.
async fn until<T, F, Fut>(what: &str, deadline: Instant, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// The network as the test reads it: straight from the node and the contracts, not via the engine.
struct Chain {
    node: NodeClient,
    l1: Rpc,
    rollup: Address,
    timing: ChainTiming,
}

impl Chain {
    async fn read(net: &Localnet) -> Self {
        let node = NodeClient::new(&net.node_url).unwrap();
        let l1 = Rpc::new(&net.l1_url);
        let rollup = node.node_info().await.unwrap().l1_contract_addresses.rollup_address;
        assert_eq!(rollup, net.rollup, "the node follows the deployed rollup");
        let timing = ChainTiming {
            genesis_time_s: l1.uint(rollup, "723d8e96", &[]).await, // getGenesisTime()
            slot_duration_s: l1.uint(rollup, "c4014c12", &[]).await, // getSlotDuration()
            epoch_duration_slots: l1.uint(rollup, "5d3ea8f1", &[]).await, // getEpochDuration()
        };
        Chain { node, l1, rollup, timing }
    }

    async fn committee(&self, epoch: u64) -> Vec<Address> {
        // getEpochCommittee(epoch); reverts while the network has no committee yet.
        self.l1.addresses(self.rollup, "69457a6f", &[word(epoch)]).await.unwrap_or_default()
    }
}

/// The engine under test, with its store and the Discord double.
struct Run {
    engine: Engine,
    store: Arc<dyn Store>,
    sink: Arc<RecordingSink>,
    deadline: Instant,
}

impl Run {
    /// Every validator has an operator, and every operator already holds the performance role (as if
    /// granted before this run): the healthy must keep it, the offline one must lose it.
    async fn start(net: &Localnet, chain: &Chain, dir: &std::path::Path) -> Self {
        let store: Arc<dyn Store> = Arc::new(EmbeddedStore::open(&dir.join("sparta.redb")).unwrap());
        for &validator in &net.validators {
            let operator = net.operator(validator);
            store.link(&Link { operator: operator.clone(), validator }).await.unwrap();
            let held = RoleState {
                subject: operator,
                role: PERFORMANCE_ROLE.into(),
                held: true,
                since_slot: Slot(0),
            };
            store.put_role_state(&held).await.unwrap();
        }
        let sink = Arc::new(RecordingSink::default());
        let clock: Arc<dyn SlotClock> = Arc::new(SystemSlotClock::new(chain.timing));
        let config = EngineConfig {
            max_poll_ms: 1_000,
            outbox: OutboxConfig { poll_ms: 100, ..OutboxConfig::default() },
            ..EngineConfig::default()
        };
        let source = ChainSource::connect(&net.node_url, &net.l1_url).await.expect("the engine connects");
        assert_eq!(source.l1().params().rollup, net.rollup, "the rollup resolved through the Registry");
        let ctx = EngineContext::new(config, store.clone(), sink.clone(), clock, source);
        let engine = Engine::start(ctx).await.expect("engine starts");
        Run { engine, store, sink, deadline: Instant::now() + NETWORK_DEADLINE }
    }

    fn actions_for(&self, operator: &str) -> Vec<DiscordAction> {
        let of = |a: &DiscordAction| match a {
            DiscordAction::AddRole { user, .. }
            | DiscordAction::RemoveRole { user, .. }
            | DiscordAction::DirectMessage { user, .. } => user == operator,
            DiscordAction::ChannelPost { .. } => false,
        };
        self.sink.actions().into_iter().filter(of).collect()
    }

    async fn alert_firing(&self, validator: Address, kind: &str) -> bool {
        let alerts = self.engine.firing_alerts().await.unwrap_or_default();
        alerts.iter().any(|a| a.subject == format!("validator:{validator:#x}") && a.kind == kind)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a running Aztec localnet: scripts/localnet/test"]
async fn the_engine_agrees_with_a_real_aztec_node_and_the_l1_contracts() {
    let net = Localnet::from_env();
    let chain = Chain::read(&net).await;
    let dir = tempfile::tempdir().unwrap();
    let run = Run::start(&net, &chain, dir.path()).await;

    let first_epoch = until("an epoch with a committee", run.deadline, || async {
        let current = chain.l1.uint(chain.rollup, "b97dd9e2", &[]).await; // getCurrentEpoch()
        for epoch in 0..=current {
            if !chain.committee(epoch).await.is_empty() {
                return Some(epoch);
            }
        }
        None
    })
    .await;
    let (from, to) = two_committee_epochs_processed(&net, &chain, &run, first_epoch).await;
    stats_equal_the_sentinels(&net, &chain, &run, from, to).await;
    l1_view_equals_the_contracts(&net, &chain, &run, Epoch(first_epoch), to).await;
    the_offline_validator_is_alerted_and_demoted(&net, &run).await;
    let seen_after = a_real_slash_is_seen_within_a_slot(&net, &chain, &run).await;
    println!(
        "localnet: committee from epoch {first_epoch}, compared slots {from}..={to}; slash seen {} ms after its receipt",
        seen_after.as_millis()
    );
    run.engine.stop().await;
}

/// Waits until the node's Sentinel and the engine have both processed two epochs with a committee,
/// and every validator has had an attestation duty (a sequencer that stumbles early on a busy
/// machine leaves slots without a proposal, where attesters have none). Returns the slot range both
/// cover: from the Sentinel's first slot to the last slot both processed.
async fn two_committee_epochs_processed(
    net: &Localnet,
    chain: &Chain,
    run: &Run,
    first_epoch: u64,
) -> (Slot, Slot) {
    let last_slot = Slot((first_epoch + 2) * chain.timing.epoch_duration_slots - 1);
    let attests = |s: ValidatorStatusInSlot| {
        matches!(s.category(), StatusCategory::AttestGood | StatusCategory::AttestMiss)
    };
    let (sentinel, to) =
        until("two committee epochs with attestation duties for everyone", run.deadline, || async {
            let sentinel = chain.node.validators_stats().await.ok()?;
            let both = sentinel.last_processed_slot?.min(run.engine.status().await.ok()?.checkpoint?);
            let duties = net.validators.iter().all(|v| {
                sentinel
                    .stats
                    .get(v)
                    .is_some_and(|s| s.history.iter().any(|h| h.slot <= both && attests(h.status)))
            });
            (both >= last_slot && duties).then_some((sentinel, both))
        })
        .await;
    (Slot(sentinel.initial_slot.expect("the Sentinel's start").0 + 1), to)
}

/// Per-validator stats over the same slot range equal the node's `node_getValidatorStats`, field by
/// field; and they say what the network did: the offline validator missed every attestation, the
/// healthy ones none.
async fn stats_equal_the_sentinels(net: &Localnet, chain: &Chain, run: &Run, from: Slot, to: Slot) {
    for &validator in &net.validators {
        let expected = chain
            .node
            .validator_stats(validator, Some(from), Some(to))
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("the node has no history for {validator:#x}"))
            .validator
            .to_core();
        let actual =
            run.engine.handle().validator_between(validator, from, to).await.unwrap().expect("tracked");
        assert_eq!(actual, expected, "stats of {validator:#x} over slots {from}..={to}");
        let attestations = actual.missed_attestations;
        assert!(attestations.total > 0, "{validator:#x} had attestation duties: {actual:?}");
        if net.offline.contains(&validator) {
            assert_eq!(
                attestations.count, attestations.total,
                "offline {validator:#x} misses every attestation"
            );
        } else {
            assert_eq!(attestations.count, 0, "healthy {validator:#x} misses nothing");
        }
    }
}

/// The engine's L1 view equals the contracts': the committee and proposer stored for every slot,
/// attester status, and the pending and proven checkpoints.
async fn l1_view_equals_the_contracts(
    net: &Localnet,
    chain: &Chain,
    run: &Run,
    first_epoch: Epoch,
    to: Slot,
) {
    let history = run.store.slot_history(Slot(0)).await.unwrap();
    assert!(history.iter().any(|f| f.slot == to), "the stored history reaches slot {to}");
    assert!(history.iter().any(|f| f.epoch == first_epoch && !f.committee.is_empty()));
    for facts in &history {
        let epoch = chain.timing.epoch_of(facts.slot);
        let committee = chain.committee(epoch.0).await;
        assert_eq!(
            &*facts.committee,
            committee.as_slice(),
            "committee of epoch {epoch} (slot {})",
            facts.slot
        );
        let proposer = if committee.is_empty() {
            None
        } else {
            let at = chain.timing.slot_start_s(facts.slot);
            let words = chain.l1.eth_call(chain.rollup, "c27f08b5", &[word(at)]).await.unwrap(); // getProposerAt(ts)
            Some(Address::from_slice(&words[0][12..]))
        };
        assert_eq!(facts.proposer, proposer, "proposer of slot {}", facts.slot);
    }
    // The engine's own L1 reader (a second one: the engine holds its source behind the SlotSource trait).
    let reader = ChainSource::connect(&net.node_url, &net.l1_url).await.expect("the reader connects");
    // The escape hatch as the contracts have it: the epoch's hatch (getEscapeHatchForEpoch), then
    // whether it is open (isHatchOpen).
    let words = chain.l1.eth_call(chain.rollup, "15d3bc7b", &[word(first_epoch.0)]).await.unwrap();
    let hatch = Address::from_slice(&words[0][12..]);
    let open = match hatch.is_zero() {
        true => None,
        false => Some(chain.l1.uint(hatch, "3a30aefe", &[word(first_epoch.0)]).await == 1),
    };
    assert_eq!(
        reader.l1().hatch_open(first_epoch).await.unwrap(),
        open,
        "the escape hatch of epoch {first_epoch}"
    );
    eprintln!("localnet: escape hatch of epoch {first_epoch}: {hatch:#x}, open {open:?}");
    for &validator in &net.validators {
        let status = chain.l1.uint(chain.rollup, "30ccebb5", &[address_word(validator)]).await; // getStatus(address)
        let seen = reader.l1().attester_status(validator).await.unwrap();
        assert_eq!(seen as u64, status, "status of {validator:#x}");
    }
    until("the engine's checkpoint tips to equal the Rollup's", run.deadline, || async {
        let pending = chain.l1.uint(chain.rollup, "9891be8e", &[]).await; // getPendingCheckpointNumber()
        let proven = chain.l1.uint(chain.rollup, "1f8352e9", &[]).await; // getProvenCheckpointNumber()
        let tips = run.engine.handle().tips()?;
        (tips.pending == pending && tips.proven == proven && pending > 0).then_some(())
    })
    .await;
}

/// The offline validator's operator gets the miss alert and loses the performance role; the healthy
/// operators get neither and keep it.
async fn the_offline_validator_is_alerted_and_demoted(net: &Localnet, run: &Run) {
    let offline = net.offline[0];
    let operator = net.operator(offline);
    // Polled, not asserted once: another alert's DM (inactivity) can come first, and on a busy
    // machine one question to the engine can time out.
    until("the offline validator's miss alert and role removal", run.deadline, || async {
        let actions = run.actions_for(&operator);
        let alerted = actions.iter().any(
            |a| matches!(a, DiscordAction::DirectMessage { content, .. } if content.contains("attestation-misses")),
        );
        let removed = actions
            .iter()
            .any(|a| matches!(a, DiscordAction::RemoveRole { role, .. } if role == PERFORMANCE_ROLE));
        (alerted && removed && run.alert_firing(offline, "attestation-misses").await).then_some(())
    })
    .await;
    for &validator in net.validators.iter().filter(|v| !net.offline.contains(v)) {
        let operator = net.operator(validator);
        let touched = run.actions_for(&operator);
        assert!(touched.is_empty(), "{operator} runs a healthy validator: no removal, no alert: {touched:?}");
        let held = run.store.role_state(&operator, PERFORMANCE_ROLE).await.unwrap().expect("a role state");
        assert!(held.held, "{operator} keeps the performance role");
    }
}

/// A real `Slashed` from the real Rollup, called from the Slasher's own address (impersonated on
/// anvil): the slash alert and the slashed role within one slot. Returns how long after the receipt.
async fn a_real_slash_is_seen_within_a_slot(net: &Localnet, chain: &Chain, run: &Run) -> Duration {
    let (l1, rollup) = (&chain.l1, chain.rollup);
    let offline = net.offline[0];
    let operator = net.operator(offline);
    let slasher = Address::from_slice(&l1.eth_call(rollup, "d0c80f13", &[]).await.unwrap()[0][12..]); // getSlasher()
    let slasher_hex = format!("{slasher:#x}");
    l1.call("anvil_impersonateAccount", json!([slasher_hex])).await.unwrap();
    l1.call("anvil_setBalance", json!([slasher_hex, "0x56bc75e2d63100000"])).await.unwrap();
    // slash(address, uint256) with 1e18: small enough to leave the validator in the set.
    let data = format!(
        "0x02fb4d85{}{}",
        hex::encode(address_word(offline)),
        hex::encode(word(1_000_000_000_000_000_000))
    );
    let tx = l1
        .call(
            "eth_sendTransaction",
            json!([{"from": slasher_hex, "to": format!("{rollup:#x}"), "data": data}]),
        )
        .await
        .expect("slash(attester, amount) from the Slasher");
    let receipt = until("the slash transaction's receipt", run.deadline, || async {
        l1.call("eth_getTransactionReceipt", json!([tx])).await.ok().filter(|r| !r.is_null())
    })
    .await;
    let mined_at = Instant::now();
    assert_eq!(receipt["status"], "0x1", "the slash reverted: {receipt}");
    let slashed_topic = "0x4ed05e9673c26d2ed44f7ef6a7f2942df0ee3b5e1e17db4b99f9dcd261a339cd";
    assert!(
        receipt["logs"].as_array().unwrap().iter().any(|l| l["topics"][0] == slashed_topic),
        "the Rollup emitted Slashed: {receipt}"
    );
    let slashed_role = run.engine.context().config.slashed_role.clone();
    until("the slash alert and the slashed role", run.deadline, || async {
        let role = run
            .actions_for(&operator)
            .iter()
            .any(|a| matches!(a, DiscordAction::AddRole { role, .. } if *role == slashed_role));
        (role && run.alert_firing(offline, "slashed").await).then_some(())
    })
    .await;
    let seen_after = mined_at.elapsed();
    assert!(
        seen_after <= Duration::from_secs(chain.timing.slot_duration_s),
        "the slash took {seen_after:?} to reach the alert and the role, more than a slot"
    );
    seen_after
}
