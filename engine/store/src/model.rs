//! The records a store keeps besides slot facts and stats (those come from `sparta-core`).

use std::fmt;

use serde::{Deserialize, Serialize};
use sparta_core::{Address, ChainTiming, Slot};

/// The parameters that must not change across restarts: a store belongs to exactly one rollup.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkIdentity {
    pub chain_id: u64,
    pub rollup: Address,
    pub timing: ChainTiming,
}

impl fmt::Display for NetworkIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = &self.timing;
        write!(
            f,
            "chain id {} rollup {} (genesis {}s, {}s slots, {} slots per epoch)",
            self.chain_id, self.rollup, t.genesis_time_s, t.slot_duration_s, t.epoch_duration_slots
        )
    }
}

/// An operator's claim on a validator. A validator has at most one operator; an operator may run many.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// Discord user id or operator name.
    pub operator: String,
    pub validator: Address,
}

/// Whether `subject` (a Discord user id) holds `role`, and since which slot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleState {
    pub subject: String,
    pub role: String,
    pub held: bool,
    pub since_slot: Slot,
}

/// The persisted state of one alert (keyed by subject and kind), so a restart neither repeats nor loses it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertRecord {
    pub subject: String,
    pub kind: String,
    pub firing: bool,
    pub since_slot: Slot,
    pub evidence: String,
}
