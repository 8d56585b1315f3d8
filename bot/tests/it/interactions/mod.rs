mod commands;
mod deferred;
mod definitions;
mod endpoint;
pub mod harness;
mod replay;
use crate::schema;
