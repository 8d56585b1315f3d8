mod commands;
mod deferred;
mod definitions;
mod endpoint;
mod harness;
use crate::schema;
