//! `/mod operator-info|roles-dry-run|link`: moderator tools, hidden from members without the
//! Manage Roles permission.

use serde_json::{Value, json};

use super::options::{Options, address_option};
use super::{CommandError, ModCommand};
use crate::interactions::model::option_type;

pub(super) const NAME: &str = "mod";

/// Discord's MANAGE_ROLES permission bit: who may see and use `/mod` by default.
const MANAGE_ROLES: u64 = 1 << 28;

pub(super) fn parse(options: Options<'_>) -> Result<ModCommand, CommandError> {
    let (subcommand, options) = options.subcommand()?;
    match subcommand {
        "operator-info" => Ok(ModCommand::OperatorInfo { user: options.user("user")? }),
        "roles-dry-run" => Ok(ModCommand::RolesDryRun),
        "link" => Ok(ModCommand::Link { user: options.user("user")?, address: options.address("address")? }),
        other => Err(CommandError::UnknownSubcommand { command: NAME, subcommand: other.to_string() }),
    }
}

pub(super) fn definition() -> Value {
    json!({
        "name": NAME,
        "type": 1,
        "description": "Moderator tools for validator roles",
        "default_member_permissions": MANAGE_ROLES,
        "contexts": [0],
        "options": [
            {
                "type": option_type::SUB_COMMAND,
                "name": "operator-info",
                "description": "Show the validators a member operates and their state",
                "options": [{
                    "type": option_type::USER,
                    "name": "user",
                    "description": "The member to look up",
                    "required": true,
                }],
            },
            {
                "type": option_type::SUB_COMMAND,
                "name": "roles-dry-run",
                "description": "List the role changes sparta would make now, without making them",
            },
            {
                "type": option_type::SUB_COMMAND,
                "name": "link",
                "description": "Link a validator to a member without the signature check",
                "options": [
                    {
                        "type": option_type::USER,
                        "name": "user",
                        "description": "The member who operates the validator",
                        "required": true,
                    },
                    address_option(),
                ],
            },
        ],
    })
}
