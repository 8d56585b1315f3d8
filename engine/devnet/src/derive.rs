//! Deterministic values derived from the network seed: addresses, hashes and dice rolls.
//!
//! Everything is `keccak256(tag ‖ seed ‖ a ‖ b)`, so a value depends only on what it names and never
//! on the order in which values were asked for.

use alloy_primitives::{Address, B256, U256, keccak256};

/// A 32-byte value named by `tag` and two numbers.
pub fn hash(seed: u64, tag: &str, a: u64, b: u64) -> B256 {
    let mut buf = Vec::with_capacity(tag.len() + 24);
    buf.extend_from_slice(tag.as_bytes());
    buf.extend_from_slice(&seed.to_be_bytes());
    buf.extend_from_slice(&a.to_be_bytes());
    buf.extend_from_slice(&b.to_be_bytes());
    keccak256(&buf)
}

/// An address named by `tag` and a number (validators, contracts).
pub fn address(seed: u64, tag: &str, index: u64) -> Address {
    Address::from_slice(&hash(seed, tag, index, 0)[12..])
}

/// A roll in `0..100`.
pub fn percent(seed: u64, tag: &str, a: u64, b: u64) -> u8 {
    let h = hash(seed, tag, a, b);
    (u64::from_be_bytes(h[..8].try_into().unwrap_or_default()) % 100) as u8
}

/// The epoch's sample seed, as `getSampleSeedAt` reports it.
pub fn sample_seed(seed: u64, epoch: u64) -> U256 {
    U256::from_be_bytes(hash(seed, "sample-seed", epoch, 0).0)
}

/// The Rollup's proposer choice: `keccak256(abi.encode(epoch, slot, seed)) % committee_len`.
pub fn proposer_index(epoch: u64, slot: u64, sample_seed: U256, committee_len: usize) -> usize {
    if committee_len == 0 {
        return 0;
    }
    let mut buf = [0u8; 96];
    buf[24..32].copy_from_slice(&epoch.to_be_bytes());
    buf[56..64].copy_from_slice(&slot.to_be_bytes());
    buf[64..96].copy_from_slice(&sample_seed.to_be_bytes::<32>());
    let digest = U256::from_be_bytes(keccak256(buf).0);
    (digest % U256::from(committee_len)).to::<usize>()
}

/// A 65-byte `r ‖ s ‖ v` signature standing in for a member's attestation on `slot`.
pub fn attestation_signature(seed: u64, member: Address, slot: u64) -> [u8; 65] {
    let mut sig = [0u8; 65];
    let salt = u64::from_be_bytes(member[..8].try_into().unwrap_or_default());
    sig[..32].copy_from_slice(hash(seed, "sig-r", salt, slot).as_slice());
    sig[32..64].copy_from_slice(hash(seed, "sig-s", salt, slot).as_slice());
    sig[64] = 0x1b;
    sig
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_sol_types::SolValue;

    #[test]
    fn proposer_index_matches_abi_encoding() {
        let seed = U256::from(123_456u64);
        let encoded = (U256::from(3u64), U256::from(99u64), seed).abi_encode();
        let expected = U256::from_be_bytes(keccak256(&encoded).0) % U256::from(48u64);
        assert_eq!(proposer_index(3, 99, seed, 48), expected.to::<usize>());
    }

    #[test]
    fn rolls_are_stable_and_in_range() {
        assert_eq!(percent(1, "t", 2, 3), percent(1, "t", 2, 3));
        assert!((0..500).all(|i| percent(7, "t", i, 0) < 100));
        assert_ne!(address(1, "v", 0), address(2, "v", 0));
    }
}
