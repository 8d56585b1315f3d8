//! URLs as errors and logs show them. RPC providers put API keys in the path, the query or the user
//! info, so only the scheme, host and port are ever shown.

/// `scheme://host[:port]`, with `/…` when anything else (path, query, credentials) was left out.
pub fn shown_url(url: &str) -> String {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return "<unparseable URL>".into();
    };
    let host = parsed.host_str().unwrap_or("");
    let port = parsed.port().map(|p| format!(":{p}")).unwrap_or_default();
    let hidden = parsed.path() != "/"
        || parsed.query().is_some()
        || parsed.fragment().is_some()
        || !parsed.username().is_empty()
        || parsed.password().is_some();
    format!("{}://{host}{port}{}", parsed.scheme(), if hidden { "/…" } else { "" })
}

/// `text` with every spelling of `url` (as given, and as the HTTP client normalises it) replaced by
/// [`shown_url`]: transport errors quote the URL they failed on.
pub fn scrub(text: &str, url: &str) -> String {
    let shown = shown_url(url);
    let mut out = text.replace(url, &shown);
    if let Ok(normalised) = reqwest::Url::parse(url) {
        out = out.replace(normalised.as_str(), &shown);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_in_paths_queries_and_credentials_are_never_shown() {
        assert_eq!(shown_url("https://eth.example/v2/SECRETKEY"), "https://eth.example/…");
        assert_eq!(shown_url("https://eth.example:8545/?apikey=SECRETKEY"), "https://eth.example:8545/…");
        assert_eq!(shown_url("https://user:SECRETKEY@eth.example"), "https://eth.example/…");
        assert_eq!(
            shown_url("http://127.0.0.1:8545"),
            "http://127.0.0.1:8545",
            "nothing hidden, nothing cut"
        );
        assert_eq!(shown_url("not a url SECRETKEY"), "<unparseable URL>");
    }

    #[test]
    fn scrubbing_covers_the_normalised_spelling() {
        let url = "HTTPS://eth.example/v2/SECRETKEY";
        let text = "error sending request for url (https://eth.example/v2/SECRETKEY)";
        let scrubbed = scrub(text, url);
        assert!(!scrubbed.contains("SECRETKEY"), "{scrubbed}");
        assert!(scrubbed.contains("https://eth.example/…"), "{scrubbed}");
    }
}
