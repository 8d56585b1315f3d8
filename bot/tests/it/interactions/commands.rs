//! Each command parses from the `data` Discord sends; bad input is a sentence, never a panic.

use std::time::Duration;

use serde_json::{Value, json};
use sparta_bot::interactions::model::InteractionData;
use sparta_bot::{AlertsCommand, Command, CommandError, ModCommand};

use super::harness::{ADDRESS, USER_ID, command_data, mod_operator_info};

/// `r ‖ s ‖ v`: 32 + 32 + 1 bytes.
const SIGNATURE: &str = concat!(
    "0x",
    "1b2c3d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff001",
    "12233445566778899aabbccddeeff00112233445566778899aabbccddeeff001",
    "1c",
);

fn parse(data: Value) -> Result<Command, CommandError> {
    let data: InteractionData = serde_json::from_value(data).expect("data deserialises");
    Command::parse(&data)
}

fn string(name: &str, value: &str) -> Value {
    json!({ "name": name, "type": 3, "value": value })
}

fn sub(name: &str, options: Value) -> Value {
    json!([{ "name": name, "type": 1, "options": options }])
}

#[track_caller]
fn assert_error(data: Value, expected: CommandError) {
    let error = parse(data).expect_err("should not parse");
    assert_eq!(error, expected);
    let sentence = error.to_string();
    assert!(
        sentence.ends_with('.') && sentence.chars().next().is_some_and(|c| !c.is_lowercase()),
        "{sentence}"
    );
}

fn address() -> alloy_primitives::Address {
    ADDRESS.parse().unwrap()
}

#[test]
fn commands_without_options_parse() {
    assert_eq!(parse(command_data("my-stats", json!([]))), Ok(Command::MyStats));
    assert_eq!(parse(json!({ "id": "1", "name": "chain-info", "type": 1 })), Ok(Command::ChainInfo));
}

#[test]
fn address_commands_parse_and_tolerate_case_and_spaces() {
    let data = command_data("validator", json!([string("address", ADDRESS)]));
    assert_eq!(parse(data), Ok(Command::Validator { address: address() }));
    let lower = format!("  {}  ", ADDRESS.to_lowercase());
    let data = command_data("register", json!([string("address", &lower)]));
    assert_eq!(parse(data), Ok(Command::Register { address: address() }));
}

#[test]
fn verify_parses_address_and_signature() {
    let data = command_data("verify", json!([string("address", ADDRESS), string("signature", SIGNATURE)]));
    let Ok(Command::Verify { address: parsed, signature }) = parse(data) else {
        panic!("verify did not parse")
    };
    assert_eq!(parsed, address());
    assert_eq!(signature.to_string(), SIGNATURE.to_lowercase());
}

#[test]
fn alerts_subcommands_parse() {
    assert_eq!(
        parse(command_data("alerts", sub("mute", json!([])))),
        Ok(Command::Alerts(AlertsCommand::Mute))
    );
    let snooze = command_data("alerts", sub("snooze", json!([string("duration", "2h 30m")])));
    assert_eq!(
        parse(snooze),
        Ok(Command::Alerts(AlertsCommand::Snooze { duration: Duration::from_secs(9000) }))
    );
    let threshold =
        command_data("alerts", sub("threshold", json!([{ "name": "rate", "type": 10, "value": 0.25 }])));
    assert_eq!(parse(threshold), Ok(Command::Alerts(AlertsCommand::Threshold { rate: 0.25 })));
    // Discord sends whole numbers without a fraction.
    let whole = command_data("alerts", sub("threshold", json!([{ "name": "rate", "type": 10, "value": 1 }])));
    assert_eq!(parse(whole), Ok(Command::Alerts(AlertsCommand::Threshold { rate: 1.0 })));
}

#[test]
fn mod_subcommands_parse() {
    let user = USER_ID.parse().unwrap();
    assert_eq!(parse(mod_operator_info()), Ok(Command::Mod(ModCommand::OperatorInfo { user })));
    assert_eq!(
        parse(command_data("mod", sub("roles-dry-run", json!([])))),
        Ok(Command::Mod(ModCommand::RolesDryRun))
    );
    let link = command_data(
        "mod",
        sub("link", json!([{ "name": "user", "type": 6, "value": USER_ID }, string("address", ADDRESS)])),
    );
    assert_eq!(parse(link), Ok(Command::Mod(ModCommand::Link { user, address: address() })));
}

#[test]
fn unknown_commands_and_subcommands_are_errors() {
    assert_error(command_data("nuke", json!([])), CommandError::UnknownCommand("nuke".into()));
    assert_error(
        command_data("alerts", sub("louder", json!([]))),
        CommandError::UnknownSubcommand { command: "alerts", subcommand: "louder".into() },
    );
    assert_error(command_data("mod", json!([])), CommandError::MissingSubcommand { command: "mod" });
}

#[test]
fn missing_and_mistyped_options_are_errors() {
    assert_error(
        command_data("validator", json!([])),
        CommandError::MissingOption { command: "validator", option: "address" },
    );
    assert_error(
        command_data("verify", json!([string("address", ADDRESS)])),
        CommandError::MissingOption { command: "verify", option: "signature" },
    );
    assert_error(
        command_data("validator", json!([{ "name": "address", "type": 4, "value": 7 }])),
        CommandError::WrongOptionType { command: "validator", option: "address", expected: "text" },
    );
    assert_error(
        command_data("alerts", sub("threshold", json!([string("rate", "high")]))),
        CommandError::WrongOptionType { command: "alerts", option: "rate", expected: "a number" },
    );
}

#[test]
fn bad_values_are_errors() {
    for bad in [
        "",
        "0x1234",
        "52908400098527886E0F7030069857D2E4169EE7",
        "0x52908400098527886E0F7030069857D2E4169EEZ",
    ] {
        assert_error(
            command_data("validator", json!([string("address", bad)])),
            CommandError::InvalidAddress { value: bad.into() },
        );
    }
    for bad in ["0x1234", &SIGNATURE[2..], &SIGNATURE.replace('c', "g")] {
        assert_error(
            command_data("verify", json!([string("address", ADDRESS), string("signature", bad)])),
            CommandError::InvalidSignature,
        );
    }
    for bad in ["soon", "0s", "31days", "-5m"] {
        let error = parse(command_data("alerts", sub("snooze", json!([string("duration", bad)]))))
            .expect_err("bad duration");
        assert!(matches!(&error, CommandError::InvalidDuration { value, .. } if value == bad), "{error:?}");
    }
    for bad in [-0.1, 1.5, 100.0] {
        assert_error(
            command_data("alerts", sub("threshold", json!([{ "name": "rate", "type": 10, "value": bad }]))),
            CommandError::InvalidRate { value: bad },
        );
    }
    for bad in ["alice", "+123", ""] {
        assert_error(
            command_data("mod", sub("operator-info", json!([{ "name": "user", "type": 6, "value": bad }]))),
            CommandError::InvalidUser { value: bad.into() },
        );
    }
}
