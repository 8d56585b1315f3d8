//! The decoders' fuzz targets: each feeds arbitrary bytes to every decoder of one input kind and
//! exercises what the engine then reads from a decoded value. None may panic. Shared by the
//! libFuzzer targets (`engine/chain/fuzz`) and the test that replays their corpus on every run.

use alloy::rpc::types::Log;
use alloy_primitives::{Address, B256, Bytes, LogData};
use sparta_core::Slot;

use crate::l1::{attestation_bitmap, decode_propose, events, propose_calls_in};
use crate::node::{
    L2Tips, NodeInfo, PublishedCheckpoint, SingleValidatorStats, ValidatorsStats, decode_answer,
};

/// A node JSON-RPC answer (the whole body), as every method's result type. A body starting with `!`
/// is also read as a non-2xx answer.
pub fn node_answer(body: &[u8]) {
    let status = if body.first() == Some(&b'!') { 503 } else { 200 };
    let body = body.strip_prefix(b"!").unwrap_or(body);
    // The answer's own id, so the decoders past the id check are reached too.
    #[derive(serde::Deserialize)]
    struct Id {
        id: u64,
    }
    let id = serde_json::from_slice::<Id>(body).map_or(1, |answer| answer.id);
    let _ = decode_answer::<NodeInfo>("node_getNodeInfo", id, status, body);
    if let Ok(Some(tips)) = decode_answer::<L2Tips>("node_getL2Tips", id, status, body) {
        let _ = tips.checkpointed_checkpoint();
    }
    if let Ok(Some(checkpoints)) =
        decode_answer::<Vec<PublishedCheckpoint>>("node_getCheckpoints", id, status, body)
    {
        for published in &checkpoints {
            let _ = published.attestations.iter().filter(|a| a.signed()).count();
        }
    }
    if let Ok(Some(stats)) = decode_answer::<ValidatorsStats>("node_getValidatorsStats", id, status, body) {
        let _ = stats.sentinel_enabled();
        for record in stats.stats.values() {
            let _ = record.to_core();
            let _ = record.status_at(Slot(0));
        }
    }
    if let Ok(Some(single)) =
        decode_answer::<SingleValidatorStats>("node_getValidatorStats", id, status, body)
    {
        let _ = single.validator.to_core();
    }
}

/// A transaction's input: `propose` itself or a Multicall3 bundle; also read as a bitmap.
pub fn l1_calldata(input: &[u8]) {
    let rollup = Address::repeat_byte(0x32);
    let _ = propose_calls_in(input, rollup);
    if let Ok(call) = decode_propose(input) {
        let _ = call.committee_len();
    }
    let _ = attestation_bitmap(input, input.len().min(4096));
}

/// A Rollup log: byte 0 picks topic0 among the known topics (or takes the next 32 bytes), byte 1
/// how many more topics follow (at most 3), the rest is the data. A body starting with `{` is read
/// as an RPC log object instead.
pub fn l1_log(bytes: &[u8]) {
    if bytes.first() == Some(&b'{') {
        if let Ok(log) = serde_json::from_slice::<Log>(bytes) {
            let _ = events::decode_log(&log);
        }
        return;
    }
    let known = events::known_topics();
    let mut rest = bytes;
    let pick = take(&mut rest, 1).first().copied().unwrap_or(0) as usize;
    let mut topics = Vec::new();
    match known.get(pick) {
        Some(topic) => topics.push(*topic),
        None => topics.push(B256::right_padding_from(take(&mut rest, 32))),
    }
    let extra = take(&mut rest, 1).first().copied().unwrap_or(0) % 4;
    for _ in 0..extra {
        topics.push(B256::right_padding_from(take(&mut rest, 32)));
    }
    let data = LogData::new_unchecked(topics, Bytes::copy_from_slice(rest));
    let log = Log {
        inner: alloy_primitives::Log { address: Address::repeat_byte(0x32), data },
        block_number: Some(1),
        ..Default::default()
    };
    let _ = events::decode_log(&log);
}

/// The first `n` bytes of `rest` (fewer at its end), advancing it.
fn take<'a>(rest: &mut &'a [u8], n: usize) -> &'a [u8] {
    let (head, tail) = rest.split_at(n.min(rest.len()));
    *rest = tail;
    head
}
