//! A signed request captured on the wire is handled once: sent again inside the timestamp window it
//! is refused like a forgery, while other interactions keep being served.

use serde_json::{Value, json};

use super::harness::*;

/// A `/validator` command with its own interaction id.
fn command(id: &str) -> Value {
    let mut payload =
        guild_command(command_data("validator", json!([{ "name": "address", "type": 3, "value": ADDRESS }])));
    payload["id"] = json!(id);
    payload
}

/// A PING with its own interaction id.
fn ping_with_id(id: u64) -> Vec<u8> {
    let mut payload = ping();
    payload["id"] = json!(id.to_string());
    payload.to_string().into_bytes()
}

#[tokio::test]
async fn a_replayed_request_is_refused_and_handled_once() {
    let harness = Harness::start().await;
    let body = command("1401234567890123456").to_string();
    let first = harness.send_signed_at(NOW, body.as_bytes()).await;
    assert_eq!(first.message(), ("handled validator".to_string(), false));

    let replay = harness.send_signed_at(NOW, body.as_bytes()).await;
    assert_eq!((replay.status, replay.body.as_str()), (401, ""), "refused like a bad signature");
    // The hex header decodes the same in upper case: still the same request.
    let ts = NOW.to_string();
    let upper = sign(&discord_key(), &ts, body.as_bytes()).to_ascii_uppercase();
    let answer = harness
        .send(&[("x-signature-ed25519", &upper), ("x-signature-timestamp", &ts)], body.as_bytes())
        .await;
    assert_eq!(answer.status, 401);
    harness.assert_handled_once();
}

#[tokio::test]
async fn another_interaction_is_accepted_after_a_refused_replay() {
    let harness = Harness::start().await;
    let body = command("1401234567890123456").to_string();
    assert_eq!(harness.send_signed_at(NOW, body.as_bytes()).await.status, 200);
    assert_eq!(harness.send_signed_at(NOW, body.as_bytes()).await.status, 401);

    let next = harness.send_signed(&command("1401234567890123457")).await;
    assert_eq!(next.message(), ("handled validator".to_string(), false));
    assert_eq!(harness.handler.invocations().len(), 2, "each interaction once");
}

#[tokio::test]
async fn the_endpoint_remembers_a_bounded_number_of_requests() {
    let harness = Harness::start_with(|config| config.remembered_requests = 3).await;
    for id in 1..=4 {
        assert_eq!(harness.send_signed_at(NOW, &ping_with_id(id)).await.status, 200, "ping {id}");
    }
    assert_eq!(harness.send_signed_at(NOW, &ping_with_id(4)).await.status, 401, "the newest are remembered");
    assert_eq!(
        harness.send_signed_at(NOW, &ping_with_id(1)).await.status,
        200,
        "the oldest was forgotten to stay within bounds"
    );
    assert_eq!(sparta_bot::DEFAULT_REMEMBERED_REQUESTS, 10_000);
}
