//! The bot's [`Backend`] over an engine and the store: live answers from the engine's actors while it
//! runs in this process (single mode, or the elected leader), stored ones on a standby. Nothing here
//! calls the chain.

use std::sync::Arc;

use crate::engine::{EngineError, EngineHandle};
use crate::roles::{FLAG_EXITING, FLAG_SLASHED, validator_subject};
use crate::tracker::ValidatorReport;
use async_trait::async_trait;
use sparta_bot::{
    AlertPreferences, AsOf, Backend, BackendError, ChainView, PendingLink, PlannedRoleChange, Policies,
    Source, Standing, ValidatorView,
};
use sparta_core::{Address, ChainTiming, Slot, SlotClock};
use sparta_store::{AlertSettings, AuditEntry, Challenge, Link, Store, StoreError};
use tokio::sync::watch;

/// The engine of the current term, if this process runs one.
pub type EngineSlot = watch::Receiver<Option<EngineHandle>>;

pub struct EngineBackend {
    engine: EngineSlot,
    store: Arc<dyn Store>,
    clock: Arc<dyn SlotClock>,
    policies: Policies,
}

impl EngineBackend {
    pub fn new(
        engine: EngineSlot,
        store: Arc<dyn Store>,
        clock: Arc<dyn SlotClock>,
        policies: Policies,
    ) -> Self {
        Self { engine, store, clock, policies }
    }

    fn live(&self) -> Option<EngineHandle> {
        self.engine.borrow().clone()
    }

    fn timing(&self) -> ChainTiming {
        self.clock.timing()
    }

    fn as_of(&self, slot: Option<Slot>) -> Option<AsOf> {
        slot.map(|slot| AsOf { slot, slot_end_s: self.timing().slot_start_s(slot.next()) })
    }

    async fn standing(&self, validator: &Address) -> Result<Standing, BackendError> {
        let subject = validator_subject(validator);
        let flagged = |role: Option<sparta_store::RoleState>| role.is_some_and(|r| r.held);
        if flagged(self.store.role_state(&subject, FLAG_SLASHED).await.map_err(store)?) {
            return Ok(Standing::Slashed);
        }
        if flagged(self.store.role_state(&subject, FLAG_EXITING).await.map_err(store)?) {
            return Ok(Standing::Exiting);
        }
        Ok(Standing::Validating)
    }

    async fn live_view(
        &self,
        engine: &EngineHandle,
        report: ValidatorReport,
    ) -> Result<ValidatorView, BackendError> {
        let address = report.stats.address;
        let subject = validator_subject(&address);
        let alerts = engine
            .firing_alerts()
            .await
            .map_err(unanswered)?
            .into_iter()
            .filter(|a| a.subject == subject)
            .map(|a| a.kind)
            .collect();
        Ok(ValidatorView {
            standing: self.standing(&address).await?,
            operator: self.store.operator_of(&address).await.map_err(store)?,
            as_of: self.as_of(report.as_of),
            stats: report.stats,
            epochs: report.epochs,
            alerts,
            source: Source::Live,
        })
    }
}

fn store(error: StoreError) -> BackendError {
    BackendError::Unavailable(format!("the store did not answer: {error}"))
}

fn unanswered(error: EngineError) -> BackendError {
    BackendError::Unavailable(error.to_string())
}

#[async_trait]
impl Backend for EngineBackend {
    fn policies(&self) -> &Policies {
        &self.policies
    }

    fn now_ms(&self) -> u64 {
        self.clock.now().as_millis() as u64
    }

    async fn chain(&self) -> Result<ChainView, BackendError> {
        let timing = self.timing();
        let clock_slot = self.clock.current_slot();
        let mut view = ChainView {
            clock_slot,
            clock_epoch: timing.epoch_of(clock_slot),
            as_of: None,
            pending_checkpoint: None,
            proven_checkpoint: None,
            committee_size: None,
            network: Default::default(),
            source: Source::Stored,
        };
        match self.live() {
            Some(engine) => {
                let summary = engine.network().await.map_err(unanswered)?;
                let tips = engine.tips();
                view.as_of = self.as_of(summary.last_processed_slot);
                view.committee_size = summary.committee_size;
                view.network = summary.network;
                view.pending_checkpoint = tips.map(|t| t.pending);
                view.proven_checkpoint = tips.map(|t| t.proven);
                view.source = Source::Live;
            }
            None => view.as_of = self.as_of(self.store.checkpoint().await.map_err(store)?),
        }
        Ok(view)
    }

    async fn validator(&self, address: Address) -> Result<Option<ValidatorView>, BackendError> {
        if let Some(engine) = self.live() {
            return match engine.validator(address).await.map_err(unanswered)? {
                Some(report) => self.live_view(&engine, report).await.map(Some),
                None => Ok(None),
            };
        }
        let Some(stats) = self.store.stats(&address).await.map_err(store)? else { return Ok(None) };
        Ok(Some(ValidatorView {
            standing: self.standing(&address).await?,
            operator: self.store.operator_of(&address).await.map_err(store)?,
            as_of: self.as_of(self.store.checkpoint().await.map_err(store)?),
            stats,
            epochs: Vec::new(),
            alerts: Vec::new(),
            source: Source::Stored,
        }))
    }

    async fn linked_validators(&self, operator: &str) -> Result<Vec<Address>, BackendError> {
        self.store.validators_of(operator).await.map_err(store)
    }

    async fn held_roles(&self, user: &str) -> Result<Vec<String>, BackendError> {
        let mut held = Vec::new();
        for role in self.policies.roles.managed_roles(&self.policies.slashed_role) {
            if self.store.role_state(user, role).await.map_err(store)?.is_some_and(|r| r.held) {
                held.push(role.to_owned());
            }
        }
        Ok(held)
    }

    async fn role_dry_run(&self) -> Result<Vec<PlannedRoleChange>, BackendError> {
        let Some(engine) = self.live() else {
            return Err(BackendError::Unavailable(
                "role previews come from the instance running the engine; ask again in a moment".into(),
            ));
        };
        Ok(engine
            .role_dry_run()
            .await
            .map_err(unanswered)?
            .into_iter()
            .map(|c| PlannedRoleChange { user: c.user, role: c.role, grant: c.grant, reason: c.reason })
            .collect())
    }

    async fn put_challenge(&self, challenge: &PendingLink) -> Result<(), BackendError> {
        let challenge = Challenge {
            user: challenge.user.clone(),
            validator: challenge.validator,
            nonce: challenge.nonce.clone(),
            issued_ms: challenge.issued_ms,
            expires_ms: challenge.expires_ms,
        };
        self.store.put_challenge(&challenge).await.map_err(store)
    }

    async fn take_challenge(
        &self,
        user: &str,
        validator: Address,
    ) -> Result<Option<PendingLink>, BackendError> {
        Ok(self.store.take_challenge(user, &validator).await.map_err(store)?.map(|c| PendingLink {
            user: c.user,
            validator: c.validator,
            nonce: c.nonce,
            issued_ms: c.issued_ms,
            expires_ms: c.expires_ms,
        }))
    }

    async fn link(
        &self,
        operator: &str,
        validator: Address,
        moderator: Option<&str>,
    ) -> Result<(), BackendError> {
        let link = Link { operator: operator.to_owned(), validator };
        match moderator {
            Some(moderator) => {
                let at_slot = self.store.checkpoint().await.map_err(store)?.unwrap_or_default();
                let audit = AuditEntry {
                    subject: operator.to_owned(),
                    at_slot,
                    change: format!("link {validator:#x}"),
                    evidence: format!("linked by moderator {moderator}"),
                };
                self.store.link_audited(&link, &audit).await.map_err(store)?;
            }
            None => self.store.link(&link).await.map_err(store)?,
        }
        // Stored first: if the engine is busy, it picks the link up at its next start.
        if let Some(engine) = self.live()
            && let Err(error) = engine.linked(link).await
        {
            tracing::warn!(%error, "the engine did not take the new link yet; it will at its next start");
        }
        Ok(())
    }

    async fn alert_preferences(&self, operator: &str) -> Result<AlertPreferences, BackendError> {
        Ok(self
            .store
            .alert_settings(operator)
            .await
            .map_err(store)?
            .map(|s| AlertPreferences {
                muted: s.muted,
                snoozed_until_ms: s.snoozed_until_ms,
                miss_rate_threshold: s.miss_rate_threshold,
            })
            .unwrap_or_default())
    }

    async fn put_alert_preferences(
        &self,
        operator: &str,
        prefs: &AlertPreferences,
    ) -> Result<(), BackendError> {
        let settings = AlertSettings {
            operator: operator.to_owned(),
            muted: prefs.muted,
            snoozed_until_ms: prefs.snoozed_until_ms,
            miss_rate_threshold: prefs.miss_rate_threshold,
        };
        self.store.put_alert_settings(&settings).await.map_err(store)?;
        if let Some(engine) = self.live() {
            engine.alert_settings_changed(settings);
        }
        Ok(())
    }
}

/// The backend while the process starts: the HTTP server (health checks, interactions) is up before
/// the chain and the store are, and commands answer "not ready" until [`LateBackend::set`].
pub struct LateBackend {
    policies: Policies,
    inner: std::sync::OnceLock<EngineBackend>,
}

impl LateBackend {
    pub fn new(policies: Policies) -> Self {
        Self { policies, inner: std::sync::OnceLock::new() }
    }

    pub fn set(&self, backend: EngineBackend) {
        let _ = self.inner.set(backend);
    }

    fn ready(&self) -> Result<&EngineBackend, BackendError> {
        self.inner.get().ok_or_else(|| BackendError::Unavailable("sparta is still starting".into()))
    }
}

#[async_trait]
impl Backend for LateBackend {
    fn policies(&self) -> &Policies {
        &self.policies
    }

    fn now_ms(&self) -> u64 {
        match self.inner.get() {
            Some(backend) => backend.now_ms(),
            None => crate::publisher::now_ms(),
        }
    }

    async fn chain(&self) -> Result<ChainView, BackendError> {
        self.ready()?.chain().await
    }

    async fn validator(&self, address: Address) -> Result<Option<ValidatorView>, BackendError> {
        self.ready()?.validator(address).await
    }

    async fn linked_validators(&self, operator: &str) -> Result<Vec<Address>, BackendError> {
        self.ready()?.linked_validators(operator).await
    }

    async fn held_roles(&self, user: &str) -> Result<Vec<String>, BackendError> {
        self.ready()?.held_roles(user).await
    }

    async fn role_dry_run(&self) -> Result<Vec<PlannedRoleChange>, BackendError> {
        self.ready()?.role_dry_run().await
    }

    async fn put_challenge(&self, challenge: &PendingLink) -> Result<(), BackendError> {
        self.ready()?.put_challenge(challenge).await
    }

    async fn take_challenge(
        &self,
        user: &str,
        validator: Address,
    ) -> Result<Option<PendingLink>, BackendError> {
        self.ready()?.take_challenge(user, validator).await
    }

    async fn link(
        &self,
        operator: &str,
        validator: Address,
        moderator: Option<&str>,
    ) -> Result<(), BackendError> {
        self.ready()?.link(operator, validator, moderator).await
    }

    async fn alert_preferences(&self, operator: &str) -> Result<AlertPreferences, BackendError> {
        self.ready()?.alert_preferences(operator).await
    }

    async fn put_alert_preferences(
        &self,
        operator: &str,
        prefs: &AlertPreferences,
    ) -> Result<(), BackendError> {
        self.ready()?.put_alert_preferences(operator, prefs).await
    }
}
