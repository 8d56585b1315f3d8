//! The bot's front over a real engine: `sparta devnet` serves the API and signed interactions beside
//! `/metrics`, answering from its running engine. Responses are checked against the API's OpenAPI
//! document; interactions are signed with a real Ed25519 key.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ed25519_dalek::{Signer, SigningKey};
use serde_json::{Value, json};

use crate::process::{Sparta, after, sparta_with_env};
use crate::schema::OpenApi;

const MINUTE: Duration = Duration::from_secs(60);
const API_KEY: &str = "test-api-key-0123456789abcdef-0123";

struct Devnet {
    run: Sparta,
    base: String,
    validator: String,
    _dir: tempfile::TempDir,
}

fn discord_key() -> SigningKey {
    SigningKey::from_bytes(&[0x42; 32])
}

fn start() -> Devnet {
    let dir = tempfile::tempdir().unwrap();
    let public_key = hex::encode(discord_key().verifying_key().as_bytes());
    let args = [
        "devnet",
        "--for",
        "90s",
        "--slot-seconds",
        "1",
        "--metrics-addr",
        "127.0.0.1:0",
        "--data-dir",
        "data",
    ];
    let env = [("SPARTA_API_KEY", API_KEY), ("SPARTA_DISCORD_PUBLIC_KEY", public_key.as_str())];
    let mut run = sparta_with_env(&args, dir.path(), &env);
    let metrics =
        after(&run.wait_for("the metrics URL", MINUTE, |l| l.contains("metrics: http")), "metrics: ")
            .to_owned();
    let base = metrics.trim_end_matches("/metrics").to_owned();
    let scripted = run.wait_for("a scripted validator", MINUTE, |l| l.contains("scripted validator 0x"));
    let validator = after(&scripted, "scripted validator ").trim_end_matches(':').to_owned();
    run.wait_for("served interactions", MINUTE, |l| l.contains("serving /interactions"));
    run.wait_for("processed slots", MINUTE, |l| l.contains("slots processed"));
    Devnet { run, base, validator, _dir: dir }
}

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
}

/// Status and JSON body of a GET with these headers.
fn get(url: &str, headers: &[(&str, &str)]) -> (u16, Value) {
    block_on(async {
        let mut request = reqwest::Client::new().get(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("the devnet answers");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    })
}

fn signed_post(url: &str, key: &SigningKey, body: &Value) -> (u16, Value) {
    let body = body.to_string();
    let timestamp = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs().to_string();
    let signature = hex::encode(key.sign(format!("{timestamp}{body}").as_bytes()).to_bytes());
    block_on(async {
        let response = reqwest::Client::new()
            .post(url)
            .header("content-type", "application/json")
            .header("x-signature-ed25519", signature)
            .header("x-signature-timestamp", timestamp)
            .body(body)
            .send()
            .await
            .expect("the devnet answers");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    })
}

fn command(name: &str, options: Value) -> Value {
    json!({
        "id": "1401234567890123456", "application_id": "1001234567890123456", "type": 2,
        "token": "t", "version": 1, "guild_id": "1101234567890123456",
        "member": { "roles": [], "user": { "id": "1301234567890123456", "username": "alice" } },
        "data": { "id": "1601234567890123456", "name": name, "type": 1, "options": options },
    })
}

#[test]
fn the_api_answers_from_the_running_engine_as_its_openapi_document_says() {
    let mut devnet = start();
    let api = OpenApi::load_from(concat!(env!("CARGO_MANIFEST_DIR"), "/bot/openapi.json"));
    let bearer = format!("Bearer {API_KEY}");
    let auth = [("authorization", bearer.as_str())];
    let url = |path: &str| format!("{}{path}", devnet.base);

    for headers in [&[][..], &[("authorization", "Bearer wrong-key-0123456789abcdef-01234")][..]] {
        let (status, body) = get(&url("/api/v1/network"), headers);
        assert_eq!(status, 401, "{body}");
        api.assert_response(&api.response_schema("/api/v1/network", "401"), &body);
    }
    let (status, network) = get(&url("/api/v1/network"), &auth);
    assert_eq!(status, 200, "{network}");
    api.assert_response(&api.response_schema("/api/v1/network", "200"), &network);
    assert_eq!(network["source"], "live");
    assert!(network["as_of"]["slot"].as_u64().is_some(), "{network}");
    assert!(network["network"]["attestations_total"].as_u64().unwrap() > 0, "{network}");

    let (status, validator) =
        get(&url(&format!("/api/v1/validators/{}", devnet.validator)), &[("x-api-key", API_KEY)]);
    assert_eq!(status, 200, "{validator}");
    api.assert_response(&api.response_schema("/api/v1/validators/{address}", "200"), &validator);
    assert_eq!(
        validator["stats"]["address"].as_str().unwrap().to_lowercase(),
        devnet.validator.to_lowercase()
    );
    assert_eq!(validator["source"], "live", "answered by the running engine, not the store");

    let (status, operator) = get(&url("/api/v1/operators/operator-001"), &auth);
    assert_eq!(status, 200, "{operator}");
    api.assert_response(&api.response_schema("/api/v1/operators/{id}", "200"), &operator);

    for (path, code) in [
        ("/api/v1/validators/0x1234", "400"),
        ("/api/v1/validators/0x00000000000000000000000000000000000000ff", "404"),
        ("/api/v1/operators/nobody-here", "404"),
        ("/api/v1/operators/bad%20id", "400"),
    ] {
        let (status, body) = get(&url(path), &auth);
        assert_eq!(status.to_string(), code, "{path}: {body}");
        api.assert_response(&api.response_schema(path_template(path), code), &body);
    }
    let (status, document) = get(&url("/api/v1/openapi.json"), &[]);
    assert_eq!((status, document["openapi"].as_str()), (200, Some("3.1.0")));
    devnet.run.interrupt();
    assert!(devnet.run.wait_exit(MINUTE).0.success(), "{}", devnet.run.output());
}

fn path_template(path: &str) -> &'static str {
    if path.starts_with("/api/v1/validators/") {
        "/api/v1/validators/{address}"
    } else {
        "/api/v1/operators/{id}"
    }
}

#[test]
fn signed_slash_commands_are_answered_from_the_running_engine() {
    let mut devnet = start();
    let url = format!("{}/interactions", devnet.base);
    let (status, pong) = signed_post(
        &url,
        &discord_key(),
        &json!({ "id": "1", "application_id": "2", "type": 1, "token": "t", "version": 1 }),
    );
    assert_eq!((status, pong["type"].as_u64()), (200, Some(1)), "{pong}");

    let (status, _) =
        signed_post(&url, &SigningKey::from_bytes(&[0x43; 32]), &command("chain-info", json!([])));
    assert_eq!(status, 401, "a request signed by another key never reaches the engine");

    let (status, info) = signed_post(&url, &discord_key(), &command("chain-info", json!([])));
    assert_eq!(status, 200, "{info}");
    let content = info["data"]["content"].as_str().unwrap();
    assert!(content.contains("**Chain** · epoch") && content.contains("as of slot"), "{content}");

    let options = json!([{ "name": "address", "type": 3, "value": devnet.validator }]);
    let (_, card) = signed_post(&url, &discord_key(), &command("validator", options));
    let content = card["data"]["content"].as_str().unwrap();
    assert!(content.to_lowercase().contains(&devnet.validator.to_lowercase()), "{content}");
    assert!(content.contains("attestations:"), "{content}");

    let (_, mine) = signed_post(&url, &discord_key(), &command("my-stats", json!([])));
    assert_eq!(mine["data"]["flags"], 64, "ephemeral: {mine}");
    assert!(mine["data"]["content"].as_str().unwrap().contains("/register"), "{mine}");
    devnet.run.interrupt();
    assert!(devnet.run.wait_exit(MINUTE).0.success(), "{}", devnet.run.output());
}
