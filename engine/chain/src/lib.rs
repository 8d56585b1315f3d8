//! Chain adapters: the Aztec node JSON-RPC client, the L1 Rollup reader, and the source that joins
//! them into per-slot facts.

#[doc(hidden)]
pub mod decode_targets;
mod instrument;
pub mod l1;
pub mod node;
pub mod plausible;
pub mod redact;
pub mod shown;
pub mod source;
pub mod transport;
pub mod unknown;

pub use l1::{L1Error, L1Reader};
pub use node::{NodeClient, NodeError};
pub use source::{ChainFacts, ChainSource, SlotSource, SourceError};
pub use transport::HttpLimits;
