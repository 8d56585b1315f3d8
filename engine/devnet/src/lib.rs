//! A deterministic simulated Aztec network, served over real JSON-RPC on loopback.
//!
//! [`Network`] is the pure simulation (validators with scripted [`Profile`]s, committees,
//! proposers, outcomes, checkpoints and L1 events as a function of seed and slot, advanced by a
//! [`sparta_core::SlotClock`]). [`Devnet::start`] serves it as an Aztec node JSON-RPC (`node_*`,
//! with Sentinel stats) and an Ethereum JSON-RPC subset (`eth_call` against the Registry, Rollup,
//! GSE, Slasher and TallySlashingProposer; `eth_getLogs`; blocks), so the engine reads it exactly as
//! it reads a real network. [`SyntheticHistory`] hands the same history to the engine directly, for
//! replays at scale.

mod addresses;
mod config;
mod derive;
pub mod dialect;
mod jsonrpc;
mod l1_calls;
mod l1_logs;
mod l1_rpc;
mod network;
mod node_rpc;
pub mod params;
mod profile;
mod replay;
mod sentinel;
mod server;
mod wire;

pub use addresses::L1Addresses;
pub use config::{ConfigError, DevnetConfig, SlotRange};
pub use dialect::Dialect;
pub use network::{L1Event, Network, SlotRecord, Validator};
pub use profile::{Profile, SCRIPTED};
pub use replay::{Ahead, SyntheticHistory};
pub use server::{Devnet, DevnetError, ListenAddrs, Outage, RunningDevnet};
pub use sparta_core::Generation;
