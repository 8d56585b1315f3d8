//! `[metrics.cloudwatch]`: putting the health metrics to CloudWatch, where the alarms of `terraform/`
//! watch them. Credentials come from the standard AWS chain (on ECS, the task role).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};
use serde::Deserialize;
use sparta_telemetry::Telemetry;
use sparta_telemetry::catalog::CLOUDWATCH_NAMESPACE;
use sparta_telemetry::cloudwatch::{CloudWatchPublisher, Destination, PublisherConfig};

/// How the data points travel.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CloudWatchMode {
    /// `PutMetricData` calls.
    #[default]
    Api,
    /// Embedded Metric Format lines on standard output, for a log pipeline that delivers them to
    /// CloudWatch Logs as EMF (no API calls, no `cloudwatch:PutMetricData` permission).
    Emf,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CloudWatchSection {
    pub enabled: bool,
    /// The `Deployment` dimension: the name the alarms filter on (terraform's `deployment`).
    pub deployment: String,
    pub region: String,
    /// A non-AWS endpoint (a local emulator).
    pub endpoint_url: Option<String>,
    /// Seconds between puts; alarms evaluate 60-second periods.
    pub interval_s: u64,
    /// The namespace the metrics go to (the alarms' `metrics_namespace` in terraform).
    pub namespace: String,
    pub mode: CloudWatchMode,
    /// The most distinct series per round (CloudWatch bills each): the health metrics, then the
    /// per-operator series, worst first.
    pub max_series: usize,
    /// Attempts per request, the first included, with the SDK's exponential backoff between them
    /// (throttling and 5xx are retried).
    pub max_attempts: u32,
}

impl Default for CloudWatchSection {
    fn default() -> Self {
        Self {
            enabled: false,
            deployment: String::new(),
            region: "us-east-1".into(),
            endpoint_url: None,
            interval_s: 60,
            namespace: CLOUDWATCH_NAMESPACE.into(),
            mode: CloudWatchMode::Api,
            max_series: 100,
            max_attempts: 4,
        }
    }
}

impl CloudWatchSection {
    pub fn validate(&self, problems: &mut Vec<String>) {
        if !self.enabled {
            return;
        }
        let name_ok = !self.deployment.is_empty()
            && self.deployment.len() <= 64
            && self.deployment.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !name_ok {
            problems.push(format!(
                "metrics.cloudwatch.deployment must be 1-64 letters, digits, '-' or '_', got {:?}",
                self.deployment
            ));
        }
        if self.region.trim().is_empty() {
            problems.push("metrics.cloudwatch.region must name a region".into());
        }
        if !(10..=3600).contains(&self.interval_s) {
            problems
                .push(format!("metrics.cloudwatch.interval_s must be 10..=3600, got {}", self.interval_s));
        }
        // CloudWatch's rule: 1-255 characters, not starting with "AWS/", no colon.
        let namespace_ok = (1..=255).contains(&self.namespace.len())
            && !self.namespace.starts_with("AWS/")
            && !self.namespace.contains(':')
            && self.namespace.chars().all(|c| c.is_ascii_graphic() || c == ' ');
        if !namespace_ok {
            problems.push(format!(
                "metrics.cloudwatch.namespace must be 1-255 printable characters, without ':' and not under AWS/, got {:?}",
                self.namespace
            ));
        }
        if !(1..=10_000).contains(&self.max_series) {
            problems
                .push(format!("metrics.cloudwatch.max_series must be 1..=10000, got {}", self.max_series));
        }
        if !(1..=10).contains(&self.max_attempts) {
            problems
                .push(format!("metrics.cloudwatch.max_attempts must be 1..=10, got {}", self.max_attempts));
        }
        if let Some(url) = &self.endpoint_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            problems.push(format!("metrics.cloudwatch.endpoint_url must be an http(s) URL, got {url:?}"));
        }
    }

    /// Starts publishing (the first round right away). No request is made before that.
    pub async fn start(&self, telemetry: Telemetry) -> anyhow::Result<CloudWatchPublisher> {
        let destination = match self.mode {
            CloudWatchMode::Api => {
                let mut loader = aws_config::defaults(BehaviorVersion::latest())
                    .region(Region::new(self.region.clone()))
                    .retry_config(RetryConfig::standard().with_max_attempts(self.max_attempts));
                if let Some(url) = &self.endpoint_url {
                    loader = loader.endpoint_url(url);
                }
                Destination::Api(aws_sdk_cloudwatch::Client::new(&loader.load().await))
            }
            CloudWatchMode::Emf => Destination::Emf(Arc::new(Mutex::new(std::io::stdout()))),
        };
        let config = PublisherConfig {
            namespace: self.namespace.clone(),
            deployment: self.deployment.clone(),
            interval: Duration::from_secs(self.interval_s),
            // Six samples a round: a minute's round sees every 10 s.
            sample_every: Duration::from_secs(self.interval_s) / 6,
            max_series: self.max_series,
        };
        CloudWatchPublisher::spawn(telemetry, destination, config)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))
            .context("cannot start the CloudWatch publisher")
    }
}
