//! The fixed L1 contract addresses of a simulated network (derived from its seed).

use alloy_primitives::Address;
use serde::Serialize;

use crate::derive;

/// Every L1 address the node reports in `l1ContractAddresses`; the simulated L1 answers calls to
/// the first five.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct L1Addresses {
    pub registry_address: Address,
    pub rollup_address: Address,
    pub gse_address: Address,
    pub slasher_address: Address,
    /// The TallySlashingProposer (`Slasher.PROPOSER()`).
    pub slashing_proposer_address: Address,
    pub inbox_address: Address,
    pub outbox_address: Address,
    pub fee_juice_address: Address,
    pub staking_asset_address: Address,
    pub fee_juice_portal_address: Address,
    pub coin_issuer_address: Address,
    pub reward_distributor_address: Address,
    pub governance_proposer_address: Address,
    pub governance_address: Address,
    pub slash_factory_address: Address,
}

impl L1Addresses {
    pub fn derive(seed: u64) -> Self {
        let a = |name: &str| derive::address(seed, name, 0);
        Self {
            registry_address: a("registry"),
            rollup_address: a("rollup"),
            gse_address: a("gse"),
            slasher_address: a("slasher"),
            slashing_proposer_address: a("tally-slashing-proposer"),
            inbox_address: a("inbox"),
            outbox_address: a("outbox"),
            fee_juice_address: a("fee-juice"),
            staking_asset_address: a("staking-asset"),
            fee_juice_portal_address: a("fee-juice-portal"),
            coin_issuer_address: a("coin-issuer"),
            reward_distributor_address: a("reward-distributor"),
            governance_proposer_address: a("governance-proposer"),
            governance_address: a("governance"),
            slash_factory_address: a("slash-factory"),
        }
    }
}
