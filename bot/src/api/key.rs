//! The API key: compared in constant time, over digests so not even its length leaks.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Keys shorter than this are refused at start (as `SPARTA_API_KEY` is): they could be guessed.
pub const MIN_KEY_LEN: usize = 32;

pub struct ApiKey {
    digest: [u8; 32],
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiKeyError {
    #[error("the API key must be at least {MIN_KEY_LEN} characters, got {0}")]
    TooShort(usize),
}

impl ApiKey {
    pub fn new(key: &str) -> Result<Self, ApiKeyError> {
        let key = key.trim();
        if key.len() < MIN_KEY_LEN {
            return Err(ApiKeyError::TooShort(key.len()));
        }
        Ok(Self { digest: Sha256::digest(key.as_bytes()).into() })
    }

    pub fn matches(&self, presented: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(presented.trim().as_bytes()).into();
        self.digest.ct_eq(&digest).into()
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_key_matches() {
        let key = ApiKey::new("correct horse battery staple, twice").unwrap();
        assert!(key.matches("correct horse battery staple, twice"));
        assert!(!key.matches("correct horse battery staple, twic"));
        assert!(!key.matches(""));
        assert_eq!(ApiKey::new("short").unwrap_err(), ApiKeyError::TooShort(5));
        assert_eq!(format!("{key:?}"), "ApiKey([redacted])");
    }
}
