//! What `sparta check` reports it looked for on the node and L1, found or missed.

use serde::Serialize;

use super::{ChainSource, SourceError};

/// One thing sparta needs or uses, and what it found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Capability {
    pub name: &'static str,
    pub found: bool,
    /// What answered (a method, a shape, an address), or why it is missing.
    pub detail: String,
}

impl Capability {
    fn found(name: &'static str, detail: impl Into<String>) -> Self {
        Self { name, found: true, detail: detail.into() }
    }

    fn missed(name: &'static str, detail: impl Into<String>) -> Self {
        Self { name, found: false, detail: detail.into() }
    }
}

impl ChainSource {
    /// What `sparta check` reports beside the chain's facts: each part of the node and L1 sparta
    /// reads, found or missed (the checkpoint shape and the slashing proposer are probed here).
    pub async fn capabilities(&mut self) -> Result<Vec<Capability>, SourceError> {
        let tips = self.node.chain_tips().await?;
        let sentinel = self.node.validators_stats().await?;
        let mut out = Vec::new();
        let dialect = self.node.dialect();
        out.push(match dialect.namespace {
            Some(ns) => Capability::found("node namespace", ns.prefix()),
            None => Capability::missed("node namespace", "neither aztec_ nor node_ answered"),
        });
        out.push(match dialect.tips {
            Some(tips) => Capability::found("chain tips", tips.method()),
            None => Capability::missed("chain tips", "neither getChainTips nor getL2Tips answered"),
        });
        out.push(match tips.checkpointed_checkpoint() {
            None => {
                Capability::missed("checkpoints", "a block-based node: outcomes come from the Sentinel alone")
            }
            Some(0) => Capability::found("checkpoints", "none on L1 yet"),
            Some(tip) => match self.node.checkpoints(tip, 1).await {
                Ok(_) => match self.node.dialect().checkpoints {
                    Some(shape) => Capability::found("checkpoints", shape.name()),
                    None => Capability::found("checkpoints", "the tip's checkpoint is not on L1 yet"),
                },
                Err(err) => Capability::missed("checkpoints", err.to_string()),
            },
        });
        out.push(if sentinel.sentinel_enabled() {
            Capability::found("sentinel", format!("{}-slot window", sentinel.slot_window))
        } else {
            Capability::missed(
                "sentinel",
                "the node runs without it: slots without a checkpoint cannot be judged",
            )
        });
        out.push(match self.l1.params().slashing_proposer {
            None => Capability::missed("slashing proposer", "no slasher, or it does not answer PROPOSER()"),
            Some(proposer) => match self.l1.tally_params().await {
                Ok(Some(p)) => Capability::found(
                    "slashing proposer",
                    format!("{proposer:#x}: quorum {} of {}-slot rounds", p.quorum, p.round_size),
                ),
                Ok(None) => Capability::missed("slashing proposer", format!("{proposer:#x} is not set up")),
                Err(err) => Capability::missed("slashing proposer", format!("{proposer:#x}: {err}")),
            },
        });
        Ok(out)
    }
}
