//! `sparta probe URL`: the container's own health check. Runtime images carry no curl, and ECS runs
//! the check inside the container, so the binary asks itself.

use std::time::Duration;

use anyhow::{Context, bail};

pub async fn main(url: &str, timeout: Duration) -> anyhow::Result<()> {
    let parsed = reqwest::Url::parse(url).with_context(|| format!("{url:?} is not a URL"))?;
    // Only this container's own endpoints: a probe is not a way to reach other hosts.
    if !matches!(parsed.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")) {
        bail!("probe only checks this machine's endpoints (127.0.0.1, localhost, [::1]), not {url}");
    }
    let client = reqwest::Client::builder().timeout(timeout).build()?;
    let response = client.get(parsed).send().await.with_context(|| format!("no answer from {url}"))?;
    let status = response.status();
    if !status.is_success() {
        bail!("{url} answered {status}");
    }
    println!("{url}: {status}");
    Ok(())
}
