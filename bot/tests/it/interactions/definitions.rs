//! The registration payload is what Discord's bulk-overwrite endpoint accepts, per its OpenAPI
//! description, and follows the naming rules the description cannot express.

use serde_json::{Value, json};
use sparta_bot::commands::definitions;
use sparta_bot::interactions::model::InteractionData;
use sparta_bot::{Command, CommandError};

use super::schema::OpenApi;

/// Every option in `options`, subcommands' options included.
fn all_options(options: &Value) -> Vec<&Value> {
    let mut found = Vec::new();
    for option in options.as_array().into_iter().flatten() {
        found.push(option);
        found.extend(all_options(&option["options"]));
    }
    found
}

#[test]
fn definitions_validate_against_the_bulk_overwrite_schema() {
    let openapi = OpenApi::load();
    openapi.assert_valid(openapi.bulk_overwrite_body(), &definitions());
}

#[test]
fn option_types_are_the_ones_discord_defines() {
    let openapi = OpenApi::load();
    let defined: Vec<u64> = openapi.schema("ApplicationCommandOptionType")["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["const"].as_u64().unwrap())
        .collect();
    assert_eq!(defined, (1..=11).collect::<Vec<_>>(), "SUB_COMMAND (1) through ATTACHMENT (11)");
    let definitions = definitions();
    for command in definitions.as_array().unwrap() {
        for option in all_options(&command["options"]) {
            let kind = option["type"].as_u64().expect("option type is a number");
            assert!(defined.contains(&kind), "{option}");
        }
    }
}

#[test]
fn names_descriptions_and_option_order_follow_discord_rules() {
    let definitions = definitions();
    let commands = definitions.as_array().unwrap();
    let mut names: Vec<&str> = commands.iter().map(|c| c["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), commands.len(), "command names are unique");

    let valid_name = regex::Regex::new(r"^[-_a-z0-9]{1,32}$").unwrap();
    for command in commands {
        // Chat commands need a description even though the schema allows null.
        let described = std::iter::once(command).chain(all_options(&command["options"]));
        for item in described {
            assert!(valid_name.is_match(item["name"].as_str().unwrap()), "{item}");
            let description = item["description"].as_str().unwrap_or_default();
            assert!((1..=100).contains(&description.chars().count()), "{item}");
        }
        // Discord rejects a required option after an optional one.
        for options in std::iter::once(&command["options"])
            .chain(all_options(&command["options"]).iter().map(|o| &o["options"]))
        {
            let required: Vec<bool> =
                options.as_array().into_iter().flatten().map(|o| o["required"] == json!(true)).collect();
            assert!(required.windows(2).all(|w| w[0] || !w[1]), "{options}");
        }
    }
}

#[test]
fn every_defined_command_is_one_the_parser_knows() {
    for command in definitions().as_array().unwrap() {
        let name = command["name"].as_str().unwrap();
        let data: InteractionData = serde_json::from_value(json!({ "name": name })).unwrap();
        let parsed: Result<Command, CommandError> = Command::parse(&data);
        assert!(!matches!(parsed, Err(CommandError::UnknownCommand(_))), "{name}: {parsed:?}");
    }
}

#[test]
fn the_checker_catches_broken_definitions() {
    let openapi = OpenApi::load();
    let schema = openapi.bulk_overwrite_body();
    let broken = [
        json!([{ "description": "no name" }]),
        json!([{ "name": "x".repeat(33), "description": "name too long" }]),
        json!([{ "name": "a", "description": "b", "options": [{ "type": 12, "name": "o", "description": "d" }] }]),
        json!([{ "name": "a", "description": "b", "options": [{ "type": 3, "name": "o" }] }]),
        json!([{ "name": "a", "description": "b", "contexts": [0, 0] }]),
        json!([{ "name": "a", "description": "b", "default_member_permissions": "8" }]),
        json!([{ "name": "a", "description": "b", "optoins": [] }]),
    ];
    for definitions in broken {
        assert!(!openapi.violations(schema, &definitions).is_empty(), "accepted {definitions}");
    }
}
