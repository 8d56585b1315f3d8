//! Protocol constants of the simulated network (testnet-like values, scaled to a fast clock).

use alloy_primitives::U256;

/// L1 block number of slot 0; one L1 block per slot after it.
pub const L1_GENESIS_BLOCK: u64 = 100;
/// Epochs of lag before a validator-set snapshot / randao value is used.
pub const LAG_IN_EPOCHS_FOR_VALIDATOR_SET: u64 = 2;
pub const LAG_IN_EPOCHS_FOR_RANDAO: u64 = 1;
/// Sentinel history length: `SENTINEL_HISTORY_LENGTH_IN_EPOCHS`.
pub const SENTINEL_HISTORY_EPOCHS: u64 = 24;
/// The sentinel lags the wall clock by this many slots so attestations settle.
pub const SENTINEL_LAG_SLOTS: u64 = 2;
/// Tally slashing: a round spans this many epochs.
pub const ROUND_SIZE_IN_EPOCHS: u64 = 4;
pub const LIFETIME_IN_ROUNDS: u64 = 34;
pub const EXECUTION_DELAY_IN_ROUNDS: u64 = 28;
/// Mainnet votes on the epochs of two rounds back; the devnet's scripted votes come three slots
/// before the slash, so they vote on the current round's epochs.
pub const SLASH_OFFSET_IN_ROUNDS: u64 = 0;
/// Tally votes are cast this many slots before a scripted slash lands.
pub const VOTE_LEAD_SLOTS: u64 = 3;
/// Exit delay, in seconds, before a withdrawal can be finalized.
pub const EXIT_DELAY_S: u64 = 2 * 24 * 3600;
/// Largest `eth_getLogs` block range served in one call.
pub const MAX_LOG_RANGE_BLOCKS: u64 = 100_000;
/// Largest `limit` accepted by `node_getCheckpoints`.
pub const MAX_CHECKPOINTS_PER_CALL: u64 = 50;

const ETHER: u64 = 1_000_000_000_000_000_000;

/// Stake of an active attester (200 000 tokens).
pub fn activation_stake() -> U256 {
    U256::from(200_000u64) * U256::from(ETHER)
}

/// One slash (2 000 tokens): enough to drop below the local ejection threshold of 199 000.
pub fn slash_amount() -> U256 {
    U256::from(2_000u64) * U256::from(ETHER)
}
