//! A guild for the REST tests, the client's view of it, and a delivery loop that treats errors
//! the way the outbox does.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use sparta_bot::{DiscordAction, DiscordSink, RestConfig, SinkError};

use super::double::{GUILD_ID, TOKEN, World};

pub const HEALTHY: u64 = 1_200_000_000_000_000_001;
pub const SEQUENCER: u64 = 1_200_000_000_000_000_002;
/// A role above the bot's: Discord answers 403.
pub const ADMIN: u64 = 1_200_000_000_000_000_003;
/// Configured in the client but deleted in the guild: Discord answers 404.
pub const DELETED_ROLE: u64 = 1_200_000_000_000_000_004;
pub const ALERTS: u64 = 1_210_000_000_000_000_001;
pub const OPS: u64 = 1_210_000_000_000_000_002;
pub const DELETED_CHANNEL: u64 = 1_210_000_000_000_000_003;
/// Members are `MEMBER_BASE + 1 ..= MEMBER_BASE + MEMBERS`.
pub const MEMBER_BASE: u64 = 1_300_000_000_000_000_000 - 1_000;
pub const MEMBERS: u64 = 40;
/// A member whose DMs are closed to the bot.
pub const CLOSED_DMS: u64 = MEMBER_BASE + MEMBERS;

pub fn member(i: u64) -> u64 {
    MEMBER_BASE + 1 + i % MEMBERS
}

pub fn world() -> World {
    World {
        members: (1..=MEMBERS).map(|i| MEMBER_BASE + i).collect(),
        roles: BTreeSet::from([HEALTHY, SEQUENCER, ADMIN]),
        forbidden_roles: BTreeSet::from([ADMIN]),
        channels: BTreeSet::from([ALERTS, OPS]),
        closed_dms: BTreeSet::from([CLOSED_DMS]),
        held: BTreeSet::new(),
    }
}

pub fn config() -> RestConfig {
    let mut config = RestConfig::new(TOKEN, GUILD_ID);
    for (name, id) in
        [("healthy", HEALTHY), ("sequencer", SEQUENCER), ("admin", ADMIN), ("deleted", DELETED_ROLE)]
    {
        config.roles.insert(name.into(), id);
    }
    for (name, id) in [("alerts", ALERTS), ("ops", OPS), ("deleted", DELETED_CHANNEL)] {
        config.channels.insert(name.into(), id);
    }
    config
}

/// How one decision ended, and after how many attempts.
#[derive(Debug)]
pub struct Outcome {
    pub attempts: u32,
    pub result: Result<(), SinkError>,
}

/// Delivers like the outbox: retry `Transient` after a short backoff, stop on success or
/// `Rejected`, give up past `deadline`.
pub async fn deliver(
    sink: &dyn DiscordSink,
    key: &str,
    action: &DiscordAction,
    deadline: Duration,
) -> Outcome {
    let start = Instant::now();
    let mut attempts = 0;
    let mut backoff = Duration::from_millis(5);
    loop {
        attempts += 1;
        let result = sink.deliver(key, action).await;
        match result {
            Err(SinkError::Transient(_)) if start.elapsed() < deadline => {
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_millis(80));
            }
            result => return Outcome { attempts, result },
        }
    }
}

/// Reads a counter's value from the Prometheus scrape, 0 when the series is absent.
pub fn scraped_counter(scrape: &str, series: &str) -> f64 {
    scrape
        .lines()
        .find(|line| line.starts_with(series) && line[series.len()..].starts_with(' '))
        .and_then(|line| line.rsplit(' ').next())
        .map_or(0.0, |value| value.parse().unwrap())
}
