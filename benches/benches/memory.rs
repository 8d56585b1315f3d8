//! Memory per tracked validator with a 768-slot window, as resident set growth (what the operating
//! system sees, allocator slack included), in two shapes: 100,000 validators with mainnet's committee
//! of 48, run until the committees have covered nearly all of them (each holds a few entries and its
//! per-epoch trend), and the worst case where every validator attests in every slot (each holds the
//! whole window). One line per shape; `cargo bench -p sparta-benches --bench memory`.

use sparta_benches::SyntheticNetwork;
use sparta_core::{MonitorConfig, ValidatorMonitor};

/// Resident set size in bytes, from `/proc/self/statm` (Linux).
fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    pages * 4096
}

fn measure(label: &str, validators: usize, committee: usize, epochs_of_slots: u64, slots: u64) {
    let config = MonitorConfig::default();
    let mut network = SyntheticNetwork::new(validators, committee, epochs_of_slots, 42);
    let before = rss();
    let mut monitor = ValidatorMonitor::new(config);
    let mut records = 0u64;
    // In batches, so the synthetic facts themselves never pile up in memory.
    for first in (0..slots).step_by(64) {
        for facts in network.slots(first, 64.min(slots - first)) {
            records += facts.committee.len() as u64;
            monitor.register_slot(&facts);
        }
    }
    let grown = rss().saturating_sub(before);
    let tracked = monitor.len().max(1) as u64;
    println!(
        "{label}: {validators} validators, committee {committee}, {} slots ({records} committee-slot records) \
         through a {}-slot window: {tracked} tracked, RSS +{:.1} MB, {} bytes per tracked validator",
        slots,
        monitor.config().slot_window,
        grown as f64 / 1e6,
        grown / tracked
    );
    drop(monitor);
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    // 10,000 epochs of 48 seats: every validator has sat on a committee (to within a few).
    measure("mainnet-shaped", 100_000, 48, 32, 320_000);
    measure("every validator every slot", 10_000, 10_000, 32, 768);
}
