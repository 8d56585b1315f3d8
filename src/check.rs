//! `sparta check`: connect, read the chain's facts, print them as JSON. Exits non-zero with a clear
//! message when a source is unreachable or answers in a shape it cannot read.

use anyhow::Context;
use serde::Serialize;
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
    let (node_url, l1_url) = match (&args.config, args.node_url, args.l1_url) {
        (Some(path), _, _) => {
            let config = Config::load(&ConfigSource::File(path.clone()))?;
            let secrets = Secrets::load()?;
            let l1 = config.l1_url(&secrets)?;
            (config.chain.node_url, l1)
        }
        (None, Some(node), Some(l1)) => (node, l1),
        _ => anyhow::bail!("give --node-url and --l1-url, or --config"),
    };
    let mut source = ChainSource::connect(&node_url, &l1_url).await.with_context(|| {
        format!("cannot connect (node {}, L1 {})", shown_url(&node_url), shown_url(&l1_url))
    })?;
    let facts = source.chain_facts().await.context("cannot read the chain's facts")?;
    let capabilities = source.capabilities().await.context("cannot probe the node's capabilities")?;
    println!("{}", serde_json::to_string_pretty(&Report { facts, capabilities })?);
    Ok(())
}
