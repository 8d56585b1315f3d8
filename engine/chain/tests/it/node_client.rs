//! The node client against a loopback double: happy paths and every way an answer can go wrong.

use std::time::Duration;

use serde_json::json;
use sparta_chain::node::error::codes;
use sparta_chain::node::{NodeClient, NodeError};
use sparta_core::{Address, Slot};

use crate::rpc_double::{Reply, RpcDouble, refused_url};

async fn node_serving(replies: &'static [(&'static str, &'static str)]) -> RpcDouble {
    RpcDouble::start(move |method, _| match replies.iter().find(|(m, _)| *m == method) {
        Some((_, fixture)) => Reply::fixture(fixture),
        None => {
            Reply::Error { code: codes::METHOD_NOT_FOUND, message: format!("Method not found: {method}") }
        }
    })
    .await
}

#[tokio::test]
async fn calls_decode_fixtures_and_send_positional_params() {
    let double = node_serving(&[
        ("node_getNodeInfo", "node_info.v4.json"),
        ("node_getL2Tips", "l2_tips.v4.json"),
        ("node_getCheckpoints", "checkpoints.v4.json"),
        ("node_getValidatorsStats", "validators_stats.v4.json"),
        ("node_getValidatorStats", "validator_stats.v4.json"),
    ])
    .await;
    let node = NodeClient::new(&double.url).unwrap();

    assert_eq!(node.node_info().await.unwrap().node_version, "4.1.2");
    assert_eq!(node.chain_tips().await.unwrap().checkpointed_checkpoint(), Some(42));
    assert_eq!(node.checkpoints(41, 50).await.unwrap().len(), 2);
    assert_eq!(node.validators_stats().await.unwrap().stats.len(), 2);
    let who = Address::repeat_byte(0xab);
    assert!(node.validator_stats(who, Some(Slot(10)), Some(Slot(20))).await.unwrap().is_some());
    node.validator_stats(who, None, None).await.unwrap();
    node.validator_stats(who, None, Some(Slot(20))).await.unwrap();

    assert_eq!(double.calls_of("node_getCheckpoints"), vec![vec![json!(41), json!(50)]]);
    let address = json!(format!("{who:#x}"));
    assert_eq!(
        double.calls_of("node_getValidatorStats"),
        vec![
            vec![address.clone(), json!(10), json!(20)],
            vec![address.clone()],
            vec![address, json!(null), json!(20)]
        ]
    );
}

#[tokio::test]
async fn a_missing_result_is_none_and_sentinel_off_is_empty() {
    let double = node_serving(&[
        ("node_getValidatorStats", "no_result.json"),
        ("node_getValidatorsStats", "validators_stats.sentinel_off.json"),
        ("node_getCheckpoints", "no_result.json"),
    ])
    .await;
    let node = NodeClient::new(&double.url).unwrap();
    assert_eq!(node.validator_stats(Address::ZERO, None, None).await.unwrap(), None);
    assert!(!node.validators_stats().await.unwrap().sentinel_enabled());
    assert!(node.checkpoints(1, 1).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_missing_result_where_one_is_required_is_a_decode_error() {
    let double = node_serving(&[("node_getNodeInfo", "no_result.json")]).await;
    let err = NodeClient::new(&double.url).unwrap().node_info().await.unwrap_err();
    assert!(matches!(&err, NodeError::Decode { method, .. } if method == "node_getNodeInfo"), "{err}");
}

#[tokio::test]
async fn rpc_errors_keep_their_code_and_message() {
    let double = node_serving(&[("node_getValidatorStats", "error.validation.json")]).await;
    let node = NodeClient::new(&double.url).unwrap();

    let err = node.checkpoints(1, 10).await.unwrap_err();
    assert!(err.is_unknown_method(), "{err}");
    assert!(err.to_string().contains("node_getCheckpoints") && err.to_string().contains("-32601"), "{err}");

    let err = node.validator_stats(Address::ZERO, Some(Slot(0)), Some(Slot(10_000))).await.unwrap_err();
    match err {
        NodeError::Rpc { code, message, .. } => {
            assert_eq!(code, codes::VALIDATION);
            assert!(message.contains("slot window"), "{message}");
        }
        other => panic!("expected an RPC error, got {other}"),
    }
}

#[tokio::test]
async fn http_errors_and_garbage_bodies_are_typed_with_an_excerpt() {
    let double = RpcDouble::start(|method, _| match method.trim_start_matches("aztec_") {
        "getNodeInfo" => Reply::Raw { status: 500, body: "upstream exploded".into() },
        "getChainTips" => Reply::Raw { status: 200, body: "<html>not json</html>".into() },
        _ => Reply::Result(json!({"stats": "not a map"})),
    })
    .await;
    let node = NodeClient::new(&double.url).unwrap();

    match node.node_info().await.unwrap_err() {
        NodeError::Http { status, excerpt, .. } => {
            assert_eq!(status, 500);
            assert!(excerpt.contains("upstream exploded"));
        }
        other => panic!("expected HTTP 500, got {other}"),
    }
    match node.chain_tips().await.unwrap_err() {
        NodeError::Decode { detail, .. } => assert!(detail.contains("<html>"), "{detail}"),
        other => panic!("expected a decode error, got {other}"),
    }
    let err = node.validators_stats().await.unwrap_err();
    assert!(matches!(err, NodeError::Decode { .. }), "a wrong shape is a decode error: {err}");
}

#[tokio::test]
async fn connection_refused_is_unreachable_and_bad_input_is_rejected_early() {
    let telemetry = sparta_telemetry::install().unwrap();
    let url = refused_url();
    let node = NodeClient::with_timeout(&url, Duration::from_secs(2)).unwrap();
    let err = node.block_number().await.unwrap_err();
    // Errors show the URL as scheme, host and port only (a path or query may hold a key).
    let shown = sparta_chain::redact::shown_url(&url);
    assert!(matches!(&err, NodeError::Unreachable { url: u, .. } if *u == shown), "{err}");
    // The failure is timed and counted by class, never by message. The newest spelling is asked
    // first, and an unreachable node is not asked again in the older one.
    let scraped = telemetry.render();
    let counted =
        r#"sparta_chain_rpc_errors_total{source="node",method="aztec_getBlockNumber",code="unreachable"}"#;
    assert!(scraped.contains(counted), "{scraped}");
    assert!(
        scraped.contains(
            r#"sparta_chain_rpc_duration_seconds_count{source="node",method="aztec_getBlockNumber"}"#
        )
    );
    assert!(!scraped.contains(r#"method="node_getBlockNumber""#), "{scraped}");

    assert!(matches!(NodeClient::new("not a url"), Err(NodeError::InvalidUrl { .. })));
    assert!(matches!(NodeClient::new("ftp://127.0.0.1/"), Err(NodeError::InvalidUrl { .. })));
    assert!(matches!(node.checkpoints(0, 10).await, Err(NodeError::InvalidArgument { .. })));
    assert!(matches!(node.checkpoints(1, 51).await, Err(NodeError::InvalidArgument { .. })));
}

#[tokio::test]
async fn block_number_accepts_any_number_shape() {
    let double = RpcDouble::start(|_, _| Reply::Result(json!("0x2a"))).await;
    assert_eq!(NodeClient::new(&double.url).unwrap().block_number().await.unwrap(), 42);
}
