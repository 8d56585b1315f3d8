//! The full reconcile: every linked member's desired roles against what Discord shows them holding,
//! so roles changed by hand (or lost to a rejected delivery) come back to what the rule says.
//!
//! Reading a large guild takes tens of seconds at Discord's pace, so the reads run in a task of their
//! own while the role assigner goes on deciding; what they saw comes back as [`RoleMsg::MembersRead`].
//! The reads start once the outbox has delivered everything already decided, and a role the engine
//! changed while they ran keeps the engine's newer word: Discord is never compared with a delivery
//! still under way.

use ractor::{ActorProcessingErr, ActorRef, RpcReplyPort};
use sparta_core::Slot;
use sparta_store::{AuditEntry, Decision, RoleState};
use tracing::{info, warn};

use super::{RoleAssignerState, RoleChange, RoleMsg, apply, plan_with};
use crate::context::EngineContext;
use crate::names::ChildKind;
use crate::publisher::PublisherMsg;

/// What the members' roles were seen to be, handed back to the role assigner.
pub struct MembersRead {
    dry_run: bool,
    /// The engine's count of role changes when the reads began.
    started: u64,
    /// Each linked member's roles as Discord shows them; `None` where it could not tell.
    shown: Vec<(String, Option<Vec<String>>)>,
    reply: Option<RpcReplyPort<Vec<RoleChange>>>,
}

/// Whether the stats reaching `as_of` cross a periodic reconcile boundary while following live (a
/// catch-up reconciles once it is over, not at every boundary it passes).
pub(super) fn reconcile_due(state: &RoleAssignerState, as_of: Slot) -> bool {
    let config = &state.ctx.config;
    let every = config.reconcile_every_epochs * config.monitor.epoch_duration_slots.max(1);
    let live =
        state.ctx.clock.current_slot().0.saturating_sub(as_of.0) <= config.monitor.epoch_duration_slots;
    every > 0 && live && as_of.0 / every > state.as_of.0 / every
}

/// Starts a full reconcile (see [`RoleMsg::Reconcile`]): reads every linked member's roles off the
/// actor, then hands them back to `myself`.
pub(super) fn start(
    state: &RoleAssignerState,
    myself: ActorRef<RoleMsg>,
    dry_run: bool,
    reply: Option<RpcReplyPort<Vec<RoleChange>>>,
) {
    let users: Vec<String> = state.links.keys().cloned().collect();
    let (ctx, started) = (state.ctx.clone(), state.changes);
    tokio::spawn(async move {
        let shown = read_members(&ctx, users).await;
        // A role assigner that stopped meanwhile drops the reply; the caller hears it as an error.
        let _ = myself.send_message(RoleMsg::MembersRead(Box::new(MembersRead {
            dry_run,
            started,
            shown,
            reply,
        })));
    });
}

async fn read_members(ctx: &EngineContext, users: Vec<String>) -> Vec<(String, Option<Vec<String>>)> {
    match deliver_outbox(ctx).await {
        Ok(0) => {}
        Ok(waiting) => {
            warn!(waiting, "deliveries still wait; this reconcile keeps the engine's record of every role");
            return users.into_iter().map(|u| (u, None)).collect();
        }
        Err(error) => {
            warn!(%error, "cannot deliver the outbox first; this reconcile keeps the engine's record of every role");
            return users.into_iter().map(|u| (u, None)).collect();
        }
    }
    let mut shown = Vec::with_capacity(users.len());
    for user in users {
        let roles = match ctx.sink.member_roles(&user).await {
            Ok(roles) => roles,
            Err(error) => {
                warn!(user, %error, "cannot read the member's roles; reconciling them next time");
                None
            }
        };
        shown.push((user, roles));
    }
    shown
}

/// Delivers every due outbox entry; how many still wait.
async fn deliver_outbox(ctx: &EngineContext) -> Result<u64, String> {
    let publisher =
        ctx.names.lookup::<PublisherMsg>(ChildKind::Publisher).ok_or("the outbox publisher is down")?;
    let timeout = std::time::Duration::from_millis(ctx.config.call_timeout_ms.max(1) * 10);
    match publisher.call(PublisherMsg::Flush, Some(timeout)).await {
        Ok(ractor::rpc::CallResult::Success(waiting)) => Ok(waiting),
        Ok(_) => Err("the outbox publisher did not answer".into()),
        Err(error) => Err(error.to_string()),
    }
}

/// Finishes a reconcile on what the reads saw: a real one takes in what changed outside sparta, then
/// applies the plan; a dry run only lists it. Both answer with the changes.
pub(super) async fn finish(
    state: &mut RoleAssignerState,
    read: MembersRead,
) -> Result<(), ActorProcessingErr> {
    let config = &state.ctx.config;
    let managed: Vec<String> =
        config.roles.managed_roles(&config.slashed_role).into_iter().map(str::to_owned).collect();
    let mut planned = Vec::new();
    let mut unread = 0;
    for (user, shown) in &read.shown {
        let Some(actual) = shown else {
            unread += 1;
            planned.extend(plan_with(state, user, |role| state.holds(user, role)));
            continue;
        };
        // A role changed since the reads began: Discord may not show it yet; the engine's word stands.
        let seen = |state: &RoleAssignerState, role: &str| {
            if state.changed_since(user, role, read.started) {
                state.holds(user, role)
            } else {
                actual.iter().any(|r| r == role)
            }
        };
        if !read.dry_run {
            // In the config's role order, so the audit reads the same on every run.
            let differs: Vec<(&String, bool)> = managed
                .iter()
                .map(|role| (role, seen(state, role)))
                .filter(|(role, held)| *held != state.holds(user, role))
                .collect();
            for (role, held) in differs {
                take_in(state, user, role, held).await?;
            }
        }
        planned.extend(plan_with(state, user, |role| seen(state, role)));
    }
    if !read.dry_run {
        let users: Vec<String> = read.shown.iter().map(|(u, _)| u.clone()).collect();
        apply(state, &users).await?;
    }
    info!(
        members = read.shown.len(),
        changes = planned.len(),
        unread,
        dry_run = read.dry_run,
        "roles reconciled"
    );
    if let Some(reply) = read.reply {
        let _ = reply.send(planned);
    }
    Ok(())
}

/// Records that Discord shows `user` holding `role` (or not) where the engine's record differs (a role
/// changed by hand), with an audit entry, so the next plan starts from the truth.
async fn take_in(
    state: &mut RoleAssignerState,
    user: &str,
    role: &str,
    held: bool,
) -> Result<(), ActorProcessingErr> {
    let sign = if held { "+" } else { "-" };
    let decision = Decision {
        roles: vec![RoleState {
            subject: user.to_owned(),
            role: role.to_owned(),
            held,
            since_slot: state.as_of,
        }],
        audit: vec![AuditEntry {
            subject: user.to_owned(),
            at_slot: state.as_of,
            change: format!("seen in discord: role{sign} {role}"),
            evidence: "changed outside sparta; the reconcile starts from what Discord shows".into(),
        }],
        ..Decision::default()
    };
    state.ctx.store.commit_decision(&decision).await?;
    state.record_change(user, role, held);
    warn!(user, role, held, "role changed outside sparta");
    Ok(())
}
