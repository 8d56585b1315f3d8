//! Metrics for sparta: one [`catalog`] of every metric, and its Prometheus exposition.
//!
//! Code anywhere in the engine emits through the [`metrics`] facade (`counter!`, `gauge!`,
//! `histogram!`) by catalog name; [`install`] puts the Prometheus recorder behind that facade once per
//! process and [`serve`] exposes `GET /metrics`, `GET /healthz` and `GET /readyz`.
//!
//! Why `metrics` + `metrics-exporter-prometheus` rather than the `prometheus` crate: the `prometheus`
//! crate (0.14) has had no release since 2025-03, while `metrics` (0.24.6) and its exporter (0.18.3)
//! are maintained; and the facade lets any crate — store, chain client, actors, bot — emit without a
//! registry being passed around, so adding a metric never changes a function signature. We render
//! with `PrometheusHandle::render()` and serve it with our own axum router rather than the exporter's
//! listener, so the endpoint shares the engine's runtime, shutdown and bind address handling; the
//! listener bounds every wait on a client and caps connections ([`ServerLimits`]).

pub mod catalog;
pub mod cloudwatch;
pub mod families;
mod readiness;
mod server;

use std::sync::Mutex;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

pub use catalog::{CATALOG, MetricDef, MetricKind, MetricUnit};
pub use readiness::{Readiness, Ready};
pub use server::{MetricsServer, ServerLimits, serve, serve_with, serve_with_limits};

/// Bucket bounds (seconds) for every `_seconds` histogram: RPC and store calls span ~1 ms to tens of seconds.
pub const SECONDS_BUCKETS: &[f64] =
    &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("could not install the Prometheus recorder: {0}")]
    Install(String),
    #[error("could not bind the metrics endpoint to {addr}: {source}")]
    Bind { addr: std::net::SocketAddr, source: std::io::Error },
    #[error("the metrics endpoint failed: {0}")]
    Server(String),
}

/// The installed recorder's handle: renders the exposition text. Cheap to clone.
#[derive(Clone)]
pub struct Telemetry {
    handle: PrometheusHandle,
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Telemetry")
    }
}

impl Telemetry {
    /// The current exposition text (Prometheus text format 0.0.4): the facade's metrics, then the
    /// snapshot families.
    pub fn render(&self) -> String {
        let mut text = self.handle.render();
        families::render_into(&mut text);
        text
    }

    /// Drains histogram samples into their buckets; [`serve`] runs it periodically.
    pub fn run_upkeep(&self) {
        self.handle.run_upkeep();
    }

    pub fn prometheus_handle(&self) -> &PrometheusHandle {
        &self.handle
    }
}

static INSTALLED: Mutex<Option<Telemetry>> = Mutex::new(None);

/// Installs the process-wide Prometheus recorder and describes every catalog metric.
///
/// Idempotent: later calls return the handle of the first (tests run several engines in one process).
/// Fails only if some other recorder already took the global slot.
pub fn install() -> Result<Telemetry, TelemetryError> {
    let mut installed = INSTALLED.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(telemetry) = installed.as_ref() {
        return Ok(telemetry.clone());
    }
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS)
        .map_err(|e| TelemetryError::Install(e.to_string()))?
        .install_recorder()
        .map_err(|e| TelemetryError::Install(e.to_string()))?;
    describe_catalog();
    register_closed_counters();
    let telemetry = Telemetry { handle };
    *installed = Some(telemetry.clone());
    Ok(telemetry)
}

/// Every label-free counter, and every closed-set one, starts at zero.
fn register_closed_counters() {
    for def in CATALOG.iter().filter(|d| d.kind == MetricKind::Counter && d.labels.is_empty()) {
        metrics::counter!(def.name).increment(0);
    }
    for (name, label, values) in catalog::CLOSED_COUNTERS {
        for value in values.iter() {
            metrics::counter!(*name, *label => *value).increment(0);
        }
    }
}

fn describe_catalog() {
    for def in CATALOG {
        let (name, help) = (def.name, def.help);
        match (def.kind, def.unit.as_metrics_unit()) {
            (MetricKind::Counter, Some(unit)) => metrics::describe_counter!(name, unit, help),
            (MetricKind::Counter, None) => metrics::describe_counter!(name, help),
            (MetricKind::Gauge, Some(unit)) => metrics::describe_gauge!(name, unit, help),
            (MetricKind::Gauge, None) => metrics::describe_gauge!(name, help),
            (MetricKind::Histogram, Some(unit)) => metrics::describe_histogram!(name, unit, help),
            (MetricKind::Histogram, None) => metrics::describe_histogram!(name, help),
        }
    }
}
