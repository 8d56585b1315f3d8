//! The command-line surface.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use sparta_core::Generation;

#[derive(Debug, Parser)]
#[command(name = "sparta", version, about = "Monitoring engine for Aztec network validators")]
pub struct Cli {
    /// Log as JSON lines (for log shippers) instead of human-readable text.
    #[arg(long, global = true)]
    pub log_json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the whole pipeline against a simulated network on this machine (no accounts, no cloud).
    Devnet(Box<DevnetCommand>),
    /// Run against a real network, as configured in a TOML file (default ./sparta.toml, or the text of
    /// SPARTA_CONFIG_TOML when that is set). Secrets come from SPARTA_* environment variables only.
    Run {
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
    /// GET a local URL and exit 0 on a 2xx answer (a container health check without curl).
    Probe {
        url: String,
        /// Give up after this long.
        #[arg(long, default_value = "3s", value_parser = humantime::parse_duration)]
        timeout: Duration,
    },
    /// Replay a simulated network's history through the whole engine and its embedded store, as fast
    /// as they take it, and print the throughput (committee-slot records/s) and peak memory.
    Replay(ReplayArgs),
    /// Connect to a node and an L1 endpoint and print the chain's facts as JSON.
    Check(CheckArgs),
    /// Upgrade a store written by an older sparta to this build's schema version.
    Migrate(MigrateArgs),
    /// Forget the stored slots from --from-slot on, so the next start reads them again from the chain
    /// (heals a store an older sparta filled from a lying source). Stop sparta first.
    Repair(RepairArgs),
    /// Discord helpers.
    Discord {
        #[command(subcommand)]
        command: DiscordCommand,
    },
    /// Configuration helpers.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum DiscordCommand {
    /// Register (bulk-overwrite) sparta's slash commands with Discord, using SPARTA_DISCORD_TOKEN.
    RegisterCommands {
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Register in this server only: visible at once (global commands can take an hour).
        #[arg(long)]
        guild: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate a config (and the secrets in the environment) and print every problem found.
    Check {
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct DevnetCommand {
    #[command(subcommand)]
    pub serve: Option<DevnetServe>,
    #[command(flatten)]
    pub network: NetworkArgs,
    /// Where the devnet keeps its store and network parameters (a rerun resumes from here).
    #[arg(long, default_value = ".sparta/devnet")]
    pub data_dir: PathBuf,
    /// Start over: delete the data directory first.
    #[arg(long)]
    pub fresh: bool,
    /// Prometheus endpoint address.
    #[arg(long, default_value = "127.0.0.1:9464")]
    pub metrics_addr: SocketAddr,
    /// Stop by itself after this long (e.g. 30s, 5m).
    #[arg(long = "for", value_parser = humantime::parse_duration)]
    pub run_for: Option<Duration>,
    /// Print Discord actions as JSON lines.
    #[arg(long)]
    pub json: bool,
    /// Script a node outage, AFTER+LASTING from the start (e.g. 30s+40s): the node answers 503 in
    /// between, so the engine lags, alerts fire and the RPC-error panels show an incident.
    #[arg(long, value_name = "AFTER+LASTING", value_parser = parse_outage)]
    pub node_outage: Option<(Duration, Duration)>,
    /// Keep the store in DynamoDB at this endpoint (e.g. a local emulator) instead of the data directory.
    #[arg(long, value_name = "URL")]
    pub dynamodb_endpoint: Option<String>,
    /// Table prefix with --dynamodb-endpoint.
    #[arg(long, default_value = "sparta-devnet-", requires = "dynamodb_endpoint")]
    pub dynamodb_prefix: String,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// First slot replayed.
    #[arg(long)]
    pub from_slot: u64,
    /// Last slot replayed.
    #[arg(long)]
    pub to_slot: u64,
    #[command(flatten)]
    pub network: NetworkArgs,
    /// Where the replay keeps its store; a replay stopped early resumes from it.
    #[arg(long, default_value = ".sparta/replay")]
    pub data_dir: PathBuf,
    /// Start over: delete the data directory first.
    #[arg(long)]
    pub fresh: bool,
    /// Slots read, committed and fanned out as one batch.
    #[arg(long, default_value_t = 512)]
    pub batch_slots: u64,
    /// Validator-tracker shards.
    #[arg(long, default_value_t = 2)]
    pub trackers: usize,
    /// Link every Nth validator to a demo operator (plus the scripted ones), so roles and alerts are
    /// decided as in production; 0 links none.
    #[arg(long, default_value_t = 10)]
    pub link_every: usize,
    /// Print the Discord actions decided (they are never sent); by default they are only counted.
    #[arg(long)]
    pub print_actions: bool,
    /// How often the store makes its commits durable (a killed replay resumes from the last one).
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
    pub sync_every: Duration,
    /// Simulate the whole range before the clock starts (held in memory, as a recorded history
    /// would be), so the throughput is the engine's alone; by default the simulator runs a bounded
    /// distance ahead, sharing the machine with the engine.
    #[arg(long)]
    pub preload: bool,
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The config file whose `[store]` section names the store.
    #[arg(long, short, conflicts_with = "store")]
    pub config: Option<PathBuf>,
    /// An embedded store file, instead of a config.
    #[arg(long)]
    pub store: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RepairArgs {
    /// The first slot to forget; it and every later one are read again.
    #[arg(long)]
    pub from_slot: u64,
    /// The config file whose `[store]` section names the store.
    #[arg(long, short, conflicts_with = "store")]
    pub config: Option<PathBuf>,
    /// An embedded store file, instead of a config.
    #[arg(long)]
    pub store: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum DevnetServe {
    /// Only serve the simulated network (node + L1 JSON-RPC), for `sparta run` or `sparta check`.
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub network: NetworkArgs,
    /// Aztec node JSON-RPC address.
    #[arg(long, default_value = "127.0.0.1:18080")]
    pub node_addr: SocketAddr,
    /// Ethereum JSON-RPC address.
    #[arg(long, default_value = "127.0.0.1:18545")]
    pub l1_addr: SocketAddr,
    /// Stop by itself after this long.
    #[arg(long = "for", value_parser = humantime::parse_duration)]
    pub run_for: Option<Duration>,
}

/// The simulated network's shape.
#[derive(Clone, Debug, Args)]
pub struct NetworkArgs {
    #[arg(long, default_value_t = 200)]
    pub validators: usize,
    #[arg(long, default_value_t = 48)]
    pub committee: usize,
    #[arg(long, default_value_t = 32)]
    pub epoch_slots: u64,
    #[arg(long, default_value_t = 2)]
    pub slot_seconds: u64,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// The protocol generation the simulated node and L1 speak: v2, v4 (4.1.2), v5 (mainnet) or v6
    /// (testnet).
    #[arg(long, default_value = "v5", value_parser = parse_generation)]
    pub protocol: Generation,
    /// Open the escape hatch in this epoch (repeat for more; v4 on): proposals bypass the
    /// committee, so nobody's misses count, and the moderators hear when it opens and closes.
    #[arg(long = "escape-hatch", value_name = "EPOCH")]
    pub escape_hatch: Vec<u64>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Aztec node JSON-RPC URL.
    #[arg(long, required_unless_present = "config")]
    pub node_url: Option<String>,
    /// Ethereum JSON-RPC URL.
    #[arg(long, required_unless_present = "config")]
    pub l1_url: Option<String>,
    /// Take the URLs from a config file instead.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
}

fn parse_generation(text: &str) -> Result<Generation, String> {
    text.parse()
}

fn parse_outage(text: &str) -> Result<(Duration, Duration), String> {
    let (after, lasting) = text.split_once('+').ok_or("expected AFTER+LASTING, e.g. 30s+40s")?;
    let parse = |d: &str| humantime::parse_duration(d.trim()).map_err(|e| format!("{d:?}: {e}"));
    Ok((parse(after)?, parse(lasting)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outage_is_after_plus_lasting() {
        assert_eq!(parse_outage("30s+40s"), Ok((Duration::from_secs(30), Duration::from_secs(40))));
        assert_eq!(parse_outage(" 1m + 500ms "), Ok((Duration::from_secs(60), Duration::from_millis(500))));
        assert!(parse_outage("30s").unwrap_err().contains("AFTER+LASTING"));
        assert!(parse_outage("soon+40s").unwrap_err().contains("soon"));
    }
}
