//! The accept loop: hands each connection a slot of the general pool or, when that is full, of the
//! health reserve; closes it at once when both are full.
//!
//! The loop never waits for a slot: a connection left in the kernel's backlog holds a file and keeps
//! the health check that queued behind it from being answered, so refusing fast is what keeps health
//! checks (and the rest of the process's files) available while idle clients hold every slot.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use super::connection::{self, ConnSettings};
use super::limits::{Caps, ServerLimits};
use crate::catalog;

/// The pause after an accept error such as EMFILE, which would recur at once in a tight loop.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// How often a repeated warning (accept errors, refusals) is logged at most.
const WARN_EVERY: Duration = Duration::from_secs(5);

/// Accepts until `stop` resolves, then stops accepting, lets every connection finish its request in
/// flight (for at most the limits' drain time) and returns.
pub(super) async fn run(
    listener: TcpListener,
    router: Router,
    limits: ServerLimits,
    caps: Caps,
    stop: impl Future<Output = ()>,
) {
    let general = Arc::new(Semaphore::new(caps.general));
    let reserve = Arc::new(Semaphore::new(caps.reserve));
    let (general_conn, health_conn) = (ConnSettings::general(&limits), ConnSettings::health(&limits));
    let (stopping, stop_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut accept_errors = Throttle::default();
    let mut refusals = Throttle::default();
    let mut stop = std::pin::pin!(stop);

    loop {
        let accepted = tokio::select! {
            biased;
            () = &mut stop => break,
            Some(_) = connections.join_next() => continue,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _peer)) => stream,
            // The client gave up while in the backlog: nothing is wrong with the listener.
            Err(error) if is_per_connection(&error) => continue,
            Err(error) => {
                if let Some(suppressed) = accept_errors.due() {
                    tracing::warn!(%error, suppressed, "cannot accept connections; backing off");
                }
                tokio::select! {
                    () = &mut stop => break,
                    () = tokio::time::sleep(ACCEPT_BACKOFF) => continue,
                }
            }
        };
        let admitted = match general.clone().try_acquire_owned() {
            Ok(permit) => Some((permit, general_conn)),
            Err(_) => reserve.clone().try_acquire_owned().ok().map(|permit| (permit, health_conn)),
        };
        let Some((permit, settings)) = admitted else {
            drop(stream);
            metrics::counter!(catalog::TELEMETRY_CONNECTIONS_REFUSED_TOTAL).increment(1);
            if let Some(suppressed) = refusals.due() {
                tracing::warn!(
                    general = caps.general,
                    reserve = caps.reserve,
                    suppressed,
                    "every connection slot is taken; closing new connections"
                );
            }
            continue;
        };
        let (router, stop_rx) = (router.clone(), stop_rx.clone());
        connections.spawn(async move {
            connection::serve(stream, router, settings, stop_rx).await;
            drop(permit);
        });
    }

    // Closing the listener refuses new connections at the kernel; then the open ones are told to end.
    drop(listener);
    let _ = stopping.send(true);
    drain(connections, limits.drain_timeout()).await;
}

/// Waits for every connection to end, dropping those still open after `limit`.
async fn drain(mut connections: JoinSet<()>, limit: Duration) {
    let all_ended = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(limit, all_ended).await.is_err() {
        tracing::warn!(left = connections.len(), ?limit, "dropping connections still open at shutdown");
        connections.shutdown().await;
    }
}

/// Errors that concern one connection, not the listener (accept(2) lists them as retry-at-once).
fn is_per_connection(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
    )
}

/// Lets a repeated warning through once per [`WARN_EVERY`], counting the ones held back.
#[derive(Default)]
struct Throttle {
    last: Option<Instant>,
    suppressed: u64,
}

impl Throttle {
    /// `Some(held back since the last one)` when a warning may be logged now.
    fn due(&mut self) -> Option<u64> {
        let now = Instant::now();
        if self.last.is_some_and(|last| now.duration_since(last) < WARN_EVERY) {
            self.suppressed += 1;
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.suppressed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_warning_is_let_through_once_per_period() {
        let mut throttle = Throttle::default();
        assert_eq!(throttle.due(), Some(0));
        assert_eq!(throttle.due(), None);
        assert_eq!(throttle.due(), None);
        throttle.last = Some(Instant::now() - WARN_EVERY);
        assert_eq!(throttle.due(), Some(2), "reports what it held back");
    }
}
