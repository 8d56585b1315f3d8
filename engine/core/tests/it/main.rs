//! Integration tests of sparta-core (one binary: every module below links once).

mod monitor_matches_reference;
mod sentinel_reference;
