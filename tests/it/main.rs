//! The `sparta` binary as a user runs it: devnet, devnet serve, check, config check.

mod cli;
mod cloudwatch;
mod crash;
mod deploy;
mod deployed;
mod failover;
mod front;
mod hostile;
mod hostile_proxy;
mod process;
mod prometheus;
mod replay;
/// The bot's OpenAPI checker, shared so the API's answers are checked by the same code here.
#[allow(dead_code)]
#[path = "../../bot/tests/it/schema.rs"]
mod schema;
mod throttle;
mod tools;
