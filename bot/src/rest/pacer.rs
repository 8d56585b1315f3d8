//! Keeps the client under Discord's global limit before it is hit. Serenity's limiter paces each
//! route from the headers, but it learns of the global limit only from a global 429 and does not
//! hold its global lock across requests. A request serenity repeats after a 429 stays inside the
//! turn of the call that made it; it waited `retry_after` first, so it adds at most one request per
//! 429 (callers who need a hard margin set `global_per_s` below Discord's 50).

use std::time::Duration;

use tokio::sync::{Mutex, MutexGuard};
use tokio::time::Instant;

/// Hands out turns: one request at a time, turns at least `1 / per_s` seconds apart.
#[derive(Debug)]
pub struct Pacer {
    interval: Duration,
    next: Mutex<Instant>,
}

impl Pacer {
    pub fn new(per_s: u32) -> Self {
        let interval = Duration::from_secs(1).checked_div(per_s.max(1)).unwrap_or_default();
        Self { interval, next: Mutex::new(Instant::now()) }
    }

    /// Waits for a turn; the turn lasts while the guard lives, so requests never overlap.
    pub async fn turn(&self) -> MutexGuard<'_, Instant> {
        let mut next = self.next.lock().await;
        tokio::time::sleep_until(*next).await;
        *next = Instant::now() + self.interval;
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn turns_are_spaced_by_the_rate() {
        let pacer = Pacer::new(100);
        let start = Instant::now();
        for _ in 0..6 {
            drop(pacer.turn().await);
        }
        // The first turn is immediate, the next five wait 10 ms each.
        assert!(start.elapsed() >= Duration::from_millis(50), "{:?}", start.elapsed());
    }

    #[tokio::test]
    async fn a_turn_excludes_the_next() {
        let pacer = std::sync::Arc::new(Pacer::new(1000));
        let held = pacer.turn().await;
        let waiter = tokio::spawn({
            let pacer = pacer.clone();
            async move { drop(pacer.turn().await) }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished());
        drop(held);
        tokio::time::timeout(Duration::from_secs(1), waiter).await.unwrap().unwrap();
    }
}
