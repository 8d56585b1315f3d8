//! Refuses an interaction request that was already accepted. Signature and timestamp prove that Discord
//! sent a request and roughly when, not that it is new: whoever captures one could resend it, and have
//! it handled again, until its timestamp leaves the skew window.
//!
//! A replay repeats the request byte for byte, so it repeats the signature, which is the key here
//! (hashed, and case-folded: the hex header decodes the same in either case). Only Discord's key makes
//! a new signature, and `verify_strict` admits no altered twin of a captured one.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

/// Requests remembered at once: far more than Discord sends in a skew window to one bot, and about
/// 1 MB at most.
pub const DEFAULT_REMEMBERED_REQUESTS: usize = 10_000;

type Fingerprint = [u8; 32];

/// Whether a verified request arrives for the first time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Arrival {
    First,
    Replay,
}

/// The fingerprints of recently accepted requests, bounded in number and in age.
pub(crate) struct ReplayGuard {
    capacity: usize,
    /// How long after its arrival a request's timestamp can still pass the check.
    remember_s: u64,
    seen: Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    fingerprints: HashSet<Fingerprint>,
    /// The same fingerprints, oldest arrival first, each with the time it may be forgotten.
    by_arrival: VecDeque<(Fingerprint, u64)>,
}

impl ReplayGuard {
    /// Remembers up to `capacity` requests (the oldest are forgotten first). A request accepted with
    /// `max_skew_s` of allowed skew may have been signed that far ahead of our clock, and its timestamp
    /// passes until that far behind it: it is remembered for twice the skew.
    pub(crate) fn new(capacity: usize, max_skew_s: u64) -> Self {
        Self {
            capacity: capacity.max(1),
            remember_s: max_skew_s.saturating_mul(2),
            seen: Mutex::new(Seen::default()),
        }
    }

    /// Records the request signed with `signature_hex` as arriving at `now_s` (unix seconds), unless
    /// it arrived before. Check and record are one step, so of two racing copies one is the replay.
    pub(crate) fn arrive(&self, signature_hex: &str, now_s: u64) -> Arrival {
        let fingerprint = fingerprint(signature_hex);
        let mut seen = self.seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        seen.forget_expired(now_s);
        if seen.fingerprints.contains(&fingerprint) {
            return Arrival::Replay;
        }
        while seen.by_arrival.len() >= self.capacity {
            seen.forget_oldest();
        }
        seen.fingerprints.insert(fingerprint);
        seen.by_arrival.push_back((fingerprint, now_s.saturating_add(self.remember_s)));
        Arrival::First
    }

    /// How many requests are remembered now.
    #[cfg(test)]
    fn remembered(&self) -> usize {
        self.seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).by_arrival.len()
    }
}

impl Seen {
    /// Arrival order is forgetting order, unless the clock stepped back; then some linger until
    /// capacity pushes them out, which is harmless.
    fn forget_expired(&mut self, now_s: u64) {
        while self.by_arrival.front().is_some_and(|&(_, forget_at)| forget_at < now_s) {
            self.forget_oldest();
        }
    }

    fn forget_oldest(&mut self) {
        if let Some((fingerprint, _)) = self.by_arrival.pop_front() {
            self.fingerprints.remove(&fingerprint);
        }
    }
}

fn fingerprint(signature_hex: &str) -> Fingerprint {
    Sha256::digest(signature_hex.to_ascii_lowercase().as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A distinct 128-hex-digit signature per `n` (the guard only compares them; the endpoint tests
    /// sign for real).
    fn signature(n: u64) -> String {
        format!("{n:0128x}")
    }

    #[test]
    fn a_second_arrival_is_a_replay_in_either_hex_case() {
        let guard = ReplayGuard::new(10, 300);
        let first = "ab".repeat(64);
        assert_eq!(guard.arrive(&first, 1_000), Arrival::First);
        assert_eq!(guard.arrive(&first, 1_000), Arrival::Replay);
        assert_eq!(guard.arrive(&first.to_ascii_uppercase(), 1_001), Arrival::Replay);
        assert_eq!(guard.arrive(&"cd".repeat(64), 1_001), Arrival::First);
        assert_eq!(guard.remembered(), 2);
    }

    #[test]
    fn a_request_is_forgotten_once_its_timestamp_can_no_longer_pass() {
        let guard = ReplayGuard::new(10, 300);
        assert_eq!(guard.arrive(&signature(1), 1_000), Arrival::First);
        assert_eq!(guard.arrive(&signature(1), 1_600), Arrival::Replay, "signed at 1 300, valid until 1 600");
        assert_eq!(guard.arrive(&signature(2), 1_601), Arrival::First);
        assert_eq!(guard.remembered(), 1, "the first is forgotten");
        assert_eq!(guard.arrive(&signature(1), 1_601), Arrival::First);
    }

    #[test]
    fn it_stays_bounded_under_twenty_thousand_distinct_requests() {
        let guard = ReplayGuard::new(DEFAULT_REMEMBERED_REQUESTS, 300);
        for n in 0..20_000 {
            assert_eq!(guard.arrive(&signature(n), 1_000), Arrival::First);
            assert!(guard.remembered() <= DEFAULT_REMEMBERED_REQUESTS);
        }
        assert_eq!(guard.remembered(), DEFAULT_REMEMBERED_REQUESTS);
        assert_eq!(guard.seen.lock().unwrap().fingerprints.len(), DEFAULT_REMEMBERED_REQUESTS, "in step");
        assert_eq!(guard.arrive(&signature(19_999), 1_000), Arrival::Replay, "the newest are remembered");
        assert_eq!(guard.arrive(&signature(0), 1_000), Arrival::First, "the oldest went first");
        assert_eq!(guard.remembered(), DEFAULT_REMEMBERED_REQUESTS);
    }
}
