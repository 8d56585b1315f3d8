//! The two shapes `getCheckpoints` has answered with, read into one.
//!
//! - 4.x: `PublishedCheckpoint` — `{checkpoint: {number, header, archive, blocks}, l1: {blockNumber,
//!   timestamp, blockHash}, attestations}`.
//! - 5.x and 6.x: `CheckpointResponse` — `{number, header, archive, checkpointOutHash, startBlock,
//!   blockCount, feeAssetPriceModifier}`, plus `l1` (`{published: false}` or `{published: true,
//!   blockNumber, timestamp, blockHash}`) and `attestations` only when asked for
//!   (`stdlib/src/interfaces/checkpoint_response.ts`).
//!
//! Which one an element is follows from the element itself (a `checkpoint` member is 4.x), so a node
//! is read right whatever version string it reports.

use serde::Deserialize;
use serde_json::Value;

use super::dialect::CheckpointShape;
use super::num;
use super::wire::{Checkpoint, CheckpointHeader, CommitteeAttestation, L1PublishedData, PublishedCheckpoint};

/// One element of a 5.x/6.x `getCheckpoints` answer.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CheckpointResponse {
    #[serde(deserialize_with = "num::u64_from")]
    number: u64,
    header: CheckpointHeader,
    #[serde(default)]
    archive: Option<Value>,
    #[serde(default)]
    l1: Option<L1PublishInfo>,
    #[serde(default)]
    attestations: Option<Vec<CommitteeAttestation>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct L1PublishInfo {
    published: bool,
    #[serde(default, deserialize_with = "num::opt_u64_from")]
    block_number: Option<u64>,
    #[serde(default, deserialize_with = "num::opt_u64_from")]
    timestamp: Option<u64>,
    #[serde(default)]
    block_hash: Option<String>,
}

/// A page of checkpoints, all on L1, in order; and the shape they came in (`None` for an empty page).
pub type Page = (Vec<PublishedCheckpoint>, Option<CheckpointShape>);

/// Reads a `getCheckpoints` page in either shape. The page ends at the first checkpoint not yet on
/// L1: everything before it is published, in order.
pub fn read_page(page: Vec<Value>) -> Result<Page, String> {
    let mut out = Vec::with_capacity(page.len());
    let shape = page.first().map(shape_of);
    for (i, element) in page.into_iter().enumerate() {
        let published = if shape_of(&element) == CheckpointShape::Published {
            Some(
                serde_json::from_value::<PublishedCheckpoint>(element)
                    .map_err(|e| format!("checkpoint {i}: {e}"))?,
            )
        } else {
            let response = serde_json::from_value::<CheckpointResponse>(element)
                .map_err(|e| format!("checkpoint {i}: {e}"))?;
            normalize(response).map_err(|e| format!("checkpoint {i}: {e}"))?
        };
        match published {
            Some(p) => out.push(p),
            None => break,
        }
    }
    Ok((out, shape))
}

/// A 4.x element wraps the checkpoint in a `checkpoint` member; a 5.x one is the checkpoint.
fn shape_of(element: &Value) -> CheckpointShape {
    if element.get("checkpoint").is_some() { CheckpointShape::Published } else { CheckpointShape::Response }
}

/// `None` for a checkpoint the node holds but L1 does not have yet.
fn normalize(response: CheckpointResponse) -> Result<Option<PublishedCheckpoint>, String> {
    let number = response.number;
    // Asked for, so missing means a node that ignored the options: reading on would blame every
    // attester of the checkpoint, so it is an error instead.
    let l1 = response.l1.ok_or("no `l1` publish info, though it was asked for")?;
    if !l1.published {
        return Ok(None);
    }
    let attestations = response.attestations.ok_or("no `attestations`, though they were asked for")?;
    let (Some(block_number), Some(timestamp)) = (l1.block_number, l1.timestamp) else {
        return Err(format!("checkpoint {number} is published but its L1 block or time is missing"));
    };
    Ok(Some(PublishedCheckpoint {
        checkpoint: Checkpoint {
            number,
            header: response.header,
            archive: response.archive,
            blocks: Vec::new(),
        },
        l1: L1PublishedData { block_number, timestamp, block_hash: l1.block_hash },
        attestations,
    }))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn v5(number: u64, published: bool, attestations: bool) -> Value {
        let mut c = json!({
            "number": number,
            "header": { "slotNumber": 40 + number, "timestamp": "1767225672", "coinbase": "0x00000000000000000000000000000000000000cb" },
            "archive": { "root": "0x01", "nextAvailableLeafIndex": number + 1 },
            "checkpointOutHash": "0x00",
            "startBlock": number,
            "blockCount": 1,
            "feeAssetPriceModifier": "0",
            "l1": if published {
                json!({ "published": true, "blockNumber": "120", "timestamp": "1767225674", "blockHash": "0xab" })
            } else {
                json!({ "published": false })
            },
        });
        if attestations {
            c["attestations"] =
                json!([{ "address": "0x0000000000000000000000000000000000000001", "signature": "0x11" }]);
        }
        c
    }

    #[test]
    fn a_v5_page_reads_like_a_v4_one_and_ends_at_the_first_unpublished_checkpoint() {
        let (page, shape) =
            read_page(vec![v5(7, true, true), v5(8, false, false), v5(9, true, true)]).unwrap();
        assert_eq!(shape, Some(CheckpointShape::Response));
        assert_eq!(page.len(), 1);
        let c = &page[0];
        assert_eq!((c.checkpoint.number, c.checkpoint.header.slot_number.0), (7, 47));
        assert_eq!((c.l1.block_number, c.l1.timestamp), (120, 1_767_225_674));
        assert!(c.attestations[0].signed());
    }

    #[test]
    fn a_v5_answer_without_what_was_asked_for_is_an_error_not_an_empty_committee() {
        let err = read_page(vec![v5(7, true, false)]).unwrap_err();
        assert!(err.contains("attestations"), "{err}");
        let mut no_l1 = v5(7, true, true);
        no_l1.as_object_mut().unwrap().remove("l1");
        assert!(read_page(vec![no_l1]).unwrap_err().contains("l1"));
    }
}
