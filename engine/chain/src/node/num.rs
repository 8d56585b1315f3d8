//! Lenient number decoding for the node's JSON.
//!
//! The same field changes shape across node versions: slots are JSON numbers in v4, decimal strings
//! in v2 (bigints), and `header.slotNumber` is a field element (`0x` + 64 hex digits). Every numeric
//! field that has drifted goes through [`u64_from`], which accepts all three.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use sparta_core::{Epoch, Slot};

/// Parses `"123"`, `"0x7b"` or `"0x000…07b"` (leading zeros allowed; the value must fit in a u64).
pub fn parse_u64(text: &str) -> Result<u64, String> {
    let text = text.trim();
    if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        let digits = hex.trim_start_matches('0');
        if digits.is_empty() {
            return if hex.is_empty() { Err("empty hex number \"0x\"".into()) } else { Ok(0) };
        }
        return u64::from_str_radix(digits, 16).map_err(|e| format!("hex number {text:?}: {e}"));
    }
    text.parse::<u64>().map_err(|e| format!("number {text:?}: {e}"))
}

struct FlexU64;

impl<'de> Visitor<'de> for FlexU64 {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a non-negative integer as a JSON number, a decimal string or a 0x hex string")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
        Ok(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
        u64::try_from(v).map_err(|_| E::custom(format!("negative number {v}")))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<u64, E> {
        // JavaScript may print a large integer as `1.7e9`; accept it only when it is integral.
        if v >= 0.0 && v.fract() == 0.0 && v <= u64::MAX as f64 {
            Ok(v as u64)
        } else {
            Err(E::custom(format!("not a non-negative integer: {v}")))
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
        parse_u64(v).map_err(E::custom)
    }
}

/// `deserialize_with` for a u64 in any of the node's number shapes.
pub fn u64_from<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    d.deserialize_any(FlexU64)
}

/// `deserialize_with` for an optional u64 (`null` or absent → `None`; pair with `#[serde(default)]`).
pub fn opt_u64_from<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    struct Wrapped(#[serde(deserialize_with = "u64_from")] u64);
    Ok(Option::<Wrapped>::deserialize(d)?.map(|w| w.0))
}

pub fn slot_from<'de, D: Deserializer<'de>>(d: D) -> Result<Slot, D::Error> {
    u64_from(d).map(Slot)
}

pub fn opt_slot_from<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Slot>, D::Error> {
    opt_u64_from(d).map(|v| v.map(Slot))
}

pub fn epoch_from<'de, D: Deserializer<'de>>(d: D) -> Result<Epoch, D::Error> {
    u64_from(d).map(Epoch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Probe(#[serde(deserialize_with = "u64_from")] u64);

    fn probe(json: &str) -> Result<u64, String> {
        serde_json::from_str::<Probe>(json).map(|p| p.0).map_err(|e| e.to_string())
    }

    #[test]
    fn every_number_shape_decodes() {
        assert_eq!(probe("12345"), Ok(12345));
        assert_eq!(probe("\"12345\""), Ok(12345));
        assert_eq!(probe("\"0x3039\""), Ok(12345));
        assert_eq!(
            probe("\"0x0000000000000000000000000000000000000000000000000000000000003039\""),
            Ok(12345)
        );
        assert_eq!(probe("\"0x0000000000000000000000000000000000000000000000000000000000000000\""), Ok(0));
        assert_eq!(probe("1.767225672e9"), Ok(1_767_225_672));
    }

    #[test]
    fn bad_numbers_are_errors_not_panics() {
        assert!(probe("-1").is_err());
        assert!(probe("1.5").is_err());
        assert!(probe("\"0x\"").is_err());
        assert!(probe("\"twelve\"").is_err());
        assert!(probe("\"0x10000000000000000\"").is_err(), "does not fit in u64");
        assert!(probe("null").is_err());
    }
}
