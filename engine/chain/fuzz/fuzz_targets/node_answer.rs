#![no_main]
// See sparta_chain::decode_targets::node_answer for what is fed where.
libfuzzer_sys::fuzz_target!(|data: &[u8]| sparta_chain::decode_targets::node_answer(data));
