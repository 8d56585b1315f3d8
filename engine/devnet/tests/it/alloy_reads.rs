//! alloy itself can read the simulated L1: contract calls, blocks and logs.

use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::Filter;
use alloy_primitives::U256;
use alloy_sol_types::SolEvent;
use sparta_chain::l1::abi::{IRegistry, IRollup};
use sparta_core::Epoch;
use sparta_devnet::ProtocolVersion;

use crate::harness::Harness;

#[tokio::test]
async fn an_alloy_provider_reads_committees_blocks_and_logs() {
    let h = Harness::start(ProtocolVersion::V4, 40).await;
    let provider = ProviderBuilder::new().connect_http(h.devnet.l1_url.parse().unwrap());
    assert_eq!(provider.get_chain_id().await.unwrap(), 31337);
    assert_eq!(provider.get_block_number().await.unwrap(), 140);

    let registry = IRegistry::new(h.devnet.registry_address, &provider);
    let rollup_address = registry.getCanonicalRollup().call().await.unwrap();
    let rollup = IRollup::new(rollup_address, &provider);
    let committee = rollup.getEpochCommittee(U256::from(1)).call().await.unwrap();
    assert_eq!(committee, h.devnet.network.committee(Epoch(1)).to_vec());

    let block = provider.get_block_by_number(120.into()).await.unwrap().expect("block 120 exists");
    assert_eq!(block.header.number, 120);

    let filter = Filter::new()
        .address(rollup_address)
        .event_signature(IRollup::Slashed::SIGNATURE_HASH)
        .from_block(100);
    let logs = provider.get_logs(&filter).await.unwrap();
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].block_hash, Some(block.header.hash));
    let slashed = logs[0].log_decode::<IRollup::Slashed>().unwrap();
    assert_eq!(slashed.inner.attester, h.devnet.network.scripted()[3].0);
    h.stop().await;
}
