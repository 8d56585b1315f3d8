//! `sparta check`: connect, read the chain's facts, print them as JSON. Exits non-zero with a clear
//! message when a source is unreachable or answers in a shape it cannot read.

use anyhow::Context;
use serde::Serialize;
use sparta_chain::HttpLimits;
use sparta_chain::redact::shown_url;
use sparta_chain::source::{Capability, ChainFacts, ChainSource};

use crate::cli::CheckArgs;
use crate::config::{Config, ConfigSource};
use crate::secrets::Secrets;

/// The facts, and what sparta looked for on the node and L1 and whether it found it.
#[derive(Serialize)]
struct Report {
    #[serde(flatten)]
    facts: ChainFacts,
    capabilities: Vec<Capability>,
}

pub async fn main(args: CheckArgs) -> anyhow::Result<()> {
    let (node_url, l1_url, limits) = match (&args.config, args.node_url, args.l1_url) {
        (Some(path), _, _) => {
            let config = Config::load(&ConfigSource::File(path.clone()))?;
            let secrets = Secrets::load()?;
            let l1 = config.l1_url(&secrets)?;
            let limits = config.chain.http_limits();
            (config.chain.node_url, l1, limits)
        }
        (None, Some(node), Some(l1)) => (node, l1, HttpLimits::default()),
        _ => anyhow::bail!("give --node-url and --l1-url, or --config"),
    };
    crate::secrets::mask_urls([node_url.as_str(), l1_url.as_str()]);
    let mut source = ChainSource::connect_with(&node_url, &l1_url, limits).await.with_context(|| {
        format!("cannot connect (node {}, L1 {})", shown_url(&node_url), shown_url(&l1_url))
    })?;
    let facts = source.chain_facts().await.context("cannot read the chain's facts")?;
    let capabilities = source.capabilities().await.context("cannot probe the node's capabilities")?;
    println!("{}", serde_json::to_string_pretty(&Report { facts, capabilities })?);
    Ok(())
}
