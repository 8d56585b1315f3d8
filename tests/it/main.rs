//! The `sparta` binary as a user runs it: devnet, devnet serve, check, config check.

mod cli;
mod crash;
mod deploy;
mod deployed;
mod failover;
mod process;
mod prometheus;
mod tools;
