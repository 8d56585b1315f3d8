//! A devnet on loopback driven by a manual clock, with raw JSON-RPC helpers.

use std::sync::Arc;

use serde_json::{Value, json};
use sparta_core::{ManualSlotClock, Slot, SlotClock};
use sparta_devnet::{Devnet, DevnetConfig, Generation, Network, RunningDevnet};

pub const GENESIS: u64 = 1_700_000_000;

pub fn config() -> DevnetConfig {
    DevnetConfig { genesis_time_s: GENESIS, ..DevnetConfig::default() }
}

/// A network without servers, with its clock at `slot`.
pub fn network_at(config: DevnetConfig, slot: u64) -> (Network, ManualSlotClock) {
    let clock = ManualSlotClock::at_slot(config.timing(), Slot(slot));
    let network = Network::new(config, Arc::new(clock.clone()) as Arc<dyn SlotClock>).expect("valid config");
    (network, clock)
}

pub struct Harness {
    pub clock: ManualSlotClock,
    pub devnet: RunningDevnet,
    http: reqwest::Client,
}

impl Harness {
    pub async fn start(protocol: Generation, slot: u64) -> Self {
        let config = DevnetConfig { protocol, ..config() };
        let clock = ManualSlotClock::at_slot(config.timing(), Slot(slot));
        let devnet = Devnet::start(config, Arc::new(clock.clone())).await.expect("devnet starts");
        Self { clock, devnet, http: reqwest::Client::new() }
    }

    pub fn set_slot(&self, slot: u64) {
        self.clock.set_slot(Slot(slot));
    }

    /// POSTs a raw body; returns the parsed JSON answer.
    pub async fn post(&self, url: &str, body: String) -> Value {
        let response = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request sent");
        assert!(response.status().is_success(), "HTTP {}", response.status());
        response.json().await.expect("JSON answer")
    }

    /// The whole response object of one call.
    pub async fn node_call(&self, method: &str, params: Value) -> Value {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        self.post(&self.devnet.node_url, body.to_string()).await
    }

    pub async fn l1_call(&self, method: &str, params: Value) -> Value {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        self.post(&self.devnet.l1_url, body.to_string()).await
    }

    /// The `result` of a node call that must succeed.
    pub async fn node(&self, method: &str, params: Value) -> Value {
        let response = self.node_call(method, params).await;
        assert!(response.get("error").is_none(), "{method} failed: {response}");
        response["result"].clone()
    }

    pub async fn l1(&self, method: &str, params: Value) -> Value {
        let response = self.l1_call(method, params).await;
        assert!(response.get("error").is_none(), "{method} failed: {response}");
        response["result"].clone()
    }

    pub async fn stop(self) {
        self.devnet.shutdown().await;
    }
}

/// Lower-case `0x` hex of an address, as the node writes it.
pub fn hex_addr(a: &alloy_primitives::Address) -> String {
    format!("{a:#x}")
}
