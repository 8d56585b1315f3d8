//! The crate's one integration-test binary; the listener's limits are tested in `telemetry/limits.rs`.

#[path = "telemetry/limits.rs"]
mod limits;

use std::collections::HashSet;
use std::net::SocketAddr;

use regex::Regex;
use sparta_telemetry::catalog::{self, CATALOG, MetricKind};

#[test]
fn every_catalog_name_follows_the_naming_rule() {
    let rule = Regex::new(r"^sparta_[a-z]+(_[a-z0-9]+)+$").unwrap();
    let label = Regex::new(r"^[a-z][a-z0-9_]*$").unwrap();
    for def in CATALOG {
        assert!(rule.is_match(def.name), "{} breaks sparta_<component>_<name>_<unit>[_total]", def.name);
        assert_eq!(catalog::naming_violation(def), None);
        assert!(!def.help.is_empty(), "{} has no help text", def.name);
        for l in def.labels {
            assert!(label.is_match(l) && *l != "le" && *l != "quantile", "{}: bad label {l}", def.name);
        }
    }
}

#[test]
fn catalog_names_are_unique_and_cover_the_required_set() {
    let mut seen = HashSet::new();
    for def in CATALOG {
        assert!(seen.insert(def.name), "{} is declared twice", def.name);
    }
    for required in [
        "sparta_network_slot",
        "sparta_network_validators",
        "sparta_network_slashes_total",
        "sparta_engine_lag_slots",
        "sparta_chain_rpc_duration_seconds",
        "sparta_store_operation_duration_seconds",
        "sparta_discord_actions_total",
        "sparta_validators_tracked",
        "sparta_telemetry_connections_refused_total",
    ] {
        assert!(catalog::find(required).is_some(), "{required} is missing");
    }
    assert_eq!(catalog::find("sparta_chain_rpc_errors_total").unwrap().labels, ["source", "method", "code"]);
}

#[test]
fn cloudwatch_metrics_are_catalog_gauges_and_counters() {
    let mut seen = HashSet::new();
    for name in catalog::CLOUDWATCH_METRICS {
        let def = catalog::find(name)
            .unwrap_or_else(|| panic!("{name} is published to CloudWatch but not in the catalog"));
        assert!(seen.insert(name), "{name} is listed twice");
        assert_ne!(
            def.kind,
            MetricKind::Histogram,
            "{name}: CloudWatch gets gauges and counters, not histograms"
        );
    }
    assert!(!catalog::CLOUDWATCH_NAMESPACE.is_empty() && !catalog::CLOUDWATCH_NAMESPACE.contains(':'));
    // Kept labels become dimensions: declared labels of a published metric, within CloudWatch's 30
    // dimensions with `Deployment`, never a per-validator label (that would be a series per validator).
    for (name, labels) in catalog::CLOUDWATCH_DIMENSIONS {
        let def = catalog::find(name).unwrap();
        assert!(catalog::CLOUDWATCH_METRICS.contains(name), "{name} keeps dimensions but is not published");
        assert!(labels.len() < sparta_telemetry::cloudwatch::limits::DIMENSIONS_PER_METRIC, "{name}");
        for label in labels.iter() {
            assert!(def.labels.contains(label), "{name} has no label {label}");
            assert_ne!(*label, "validator", "{name}: a dimension per validator is unbounded");
        }
    }
}

#[test]
fn the_rule_checker_rejects_what_it_should() {
    use sparta_telemetry::{MetricDef, MetricUnit};
    let bad = |name, kind, unit| MetricDef { name, kind, unit, help: "h", labels: &[] };
    for def in [
        bad("sparta_network_slashes", MetricKind::Counter, MetricUnit::Number),
        bad("sparta_network_slot_total", MetricKind::Gauge, MetricUnit::Number),
        bad("sparta_engine_lag", MetricKind::Gauge, MetricUnit::Slots),
        bad("sparta_engine_age_seconds", MetricKind::Gauge, MetricUnit::Number),
        bad("sparta_widget_things", MetricKind::Gauge, MetricUnit::Number),
        bad("other_network_slot", MetricKind::Gauge, MetricUnit::Number),
        bad("sparta_chain_rpc_duration_ms", MetricKind::Histogram, MetricUnit::Number),
    ] {
        assert!(catalog::naming_violation(&def).is_some(), "{} passed", def.name);
    }
}

#[tokio::test]
async fn install_twice_returns_the_same_recorder() {
    let first = sparta_telemetry::install().expect("first install");
    let second = sparta_telemetry::install().expect("a second install is not an error");
    metrics::gauge!(catalog::VALIDATORS_TRACKED).set(7.0);
    assert!(first.render().contains("sparta_validators_tracked 7"));
    assert!(second.render().contains("sparta_validators_tracked 7"), "both handles see one registry");
}

async fn get(addr: SocketAddr, path: &str) -> reqwest::Response {
    reqwest::get(format!("http://{addr}{path}")).await.expect("endpoint answers")
}

#[tokio::test]
async fn emitted_metrics_are_scraped_with_help_and_type() {
    let telemetry = sparta_telemetry::install().unwrap();
    let server = sparta_telemetry::serve(telemetry, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let addr = server.local_addr();
    assert_ne!(addr.port(), 0);

    metrics::counter!(catalog::DISCORD_ACTIONS_TOTAL, "kind" => "dm").increment(3);
    metrics::histogram!(catalog::CHAIN_RPC_DURATION_SECONDS, "source" => "node", "method" => "node_getBlock")
        .record(0.02);

    let response = get(addr, "/metrics").await;
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap().to_string();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    let body = response.text().await.unwrap();
    assert!(body.contains("# HELP sparta_discord_actions_total Actions delivered"), "{body}");
    assert!(body.contains("# TYPE sparta_discord_actions_total counter"), "{body}");
    assert!(body.contains("sparta_discord_actions_total{kind=\"dm\"} 3"), "{body}");
    assert!(body.contains("# TYPE sparta_chain_rpc_duration_seconds histogram"), "{body}");
    assert!(
        body.contains(
            r#"sparta_chain_rpc_duration_seconds_bucket{source="node",method="node_getBlock",le="0.025"} 1"#
        ),
        "histograms use the catalog's buckets: {body}"
    );

    let health = get(addr, "/healthz").await;
    assert_eq!(health.status(), 200);
    assert_eq!(get(addr, "/nope").await.status(), 404);

    server.shutdown().await.expect("clean shutdown");
    assert!(reqwest::get(format!("http://{addr}/healthz")).await.is_err(), "stopped servers refuse scrapes");
}

#[tokio::test]
async fn binding_a_taken_port_is_a_clear_error() {
    let telemetry = sparta_telemetry::install().unwrap();
    let first = sparta_telemetry::serve(telemetry.clone(), "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let err = sparta_telemetry::serve(telemetry, first.local_addr()).await.unwrap_err();
    assert!(err.to_string().contains(&first.local_addr().to_string()), "{err}");
}

#[tokio::test]
async fn readyz_answers_503_until_ready_then_the_role() {
    let telemetry = sparta_telemetry::install().unwrap();
    let server = sparta_telemetry::serve(telemetry, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let addr = server.local_addr();
    let starting = get(addr, "/readyz").await;
    assert_eq!(starting.status(), 503);
    server.readiness().set(true, "standby", "b holds lease leader (token 4)");
    let ready = get(addr, "/readyz").await;
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = serde_json::from_str(&ready.text().await.unwrap()).unwrap();
    assert_eq!(body["role"], "standby");
    assert_eq!(body["detail"], "b holds lease leader (token 4)");
    server.readiness().set(false, "starting", "");
    assert_eq!(get(addr, "/readyz").await.status(), 503);
}

#[tokio::test]
async fn a_snapshot_family_holds_only_its_latest_series() {
    use sparta_telemetry::families::{self, Series};
    let telemetry = sparta_telemetry::install().unwrap();
    let operator = |o: &str, v: f64| Series::new(vec![("operator", o.to_owned())], v);
    families::replace(catalog::OPERATOR_VALIDATORS, vec![operator("a\"b", 2.0), operator("c", 1.0)]);
    let text = telemetry.render();
    assert_eq!(text.matches("# TYPE sparta_operator_validators gauge").count(), 1, "{text}");
    assert!(text.contains("sparta_operator_validators{operator=\"a\\\"b\"} 2\n"), "escaped: {text}");
    assert!(text.contains("sparta_operator_validators{operator=\"c\"} 1\n"), "{text}");

    // The next snapshot replaces the whole family: who left is gone.
    let stray = Series::new(vec![("validator", "0x1".to_owned())], 1.0);
    families::replace(catalog::OPERATOR_VALIDATORS, vec![operator("c", 3.0), operator("d", f64::NAN), stray]);
    let text = telemetry.render();
    assert!(!text.contains("operator=\"a\\\"b\""), "{text}");
    assert!(text.contains("sparta_operator_validators{operator=\"c\"} 3\n"), "{text}");
    assert!(
        !text.contains("operator=\"d\"") && !text.contains("validator="),
        "NaN and undeclared labels: {text}"
    );
    assert_eq!(families::series_count(), 1);
    families::replace(catalog::OPERATOR_VALIDATORS, Vec::new());
    assert!(!telemetry.render().contains("sparta_operator_validators"), "an empty family is not rendered");
}
