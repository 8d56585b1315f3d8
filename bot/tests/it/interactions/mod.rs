mod commands;
mod definitions;
mod endpoint;
mod harness;
mod schema;
