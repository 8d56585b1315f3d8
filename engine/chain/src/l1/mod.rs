//! The L1 side: Registry, Rollup, GSE and slashing contracts over Ethereum JSON-RPC (alloy).

pub mod abi;
pub mod calldata;
pub mod error;
pub mod events;
pub mod reader;
pub mod tally;

pub use calldata::{ProposeCall, attestation_bitmap, decode_propose, propose_calls_in};
pub use error::L1Error;
pub use events::{L1Event, L1EventKind};
pub use reader::{L1Reader, RollupParams};
pub use tally::{RoundVotes, TallyParams};
