//! Serenity's `Http`, set up for a long-running sender: bounded waits on the network, and every
//! rate-limit wait counted.

use std::time::Duration;

use serenity::http::{Http, HttpBuilder, RatelimitInfo};

use super::error::RestError;

/// Counter of the waits serenity's rate limiter makes, by `scope` (`route` or `global`); declared
/// in the telemetry catalog as `sparta_discord_rate_limited_total`.
pub const RATE_LIMITED_METRIC: &str = "sparta_discord_rate_limited_total";

/// A Discord that does not accept a connection in this long is down for now: let the outbox retry.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// One request's bound (serenity's own sleeps on a 429 are outside it).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The production HTTP client: rustls with the built-in web roots, bounded connect and request.
pub fn default_client() -> Result<reqwest012::Client, RestError> {
    reqwest012::Client::builder()
        .use_rustls_tls()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .build()
        .map_err(|e| RestError::Invalid(format!("building the HTTP client: {e}")))
}

/// Serenity's client over `client`, its rate limiter on (it is on unless disabled) and reporting.
pub fn http(token: &str, client: reqwest012::Client) -> Http {
    let mut http = HttpBuilder::new(token).client(client).build();
    if let Some(limiter) = http.ratelimiter.as_mut() {
        limiter.set_ratelimit_callback(Box::new(count_wait));
    }
    http
}

/// Called by serenity before each wait: pre-emptive (a bucket is empty) or after a 429.
fn count_wait(info: RatelimitInfo) {
    let scope = if info.global { "global" } else { "route" };
    tracing::debug!(scope, path = %info.path, wait_ms = info.timeout.as_millis() as u64, "discord rate limit wait");
    metrics::counter!(RATE_LIMITED_METRIC, "scope" => scope).increment(1);
}
