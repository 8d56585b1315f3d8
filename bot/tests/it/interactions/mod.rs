mod commands;
mod deferred;
mod definitions;
mod endpoint;
pub mod harness;
use crate::schema;
