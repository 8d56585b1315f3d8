//! The outbox publisher: the only actor that talks to Discord. It claims due entries from the store's
//! outbox, delivers each through the sink under its idempotency key and settles it: delivered,
//! retried later with exponential backoff, or rejected for good.
//!
//! Deciders (role assigner, alert publisher) only write decisions; a decision that committed is
//! delivered even if the engine dies right after, because the entry waits in the store. An entry whose
//! delivery was cut short by a crash is claimed again once its lease expires.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use serde::{Deserialize, Serialize};
use sparta_bot::DiscordAction;
use sparta_store::{OutboxRecord, Settlement, StoreError};
use sparta_telemetry::catalog;
use tracing::{debug, warn};

use crate::context::EngineContext;

/// The `[engine.outbox]` settings.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboxConfig {
    /// A claimed entry is redelivered after this long if its publisher never settled it (crashed).
    pub lease_ms: u64,
    /// Due entries are looked for at least this often (retries become due between decisions; new
    /// decisions wake the publisher at once).
    pub poll_ms: u64,
    /// Entries claimed per store round trip.
    pub batch: usize,
    /// First retry delay; doubled per attempt up to `max_retry_ms`.
    pub retry_ms: u64,
    pub max_retry_ms: u64,
    /// After this many failed attempts an entry is rejected (and logged) instead of retried forever.
    pub max_attempts: u32,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self {
            lease_ms: 30_000,
            poll_ms: 5_000,
            batch: 32,
            retry_ms: 1_000,
            max_retry_ms: 300_000,
            max_attempts: 20,
        }
    }
}

impl OutboxConfig {
    /// When attempt `attempts` (1-based) failed transiently at `now_ms`, the next try is due then.
    pub fn retry_at(&self, now_ms: u64, attempts: u32) -> u64 {
        let doubled = self.retry_ms.saturating_mul(1u64 << attempts.saturating_sub(1).min(32));
        now_ms.saturating_add(doubled.min(self.max_retry_ms))
    }
}

pub enum PublisherMsg {
    /// Deliver what is due (sent after each decision, and by the poll timer).
    Drain,
    /// Deliver what is due, then answer with the backlog left (tests, status).
    Flush(RpcReplyPort<u64>),
}

pub struct OutboxPublisher;

pub struct PublisherState {
    ctx: Arc<EngineContext>,
}

pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or_default()
}

impl Actor for OutboxPublisher {
    type Msg = PublisherMsg;
    type State = PublisherState;
    type Arguments = Arc<EngineContext>;

    async fn pre_start(
        &self,
        myself: ActorRef<PublisherMsg>,
        ctx: Arc<EngineContext>,
    ) -> Result<PublisherState, ActorProcessingErr> {
        let every = Duration::from_millis(ctx.config.outbox.poll_ms.max(10));
        myself.send_interval(every, || PublisherMsg::Drain);
        // Whatever a previous run decided but did not deliver goes out first.
        myself.send_message(PublisherMsg::Drain)?;
        Ok(PublisherState { ctx })
    }

    async fn handle(
        &self,
        myself: ActorRef<PublisherMsg>,
        msg: PublisherMsg,
        state: &mut PublisherState,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            PublisherMsg::Drain => {
                if !drain(&state.ctx).await? {
                    myself.send_message(PublisherMsg::Drain)?;
                }
            }
            PublisherMsg::Flush(reply) => {
                while !drain(&state.ctx).await? {}
                let _ = reply.send(state.ctx.store.outbox_backlog().await?);
            }
        }
        Ok(())
    }
}

/// Delivers up to a few batches of due entries; false if more may be due (so other messages, like a
/// flush, are not starved by a long backlog).
async fn drain(ctx: &EngineContext) -> Result<bool, ActorProcessingErr> {
    let config = &ctx.config.outbox;
    for round in 0..8 {
        let claimed = match ctx.store.claim_outbox(now_ms(), config.lease_ms, config.batch.max(1)).await {
            Ok(claimed) => claimed,
            Err(StoreError::Fenced { .. }) => {
                warn!("leadership lost; the outbox is the new leader's");
                return Ok(true);
            }
            Err(e) => return Err(e.into()),
        };
        if claimed.is_empty() {
            // Counted only after deliveries, so an idle engine makes one store request per poll.
            if round > 0 {
                metrics::gauge!(catalog::DISCORD_OUTBOX_BACKLOG)
                    .set(ctx.store.outbox_backlog().await? as f64);
            }
            return Ok(true);
        }
        for record in claimed {
            deliver(ctx, record).await?;
        }
    }
    Ok(false)
}

async fn deliver(ctx: &EngineContext, record: OutboxRecord) -> Result<(), ActorProcessingErr> {
    let config = &ctx.config.outbox;
    let key = record.entry.key.as_str();
    let settlement = match serde_json::from_str::<DiscordAction>(&record.entry.payload) {
        Err(e) => Settlement::Rejected(format!("undecodable payload: {e}")),
        Ok(_) if !still_leading(ctx).await? => {
            // Not ours to send any more: leave the claim to expire for the new leader.
            warn!(key, "leadership lost; not sending");
            return Ok(());
        }
        Ok(action) if superseded(ctx, &action).await? => {
            Settlement::Rejected("superseded: a later decision changed this role again".into())
        }
        Ok(action) => match ctx.sink.deliver(key, &action).await {
            Ok(()) => Settlement::Delivered,
            Err(e) if e.is_retryable() && record.attempts < config.max_attempts => {
                warn!(key, attempts = record.attempts, error = %e, "delivery failed; will retry");
                Settlement::RetryAt(config.retry_at(now_ms(), record.attempts))
            }
            Err(e) => Settlement::Rejected(format!("{e} (after {} attempts)", record.attempts)),
        },
    };
    let outcome = match &settlement {
        Settlement::Delivered => "delivered",
        Settlement::RetryAt(_) => "retry",
        Settlement::Rejected(reason) => {
            warn!(key, reason, "delivery rejected; not retrying");
            "rejected"
        }
    };
    match ctx.store.settle_outbox(key, record.attempts, &settlement, now_ms()).await {
        Ok(()) => {
            metrics::counter!(catalog::DISCORD_OUTBOX_SETTLED_TOTAL, "outcome" => outcome).increment(1);
            debug!(key, outcome, "outbox entry settled");
            Ok(())
        }
        // Our lease ran out and another claim owns the entry now, or another instance leads: they settle it.
        Err(StoreError::Settle { reason, .. }) => {
            warn!(key, %reason, "outbox entry was claimed again while being delivered");
            Ok(())
        }
        Err(e @ StoreError::Fenced { .. }) => {
            warn!(key, error = %e, "sent, but leadership was lost before recording it");
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// The last check before a send: this engine's term is the lease's current one and not expired.
/// (A leader paused past its lease must not send what it claimed before the pause.)
async fn still_leading(ctx: &EngineContext) -> Result<bool, StoreError> {
    let Some(fence) = &ctx.leadership else { return Ok(true) };
    let lease = ctx.store.lease(&fence.lease).await?;
    Ok(lease.is_some_and(|l| l.token == fence.token && l.expires_ms > now_ms()))
}

/// A role change whose state was changed again since (e.g. a grant whose delivery a crash cut short,
/// redelivered after the revoke went out) must not be applied out of order.
async fn superseded(ctx: &EngineContext, action: &DiscordAction) -> Result<bool, StoreError> {
    let (user, role, grant) = match action {
        DiscordAction::AddRole { user, role, .. } => (user, role, true),
        DiscordAction::RemoveRole { user, role, .. } => (user, role, false),
        DiscordAction::DirectMessage { .. } | DiscordAction::ChannelPost { .. } => return Ok(false),
    };
    Ok(ctx.store.role_state(user, role).await?.is_some_and(|state| state.held != grant))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_the_cap() {
        let c = OutboxConfig { retry_ms: 1_000, max_retry_ms: 10_000, ..OutboxConfig::default() };
        assert_eq!(c.retry_at(0, 1), 1_000);
        assert_eq!(c.retry_at(0, 2), 2_000);
        assert_eq!(c.retry_at(0, 4), 8_000);
        assert_eq!(c.retry_at(0, 5), 10_000);
        assert_eq!(c.retry_at(5, 60), 10_005, "no overflow for many attempts");
    }
}
