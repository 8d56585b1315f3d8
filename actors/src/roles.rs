//! The role assigner: derives the roles each Discord member should hold from all their linked
//! validators, diffs that against what they hold, and applies only the difference.
//!
//! Rule per member: any linked validator slashed → the slashed role and no performance role;
//! otherwise the performance role when at least one linked validator has enough sample and every
//! validator with enough sample qualifies (hysteresis: a holder is judged by the looser bound).
//! Validators that are exiting, or have too little history, do not count either way.
//!
//! Each change is one decision: the new role state, an audit entry with the evidence, and the Discord
//! action, stored together (the outbox publisher delivers the action). So a restart neither repeats a
//! grant nor forgets one. Per-validator facts (slashed, exiting) are persisted as roles of the
//! validator itself (subject `validator:<address>`).

use sparta_telemetry::catalog;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use sparta_bot::DiscordAction;
pub use sparta_core::roles::RoleChange;
use sparta_core::roles::{LinkedValidator, plan_roles};
use sparta_core::scoreboard::{OperatorTally, operator_tallies};
use sparta_core::{Address, Slot, ValidatorStats};
use sparta_store::{AuditEntry, Decision, Link, OutboxEntry, RoleState};
use tracing::{info, warn};

use crate::context::EngineContext;
use crate::names::ChildKind;
use crate::tracker::StatsUpdate;

/// Facts about a validator that decide roles beyond its stats.
pub const FLAG_SLASHED: &str = "slashed";
pub const FLAG_EXITING: &str = "exiting";

pub enum RoleMsg {
    Stats(Arc<StatsUpdate>),
    /// A validator was slashed or began exiting; acknowledged once applied.
    Flag {
        validator: Address,
        flag: &'static str,
        slot: Slot,
        reply: RpcReplyPort<()>,
    },
    /// The changes the next reconcile would apply, without applying them.
    DryRun(RpcReplyPort<Vec<RoleChange>>),
    /// Roles members hold now.
    Held(RpcReplyPort<Vec<RoleState>>),
    /// Every operator's totals over its linked validators, and who operates each of `of` (for the
    /// per-operator and worst-validator metrics).
    Operators {
        of: Vec<Address>,
        reply: RpcReplyPort<OperatorView>,
    },
    /// A validator was linked (the link is stored): judge its operator now.
    Linked {
        link: Link,
        reply: RpcReplyPort<()>,
    },
}

/// What [`RoleMsg::Operators`] answers.
#[derive(Clone, Debug, Default)]
pub struct OperatorView {
    pub tallies: Vec<OperatorTally>,
    /// The operator of each asked validator, in the order asked (`None`: not linked).
    pub operator_of: Vec<Option<String>>,
}

pub struct RoleAssigner;

pub struct RoleAssignerState {
    ctx: Arc<EngineContext>,
    stats: HashMap<Address, ValidatorStats>,
    flags: HashMap<Address, BTreeSet<&'static str>>,
    /// user → linked validators
    links: BTreeMap<String, Vec<Address>>,
    user_of: HashMap<Address, String>,
    /// (user, role) currently held (decided; the outbox delivers it)
    held: BTreeSet<(String, String)>,
    /// (user, role) → slot of its last change, part of the next change's idempotency key
    changed_at: HashMap<(String, String), Slot>,
    as_of: Slot,
}

/// The subject under which per-validator facts (slashed, exiting) are stored as role states.
pub fn validator_subject(validator: &Address) -> String {
    format!("validator:{validator:#x}")
}

impl Actor for RoleAssigner {
    type Msg = RoleMsg;
    type State = RoleAssignerState;
    type Arguments = Arc<EngineContext>;

    async fn pre_start(
        &self,
        _myself: ActorRef<RoleMsg>,
        ctx: Arc<EngineContext>,
    ) -> Result<RoleAssignerState, ActorProcessingErr> {
        ctx.mailboxes.reset(ChildKind::Roles);
        let mut state = RoleAssignerState {
            stats: HashMap::new(),
            flags: HashMap::new(),
            links: BTreeMap::new(),
            user_of: HashMap::new(),
            held: BTreeSet::new(),
            changed_at: HashMap::new(),
            as_of: ctx.store.checkpoint().await?.unwrap_or_default(),
            ctx,
        };
        for link in state.ctx.store.links().await? {
            state.user_of.insert(link.validator, link.operator.clone());
            state.links.entry(link.operator).or_default().push(link.validator);
        }
        for role in state.ctx.store.role_states().await? {
            if !role.subject.starts_with("validator:") {
                state.changed_at.insert((role.subject.clone(), role.role.clone()), role.since_slot);
            }
            if !role.held {
                continue;
            }
            match role.subject.strip_prefix("validator:").map(str::parse::<Address>) {
                Some(Ok(validator)) => {
                    if let Some(flag) = known_flag(&role.role) {
                        state.flags.entry(validator).or_default().insert(flag);
                    }
                }
                Some(Err(_)) => warn!(subject = role.subject, "ignoring a role state with a bad address"),
                None => {
                    state.held.insert((role.subject, role.role));
                }
            }
        }
        for stats in state.ctx.store.all_stats().await? {
            state.stats.insert(stats.address, stats);
        }
        // Stored stats may be up to an epoch old: decide from the trackers' current ones, which they
        // send to a (re)started decider, rather than flap on stale data. Undelivered decisions of a
        // previous run wait in the outbox.
        crate::tracker::ask_for_all_stats(&state.ctx);
        Ok(state)
    }

    async fn handle(
        &self,
        _myself: ActorRef<RoleMsg>,
        msg: RoleMsg,
        state: &mut RoleAssignerState,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            RoleMsg::Stats(update) => {
                state.ctx.mailboxes.taken(ChildKind::Roles);
                state.as_of = state.as_of.max(update.as_of);
                let mut users = BTreeSet::new();
                for stats in &update.stats {
                    if let Some(user) = state.user_of.get(&stats.address) {
                        users.insert(user.clone());
                    }
                    state.stats.insert(stats.address, stats.clone());
                }
                apply(state, &users.into_iter().collect::<Vec<_>>()).await?;
                update.record_latency("roles");
            }
            RoleMsg::Flag { validator, flag, slot, reply } => {
                state.as_of = state.as_of.max(slot);
                let newly = state.flags.entry(validator).or_default().insert(flag);
                if newly {
                    let record = RoleState {
                        subject: validator_subject(&validator),
                        role: flag.to_owned(),
                        held: true,
                        since_slot: slot,
                    };
                    state.ctx.store.put_role_state(&record).await?;
                }
                if let Some(user) = state.user_of.get(&validator).cloned() {
                    apply(state, &[user]).await?;
                }
                let _ = reply.send(());
            }
            RoleMsg::Linked { link, reply } => {
                let mut users = vec![link.operator.clone()];
                // A validator moving to another operator changes the previous operator's roles too.
                if let Some(previous) = state.user_of.insert(link.validator, link.operator.clone())
                    && previous != link.operator
                {
                    if let Some(validators) = state.links.get_mut(&previous) {
                        validators.retain(|v| *v != link.validator);
                    }
                    users.push(previous);
                }
                let validators = state.links.entry(link.operator).or_default();
                if !validators.contains(&link.validator) {
                    validators.push(link.validator);
                }
                apply(state, &users).await?;
                let _ = reply.send(());
            }
            RoleMsg::DryRun(reply) => {
                let users: Vec<String> = state.links.keys().cloned().collect();
                let _ = reply.send(users.iter().flat_map(|u| plan(state, u)).collect());
            }
            RoleMsg::Operators { of, reply } => {
                let slashed =
                    |v: &Address| state.flags.get(v).is_some_and(|flags| flags.contains(FLAG_SLASHED));
                let _ = reply.send(OperatorView {
                    tallies: operator_tallies(&state.links, |v| state.stats.get(v), slashed),
                    operator_of: of.iter().map(|v| state.user_of.get(v).cloned()).collect(),
                });
            }
            RoleMsg::Held(reply) => {
                let held = state
                    .held
                    .iter()
                    .map(|(subject, role)| RoleState {
                        subject: subject.clone(),
                        role: role.clone(),
                        held: true,
                        since_slot: state.as_of,
                    })
                    .collect();
                let _ = reply.send(held);
            }
        }
        Ok(())
    }
}

fn known_flag(role: &str) -> Option<&'static str> {
    [FLAG_SLASHED, FLAG_EXITING].into_iter().find(|f| *f == role)
}

/// The changes that would bring `user` to their desired roles (the rule is [`plan_roles`]).
fn plan(state: &RoleAssignerState, user: &str) -> Vec<RoleChange> {
    let config = &state.ctx.config;
    let flagged = |v: &Address, f: &str| state.flags.get(v).is_some_and(|s| s.contains(f));
    let validators: Vec<LinkedValidator<'_>> = state
        .links
        .get(user)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|v| LinkedValidator {
            address: *v,
            stats: state.stats.get(v),
            slashed: flagged(v, FLAG_SLASHED),
            exiting: flagged(v, FLAG_EXITING),
        })
        .collect();
    let holds = |role: &str| state.held.contains(&(user.to_owned(), role.to_owned()));
    plan_roles(&config.roles, &config.slashed_role, user, &validators, holds, state.as_of)
}

/// Decides the planned changes for `users`: each is stored with its audit entry and its Discord action
/// in one transaction, and the outbox publisher delivers it.
async fn apply(state: &mut RoleAssignerState, users: &[String]) -> Result<(), ActorProcessingErr> {
    let mut decided = 0;
    for user in users {
        for change in plan(state, user) {
            let key = (change.user.clone(), change.role.clone());
            let (user, role, reason) = (change.user.clone(), change.role.clone(), change.reason.clone());
            let action = if change.grant {
                DiscordAction::AddRole { user, role, reason }
            } else {
                DiscordAction::RemoveRole { user, role, reason }
            };
            // The same change decided again (after a crash) gets the same key.
            let after = state.changed_at.get(&key).map_or("never".to_owned(), |s| s.to_string());
            let sign = if change.grant { "+" } else { "-" };
            let decision = Decision {
                roles: vec![RoleState {
                    subject: change.user.clone(),
                    role: change.role.clone(),
                    held: change.grant,
                    since_slot: state.as_of,
                }],
                audit: vec![AuditEntry {
                    subject: change.user.clone(),
                    at_slot: state.as_of,
                    change: format!("role{sign} {}", change.role),
                    evidence: change.reason.clone(),
                }],
                outbox: vec![OutboxEntry {
                    key: action.idempotency_key(&format!("after:{after}")),
                    payload: serde_json::to_string(&action)?,
                    created_slot: state.as_of,
                }],
                ..Decision::default()
            };
            state.ctx.store.commit_decision(&decision).await?;
            decided += 1;
            state.changed_at.insert(key.clone(), state.as_of);
            if change.grant {
                state.held.insert(key);
            } else {
                state.held.remove(&key);
            }
            let action = if change.grant { "add" } else { "remove" };
            metrics::counter!(catalog::ROLES_CHANGES_TOTAL, "role" => change.role.clone(), "action" => action)
                .increment(1);
            info!(user = change.user, role = change.role, action, reason = change.reason, "role change");
        }
    }
    if decided > 0 {
        state.ctx.outbox_changed();
    }
    Ok(())
}
