//! The task that puts the data points: once at start, every interval, and once more on stop, so a
//! clean shutdown's last counts are not lost. A failed put is logged and its counter increases are
//! carried into the next one.

use std::time::{Duration, SystemTime};

use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tracing::{debug, warn};

use super::datums::{CounterMemory, Datum, datums};
use crate::Telemetry;
use crate::catalog::{CLOUDWATCH_DIMENSION, CLOUDWATCH_NAMESPACE, MetricUnit};

#[derive(Clone, Debug)]
pub struct PublisherConfig {
    /// The `Deployment` dimension's value.
    pub deployment: String,
    pub interval: Duration,
}

/// A running publisher; [`CloudWatchPublisher::stop`] publishes a last time and waits.
pub struct CloudWatchPublisher {
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl CloudWatchPublisher {
    pub fn spawn(telemetry: Telemetry, client: Client, config: PublisherConfig) -> Self {
        let (stop, mut stopped) = oneshot::channel();
        let task = tokio::spawn(async move {
            let mut memory = CounterMemory::default();
            let mut tick = tokio::time::interval(config.interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                let last = tokio::select! {
                    _ = tick.tick() => false,
                    _ = &mut stopped => true,
                };
                publish(&telemetry, &client, &config.deployment, &mut memory).await;
                if last {
                    break;
                }
            }
        });
        Self { stop: Some(stop), task }
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for CloudWatchPublisher {
    fn drop(&mut self) {
        if self.stop.is_some() {
            self.task.abort();
        }
    }
}

async fn publish(telemetry: &Telemetry, client: &Client, deployment: &str, memory: &mut CounterMemory) {
    let (points, next) = datums(&telemetry.render(), memory);
    if points.is_empty() {
        return;
    }
    let dimension = Dimension::builder().name(CLOUDWATCH_DIMENSION).value(deployment).build();
    let now = DateTime::from(SystemTime::now());
    let data: Vec<MetricDatum> = points.iter().map(|p| datum(p, &dimension, now)).collect();
    // At most a dozen points: one request, far under PutMetricData's 1,000-datum limit.
    match client.put_metric_data().namespace(CLOUDWATCH_NAMESPACE).set_metric_data(Some(data)).send().await {
        Ok(_) => {
            debug!(points = points.len(), "metrics put to CloudWatch");
            *memory = next;
        }
        Err(error) => {
            let error = aws_sdk_cloudwatch::error::DisplayErrorContext(error);
            warn!(%error, "cannot put metrics to CloudWatch; the next round carries the counts");
        }
    }
}

fn datum(point: &Datum, dimension: &Dimension, at: DateTime) -> MetricDatum {
    let unit = match point.unit {
        MetricUnit::Seconds => StandardUnit::Seconds,
        MetricUnit::Number => StandardUnit::Count,
        MetricUnit::Ratio | MetricUnit::Slots => StandardUnit::None,
    };
    MetricDatum::builder()
        .metric_name(point.name)
        .value(point.value)
        .unit(unit)
        .dimensions(dimension.clone())
        .timestamp(at)
        .build()
}
