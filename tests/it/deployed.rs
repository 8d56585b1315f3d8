//! `sparta run` as the ECS task runs it: the config is terraform's template in `SPARTA_CONFIG_TOML`,
//! the secrets are `SPARTA_*` variables, the store is DynamoDB (a local moto), and the container
//! health check is `sparta probe`. No secret may reach a log line, even when the L1 endpoint dies.

use std::collections::BTreeMap;
use std::time::Duration;

use sparta_store::DynamoStore;
use sparta_store::local::LocalMoto;
use sparta_telemetry::catalog;

use crate::deploy::render_config_template;
use crate::process::{after, sparta, sparta_with_env};
use crate::tools::free_port;

const MINUTE: Duration = Duration::from_secs(60);

// Shaped like the real thing, so a leak would look like one.
const TOKEN: &str = "MTA5ODc2NTQzMjEwOTg3NjU0.GhIjKl.leakcheck-token-0123456789abcd";
const API_KEY: &str = "leakcheck-api-key-7f3a9c2e5b8d1f4a6c0e";
const URL_KEY: &str = "leakcheckUrlKey9d8c7b6a";
// The Ed25519 base point, compressed: a valid public key.
const PUBLIC_KEY: &str = "5866666666666666666666666666666666666666666666666666666666666666";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deployed_config_runs_and_no_secret_reaches_a_log_line() {
    let Some(moto) = LocalMoto::shared() else { return };
    let prefix = format!("sparta-deployed-{}-", std::process::id());
    DynamoStore::new(moto.client(), &prefix).create_tables().await.expect("tables, as terraform makes them");

    let dir = tempfile::tempdir().unwrap();
    let mut network = sparta(
        &["devnet", "serve", "--node-addr", "127.0.0.1:0", "--l1-addr", "127.0.0.1:0", "--for", "180s"],
        dir.path(),
    );
    let node =
        after(&network.wait_for("the node URL", MINUTE, |l| l.starts_with("node: ")), "node: ").to_owned();
    let l1 = after(&network.wait_for("the L1 URL", MINUTE, |l| l.starts_with("l1: ")), "l1: ").to_owned();
    let l1_with_key = format!("{}/?apikey={URL_KEY}", l1.trim_end_matches('/'));

    let port = free_port();
    let deployment = format!("deployed-{}", std::process::id());
    let values: BTreeMap<&str, String> = [
        ("node_url", node.clone()),
        ("deployment", deployment.clone()),
        ("region", "us-east-1".to_owned()),
        ("metrics_namespace", catalog::CLOUDWATCH_NAMESPACE.to_owned()),
        ("table_prefix", prefix.clone()),
        ("container_port", port.to_string()),
        ("ha_enabled", "false".to_owned()),
        ("discord_guild_id", "\"1101234567890123456\"".to_owned()),
        ("discord_application_id", "\"\"".to_owned()),
        // Demo operators are not Discord users, so their role changes are refused without a request;
        // no channel is configured, so nothing is posted: the test never reaches discord.com.
        (
            "discord_roles",
            "{ \"performant\" = \"1201234567890123456\", \"slashed\" = \"1201234567890123457\" }".to_owned(),
        ),
        ("discord_channels", "{ }".to_owned()),
        ("discord_moderator_roles", "[\"1201234567890123458\"]".to_owned()),
    ]
    .into_iter()
    .collect();
    // Tests bind loopback only; in the container the same line listens on every interface.
    let config = render_config_template(&values).replace("0.0.0.0:", "127.0.0.1:");
    let env = [
        ("SPARTA_CONFIG_TOML", config.as_str()),
        ("SPARTA_DISCORD_TOKEN", TOKEN),
        ("SPARTA_DISCORD_PUBLIC_KEY", PUBLIC_KEY),
        ("SPARTA_API_KEY", API_KEY),
        ("SPARTA_L1_URL", l1_with_key.as_str()),
        ("AWS_ENDPOINT_URL_DYNAMODB", moto.endpoint()),
        ("AWS_ENDPOINT_URL_CLOUDWATCH", moto.endpoint()),
        ("RUST_LOG", "debug"),
    ];
    let mut run = sparta_with_env(&["--log-json", "run"], dir.path(), &env);
    run.wait_for("slots processed", MINUTE, |l| l.contains("slots processed"));
    assert!(run.output().contains("secrets set: SPARTA_DISCORD_TOKEN"), "{}", run.output());

    // The container health check, and the load balancer's readiness check.
    for path in ["/healthz", "/readyz"] {
        let mut probe = sparta(&["probe", &format!("http://127.0.0.1:{port}{path}")], dir.path());
        assert!(probe.wait_exit(MINUTE).0.success(), "{path}: {}", probe.output());
    }
    // What the load balancer forwards besides: the API answers with the key, and the interactions
    // endpoint is mounted (an unsigned request is refused, not 404).
    let client = reqwest::Client::new();
    let api = client
        .get(format!("http://127.0.0.1:{port}/api/v1/network"))
        .bearer_auth(API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(api.status().as_u16(), 200, "{}", api.text().await.unwrap());
    let unsigned =
        client.post(format!("http://127.0.0.1:{port}/interactions")).body("{}").send().await.unwrap();
    assert_eq!(unsigned.status().as_u16(), 401);
    let mut elsewhere = sparta(&["probe", "http://192.0.2.1:9464/healthz"], dir.path());
    assert!(!elsewhere.wait_exit(MINUTE).0.success());
    assert!(elsewhere.output().contains("only checks this machine"), "{}", elsewhere.output());

    // The L1 endpoint dies: errors quoting its URL must show it without the key.
    network.kill();
    run.wait_for("an L1 failure", MINUTE, |l| l.contains("chain poll failed"));
    run.interrupt();
    let (status, _) = run.wait_exit(MINUTE);
    assert!(status.success(), "{}", run.output());

    let output = run.output();
    for secret in [TOKEN, API_KEY, URL_KEY, PUBLIC_KEY] {
        assert!(!output.contains(secret), "a secret reached the log:\n{output}");
    }
    assert!(output.lines().count() > 20, "debug logging was on: {output}");

    // The alarms' metrics arrived, under the namespace and dimension the alarms watch.
    let published = published_metrics(moto.endpoint(), &deployment).await;
    for name in [catalog::ENGINE_LEADER, catalog::ENGINE_LAG_SLOTS, catalog::ENGINE_DATA_AGE_SECONDS] {
        assert!(published.contains_key(name), "{name} not in CloudWatch: {published:?}");
    }
    assert_eq!(published[catalog::ENGINE_LEADER], 1.0, "the only instance leads");
}

/// Each metric's maximum over the last hour in CloudWatch, for this deployment.
async fn published_metrics(endpoint: &str, deployment: &str) -> BTreeMap<String, f64> {
    use aws_sdk_cloudwatch::config::{BehaviorVersion, Credentials, Region};
    use aws_sdk_cloudwatch::types::{Dimension, DimensionFilter, Statistic};
    let config = aws_sdk_cloudwatch::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("test", "test", None, None, "static"))
        .build();
    let client = aws_sdk_cloudwatch::Client::from_conf(config);
    let filter = DimensionFilter::builder().name(catalog::CLOUDWATCH_DIMENSION).value(deployment).build();
    let listed = client
        .list_metrics()
        .namespace(catalog::CLOUDWATCH_NAMESPACE)
        .dimensions(filter)
        .send()
        .await
        .expect("ListMetrics");
    let dimension = Dimension::builder().name(catalog::CLOUDWATCH_DIMENSION).value(deployment).build();
    let now = std::time::SystemTime::now();
    let mut out = BTreeMap::new();
    for metric in listed.metrics() {
        let name = metric.metric_name().unwrap_or_default().to_owned();
        let stats = client
            .get_metric_statistics()
            .namespace(catalog::CLOUDWATCH_NAMESPACE)
            .metric_name(&name)
            .dimensions(dimension.clone())
            .start_time((now - Duration::from_secs(3600)).into())
            .end_time((now + Duration::from_secs(60)).into())
            .period(3600)
            .statistics(Statistic::Maximum)
            .send()
            .await
            .expect("GetMetricStatistics");
        let max = stats.datapoints().iter().filter_map(|d| d.maximum()).fold(f64::MIN, f64::max);
        out.insert(name, max);
    }
    out
}

#[test]
fn bad_secrets_are_refused_by_name_without_echoing_them() {
    let dir = tempfile::tempdir().unwrap();
    let config = "[chain]\nnode_url = \"http://127.0.0.1:9\"\n";
    let env = [
        ("SPARTA_CONFIG_TOML", config),
        ("SPARTA_DISCORD_TOKEN", "two words-leakcheck"),
        ("SPARTA_DISCORD_PUBLIC_KEY", "not-hex-leakcheck"),
        ("SPARTA_API_KEY", "short-leakcheck"),
        ("SPARTA_L1_URL", "ws://leakcheck.example"),
    ];
    for args in [&["config", "check"][..], &["run"][..]] {
        let mut check = sparta_with_env(args, dir.path(), &env);
        let (status, _) = check.wait_exit(MINUTE);
        assert!(!status.success(), "{args:?}");
        let out = check.output();
        assert!(out.contains("4 problem(s)"), "{args:?}: {out}");
        for name in ["SPARTA_DISCORD_TOKEN", "SPARTA_DISCORD_PUBLIC_KEY", "SPARTA_API_KEY", "SPARTA_L1_URL"] {
            assert!(out.contains(name), "{args:?}: {name} is named: {out}");
        }
        assert!(!out.contains("leakcheck"), "{args:?}: a value was echoed: {out}");
    }

    // Without chain.l1_url and without SPARTA_L1_URL there is nothing to follow.
    let mut missing = sparta_with_env(&["config", "check"], dir.path(), &[("SPARTA_CONFIG_TOML", config)]);
    assert!(!missing.wait_exit(MINUTE).0.success());
    assert!(missing.output().contains("no L1 URL"), "{}", missing.output());
}
