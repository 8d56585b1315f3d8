//! The slot-facts source: joins L1 (committee, proposer, logs) and the node (checkpoints, Sentinel)
//! into the [`SlotFacts`] and [`ChainEvent`]s the engine consumes.

mod capabilities;
mod checkpoints;
mod slot_source;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use alloy_primitives::{Address, U256};
use serde::Serialize;
use sparta_core::{
    AttesterStatus, ChainEvent, ChainTiming, CommitteeBits, Epoch, Generation, ProposalOutcome, SlashVotes,
    SlashedEvent, Slot, SlotFacts, ValidatorStatusInSlot,
};

use crate::l1::tally::tally;
use crate::l1::{L1Error, L1EventKind, L1Reader, RoundVotes, TallyParams};
use crate::node::{CommitteeAttestation, NodeClient, NodeError, NodeInfo, ValidatorsStats};
use crate::plausible::{Implausible, count_implausible};
use crate::shown::shown_message;
use crate::transport::HttpLimits;
use crate::unknown::{UnknownShape, count_unknown};
pub use capabilities::Capability;
pub use checkpoints::{CheckpointCache, SeenCheckpoint};
pub use slot_source::SlotSource;

/// Slots younger than this are not final: p2p attestations and L1 inclusion still settle (the
/// Sentinel waits the same two slots).
pub const SETTLING_SLOTS: u64 = 2;

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error(transparent)]
    Node(#[from] NodeError),
    #[error(transparent)]
    L1(#[from] L1Error),
    #[error("the node and L1 disagree on the {what}: node says {node}, L1 says {l1}")]
    Mismatch { what: &'static str, node: String, l1: String },
    /// An answer that cannot be true (see [`crate::plausible`]): the slot is read again later, never
    /// committed as told.
    #[error("slot {slot}: {detail}; it is read again later")]
    Implausible { slot: Slot, detail: String },
    /// The node has not processed `slot` yet (stalled or syncing): the slot is not final for us.
    #[error("the node has processed slots only through {node_at}, not slot {slot} yet")]
    NodeBehind { slot: Slot, node_at: Slot },
}

/// Connectivity and chain facts, as `sparta check` prints them.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChainFacts {
    /// The node's URL as sparta shows it (no path, query or credentials).
    pub node_url: String,
    pub node_version: String,
    /// The protocol generation sparta reads the network as.
    pub generation: Generation,
    pub chain_id: u64,
    pub registry: Address,
    /// The canonical rollup according to the Registry.
    pub rollup: Address,
    /// The rollup the node follows; differs from `rollup` right after an upgrade.
    pub node_rollup: Address,
    pub rollup_version: u64,
    pub timing: ChainTiming,
    pub l1_block_at_genesis: u64,
    pub current_slot: Slot,
    pub current_epoch: Epoch,
    pub safe_slot: Slot,
    pub pending_checkpoint: u64,
    pub proven_checkpoint: u64,
    /// The node's last checkpoint on L1 (`None` on a block-based v2 node).
    pub node_checkpointed: Option<u64>,
    pub target_committee_size: u64,
    pub committee_size: usize,
    pub active_attesters: u64,
    pub l1_head_block: u64,
    pub slashing_proposer: Option<Address>,
    pub sentinel_enabled: bool,
}

pub struct ChainSource {
    node: NodeClient,
    l1: L1Reader,
    /// Whose rules the slots are read by (named by the node's version, else by what the probes found).
    generation: Generation,
    checkpoints: CheckpointCache,
    /// The last Sentinel snapshot; reused while it covers the slot asked about.
    sentinel: Option<ValidatorsStats>,
    /// Attester statuses seen so far, so a change is reported from what it was.
    statuses: HashMap<Address, AttesterStatus>,
    /// The slashing proposer's immutables, once read (`Some(None)`: slashing is not set up).
    tally: Option<Option<TallyParams>>,
    /// Votes read so far per recent round (votes are only ever appended).
    rounds: BTreeMap<u64, RoundVotes>,
    /// Epochs whose empty committee L1 explained (too few validators when they were sampled).
    explained_empty: HashSet<Epoch>,
    /// The last epoch whose escape-hatch state was said, and what was said but not yet handed over.
    hatch_said: Option<Epoch>,
    hatch_events: Vec<ChainEvent>,
}

impl std::fmt::Debug for ChainSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainSource").field("node", &self.node).field("l1", &self.l1).finish_non_exhaustive()
    }
}

impl ChainSource {
    /// A source reading the network as `generation`; [`ChainSource::connect`] detects it.
    pub fn new(node: NodeClient, l1: L1Reader, generation: Generation) -> Self {
        Self {
            node,
            l1,
            generation,
            checkpoints: CheckpointCache::default(),
            sentinel: None,
            statuses: HashMap::new(),
            tally: None,
            rounds: BTreeMap::new(),
            explained_empty: HashSet::new(),
            hatch_said: None,
            hatch_events: Vec::new(),
        }
    }

    /// Connects to the node, learns the Registry from it, and reads the rollup on L1 through it.
    /// Fails when the two are on different L1 chains.
    pub async fn connect(node_url: &str, l1_url: &str) -> Result<Self, SourceError> {
        Self::connect_with(node_url, l1_url, HttpLimits::default()).await
    }

    /// As [`ChainSource::connect`], with every answer from either source held to `limits`.
    pub async fn connect_with(node_url: &str, l1_url: &str, limits: HttpLimits) -> Result<Self, SourceError> {
        let node = NodeClient::with_limits(node_url, limits)?;
        let info = node.node_info().await?;
        let l1 = L1Reader::connect_with(l1_url, info.l1_contract_addresses.registry_address, limits).await?;
        if l1.params().chain_id != info.l1_chain_id {
            return Err(SourceError::Mismatch {
                what: "L1 chain id",
                node: info.l1_chain_id.to_string(),
                l1: l1.params().chain_id.to_string(),
            });
        }
        if l1.params().rollup != info.l1_contract_addresses.rollup_address {
            tracing::warn!(
                node = %info.l1_contract_addresses.rollup_address,
                canonical = %l1.params().rollup,
                "the node follows a rollup that is not the canonical one"
            );
        }
        let generation = detect_generation(&node, &info).await?;
        let node_version = shown_message(&info.node_version);
        tracing::info!(%generation, %node_version, dialect = ?node.dialect(), "connected to the Aztec node");
        Ok(Self::new(node, l1, generation))
    }

    pub fn generation(&self) -> Generation {
        self.generation
    }

    pub fn node(&self) -> &NodeClient {
        &self.node
    }

    pub fn l1(&self) -> &L1Reader {
        &self.l1
    }

    pub fn timing(&self) -> ChainTiming {
        self.l1.timing()
    }

    /// Where L1 log scans start (the rollup's deploy block).
    pub fn l1_genesis_block(&self) -> u64 {
        self.l1.params().l1_block_at_genesis
    }

    pub async fn l1_head_block(&self) -> Result<u64, SourceError> {
        Ok(self.l1.head_block().await?)
    }

    /// The latest slot whose facts are final: the L1 current slot minus [`SETTLING_SLOTS`].
    pub async fn safe_slot(&self) -> Result<Slot, SourceError> {
        Ok(Slot(self.l1.current_slot().await?.0.saturating_sub(SETTLING_SLOTS)))
    }

    /// What happened in `slot`: its committee, proposer, outcome and attesters.
    pub async fn slot_facts(&mut self, slot: Slot) -> Result<SlotFacts, SourceError> {
        let epoch = self.timing().epoch_of(slot);
        if self.hatch_open(epoch, slot).await? {
            // Proposals bypass the committee: nobody has duties, so nothing is judged.
            return Ok(SlotFacts {
                slot,
                epoch,
                committee: Arc::from([]),
                proposer: None,
                outcome: ProposalOutcome::Mined,
                attested: CommitteeBits::default(),
                generation: self.generation,
            });
        }
        let committee = self.l1.committee(epoch).await?;
        let checkpoint = self.checkpoint_at(slot).await?;
        let mut facts = SlotFacts {
            slot,
            epoch,
            committee: committee.clone(),
            proposer: None,
            outcome: if checkpoint.is_some() {
                ProposalOutcome::Mined
            } else {
                ProposalOutcome::BlocksMissed
            },
            attested: CommitteeBits::with_len(committee.len()),
            generation: self.generation,
        };
        if committee.is_empty() {
            self.ensure_empty_committee_explained(slot, epoch).await?;
            // Nobody has duties: nothing is judged.
            facts.attested = CommitteeBits::default();
            return Ok(facts);
        }
        facts.proposer = self.l1.proposer_at(slot).await?;
        match checkpoint {
            Some(seen) => mark_signers(&committee, &seen.attestations, &mut facts.attested),
            None => self.fill_from_sentinel(&mut facts).await?,
        }
        Ok(facts)
    }

    /// Whether the escape hatch is open in `epoch`; the first slot read of each epoch says so as an
    /// event (on rollups that have a hatch), handed over with the next L1 events.
    async fn hatch_open(&mut self, epoch: Epoch, slot: Slot) -> Result<bool, SourceError> {
        let open = self.l1.hatch_open(epoch).await?;
        if let Some(open) = open
            && self.hatch_said != Some(epoch)
        {
            self.hatch_said = Some(epoch);
            self.hatch_events.push(ChainEvent::EscapeHatch { epoch, open, slot });
        }
        Ok(open == Some(true))
    }

    /// An empty committee is committed only when it can be true: fewer active validators than a
    /// committee needs, or L1 saying the set was too small when the epoch was sampled. Otherwise (a
    /// future epoch, a provider lying) the slot is refused and read again later.
    async fn ensure_empty_committee_explained(
        &mut self,
        slot: Slot,
        epoch: Epoch,
    ) -> Result<(), SourceError> {
        if self.explained_empty.contains(&epoch) {
            return Ok(());
        }
        let needed = self.l1.params().target_committee_size.max(1);
        let active = self.l1.active_attester_count().await?;
        if active >= needed && !self.l1.empty_committee_sanctioned(epoch).await? {
            count_implausible(Implausible::EmptyCommittee);
            return Err(SourceError::Implausible {
                slot,
                detail: format!(
                    "L1 names no committee for epoch {epoch} while {active} validators are active and no revert explains it"
                ),
            });
        }
        self.explained_empty.insert(epoch);
        Ok(())
    }

    /// L1 events in `[from_block, to_block]` as engine events: slashes, the status changes they
    /// cause, and prunes; then the escape hatch's state in the epochs read since.
    pub async fn events_between(
        &mut self,
        from_block: u64,
        to_block: u64,
    ) -> Result<Vec<ChainEvent>, SourceError> {
        let timing = self.timing();
        let mut current_slot = None;
        let mut out = Vec::new();
        // Rounds with new votes or an execution, and the slot of the latest such log.
        let mut rounds: BTreeMap<u64, Slot> = BTreeMap::new();
        for event in self.l1.events(from_block, to_block).await? {
            let slot = match event.l1_timestamp {
                Some(ts) => timing.slot_at(ts),
                None => match current_slot {
                    Some(slot) => slot,
                    None => *current_slot.insert(self.l1.current_slot().await?),
                },
            };
            match event.kind {
                L1EventKind::Slashed { attester, amount } => {
                    out.push(ChainEvent::Slashed(SlashedEvent {
                        attester,
                        amount: amount.to_string(),
                        l1_block: event.l1_block,
                        slot,
                    }));
                    self.push_status_change(attester, slot, &mut out).await?;
                }
                L1EventKind::WithdrawInitiated { attester, .. } => {
                    self.push_status_change(attester, slot, &mut out).await?;
                }
                L1EventKind::VoteCast { round, .. } | L1EventKind::RoundExecuted { round, .. } => {
                    rounds.insert(saturate(round), slot);
                }
                L1EventKind::PrunedPending { proven_checkpoint, pending_checkpoint } => {
                    let proven_checkpoint = saturate(proven_checkpoint);
                    self.checkpoints.forget_after(proven_checkpoint);
                    out.push(ChainEvent::Pruned {
                        proven_checkpoint,
                        pending_checkpoint: saturate(pending_checkpoint),
                        slot,
                    });
                }
                _ => {}
            }
        }
        for (round, slot) in rounds {
            match self.slash_votes(round, slot).await {
                Ok(Some(votes)) => out.push(ChainEvent::SlashVotes(votes)),
                Ok(None) => {}
                // An answer that will not change (a revert, an unexpected shape): the votes are an
                // early warning, never a reason to hold back the slashes and exits beside them.
                Err(SourceError::L1(err @ (L1Error::Reverted { .. } | L1Error::Decode { .. }))) => {
                    tracing::warn!(round, %err, "cannot read the slashing round's votes; no vote warnings for it");
                }
                Err(err) => return Err(err),
            }
        }
        // The escape hatch's state as the slots read since the last call found it.
        out.append(&mut self.hatch_events);
        Ok(out)
    }

    /// Where a tally round stands: its votes (new ones read, earlier ones cached) against the
    /// committees they index. `None` when slashing is not set up or the round has no target committees.
    async fn slash_votes(&mut self, round: u64, slot: Slot) -> Result<Option<SlashVotes>, SourceError> {
        let params = match self.tally {
            Some(params) => params,
            None => match self.l1.tally_params().await {
                Ok(params) => *self.tally.insert(params),
                Err(err @ (L1Error::Reverted { .. } | L1Error::Decode { .. })) => {
                    tracing::warn!(%err, "the slashing proposer is not a tally proposer sparta can read; no vote warnings");
                    *self.tally.insert(None)
                }
                Err(err) => return Err(err.into()),
            },
        };
        let Some(params) = params else { return Ok(None) };
        let (executed, count) = self.l1.round(round).await?;
        let l1 = &self.l1;
        let cached = self.rounds.entry(round).or_default();
        if cached.committees.is_empty() {
            match l1.slash_target_committees(round).await {
                Ok(committees) => cached.committees = committees,
                Err(err) if err.is_revert() => {
                    tracing::warn!(round, %err, "a slashing round without target committees; its votes are not followed");
                    return Ok(None);
                }
                Err(err) => return Err(err.into()),
            }
        }
        while (cached.votes.len() as u64) < count {
            cached.votes.push(l1.vote(round, cached.votes.len() as u64).await?);
        }
        cached.executed = executed;
        let targets = tally(&cached.votes, &cached.committees, params.committee_size as usize);
        // Rounds past their lifetime can no longer be executed: nothing more to follow there.
        let oldest = round.saturating_sub(params.lifetime_in_rounds + 1);
        self.rounds.retain(|r, _| *r >= oldest);
        Ok(Some(SlashVotes {
            round,
            slot,
            votes_cast: u32::try_from(count).unwrap_or(u32::MAX),
            quorum: u32::try_from(params.quorum).unwrap_or(u32::MAX),
            executable_from: params.executable_from(round),
            expires_at: params.expires_at(round),
            executed,
            targets,
        }))
    }

    /// Everything `sparta check` reports.
    pub async fn chain_facts(&mut self) -> Result<ChainFacts, SourceError> {
        let info = self.node.node_info().await?;
        let tips = self.node.chain_tips().await?;
        let sentinel = self.node.validators_stats().await?;
        let params = *self.l1.params();
        let timing = params.timing();
        let current_slot = self.l1.current_slot().await?;
        let current_epoch = timing.epoch_of(current_slot);
        let (pending_checkpoint, proven_checkpoint) = self.l1.tips().await?;
        Ok(ChainFacts {
            node_url: crate::redact::shown_url(self.node.url()),
            node_version: shown_message(&info.node_version),
            generation: self.generation,
            chain_id: params.chain_id,
            registry: params.registry,
            rollup: params.rollup,
            node_rollup: info.l1_contract_addresses.rollup_address,
            rollup_version: info.rollup_version,
            timing,
            l1_block_at_genesis: params.l1_block_at_genesis,
            current_slot,
            current_epoch,
            safe_slot: Slot(current_slot.0.saturating_sub(SETTLING_SLOTS)),
            pending_checkpoint,
            proven_checkpoint,
            node_checkpointed: tips.checkpointed_checkpoint(),
            target_committee_size: params.target_committee_size,
            committee_size: self.l1.committee(current_epoch).await?.len(),
            active_attesters: self.l1.active_attester_count().await?,
            l1_head_block: self.l1.head_block().await?,
            slashing_proposer: params.slashing_proposer,
            sentinel_enabled: sentinel.sentinel_enabled(),
        })
    }

    /// The checkpoint published for `slot`, syncing the cache up to the node's checkpointed tip.
    async fn checkpoint_at(&mut self, slot: Slot) -> Result<Option<SeenCheckpoint>, SourceError> {
        let tips = self.node.chain_tips().await?;
        // A block-based (v2) node has no checkpoints; the Sentinel is the only source then.
        let Some(tip) = tips.checkpointed_checkpoint() else { return Ok(None) };
        if !self.checkpoints.covers(slot) {
            // At most one checkpoint per slot, so the one for `slot` is at most
            // (current slot - slot) numbers below the tip.
            let current = self.l1.current_slot().await?;
            let start = tip.saturating_sub(current.0.saturating_sub(slot.0)).max(1);
            self.checkpoints.seek(start, slot);
        }
        self.checkpoints.sync(&self.node, tip).await?;
        Ok(self.checkpoints.get(slot).cloned())
    }

    /// No checkpoint on L1: the node's Sentinel says whether the proposal was seen and who attested.
    async fn fill_from_sentinel(&mut self, facts: &mut SlotFacts) -> Result<(), SourceError> {
        let Some(proposer) = facts.proposer else { return Ok(()) };
        let slot = facts.slot;
        let record = self.node.validator_stats(proposer, Some(slot), Some(slot)).await?;
        // A node that has not processed the slot has no status for it yet: that is "not yet", never
        // "missed". Reading on would blame the proposer for the node's own stall.
        let node_at = match &record {
            Some(r) => r.last_processed_slot,
            None => self.sentinel_covering(slot).await?.last_processed_slot,
        };
        if let Some(node_at) = node_at.filter(|at| *at < slot) {
            return Err(SourceError::NodeBehind { slot, node_at });
        }
        let status = record.and_then(|r| r.validator.status_at(slot));
        if status == Some(ValidatorStatusInSlot::Unknown) {
            count_unknown(UnknownShape::Status);
            tracing::warn!(%slot, %proposer, "the node reports a proposer status sparta does not know; the slot is not judged");
        }
        facts.outcome = status.map_or(ProposalOutcome::BlocksMissed, Generation::outcome_of);
        if facts.outcome == ProposalOutcome::Unknown {
            return Ok(());
        }
        // Whoever the node saw attest did, whatever became of the proposal (a 5.x `checkpoint-unvalidated`
        // slot can carry attestations); whether the silent ones are blamed is the generation's rule.
        let stats = self.sentinel_covering(slot).await?;
        for (i, member) in facts.committee.iter().enumerate() {
            let sent = stats
                .stats
                .get(member)
                .and_then(|s| s.status_at(slot))
                .is_some_and(|s| s == ValidatorStatusInSlot::AttestationSent);
            if sent {
                facts.attested.set(i);
            }
        }
        Ok(())
    }

    /// Validators by attester status: `validating` is the rollup's active attester count; the others
    /// count the attesters this source has seen leave that state (exiting, zombie).
    pub async fn validators_by_status(&self) -> Result<Vec<(&'static str, u64)>, SourceError> {
        let mut counts = vec![("validating", self.l1.active_attester_count().await?)];
        for (name, status) in [("exiting", AttesterStatus::Exiting), ("zombie", AttesterStatus::Zombie)] {
            counts.push((name, self.statuses.values().filter(|s| **s == status).count() as u64));
        }
        Ok(counts)
    }

    /// A Sentinel snapshot that has processed `slot` if the node has; fetched again only when the
    /// cached one is older.
    async fn sentinel_covering(&mut self, slot: Slot) -> Result<&ValidatorsStats, SourceError> {
        let fresh_enough = |s: &ValidatorsStats| s.last_processed_slot.is_some_and(|last| last >= slot);
        if !self.sentinel.as_ref().is_some_and(fresh_enough) {
            self.sentinel = Some(self.node.validators_stats().await?);
        }
        Ok(self.sentinel.get_or_insert_default())
    }

    async fn push_status_change(
        &mut self,
        attester: Address,
        slot: Slot,
        out: &mut Vec<ChainEvent>,
    ) -> Result<(), SourceError> {
        let to = self.l1.attester_status(attester).await?;
        let from = self.statuses.insert(attester, to).unwrap_or(AttesterStatus::Validating);
        if from != to {
            out.push(ChainEvent::AttesterStatusChanged { attester, from, to, slot });
        }
        Ok(())
    }
}

/// Sets the bit of every committee member whose attestation carries a signature: by address when
/// the node kept it, by position otherwise (attestations run in committee order).
fn mark_signers(committee: &Arc<[Address]>, attestations: &[CommitteeAttestation], bits: &mut CommitteeBits) {
    for (position, attestation) in attestations.iter().enumerate() {
        if !attestation.signed() {
            continue;
        }
        let index = if attestation.address.is_zero() {
            (position < committee.len()).then_some(position)
        } else {
            committee.iter().position(|member| *member == attestation.address)
        };
        match index {
            Some(index) => bits.set(index),
            None => {
                tracing::debug!(signer = %attestation.address, "attestation from outside the committee ignored")
            }
        }
    }
}

/// The generation the node's version names; a version string that names none (a custom build) is
/// placed by what the probes found: `aztec_` or `getChainTips` is 5.x or later, checkpoints 4.x.
async fn detect_generation(node: &NodeClient, info: &NodeInfo) -> Result<Generation, SourceError> {
    if let Some(generation) = Generation::from_node_version(&info.node_version) {
        return Ok(generation);
    }
    let tips = node.chain_tips().await?;
    let dialect = node.dialect();
    let generation = if dialect.checkpoint_options() {
        Generation::V5
    } else if tips.checkpointed.is_some() {
        Generation::V4
    } else {
        Generation::V2
    };
    let node_version = shown_message(&info.node_version);
    tracing::warn!(%node_version, %generation, "the node's version names no generation; read by what it answered");
    Ok(generation)
}

fn saturate(value: U256) -> u64 {
    u64::try_from(value).unwrap_or(u64::MAX)
}
