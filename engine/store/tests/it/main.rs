//! The one integration test binary of sparta-store.

mod challenges;
mod dynamo;
mod embedded;
mod faults;
mod proxy;
