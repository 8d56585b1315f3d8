//! Turning SDK errors into [`StoreError`]s an operator can act on.

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::StoreError;

/// Maps a failed call on `table`; a missing table says how to create it.
pub(crate) fn sdk_error<E, R>(table: &str, operation: &str, err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    if err.code() == Some("ResourceNotFoundException") {
        return missing_table(table);
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
