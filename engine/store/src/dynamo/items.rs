//! Reading and writing attribute maps: small helpers so a malformed item is an error naming its table.

use std::collections::HashMap;

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sparta_core::Address;

use super::errors::malformed;
use crate::StoreError;

pub(crate) type Item = HashMap<String, AttributeValue>;

pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(crate) fn n(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub(crate) fn b(bytes: Vec<u8>) -> AttributeValue {
    AttributeValue::B(Blob::new(bytes))
}

pub(crate) fn item<const N: usize>(pairs: [(&str, AttributeValue); N]) -> Item {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// Lower-case 0x hex: sorts like the raw bytes, so string order is address order.
pub(crate) fn address_key(address: &Address) -> String {
    format!("{address:#x}")
}

pub(crate) fn get_s<'a>(table: &str, item: &'a Item, attr: &str) -> Result<&'a str, StoreError> {
    match item.get(attr) {
        Some(AttributeValue::S(v)) => Ok(v),
        other => Err(malformed(table, format!("attribute {attr} should be a string, found {other:?}"))),
    }
}

pub(crate) fn get_n(table: &str, item: &Item, attr: &str) -> Result<u64, StoreError> {
    match item.get(attr) {
        Some(AttributeValue::N(v)) => {
            v.parse().map_err(|_| malformed(table, format!("attribute {attr} is not a u64: {v}")))
        }
        other => Err(malformed(table, format!("attribute {attr} should be a number, found {other:?}"))),
    }
}

pub(crate) fn get_b<'a>(table: &str, item: &'a Item, attr: &str) -> Result<&'a [u8], StoreError> {
    match item.get(attr) {
        Some(AttributeValue::B(v)) => Ok(v.as_ref()),
        other => Err(malformed(table, format!("attribute {attr} should be binary, found {other:?}"))),
    }
}

pub(crate) fn get_address(table: &str, item: &Item, attr: &str) -> Result<Address, StoreError> {
    let text = get_s(table, item, attr)?;
    text.parse().map_err(|e| malformed(table, format!("attribute {attr} is not an address ({text}): {e}")))
}

pub(crate) fn to_json<T: Serialize>(value: &T) -> Result<AttributeValue, StoreError> {
    serde_json::to_string(value).map(s).map_err(|e| StoreError::InvalidInput(e.to_string()))
}

pub(crate) fn from_json<T: DeserializeOwned>(table: &str, item: &Item, attr: &str) -> Result<T, StoreError> {
    let text = get_s(table, item, attr)?;
    serde_json::from_str(text).map_err(|e| malformed(table, format!("undecodable {attr}: {e}")))
}
