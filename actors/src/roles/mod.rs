//! The role assigner: derives the roles each Discord member should hold from all their linked
//! validators, diffs that against what they hold, and applies only the difference.
//!
//! The rule is [`plan_roles`] (the slashed role, or the highest performance rung every active linked
//! validator earns, with hysteresis); it judges each validator's own record, with the misses the
//! whole network shared forgiven. Every `reconcile_every_epochs` a full reconcile (see [`reconcile`])
//! compares with what Discord shows and takes in changes made there by hand.
//!
//! Each change is one decision: the new role state, an audit entry with the evidence, and the Discord
//! action, stored together (the outbox publisher delivers the action). So a restart neither repeats a
//! grant nor forgets one. Per-validator facts (slashed, exiting) are persisted as roles of the
//! validator itself (subject `validator:<address>`).

mod reconcile;

use sparta_telemetry::catalog;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use sparta_bot::DiscordAction;
pub use sparta_core::roles::RoleChange;
use sparta_core::roles::{LinkedValidator, plan_roles};
use sparta_core::scoreboard::{OperatorTally, operator_tallies};
use sparta_core::{Address, Excused, Slot, ValidatorStats};
use sparta_store::{AuditEntry, Decision, Link, OutboxEntry, RoleState};
use tracing::{info, warn};

use crate::context::EngineContext;
use crate::names::ChildKind;
use crate::tracker::StatsUpdate;
pub use reconcile::MembersRead;
use reconcile::reconcile_due;

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
    /// A full reconcile: every linked member's desired roles against the roles Discord shows them
    /// holding (the engine's record where the sink cannot tell). A dry run lists the changes; a real
    /// one first takes in what changed outside sparta, then applies exactly those changes. Answers
    /// with the changes (when asked).
    Reconcile {
        dry_run: bool,
        reply: Option<RpcReplyPort<Vec<RoleChange>>>,
    },
    /// A reconcile's reads of the members' roles are back (they run off the actor).
    MembersRead(Box<MembersRead>),
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
    /// Network-wide misses in a validator's window, not held against its roles.
    excused: HashMap<Address, Excused>,
    /// Completed epochs with duties, per validator.
    epochs_active: HashMap<Address, u32>,
    flags: HashMap<Address, BTreeSet<&'static str>>,
    /// user → linked validators
    links: BTreeMap<String, Vec<Address>>,
    user_of: HashMap<Address, String>,
    /// (user, role) currently held (decided; the outbox delivers it)
    held: BTreeSet<(String, String)>,
    /// (user, role) → slot of its last change, part of the next change's idempotency key
    changed_at: HashMap<(String, String), Slot>,
    /// Member role changes decided by this actor so far, and the count at each (user, role)'s last one:
    /// a reconcile's reads keep the engine's word on roles changed while they ran.
    changes: u64,
    change_number: HashMap<(String, String), u64>,
    as_of: Slot,
}

impl RoleAssignerState {
    /// Whether the engine has `user` holding `role` (decided; the outbox delivers it).
    fn holds(&self, user: &str, role: &str) -> bool {
        self.held.contains(&(user.to_owned(), role.to_owned()))
    }

    fn changed_since(&self, user: &str, role: &str, changes: u64) -> bool {
        self.change_number.get(&(user.to_owned(), role.to_owned())).is_some_and(|n| *n > changes)
    }

    /// Keeps a committed change of `user`'s `role`.
    fn record_change(&mut self, user: &str, role: &str, held: bool) {
        let key = (user.to_owned(), role.to_owned());
        self.changes += 1;
        self.change_number.insert(key.clone(), self.changes);
        self.changed_at.insert(key.clone(), self.as_of);
        if held {
            self.held.insert(key);
        } else {
            self.held.remove(&key);
        }
    }
}

/// The subject under which per-validator facts (slashed, exiting) and alerts are stored.
pub fn validator_subject(validator: &Address) -> String {
    format!("{VALIDATOR_SUBJECT}{validator:#x}")
}

/// The validator a stored subject names: `None` for another subject (a member, the network).
pub(crate) fn subject_validator(
    subject: &str,
) -> Option<Result<Address, alloy_primitives::hex::FromHexError>> {
    subject.strip_prefix(VALIDATOR_SUBJECT).map(str::parse)
}

const VALIDATOR_SUBJECT: &str = "validator:";

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
            excused: HashMap::new(),
            epochs_active: HashMap::new(),
            flags: HashMap::new(),
            links: BTreeMap::new(),
            user_of: HashMap::new(),
            held: BTreeSet::new(),
            changed_at: HashMap::new(),
            changes: 0,
            change_number: HashMap::new(),
            as_of: ctx.store.checkpoint().await?.unwrap_or_default(),
            ctx,
        };
        for link in state.ctx.store.links().await? {
            state.user_of.insert(link.validator, link.operator.clone());
            state.links.entry(link.operator).or_default().push(link.validator);
        }
        for role in state.ctx.store.role_states().await? {
            if subject_validator(&role.subject).is_none() {
                state.changed_at.insert((role.subject.clone(), role.role.clone()), role.since_slot);
            }
            if !role.held {
                continue;
            }
            match subject_validator(&role.subject) {
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
        myself: ActorRef<RoleMsg>,
        msg: RoleMsg,
        state: &mut RoleAssignerState,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            RoleMsg::Stats(update) => {
                state.ctx.mailboxes.taken(ChildKind::Roles);
                if reconcile_due(state, update.as_of) {
                    let _ = myself.send_message(RoleMsg::Reconcile { dry_run: false, reply: None });
                }
                state.as_of = state.as_of.max(update.as_of);
                let mut users = BTreeSet::new();
                for stats in &update.stats {
                    if let Some(user) = state.user_of.get(&stats.address) {
                        users.insert(user.clone());
                    }
                    state.stats.insert(stats.address, stats.clone());
                    if let Some(epochs) = update.epochs_active.get(&stats.address) {
                        state.epochs_active.insert(stats.address, *epochs);
                    }
                    match update.excused.get(&stats.address) {
                        Some(excused) => state.excused.insert(stats.address, *excused),
                        None => state.excused.remove(&stats.address),
                    };
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
            RoleMsg::Reconcile { dry_run, reply } => reconcile::start(state, myself, dry_run, reply),
            RoleMsg::MembersRead(read) => reconcile::finish(state, *read).await?,
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

/// The changes that would bring `user` to their desired roles (the rule is [`plan_roles`]), from the
/// roles the engine has them holding.
fn plan(state: &RoleAssignerState, user: &str) -> Vec<RoleChange> {
    plan_with(state, user, |role: &str| state.holds(user, role))
}

/// [`plan`] from the roles `holds` says they hold.
fn plan_with(state: &RoleAssignerState, user: &str, holds: impl Fn(&str) -> bool) -> Vec<RoleChange> {
    let config = &state.ctx.config;
    let flagged = |v: &Address, f: &str| state.flags.get(v).is_some_and(|s| s.contains(f));
    let linked = state.links.get(user).map(Vec::as_slice).unwrap_or_default();
    // Judged on their own record: misses the whole network shared are taken out.
    let own: Vec<Option<ValidatorStats>> = linked
        .iter()
        .map(|v| {
            let stats = state.stats.get(v)?;
            Some(state.excused.get(v).map_or_else(|| stats.clone(), |e| stats.excusing(*e)))
        })
        .collect();
    let validators: Vec<LinkedValidator<'_>> = linked
        .iter()
        .zip(&own)
        .map(|(v, stats)| LinkedValidator {
            address: *v,
            stats: stats.as_ref(),
            slashed: flagged(v, FLAG_SLASHED),
            exiting: flagged(v, FLAG_EXITING),
            epochs_active: state.epochs_active.get(v).copied().unwrap_or(0),
        })
        .collect();
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
            state.record_change(&change.user, &change.role, change.grant);
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
