//! Text from outside (RPC error messages, bodies, versions) as sparta shows it in errors and logs:
//! short, and on one line, so a hostile source can neither flood the logs nor forge log lines.

/// How many characters of outside text an error or log line quotes.
const MAX_CHARS: usize = 200;

/// A message from a source: at most 200 characters, control characters (newlines that could forge
/// log lines) escaped.
pub fn shown_message(message: &str) -> String {
    let mut out = escape_controls(message.chars().take(MAX_CHARS));
    if message.chars().nth(MAX_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// The first bytes of a body, for error messages (never the whole of a large answer).
pub fn excerpt(body: &[u8]) -> String {
    let text = escape_controls(String::from_utf8_lossy(&body[..body.len().min(MAX_CHARS)]).chars());
    if body.len() > MAX_CHARS { format!("{text}…") } else { text }
}

/// Control characters (newlines, escapes) written as escapes, so text from outside stays on its line.
fn escape_controls(text: impl Iterator<Item = char>) -> String {
    let mut out = String::new();
    for c in text {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_messages_are_cut_and_newlines_cannot_forge_lines() {
        let forged = format!("bad\n2026-12-06T00:00:00Z INFO forged{}", "x".repeat(5_000));
        let shown = shown_message(&forged);
        assert!(!shown.contains('\n'), "{shown}");
        assert!(shown.chars().count() <= MAX_CHARS + 4, "{} chars", shown.chars().count());
        assert!(shown.ends_with('…'));
        assert_eq!(shown_message("short"), "short");
    }

    #[test]
    fn excerpts_quote_only_the_start_of_a_body() {
        let body = vec![b'a'; 300 * 1024 * 1024 / 1024];
        assert_eq!(excerpt(&body).chars().count(), MAX_CHARS + 1);
        assert_eq!(excerpt(b"{\"x\":\r\n1}"), "{\"x\":\\r\\n1}");
    }
}
