//! Pure decoders for the Rollup's `propose` calldata: who attested a checkpoint, read from L1 alone.
//!
//! The decoder is picked by the selector, so one reader follows every generation's transactions:
//!
//! | selector | generation | what changed |
//! |---|---|---|
//! | `0x85b98fd8` | 4.x | the 11-field checkpoint header |
//! | `0x72636df9` | 5.x | the header gains `accumulatedFees` |
//! | `0x0a883a99` | 6.x | header field 4 is `inboxRollingHash`; the args gain `bucketHint` |
//!
//! The attestations, signers, signature and blob input are the same in all three.

use alloy_primitives::{Address, B256, U256};
use alloy_sol_types::SolCall;
use sparta_core::{Generation, Slot};

use super::abi::{CommitteeAttestations, IMulticall3, IRollup, IRollupV5, IRollupV6};
use super::error::L1Error;
use crate::unknown::{UnknownShape, count_unknown};

const SIGNATURE_LEN: usize = 65;
const ADDRESS_LEN: usize = 20;

/// Every `propose` selector sparta reads, with the generation that sends it.
pub const PROPOSE_SELECTORS: [([u8; 4], Generation); 3] = [
    (IRollup::proposeCall::SELECTOR, Generation::V4),
    (IRollupV5::proposeCall::SELECTOR, Generation::V5),
    (IRollupV6::proposeCall::SELECTOR, Generation::V6),
];

/// The generation whose `propose` starts with `selector`.
pub fn propose_generation(selector: &[u8]) -> Option<Generation> {
    PROPOSE_SELECTORS.iter().find(|(s, _)| s.as_slice() == selector).map(|(_, g)| *g)
}

/// A decoded `propose` call (any generation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProposeCall {
    /// Which generation's `propose` it was (by selector).
    pub generation: Generation,
    pub slot: Slot,
    pub archive: B256,
    /// Unix seconds of the checkpoint header.
    pub timestamp: u64,
    pub coinbase: Address,
    /// The signing members' addresses, in committee order (the `_signers` argument).
    pub signers: Vec<Address>,
    /// `signature_bitmap[i]` is true when committee member `i` signed.
    pub signature_bitmap: Vec<bool>,
    /// The addresses packed for the members that did not sign, by committee position.
    pub non_signers: Vec<(usize, Address)>,
}

impl ProposeCall {
    pub fn committee_len(&self) -> usize {
        self.signature_bitmap.len()
    }
}

/// Decodes `propose` calldata of any known generation. An unknown selector is an error, and is
/// counted (`sparta_chain_unknown_shapes_total{kind="propose_selector"}`): a newer rollup than this
/// build knows.
pub fn decode_propose(calldata: &[u8]) -> Result<ProposeCall, L1Error> {
    let selector = calldata.get(..4).ok_or_else(|| L1Error::Calldata("shorter than a selector".into()))?;
    // Each generation's call is its own `sol!` type; all name the shared fields alike.
    macro_rules! decode_as {
        ($call:ty, $generation:expr) => {{
            let call = <$call>::abi_decode(calldata).map_err(|e| L1Error::Calldata(e.to_string()))?;
            let (args, header) = (&call._args, &call._args.header);
            let parts = Parts {
                archive: args.archive,
                slot: header.slotNumber,
                timestamp: header.timestamp,
                coinbase: header.coinbase,
            };
            assemble($generation, parts, &call._attestations, call._signers)
        }};
    }
    match propose_generation(selector) {
        Some(Generation::V6) => decode_as!(IRollupV6::proposeCall, Generation::V6),
        Some(Generation::V5) => decode_as!(IRollupV5::proposeCall, Generation::V5),
        Some(_) => decode_as!(IRollup::proposeCall, Generation::V4),
        None => {
            count_unknown(UnknownShape::ProposeSelector);
            Err(L1Error::Calldata(format!(
                "selector 0x{} is no propose sparta knows ({})",
                alloy_primitives::hex::encode(selector),
                PROPOSE_SELECTORS
                    .iter()
                    .map(|(s, g)| format!("{g} 0x{}", alloy_primitives::hex::encode(s)))
                    .collect::<Vec<_>>()
                    .join(", ")
            )))
        }
    }
}

/// The header fields every generation shares.
struct Parts {
    archive: B256,
    slot: U256,
    timestamp: U256,
    coinbase: Address,
}

fn assemble(
    generation: Generation,
    parts: Parts,
    attestations: &CommitteeAttestations,
    signers: Vec<Address>,
) -> Result<ProposeCall, L1Error> {
    let (signature_bitmap, non_signers) =
        walk_attestations(&attestations.signatureIndices, &attestations.signaturesOrAddresses)?;
    let narrow = |what: &str, v: U256| {
        u64::try_from(v).map_err(|_| L1Error::Calldata(format!("{what} {v} does not fit in 64 bits")))
    };
    Ok(ProposeCall {
        generation,
        slot: Slot(narrow("slot", parts.slot)?),
        archive: parts.archive,
        timestamp: narrow("timestamp", parts.timestamp)?,
        coinbase: parts.coinbase,
        signers,
        signature_bitmap,
        non_signers,
    })
}

/// The `propose` calls to `rollup` in a transaction's input: the input itself when it is one, or
/// the ones inside a Multicall3 `aggregate3` bundle (how the sequencer publishes). Other calls in a
/// bundle (votes, signals) are skipped; an input that is neither is an error.
pub fn propose_calls_in(input: &[u8], rollup: Address) -> Result<Vec<ProposeCall>, L1Error> {
    match input.get(..4) {
        Some(selector) if propose_generation(selector).is_some() => Ok(vec![decode_propose(input)?]),
        Some(selector) if selector == IMulticall3::aggregate3Call::SELECTOR => {
            let bundle = IMulticall3::aggregate3Call::abi_decode(input)
                .map_err(|e| L1Error::Calldata(format!("aggregate3: {e}")))?;
            bundle
                .calls
                .iter()
                .filter(|call| {
                    call.target == rollup && call.callData.get(..4).and_then(propose_generation).is_some()
                })
                .map(|call| decode_propose(&call.callData))
                .collect()
        }
        _ => Err(L1Error::Calldata(format!(
            "input 0x{} is neither propose nor aggregate3",
            alloy_primitives::hex::encode(input.get(..4).unwrap_or(input))
        ))),
    }
}

/// Bit `i` of the MSB-first bitmap `indices`: did committee member `i` sign?
pub fn attestation_bitmap(indices: &[u8], committee_len: usize) -> Vec<bool> {
    (0..committee_len).map(|i| bit(indices, i)).collect()
}

fn bit(indices: &[u8], i: usize) -> bool {
    indices.get(i / 8).is_some_and(|byte| byte & (0x80 >> (i % 8)) != 0)
}

/// Per committee position: signed or not, and the packed addresses of those that did not sign.
type AttestationLayout = (Vec<bool>, Vec<(usize, Address)>);

/// Walks `signaturesOrAddresses` (65 bytes per signer, 20 per non-signer, in committee order) to
/// learn the committee length and the non-signers' addresses.
fn walk_attestations(indices: &[u8], packed: &[u8]) -> Result<AttestationLayout, L1Error> {
    let mut bitmap = Vec::new();
    let mut non_signers = Vec::new();
    let mut offset = 0;
    while offset < packed.len() {
        let position = bitmap.len();
        let signed = bit(indices, position);
        let len = if signed { SIGNATURE_LEN } else { ADDRESS_LEN };
        let entry = packed.get(offset..offset + len).ok_or_else(|| {
            L1Error::Calldata(format!(
                "attestation {position} needs {len} bytes at offset {offset}, only {} left",
                packed.len() - offset
            ))
        })?;
        if !signed {
            non_signers.push((position, Address::from_slice(entry)));
        }
        bitmap.push(signed);
        offset += len;
    }
    Ok((bitmap, non_signers))
}

#[cfg(test)]
mod tests {
    use alloy_primitives::{Bytes, U256};

    use super::*;
    use crate::l1::abi::{
        CheckpointHeader, CommitteeAttestations, GasFees, OracleInput, ProposeArgs, Signature,
    };

    fn propose_calldata(indices: Vec<u8>, packed: Vec<u8>, signers: Vec<Address>) -> Vec<u8> {
        let header = CheckpointHeader {
            lastArchiveRoot: B256::ZERO,
            blockHeadersHash: B256::ZERO,
            blobsHash: B256::ZERO,
            inHash: B256::ZERO,
            outHash: B256::ZERO,
            slotNumber: U256::from(4242),
            timestamp: U256::from(1_767_225_672u64),
            coinbase: Address::repeat_byte(0xcb),
            feeRecipient: B256::ZERO,
            gasFees: GasFees { feePerDaGas: 1, feePerL2Gas: 2 },
            totalManaUsed: U256::from(7),
        };
        IRollup::proposeCall {
            _args: ProposeArgs {
                archive: B256::repeat_byte(0xaa),
                oracleInput: OracleInput { feeAssetPriceModifier: Default::default() },
                header,
            },
            _attestations: CommitteeAttestations {
                signatureIndices: Bytes::from(indices),
                signaturesOrAddresses: Bytes::from(packed),
            },
            _signers: signers,
            _attestationsAndSignersSignature: Signature { v: 27, r: B256::ZERO, s: B256::ZERO },
            _blobInput: Bytes::new(),
        }
        .abi_encode()
    }

    /// The same checkpoint as `propose_calldata`'s, as a 5.x and a 6.x sequencer would send it.
    fn newer_propose_calldata(
        generation: Generation,
        indices: Vec<u8>,
        packed: Vec<u8>,
        signers: Vec<Address>,
    ) -> Vec<u8> {
        use crate::l1::abi::{CheckpointHeaderV5, CheckpointHeaderV6, ProposeArgsV5, ProposeArgsV6};
        let attestations = CommitteeAttestations {
            signatureIndices: Bytes::from(indices),
            signaturesOrAddresses: Bytes::from(packed),
        };
        let signature = Signature { v: 27, r: B256::ZERO, s: B256::ZERO };
        let gas_fees = GasFees { feePerDaGas: 1, feePerL2Gas: 2 };
        let oracle = OracleInput { feeAssetPriceModifier: Default::default() };
        let (slot, ts, coinbase) =
            (U256::from(4242), U256::from(1_767_225_672u64), Address::repeat_byte(0xcb));
        match generation {
            Generation::V5 => IRollupV5::proposeCall {
                _args: ProposeArgsV5 {
                    archive: B256::repeat_byte(0xaa),
                    oracleInput: oracle,
                    header: CheckpointHeaderV5 {
                        lastArchiveRoot: B256::ZERO,
                        blockHeadersHash: B256::ZERO,
                        blobsHash: B256::ZERO,
                        inHash: B256::ZERO,
                        outHash: B256::ZERO,
                        slotNumber: slot,
                        timestamp: ts,
                        coinbase,
                        feeRecipient: B256::ZERO,
                        gasFees: gas_fees,
                        totalManaUsed: U256::from(7),
                        accumulatedFees: U256::from(9),
                    },
                },
                _attestations: attestations,
                _signers: signers,
                _attestationsAndSignersSignature: signature,
                _blobInput: Bytes::new(),
            }
            .abi_encode(),
            _ => IRollupV6::proposeCall {
                _args: ProposeArgsV6 {
                    archive: B256::repeat_byte(0xaa),
                    oracleInput: oracle,
                    header: CheckpointHeaderV6 {
                        lastArchiveRoot: B256::ZERO,
                        blockHeadersHash: B256::ZERO,
                        blobsHash: B256::ZERO,
                        inboxRollingHash: B256::ZERO,
                        outHash: B256::ZERO,
                        slotNumber: slot,
                        timestamp: ts,
                        coinbase,
                        feeRecipient: B256::ZERO,
                        gasFees: gas_fees,
                        totalManaUsed: U256::from(7),
                        accumulatedFees: U256::from(9),
                    },
                    bucketHint: U256::from(3),
                },
                _attestations: attestations,
                _signers: signers,
                _attestationsAndSignersSignature: signature,
                _blobInput: Bytes::new(),
            }
            .abi_encode(),
        }
    }

    #[test]
    fn every_generation_decodes_by_its_selector_alone_and_in_a_bundle() {
        let (a, b, c) = (Address::repeat_byte(1), Address::repeat_byte(2), Address::repeat_byte(3));
        let mut packed = vec![0x11; SIGNATURE_LEN];
        packed.extend_from_slice(b.as_slice());
        packed.extend_from_slice(&[0x33; SIGNATURE_LEN]);
        let rollup = Address::repeat_byte(0x70);
        for generation in [Generation::V4, Generation::V5, Generation::V6] {
            let input = match generation {
                Generation::V4 => propose_calldata(vec![0b1010_0000], packed.clone(), vec![a, c]),
                g => newer_propose_calldata(g, vec![0b1010_0000], packed.clone(), vec![a, c]),
            };
            let decoded = decode_propose(&input).unwrap();
            assert_eq!(decoded.generation, generation);
            assert_eq!((decoded.slot, decoded.timestamp), (Slot(4242), 1_767_225_672), "{generation}");
            assert_eq!(decoded.coinbase, Address::repeat_byte(0xcb));
            assert_eq!(decoded.signature_bitmap, vec![true, false, true]);
            assert_eq!(decoded.non_signers, vec![(1, b)]);
            let bundle = IMulticall3::aggregate3Call {
                calls: vec![crate::l1::abi::Call3 {
                    target: rollup,
                    allowFailure: false,
                    callData: input.into(),
                }],
            }
            .abi_encode();
            let calls = propose_calls_in(&bundle, rollup).unwrap();
            assert_eq!(calls.len(), 1, "{generation} inside aggregate3");
            assert_eq!(calls[0].generation, generation);
        }
    }

    #[test]
    fn bitmap_is_msb_first_per_byte() {
        assert_eq!(attestation_bitmap(&[0b1010_0000], 4), vec![true, false, true, false]);
        assert_eq!(attestation_bitmap(&[0x00, 0x80], 9), [vec![false; 8], vec![true]].concat());
        assert_eq!(attestation_bitmap(&[0xff], 10)[8..], [false, false], "bits past the bytes are unset");
    }

    #[test]
    fn propose_calldata_yields_slot_signers_and_bitmap() {
        let (a, b, c) = (Address::repeat_byte(1), Address::repeat_byte(2), Address::repeat_byte(3));
        // Members 0 and 2 signed; member 1 did not and is packed as its address.
        let mut packed = vec![0x11; SIGNATURE_LEN];
        packed.extend_from_slice(b.as_slice());
        packed.extend_from_slice(&[0x33; SIGNATURE_LEN]);
        let decoded = decode_propose(&propose_calldata(vec![0b1010_0000], packed, vec![a, c])).unwrap();
        assert_eq!(decoded.slot, Slot(4242));
        assert_eq!(decoded.timestamp, 1_767_225_672);
        assert_eq!(decoded.coinbase, Address::repeat_byte(0xcb));
        assert_eq!(decoded.archive, B256::repeat_byte(0xaa));
        assert_eq!(decoded.signers, vec![a, c]);
        assert_eq!(decoded.signature_bitmap, vec![true, false, true]);
        assert_eq!(decoded.non_signers, vec![(1, b)]);
        assert_eq!(decoded.committee_len(), 3);
    }

    #[test]
    fn bad_calldata_is_an_error() {
        assert!(decode_propose(&[0x85, 0xb9]).is_err(), "too short");
        let unknown = decode_propose(&[0xde, 0xad, 0xbe, 0xef, 0, 0]).unwrap_err().to_string();
        assert!(unknown.contains("0xdeadbeef") && unknown.contains("v6 0x0a883a99"), "{unknown}");
        let mut truncated = propose_calldata(vec![0x80], vec![0x11; SIGNATURE_LEN], vec![]);
        truncated.truncate(100);
        assert!(decode_propose(&truncated).is_err(), "truncated arguments");
        // The bitmap says "signed" but only an address's worth of bytes follows.
        let lying = propose_calldata(vec![0x80], vec![0x11; ADDRESS_LEN], vec![]);
        assert!(matches!(decode_propose(&lying), Err(L1Error::Calldata(m)) if m.contains("needs 65 bytes")));
    }
}
