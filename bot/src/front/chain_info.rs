//! `/chain-info`: where the chain and the engine are, and how the network performs.

use std::fmt::Write as _;

use crate::interactions::handler::Reply;

use super::backend::{Backend, BackendError};
use super::format::{freshness, percent};

pub async fn answer(backend: &dyn Backend) -> Result<Reply, BackendError> {
    let chain = backend.chain().await?;
    let network = &chain.network;
    let rate = |missed: u64, total: u64| (total > 0).then(|| missed as f64 / total as f64);
    let checkpoint = |n: Option<u64>| n.map(|n| n.to_string()).unwrap_or_else(|| "unknown".into());
    let mut text =
        format!("**Chain** · epoch {} · slot {} (by the clock)\n", chain.clock_epoch, chain.clock_slot);
    let _ = writeln!(
        text,
        "• checkpoints: pending {} · proven {}",
        checkpoint(chain.pending_checkpoint),
        checkpoint(chain.proven_checkpoint)
    );
    if let Some(size) = chain.committee_size {
        let _ = writeln!(text, "• committee: {size} validators");
    }
    let _ = writeln!(
        text,
        "• network over the last {} slots: attestations {} missed ({}/{}), proposals {} missed ({}/{})",
        network.slots_processed,
        percent(rate(network.attestations_missed, network.attestations_total)),
        network.attestations_missed,
        network.attestations_total,
        percent(rate(network.proposals_missed, network.proposals_total)),
        network.proposals_missed,
        network.proposals_total,
    );
    let _ = writeln!(text, "• data {}", freshness(chain.as_of, backend.now_ms()));
    Ok(Reply::public(text))
}
