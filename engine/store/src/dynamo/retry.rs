//! Batch writes that survive partial success: DynamoDB may accept only part of a `BatchWriteItem` and hand
//! the rest back as `UnprocessedItems`, which the SDK does not retry. This loop resends them with capped
//! exponential backoff and full jitter, for a bounded number of attempts.

use std::future::Future;
use std::time::Duration;

use rand::Rng;

/// The most requests one `BatchWriteItem` call may carry.
pub(crate) const BATCH_WRITE_LIMIT: usize = 25;

/// How hard to retry unprocessed items.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    /// Calls per chunk, the first one included.
    pub max_attempts: u32,
    pub base: Duration,
    pub cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self { max_attempts: 8, base: Duration::from_millis(50), cap: Duration::from_secs(5) }
    }
}

impl Backoff {
    /// Full jitter: a random delay up to `min(cap, base * 2^retry)`, so many writers do not retry in step.
    pub(crate) fn delay(&self, retry: u32) -> Duration {
        let ceiling = self.base.saturating_mul(2u32.saturating_pow(retry.min(20))).min(self.cap);
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(rand::rng().random_range(0..=nanos))
    }
}

/// Why a batch write gave up.
#[derive(Debug)]
pub(crate) enum BatchFailure<E> {
    /// The call itself failed (after the SDK's own retries).
    Call(E),
    /// Items were still unprocessed after every attempt.
    Exhausted { unprocessed: usize, attempts: u32 },
}

/// Sends `items` in chunks of at most `chunk` through `send`, which returns the items it could not
/// process; those are resent after a backoff until none remain or the attempts run out.
pub(crate) async fn write_all<T, E, F, Fut>(
    items: Vec<T>,
    chunk: usize,
    backoff: Backoff,
    mut send: F,
) -> Result<(), BatchFailure<E>>
where
    F: FnMut(Vec<T>) -> Fut,
    Fut: Future<Output = Result<Vec<T>, E>>,
{
    let mut items = items.into_iter().peekable();
    while items.peek().is_some() {
        let mut pending: Vec<T> = items.by_ref().take(chunk.max(1)).collect();
        let mut attempt = 1;
        loop {
            pending = send(pending).await.map_err(BatchFailure::Call)?;
            if pending.is_empty() {
                break;
            }
            if attempt >= backoff.max_attempts {
                return Err(BatchFailure::Exhausted { unprocessed: pending.len(), attempts: attempt });
            }
            metrics::counter!(super::attempts::RETRIES_METRIC, "op" => "BatchWriteItem", "reason" => "unprocessed")
                .increment(pending.len() as u64);
            tokio::time::sleep(backoff.delay(attempt - 1)).await;
            attempt += 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: Backoff =
        Backoff { max_attempts: 4, base: Duration::from_millis(1), cap: Duration::from_millis(2) };

    #[tokio::test]
    async fn unprocessed_items_are_resent_until_written() {
        let mut calls: Vec<Vec<u32>> = Vec::new();
        let mut written = Vec::new();
        let result: Result<(), BatchFailure<()>> = write_all((0..60).collect(), 25, FAST, |chunk| {
            calls.push(chunk.clone());
            // The first response of each chunk leaves its last two items unprocessed.
            let first_try = calls.iter().filter(|c| c.first() == chunk.first()).count() == 1;
            let (done, back) = if first_try && chunk.len() > 2 {
                let split = chunk.len() - 2;
                (chunk[..split].to_vec(), chunk[split..].to_vec())
            } else {
                (chunk, Vec::new())
            };
            written.extend(done);
            async move { Ok(back) }
        })
        .await;
        assert!(result.is_ok());
        written.sort_unstable();
        assert_eq!(written, (0..60).collect::<Vec<_>>(), "every item written exactly once");
        let sizes: Vec<usize> = calls.iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![25, 2, 25, 2, 10, 2], "chunks of 25, each followed by its retry");
    }

    #[tokio::test]
    async fn items_never_processed_give_a_bounded_error() {
        let mut calls = 0;
        let result: Result<(), BatchFailure<()>> = write_all(vec![1, 2, 3], 25, FAST, |chunk| {
            calls += 1;
            async move { Ok(chunk) }
        })
        .await;
        match result {
            Err(BatchFailure::Exhausted { unprocessed: 3, attempts: 4 }) => {}
            other => panic!("expected Exhausted after 4 attempts, got {other:?}"),
        }
        assert_eq!(calls, 4);
    }

    #[tokio::test]
    async fn a_failed_call_stops_the_write() {
        let result = write_all(vec![1, 2, 3], 2, FAST, |_chunk| async { Err::<Vec<u32>, _>("boom") }).await;
        assert!(matches!(result, Err(BatchFailure::Call("boom"))));
    }

    #[test]
    fn delays_grow_and_stay_under_the_cap() {
        let b = Backoff { max_attempts: 10, base: Duration::from_millis(10), cap: Duration::from_millis(80) };
        for retry in 0..30 {
            let ceiling = Duration::from_millis(10 * 2u64.pow(retry.min(3))).min(b.cap);
            assert!(b.delay(retry) <= ceiling, "retry {retry}");
        }
    }
}
