//! The body of a message we post: bounded content, a nonce so a retry cannot post twice, and no
//! pings.

use std::borrow::Cow;

use serde::Serialize;
use sha2::{Digest, Sha256};

/// Discord's limit on a message's `content`. Counted here in UTF-16 units, which are never fewer
/// than characters, so the text fits however Discord counts.
pub const MAX_CONTENT: usize = 2000;
/// Discord's limit on an audit-log reason.
pub const MAX_REASON: usize = 512;
/// Discord's limit on a nonce's length.
const MAX_NONCE: usize = 25;

/// `POST /channels/{channel.id}/messages`, the fields we send.
#[derive(Debug, Serialize)]
pub struct MessageBody<'a> {
    pub content: Cow<'a, str>,
    pub nonce: String,
    /// With a nonce, Discord answers a repeat with the message it already created (for a few
    /// minutes), so a retry after a lost answer does not post twice.
    pub enforce_nonce: bool,
    pub allowed_mentions: AllowedMentions,
}

/// No `parse` entries: text like `@everyone` or `<@123>` stays text, nobody is pinged.
#[derive(Debug, Serialize)]
pub struct AllowedMentions {
    pub parse: [&'static str; 0],
}

impl<'a> MessageBody<'a> {
    /// The body for `content` delivered under idempotency key `key`.
    pub fn new(key: &str, content: &'a str) -> Self {
        Self {
            content: truncate(content, MAX_CONTENT),
            nonce: nonce(key),
            enforce_nonce: true,
            allowed_mentions: AllowedMentions { parse: [] },
        }
    }
}

/// A nonce for `key`: the same for every attempt of one decision, different across decisions, and
/// short enough for Discord (keys can be long, nonces at most 25 characters). 96 bits of SHA-256.
pub fn nonce(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    let nonce = hex::encode(&digest[..12]);
    debug_assert!(nonce.len() <= MAX_NONCE);
    nonce
}

/// `text` cut to at most `max` UTF-16 units, on a character boundary, ending in `…` when cut.
pub fn truncate(text: &str, max: usize) -> Cow<'_, str> {
    if text.encode_utf16().count() <= max {
        return Cow::Borrowed(text);
    }
    let budget = max.saturating_sub('…'.len_utf16());
    let mut used = 0;
    let end = text
        .char_indices()
        .find(|(_, c)| {
            used += c.len_utf16();
            used > budget
        })
        .map_or(text.len(), |(i, _)| i);
    Cow::Owned(format!("{}…", &text[..end]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_stable_short_and_distinct() {
        let key = "direct_message:slot:123456:987654321987654321:00ff00ff00ff00ff";
        assert_eq!(nonce(key), nonce(key));
        assert_eq!(nonce(key).len(), 24);
        assert!(nonce(key).len() <= MAX_NONCE);
        assert_ne!(nonce(key), nonce("direct_message:slot:123457:987654321987654321:00ff00ff00ff00ff"));
        // SHA-256("abc") starts ba7816bf8f01cfea414140de: the nonce is pinned across builds.
        assert_eq!(nonce("abc"), "ba7816bf8f01cfea414140de");
    }

    #[test]
    fn short_text_is_untouched() {
        assert!(matches!(truncate("hello", 5), Cow::Borrowed("hello")));
        assert_eq!(truncate("", 5), "");
    }

    #[test]
    fn long_text_is_cut_on_a_char_boundary_with_an_ellipsis() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        let long = "é".repeat(MAX_CONTENT + 10);
        let cut = truncate(&long, MAX_CONTENT);
        assert_eq!(cut.chars().count(), MAX_CONTENT);
        assert!(cut.ends_with('…'));
        // Astral characters are two UTF-16 units: never split, and counted as two.
        let emoji = "🚨".repeat(MAX_CONTENT);
        let cut = truncate(&emoji, MAX_CONTENT);
        assert!(cut.encode_utf16().count() <= MAX_CONTENT, "{}", cut.encode_utf16().count());
        assert_eq!(cut.chars().filter(|c| *c == '🚨').count(), (MAX_CONTENT - 1) / 2);
        assert_eq!(truncate("ab🚨", 3), "ab…");
    }

    #[test]
    fn the_body_never_pings_and_enforces_the_nonce() {
        let body = MessageBody::new("k", "@everyone look");
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "content": "@everyone look",
                "nonce": nonce("k"),
                "enforce_nonce": true,
                "allowed_mentions": { "parse": [] },
            })
        );
    }
}
