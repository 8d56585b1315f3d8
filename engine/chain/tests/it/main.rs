//! Integration tests of sparta-chain against canned node and L1 answers served on loopback.

mod abi_signatures;
mod fake_l1;
mod fuzz_corpus;
mod generations;
mod hostile;
mod l1_reader;
mod node_client;
mod node_wire;
mod recorded;
mod rpc_double;
mod source;
