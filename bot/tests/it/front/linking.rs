//! `/register` then `/verify` with real secp256k1 keys: only a signature by the validator's own key
//! over the open challenge links it, once, before it expires.

use std::sync::Arc;
use std::time::Duration;

use alloy_primitives::{Address, FixedBytes, eip191_hash_message};
use k256::ecdsa::SigningKey;
use sparta_bot::{Command, CommandHandler, Front, FrontConfig, Invocation, Reply, Snowflake};

use super::memory::MemoryBackend;

const USER: u64 = 1_301_234_567_890_123_456;

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32].into()).expect("a valid secp256k1 scalar")
}

fn address_of(key: &SigningKey) -> Address {
    Address::from_public_key(key.verifying_key())
}

/// `personal_sign`: EIP-191 prefix, keccak, recoverable ECDSA, `v` as 27/28.
fn personal_sign(key: &SigningKey, message: &str) -> FixedBytes<65> {
    let (signature, recovery) =
        key.sign_prehash_recoverable(eip191_hash_message(message).as_slice()).unwrap();
    let mut bytes = [0u8; 65];
    bytes[..64].copy_from_slice(&signature.to_bytes());
    bytes[64] = 27 + recovery.to_byte();
    FixedBytes(bytes)
}

struct Flow {
    backend: Arc<MemoryBackend>,
    front: Front,
}

impl Flow {
    fn new() -> Self {
        let backend = Arc::new(MemoryBackend::new());
        let config = FrontConfig { challenge_ttl: Duration::from_secs(600), ..FrontConfig::default() };
        Self { front: Front::new(backend.clone(), config), backend }
    }

    async fn ask(&self, command: Command) -> Reply {
        let invocation =
            Invocation { user_id: Snowflake(USER), member_roles: vec![], guild_id: None, command };
        self.front.handle(invocation).await
    }

    /// `/register` and the message it asks to sign (the code block of the answer).
    async fn register(&self, address: Address) -> String {
        let reply = self.ask(Command::Register { address }).await;
        assert!(reply.ephemeral);
        let message =
            reply.content.split_once("```\n").and_then(|(_, rest)| rest.split_once("\n```")).map(|(m, _)| m);
        message.unwrap_or_else(|| panic!("no challenge in {}", reply.content)).to_owned()
    }

    async fn verify(&self, address: Address, signature: FixedBytes<65>) -> Reply {
        self.ask(Command::Verify { address, signature }).await
    }

    fn links(&self) -> Vec<(String, Address, Option<String>)> {
        self.backend.with(|m| m.linked.clone())
    }
}

#[tokio::test]
async fn a_signature_by_the_validators_key_links_it() {
    let flow = Flow::new();
    let validator = key(1);
    let address = address_of(&validator);
    let message = flow.register(address).await;
    assert!(
        message.contains(&USER.to_string()) && message.to_lowercase().contains(&format!("{address:#x}")),
        "{message}"
    );
    let reply = flow.verify(address, personal_sign(&validator, &message)).await;
    assert!(reply.content.starts_with("Linked"), "{}", reply.content);
    assert_eq!(flow.links(), vec![(USER.to_string(), address, None)]);
}

#[tokio::test]
async fn another_keys_signature_is_refused_and_spends_the_challenge() {
    let flow = Flow::new();
    let validator = key(2);
    let address = address_of(&validator);
    let message = flow.register(address).await;
    let forged = flow.verify(address, personal_sign(&key(3), &message)).await;
    assert!(forged.content.contains("does not prove control"), "{}", forged.content);
    let retried = flow.verify(address, personal_sign(&validator, &message)).await;
    assert!(retried.content.contains("no open challenge"), "{}", retried.content);
    assert!(flow.links().is_empty());
}

#[tokio::test]
async fn a_challenge_is_single_use() {
    let flow = Flow::new();
    let validator = key(4);
    let address = address_of(&validator);
    let signature = personal_sign(&validator, &flow.register(address).await);
    assert!(flow.verify(address, signature).await.content.starts_with("Linked"));
    let replay = flow.verify(address, signature).await;
    assert!(replay.content.contains("no open challenge"), "{}", replay.content);
    assert_eq!(flow.links().len(), 1);
}

#[tokio::test]
async fn an_expired_challenge_is_refused() {
    let flow = Flow::new();
    let validator = key(5);
    let address = address_of(&validator);
    let signature = personal_sign(&validator, &flow.register(address).await);
    flow.backend.advance_ms(600_001);
    let late = flow.verify(address, signature).await;
    assert!(late.content.contains("expired"), "{}", late.content);
    assert!(flow.links().is_empty());
}

#[tokio::test]
async fn a_new_register_replaces_the_old_challenge_and_verify_needs_one() {
    let flow = Flow::new();
    let validator = key(6);
    let address = address_of(&validator);
    let none = flow.verify(address, personal_sign(&validator, "anything")).await;
    assert!(none.content.contains("no open challenge"), "{}", none.content);
    let first = flow.register(address).await;
    let second = flow.register(address).await;
    assert_ne!(first, second, "every challenge has a fresh nonce");
    let stale = flow.verify(address, personal_sign(&validator, &first)).await;
    assert!(stale.content.contains("does not prove control"), "{}", stale.content);
    assert!(flow.links().is_empty());
}
