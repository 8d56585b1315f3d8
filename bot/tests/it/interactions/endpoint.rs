//! The endpoint over real HTTP: verification before anything else, then PING, commands and errors.

use ed25519_dalek::SigningKey;
use serde_json::json;
use sparta_bot::{Command, Snowflake};

use super::harness::*;
use super::schema::OpenApi;

#[tokio::test]
async fn a_signed_ping_gets_a_pong() {
    let harness = Harness::start().await;
    let answer = harness.send_signed(&ping()).await;
    assert_eq!(answer.json(), json!({ "type": 1 }));
    let openapi = OpenApi::load();
    openapi.assert_valid(openapi.schema("PongInteractionCallbackRequest"), &answer.json());
    harness.assert_handler_not_called();
}

#[tokio::test]
async fn a_bad_signature_is_refused_without_details() {
    let harness = Harness::start().await;
    let body = guild_command(command_data("chain-info", json!([]))).to_string();
    let ts = NOW.to_string();

    let impostor = sign(&SigningKey::from_bytes(&[0x11; 32]), &ts, body.as_bytes());
    let answer = harness
        .send(&[("x-signature-ed25519", &impostor), ("x-signature-timestamp", &ts)], body.as_bytes())
        .await;
    assert_eq!((answer.status, answer.body.as_str()), (401, ""));

    // Discord's signature, but over a different body.
    let genuine = sign(&discord_key(), &ts, body.as_bytes());
    let tampered = body.replace("chain-info", "my-stats");
    let answer = harness
        .send(&[("x-signature-ed25519", &genuine), ("x-signature-timestamp", &ts)], tampered.as_bytes())
        .await;
    assert_eq!((answer.status, answer.body.as_str()), (401, ""));

    let answer = harness
        .send(&[("x-signature-ed25519", "not-hex"), ("x-signature-timestamp", &ts)], body.as_bytes())
        .await;
    assert_eq!(answer.status, 401);
    harness.assert_handler_not_called();
}

#[tokio::test]
async fn missing_signature_headers_are_refused() {
    let harness = Harness::start().await;
    let body = guild_command(command_data("chain-info", json!([]))).to_string();
    let ts = NOW.to_string();
    let signature = sign(&discord_key(), &ts, body.as_bytes());
    for headers in [
        vec![],
        vec![("x-signature-ed25519", signature.as_str())],
        vec![("x-signature-timestamp", ts.as_str())],
    ] {
        let answer = harness.send(&headers, body.as_bytes()).await;
        assert_eq!((answer.status, answer.body.as_str()), (401, ""), "{headers:?}");
    }
    harness.assert_handler_not_called();
}

#[tokio::test]
async fn stale_and_future_timestamps_are_refused() {
    let harness = Harness::start_with(|config| config.max_skew_s = 60).await;
    let body = guild_command(command_data("chain-info", json!([]))).to_string();
    for signed_at in [NOW - 61, NOW + 61, NOW - 3600, 0] {
        let answer = harness.send_signed_at(signed_at, body.as_bytes()).await;
        assert_eq!(answer.status, 401, "signed at {signed_at}");
    }
    harness.assert_handler_not_called();
    // Inside the window both ways is fine.
    for signed_at in [NOW - 60, NOW + 60] {
        assert_eq!(harness.send_signed_at(signed_at, body.as_bytes()).await.status, 200);
    }
}

#[tokio::test]
async fn a_malformed_body_with_a_valid_signature_is_a_bad_request() {
    let harness = Harness::start().await;
    for body in [&b"{\"type\": 2,"[..], b"[]", b"{\"type\": \"two\"}", b"", b"\xff\xfe"] {
        let answer = harness.send_signed_at(NOW, body).await;
        assert_eq!(answer.status, 400, "{}", String::from_utf8_lossy(body));
    }
    // Well-formed JSON that no application command looks like.
    let mut no_user = guild_command(command_data("chain-info", json!([])));
    no_user.as_object_mut().unwrap().remove("member");
    assert_eq!(harness.send_signed(&no_user).await.status, 400);
    let unknown_type = json!({ "id": "1", "application_id": "2", "type": 99, "token": "t" });
    assert_eq!(harness.send_signed(&unknown_type).await.status, 400);
    harness.assert_handler_not_called();
}

#[tokio::test]
async fn an_oversized_body_is_refused_before_verification() {
    let harness = Harness::start_with(|config| config.max_body_bytes = 1024).await;
    let mut payload = guild_command(command_data("chain-info", json!([])));
    payload["padding"] = json!("x".repeat(2000));
    // Correctly signed, still too large.
    assert_eq!(harness.send_signed(&payload).await.status, 413);
    // Unsigned: refused for size, so an attacker cannot make us buffer large bodies to verify.
    assert_eq!(harness.send(&[], payload.to_string().as_bytes()).await.status, 413);
    harness.assert_handler_not_called();
    // Just under the limit is served.
    payload["padding"] = json!("");
    assert!(payload.to_string().len() < 1024);
    assert_eq!(harness.send_signed(&payload).await.status, 200);
}

#[tokio::test]
async fn the_default_body_limit_is_64_kib() {
    let harness = Harness::start().await;
    let mut payload = guild_command(command_data("chain-info", json!([])));
    payload["padding"] = json!("x".repeat(64 * 1024));
    assert_eq!(harness.send_signed(&payload).await.status, 413);
    assert_eq!(sparta_bot::DEFAULT_MAX_BODY_BYTES, 64 * 1024);
}

#[tokio::test]
async fn an_unknown_command_is_an_ephemeral_error_and_skips_the_handler() {
    let harness = Harness::start().await;
    let answer = harness.send_signed(&guild_command(command_data("launch-rockets", json!([])))).await;
    let (content, ephemeral) = answer.message();
    assert!(ephemeral);
    assert!(content.contains("/launch-rockets"), "{content}");
    harness.assert_handler_not_called();
}

#[tokio::test]
async fn bad_options_are_an_ephemeral_error_and_skip_the_handler() {
    let harness = Harness::start().await;
    let bad_address = command_data("validator", json!([{ "name": "address", "type": 3, "value": "0x1234" }]));
    let (content, ephemeral) = harness.send_signed(&guild_command(bad_address)).await.message();
    assert!(ephemeral);
    assert!(content.contains("`0x1234` is not an Ethereum address"), "{content}");

    let missing = command_data("register", json!([]));
    let (content, ephemeral) = harness.send_signed(&guild_command(missing)).await.message();
    assert!(ephemeral);
    assert!(content.contains("needs the `address` option"), "{content}");
    harness.assert_handler_not_called();
}

#[tokio::test]
async fn a_public_reply_is_a_channel_message_with_the_invocation_recorded() {
    let harness = Harness::start().await;
    let data = command_data("validator", json!([{ "name": "address", "type": 3, "value": ADDRESS }]));
    let answer = harness.send_signed(&guild_command(data)).await;
    let openapi = OpenApi::load();
    openapi.assert_valid(openapi.schema("CreateMessageInteractionCallbackRequest"), &answer.json());
    assert_eq!(answer.json()["data"].get("flags"), None, "public replies carry no ephemeral flag");
    assert_eq!(answer.message(), ("handled validator".to_string(), false));

    let invocation = harness.assert_handled_once();
    assert_eq!(invocation.user_id, USER_ID.parse::<Snowflake>().unwrap());
    assert_eq!(invocation.member_roles, vec![ROLE_ID.parse::<Snowflake>().unwrap()]);
    assert_eq!(invocation.guild_id, Some(GUILD_ID.parse().unwrap()));
    assert_eq!(invocation.command, Command::Validator { address: ADDRESS.parse().unwrap() });
}

#[tokio::test]
async fn an_ephemeral_reply_carries_the_ephemeral_flag() {
    let harness = Harness::start().await;
    let answer = harness.send_signed(&guild_command(mod_operator_info())).await;
    assert_eq!(answer.json()["data"]["flags"], 64);
    assert_eq!(answer.message(), ("handled mod operator-info".to_string(), true));
    let openapi = OpenApi::load();
    openapi.assert_valid(openapi.schema("CreateMessageInteractionCallbackRequest"), &answer.json());
    assert!(is_operator_info_for_user(&harness.assert_handled_once().command));
}

#[tokio::test]
async fn a_command_from_a_dm_has_no_guild_and_no_roles() {
    let harness = Harness::start().await;
    let answer = harness.send_signed(&dm_command(command_data("my-stats", json!([])))).await;
    assert_eq!(answer.message(), ("handled my-stats".to_string(), false));
    let invocation = harness.assert_handled_once();
    assert_eq!(invocation.user_id.to_string(), USER_ID);
    assert_eq!((invocation.guild_id, invocation.member_roles), (None, vec![]));
    assert_eq!(invocation.command, Command::MyStats);
}

#[tokio::test]
async fn only_post_is_served() {
    let harness = Harness::start().await;
    let response = reqwest::Client::new().get(harness.url()).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 405);
}
