//! The crate's one integration test binary (one link step instead of one per file).

mod api;
mod console;
mod front;
pub mod interactions;
mod rest;
mod schema;
