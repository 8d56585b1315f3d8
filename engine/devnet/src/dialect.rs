//! What each protocol generation's node and L1 look like on the wire: one table row per generation,
//! read by the servers, so a new generation is a new row (and its fixtures), not new branches.
//!
//! Built from the Aztec sources: 2.x and 4.x from the published packages (`@aztec/aztec-node` 2.0.3
//! and 4.1.2), 5.x and 6.x from `aztec-labs-eng/aztec-node` (register_node_rpc_handlers.ts,
//! stdlib/src/interfaces/aztec-node.ts and checkpoint_response.ts, stdlib/src/validators/schemas.ts,
//! foundation/src/json-rpc/server/safe_json_rpc_server.ts, SlashingProposer.sol) at ccc0823b08 and,
//! for the Solidity, 7ab220da1c.

use sparta_core::Generation;

/// How a node spells a slot number in Sentinel answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlotSpelling {
    /// A JSON number (a branded `SlotNumber`).
    Number,
    /// A decimal string (a `bigint`).
    DecimalString,
}

/// How `getCheckpoints` answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckpointAnswer {
    /// No checkpoints: a block-based chain.
    None,
    /// 4.x `PublishedCheckpoint[]`; a third argument fails validation.
    Published,
    /// 5.x/6.x `CheckpointResponse[]`, with `l1` and `attestations` only when asked for.
    Response,
}

/// The `VoteCast` event the slashing proposer emits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VoteCastEvent {
    /// `VoteCast(uint256 indexed round, uint256 indexed slot, address indexed proposer)`.
    Indexed3,
    /// 6.x: with a non-indexed `uint256 voteIndex`.
    WithVoteIndex,
}

/// One generation's wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dialect {
    pub generation: Generation,
    /// `getNodeInfo.nodeVersion` (and the `x-aztec-packageversion` header).
    pub node_version: &'static str,
    /// The namespaces the public API answers in; the first is the one its own client sends.
    pub namespaces: &'static [&'static str],
    /// The method that answers the chain tips.
    pub tips_method: &'static str,
    pub checkpoints: CheckpointAnswer,
    pub slots: SlotSpelling,
    /// The field of `getValidatorStats` holding the per-epoch record.
    pub epoch_performance_field: &'static str,
    /// The code of an internal error (`-32600` before 5.2).
    pub internal_error: i64,
    /// `getNodeInfo` carries `txsLimits` (required from 5.x) and no longer `slashFactoryAddress`.
    pub node_info_v5: bool,
    pub vote_cast: VoteCastEvent,
}

pub const V2: Dialect = Dialect {
    generation: Generation::V2,
    node_version: "2.0.3-sparta-devnet",
    namespaces: &["node_"],
    tips_method: "getL2Tips",
    checkpoints: CheckpointAnswer::None,
    slots: SlotSpelling::DecimalString,
    epoch_performance_field: "allTimeProvenPerformance",
    internal_error: -32600,
    node_info_v5: false,
    vote_cast: VoteCastEvent::Indexed3,
};

pub const V4: Dialect = Dialect {
    generation: Generation::V4,
    node_version: "4.1.2-sparta-devnet",
    namespaces: &["node_"],
    tips_method: "getL2Tips",
    checkpoints: CheckpointAnswer::Published,
    slots: SlotSpelling::Number,
    epoch_performance_field: "allTimeProvenPerformance",
    internal_error: -32600,
    node_info_v5: false,
    vote_cast: VoteCastEvent::Indexed3,
};

/// Mainnet: 5.2 (its `SlashingProposer` predates the vote index).
pub const V5: Dialect = Dialect {
    generation: Generation::V5,
    node_version: "5.2.0-sparta-devnet",
    namespaces: &["aztec_", "node_"],
    tips_method: "getChainTips",
    checkpoints: CheckpointAnswer::Response,
    slots: SlotSpelling::Number,
    epoch_performance_field: "allTimeEpochPerformance",
    internal_error: -32603,
    node_info_v5: true,
    vote_cast: VoteCastEvent::Indexed3,
};

/// Testnet: 6.0.
pub const V6: Dialect = Dialect {
    generation: Generation::V6,
    node_version: "6.0.0-rc.1-sparta-devnet",
    vote_cast: VoteCastEvent::WithVoteIndex,
    ..V5
};

impl Dialect {
    pub fn of(generation: Generation) -> &'static Dialect {
        match generation {
            Generation::V2 => &V2,
            Generation::V4 => &V4,
            Generation::V5 => &V5,
            Generation::V6 => &V6,
        }
    }

    /// The method name without its namespace, when `full` is in one this node answers.
    pub fn method<'a>(&self, full: &'a str) -> Option<&'a str> {
        self.namespaces.iter().find_map(|ns| full.strip_prefix(ns))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_generation_has_its_row_and_its_version_names_it() {
        for generation in Generation::ALL {
            let dialect = Dialect::of(generation);
            assert_eq!(dialect.generation, generation);
            assert_eq!(Generation::from_node_version(dialect.node_version), Some(generation));
        }
    }

    #[test]
    fn v5_answers_in_both_namespaces_v4_only_in_its_own() {
        assert_eq!(V5.method("aztec_getChainTips"), Some("getChainTips"));
        assert_eq!(V5.method("node_getChainTips"), Some("getChainTips"), "the legacy alias");
        assert_eq!(V4.method("aztec_getL2Tips"), None);
        assert_eq!(V4.method("node_getL2Tips"), Some("getL2Tips"));
    }
}
