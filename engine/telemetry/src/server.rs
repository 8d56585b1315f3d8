//! The HTTP endpoint Prometheus scrapes (and health checks and the routes the engine adds).
//!
//! Served by our own accept loop over hyper rather than `axum::serve`, which bounds no wait on a
//! client and caps no connections: idle or slow clients could hold every file of the process and
//! starve the health check. See [`ServerLimits`].

mod accept;
mod connection;
mod deadline_body;
mod limits;
mod stall;

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use limits::ServerLimits;

use crate::readiness::Readiness;
use crate::{Telemetry, TelemetryError};

/// The content type of the Prometheus text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// How often histogram samples are drained into buckets between scrapes.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// A running metrics endpoint. Dropping it stops the server too; [`MetricsServer::shutdown`] also waits.
#[derive(Debug)]
pub struct MetricsServer {
    local_addr: SocketAddr,
    readiness: Readiness,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl MetricsServer {
    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// What `GET /readyz` answers.
    pub fn readiness(&self) -> &Readiness {
        &self.readiness
    }

    /// Stops accepting scrapes, finishes in-flight ones and waits for the server to end. Connections
    /// still open after the header, request and write timeouts together are dropped.
    pub async fn shutdown(mut self) -> Result<(), TelemetryError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => task.await.map_err(|e| TelemetryError::Server(e.to_string())),
            None => Ok(()),
        }
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Binds `addr` (use `127.0.0.1:<port>` unless scrapers are remote) and serves `GET /metrics`,
/// `GET /healthz` (the process is up) and `GET /readyz` (200 with the role when ready, else 503) until
/// shut down.
pub async fn serve(handle: Telemetry, addr: SocketAddr) -> Result<MetricsServer, TelemetryError> {
    serve_with(handle, addr, Router::new()).await
}

/// As [`serve`], plus the routes of `extra` (the Discord interactions endpoint and the API share
/// the port, so one load-balancer target and one health check cover them all).
pub async fn serve_with(
    handle: Telemetry,
    addr: SocketAddr,
    extra: Router,
) -> Result<MetricsServer, TelemetryError> {
    serve_with_limits(handle, addr, extra, ServerLimits::default()).await
}

/// As [`serve_with`], with the given timeouts and connection caps.
pub async fn serve_with_limits(
    handle: Telemetry,
    addr: SocketAddr,
    extra: Router,
    limits: ServerLimits,
) -> Result<MetricsServer, TelemetryError> {
    let listener =
        tokio::net::TcpListener::bind(addr).await.map_err(|source| TelemetryError::Bind { addr, source })?;
    let local_addr = listener.local_addr().map_err(|source| TelemetryError::Bind { addr, source })?;
    let (stop, stopped) = oneshot::channel::<()>();

    let readiness = Readiness::default();
    let ready = readiness.clone();
    let router = Router::new()
        .route("/metrics", get(metrics_page))
        .route("/healthz", get(|| async { "ok\n" }))
        .route(
            "/readyz",
            get(move || {
                let state = ready.get();
                let code = if state.ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
                async move { (code, Json(state)) }
            }),
        )
        .with_state(handle.clone())
        .merge(extra);

    let nofile = limits::nofile_soft_limit();
    let caps = limits::caps(&limits, nofile);
    let task = tokio::spawn(async move {
        let upkeep = async {
            let mut tick = tokio::time::interval(UPKEEP_INTERVAL);
            loop {
                tick.tick().await;
                handle.run_upkeep();
            }
        };
        let stop = async {
            let _ = stopped.await;
        };
        tokio::select! {
            () = accept::run(listener, router, limits, caps, stop) => {}
            never = upkeep => never,
        }
    });
    tracing::info!(
        %local_addr,
        connections = caps.general,
        health_reserve = caps.reserve,
        ?nofile,
        "metrics endpoint listening"
    );
    Ok(MetricsServer { local_addr, readiness, stop: Some(stop), task: Some(task) })
}

async fn metrics_page(State(telemetry): State<Telemetry>) -> impl IntoResponse {
    telemetry.run_upkeep();
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], telemetry.render())
}
