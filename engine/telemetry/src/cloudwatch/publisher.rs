//! The CloudWatch publisher actor: it samples the gauges several times an interval, and once at
//! start, every interval, and once more on stop (so a clean shutdown's last counts are not lost) it
//! turns the rendering and the samples into data points and sends them. Throttling and 5xx are retried by the SDK with exponential backoff; a round that still fails
//! is logged and its counter increases are carried into the next one.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use tokio::task::JoinHandle;
use tracing::{debug, warn};

use super::datums::{CounterMemory, Datum, GaugeSamples, datums};
use super::{emf, limits};
use crate::Telemetry;
use crate::catalog::{self, CLOUDWATCH_DIMENSION, MetricUnit};

/// Where the data points go.
#[derive(Clone)]
pub enum Destination {
    /// `PutMetricData` calls.
    Api(Client),
    /// Embedded Metric Format lines, one per dimension set, to this writer (standard output in a
    /// deployment, where the log pipeline hands them to CloudWatch).
    Emf(Arc<Mutex<dyn Write + Send>>),
}

impl std::fmt::Debug for Destination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Destination::Api(_) => "Destination::Api",
            Destination::Emf(_) => "Destination::Emf",
        })
    }
}

#[derive(Clone, Debug)]
pub struct PublisherConfig {
    pub namespace: String,
    /// The `Deployment` dimension's value.
    pub deployment: String,
    pub interval: Duration,
    /// How often gauges are sampled between two rounds (every sample is sent, so a spike between two
    /// rounds reaches the alarms' `Maximum`).
    pub sample_every: Duration,
    /// The most distinct series one round sends; the health metrics always go, dimensioned series
    /// (per operator) fill the rest, worst first.
    pub max_series: usize,
}

pub enum CloudWatchMsg {
    Tick,
    Sample,
    /// Publish now and answer once done (a clean stop's last round).
    Flush(RpcReplyPort<()>),
}

/// The actor; [`CloudWatchPublisher::spawn`] starts it, [`CloudWatchPublisher::stop`] ends it.
pub struct CloudWatchPublisher {
    actor: ActorRef<CloudWatchMsg>,
    task: JoinHandle<()>,
}

pub struct PublisherState {
    telemetry: Telemetry,
    destination: Destination,
    config: PublisherConfig,
    memory: CounterMemory,
    samples: GaugeSamples,
}

struct Publisher;

impl Actor for Publisher {
    type Msg = CloudWatchMsg;
    type State = PublisherState;
    type Arguments = PublisherState;

    async fn pre_start(
        &self,
        myself: ActorRef<CloudWatchMsg>,
        state: PublisherState,
    ) -> Result<PublisherState, ActorProcessingErr> {
        myself.send_message(CloudWatchMsg::Tick)?;
        myself.send_after(state.config.sample_every, || CloudWatchMsg::Sample);
        Ok(state)
    }

    async fn handle(
        &self,
        myself: ActorRef<CloudWatchMsg>,
        message: CloudWatchMsg,
        state: &mut PublisherState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            CloudWatchMsg::Sample => {
                state.samples.record(&state.telemetry.render());
                myself.send_after(state.config.sample_every, || CloudWatchMsg::Sample);
            }
            CloudWatchMsg::Tick => {
                publish(state).await;
                myself.send_after(state.config.interval, || CloudWatchMsg::Tick);
            }
            CloudWatchMsg::Flush(reply) => {
                publish(state).await;
                let _ = reply.send(());
            }
        }
        Ok(())
    }
}

impl CloudWatchPublisher {
    pub async fn spawn(
        telemetry: Telemetry,
        destination: Destination,
        config: PublisherConfig,
    ) -> Result<Self, ActorProcessingErr> {
        let state = PublisherState {
            telemetry,
            destination,
            config,
            memory: CounterMemory::default(),
            samples: GaugeSamples::default(),
        };
        let (actor, task) = Actor::spawn(None, Publisher, state).await?;
        Ok(Self { actor, task })
    }

    /// Publishes once more, then stops the actor and waits for it.
    pub async fn stop(self) {
        let _ = ractor::call!(self.actor, CloudWatchMsg::Flush);
        self.actor.stop(None);
        let _ = self.task.await;
    }
}

async fn publish(state: &mut PublisherState) {
    let round = datums(&state.telemetry.render(), &state.memory, state.config.max_series, &state.samples);
    // Samples are sent once, delivered or not: a gauge's past values are history, not a debt.
    state.samples.clear();
    if round.dropped > 0 {
        metrics::counter!(catalog::TELEMETRY_SERIES_DROPPED_TOTAL, "family" => "cloudwatch")
            .increment(round.dropped as u64);
    }
    if round.points.is_empty() {
        return;
    }
    let sent = match &state.destination {
        Destination::Api(client) => put(client, &state.config, &round.points).await,
        Destination::Emf(out) => write_emf(out, &state.config, &round.points),
    };
    if sent {
        state.memory = round.memory;
    }
}

/// Every request of the round; true when the first went through. The first holds every counter (the
/// undimensioned points come first, and counters have no kept dimension), so it alone decides
/// whether their increases were delivered; a later failed request only loses gauge values.
async fn put(client: &Client, config: &PublisherConfig, points: &[Datum]) -> bool {
    let deployment = Dimension::builder().name(CLOUDWATCH_DIMENSION).value(&config.deployment).build();
    let now = DateTime::from(SystemTime::now());
    let mut counters_sent = false;
    for (i, request) in limits::requests(points, &config.deployment).into_iter().enumerate() {
        let data: Vec<MetricDatum> = request.iter().map(|p| datum(p, &deployment, now)).collect();
        let outcome =
            client.put_metric_data().namespace(&config.namespace).set_metric_data(Some(data)).send().await;
        match outcome {
            Ok(_) => {
                metrics::counter!(catalog::TELEMETRY_CLOUDWATCH_PUTS_TOTAL, "outcome" => "ok").increment(1);
                debug!(points = request.len(), "metrics put to CloudWatch");
                counters_sent |= i == 0;
            }
            Err(error) => {
                metrics::counter!(catalog::TELEMETRY_CLOUDWATCH_PUTS_TOTAL, "outcome" => "failed")
                    .increment(1);
                let error = aws_sdk_cloudwatch::error::DisplayErrorContext(error);
                warn!(%error, "cannot put metrics to CloudWatch; the next round carries the counts");
            }
        }
    }
    counters_sent
}

fn write_emf(out: &Mutex<dyn Write + Send>, config: &PublisherConfig, points: &[Datum]) -> bool {
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis() as u64;
    let lines = emf::lines(points, &config.namespace, &config.deployment, now_ms);
    let mut out = out.lock().unwrap_or_else(|p| p.into_inner());
    let written = lines.iter().try_for_each(|line| writeln!(out, "{line}")).and_then(|()| out.flush());
    let outcome = if written.is_ok() { "ok" } else { "failed" };
    metrics::counter!(catalog::TELEMETRY_CLOUDWATCH_PUTS_TOTAL, "outcome" => outcome).increment(1);
    if let Err(error) = &written {
        warn!(%error, "cannot write EMF metrics; the next round carries the counts");
    }
    written.is_ok()
}

fn datum(point: &Datum, deployment: &Dimension, at: DateTime) -> MetricDatum {
    let unit = match point.unit {
        MetricUnit::Seconds => StandardUnit::Seconds,
        MetricUnit::Number => StandardUnit::Count,
        MetricUnit::Ratio | MetricUnit::Slots => StandardUnit::None,
    };
    let mut builder = MetricDatum::builder().metric_name(point.name).unit(unit).timestamp(at);
    builder = match point.samples.as_slice() {
        [] | [_] => builder.value(point.value),
        samples => samples.iter().fold(builder, |b, v| b.values(*v)),
    };
    builder = builder.dimensions(deployment.clone());
    for (name, value) in &point.dimensions {
        builder = builder.dimensions(Dimension::builder().name(name).value(value).build());
    }
    builder.build()
}
