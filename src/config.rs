//! The `sparta run` config file (TOML). Unknown keys are errors; `validate` lists every problem at once.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, bail};
use serde::Deserialize;
use sparta_actors::EngineConfig;
use sparta_chain::HttpLimits;
use sparta_chain::redact::shown_url;
use sparta_core::Address;

use crate::cloudwatch::CloudWatchSection;
use crate::discord::DiscordConfig;
use crate::ha::HaConfig;
use crate::secrets::{L1_URL_ENV, Secrets};
use crate::store::StoreConfig;

/// Holds the whole config's text where files are awkward (a container). Secrets never go in it.
pub const CONFIG_ENV: &str = "SPARTA_CONFIG_TOML";

/// Where the config comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigSource {
    File(PathBuf),
    /// The text of [`CONFIG_ENV`].
    Env,
}

impl ConfigSource {
    /// `--config FILE` when given; else [`CONFIG_ENV`] when set; else `./sparta.toml`.
    pub fn choose(flag: Option<PathBuf>) -> Self {
        match flag {
            Some(path) => ConfigSource::File(path),
            None if std::env::var_os(CONFIG_ENV).is_some() => ConfigSource::Env,
            None => ConfigSource::File(PathBuf::from("sparta.toml")),
        }
    }

    fn text(&self) -> anyhow::Result<String> {
        match self {
            ConfigSource::File(path) => {
                std::fs::read_to_string(path).with_context(|| format!("cannot read {self}"))
            }
            ConfigSource::Env => std::env::var(CONFIG_ENV).with_context(|| format!("cannot read {self}")),
        }
    }
}

impl std::fmt::Display for ConfigSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigSource::File(path) => write!(f, "config {}", path.display()),
            ConfigSource::Env => write!(f, "config in ${CONFIG_ENV}"),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub chain: ChainConfig,
    #[serde(default)]
    pub store: StoreConfig,
    #[serde(default)]
    pub metrics: MetricsConfig,
    #[serde(default)]
    pub engine: EngineConfig,
    #[serde(default)]
    pub discord: DiscordConfig,
    /// Leader election among several instances (off: this is the only one).
    #[serde(default)]
    pub ha: HaConfig,
    /// Operator ↔ validator links known up front (more are added by `/verify` later).
    #[serde(default)]
    pub links: Vec<LinkConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainConfig {
    /// Aztec node JSON-RPC URL (public port).
    pub node_url: String,
    /// Ethereum JSON-RPC URL; the rollup is resolved through the Registry the node reports. Leave it
    /// out when it carries a provider key: [`L1_URL_ENV`] then supplies it as a secret.
    pub l1_url: Option<String>,
    /// The largest answer read from either source, in MiB; a larger one is refused unread.
    #[serde(default = "default_max_response_mib")]
    pub max_response_mib: usize,
}

fn default_max_response_mib() -> usize {
    sparta_chain::transport::DEFAULT_MAX_RESPONSE_BYTES >> 20
}

impl ChainConfig {
    /// The bounds every request to the node and L1 is held to.
    pub fn http_limits(&self) -> HttpLimits {
        HttpLimits { max_response_bytes: self.max_response_mib << 20, ..HttpLimits::default() }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Prometheus endpoint (`GET /metrics`).
    pub listen: SocketAddr,
    pub cloudwatch: CloudWatchSection,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self { listen: SocketAddr::from(([127, 0, 0, 1], 9464)), cloudwatch: CloudWatchSection::default() }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkConfig {
    pub operator: String,
    pub validator: Address,
}

impl Config {
    pub fn load(source: &ConfigSource) -> anyhow::Result<Self> {
        let text = source.text()?;
        let config: Config = toml::from_str(&text)
            .map_err(|error| anyhow::anyhow!("{source} is not valid: {}", parse_error(&text, &error)))?;
        let problems = config.validate();
        if !problems.is_empty() {
            bail!("{source} has {} problem(s):\n  - {}", problems.len(), problems.join("\n  - "));
        }
        Ok(config)
    }

    /// The L1 URL: the secret when set (it may embed a provider key), else `chain.l1_url`.
    pub fn l1_url(&self, secrets: &Secrets) -> anyhow::Result<String> {
        match (&secrets.l1_url, &self.chain.l1_url) {
            (Some(secret), _) => Ok(secret.expose().to_owned()),
            (None, Some(url)) => Ok(url.clone()),
            (None, None) => {
                bail!("no L1 URL: set chain.l1_url in the config or {L1_URL_ENV} in the environment")
            }
        }
    }

    /// Every problem found, each naming the key.
    pub fn validate(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let urls =
            [("chain.node_url", Some(&self.chain.node_url)), ("chain.l1_url", self.chain.l1_url.as_ref())];
        for (key, url) in urls {
            if let Some(url) = url
                && !(url.starts_with("http://") || url.starts_with("https://"))
            {
                // Only the scheme is quoted: the rest may carry a provider key.
                let scheme = url.split("://").next().filter(|s| *s != url).unwrap_or("none");
                problems.push(format!("{key} must be an http:// or https:// URL, got scheme {scheme:?}"));
            }
        }
        if !(1..=1024).contains(&self.chain.max_response_mib) {
            problems.push(format!(
                "chain.max_response_mib must be between 1 and 1024, got {}",
                self.chain.max_response_mib
            ));
        }
        let e = &self.engine;
        if e.trackers == 0 || e.trackers > 64 {
            problems.push(format!("engine.trackers must be between 1 and 64, got {}", e.trackers));
        }
        if e.batch_slots == 0 {
            problems.push("engine.batch_slots must be at least 1".into());
        }
        if e.monitor.slot_window == 0 {
            problems.push("engine.monitor.slot_window must be at least 1".into());
        }
        for (key, v) in [
            ("engine.roles.max_attestation_miss_rate", e.roles.max_attestation_miss_rate),
            ("engine.roles.max_proposal_miss_rate", e.roles.max_proposal_miss_rate),
            ("engine.roles.hysteresis", e.roles.hysteresis),
            ("engine.alerts.miss_rate_threshold", e.alerts.miss_rate_threshold),
        ] {
            if !(0.0..=1.0).contains(&v) {
                problems.push(format!("{key} must be between 0 and 1, got {v}"));
            }
        }
        if e.roles.role.trim().is_empty() {
            problems.push("engine.roles.role must name a role".into());
        }
        let names = e.roles.managed_roles(&e.slashed_role);
        if names.iter().collect::<std::collections::BTreeSet<_>>().len() < names.len() {
            problems.push(format!("engine roles must have distinct names, got {names:?}"));
        }
        for (i, tier) in e.roles.tiers.iter().enumerate() {
            let key = format!("engine.roles.tiers[{i}]");
            if tier.role.trim().is_empty() {
                problems.push(format!("{key}.role must name a role"));
            }
            for (field, v) in [
                ("max_attestation_miss_rate", tier.max_attestation_miss_rate),
                ("max_proposal_miss_rate", tier.max_proposal_miss_rate),
            ] {
                if !(0.0..=1.0).contains(&v) {
                    problems.push(format!("{key}.{field} must be between 0 and 1, got {v}"));
                }
            }
        }
        for (key, v) in [
            ("engine.alerts.critical_miss_rate", e.alerts.critical_miss_rate),
            ("engine.outage.committee_share", e.outage.committee_share),
            ("engine.inactivity.target", e.inactivity.target),
        ] {
            if !(0.0..=1.0).contains(&v) {
                problems.push(format!("{key} must be between 0 and 1, got {v}"));
            }
        }
        if e.call_timeout_ms == 0 {
            problems.push("engine.call_timeout_ms must be positive".into());
        }
        if e.outbox.lease_ms == 0 || e.outbox.batch == 0 || e.outbox.max_attempts == 0 {
            problems.push("engine.outbox.lease_ms, batch and max_attempts must be positive".into());
        }
        self.store.validate(&mut problems);
        self.metrics.cloudwatch.validate(&mut problems);
        self.ha.validate(&mut problems);
        self.discord.validate(&self.engine, &mut problems);
        problems
    }
}

/// `sparta config check`: the config and the secrets in the environment.
/// A parse error as shown: where it is and which key, never the line's text or a quoted value (a
/// secret put in the file by mistake must not be printed by the error that refuses it).
fn parse_error(text: &str, error: &toml::de::Error) -> String {
    let message = without_quoted_values(error.message());
    let Some(span) = error.span() else { return message };
    let before = &text[..span.start.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let line_text = text.lines().nth(line - 1).unwrap_or_default();
    match line_text.split_once('=').map(|(key, _)| key.trim()).filter(|k| !k.is_empty()) {
        Some(key) => format!("line {line}, key {:?}: {message}", without_quoted_values(key)),
        None => format!("line {line}: {message}"),
    }
}

/// `text` with every double-quoted part replaced by `"…"` (serde quotes the values it refuses).
fn without_quoted_values(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut quoted = false;
    for c in text.chars() {
        match (c, quoted) {
            ('"', false) => {
                out.push_str("\"…\"");
                quoted = true;
            }
            ('"', true) => quoted = false,
            (_, false) => out.push(c),
            (_, true) => {}
        }
    }
    out
}

pub fn check(source: &ConfigSource) -> anyhow::Result<()> {
    let config = Config::load(source)?;
    let secrets = Secrets::load()?;
    let l1 = config.l1_url(&secrets)?;
    println!(
        "{source} is valid: node {}, L1 {}, store {}, metrics on {}; {}",
        shown_url(&config.chain.node_url),
        shown_url(&l1),
        config.store.describe(),
        config.metrics.listen,
        secrets.describe()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> anyhow::Result<Config> {
        Ok(toml::from_str(text)?)
    }

    #[test]
    fn a_minimal_config_is_valid() {
        let c = parse("[chain]\nnode_url = \"http://127.0.0.1:8080\"\nl1_url = \"https://l1.example\"\n")
            .unwrap();
        assert!(c.validate().is_empty(), "{:?}", c.validate());
        assert_eq!(c.engine.trackers, EngineConfig::default().trackers);
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err =
            parse("[chain]\nnode_url = \"http://a\"\nl1_url = \"http://b\"\nnode_ulr = \"x\"\n").unwrap_err();
        assert!(err.to_string().contains("node_ulr"), "{err}");
    }

    #[test]
    fn nested_sections_override_only_what_they_name() {
        let base = "[chain]\nnode_url = \"http://a\"\nl1_url = \"http://b\"\n";
        let c = parse(&format!(
            "{base}[engine.roles]\nmin_attestations = 8\n[engine.monitor]\nslot_window = 96\n"
        ))
        .unwrap();
        assert_eq!(c.engine.roles.min_attestations, 8);
        assert_eq!(c.engine.roles.role, "performant", "unnamed keys keep their defaults");
        assert_eq!(c.engine.monitor.slot_window, 96);
        let err = parse(&format!("{base}[engine.roles]\nmin_atestations = 8\n")).unwrap_err();
        assert!(err.to_string().contains("min_atestations"), "{err}");
    }

    #[test]
    fn the_dynamodb_backend_is_chosen_and_checked_by_config() {
        let base = "[chain]\nnode_url = \"http://a\"\nl1_url = \"http://b\"\n";
        let c = parse(&format!(
            "{base}[store]\nbackend = \"dynamodb\"\n[store.dynamodb]\ntable_prefix = \"sparta-testnet-\"\n"
        ))
        .unwrap();
        assert!(c.validate().is_empty(), "{:?}", c.validate());
        assert_eq!(c.store.backend, crate::store::Backend::Dynamodb);
        assert!(c.store.describe().contains("sparta-testnet-"), "{}", c.store.describe());
        let bad = parse(&format!(
            "{base}[store]\nbackend = \"dynamodb\"\n[store.dynamodb]\ntable_prefix = \"a b\"\nregion = \"\"\nendpoint_url = \"localhost:8000\"\n"
        ))
        .unwrap();
        let problems = bad.validate();
        assert_eq!(problems.len(), 3, "{problems:?}");
        for key in ["table_prefix", "region", "endpoint_url"] {
            assert!(problems.iter().any(|p| p.contains(key)), "{key}: {problems:?}");
        }
        let err = parse(&format!("{base}[store]\nbackend = \"postgres\"\n")).unwrap_err();
        assert!(err.to_string().contains("postgres"), "{err}");
    }

    #[test]
    fn leader_election_is_off_by_default_and_checked_when_on() {
        let base = "[chain]\nnode_url = \"http://a\"\nl1_url = \"http://b\"\n";
        assert!(!parse(base).unwrap().ha.enabled);
        let on = parse(&format!("{base}[ha]\nenabled = true\ninstance = \"a\"\nttl_ms = 5000\n")).unwrap();
        assert!(on.validate().is_empty(), "{:?}", on.validate());
        let bad = parse(&format!("{base}[ha]\nenabled = true\ninstance = \" \"\nttl_ms = 10\n")).unwrap();
        let problems = bad.validate();
        assert!(problems.iter().any(|p| p.contains("ha.instance")), "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("ha.ttl_ms")), "{problems:?}");
    }

    #[test]
    fn cloudwatch_is_off_by_default_and_checked_when_on() {
        let base = "[chain]\nnode_url = \"http://a\"\nl1_url = \"http://b\"\n";
        assert!(!parse(base).unwrap().metrics.cloudwatch.enabled);
        let on = parse(&format!("{base}[metrics.cloudwatch]\nenabled = true\ndeployment = \"testnet\"\n"))
            .unwrap();
        assert!(on.validate().is_empty(), "{:?}", on.validate());
        let bad = parse(&format!(
            "{base}[metrics.cloudwatch]\nenabled = true\ndeployment = \"a b\"\ninterval_s = 1\nendpoint_url = \"x\"\n"
        ))
        .unwrap();
        let problems = bad.validate();
        assert_eq!(problems.len(), 3, "{problems:?}");
        for key in ["deployment", "interval_s", "endpoint_url"] {
            assert!(problems.iter().any(|p| p.contains(key)), "{key}: {problems:?}");
        }
        let emf = parse(&format!(
            "{base}[metrics.cloudwatch]\nenabled = true\ndeployment = \"t\"\nmode = \"emf\"\nnamespace = \"Sparta/Testnet\"\n"
        ))
        .unwrap();
        assert!(emf.validate().is_empty(), "{:?}", emf.validate());
        assert_eq!(emf.metrics.cloudwatch.mode, crate::cloudwatch::CloudWatchMode::Emf);
        let limits = parse(&format!(
            "{base}[metrics.cloudwatch]\nenabled = true\ndeployment = \"t\"\nnamespace = \"AWS/EC2\"\nmax_series = 0\nmax_attempts = 0\n"
        ))
        .unwrap();
        let problems = limits.validate();
        assert_eq!(problems.len(), 3, "{problems:?}");
        for key in ["namespace", "max_series", "max_attempts"] {
            assert!(problems.iter().any(|p| p.contains(key)), "{key}: {problems:?}");
        }
        assert!(parse(&format!("{base}[metrics.cloudwatch]\nmode = \"carrier-pigeon\"\n")).is_err());
    }

    #[test]
    fn role_tiers_alert_timing_and_inactivity_presets_are_configured_under_engine() {
        let base = "[chain]\nnode_url = \"http://a\"\nl1_url = \"http://b\"\n";
        let c = parse(&format!(
            "{base}[engine.alerts.lifecycle]\npending_slots = 4\n[engine.inactivity]\npreset = \"node-defaults\"\n\
             [[engine.roles.tiers]]\nrole = \"elite\"\nmin_attestations = 64\nmax_attestation_miss_rate = 0.01\nmax_proposal_miss_rate = 0.0\n"
        ))
        .unwrap();
        assert!(c.validate().is_empty(), "{:?}", c.validate());
        assert_eq!(c.engine.roles.role_names(), vec!["performant", "elite"]);
        assert_eq!(c.engine.alerts.lifecycle.pending_slots, 4);
        assert_eq!(c.engine.alerts.lifecycle.cooldown_slots, 32, "unset keys keep their default");
        assert_eq!(c.engine.inactivity, sparta_core::InactivityRule::NODE_DEFAULTS);
        let bad = parse(&format!(
            "{base}[[engine.roles.tiers]]\nrole = \"slashed\"\nmin_attestations = 1\nmax_attestation_miss_rate = 2.0\nmax_proposal_miss_rate = 0.0\n"
        ))
        .unwrap();
        let problems = bad.validate();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("distinct names")), "{problems:?}");
        assert!(parse(&format!("{base}[engine.inactivity]\npreset = \"moon\"\n")).is_err());
    }

    #[test]
    fn the_scoreboard_is_configured_under_engine() {
        let base = "[chain]\nnode_url = \"http://a\"\nl1_url = \"http://b\"\n";
        let c = parse(&format!("{base}[engine.scoreboard]\nworst_k = 25\nmax_operators = 50\n")).unwrap();
        assert_eq!((c.engine.scoreboard.worst_k, c.engine.scoreboard.max_operators), (25, 50));
        assert_eq!(c.engine.scoreboard.min_sample, 8, "unset keys keep their default");
        assert!(
            parse(&format!("{base}[engine.scoreboard]\nworst = 25\n")).is_err(),
            "unknown keys are refused"
        );
    }

    #[test]
    fn parse_errors_name_the_line_and_key_but_never_the_value() {
        let load = |text: &str| {
            let text = text.to_owned();
            let error = toml::from_str::<Config>(&text).unwrap_err();
            parse_error(&text, &error)
        };
        // A secret put in the file (an unknown key), a secret as a wrong type, a broken line.
        let shown = load("[chain]\nnode_url = \"http://a\"\ndiscord_token = \"MTA5.SECRETTOKEN\"\n");
        assert!(shown.starts_with("line 3, key \"discord_token\":"), "{shown}");
        let shown = load("[chain]\nnode_url = \"http://a\"\nmax_response_mib = \"SECRETVALUE\"\n");
        assert!(shown.contains("line 3") && shown.contains("max_response_mib"), "{shown}");
        let shown_broken = load("[chain]\nnode_url = \"http://a/SECRETKEY\n");
        for text in [&shown, &shown_broken] {
            assert!(!text.contains("SECRET"), "{text}");
        }
        assert!(shown_broken.contains("line 2"), "{shown_broken}");
    }

    #[test]
    fn the_response_size_limit_is_configurable_within_bounds() {
        let base = "[chain]\nnode_url = \"http://a\"\nl1_url = \"http://b\"\n";
        assert_eq!(parse(base).unwrap().chain.http_limits().max_response_bytes, 32 << 20);
        let c = parse(&format!("{base}max_response_mib = 4\n")).unwrap();
        assert_eq!(c.chain.http_limits().max_response_bytes, 4 << 20);
        let c = parse(&format!("{base}max_response_mib = 0\n")).unwrap();
        assert!(c.validate().iter().any(|p| p.contains("chain.max_response_mib")), "{:?}", c.validate());
    }

    #[test]
    fn every_problem_is_listed() {
        let c = parse(
            "[chain]\nnode_url = \"ftp://a\"\nl1_url = \"b\"\n[engine]\ntrackers = 0\n[engine.alerts]\nmiss_rate_threshold = 2.0\n",
        )
        .unwrap();
        let problems = c.validate();
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("chain.node_url")));
        assert!(problems.iter().any(|p| p.contains("engine.trackers")));
        assert!(problems.iter().any(|p| p.contains("miss_rate_threshold")));
    }
}
