#![no_main]
// See sparta_chain::decode_targets::l1_log for what is fed where.
libfuzzer_sys::fuzz_target!(|data: &[u8]| sparta_chain::decode_targets::l1_log(data));
