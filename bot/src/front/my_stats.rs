//! `/my-stats`: every validator linked to the invoker, with the role bar and freshness.

use std::fmt::Write as _;

use crate::interactions::handler::Reply;

use super::backend::{Backend, BackendError};
use super::card::{Audience, card, standing};
use super::format::freshness;

/// Beyond this many validators the answer lists the rest by address only (Discord caps messages).
const DETAILED: usize = 5;

pub async fn answer(backend: &dyn Backend, user: &str) -> Result<Reply, BackendError> {
    let linked = backend.linked_validators(user).await?;
    if linked.is_empty() {
        return Ok(Reply::ephemeral(
            "No validator is linked to you yet. Link one with `/register address`, then sign the \
             challenge with the validator's key and answer with `/verify`.",
        ));
    }
    let roles = backend.held_roles(user).await?;
    let policies = backend.policies();
    // Any performance rung counts: a higher tier replaces the base role.
    let holds_role = policies.roles.role_names().into_iter().any(|r| roles.iter().any(|held| held == r));
    let mut as_of = None;
    let mut text = String::new();
    let mut unseen = Vec::new();
    for (i, address) in linked.iter().enumerate() {
        match backend.validator(*address).await? {
            Some(view) if i < DETAILED => {
                as_of = as_of.max(view.as_of);
                text.push_str(&card(&view, policies, Audience::Owner { holds_role }));
            }
            Some(view) => {
                let _ = writeln!(text, "**{address:#x}** — {}", standing(view.standing));
            }
            None => unseen.push(format!("{address:#x}")),
        }
    }
    if !unseen.is_empty() {
        let _ = writeln!(text, "Not seen on a committee in the window yet: {}", unseen.join(", "));
    }
    let held = if roles.is_empty() {
        "none".to_owned()
    } else {
        roles.iter().map(|r| format!("`{r}`")).collect::<Vec<_>>().join(", ")
    };
    let header =
        format!("**Your validators** ({}) · roles held: {held}\n", freshness(as_of, backend.now_ms()));
    Ok(Reply::ephemeral(header + &text))
}
