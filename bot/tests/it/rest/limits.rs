//! Discord's rate limits as the double plays them: a bucket per route and major parameter
//! (`limit` requests per `window`, the window starting at its first request), a global limit
//! (`global_per_s` in any second), and the `retry_after` windows it announced in 429s. A request
//! that arrives while its bucket is empty or inside an announced window is a violation: a client
//! honouring the headers never sends it.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

#[derive(Clone, Debug)]
pub struct Limits {
    pub bucket_limit: u32,
    pub bucket_window: Duration,
    pub global_per_s: u32,
}

#[derive(Debug)]
struct Bucket {
    /// Stands in for Discord's opaque bucket hash.
    id: String,
    window_end: Instant,
    used: u32,
    retry_until: Option<Instant>,
}

/// Why a request is refused with a 429 it should never have earned.
#[derive(Debug)]
pub struct Violation {
    pub reason: String,
    pub retry_after: Duration,
    pub global: bool,
}

/// The `X-RateLimit-*` headers of a response.
#[derive(Debug)]
pub struct BucketHeaders {
    pub limit: u32,
    pub remaining: u32,
    /// Rounded up to the millisecond, so a client waiting exactly this long arrives after the reset.
    pub reset_after: Duration,
    pub bucket: String,
}

impl BucketHeaders {
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let reset = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap() + self.reset_after;
        vec![
            ("x-ratelimit-limit", self.limit.to_string()),
            ("x-ratelimit-remaining", self.remaining.to_string()),
            ("x-ratelimit-reset", format!("{:.3}", reset.as_secs_f64())),
            ("x-ratelimit-reset-after", seconds(self.reset_after)),
            ("x-ratelimit-bucket", self.bucket.clone()),
        ]
    }
}

/// Seconds with millisecond precision, as Discord writes them.
pub fn seconds(duration: Duration) -> String {
    format!("{:.3}", duration.as_secs_f64())
}

/// `duration` rounded up to a whole millisecond.
pub fn ceil_ms(duration: Duration) -> Duration {
    Duration::from_millis(duration.as_nanos().div_ceil(1_000_000) as u64)
}

pub struct RateModel {
    limits: Limits,
    buckets: HashMap<String, Bucket>,
    recent: VecDeque<Instant>,
    global_retry_until: Option<Instant>,
}

impl RateModel {
    pub fn new(limits: Limits) -> Self {
        Self { limits, buckets: HashMap::new(), recent: VecDeque::new(), global_retry_until: None }
    }

    /// Admits a request to bucket `key` at `now` and counts it, or says which limit it broke.
    pub fn admit(&mut self, key: &str, now: Instant) -> Result<(), Violation> {
        if let Some(until) = self.global_retry_until.filter(|until| now < *until) {
            return Err(self.refuse(key, "inside the announced global retry_after", until - now, true, now));
        }
        let bucket = self.bucket(key, now);
        if let Some(until) = bucket.retry_until.filter(|until| now < *until) {
            return Err(self.refuse(
                key,
                "inside the bucket's announced retry_after",
                until - now,
                false,
                now,
            ));
        }
        while self.recent.front().is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1)) {
            self.recent.pop_front();
        }
        if self.recent.len() >= self.limits.global_per_s as usize {
            let wait = Duration::from_secs(1) - now.duration_since(self.recent[0]);
            return Err(self.refuse(key, "over the global limit", wait, true, now));
        }
        let limit = self.limits.bucket_limit;
        let bucket = self.bucket(key, now);
        if bucket.used >= limit {
            let wait = bucket.window_end - now;
            return Err(self.refuse(key, "while the bucket was exhausted", wait, false, now));
        }
        bucket.used += 1;
        self.recent.push_back(now);
        Ok(())
    }

    /// Announces a 429 wait: until `now + retry_after`, requests to `key` (every request, when
    /// `global`) are violations.
    pub fn announce(&mut self, key: &str, now: Instant, retry_after: Duration, global: bool) {
        let until = now + retry_after;
        if global {
            self.global_retry_until = Some(self.global_retry_until.map_or(until, |t| t.max(until)));
        } else {
            let bucket = self.bucket(key, now);
            bucket.retry_until = Some(bucket.retry_until.map_or(until, |t| t.max(until)));
        }
    }

    pub fn headers(&mut self, key: &str, now: Instant) -> BucketHeaders {
        let limit = self.limits.bucket_limit;
        let bucket = self.bucket(key, now);
        BucketHeaders {
            limit,
            remaining: limit.saturating_sub(bucket.used),
            reset_after: ceil_ms(bucket.window_end.saturating_duration_since(now)),
            bucket: bucket.id.clone(),
        }
    }

    fn refuse(&mut self, key: &str, what: &str, wait: Duration, global: bool, now: Instant) -> Violation {
        let retry_after = ceil_ms(wait);
        self.announce(key, now, retry_after, global);
        Violation { reason: format!("request {what} ({key})"), retry_after, global }
    }

    /// `key`'s bucket, its window restarted if it ended.
    fn bucket(&mut self, key: &str, now: Instant) -> &mut Bucket {
        let window = self.limits.bucket_window;
        let count = self.buckets.len();
        let bucket = self.buckets.entry(key.to_string()).or_insert_with(|| Bucket {
            id: format!("{:016x}", 0x9e37_79b9_7f4a_7c15_u64.wrapping_mul(count as u64 + 1)),
            window_end: now + window,
            used: 0,
            retry_until: None,
        });
        if now >= bucket.window_end {
            bucket.window_end = now + window;
            bucket.used = 0;
        }
        bucket
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> RateModel {
        RateModel::new(Limits { bucket_limit: 2, bucket_window: Duration::from_millis(100), global_per_s: 3 })
    }

    #[test]
    fn a_bucket_allows_its_limit_per_window() {
        let mut model = model();
        let t0 = Instant::now();
        model.admit("a", t0).unwrap();
        model.admit("a", t0).unwrap();
        let headers = model.headers("a", t0);
        assert_eq!((headers.limit, headers.remaining), (2, 0));
        assert_eq!(headers.reset_after, Duration::from_millis(100));
        let violation = model.admit("a", t0 + Duration::from_millis(40)).unwrap_err();
        assert!(!violation.global && violation.retry_after == Duration::from_millis(60), "{violation:?}");
        // The refusal announced a wait: the window's end, when the bucket is fresh again.
        model.admit("a", t0 + Duration::from_millis(100)).unwrap();
    }

    #[test]
    fn the_global_limit_spans_buckets_and_announced_waits_bind() {
        let mut model = model();
        let t0 = Instant::now();
        for key in ["a", "b", "c"] {
            model.admit(key, t0).unwrap();
        }
        assert!(model.admit("d", t0 + Duration::from_millis(10)).unwrap_err().global);
        let later = t0 + Duration::from_secs(2);
        model.announce("a", later, Duration::from_millis(50), false);
        assert!(model.admit("a", later + Duration::from_millis(49)).is_err());
        model.admit("b", later + Duration::from_millis(49)).unwrap();
        model.admit("a", later + Duration::from_millis(51)).unwrap();
    }

    #[test]
    fn waits_are_rounded_up() {
        assert_eq!(ceil_ms(Duration::from_micros(1)), Duration::from_millis(1));
        assert_eq!(ceil_ms(Duration::from_millis(7)), Duration::from_millis(7));
        assert_eq!(seconds(Duration::from_millis(1250)), "1.250");
    }
}
