//! One accepted connection: HTTP/1 with every wait on the client bounded.

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tower::ServiceExt;

use super::deadline_body::{DeadlineBody, TimedOut};
use super::limits::ServerLimits;
use super::stall::StallGuard;

/// What a connection of the health reserve may ask for.
const HEALTH_PATHS: [&str; 2] = ["/healthz", "/readyz"];

/// How one connection is served: the limits, as they apply to its pool.
#[derive(Clone, Copy, Debug)]
pub(super) struct ConnSettings {
    header_timeout: Duration,
    body_timeout: Duration,
    request_timeout: Duration,
    write_timeout: Duration,
    health_only: bool,
}

impl ConnSettings {
    pub(super) fn general(limits: &ServerLimits) -> Self {
        Self {
            header_timeout: limits.header_timeout,
            body_timeout: limits.body_timeout,
            request_timeout: limits.request_timeout,
            write_timeout: limits.write_timeout,
            health_only: false,
        }
    }

    pub(super) fn health(limits: &ServerLimits) -> Self {
        Self { header_timeout: limits.health_header_timeout, health_only: true, ..Self::general(limits) }
    }
}

/// Serves `stream` until the client leaves, a limit is hit, or `stop` turns true (then the request
/// in flight, if any, is answered and the connection closed).
pub(super) async fn serve(
    stream: TcpStream,
    router: Router,
    settings: ConnSettings,
    mut stop: watch::Receiver<bool>,
) {
    let io = TokioIo::new(StallGuard::new(stream, settings.write_timeout));
    let service = service_fn(move |request| respond(request, router.clone(), settings));
    // hyper's header timeout also runs while a kept-alive connection waits for its next request,
    // so it closes idle connections too (the tests hold it to that).
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(settings.header_timeout);
    let mut connection = std::pin::pin!(builder.serve_connection(io, service));
    let outcome = tokio::select! {
        outcome = connection.as_mut() => outcome,
        () = stopped(&mut stop) => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(error) = outcome {
        // Timeouts, resets and malformed requests: the client's problem, not the server's.
        tracing::debug!(%error, "connection ended");
    }
}

async fn stopped(stop: &mut watch::Receiver<bool>) {
    // A dropped sender means the server is gone: stop too.
    let _ = stop.wait_for(|stop| *stop).await;
}

async fn respond(
    request: Request<Incoming>,
    router: Router,
    settings: ConnSettings,
) -> Result<Response, Infallible> {
    if settings.health_only && !HEALTH_PATHS.contains(&request.uri().path()) {
        return Ok(closing(StatusCode::SERVICE_UNAVAILABLE, "busy: only health checks are served now\n"));
    }
    let timed_out = TimedOut::default();
    let request =
        request.map(|body| Body::new(DeadlineBody::new(body, settings.body_timeout, timed_out.clone())));
    let answer = tokio::time::timeout(settings.request_timeout, router.oneshot(request)).await;
    Ok(match answer {
        // The handler saw a failed read and answered for it; the client should hear why.
        _ if timed_out.get() => closing(StatusCode::REQUEST_TIMEOUT, "the request body came too slowly\n"),
        Ok(Ok(response)) => response,
        Ok(Err(never)) => match never {},
        Err(_elapsed) => closing(StatusCode::SERVICE_UNAVAILABLE, "the request took too long\n"),
    })
}

/// An answer after which the connection is closed (its request may not have been read to the end).
fn closing(status: StatusCode, text: &'static str) -> Response {
    (status, [(header::CONNECTION, "close")], text).into_response()
}
