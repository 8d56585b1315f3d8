//! Same seed, same chain; a different seed, a different chain; nothing from the future.

use sparta_core::{Epoch, ProposalOutcome, Slot};
use sparta_devnet::DevnetConfig;

use crate::harness::{config, network_at};

#[test]
fn the_same_seed_gives_the_same_committees_proposers_and_outcomes() {
    let (a, _) = network_at(config(), 100);
    let (b, _) = network_at(config(), 100);
    assert_eq!(a.slots(Slot(0), Slot(100)), b.slots(Slot(0), Slot(100)));
    for epoch in 0..4 {
        assert_eq!(a.committee(Epoch(epoch)), b.committee(Epoch(epoch)));
    }
    assert_eq!(a.validators(), b.validators());
}

#[test]
fn a_different_seed_gives_a_different_network() {
    let (a, _) = network_at(config(), 64);
    let (b, _) = network_at(DevnetConfig { seed: 43, ..config() }, 64);
    assert_ne!(a.validators()[0].address, b.validators()[0].address);
    assert_ne!(a.committee(Epoch(0)), b.committee(Epoch(0)));
    let proposers = |n: &sparta_devnet::Network| {
        n.slots(Slot(0), Slot(64)).iter().map(|r| r.proposer).collect::<Vec<_>>()
    };
    assert_ne!(proposers(&a), proposers(&b));
}

#[test]
fn records_agree_with_the_pure_committee_and_proposer_functions() {
    let (network, _) = network_at(config(), 70);
    let mut expected_checkpoint = 0;
    for record in network.slots(Slot(0), Slot(70)) {
        assert_eq!(record.committee, network.committee(record.epoch));
        assert_eq!(record.committee.len(), 48);
        assert_eq!(record.proposer, network.proposer_at(record.slot));
        if record.outcome == ProposalOutcome::Mined {
            expected_checkpoint += 1;
            assert_eq!(
                record.checkpoint,
                Some(expected_checkpoint),
                "checkpoints count mined slots in order"
            );
        } else {
            assert_eq!(record.checkpoint, None);
        }
    }
    assert_eq!(network.pending_checkpoint_at(Slot(70)), expected_checkpoint);
    assert!(expected_checkpoint > 50, "most slots are mined, got {expected_checkpoint} of 71");
}

#[test]
fn nothing_past_the_clock_is_visible_and_advancing_reveals_it() {
    let (network, clock) = network_at(config(), 10);
    assert!(network.slot(Slot(10)).is_some());
    assert!(network.slot(Slot(11)).is_none());
    assert_eq!(network.slots(Slot(0), Slot(50)).len(), 11);
    let pending = network.pending_checkpoint_at(Slot(10));
    assert_eq!(network.pending_checkpoint_at(Slot(500)), pending, "future slots are clipped to now");
    assert!(network.events_at(Slot(20)).is_empty());
    assert!(network.checkpoint(pending + 1).is_none());

    clock.set_slot(Slot(20));
    assert!(network.slot(Slot(20)).is_some());
    assert!(!network.events_at(Slot(20)).is_empty(), "the slash lands at slot 20");
}

#[test]
fn proven_trails_pending_by_about_an_epoch() {
    let (network, clock) = network_at(config(), 47);
    assert_eq!(network.proven_checkpoint_at(Slot(47)), 0, "epoch 0 is proven at slot 48");
    clock.set_slot(Slot(48));
    let proven = network.proven_checkpoint_at(Slot(48));
    assert_eq!(proven, network.pending_checkpoint_at(Slot(31)));
    assert!(proven > 0 && proven < network.pending_checkpoint_at(Slot(48)));
    let landed = network.events_at(Slot(48));
    assert!(
        landed.iter().any(
            |e| matches!(e, sparta_devnet::L1Event::ProofVerified { checkpoint, .. } if *checkpoint == proven)
        ),
        "{landed:?} should prove checkpoint {proven}"
    );
}

#[test]
fn bad_configs_are_refused_with_a_reason() {
    use sparta_core::{ManualSlotClock, SlotClock};
    use sparta_devnet::{ConfigError, Network};
    use std::sync::Arc;

    let small = DevnetConfig { validators: 10, ..config() };
    assert!(matches!(small.validate(), Err(ConfigError::TooFewValidators { .. })));
    let clock = ManualSlotClock::at_slot(DevnetConfig { slot_seconds: 72, ..config() }.timing(), Slot(0));
    let err = Network::new(config(), Arc::new(clock) as Arc<dyn SlotClock>).unwrap_err();
    assert!(matches!(err, ConfigError::ClockMismatch { .. }));
    let wall =
        ManualSlotClock::at_slot(DevnetConfig { genesis_time_s: 0, ..config() }.timing(), Slot(900_000_000));
    let err =
        Network::new(DevnetConfig { genesis_time_s: 0, ..config() }, Arc::new(wall) as Arc<dyn SlotClock>)
            .unwrap_err();
    assert!(matches!(err, ConfigError::GenesisTooFarInPast { .. }), "{err}");
}
