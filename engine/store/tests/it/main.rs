//! The one integration test binary of sparta-store.

mod dynamo;
mod embedded;
mod faults;
mod proxy;
