//! Secrets come from the environment only (on AWS, ECS injects them from Secrets Manager), never from
//! the config file, and are never printed: [`Secret`] shows as `[redacted]`, and an error names the
//! variable, not its value.

use std::fmt;

use sparta_bot::DiscordPublicKey;

pub const DISCORD_TOKEN_ENV: &str = "SPARTA_DISCORD_TOKEN";
pub const DISCORD_PUBLIC_KEY_ENV: &str = "SPARTA_DISCORD_PUBLIC_KEY";
pub const API_KEY_ENV: &str = "SPARTA_API_KEY";
/// The L1 RPC URL, when it carries a provider key (it then overrides `chain.l1_url`).
pub const L1_URL_ENV: &str = "SPARTA_L1_URL";

/// The shortest API key accepted: 32 characters of a random token leave nothing to guess.
const MIN_API_KEY_CHARS: usize = 32;

/// The parts of a URL a provider key hides in (path and query, user info), each as libraries may
/// print it: the URL as given, and the pieces a normalised spelling still contains.
pub fn url_key_parts(url: &str) -> Vec<String> {
    let Ok(parsed) = reqwest::Url::parse(url) else { return vec![url.to_owned()] };
    // A bare host hides nothing; masking it would only scramble ordinary log lines.
    if !sparta_chain::redact::shown_url(url).ends_with('…') {
        return Vec::new();
    }
    let tail = format!("{}{}", parsed.path(), parsed.query().map(|q| format!("?{q}")).unwrap_or_default());
    let mut parts = vec![url.to_owned(), parsed.as_str().to_owned(), tail, parsed.username().to_owned()];
    parts.extend(parsed.password().map(str::to_owned));
    parts.extend(parsed.query().map(str::to_owned));
    parts.retain(|part| part.len() > 1 && part != "/");
    parts
}

/// Masks, from now on, the key-bearing parts of URLs given on the command line or in the config
/// (a node URL can carry a key as well as an L1 URL).
pub fn mask_urls<'a>(urls: impl IntoIterator<Item = &'a str>) {
    for url in urls {
        crate::logging::mask(url_key_parts(url).iter().map(String::as_str));
    }
}

/// A value that must not be logged.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Every secret sparta reads. Each is optional: without a token the console sink stands in for Discord.
#[derive(Debug, Default)]
pub struct Secrets {
    pub discord_token: Option<Secret>,
    pub discord_public_key: Option<DiscordPublicKey>,
    pub api_key: Option<Secret>,
    pub l1_url: Option<Secret>,
}

impl Secrets {
    /// Reads the environment's secrets, every problem in one error, and masks their values in all log
    /// lines from then on.
    pub fn load() -> anyhow::Result<Self> {
        let secrets = Self::from_lookup(|name| std::env::var(name).ok()).map_err(|problems| {
            anyhow::anyhow!(
                "the environment's secrets have {} problem(s):\n  - {}",
                problems.len(),
                problems.join("\n  - ")
            )
        })?;
        crate::logging::mask(secrets.masked_values().iter().map(String::as_str));
        Ok(secrets)
    }

    /// Reads and checks every secret, listing each problem by variable name.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, Vec<String>> {
        let mut problems = Vec::new();
        // Set but empty is a mistake in the secret store, not "unset".
        let mut read = |name: &str| match get(name) {
            Some(v) if v.trim().is_empty() => {
                problems.push(format!("{name} is set but empty"));
                None
            }
            other => other,
        };
        let token = read(DISCORD_TOKEN_ENV);
        let public_key = read(DISCORD_PUBLIC_KEY_ENV);
        let api_key = read(API_KEY_ENV);
        let l1_url = read(L1_URL_ENV);

        if token.as_deref().is_some_and(|t| t.chars().any(char::is_whitespace)) {
            problems.push(format!("{DISCORD_TOKEN_ENV} contains whitespace (a bot token has none)"));
        }
        let discord_public_key = public_key.and_then(|k| match DiscordPublicKey::from_hex(&k) {
            Ok(key) => Some(key),
            Err(e) => {
                problems.push(format!("{DISCORD_PUBLIC_KEY_ENV} is not an Ed25519 public key: {e}"));
                None
            }
        });
        if let Some(key) = &api_key
            && key.chars().count() < MIN_API_KEY_CHARS
        {
            problems.push(format!("{API_KEY_ENV} must be at least {MIN_API_KEY_CHARS} characters"));
        }
        if let Some(url) = &l1_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            problems.push(format!("{L1_URL_ENV} must be an http:// or https:// URL"));
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Self {
            discord_token: token.map(Secret),
            discord_public_key,
            api_key: api_key.map(Secret),
            l1_url: l1_url.map(Secret),
        })
    }

    /// The strings no log line may contain: each value, and the parts of the L1 URL a key hides in
    /// (path and query, user info), which libraries may log in a normalised spelling of the URL.
    pub fn masked_values(&self) -> Vec<String> {
        let mut values: Vec<String> = [&self.discord_token, &self.api_key, &self.l1_url]
            .into_iter()
            .flatten()
            .map(|s| s.0.clone())
            .collect();
        if let Some(url) = &self.l1_url {
            values.extend(url_key_parts(url.expose()));
        }
        values.retain(|v| v.len() > 1 && v != "/");
        values
    }

    /// Which secrets are present (names only), for the start-up line.
    pub fn describe(&self) -> String {
        let present = [
            (DISCORD_TOKEN_ENV, self.discord_token.is_some()),
            (DISCORD_PUBLIC_KEY_ENV, self.discord_public_key.is_some()),
            (API_KEY_ENV, self.api_key.is_some()),
            (L1_URL_ENV, self.l1_url.is_some()),
        ];
        let set: Vec<&str> = present.iter().filter(|(_, on)| *on).map(|(name, _)| *name).collect();
        if set.is_empty() { "no secrets set".into() } else { format!("secrets set: {}", set.join(", ")) }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    // The Ed25519 base point, compressed: a valid public key.
    const KEY: &str = "5866666666666666666666666666666666666666666666666666666666666666";

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn nothing_set_is_valid_and_every_secret_is_redacted_when_printed() {
        assert_eq!(Secrets::from_lookup(lookup(&[])).unwrap().describe(), "no secrets set");
        let token = "MTA5.Gx-SECRETTOKEN.abc";
        let url = "https://eth.example/v2/SECRETKEY";
        let api = "k".repeat(40);
        let secrets = Secrets::from_lookup(lookup(&[
            (DISCORD_TOKEN_ENV, token),
            (API_KEY_ENV, &api),
            (L1_URL_ENV, url),
        ]))
        .unwrap();
        let printed =
            format!("{secrets:?} {} {}", secrets.discord_token.as_ref().unwrap(), secrets.describe());
        for value in [token, url, api.as_str()] {
            assert!(!printed.contains(value), "{printed}");
        }
        assert_eq!(secrets.l1_url.unwrap().expose(), url);
    }

    #[test]
    fn the_masked_values_cover_the_url_key_in_any_spelling() {
        let url = "https://user:pa55word@eth.example/v2/KEY123?apikey=Q456";
        let secrets = Secrets::from_lookup(lookup(&[(L1_URL_ENV, url)])).unwrap();
        let masked = secrets.masked_values();
        for part in [url, "/v2/KEY123?apikey=Q456", "pa55word", "apikey=Q456"] {
            assert!(masked.iter().any(|m| m == part), "{part} in {masked:?}");
        }
        let plain = Secrets::from_lookup(lookup(&[(L1_URL_ENV, "http://127.0.0.1:8545")])).unwrap();
        assert_eq!(plain.masked_values(), ["http://127.0.0.1:8545"], "nothing hidden in a bare host");
    }

    #[test]
    fn bad_values_are_named_by_variable_never_by_value() {
        let problems = Secrets::from_lookup(lookup(&[
            (DISCORD_TOKEN_ENV, "has SECRET space"),
            (DISCORD_PUBLIC_KEY_ENV, "zzSECRETzz"),
            (API_KEY_ENV, "shortSECRET"),
            (L1_URL_ENV, "ws://SECRET.example"),
        ]))
        .unwrap_err();
        assert_eq!(problems.len(), 4, "{problems:?}");
        for (problem, name) in
            problems.iter().zip([DISCORD_TOKEN_ENV, DISCORD_PUBLIC_KEY_ENV, API_KEY_ENV, L1_URL_ENV])
        {
            assert!(problem.contains(name) && !problem.contains("SECRET"), "{problem}");
        }
        let empty = Secrets::from_lookup(lookup(&[(API_KEY_ENV, " ")])).unwrap_err();
        assert_eq!(empty, vec![format!("{API_KEY_ENV} is set but empty")]);
        assert!(Secrets::from_lookup(lookup(&[(DISCORD_PUBLIC_KEY_ENV, KEY)])).is_ok());
    }
}
