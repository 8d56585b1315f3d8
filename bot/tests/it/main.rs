//! The crate's one integration test binary (one link step instead of one per file).

mod console;
mod interactions;
