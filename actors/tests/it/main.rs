//! The full actor tree against the devnet simulator over loopback JSON-RPC, with a manual clock so
//! every run sees the same chain.

mod front;
mod harness;
mod localnet;
mod metrics;
mod outbox;
mod pipeline;
mod scenarios;
mod supervision;
