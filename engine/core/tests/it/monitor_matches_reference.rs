//! The compact monitor against the naive reference over many random histories, each observed under one
//! protocol generation (2.x, 4.x, 5.x or 6.x), with that generation's Sentinel rule.
//!
//! Re-run one failing case with `SPARTA_SEED=<seed> cargo test -p sparta-core --test it`.

use std::sync::Arc;

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sparta_core::{
    Address, CommitteeBits, Epoch, Generation, MonitorConfig, ProposalOutcome, Slot, SlotFacts,
    ValidatorMonitor,
};

use crate::sentinel_reference::ReferenceSentinel;

const CASES: u64 = 10_000;

#[test]
fn the_monitor_matches_the_reference_sentinel() {
    if let Some(seed) = std::env::var("SPARTA_SEED").ok().and_then(|s| s.parse().ok()) {
        run_case(seed).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        return;
    }
    let master: u64 = rand::rng().random();
    for case in 0..CASES {
        let seed = master.wrapping_add(case);
        if let Err(e) = run_case(seed) {
            panic!("case {case} failed; re-run with SPARTA_SEED={seed}\n{e}");
        }
    }
}

struct Case {
    rng: ChaCha8Rng,
    pool: Vec<Address>,
    epoch_len: u64,
    generation: Generation,
}

impl Case {
    /// An outcome the case's generation can report, and now and then one sparta does not know.
    fn outcome(&mut self) -> ProposalOutcome {
        use ProposalOutcome as O;
        if self.rng.random_range(0..40) == 0 {
            return O::Unknown;
        }
        let possible: &[ProposalOutcome] = match self.generation {
            Generation::V2 => &[O::Mined, O::Proposed, O::BlocksMissed],
            Generation::V4 => &[O::Mined, O::Proposed, O::CheckpointMissed, O::BlocksMissed],
            Generation::V5 | Generation::V6 => {
                &[O::Mined, O::Proposed, O::Invalid, O::Unvalidated, O::CheckpointMissed, O::BlocksMissed]
            }
        };
        possible[self.rng.random_range(0..possible.len())]
    }

    fn facts(&mut self, slot: u64) -> SlotFacts {
        let size = self.rng.random_range(0..=8usize.min(self.pool.len()));
        let committee: Arc<[Address]> = self.pool.choose_multiple(&mut self.rng, size).copied().collect();
        let attest_p = self.rng.random_range(0.0..=1.0);
        let mut attested = CommitteeBits::with_len(size);
        for seat in 0..size {
            if self.rng.random_bool(attest_p) {
                attested.set(seat);
            }
        }
        // Now and then the proposer is missing or outside the committee: neither may be judged as proposer.
        let proposer = match self.rng.random_range(0..20) {
            0 => None,
            1 => Some(Address::repeat_byte(0xee)),
            _ if size > 0 => Some(committee[self.rng.random_range(0..size)]),
            _ => None,
        };
        SlotFacts {
            slot: Slot(slot),
            epoch: Epoch(slot / self.epoch_len),
            committee,
            proposer,
            outcome: self.outcome(),
            attested,
            generation: self.generation,
        }
    }
}

fn run_case(seed: u64) -> Result<(), String> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let window = rng.random_range(4..=40u64);
    let epoch_len = rng.random_range(1..=8u64);
    let epoch_history = rng.random_range(1..=6usize);
    let pool: Vec<Address> = (1..=rng.random_range(1..=12u8)).map(Address::repeat_byte).collect();
    let sharded = rng.random_bool(0.25);
    let owns = move |a: &Address| !sharded || a[0] % 2 == 1;
    let steps = rng.random_range(1..=32);

    let config = MonitorConfig {
        slot_window: window,
        epoch_history,
        epoch_duration_slots: epoch_len,
        keep_old_entries: true,
    };
    let mut monitor = ValidatorMonitor::new(config.clone());
    // The engine's setting: entries the window has passed are dropped; its window stats must not change.
    let mut trimmed = ValidatorMonitor::new(MonitorConfig { keep_old_entries: false, ..config.clone() });
    let mut reference = ReferenceSentinel::new(window, epoch_len, epoch_history);
    let generation = *Generation::ALL.choose(&mut rng).expect("generations");
    let mut case = Case { rng, pool: pool.clone(), epoch_len, generation };
    let mut slot = case.rng.random_range(0..5u64);

    for step in 0..steps {
        match case.rng.random_range(0..10) {
            // A slot the source skipped.
            0 => {
                monitor.mark_processed(Slot(slot));
                trimmed.mark_processed(Slot(slot));
                reference.mark_processed(slot);
            }
            // A replay of an old slot: must change nothing.
            1 if reference.last_processed().is_some() => {
                let old = case.rng.random_range(0..=reference.last_processed().unwrap_or(0));
                let facts = case.facts(old);
                let before: Vec<_> = pool.iter().map(|v| monitor.stats(v)).collect();
                let changed = monitor.register_slot_for(&facts, owns);
                trimmed.register_slot_for(&facts, owns);
                reference.register_slot(&facts, &owns);
                let after: Vec<_> = pool.iter().map(|v| monitor.stats(v)).collect();
                if !changed.is_empty() || before != after {
                    return Err(format!("step {step}: replayed slot {old} changed state"));
                }
            }
            _ => {
                let facts = case.facts(slot);
                let before: Vec<_> = pool.iter().map(|v| monitor.stats(v)).collect();
                let changed = monitor.register_slot_for(&facts, owns);
                let changed_trimmed = trimmed.register_slot_for(&facts, owns);
                if changed_trimmed != changed {
                    return Err(format!("step {step}: trimming changed what was reported as changed"));
                }
                reference.register_slot(&facts, &owns);
                for (v, old) in pool.iter().zip(before) {
                    if monitor.stats(v) != old && !changed.contains(v) {
                        return Err(format!("step {step}: stats of {v} changed but it was not reported"));
                    }
                }
            }
        }
        slot += case.rng.random_range(1..=3);
        compare(&monitor, &reference, &pool, &mut case.rng).map_err(|e| format!("step {step}: {e}"))?;
        compare_window(&trimmed, &reference, &pool).map_err(|e| format!("step {step} (trimmed): {e}"))?;
    }
    compare_import(&config, &reference, &pool)
}

fn compare(
    m: &ValidatorMonitor,
    r: &ReferenceSentinel,
    pool: &[Address],
    rng: &mut ChaCha8Rng,
) -> Result<(), String> {
    if m.last_processed_slot().map(|s| s.0) != r.last_processed() {
        return Err(format!("last processed {:?} != {:?}", m.last_processed_slot(), r.last_processed()));
    }
    let last = r.last_processed().unwrap_or(0);
    for v in pool {
        check_eq("stats", v, m.stats(v), r.stats(v))?;
        let from = rng.random_range(0..=last + 2);
        let to = rng.random_range(from.saturating_sub(2)..=last + 2);
        let got = m.stats_between(v, Slot(from), Slot(to));
        check_eq(&format!("stats_between({from}, {to})"), v, got, r.stats_between(v, from, to))?;
        check_eq("epoch_performance", v, m.epoch_performance(v), r.epoch_performance(v))?;
        check_eq("history", v, m.history(v), r.kept_entries(v))?;
    }
    Ok(())
}

/// What the engine reads from a monitor that drops passed entries: the window's stats and the trend,
/// and only entries inside the window.
fn compare_window(m: &ValidatorMonitor, r: &ReferenceSentinel, pool: &[Address]) -> Result<(), String> {
    let from = r.last_processed().map_or(0, |last| last.saturating_sub(m.config().slot_window));
    for v in pool {
        check_eq("stats", v, m.stats(v), r.stats(v))?;
        check_eq("epoch_performance", v, m.epoch_performance(v), r.epoch_performance(v))?;
        if let Some((slot, _)) = m.history(v).first().filter(|(slot, _)| slot.0 < from) {
            return Err(format!("{v} still holds slot {slot}, before the window's start {from}"));
        }
    }
    Ok(())
}

/// Importing the reference's full histories through `register_status` rebuilds the same state.
fn compare_import(config: &MonitorConfig, r: &ReferenceSentinel, pool: &[Address]) -> Result<(), String> {
    let mut imported = ValidatorMonitor::new(config.clone());
    for v in pool {
        for (slot, status) in r.all_entries(v) {
            imported.register_status(*v, Slot(slot), status);
        }
    }
    if let Some(last) = r.last_processed() {
        imported.mark_processed(Slot(last));
    }
    for v in pool {
        check_eq("imported stats", v, imported.stats(v), r.stats(v))?;
        check_eq("imported epoch_performance", v, imported.epoch_performance(v), r.epoch_performance(v))?;
    }
    Ok(())
}

fn check_eq<T: PartialEq + std::fmt::Debug>(what: &str, v: &Address, got: T, want: T) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what} of {v}:\n  monitor:   {got:?}\n  reference: {want:?}"))
    }
}
