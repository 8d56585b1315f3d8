//! alloy itself can read the simulated L1: contract calls, blocks and logs.

use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::Filter;
use alloy_primitives::U256;
use alloy_sol_types::SolEvent;
use sparta_chain::l1::abi::{IRegistry, IRollup};
use sparta_core::Epoch;
use sparta_devnet::Generation;

use crate::harness::Harness;

#[tokio::test]
async fn an_alloy_provider_reads_committees_blocks_and_logs() {
    let h = Harness::start(Generation::V4, 40).await;
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

#[tokio::test]
async fn the_scripted_slash_draws_tally_votes_the_chain_source_reads_as_targets() {
    let h = Harness::start(Generation::V4, 19).await;
    let (slashed, _) = h.devnet.network.scripted()[3];
    let mut source = sparta_chain::source::ChainSource::connect(&h.devnet.node_url, &h.devnet.l1_url)
        .await
        .expect("the source connects");
    // Blocks of slots 0..=19: the votes of round 0, not yet executed.
    let events = source.events_between(100, 119).await.unwrap();
    let votes: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            sparta_core::ChainEvent::SlashVotes(v) => Some(v.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(votes.len(), 1, "{events:?}");
    let round = &votes[0];
    assert!(!round.executed);
    assert!(round.votes_cast >= 1, "{round:?}");
    assert_eq!(round.targets.len(), 1, "only the scripted validator is voted on: {round:?}");
    assert_eq!(round.targets[0].validator, slashed);
    assert_eq!(round.targets[0].votes, round.votes_cast, "every vote is against it");
    assert!(round.executable_from > sparta_core::Slot(19) && round.expires_at > round.executable_from);

    // Slot 20 executes the round: the source reports it executed, with the same targets.
    h.set_slot(21);
    let events = source.events_between(120, 121).await.unwrap();
    let executed = events.iter().find_map(|e| match e {
        sparta_core::ChainEvent::SlashVotes(v) => Some(v.clone()),
        _ => None,
    });
    let executed = executed.expect("the execution is reported");
    assert!(executed.executed);
    assert_eq!(executed.targets, round.targets);
    h.stop().await;
}
