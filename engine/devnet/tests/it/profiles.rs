//! Each scripted validator does what the profile module documents.

use sparta_core::{AttesterStatus, Epoch, ProposalOutcome, Slot};
use sparta_devnet::{L1Event, Network, Profile};

use crate::harness::{config, network_at};

/// (attestations sent, duties missed) of `index` over `from..=to`.
fn duties(network: &Network, index: usize, from: u64, to: u64) -> (usize, usize) {
    let address = network.validators()[index].address;
    let (mut sent, mut missed) = (0, 0);
    for record in network.slots(Slot(from), Slot(to)) {
        let Some(seat) = record.committee.iter().position(|a| *a == address) else { continue };
        if record.proposer == address {
            if record.outcome == ProposalOutcome::Mined { sent += 1 } else { missed += 1 }
        } else if record.attested.get(seat) {
            sent += 1;
        } else if record.generation.attesters_blamed(record.outcome) {
            missed += 1;
        }
    }
    (sent, missed)
}

#[test]
fn the_script_is_exposed_and_scripted_validators_sit_in_every_committee() {
    let (network, _) = network_at(config(), 0);
    let scripted = network.scripted();
    assert_eq!(scripted.len(), 5);
    assert_eq!(scripted[0].1, Profile::Reliable);
    assert_eq!(scripted[2].1, Profile::GoesOffline { from_slot: Slot(6) });
    assert_eq!(network.profile_of(&scripted[3].0), Some(Profile::Slashed { at_slot: Slot(20) }));
    for epoch in 0..5 {
        let committee = network.committee(Epoch(epoch));
        for (address, profile) in &scripted {
            let in_set = profile.in_set_at(Slot(epoch * 32));
            assert_eq!(committee.contains(address), in_set, "epoch {epoch}, {profile:?}");
        }
    }
    let flaky =
        network.validators()[5..].iter().filter(|v| matches!(v.profile, Profile::Flaky { .. })).count();
    assert!((8..=35).contains(&flaky), "about 10 % of 195 are flaky, got {flaky}");
}

#[test]
fn the_reliable_validator_collects_sixteen_attestations_within_a_minute() {
    let (network, _) = network_at(config(), 30);
    let (sent, missed) = duties(&network, 0, 0, 28);
    assert!(sent >= 16, "sent {sent}");
    assert_eq!(missed, 0);
}

#[test]
fn the_offline_validator_misses_every_duty_from_slot_six() {
    let (network, _) = network_at(config(), 64);
    let (sent_before, _) = duties(&network, 2, 0, 5);
    assert!(sent_before >= 4, "works before going offline: {sent_before}");
    let (sent_after, missed_after) = duties(&network, 2, 6, 64);
    assert_eq!(sent_after, 0);
    assert!(missed_after >= 50, "missed {missed_after}");
    let address = network.validators()[2].address;
    for record in network.slots(Slot(6), Slot(64)) {
        if record.proposer == address {
            assert_eq!(record.outcome, ProposalOutcome::BlocksMissed);
        }
    }
}

#[test]
fn the_slashed_validator_is_voted_on_slashed_zombied_and_dropped() {
    let (network, _) = network_at(config(), 40);
    let address = network.validators()[3].address;
    let votes: Vec<L1Event> = (17..20)
        .flat_map(|s| network.events_at(Slot(s)))
        .filter(|e| matches!(e, L1Event::VoteCast { .. }))
        .collect();
    assert!(!votes.is_empty(), "tally votes come before the slash");
    let at_20 = network.events_at(Slot(20));
    assert!(at_20.iter().any(|e| matches!(e, L1Event::Slashed { attester, .. } if *attester == address)));
    assert!(at_20.iter().any(|e| matches!(e, L1Event::RoundExecuted { slash_count: 1, .. })));
    assert_eq!(network.status_at(&address, Slot(19)), AttesterStatus::Validating);
    assert_eq!(network.status_at(&address, Slot(20)), AttesterStatus::Zombie);
    assert_eq!(duties(&network, 3, 20, 31).0, 0, "silent once slashed");
    assert!(!network.committee(Epoch(1)).contains(&address));
    assert!(!network.active_attesters_at(Slot(20)).contains(&address));
}

#[test]
fn the_exiting_validator_initiates_a_withdrawal_and_leaves() {
    let (network, _) = network_at(config(), 40);
    let v = network.validators()[4];
    let at_24 = network.events_at(Slot(24));
    assert!(at_24.iter().any(|e| matches!(
        e,
        L1Event::WithdrawInitiated { attester, recipient, .. } if *attester == v.address && *recipient == v.withdrawer
    )));
    assert_eq!(network.status_at(&v.address, Slot(23)), AttesterStatus::Validating);
    assert_eq!(network.status_at(&v.address, Slot(24)), AttesterStatus::Exiting);
    assert!(!network.committee(Epoch(1)).contains(&v.address));
    let slashes_or_exits_elsewhere = (0..40)
        .filter(|s| *s != 20 && *s != 24)
        .flat_map(|s| network.events_at(Slot(s)))
        .filter(|e| matches!(e, L1Event::Slashed { .. } | L1Event::WithdrawInitiated { .. }))
        .count();
    assert_eq!(slashes_or_exits_elsewhere, 0);
}
