//! The Ethereum JSON-RPC subset the engine needs: chain id, blocks, `eth_call`, `eth_getLogs`.
//!
//! Blocks and logs are built from alloy's own RPC types, so whatever alloy can read back it gets.
//! Block hashes are synthetic (derived from the seed and the number), not header hashes.

use std::sync::Arc;

use alloy::consensus::Header as ConsensusHeader;
use alloy::rpc::types::{Block, Filter, Header};
use alloy_primitives::{Address, B256, Bytes, U256, hex};
use serde_json::{Value, json};
use sparta_core::Slot;

use crate::jsonrpc::{RpcError, RpcHandler, as_u64, param};
use crate::l1_calls::Contracts;
use crate::l1_logs;
use crate::network::Network;

const GAS_LIMIT: u64 = 30_000_000;
const BASE_FEE_WEI: u64 = 1_000_000_000;

pub struct L1Rpc {
    network: Arc<Network>,
}

impl std::fmt::Debug for L1Rpc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("L1Rpc").field("network", &self.network).finish()
    }
}

impl RpcHandler for L1Rpc {
    fn call(&self, method: &str, params: &[Value]) -> Result<Option<Value>, RpcError> {
        let n = &self.network;
        let result = match method {
            "eth_chainId" => json!(format!("{:#x}", n.config().chain_id)),
            "net_version" => json!(n.config().chain_id.to_string()),
            "web3_clientVersion" => json!(format!("sparta-devnet/{}", env!("CARGO_PKG_VERSION"))),
            "eth_blockNumber" => json!(format!("{:#x}", n.l1_head())),
            "eth_getBlockByNumber" => match self.block_number(param(params, 0))? {
                Some(number) => self.block(number),
                None => Value::Null,
            },
            "eth_getBlockByHash" => {
                let hash = hash_param(params)?;
                l1_logs::find_block(n, hash).map_or(Value::Null, |b| self.block(b))
            }
            "eth_call" => self.eth_call(params)?,
            "eth_getLogs" => {
                let filter: Filter = param(params, 0)
                    .map(|f| serde_json::from_value(f.clone()))
                    .transpose()
                    .map_err(|e| RpcError::invalid_params(format!("filter: {e}")))?
                    .unwrap_or_default();
                serde_json::to_value(l1_logs::get_logs(n, &filter)?).map_err(internal)?
            }
            _ => return Err(RpcError::method_not_found(method)),
        };
        Ok(Some(result))
    }
}

impl L1Rpc {
    pub fn new(network: Arc<Network>) -> Self {
        Self { network }
    }

    /// A block parameter (number, tag, or EIP-1898 object); `None` for a block that does not exist yet.
    fn block_number(&self, value: Option<&Value>) -> Result<Option<u64>, RpcError> {
        let head = self.network.l1_head();
        let number = match value {
            None => head,
            Some(Value::String(tag)) if !tag.starts_with("0x") => match tag.as_str() {
                "latest" | "pending" | "safe" | "finalized" => head,
                "earliest" => 0,
                other => return Err(RpcError::invalid_params(format!("unknown block tag {other}"))),
            },
            Some(Value::Object(o)) if o.contains_key("blockNumber") => {
                return self.block_number(o.get("blockNumber"));
            }
            Some(v) => as_u64(v).ok_or_else(|| RpcError::invalid_params(format!("bad block number {v}")))?,
        };
        Ok((number <= head).then_some(number))
    }

    fn block(&self, number: u64) -> Value {
        let n = &self.network;
        let inner = ConsensusHeader {
            parent_hash: number.checked_sub(1).map_or(B256::ZERO, |p| n.l1_block_hash(p)),
            number,
            timestamp: n.l1_block_timestamp(number),
            gas_limit: GAS_LIMIT,
            base_fee_per_gas: Some(BASE_FEE_WEI),
            ..ConsensusHeader::default()
        };
        let header =
            Header { hash: n.l1_block_hash(number), inner, total_difficulty: Some(U256::ZERO), size: None };
        serde_json::to_value(Block::<alloy::rpc::types::Transaction>::empty(header)).unwrap_or(Value::Null)
    }

    fn eth_call(&self, params: &[Value]) -> Result<Value, RpcError> {
        let tx = param(params, 0).ok_or_else(|| RpcError::invalid_params("missing call object"))?;
        let to: Address = tx
            .get("to")
            .and_then(Value::as_str)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| RpcError::invalid_params("call object: missing or bad `to`"))?;
        let input = match tx.get("input").or_else(|| tx.get("data")).and_then(Value::as_str) {
            Some(s) => hex::decode(s).map_err(|e| RpcError::invalid_params(format!("call input: {e}")))?,
            None => Vec::new(),
        };
        let block =
            self.block_number(param(params, 1))?.ok_or_else(|| RpcError::new(-32000, "header not found"))?;
        // Before the Rollup's deploy block nothing has code: the call returns nothing.
        let Some(at) = self.network.slot_of_l1_block(block) else {
            return Ok(json!("0x"));
        };
        let out = Contracts { network: &self.network, at: Slot(at.0) }.call(to, &input)?;
        Ok(json!(Bytes::from(out)))
    }
}

fn hash_param(params: &[Value]) -> Result<B256, RpcError> {
    param(params, 0)
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| RpcError::invalid_params("expected a block hash"))
}

fn internal(e: serde_json::Error) -> RpcError {
    RpcError::new(-32603, format!("internal error: {e}"))
}
