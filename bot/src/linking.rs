//! Proof of control for linking a validator to a Discord account: the operator signs a one-time
//! challenge with the validator's key (EIP-191 `personal_sign`, as every Ethereum wallet and
//! `cast wallet sign` do), and the signer recovered from the signature must be the validator.

use std::time::{Duration, UNIX_EPOCH};

use alloy_primitives::{Address, FixedBytes, Signature};
use rand::Rng;

/// The exact text to sign. It names the purpose, the account, the validator, a fresh nonce and the
/// expiry, so a signature cannot be replayed for another user, validator or challenge.
pub fn challenge_message(user: &str, validator: &Address, nonce: &str, expires_ms: u64) -> String {
    let expires = humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_millis(expires_ms));
    format!(
        "sparta: link validator {} to Discord user {user}\nnonce: {nonce}\nexpires: {expires}",
        validator.to_checksum(None)
    )
}

/// 16 random bytes as hex: a challenge no one can precompute.
pub fn new_nonce() -> String {
    hex::encode(rand::rng().random::<[u8; 16]>())
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("the last byte (v) must be 27 or 28 (or 0 or 1), got {0}")]
    BadRecoveryByte(u8),
    #[error("the signature is not in canonical (low-s) form; sign again with a standard wallet")]
    HighS,
    #[error("no signer can be recovered from it (corrupted or not a secp256k1 signature)")]
    Unrecoverable,
    #[error("it was signed by {signer}, not by the validator {expected}")]
    WrongSigner { signer: Address, expected: Address },
}

/// Checks that `signature` (`r ‖ s ‖ v`) is the validator's EIP-191 signature of `message`.
pub fn verify_link_signature(
    message: &str,
    signature: &FixedBytes<65>,
    expected: &Address,
) -> Result<(), LinkError> {
    let v = signature[64];
    if !matches!(v, 0 | 1 | 27 | 28) {
        return Err(LinkError::BadRecoveryByte(v));
    }
    let signature = Signature::from_raw_array(&signature.0).map_err(|_| LinkError::BadRecoveryByte(v))?;
    if signature.normalize_s().is_some() {
        return Err(LinkError::HighS);
    }
    let signer = signature.recover_address_from_msg(message).map_err(|_| LinkError::Unrecoverable)?;
    if signer != *expected {
        return Err(LinkError::WrongSigner { signer, expected: *expected });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use alloy_primitives::{U256, eip191_hash_message};
    use k256::ecdsa::SigningKey;

    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32].into()).unwrap()
    }

    fn sign(key: &SigningKey, message: &str, v_offset: u8) -> FixedBytes<65> {
        let (sig, recid) = key.sign_prehash_recoverable(eip191_hash_message(message).as_slice()).unwrap();
        let mut bytes = [0u8; 65];
        bytes[..64].copy_from_slice(&sig.to_bytes());
        bytes[64] = v_offset + recid.to_byte();
        FixedBytes(bytes)
    }

    #[test]
    fn the_message_names_user_validator_nonce_and_expiry() {
        let validator = Address::repeat_byte(0xab);
        let text = challenge_message("42", &validator, "00ff", 1_750_000_000_000);
        assert_eq!(
            text,
            "sparta: link validator 0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB to Discord user 42\n\
             nonce: 00ff\nexpires: 2025-06-15T15:06:40Z"
        );
        assert_ne!(new_nonce(), new_nonce());
        assert_eq!(new_nonce().len(), 32);
    }

    #[test]
    fn the_validators_own_signature_verifies_with_either_v_encoding() {
        let validator = key(1);
        let address = Address::from_public_key(validator.verifying_key());
        for offset in [0, 27] {
            assert_eq!(verify_link_signature("hello", &sign(&validator, "hello", offset), &address), Ok(()));
        }
    }

    /// Signed by an independent implementation (Python `eth_account`, key 0x11…11) over the text
    /// of `the_message_names_user_validator_nonce_and_expiry`.
    #[test]
    fn a_signature_made_by_another_implementation_verifies() {
        let message = challenge_message("42", &Address::repeat_byte(0xab), "00ff", 1_750_000_000_000);
        let signature: FixedBytes<65> = "0x8fb98154753b5f22110ca8b427307ef24bfa0af83c0c795ccb5c062cdbf7a3bb\
            54128d9bcaebfe0abdd2237cefa5b69b23a2fa0bcb43f78db0be61b354df27211c"
            .parse()
            .unwrap();
        let signer: Address = "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A".parse().unwrap();
        assert_eq!(verify_link_signature(&message, &signature, &signer), Ok(()));
        assert_eq!(Address::from_public_key(key(0x11).verifying_key()), signer, "the same key here");
    }

    #[test]
    fn other_signers_tampered_messages_and_garbage_are_refused() {
        let validator = key(1);
        let address = Address::from_public_key(validator.verifying_key());
        let other = sign(&key(2), "hello", 27);
        assert!(matches!(
            verify_link_signature("hello", &other, &address),
            Err(LinkError::WrongSigner { .. })
        ));
        let good = sign(&validator, "hello", 27);
        assert!(matches!(
            verify_link_signature("hello!", &good, &address),
            Err(LinkError::WrongSigner { .. })
        ));
        let mut bad_v = good;
        bad_v[64] = 29;
        assert_eq!(verify_link_signature("hello", &bad_v, &address), Err(LinkError::BadRecoveryByte(29)));
        let zeros = FixedBytes([0; 65]);
        assert_eq!(verify_link_signature("hello", &zeros, &address), Err(LinkError::Unrecoverable));
    }

    #[test]
    fn a_high_s_twin_of_a_valid_signature_is_refused() {
        let validator = key(3);
        let address = Address::from_public_key(validator.verifying_key());
        let good = sign(&validator, "hello", 27);
        let parsed = Signature::from_raw_array(&good.0).unwrap();
        let order =
            U256::from_str_radix("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", 16)
                .unwrap();
        let twin = Signature::new(parsed.r(), order - parsed.s(), !parsed.v());
        let twin = FixedBytes(twin.as_bytes());
        assert_eq!(verify_link_signature("hello", &twin, &address), Err(LinkError::HighS));
    }
}
