//! The knobs of a simulated network.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sparta_core::{ChainTiming, Generation};

use crate::Profile;

/// The parameters of one simulated network. Two networks with the same config are identical.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DevnetConfig {
    /// Size of the attester set at genesis.
    pub validators: usize,
    /// Members per epoch committee (48 on mainnet).
    pub committee_size: usize,
    /// Slots per epoch.
    pub epoch_slots: u64,
    /// Seconds per L2 slot (and per simulated L1 block).
    pub slot_seconds: u64,
    /// Everything random (addresses, profiles, committees, outcomes) derives from this.
    pub seed: u64,
    /// Unix seconds of slot 0.
    pub genesis_time_s: u64,
    /// The L1 chain id served by `eth_chainId`.
    pub chain_id: u64,
    /// Which protocol generation the simulated node and L1 speak (the devnet's wire tables in
    /// [`crate::dialect`]).
    pub protocol: Generation,
    /// Slot ranges (inclusive) of a network-wide p2p outage: proposals are made, but no attestation
    /// reaches the proposer, so every attester of those slots misses and nothing is mined.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub p2p_outages: Vec<SlotRange>,
    /// Profiles that replace the assigned ones, by validator index (indices below
    /// [`crate::SCRIPTED`]'s length sit in every committee).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub profiles: BTreeMap<usize, Profile>,
    /// Epochs in which the escape hatch is open (4.x on): a designated proposer proposes without the
    /// committee.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub escape_hatch_epochs: Vec<u64>,
}

/// Slots `first..=last`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SlotRange {
    pub first: u64,
    pub last: u64,
}

impl SlotRange {
    pub fn contains(&self, slot: u64) -> bool {
        (self.first..=self.last).contains(&slot)
    }
}

impl Default for DevnetConfig {
    fn default() -> Self {
        Self {
            validators: 200,
            committee_size: 48,
            epoch_slots: 32,
            slot_seconds: 2,
            seed: 42,
            genesis_time_s: 0,
            chain_id: 31337,
            protocol: Generation::V5,
            p2p_outages: Vec::new(),
            profiles: BTreeMap::new(),
            escape_hatch_epochs: Vec::new(),
        }
    }
}

/// Why a [`DevnetConfig`] cannot run.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("committee_size must be at least 1")]
    EmptyCommittee,
    #[error("validators ({validators}) must be at least committee_size ({committee_size})")]
    TooFewValidators { validators: usize, committee_size: usize },
    #[error("epoch_slots must be at least 1")]
    EmptyEpoch,
    #[error("slot_seconds must be at least 1")]
    ZeroSlotDuration,
    #[error("the clock is at slot {slot}, more than {max} slots after genesis: set genesis_time_s near now")]
    GenesisTooFarInPast { slot: u64, max: u64 },
    #[error("cannot start the replay's simulator thread: {0}")]
    Simulator(String),
    #[error("the clock's timing {clock:?} differs from the config's {config:?}")]
    ClockMismatch { clock: ChainTiming, config: ChainTiming },
    #[error("an escape hatch needs a 4.x network or newer (protocol v4, v5 or v6), not {0}")]
    NoEscapeHatch(Generation),
}

impl DevnetConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.committee_size == 0 {
            return Err(ConfigError::EmptyCommittee);
        }
        if self.validators < self.committee_size {
            return Err(ConfigError::TooFewValidators {
                validators: self.validators,
                committee_size: self.committee_size,
            });
        }
        if self.epoch_slots == 0 {
            return Err(ConfigError::EmptyEpoch);
        }
        if self.slot_seconds == 0 {
            return Err(ConfigError::ZeroSlotDuration);
        }
        if !self.escape_hatch_epochs.is_empty() && self.protocol < Generation::V4 {
            return Err(ConfigError::NoEscapeHatch(self.protocol));
        }
        Ok(())
    }

    /// The timing a clock driving this network must use.
    pub fn timing(&self) -> ChainTiming {
        ChainTiming {
            genesis_time_s: self.genesis_time_s,
            slot_duration_s: self.slot_seconds,
            epoch_duration_slots: self.epoch_slots,
        }
    }
}
