//! Turning SDK errors into [`StoreError`]s an operator can act on.

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::StoreError;

/// Error codes the SDK's retry policy treats as throttling.
const THROTTLING: [&str; 3] =
    ["ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded"];

/// Maps a failed call on `table`; a missing table says how to create it, and throttling or server
/// errors (which the SDK retries) say that retrying did not help.
pub(crate) fn sdk_error<E>(table: &str, operation: &str, err: SdkError<E, HttpResponse>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    if err.code() == Some("ResourceNotFoundException") {
        return missing_table(table);
    }
    let answer = || format!("{}: {}", err.code().unwrap_or("no error code"), err.message().unwrap_or(""));
    if err.code().is_some_and(|c| THROTTLING.contains(&c)) {
        return StoreError::Backend(format!(
            "DynamoDB {operation} on table {table} was throttled and still failed after retrying ({}); \
             raise the table's capacity or the account limits, or retry later",
            answer()
        ));
    }
    if let Some(status) = err.raw_response().map(|r| r.status()).filter(|s| s.is_server_error()) {
        return StoreError::Backend(format!(
            "DynamoDB {operation} on table {table} failed after retrying: HTTP {} ({}), a fault on \
             DynamoDB's side; retry later",
            status.as_u16(),
            answer()
        ));
    }
    StoreError::Backend(format!(
        "DynamoDB {operation} on table {table} failed: {}",
        DisplayErrorContext(&err)
    ))
}

pub(crate) fn missing_table(table: &str) -> StoreError {
    StoreError::Backend(format!(
        "DynamoDB table {table} does not exist: create the store's tables first (terraform in production, \
         or DynamoStore::create_tables for development)"
    ))
}

/// A stored item that does not decode: data written by something else, or damaged.
pub(crate) fn malformed(table: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("DynamoDB table {table} holds a malformed item: {detail}"))
}
