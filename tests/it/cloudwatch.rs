//! The CloudWatch publisher against a local moto server: what it puts is read back with `ListMetrics`
//! and `GetMetricData`; rounds larger than one request are split; throttling (answered by a proxy in
//! front of moto, as AWS answers it) is retried with backoff, and a round that still fails is carried
//! into the next. The EMF destination writes lines CloudWatch Logs would extract.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::config::retry::RetryConfig;
use aws_sdk_cloudwatch::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_cloudwatch::types::{Dimension, DimensionFilter, Metric, MetricDataQuery, MetricStat};
use sparta_store::local::LocalMoto;
use sparta_telemetry::catalog;
use sparta_telemetry::cloudwatch::{CloudWatchPublisher, Destination, PublisherConfig};
use sparta_telemetry::families::{self, Series};

use crate::throttle::ThrottlingProxy;

fn client(endpoint: &str, max_attempts: u32) -> Client {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let config = aws_sdk_cloudwatch::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("test", "test", None, None, "static"))
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(max_attempts)
                .with_initial_backoff(Duration::from_millis(20)),
        )
        .build();
    Client::from_conf(config)
}

fn config(namespace: &str, max_series: usize) -> PublisherConfig {
    PublisherConfig {
        namespace: namespace.to_owned(),
        deployment: "testnet".into(),
        // Rounds here are the one at start and the one on stop.
        interval: Duration::from_secs(3600),
        sample_every: Duration::from_secs(3600),
        max_series,
    }
}

fn operators(n: usize) {
    let series =
        (0..n).map(|i| Series::new(vec![("operator", format!("op{i:04}"))], (i % 100) as f64 / 100.0));
    families::replace(catalog::OPERATOR_ATTESTATION_MISS_RATIO, series.collect());
}

/// Every metric of `namespace` for the deployment, following ListMetrics' pages.
async fn listed(client: &Client, namespace: &str) -> Vec<Metric> {
    let filter = DimensionFilter::builder().name(catalog::CLOUDWATCH_DIMENSION).value("testnet").build();
    let mut out = Vec::new();
    let mut token = None;
    for _ in 0..100 {
        let page = client
            .list_metrics()
            .namespace(namespace)
            .dimensions(filter.clone())
            .set_next_token(token)
            .send()
            .await
            .expect("ListMetrics");
        out.extend(page.metrics().iter().cloned());
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    out
}

/// The sum of `name`'s data points over the last hour, through GetMetricData.
async fn sum(client: &Client, namespace: &str, name: &str) -> f64 {
    let metric = Metric::builder()
        .namespace(namespace)
        .metric_name(name)
        .dimensions(Dimension::builder().name(catalog::CLOUDWATCH_DIMENSION).value("testnet").build())
        .build();
    let query = MetricDataQuery::builder()
        .id("q")
        .metric_stat(MetricStat::builder().metric(metric).period(3600).stat("Sum").build())
        .build();
    let now = SystemTime::now();
    let answer = client
        .get_metric_data()
        .metric_data_queries(query)
        .start_time((now - Duration::from_secs(3600)).into())
        .end_time((now + Duration::from_secs(60)).into())
        .send()
        .await
        .expect("GetMetricData");
    answer.metric_data_results().iter().flat_map(|r| r.values()).sum()
}

fn exposition_value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|v| v.trim().parse().ok()))
        .unwrap_or_else(|| panic!("{series} is not in:\n{text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_round_is_read_back_split_into_requests_and_retried_when_throttled() {
    let Some(moto) = LocalMoto::shared() else { return };
    let proxy = ThrottlingProxy::start(moto.endpoint()).await;
    let telemetry = sparta_telemetry::install().unwrap();
    metrics::gauge!(catalog::ENGINE_LEADER).set(1.0);
    metrics::gauge!(catalog::ENGINE_LAG_SLOTS).set(3.0);
    metrics::counter!(catalog::NETWORK_SLASHES_TOTAL).increment(2);
    operators(1_500);

    // The first two requests are throttled; the SDK retries them with backoff.
    proxy.throttle_next(2);
    let destination = Destination::Api(client(proxy.endpoint(), 4));
    let publisher =
        CloudWatchPublisher::spawn(telemetry.clone(), destination, config("SpartaTest/Split", 2_000))
            .await
            .unwrap();
    publisher.stop().await;

    let text = telemetry.render();
    // Two rounds (start and stop) of 1,500 + the health points: two requests each.
    assert_eq!(exposition_value(&text, r#"sparta_telemetry_cloudwatch_puts_total{outcome="ok"}"#), 4.0);
    assert_eq!(exposition_value(&text, r#"sparta_telemetry_cloudwatch_puts_total{outcome="failed"}"#), 0.0);
    assert_eq!(proxy.counts(), (6, 2), "4 puts and 2 throttled attempts reached the proxy");

    let direct = client(moto.endpoint(), 1);
    let metrics = listed(&direct, "SpartaTest/Split").await;
    // moto lists a series once per put; CloudWatch once. Count distinct operators.
    let per_operator: std::collections::BTreeSet<&str> = metrics
        .iter()
        .filter(|m| m.metric_name() == Some(catalog::OPERATOR_ATTESTATION_MISS_RATIO))
        .flat_map(|m| m.dimensions())
        .filter(|d| d.name() == Some("Operator"))
        .filter_map(|d| d.value())
        .collect();
    assert_eq!(per_operator.len(), 1_500, "every operator's series arrived");
    for name in [catalog::ENGINE_LEADER, catalog::ENGINE_LAG_SLOTS, catalog::NETWORK_SLASHES_TOTAL] {
        assert!(metrics.iter().any(|m| m.metric_name() == Some(name)), "{name} was not listed");
    }
    // The counter's increase was put once: 2 in the first round, 0 in the second.
    assert_eq!(sum(&direct, "SpartaTest/Split", catalog::NETWORK_SLASHES_TOTAL).await, 2.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_round_throttled_past_every_retry_is_carried_into_the_next() {
    let Some(moto) = LocalMoto::shared() else { return };
    let proxy = ThrottlingProxy::start(moto.endpoint()).await;
    let telemetry = sparta_telemetry::install().unwrap();
    metrics::gauge!(catalog::ENGINE_LEADER).set(1.0);
    metrics::counter!(catalog::NETWORK_SLASHES_TOTAL).increment(2);

    // Two attempts per request, both throttled: the first round fails.
    proxy.throttle_next(2);
    let destination = Destination::Api(client(proxy.endpoint(), 2));
    let publisher =
        CloudWatchPublisher::spawn(telemetry.clone(), destination, config("SpartaTest/Carry", 100))
            .await
            .unwrap();
    // The next round comes on stop, after one more slash; by then CloudWatch answers again.
    for _ in 0..100 {
        if proxy.counts().1 == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    metrics::counter!(catalog::NETWORK_SLASHES_TOTAL).increment(1);
    publisher.stop().await;

    let text = telemetry.render();
    assert_eq!(exposition_value(&text, r#"sparta_telemetry_cloudwatch_puts_total{outcome="failed"}"#), 1.0);
    assert_eq!(exposition_value(&text, r#"sparta_telemetry_cloudwatch_puts_total{outcome="ok"}"#), 1.0);
    let direct = client(moto.endpoint(), 1);
    assert_eq!(
        sum(&direct, "SpartaTest/Carry", catalog::NETWORK_SLASHES_TOTAL).await,
        3.0,
        "the failed round's 2 arrived with the next round's 1"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emf_lines_carry_the_capped_series_without_any_api_call() {
    let telemetry = sparta_telemetry::install().unwrap();
    metrics::gauge!(catalog::ENGINE_LEADER).set(1.0);
    metrics::gauge!(catalog::ENGINE_LAG_SLOTS).set(5.0);
    operators(40);
    let out = Arc::new(Mutex::new(Vec::<u8>::new()));
    let destination = Destination::Emf(out.clone());
    // Room for the two health points and 8 operators: the worst 8 go, 32 are dropped.
    let publisher = CloudWatchPublisher::spawn(telemetry.clone(), destination, config("SpartaTest/Emf", 10))
        .await
        .unwrap();
    publisher.stop().await;

    let text = String::from_utf8(out.lock().unwrap().clone()).unwrap();
    let events: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let health = &events[0];
    assert_eq!(health["_aws"]["CloudWatchMetrics"][0]["Namespace"], "SpartaTest/Emf");
    assert_eq!(health["_aws"]["CloudWatchMetrics"][0]["Dimensions"], serde_json::json!([["Deployment"]]));
    assert_eq!(health["Deployment"], "testnet");
    assert_eq!(health[catalog::ENGINE_LAG_SLOTS], 5.0);
    // The health points always go (leader, lag and the counters registered at zero); the operators fill
    // the rest of the 10, worst first.
    let plain = health["_aws"]["CloudWatchMetrics"][0]["Metrics"].as_array().unwrap().len();
    assert!((2..10).contains(&plain), "{health}");
    let room = 10 - plain;
    let rounds = 2;
    assert_eq!(events.len(), rounds * (1 + room), "one line for the health points, one per kept operator");
    let kept: Vec<f64> = events[1..=room]
        .iter()
        .map(|e| e[catalog::OPERATOR_ATTESTATION_MISS_RATIO].as_f64().unwrap())
        .collect();
    let worst_left_out = (39 - room) as f64 / 100.0;
    assert!(kept.iter().all(|r| *r > worst_left_out), "the worst operators were kept: {kept:?}");
    assert_eq!(
        exposition_value(
            &telemetry.render(),
            r#"sparta_telemetry_series_dropped_total{family="cloudwatch"}"#
        ),
        (rounds * (40 - room)) as f64
    );
}

/// `(Maximum, Minimum)` of `name` over the last hour, through GetMetricStatistics.
async fn extremes(client: &Client, namespace: &str, name: &str) -> (f64, f64) {
    use aws_sdk_cloudwatch::types::Statistic;
    let now = SystemTime::now();
    let stats = client
        .get_metric_statistics()
        .namespace(namespace)
        .metric_name(name)
        .dimensions(Dimension::builder().name(catalog::CLOUDWATCH_DIMENSION).value("testnet").build())
        .start_time((now - Duration::from_secs(3600)).into())
        .end_time((now + Duration::from_secs(60)).into())
        .period(3600)
        .statistics(Statistic::Maximum)
        .statistics(Statistic::Minimum)
        .send()
        .await
        .expect("GetMetricStatistics");
    let points = stats.datapoints();
    let max = points.iter().filter_map(|d| d.maximum()).fold(f64::MIN, f64::max);
    let min = points.iter().filter_map(|d| d.minimum()).fold(f64::MAX, f64::min);
    (max, min)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spike_between_two_rounds_reaches_the_alarms_maximum() {
    let Some(moto) = LocalMoto::shared() else { return };
    let telemetry = sparta_telemetry::install().unwrap();
    metrics::gauge!(catalog::ENGINE_LEADER).set(1.0);
    metrics::gauge!(catalog::ENGINE_LAG_SLOTS).set(2.0);
    let config =
        PublisherConfig { sample_every: Duration::from_millis(100), ..config("SpartaTest/Spike", 100) };
    let publisher =
        CloudWatchPublisher::spawn(telemetry.clone(), Destination::Api(client(moto.endpoint(), 2)), config)
            .await
            .unwrap();
    // Between the round at start and the one on stop, the lag spikes to 30 and falls back to 3: only
    // the samples can tell CloudWatch. The spike begins once the first round is done (the actor
    // samples only between rounds) and lasts ten sampling periods.
    let ok = r#"sparta_telemetry_cloudwatch_puts_total{outcome="ok"}"#;
    for _ in 0..200 {
        if exposition_value(&telemetry.render(), ok) >= 1.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(exposition_value(&telemetry.render(), ok), 1.0, "the first round was put");
    metrics::gauge!(catalog::ENGINE_LAG_SLOTS).set(30.0);
    tokio::time::sleep(Duration::from_secs(1)).await;
    metrics::gauge!(catalog::ENGINE_LAG_SLOTS).set(3.0);
    tokio::time::sleep(Duration::from_millis(500)).await;
    publisher.stop().await;

    let direct = client(moto.endpoint(), 1);
    assert_eq!(extremes(&direct, "SpartaTest/Spike", catalog::ENGINE_LAG_SLOTS).await, (30.0, 2.0));
}
