//! Discord signs every interaction request: Ed25519 over `timestamp ‖ body` with the application's
//! key. Discord's own health checks send bad signatures on purpose, so rejecting them is required,
//! not just prudent.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use ed25519_dalek::{Signature, VerifyingKey};

/// Header carrying the hex-encoded 64-byte signature.
pub const SIGNATURE_HEADER: &str = "x-signature-ed25519";
/// Header carrying the unix time (seconds) the request was signed at.
pub const TIMESTAMP_HEADER: &str = "x-signature-timestamp";
/// How far a signed timestamp may lie from our clock, either way, by default.
pub const DEFAULT_MAX_SKEW_S: u64 = 300;

/// Unix seconds now; injected so tests can pin the clock.
pub type UnixClock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// The system clock as unix seconds (0 if the system clock is before 1970, which then fails every
/// freshness check rather than panicking).
pub fn system_clock() -> UnixClock {
    Arc::new(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
    })
}

/// The application's public key from the developer portal (64 hex digits).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct DiscordPublicKey(VerifyingKey);

impl DiscordPublicKey {
    pub fn from_hex(hex_key: &str) -> Result<Self, PublicKeyError> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(hex_key.trim(), &mut bytes).map_err(|_| PublicKeyError::NotHex)?;
        VerifyingKey::from_bytes(&bytes).map(Self).map_err(|_| PublicKeyError::NotAPoint)
    }

    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, PublicKeyError> {
        VerifyingKey::from_bytes(bytes).map(Self).map_err(|_| PublicKeyError::NotAPoint)
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0.as_bytes())
    }
}

impl FromStr for DiscordPublicKey {
    type Err = PublicKeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_hex(s)
    }
}

impl fmt::Debug for DiscordPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DiscordPublicKey({})", self.to_hex())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublicKeyError {
    #[error("the Discord public key must be 64 hex digits (32 bytes)")]
    NotHex,
    #[error("the Discord public key is not a valid Ed25519 key")]
    NotAPoint,
}

/// Why a request was refused. Never sent to the caller (it gets a bare 401); logged for operators.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("missing {0} header")]
    MissingHeader(&'static str),
    #[error("malformed signature header (want 128 hex digits)")]
    MalformedSignature,
    #[error("malformed timestamp header (want unix seconds)")]
    MalformedTimestamp,
    #[error("timestamp {timestamp} is more than {max_skew_s}s away from now ({now})")]
    StaleTimestamp { timestamp: u64, now: u64, max_skew_s: u64 },
    #[error("signature does not match")]
    BadSignature,
}

/// Checks signatures and freshness of incoming interaction requests.
#[derive(Clone)]
pub struct RequestVerifier {
    key: DiscordPublicKey,
    max_skew_s: u64,
    clock: UnixClock,
}

impl fmt::Debug for RequestVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestVerifier")
            .field("key", &self.key)
            .field("max_skew_s", &self.max_skew_s)
            .finish()
    }
}

impl RequestVerifier {
    pub fn new(key: DiscordPublicKey, max_skew_s: u64, clock: UnixClock) -> Self {
        Self { key, max_skew_s, clock }
    }

    /// Accepts the request only if both headers are present and well-formed, the timestamp is
    /// within the skew window, and the signature covers exactly `timestamp ‖ body`.
    pub fn verify(
        &self,
        signature: Option<&str>,
        timestamp: Option<&str>,
        body: &[u8],
    ) -> Result<(), VerifyError> {
        let signature = signature.ok_or(VerifyError::MissingHeader(SIGNATURE_HEADER))?;
        let timestamp = timestamp.ok_or(VerifyError::MissingHeader(TIMESTAMP_HEADER))?;

        let mut sig_bytes = [0u8; 64];
        hex::decode_to_slice(signature, &mut sig_bytes).map_err(|_| VerifyError::MalformedSignature)?;
        let signature = Signature::from_bytes(&sig_bytes);

        // Digits only: `u64::from_str` would also take a leading '+', which Discord never sends.
        if timestamp.is_empty() || !timestamp.bytes().all(|b| b.is_ascii_digit()) {
            return Err(VerifyError::MalformedTimestamp);
        }
        let signed_at: u64 = timestamp.parse().map_err(|_| VerifyError::MalformedTimestamp)?;
        let now = (self.clock)();
        if signed_at.abs_diff(now) > self.max_skew_s {
            return Err(VerifyError::StaleTimestamp {
                timestamp: signed_at,
                now,
                max_skew_s: self.max_skew_s,
            });
        }

        let mut message = Vec::with_capacity(timestamp.len() + body.len());
        message.extend_from_slice(timestamp.as_bytes());
        message.extend_from_slice(body);
        // `verify_strict` rejects small-order keys and non-canonical signatures (as libsodium
        // does); its point comparison is over public data, so timing leaks nothing secret.
        self.key.0.verify_strict(&message, &signature).map_err(|_| VerifyError::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::{Signer, SigningKey};

    use super::*;

    const NOW: u64 = 1_700_000_000;

    fn setup() -> (SigningKey, RequestVerifier) {
        let signing = SigningKey::from_bytes(&[7u8; 32]);
        let key = DiscordPublicKey::from_hex(&hex::encode(signing.verifying_key().as_bytes())).unwrap();
        (signing, RequestVerifier::new(key, DEFAULT_MAX_SKEW_S, Arc::new(|| NOW)))
    }

    fn sign(key: &SigningKey, timestamp: &str, body: &[u8]) -> String {
        let mut message = timestamp.as_bytes().to_vec();
        message.extend_from_slice(body);
        hex::encode(key.sign(&message).to_bytes())
    }

    #[test]
    fn accepts_a_fresh_correctly_signed_request() {
        let (signing, verifier) = setup();
        let ts = NOW.to_string();
        let sig = sign(&signing, &ts, b"{}");
        assert_eq!(verifier.verify(Some(&sig), Some(&ts), b"{}"), Ok(()));
        let edge = (NOW - DEFAULT_MAX_SKEW_S).to_string();
        assert_eq!(verifier.verify(Some(&sign(&signing, &edge, b"{}")), Some(&edge), b"{}"), Ok(()));
    }

    #[test]
    fn rejects_tampering_with_body_or_timestamp() {
        let (signing, verifier) = setup();
        let ts = NOW.to_string();
        let sig = sign(&signing, &ts, b"{}");
        assert_eq!(verifier.verify(Some(&sig), Some(&ts), b"{ }"), Err(VerifyError::BadSignature));
        let other_ts = (NOW + 1).to_string();
        assert_eq!(verifier.verify(Some(&sig), Some(&other_ts), b"{}"), Err(VerifyError::BadSignature));
    }

    #[test]
    fn rejects_malformed_and_missing_headers() {
        let (signing, verifier) = setup();
        let ts = NOW.to_string();
        let sig = sign(&signing, &ts, b"{}");
        assert_eq!(
            verifier.verify(None, Some(&ts), b"{}"),
            Err(VerifyError::MissingHeader(SIGNATURE_HEADER))
        );
        assert_eq!(
            verifier.verify(Some(&sig), None, b"{}"),
            Err(VerifyError::MissingHeader(TIMESTAMP_HEADER))
        );
        assert_eq!(
            verifier.verify(Some(&sig[..126]), Some(&ts), b"{}"),
            Err(VerifyError::MalformedSignature)
        );
        assert_eq!(verifier.verify(Some("zz"), Some(&ts), b"{}"), Err(VerifyError::MalformedSignature));
        for bad in ["", "+1700000000", "17e8", "-5", "99999999999999999999999"] {
            assert_eq!(
                verifier.verify(Some(&sig), Some(bad), b"{}"),
                Err(VerifyError::MalformedTimestamp),
                "{bad}"
            );
        }
    }

    #[test]
    fn rejects_timestamps_outside_the_skew_window() {
        let (signing, verifier) = setup();
        for ts in [NOW - DEFAULT_MAX_SKEW_S - 1, NOW + DEFAULT_MAX_SKEW_S + 1, 0] {
            let ts = ts.to_string();
            let sig = sign(&signing, &ts, b"{}");
            assert!(matches!(
                verifier.verify(Some(&sig), Some(&ts), b"{}"),
                Err(VerifyError::StaleTimestamp { .. })
            ));
        }
    }

    #[test]
    fn public_key_parsing_reports_bad_input() {
        assert_eq!(DiscordPublicKey::from_hex("abcd"), Err(PublicKeyError::NotHex));
        assert_eq!(DiscordPublicKey::from_hex(&"g".repeat(64)), Err(PublicKeyError::NotHex));
        let (signing, _) = setup();
        let hex_key = hex::encode(signing.verifying_key().as_bytes());
        assert_eq!(DiscordPublicKey::from_hex(&hex_key).unwrap().to_hex(), hex_key);
    }
}
