//! Protocol generations of the Aztec network, and the Sentinel rule each one follows.
//!
//! A generation is data, not a branch: what differs between them on the wire lives in the adapters'
//! tables (`sparta_chain::node::dialect`, the devnet's wire module); what differs in the *rules* lives
//! here, so the monitor names and judges a slot exactly as that generation's node Sentinel does.
//!
//! | generation | proposer statuses | attesters are blamed when the proposer's status is |
//! |---|---|---|
//! | v2 (2.x) | `block-mined`, `block-proposed`, `block-missed` | mined or proposed |
//! | v4 (4.x) | `checkpoint-mined`, `checkpoint-proposed`, `checkpoint-missed`, `blocks-missed` | mined or proposed (a proposal with at least one attestation seen) |
//! | v5 (5.x), v6 (6.x) | `checkpoint-mined`, `checkpoint-valid`, `checkpoint-invalid`, `checkpoint-unvalidated`, `checkpoint-missed`, `blocks-missed` | `checkpoint-mined` or `checkpoint-valid` (the node re-executed the proposal and found it valid) |
//!
//! In every generation a missed proposal is any proposer status but the good ones, and the last
//! proposal is the newest good one ([`crate::StatusCategory`]).

use serde::{Deserialize, Serialize};

use crate::facts::ProposalOutcome;
use crate::status::ValidatorStatusInSlot;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Generation {
    /// Block-based (2.x).
    V2,
    /// Checkpoint-based, `node_*` namespace, `getL2Tips` (3.x and 4.x).
    #[default]
    V4,
    /// `aztec_*` namespace, `getChainTips`, `CheckpointResponse`, re-execution statuses (5.x: mainnet).
    V5,
    /// v5's node API; `propose` with the inbox rolling hash and a bucket hint, `VoteCast` with a vote
    /// index (6.x: testnet).
    V6,
}

impl Generation {
    pub const ALL: [Generation; 4] = [Generation::V2, Generation::V4, Generation::V5, Generation::V6];

    /// The generation a node's version string names (`"5.2.0"`, `"6.0.0-rc.1"`, `"4.1.2-…"`);
    /// `None` when it does not start with a major version number.
    pub fn from_node_version(version: &str) -> Option<Generation> {
        let version = version.trim().trim_start_matches(['v', 'V']);
        let digits: String = version.chars().take_while(char::is_ascii_digit).collect();
        let major: u64 = digits.parse().ok()?;
        Some(match major {
            0..=2 => Generation::V2,
            3 | 4 => Generation::V4,
            5 => Generation::V5,
            _ => Generation::V6,
        })
    }

    /// The status the slot's proposer earns for `outcome`, in this generation's words.
    pub fn proposer_status(self, outcome: ProposalOutcome) -> ValidatorStatusInSlot {
        use ProposalOutcome as O;
        use ValidatorStatusInSlot as S;
        match (self, outcome) {
            (_, O::Unknown) => S::Unknown,
            (Generation::V2, O::Mined) => S::BlockMined,
            (Generation::V2, O::Proposed) => S::BlockProposed,
            (Generation::V2, _) => S::BlockMissed,
            (_, O::Mined) => S::CheckpointMined,
            (Generation::V4, O::Proposed) => S::CheckpointProposed,
            (_, O::Proposed) => S::CheckpointValid,
            // A v4 node has no re-execution verdicts: a proposal it did not accept is a missed checkpoint.
            (Generation::V4, O::Invalid | O::Unvalidated) => S::CheckpointMissed,
            (_, O::Invalid) => S::CheckpointInvalid,
            (_, O::Unvalidated) => S::CheckpointUnvalidated,
            (_, O::CheckpointMissed) => S::CheckpointMissed,
            (_, O::BlocksMissed) => S::BlocksMissed,
        }
    }

    /// Whether the committee's silent members miss an attestation in a slot with `outcome`: only when
    /// the generation's Sentinel had positive evidence of something to attest to.
    pub fn attesters_blamed(self, outcome: ProposalOutcome) -> bool {
        matches!(outcome, ProposalOutcome::Mined | ProposalOutcome::Proposed)
    }

    /// How a proposer status a node reports reads as an outcome. Statuses of another generation are
    /// read by their meaning; an unknown one stays unknown (never a miss).
    pub fn outcome_of(status: ValidatorStatusInSlot) -> ProposalOutcome {
        use ValidatorStatusInSlot as S;
        match status {
            S::CheckpointMined | S::BlockMined => ProposalOutcome::Mined,
            S::CheckpointProposed | S::CheckpointValid | S::BlockProposed => ProposalOutcome::Proposed,
            S::CheckpointInvalid => ProposalOutcome::Invalid,
            S::CheckpointUnvalidated => ProposalOutcome::Unvalidated,
            S::CheckpointMissed => ProposalOutcome::CheckpointMissed,
            S::BlocksMissed | S::BlockMissed => ProposalOutcome::BlocksMissed,
            S::AttestationSent | S::AttestationMissed | S::Unknown => ProposalOutcome::Unknown,
        }
    }

    /// A compact code for storage (stable: never renumber; 0 is v4, what rows without one meant).
    pub fn code(self) -> u8 {
        match self {
            Generation::V4 => 0,
            Generation::V2 => 1,
            Generation::V5 => 2,
            Generation::V6 => 3,
        }
    }

    pub fn from_code(code: u8) -> Option<Generation> {
        Generation::ALL.into_iter().find(|g| g.code() == code)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Generation::V2 => "v2",
            Generation::V4 => "v4",
            Generation::V5 => "v5",
            Generation::V6 => "v6",
        }
    }
}

impl std::fmt::Display for Generation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Generation {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Generation::ALL
            .into_iter()
            .find(|g| g.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("unknown protocol generation {s:?}: expected v2, v4, v5 or v6"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::StatusCategory;

    #[test]
    fn node_versions_name_their_generation() {
        for (version, expected) in [
            ("2.0.3", Some(Generation::V2)),
            ("4.1.2", Some(Generation::V4)),
            ("4.1.2-sparta-devnet", Some(Generation::V4)),
            ("3.0.0", Some(Generation::V4)),
            ("5.2.0", Some(Generation::V5)),
            ("v5.0.1", Some(Generation::V5)),
            ("6.0.0-rc.1", Some(Generation::V6)),
            ("7.1.0", Some(Generation::V6)),
            ("nightly", None),
            ("", None),
        ] {
            assert_eq!(Generation::from_node_version(version), expected, "{version}");
        }
    }

    #[test]
    fn a_v5_proposal_that_was_not_valid_blames_the_proposer_and_no_attester() {
        for outcome in [ProposalOutcome::Invalid, ProposalOutcome::Unvalidated] {
            let status = Generation::V5.proposer_status(outcome);
            assert_eq!(status.category(), StatusCategory::ProposerMiss, "{outcome:?}");
            assert!(!Generation::V5.attesters_blamed(outcome));
        }
        assert_eq!(
            Generation::V5.proposer_status(ProposalOutcome::Proposed),
            ValidatorStatusInSlot::CheckpointValid
        );
        assert_eq!(
            Generation::V4.proposer_status(ProposalOutcome::Proposed),
            ValidatorStatusInSlot::CheckpointProposed
        );
    }

    #[test]
    fn every_outcome_reads_back_from_the_status_it_names() {
        use ProposalOutcome as O;
        let outcomes = [
            O::Mined,
            O::Proposed,
            O::Invalid,
            O::Unvalidated,
            O::CheckpointMissed,
            O::BlocksMissed,
            O::Unknown,
        ];
        for generation in Generation::ALL {
            for outcome in outcomes {
                let status = generation.proposer_status(outcome);
                let back = Generation::outcome_of(status);
                // Older generations fold the re-execution verdicts into a missed checkpoint/block.
                assert_eq!(
                    back.is_good(),
                    outcome.is_good(),
                    "{generation} {outcome:?} -> {status:?} -> {back:?}"
                );
                assert_eq!(generation.attesters_blamed(back), generation.attesters_blamed(outcome));
            }
        }
    }

    #[test]
    fn unknown_outcomes_are_never_misses() {
        for generation in Generation::ALL {
            let status = generation.proposer_status(ProposalOutcome::Unknown);
            assert_eq!(status.category(), StatusCategory::Uncounted);
            assert!(!generation.attesters_blamed(ProposalOutcome::Unknown));
        }
    }

    #[test]
    fn codes_and_names_round_trip() {
        for g in Generation::ALL {
            assert_eq!(Generation::from_code(g.code()), Some(g));
            assert_eq!(g.as_str().parse::<Generation>(), Ok(g));
            assert_eq!(serde_json::to_string(&g).unwrap(), format!("\"{g}\""));
        }
        assert_eq!(Generation::from_code(0), Some(Generation::V4), "rows written before generations");
        assert!("v3".parse::<Generation>().is_err());
    }
}
