//! Integration tests: the pure simulation, and both servers over real loopback HTTP.

mod alloy_reads;
mod determinism;
mod harness;
mod l1_rpc;
mod node_rpc;
mod profiles;
