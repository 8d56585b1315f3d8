//! An in-memory [`Backend`] with a settable clock and an "engine down" switch: the front's logic is
//! tested against it; the real backend (engine + store) is tested from the binary's suite.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use async_trait::async_trait;
use sparta_bot::{
    AlertPreferences, AsOf, Backend, BackendError, ChainView, PendingLink, PlannedRoleChange, Policies,
    Source, Standing, ValidatorView,
};
use sparta_core::{Address, Epoch, EpochPerformance, MissedStats, Slot, ValidatorStats};

#[derive(Default)]
pub struct Memory {
    pub validators: BTreeMap<Address, ValidatorView>,
    /// validator → operator
    pub links: BTreeMap<Address, String>,
    pub roles: BTreeMap<String, Vec<String>>,
    pub challenges: HashMap<(String, Address), PendingLink>,
    pub prefs: HashMap<String, AlertPreferences>,
    /// (operator, validator, moderator) of every link made
    pub linked: Vec<(String, Address, Option<String>)>,
    pub dry_run: Vec<PlannedRoleChange>,
}

pub struct MemoryBackend {
    pub memory: Mutex<Memory>,
    pub policies: Policies,
    pub now_ms: AtomicU64,
    pub down: AtomicBool,
}

pub const START_MS: u64 = 1_750_000_000_000;

impl MemoryBackend {
    pub fn new() -> Self {
        Self {
            memory: Mutex::default(),
            policies: Policies { slashed_role: "slashed".into(), ..Policies::default() },
            now_ms: AtomicU64::new(START_MS),
            down: AtomicBool::new(false),
        }
    }

    pub fn advance_ms(&self, ms: u64) {
        self.now_ms.fetch_add(ms, Ordering::SeqCst);
    }

    pub fn with<T>(&self, f: impl FnOnce(&mut Memory) -> T) -> T {
        f(&mut self.memory.lock().unwrap())
    }

    fn up(&self) -> Result<(), BackendError> {
        match self.down.load(Ordering::SeqCst) {
            true => Err(BackendError::Unavailable("the validator tracker 0 did not answer in time".into())),
            false => Ok(()),
        }
    }
}

/// A validator with `missed/total` attestations and per-epoch `(missed, total)` from epoch 1 on.
pub fn validator(byte: u8, missed: u32, total: u32, epochs: &[(u32, u32)]) -> ValidatorView {
    ValidatorView {
        stats: ValidatorStats {
            address: Address::repeat_byte(byte),
            last_proposal: Some(Slot(120)),
            last_attestation: Some(Slot(190)),
            total_slots: total,
            missed_proposals: MissedStats::new(0, 3, 0),
            missed_attestations: MissedStats::new(missed, total, 0),
        },
        epochs: epochs
            .iter()
            .enumerate()
            .map(|(i, &(missed, total))| EpochPerformance { epoch: Epoch(i as u64 + 1), missed, total })
            .collect(),
        standing: Standing::Validating,
        operator: None,
        alerts: Vec::new(),
        as_of: Some(AsOf { slot: Slot(200), slot_end_s: START_MS / 1000 - 12 }),
        source: Source::Live,
    }
}

#[async_trait]
impl Backend for MemoryBackend {
    fn policies(&self) -> &Policies {
        &self.policies
    }

    fn now_ms(&self) -> u64 {
        self.now_ms.load(Ordering::SeqCst)
    }

    async fn chain(&self) -> Result<ChainView, BackendError> {
        self.up()?;
        Ok(ChainView {
            clock_slot: Slot(203),
            clock_epoch: Epoch(6),
            as_of: Some(AsOf { slot: Slot(200), slot_end_s: START_MS / 1000 - 12 }),
            pending_checkpoint: Some(41),
            proven_checkpoint: Some(39),
            committee_size: Some(48),
            network: Default::default(),
            source: Source::Live,
        })
    }

    async fn validator(&self, address: Address) -> Result<Option<ValidatorView>, BackendError> {
        self.up()?;
        Ok(self.with(|m| {
            let operator = m.links.get(&address).cloned();
            m.validators.get(&address).cloned().map(|v| ValidatorView { operator, ..v })
        }))
    }

    async fn linked_validators(&self, operator: &str) -> Result<Vec<Address>, BackendError> {
        self.up()?;
        Ok(self.with(|m| m.links.iter().filter(|(_, o)| *o == operator).map(|(v, _)| *v).collect()))
    }

    async fn held_roles(&self, user: &str) -> Result<Vec<String>, BackendError> {
        self.up()?;
        Ok(self.with(|m| m.roles.get(user).cloned().unwrap_or_default()))
    }

    async fn role_dry_run(&self) -> Result<Vec<PlannedRoleChange>, BackendError> {
        self.up()?;
        Ok(self.with(|m| m.dry_run.clone()))
    }

    async fn put_challenge(&self, challenge: &PendingLink) -> Result<(), BackendError> {
        self.up()?;
        self.with(|m| m.challenges.insert((challenge.user.clone(), challenge.validator), challenge.clone()));
        Ok(())
    }

    async fn take_challenge(
        &self,
        user: &str,
        validator: Address,
    ) -> Result<Option<PendingLink>, BackendError> {
        self.up()?;
        Ok(self.with(|m| m.challenges.remove(&(user.to_owned(), validator))))
    }

    async fn link(
        &self,
        operator: &str,
        validator: Address,
        moderator: Option<&str>,
    ) -> Result<(), BackendError> {
        self.up()?;
        self.with(|m| {
            m.links.insert(validator, operator.to_owned());
            m.linked.push((operator.to_owned(), validator, moderator.map(str::to_owned)));
        });
        Ok(())
    }

    async fn alert_preferences(&self, operator: &str) -> Result<AlertPreferences, BackendError> {
        self.up()?;
        Ok(self.with(|m| m.prefs.get(operator).cloned().unwrap_or_default()))
    }

    async fn put_alert_preferences(
        &self,
        operator: &str,
        prefs: &AlertPreferences,
    ) -> Result<(), BackendError> {
        self.up()?;
        self.with(|m| m.prefs.insert(operator.to_owned(), prefs.clone()));
        Ok(())
    }
}
