//! How a node spells its API, learned by probing rather than assumed from a version string.
//!
//! | | 2.x | 4.x | 5.x | 6.x |
//! |---|---|---|---|---|
//! | namespace | `node_` | `node_` | `aztec_` (`node_` a legacy alias) | `aztec_` (`node_` a legacy alias) |
//! | chain tips | `getL2Tips` (`latest`) | `getL2Tips` | `getChainTips` | `getChainTips` |
//! | checkpoints | none | `getCheckpoints(from, limit)` → `PublishedCheckpoint` | `getCheckpoints(from, limit, opts)` → `CheckpointResponse` | as 5.x |
//!
//! The client asks in the newest spelling first and falls back on "method not found", remembering
//! what answered, so one probe per method family per connection is all it costs.

use std::sync::atomic::{AtomicU8, Ordering};

use serde::Serialize;

/// The method namespace of the node's public API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Namespace {
    /// `aztec_*`, from 5.x.
    #[serde(rename = "aztec_")]
    Aztec,
    /// `node_*`, up to 4.x (and a legacy alias later).
    #[serde(rename = "node_")]
    Node,
}

impl Namespace {
    /// Newest first: the order the client probes in.
    pub const PROBE_ORDER: [Namespace; 2] = [Namespace::Aztec, Namespace::Node];

    pub fn prefix(self) -> &'static str {
        match self {
            Namespace::Aztec => "aztec_",
            Namespace::Node => "node_",
        }
    }
}

/// The method that answers the chain's tips.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum TipsMethod {
    /// `getChainTips`, from 5.x.
    #[serde(rename = "getChainTips")]
    ChainTips,
    /// `getL2Tips`, up to 4.x (removed in 5.x).
    #[serde(rename = "getL2Tips")]
    L2Tips,
}

impl TipsMethod {
    pub const PROBE_ORDER: [TipsMethod; 2] = [TipsMethod::ChainTips, TipsMethod::L2Tips];

    pub fn method(self) -> &'static str {
        match self {
            TipsMethod::ChainTips => "getChainTips",
            TipsMethod::L2Tips => "getL2Tips",
        }
    }
}

/// The shape of a `getCheckpoints` element ([`super::checkpoints`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum CheckpointShape {
    /// 4.x `PublishedCheckpoint`.
    #[serde(rename = "PublishedCheckpoint")]
    Published,
    /// 5.x/6.x `CheckpointResponse`.
    #[serde(rename = "CheckpointResponse")]
    Response,
}

impl CheckpointShape {
    pub const ALL: [CheckpointShape; 2] = [CheckpointShape::Published, CheckpointShape::Response];

    /// The node's own name for the shape.
    pub fn name(self) -> &'static str {
        match self {
            CheckpointShape::Published => "PublishedCheckpoint",
            CheckpointShape::Response => "CheckpointResponse",
        }
    }
}

/// What the probes found so far (`None`: not asked yet).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NodeDialect {
    pub namespace: Option<Namespace>,
    pub tips: Option<TipsMethod>,
    pub checkpoints: Option<CheckpointShape>,
}

impl NodeDialect {
    /// From 5.x on the node takes include-options on `getCheckpoints` (and answers without
    /// attestations or L1 data unless asked); older nodes refuse a third argument.
    pub fn checkpoint_options(&self) -> bool {
        self.namespace == Some(Namespace::Aztec) || self.tips == Some(TipsMethod::ChainTips)
    }
}

/// The dialect shared by a client's clones, learned once.
#[derive(Debug, Default)]
pub(crate) struct DialectCell {
    namespace: AtomicU8,
    tips: AtomicU8,
    checkpoints: AtomicU8,
}

impl DialectCell {
    pub fn get(&self) -> NodeDialect {
        NodeDialect {
            namespace: decode(self.namespace.load(Ordering::Relaxed), &Namespace::PROBE_ORDER),
            tips: decode(self.tips.load(Ordering::Relaxed), &TipsMethod::PROBE_ORDER),
            checkpoints: decode(self.checkpoints.load(Ordering::Relaxed), &CheckpointShape::ALL),
        }
    }

    pub fn set_checkpoints(&self, shape: CheckpointShape) {
        self.checkpoints.store(encode(shape, &CheckpointShape::ALL), Ordering::Relaxed);
    }

    pub fn set_namespace(&self, namespace: Namespace) {
        self.namespace.store(encode(namespace, &Namespace::PROBE_ORDER), Ordering::Relaxed);
    }

    pub fn set_tips(&self, tips: TipsMethod) {
        self.tips.store(encode(tips, &TipsMethod::PROBE_ORDER), Ordering::Relaxed);
    }
}

/// 0 is "unknown"; `i + 1` is the `i`-th choice.
fn encode<T: PartialEq>(value: T, choices: &[T]) -> u8 {
    choices.iter().position(|c| *c == value).map_or(0, |i| i as u8 + 1)
}

fn decode<T: Copy>(code: u8, choices: &[T]) -> Option<T> {
    code.checked_sub(1).and_then(|i| choices.get(i as usize)).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cell_remembers_what_answered() {
        let cell = DialectCell::default();
        assert_eq!(cell.get(), NodeDialect::default());
        assert!(!cell.get().checkpoint_options());
        cell.set_namespace(Namespace::Node);
        cell.set_tips(TipsMethod::L2Tips);
        assert_eq!(
            cell.get(),
            NodeDialect {
                namespace: Some(Namespace::Node),
                tips: Some(TipsMethod::L2Tips),
                checkpoints: None
            }
        );
        assert!(!cell.get().checkpoint_options(), "a 4.x node refuses a third getCheckpoints argument");
        cell.set_namespace(Namespace::Aztec);
        assert!(cell.get().checkpoint_options());
    }
}
