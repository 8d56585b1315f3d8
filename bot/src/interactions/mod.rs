//! Discord's HTTP interactions: request verification, the wire model, the endpoint, and the
//! handler seam behind it.

pub mod endpoint;
pub mod handler;
pub mod model;
pub(crate) mod replay;
pub mod verify;
