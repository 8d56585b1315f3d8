//! Counts the requests the SDK sends again (throttling, 5xx, timeouts) under
//! `sparta_store_retries_total{op, reason="sdk"}`: the retries themselves are the SDK's standard
//! ones, this only makes them visible.

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::retries::RequestAttempts;

/// Declared in the telemetry catalog.
pub(crate) const RETRIES_METRIC: &str = "sparta_store_retries_total";

#[derive(Debug)]
pub(crate) struct CountRetries;

impl Intercept for CountRetries {
    fn name(&self) -> &'static str {
        "CountRetries"
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if cfg.load::<RequestAttempts>().is_some_and(|a| a.attempts() > 1) {
            let op = cfg.load::<Metadata>().map_or_else(|| "unknown".to_owned(), |m| m.name().to_owned());
            metrics::counter!(RETRIES_METRIC, "op" => op, "reason" => "sdk").increment(1);
        }
        Ok(())
    }
}
