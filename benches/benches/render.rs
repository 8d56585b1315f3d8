//! Rendering a `/my-stats` answer, the command operators hit in bursts during incidents: one operator
//! with five validators, each with a full 768-slot window and a 24-epoch trend, answered by the real
//! `Front` from a backend that holds the views in memory, so the number is the answering and
//! rendering alone (the `my_stats` load scenario measures it behind HTTP, signatures and the engine).
//! `cargo bench -p sparta-benches --bench render`.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use criterion::{Criterion, criterion_group, criterion_main};
use sparta_benches::SyntheticNetwork;
use sparta_bot::{
    AlertPreferences, AsOf, Backend, BackendError, ChainView, Command, CommandHandler, Front, FrontConfig,
    Invocation, PendingLink, PlannedRoleChange, Policies, Snowflake, Source, Standing, ValidatorView,
};
use sparta_core::{Address, MonitorConfig, ValidatorMonitor};

const OPERATOR: u64 = 123_456_789_012_345_678;
const NOW_MS: u64 = 1_700_000_000_000;

/// What the engine would answer for one operator, fixed.
struct HeldViews {
    policies: Policies,
    linked: Vec<Address>,
    views: HashMap<Address, ValidatorView>,
}

#[async_trait]
impl Backend for HeldViews {
    fn policies(&self) -> &Policies {
        &self.policies
    }

    fn now_ms(&self) -> u64 {
        NOW_MS
    }

    async fn chain(&self) -> Result<ChainView, BackendError> {
        Err(BackendError::Unavailable("not part of /my-stats".into()))
    }

    async fn validator(&self, address: Address) -> Result<Option<ValidatorView>, BackendError> {
        Ok(self.views.get(&address).cloned())
    }

    async fn linked_validators(&self, _operator: &str) -> Result<Vec<Address>, BackendError> {
        Ok(self.linked.clone())
    }

    async fn held_roles(&self, _user: &str) -> Result<Vec<String>, BackendError> {
        Ok(vec![self.policies.roles.role.clone()])
    }

    async fn role_dry_run(&self) -> Result<Vec<PlannedRoleChange>, BackendError> {
        Ok(Vec::new())
    }

    async fn put_challenge(&self, _challenge: &PendingLink) -> Result<(), BackendError> {
        Ok(())
    }

    async fn take_challenge(
        &self,
        _user: &str,
        _validator: Address,
    ) -> Result<Option<PendingLink>, BackendError> {
        Ok(None)
    }

    async fn link(
        &self,
        _operator: &str,
        _validator: Address,
        _moderator: Option<&str>,
    ) -> Result<(), BackendError> {
        Ok(())
    }

    async fn alert_preferences(&self, _operator: &str) -> Result<AlertPreferences, BackendError> {
        Ok(AlertPreferences::default())
    }

    async fn put_alert_preferences(
        &self,
        _operator: &str,
        _prefs: &AlertPreferences,
    ) -> Result<(), BackendError> {
        Ok(())
    }
}

/// Five validators that attested in every slot of a full window (a 20-member set, all on the committee).
fn held_views() -> HeldViews {
    let mut network = SyntheticNetwork::new(20, 20, 32, 7);
    let mut monitor = ValidatorMonitor::new(MonitorConfig::default());
    for facts in network.slots(0, 1_024) {
        monitor.register_slot(&facts);
    }
    let as_of = monitor.last_processed_slot().map(|slot| AsOf { slot, slot_end_s: NOW_MS / 1000 - 12 });
    let linked: Vec<Address> = network.validators()[..5].to_vec();
    let views = linked
        .iter()
        .map(|v| {
            let view = ValidatorView {
                stats: monitor.stats(v).expect("tracked"),
                epochs: monitor.epoch_performance(v),
                standing: Standing::Validating,
                operator: Some(OPERATOR.to_string()),
                alerts: vec!["attestation-misses".into()],
                as_of,
                source: Source::Live,
            };
            (*v, view)
        })
        .collect();
    HeldViews { policies: Policies::default(), linked, views }
}

fn my_stats(c: &mut Criterion) {
    let front = Front::new(Arc::new(held_views()), FrontConfig::default());
    let invocation = || Invocation {
        user_id: Snowflake(OPERATOR),
        member_roles: Vec::new(),
        guild_id: Some(Snowflake(1)),
        command: Command::MyStats,
    };
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("a runtime");
    let reply = runtime.block_on(front.handle(invocation()));
    assert!(reply.content.contains("attestation"), "a real answer: {}", reply.content);
    c.bench_function("my_stats_5_validators_full_window", |b| {
        b.iter(|| runtime.block_on(front.handle(std::hint::black_box(invocation()))))
    });
}

criterion_group!(benches, my_stats);
criterion_main!(benches);
