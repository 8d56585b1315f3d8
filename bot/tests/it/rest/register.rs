//! Slash-command registration: one bulk overwrite whose body Discord's description accepts.

use std::time::Duration;

use serde_json::json;
use sparta_bot::RestError;
use sparta_bot::commands::definitions;

use super::double::{APPLICATION_ID, Double, DoubleConfig, GUILD_ID};
use super::harness::{config, world};

fn names(commands: &[serde_json::Value]) -> Vec<String> {
    commands.iter().map(|c| c["name"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn global_registration_looks_up_the_application_first() {
    let double = Double::start(DoubleConfig { world: world(), ..DoubleConfig::default() }).await;
    let rest = double.rest(config());
    let commands = definitions();
    let count = tokio::time::timeout(Duration::from_secs(10), rest.register_commands(None, None, &commands))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(count, commands.as_array().unwrap().len());
    let seen = double.seen();
    assert!(seen.violations.is_empty(), "violations:\n{}", seen.violations.join("\n"));
    let calls: Vec<(&str, &str)> =
        seen.requests.iter().map(|r| (r.method.as_str(), r.path.as_str())).collect();
    let put = format!("/api/v10/applications/{APPLICATION_ID}/commands");
    assert_eq!(calls, [("GET", "/api/v10/oauth2/applications/@me"), ("PUT", put.as_str())]);
    let registered = &seen.commands[&None];
    assert_eq!(names(registered), names(commands.as_array().unwrap()));
    // What the double answered is what serenity's model reads.
    let parsed: Vec<serenity::all::Command> = serde_json::from_value(json!(registered)).unwrap();
    assert!(parsed.iter().all(|c| c.guild_id.is_none() && c.application_id.get() == APPLICATION_ID));
}

#[tokio::test]
async fn guild_registration_with_a_known_application_is_one_request() {
    let double = Double::start(DoubleConfig { world: world(), ..DoubleConfig::default() }).await;
    let rest = double.rest(config());
    let commands = definitions();
    let count = rest.register_commands(Some(APPLICATION_ID), Some(GUILD_ID), &commands).await.unwrap();
    assert_eq!(count, commands.as_array().unwrap().len());
    let seen = double.seen();
    assert!(seen.violations.is_empty(), "violations:\n{}", seen.violations.join("\n"));
    assert_eq!(seen.requests.len(), 1);
    assert_eq!(
        seen.requests[0].path,
        format!("/api/v10/applications/{APPLICATION_ID}/guilds/{GUILD_ID}/commands")
    );
    let parsed: Vec<serenity::all::Command> =
        serde_json::from_value(json!(seen.commands[&Some(GUILD_ID)])).unwrap();
    assert!(parsed.iter().all(|c| c.guild_id.map(|g| g.get()) == Some(GUILD_ID)));

    // Registering nothing empties the scope.
    assert_eq!(rest.register_commands(Some(APPLICATION_ID), Some(GUILD_ID), &json!([])).await.unwrap(), 0);
    assert!(double.seen().commands[&Some(GUILD_ID)].is_empty());
}

#[tokio::test]
async fn registration_errors_are_reported() {
    let double = Double::start(DoubleConfig { world: world(), ..DoubleConfig::default() }).await;
    let rest = double.rest(config());
    let error = rest.register_commands(Some(APPLICATION_ID + 1), None, &definitions()).await.unwrap_err();
    assert!(matches!(error, RestError::Status { status: 403, code: 50001, .. }), "{error}");
    assert!(!error.is_retryable());
    let error =
        rest.register_commands(Some(APPLICATION_ID), None, &json!({ "name": "x" })).await.unwrap_err();
    assert!(matches!(error, RestError::Invalid(_)), "{error}");
    assert_eq!(double.seen().requests.len(), 1, "the non-array body was refused before any request");
    assert!(double.seen().violations.is_empty());
}
