//! `/mod operator-info|roles-dry-run|link`: what moderators see and do. The front checked the
//! invoker's moderator role before this runs.

use std::fmt::Write as _;

use crate::commands::ModCommand;
use crate::interactions::handler::Reply;

use super::backend::{Backend, BackendError};
use super::card::{Audience, card};

/// Dry-run lines shown before summarising the rest.
const SHOWN_CHANGES: usize = 25;

pub async fn answer(
    backend: &dyn Backend,
    moderator: &str,
    command: &ModCommand,
) -> Result<Reply, BackendError> {
    match command {
        ModCommand::OperatorInfo { user } => {
            let user = user.to_string();
            let linked = backend.linked_validators(&user).await?;
            let roles = backend.held_roles(&user).await?;
            let rungs = backend.policies().roles.role_names();
            let holds_role = roles.iter().any(|held| rungs.contains(&held.as_str()));
            let mut text = format!(
                "**Operator {user}** · {} linked validator(s) · roles: {}\n",
                linked.len(),
                if roles.is_empty() { "none".to_owned() } else { roles.join(", ") }
            );
            for address in linked {
                match backend.validator(address).await? {
                    Some(view) => {
                        text.push_str(&card(&view, backend.policies(), Audience::Owner { holds_role }))
                    }
                    None => {
                        let _ = writeln!(text, "**{address:#x}** — not seen in the window");
                    }
                }
            }
            Ok(Reply::ephemeral(text))
        }
        ModCommand::RolesDryRun => {
            let changes = backend.role_dry_run().await?;
            if changes.is_empty() {
                return Ok(Reply::ephemeral(
                    "The next reconcile would change no role: everyone holds what they should.",
                ));
            }
            let mut text = format!("The next reconcile would make {} change(s):\n", changes.len());
            for change in changes.iter().take(SHOWN_CHANGES) {
                let sign = if change.grant { "+" } else { "−" };
                let _ =
                    writeln!(text, "{sign} `{}` for user {} — {}", change.role, change.user, change.reason);
            }
            if changes.len() > SHOWN_CHANGES {
                let _ = writeln!(text, "… and {} more", changes.len() - SHOWN_CHANGES);
            }
            Ok(Reply::ephemeral(text))
        }
        ModCommand::Link { user, address } => {
            backend.link(&user.to_string(), *address, Some(moderator)).await?;
            Ok(Reply::ephemeral(format!(
                "Linked {address:#x} to user {user} (audited as done by moderator {moderator})."
            )))
        }
    }
}
