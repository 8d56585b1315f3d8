//! `[metrics.cloudwatch]`: putting the health metrics to CloudWatch, where the alarms of `terraform/`
//! watch them. Credentials come from the standard AWS chain (on ECS, the task role).

use std::time::Duration;

use aws_config::{BehaviorVersion, Region};
use serde::Deserialize;
use sparta_telemetry::Telemetry;
use sparta_telemetry::cloudwatch::{CloudWatchPublisher, PublisherConfig};

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
}

impl Default for CloudWatchSection {
    fn default() -> Self {
        Self {
            enabled: false,
            deployment: String::new(),
            region: "us-east-1".into(),
            endpoint_url: None,
            interval_s: 60,
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
        if let Some(url) = &self.endpoint_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            problems.push(format!("metrics.cloudwatch.endpoint_url must be an http(s) URL, got {url:?}"));
        }
    }

    /// Starts putting metrics (the first put right away). No request is made before that.
    pub async fn start(&self, telemetry: Telemetry) -> CloudWatchPublisher {
        let mut loader =
            aws_config::defaults(BehaviorVersion::latest()).region(Region::new(self.region.clone()));
        if let Some(url) = &self.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let client = aws_sdk_cloudwatch::Client::new(&loader.load().await);
        let config = PublisherConfig {
            deployment: self.deployment.clone(),
            interval: Duration::from_secs(self.interval_s),
        };
        CloudWatchPublisher::spawn(telemetry, client, config)
    }
}
