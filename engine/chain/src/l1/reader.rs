//! Reads the Rollup (resolved through the Registry) and its slashing proposer over Ethereum JSON-RPC.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::Filter;
use alloy_primitives::{Address, U256};
use alloy_sol_types::SolError;
use serde::Serialize;
use sparta_core::{AttesterStatus, ChainTiming, Epoch, Slot};

use alloy::rpc::client::RpcClient;

use super::abi::{
    IEscapeHatch, IRegistry, IRollup, ISlasher, ValidatorSelection__InsufficientCommitteeSize,
    ValidatorSelection__InsufficientValidatorSetSize,
};
use super::error::L1Error;
use super::events::{L1Event, decode_log, known_topics};
use crate::instrument::timed;
use crate::transport::{BoundedHttp, HttpLimits};

pub const DEFAULT_TIMEOUT: Duration = crate::transport::DEFAULT_TIMEOUT;
/// Many L1 providers cap `eth_getLogs` ranges; 2,000 blocks passes all common limits.
pub const DEFAULT_LOG_CHUNK_BLOCKS: u64 = 2_000;

/// The rollup's parameters, read once at connect time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct RollupParams {
    pub chain_id: u64,
    pub registry: Address,
    pub rollup: Address,
    pub genesis_time: u64,
    pub slot_duration: u64,
    pub epoch_duration: u64,
    pub target_committee_size: u64,
    /// The rollup's deploy block: where log scans start.
    pub l1_block_at_genesis: u64,
    pub slasher: Address,
    /// The slashing proposer (`Slasher.PROPOSER()`); `None` when slashing is not set up.
    pub slashing_proposer: Option<Address>,
}

impl RollupParams {
    pub fn timing(&self) -> ChainTiming {
        ChainTiming {
            genesis_time_s: self.genesis_time,
            slot_duration_s: self.slot_duration,
            epoch_duration_slots: self.epoch_duration,
        }
    }
}

pub struct L1Reader {
    url: String,
    provider: DynProvider,
    rollup: IRollup::IRollupInstance<DynProvider>,
    params: RollupParams,
    log_chunk_blocks: u64,
    /// Committees never change once an epoch is stable, so each is read once.
    committees: Mutex<HashMap<Epoch, Arc<[Address]>>>,
    /// Whether the escape hatch is open, per epoch read (`None`: the rollup has no escape hatch).
    hatches: Mutex<HashMap<Epoch, Option<bool>>>,
}

impl std::fmt::Debug for L1Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("L1Reader")
            .field("url", &crate::redact::shown_url(&self.url))
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl L1Reader {
    /// Connects and resolves the canonical rollup through `registry`.
    pub async fn connect(l1_url: &str, registry: Address) -> Result<Self, L1Error> {
        Self::connect_with(l1_url, registry, HttpLimits::default()).await
    }

    pub async fn connect_with_timeout(
        l1_url: &str,
        registry: Address,
        timeout: Duration,
    ) -> Result<Self, L1Error> {
        Self::connect_with(l1_url, registry, HttpLimits::default().with_timeout(timeout)).await
    }

    /// Connects with every answer held to `limits`.
    pub async fn connect_with(l1_url: &str, registry: Address, limits: HttpLimits) -> Result<Self, L1Error> {
        let invalid = |reason: String| L1Error::InvalidUrl { url: crate::redact::shown_url(l1_url), reason };
        let url = reqwest::Url::parse(l1_url).map_err(|e| invalid(e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid(format!("scheme {:?} is not http or https", url.scheme())));
        }
        let transport = BoundedHttp::new(url, limits).map_err(|e| invalid(e.without_url().to_string()))?;
        let client = RpcClient::new(transport, false);
        let provider = ProviderBuilder::new().disable_recommended_fillers().connect_client(client).erased();

        let chain_id =
            provider.get_chain_id().await.map_err(|e| L1Error::from_transport("eth_chainId", l1_url, e))?;
        let call = |f: &'static str| move |e| L1Error::from_call(f, l1_url, e);
        let rollup_address = IRegistry::new(registry, provider.clone())
            .getCanonicalRollup()
            .call()
            .await
            .map_err(call("getCanonicalRollup"))?;
        if rollup_address.is_zero() {
            return Err(L1Error::NoRollup { registry });
        }
        let rollup = IRollup::new(rollup_address, provider.clone());
        let genesis_time =
            narrow("getGenesisTime", rollup.getGenesisTime().call().await.map_err(call("getGenesisTime"))?)?;
        let slot_duration = narrow(
            "getSlotDuration",
            rollup.getSlotDuration().call().await.map_err(call("getSlotDuration"))?,
        )?;
        let epoch_duration = narrow(
            "getEpochDuration",
            rollup.getEpochDuration().call().await.map_err(call("getEpochDuration"))?,
        )?;
        let target_committee_size = narrow(
            "getTargetCommitteeSize",
            rollup.getTargetCommitteeSize().call().await.map_err(call("getTargetCommitteeSize"))?,
        )?;
        let l1_block_at_genesis = narrow(
            "L1_BLOCK_AT_GENESIS",
            rollup.L1_BLOCK_AT_GENESIS().call().await.map_err(call("L1_BLOCK_AT_GENESIS"))?,
        )?;
        let timing = ChainTiming {
            genesis_time_s: genesis_time,
            slot_duration_s: slot_duration,
            epoch_duration_slots: epoch_duration,
        };
        plausible_parameters(timing, target_committee_size, now_s())?;
        let slasher = rollup.getSlasher().call().await.map_err(call("getSlasher"))?;
        let slashing_proposer = slashing_proposer(&provider, slasher).await;
        let params = RollupParams {
            chain_id,
            registry,
            rollup: rollup_address,
            genesis_time,
            slot_duration,
            epoch_duration,
            target_committee_size,
            l1_block_at_genesis,
            slasher,
            slashing_proposer,
        };
        tracing::debug!(?params, "connected to L1");
        Ok(Self {
            url: l1_url.to_owned(),
            provider,
            rollup,
            params,
            log_chunk_blocks: DEFAULT_LOG_CHUNK_BLOCKS,
            committees: Mutex::default(),
            hatches: Mutex::default(),
        })
    }

    /// How many blocks one `eth_getLogs` request may span (at least 1).
    pub fn with_log_chunk_blocks(mut self, blocks: u64) -> Self {
        self.log_chunk_blocks = blocks.max(1);
        self
    }

    pub fn params(&self) -> &RollupParams {
        &self.params
    }

    pub fn timing(&self) -> ChainTiming {
        self.params.timing()
    }

    /// Fails unless the L1 node is on `expected`.
    pub fn ensure_chain(&self, expected: u64) -> Result<(), L1Error> {
        if self.params.chain_id == expected {
            Ok(())
        } else {
            Err(L1Error::WrongChain { expected, actual: self.params.chain_id })
        }
    }

    /// The epoch's committee in L1 order; empty when there is none (no validators, or not yet
    /// stable). Only a successful answer is cached: a revert may turn into a committee later.
    pub async fn committee(&self, epoch: Epoch) -> Result<Arc<[Address]>, L1Error> {
        if let Some(hit) = self.committees.lock().unwrap_or_else(|p| p.into_inner()).get(&epoch) {
            return Ok(hit.clone());
        }
        let call = self.rollup.getEpochCommittee(U256::from(epoch.0));
        // A revert is an answer here (no committee yet), so it is not counted as a failed call.
        let answer = timed("l1", "getEpochCommittee", async {
            match call.call().await.map_err(|e| self.call_error("getEpochCommittee", e)) {
                Ok(list) => Ok(Some(list)),
                Err(err) if err.is_revert() => {
                    tracing::debug!(%epoch, %err, "no committee for the epoch");
                    Ok(None)
                }
                Err(err) => Err(err),
            }
        });
        let Some(list) = answer.await? else { return Ok(Arc::from([])) };
        let committee: Arc<[Address]> = list.into();
        self.committees.lock().unwrap_or_else(|p| p.into_inner()).insert(epoch, committee.clone());
        Ok(committee)
    }

    /// Whether the escape hatch is open in `epoch` (a settled one: the answer is final, so it is read
    /// once); `None` when the rollup has none (2.x, or none configured).
    pub async fn hatch_open(&self, epoch: Epoch) -> Result<Option<bool>, L1Error> {
        if let Some(hit) = self.hatches.lock().unwrap_or_else(|p| p.into_inner()).get(&epoch) {
            return Ok(*hit);
        }
        let at = U256::from(epoch.0);
        let lookup = self.rollup.getEscapeHatchForEpoch(at);
        let hatch = timed("l1", "getEscapeHatchForEpoch", async {
            match lookup.call().await.map_err(|e| self.call_error("getEscapeHatchForEpoch", e)) {
                Ok(hatch) => Ok((!hatch.is_zero()).then_some(hatch)),
                // A 2.x rollup has no such function.
                Err(err) if err.is_revert() => Ok(None),
                Err(err) => Err(err),
            }
        })
        .await?;
        let open = match hatch {
            None => None,
            Some(hatch) => {
                let call = IEscapeHatch::new(hatch, self.provider.clone());
                let ask = call.isHatchOpen(at);
                let answer = timed("l1", "isHatchOpen", async {
                    ask.call().await.map_err(|e| self.call_error("isHatchOpen", e))
                })
                .await?;
                Some(answer.isOpen)
            }
        };
        self.hatches.lock().unwrap_or_else(|p| p.into_inner()).insert(epoch, open);
        Ok(open)
    }

    /// Whether L1 itself explains an empty committee for `epoch`: it reverts with
    /// `InsufficientValidatorSetSize` (too few validators when the epoch was sampled), or the rollup
    /// asks for no committee at all. Any other empty answer (a future epoch, a bare revert, a lying
    /// provider) explains nothing.
    pub async fn empty_committee_sanctioned(&self, epoch: Epoch) -> Result<bool, L1Error> {
        if self.params.target_committee_size == 0 {
            return Ok(true);
        }
        let call = self.rollup.getEpochCommittee(U256::from(epoch.0));
        timed("l1", "getEpochCommittee", async {
            match call.call().await {
                // A list, even an empty one, is not how the contract says "too few validators".
                Ok(_) => Ok(false),
                Err(err) => {
                    let data = err.as_revert_data();
                    let err = self.call_error("getEpochCommittee", err);
                    if !err.is_revert() {
                        return Err(err);
                    }
                    let too_few = [
                        ValidatorSelection__InsufficientValidatorSetSize::SELECTOR,
                        ValidatorSelection__InsufficientCommitteeSize::SELECTOR,
                    ];
                    Ok(data.is_some_and(|data| too_few.iter().any(|selector| data.starts_with(selector))))
                }
            }
        })
        .await
    }

    /// The slot's proposer; `None` when there is no committee (anyone may propose).
    pub async fn proposer_at(&self, slot: Slot) -> Result<Option<Address>, L1Error> {
        let ts = self.timing().slot_start_s(slot);
        let call = self.rollup.getProposerAt(U256::from(ts));
        // As for committees, a revert means "no committee": an answer, not a failed call.
        timed("l1", "getProposerAt", async {
            match call.call().await.map_err(|e| self.call_error("getProposerAt", e)) {
                Ok(proposer) => Ok((!proposer.is_zero()).then_some(proposer)),
                Err(err) if err.is_revert() => Ok(None),
                Err(err) => Err(err),
            }
        })
        .await
    }

    pub async fn attester_status(&self, attester: Address) -> Result<AttesterStatus, L1Error> {
        let call = self.rollup.getStatus(attester);
        let code = timed("l1", "getStatus", async {
            call.call().await.map_err(|e| self.call_error("getStatus", e))
        })
        .await?;
        Ok(AttesterStatus::from_code(code))
    }

    /// `(pending, proven)` checkpoint numbers (block numbers on a v2 rollup).
    pub async fn tips(&self) -> Result<(u64, u64), L1Error> {
        let call = self.rollup.getTips();
        let tips =
            timed("l1", "getTips", async { call.call().await.map_err(|e| self.call_error("getTips", e)) })
                .await?;
        Ok((narrow("getTips", tips.pending)?, narrow("getTips", tips.proven)?))
    }

    /// The L2 slot of the latest L1 block, by the Rollup's own arithmetic.
    pub async fn current_slot(&self) -> Result<Slot, L1Error> {
        let call = self.rollup.getCurrentSlot();
        let slot = timed("l1", "getCurrentSlot", async {
            call.call().await.map_err(|e| self.call_error("getCurrentSlot", e))
        })
        .await?;
        narrow("getCurrentSlot", slot).map(Slot)
    }

    pub async fn head_block(&self) -> Result<u64, L1Error> {
        let call = self.provider.get_block_number();
        timed("l1", "eth_blockNumber", async {
            call.await.map_err(|e| L1Error::from_transport("eth_blockNumber", &self.url, e))
        })
        .await
    }

    pub async fn active_attester_count(&self) -> Result<u64, L1Error> {
        let call = self.rollup.getActiveAttesterCount();
        let count = timed("l1", "getActiveAttesterCount", async {
            call.call().await.map_err(|e| self.call_error("getActiveAttesterCount", e))
        })
        .await?;
        narrow("getActiveAttesterCount", count)
    }

    /// The known Rollup and slashing-proposer logs in `[from_block, to_block]`, in chain order.
    pub async fn events(&self, from_block: u64, to_block: u64) -> Result<Vec<L1Event>, L1Error> {
        let mut addresses = vec![self.params.rollup];
        addresses.extend(self.params.slashing_proposer);
        let mut events = Vec::new();
        let mut start = from_block;
        while start <= to_block {
            let end = start.saturating_add(self.log_chunk_blocks - 1).min(to_block);
            let filter = Filter::new()
                .address(addresses.clone())
                .event_signature(known_topics())
                .from_block(start)
                .to_block(end);
            let logs = timed("l1", "eth_getLogs", async {
                self.provider
                    .get_logs(&filter)
                    .await
                    .map_err(|e| L1Error::from_transport("eth_getLogs", &self.url, e))
            })
            .await?;
            for log in logs.iter().filter(|log| !log.removed) {
                events.extend(decode_log(log)?);
            }
            if end == u64::MAX {
                break;
            }
            start = end + 1;
        }
        Ok(events)
    }

    pub(crate) fn provider(&self) -> &DynProvider {
        &self.provider
    }

    pub(crate) fn call_error(&self, function: &'static str, err: alloy::contract::Error) -> L1Error {
        L1Error::from_call(function, &self.url, err)
    }
}

/// The slasher's proposer; `None` when there is no slasher or it does not answer (slashing off).
async fn slashing_proposer(provider: &DynProvider, slasher: Address) -> Option<Address> {
    if slasher.is_zero() {
        return None;
    }
    match ISlasher::new(slasher, provider.clone()).PROPOSER().call().await {
        Ok(proposer) if !proposer.is_zero() => Some(proposer),
        Ok(_) => None,
        Err(e) => {
            tracing::warn!(%slasher, error = %e, "cannot read the slashing proposer; slashing votes are not followed");
            None
        }
    }
}

fn now_s() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs()
}

/// The bounds a real rollup's parameters fall in; outside them the provider is lying or broken, and
/// following would fill the store with nonsense slots.
pub mod bounds {
    /// Ethereum mainnet's genesis: no rollup is older.
    pub const EARLIEST_GENESIS_S: u64 = 1_438_269_973;
    /// A rollup's genesis is its deploy block's timestamp: not far in the future.
    pub const GENESIS_AHEAD_S: u64 = 86_400;
    pub const SLOT_DURATION_S: std::ops::RangeInclusive<u64> = 1..=3_600;
    pub const EPOCH_DURATION_SLOTS: std::ops::RangeInclusive<u64> = 1..=10_000;
    pub const MAX_COMMITTEE_SIZE: u64 = 10_000;
}

/// Refuses timing and committee parameters no rollup has, naming what is wrong.
pub fn plausible_parameters(timing: ChainTiming, committee_size: u64, now_s: u64) -> Result<(), L1Error> {
    let refuse = |function, detail| Err(L1Error::Implausible { function, detail });
    let genesis = timing.genesis_time_s;
    if genesis < bounds::EARLIEST_GENESIS_S || genesis > now_s.saturating_add(bounds::GENESIS_AHEAD_S) {
        return refuse(
            "getGenesisTime",
            format!("genesis time {genesis} is before Ethereum or a day ahead of now"),
        );
    }
    if !bounds::SLOT_DURATION_S.contains(&timing.slot_duration_s) {
        return refuse(
            "getSlotDuration",
            format!("slot duration {} s is outside 1..=3600", timing.slot_duration_s),
        );
    }
    if !bounds::EPOCH_DURATION_SLOTS.contains(&timing.epoch_duration_slots) {
        return refuse(
            "getEpochDuration",
            format!("epoch duration {} slots is outside 1..=10000", timing.epoch_duration_slots),
        );
    }
    if committee_size > bounds::MAX_COMMITTEE_SIZE {
        return refuse("getTargetCommitteeSize", format!("committee size {committee_size} is over 10000"));
    }
    Ok(())
}

fn narrow(function: &'static str, value: U256) -> Result<u64, L1Error> {
    u64::try_from(value)
        .map_err(|_| L1Error::Decode { function, detail: format!("{value} does not fit in 64 bits") })
}
