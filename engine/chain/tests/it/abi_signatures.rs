//! Every selector and event topic declared in `l1::abi` matches the signature lists generated from
//! `@aztec/l1-artifacts` (vendored in `testdata/abi`), parsed here at test time.

use std::collections::HashMap;

use alloy_primitives::hex;
use sparta_chain::l1::abi::{
    IEscapeHatch, IGSE, IRegistry, IRollup, IRollupV2, ISlasher, ITallySlashingProposer,
};

use crate::rpc_double::fixture_path;

/// contract → canonical signature → selector or topic0 (lower-case hex with 0x).
type Signatures = HashMap<String, HashMap<String, String>>;

fn load(file: &str) -> Signatures {
    let path = fixture_path("abi").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let mut out = Signatures::new();
    let mut contract = None;
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("=== ") {
            contract = Some(name.trim().to_owned());
            continue;
        }
        let fields: Vec<&str> = line.split('|').map(str::trim).collect();
        if let ([_, canonical, hash], Some(contract)) = (fields.as_slice(), &contract) {
            out.entry(contract.clone()).or_default().insert(canonical.to_string(), hash.to_lowercase());
        }
    }
    assert!(!out.is_empty(), "{file}: parsed no sections");
    out
}

#[track_caller]
fn check(lists: &Signatures, contract: &str, signatures: &[&str], hashes: Vec<String>) {
    let list = lists.get(contract).unwrap_or_else(|| panic!("no section {contract}"));
    assert_eq!(signatures.len(), hashes.len());
    assert!(!signatures.is_empty());
    for (signature, hash) in signatures.iter().zip(hashes) {
        let expected =
            list.get(*signature).unwrap_or_else(|| panic!("{contract}.{signature} is not in the ABI"));
        assert_eq!(&hash, expected, "{contract}.{signature}");
    }
}

fn hexes<const N: usize>(items: &[[u8; N]]) -> Vec<String> {
    items.iter().map(|s| format!("0x{}", hex::encode(s))).collect()
}

#[test]
fn v4_functions_match_the_generated_selectors() {
    let v4 = load("l1-abi-signatures-v4.1.2.txt");
    check(
        &v4,
        "Registry",
        IRegistry::IRegistryCalls::SIGNATURES,
        hexes(IRegistry::IRegistryCalls::SELECTORS),
    );
    check(&v4, "Rollup", IRollup::IRollupCalls::SIGNATURES, hexes(IRollup::IRollupCalls::SELECTORS));
    check(&v4, "Slasher", ISlasher::ISlasherCalls::SIGNATURES, hexes(ISlasher::ISlasherCalls::SELECTORS));
    check(
        &v4,
        "TallySlashingProposer",
        ITallySlashingProposer::ITallySlashingProposerCalls::SIGNATURES,
        hexes(ITallySlashingProposer::ITallySlashingProposerCalls::SELECTORS),
    );
    check(&v4, "GSE", IGSE::IGSECalls::SIGNATURES, hexes(IGSE::IGSECalls::SELECTORS));
    check(
        &v4,
        "EscapeHatch",
        IEscapeHatch::IEscapeHatchCalls::SIGNATURES,
        hexes(IEscapeHatch::IEscapeHatchCalls::SELECTORS),
    );
}

#[test]
fn v4_events_match_the_generated_topics() {
    let v4 = load("l1-abi-signatures-v4.1.2.txt");
    check(
        &v4,
        "Registry",
        IRegistry::IRegistryEvents::SIGNATURES,
        hexes(IRegistry::IRegistryEvents::SELECTORS),
    );
    check(&v4, "Rollup", IRollup::IRollupEvents::SIGNATURES, hexes(IRollup::IRollupEvents::SELECTORS));
    check(
        &v4,
        "TallySlashingProposer",
        ITallySlashingProposer::ITallySlashingProposerEvents::SIGNATURES,
        hexes(ITallySlashingProposer::ITallySlashingProposerEvents::SELECTORS),
    );
}

#[test]
fn v2_declarations_match_the_v2_rollup() {
    let v2 = load("l1-abi-signatures-v2.0.3.txt");
    check(&v2, "Rollup", IRollupV2::IRollupV2Calls::SIGNATURES, hexes(IRollupV2::IRollupV2Calls::SELECTORS));
    check(
        &v2,
        "Rollup",
        IRollupV2::IRollupV2Events::SIGNATURES,
        hexes(IRollupV2::IRollupV2Events::SELECTORS),
    );
}

#[test]
fn propose_is_the_v4_selector() {
    use alloy_sol_types::SolCall;
    assert_eq!(IRollup::proposeCall::SELECTOR, [0x85, 0xb9, 0x8f, 0xd8]);
}

/// The v5 and v6 changes have no vendored artifact list (no v5/v6 `@aztec/l1-artifacts` is reachable):
/// their selectors and topic are pinned to what the Aztec sources compute (`aztec-labs-eng/aztec-node`,
/// `l1-contracts/src/core/RollupCore.sol` at 03778315c9 for v5; `SlashingProposer.sol` at 7ab220da1c
/// and the sequencer publisher at ccc0823b08 for v6).
#[test]
fn v5_and_v6_selectors_and_topics_match_the_sources() {
    use alloy_sol_types::{SolCall, SolEvent};
    use sparta_chain::l1::abi::{IRollupV5, IRollupV6, ISlashingProposerV6};
    let hex_of = |bytes: &[u8]| hex::encode(bytes);
    assert_eq!(hex_of(&IRollup::proposeCall::SELECTOR), "85b98fd8", "4.1.2");
    assert_eq!(hex_of(&IRollupV5::proposeCall::SELECTOR), "72636df9", "v5");
    assert_eq!(hex_of(&IRollupV6::proposeCall::SELECTOR), "0a883a99", "v6");
    assert_eq!(
        hex_of(ISlashingProposerV6::VoteCast::SIGNATURE_HASH.as_slice()),
        "f6ed5a0362706e33942c258dd867d1664e91a7653843a7c3459a857db97287ae"
    );
    assert_eq!(
        hex_of(ITallySlashingProposer::VoteCast::SIGNATURE_HASH.as_slice()),
        "7fe1d4e6b34e228b5dc059fcdc037c71b216fb2417f47c171e505144a5e4f5fc",
        "4.x and mainnet 5.x"
    );
}
