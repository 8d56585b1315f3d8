//! How the Aztec node spells values in JSON (`foundation/json-rpc` conventions).

use alloy_primitives::{Address, B256};
use serde_json::Value;
use sparta_core::Slot;

use crate::dialect::{Dialect, SlotSpelling};

/// `EthAddress`: lower-case `0x` + 40 hex.
pub fn address(a: &Address) -> String {
    format!("{a:#x}")
}

/// `Fr` from a small number: `0x` + 64 hex.
pub fn fr(n: u64) -> String {
    format!("0x{n:064x}")
}

/// `Fr` from 32 bytes.
pub fn fr_bytes(b: &B256) -> String {
    format!("{b:#x}")
}

/// A branded slot number as the generation spells it: a JSON number, or a decimal string in 2.x.
pub fn slot(dialect: &Dialect, slot: Slot) -> Value {
    match dialect.slots {
        SlotSpelling::Number => Value::from(slot.0),
        SlotSpelling::DecimalString => Value::from(slot.0.to_string()),
    }
}

/// ISO-8601 UTC with milliseconds, as `Date.toISOString()` writes it.
pub fn iso_date(unix_s: u64) -> String {
    let days = (unix_s / 86_400) as i64;
    let secs = unix_s % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.000Z", secs / 3600, secs % 3600 / 60, secs % 60)
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_match_to_iso_string() {
        assert_eq!(iso_date(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_date(1_767_225_672), "2026-01-01T00:01:12.000Z");
        assert_eq!(iso_date(951_782_400), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn v2_spells_slots_as_strings() {
        assert_eq!(slot(&crate::dialect::V2, Slot(7)), Value::from("7"));
        assert_eq!(slot(&crate::dialect::V5, Slot(7)), Value::from(7));
    }

    #[test]
    fn addresses_are_lower_case() {
        let a: Address = "0x35b22e09Ee0390539439E24f06Da43D83f90e298".parse().unwrap();
        assert_eq!(address(&a), "0x35b22e09ee0390539439e24f06da43d83f90e298");
        assert_eq!(fr(0x7b).len(), 66);
    }
}
