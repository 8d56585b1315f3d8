//! Prometheus rules and exposition checked by Prometheus' own tool (Debian's `promtool`, unpacked by
//! `scripts/prometheus`): the rules parse, their unit tests pass, every metric they name is in the
//! catalog, and what `sparta devnet` serves passes `promtool check metrics`.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use regex::Regex;
use sparta_telemetry::catalog;

use crate::process::{after, sparta};
use crate::throttle::ThrottlingProxy;
use crate::tools::{free_port, installed, root};

const MINUTE: Duration = Duration::from_secs(60);

fn promtool() -> Option<String> {
    installed("prometheus").map(|t| t["promtool"].clone())
}

fn run(promtool: &str, args: &[&str], input: Option<&str>) -> (bool, String) {
    let mut child = Command::new(promtool)
        .args(args)
        .current_dir(root().join("dashboards/prometheus"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.unwrap_or("").as_bytes()).unwrap();
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    let text =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

#[test]
fn the_alert_rules_pass_promtool_and_their_unit_tests() {
    let Some(promtool) = promtool() else { return };
    let (ok, out) = run(&promtool, &["check", "rules", "rules.yml"], None);
    assert!(ok && out.contains(&format!("{} rules found", rule_expressions().len())), "{out}");
    let (ok, out) = run(&promtool, &["test", "rules", "rules.test.yml"], None);
    assert!(ok, "{out}");
}

#[test]
fn every_metric_a_rule_names_is_in_the_catalog_and_every_rule_has_a_runbook() {
    let rules = std::fs::read_to_string(root().join("dashboards/prometheus/rules.yml")).unwrap();
    let runbook = std::fs::read_to_string(root().join("docs/runbook.md")).unwrap();
    let metric = Regex::new(r"\bsparta_[a-z0-9_]+").unwrap();
    let named: Vec<&str> = metric.find_iter(&rules).map(|m| m.as_str()).collect();
    assert!(named.len() >= 8, "{named:?}");
    for name in named {
        assert!(catalog::find(name).is_some(), "rules.yml names {name}, which is not in the catalog");
    }
    let anchor = Regex::new(r"runbook: docs/runbook.md#([a-z-]+)").unwrap();
    let anchors: Vec<&str> = anchor.captures_iter(&rules).map(|c| c.get(1).unwrap().as_str()).collect();
    assert_eq!(anchors.len(), rules.matches("- alert:").count(), "every rule links its runbook entry");
    for a in anchors {
        assert!(runbook.lines().any(|l| l.trim() == format!("## {a}")), "docs/runbook.md has no `## {a}`");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_devnet_exposition_passes_promtool_check_metrics() {
    let Some(promtool) = promtool() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut devnet =
        sparta(&["devnet", "--for", "60s", "--metrics-addr", "127.0.0.1:0", "--data-dir", "d"], dir.path());
    let url = after(
        &devnet.wait_for("the metrics URL", Duration::from_secs(60), |l| l.starts_with("metrics: ")),
        "metrics: ",
    )
    .to_owned();
    devnet.wait_for("processed slots", Duration::from_secs(60), |l| l.contains("slots processed"));
    let text = reqwest::get(&url).await.unwrap().text().await.unwrap();
    assert!(text.contains(catalog::ENGINE_LAST_PROCESSED_SLOT), "{text}");
    let (ok, out) = run(&promtool, &["check", "metrics"], Some(&text));
    assert!(ok, "promtool check metrics:\n{out}");
    // The checker does complain about a broken exposition (so its silence above means something).
    let broken = "# TYPE sparta_widgets counter\nsparta_widgets 1\n";
    let (ok, out) = run(&promtool, &["check", "metrics"], Some(broken));
    assert!(!ok && out.contains("_total"), "{out}");
}

/// Every PromQL expression of the Grafana dashboards (panel targets and the queries behind their
/// variables), with the variables filled in as Grafana does when "All" is picked.
fn dashboard_expressions() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let label_values = Regex::new(r"^label_values\((.+),\s*[a-z_]+\)$").unwrap();
    let fill = |expr: &str| {
        ["$job", "$operator", "$validator"]
            .iter()
            .fold(expr.replace("$__rate_interval", "1m"), |e, var| e.replace(var, ".+"))
    };
    let mut files = 0;
    for entry in std::fs::read_dir(root().join("dashboards/grafana")).unwrap() {
        let path = entry.unwrap().path();
        let dashboard: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
            .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        files += 1;
        let variables = dashboard["templating"]["list"].as_array().expect("templating");
        assert_eq!(variables[0]["type"], "datasource", "{file}: the first variable picks the data source");
        for variable in variables.iter().filter(|v| v["type"] == "query") {
            let query = variable["query"]["query"].as_str().expect("a variable query");
            let series = label_values.captures(query).unwrap_or_else(|| panic!("{file}: {query}"));
            out.push((format!("{file}: variable {}", variable["name"]), fill(&series[1])));
        }
        for panel in dashboard["panels"].as_array().expect("panels") {
            assert_eq!(panel["datasource"]["uid"], "${datasource}", "{file}: {}", panel["title"]);
            for target in panel["targets"].as_array().into_iter().flatten() {
                let expr = target["expr"].as_str().expect("a PromQL target");
                out.push((format!("{file}: {}", panel["title"]), fill(expr)));
            }
        }
    }
    assert_eq!(files, 3, "network overview, operator drill-down, engine health");
    assert!(out.len() >= 40, "{out:?}");
    out
}

/// The rules' expressions, by alert name (each rule's `expr` is one line, after its `alert`).
fn rule_expressions() -> Vec<(String, String)> {
    let rules = std::fs::read_to_string(root().join("dashboards/prometheus/rules.yml")).unwrap();
    let mut out: Vec<(String, String)> = Vec::new();
    let mut alert = None;
    for line in rules.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix("- alert: ") {
            alert = Some(name.to_owned());
        } else if let Some(expr) = line.strip_prefix("expr: ")
            && let Some(name) = alert.take()
        {
            out.push((name, expr.to_owned()));
        }
    }
    assert_eq!(out.len(), rules.matches("- alert:").count(), "every rule has a one-line expr");
    out
}

/// An alert expression without its final threshold: the signal the rule watches.
fn signal(expr: &str) -> &str {
    let threshold = Regex::new(r"\s*(>|<|>=|<=|==|!=)\s*[0-9.e+-]+\s*$").unwrap();
    threshold.find(expr).map_or(expr, |m| &expr[..m.start()])
}

#[test]
fn every_metric_a_dashboard_names_is_in_the_catalog() {
    let metric = Regex::new(r"\bsparta_[a-z0-9_]+").unwrap();
    for (at, expr) in dashboard_expressions() {
        for name in metric.find_iter(&expr).map(|m| m.as_str()) {
            let base =
                ["_bucket", "_sum", "_count"].iter().find_map(|s| name.strip_suffix(s)).unwrap_or(name);
            assert!(catalog::find(base).is_some(), "{at}: {name} is not in the catalog");
        }
    }
    assert_eq!(signal("max(a) > 16"), "max(a)");
    assert_eq!(signal("max(a == 1) < 1"), "max(a == 1)");
    assert_eq!(signal("sum(increase(b[5m])) > 0.2"), "sum(increase(b[5m]))");
}

/// Code that emits by a literal name (crates that do not depend on the telemetry crate) emits only
/// catalog metrics.
#[test]
fn every_metric_name_in_the_code_is_in_the_catalog() {
    let literal = Regex::new(r#""(sparta_[a-z0-9_]+)""#).unwrap();
    let mut dirs = vec![root().join("src"), root().join("actors/src"), root().join("bot/src")];
    dirs.extend(std::fs::read_dir(root().join("engine")).unwrap().map(|e| e.unwrap().path().join("src")));
    let (mut files, mut names) = (0, 0);
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("catalog.rs") {
                files += 1;
                for name in literal.captures_iter(&std::fs::read_to_string(&path).unwrap()) {
                    names += 1;
                    assert!(
                        catalog::find(&name[1]).is_some(),
                        "{}: {} is not in the catalog",
                        path.display(),
                        &name[1]
                    );
                }
            }
        }
    }
    assert!(files > 100 && names >= 5, "{files} files, {names} names");
}

/// Dashboard queries that return data only during an incident, and what in the scripted incident of
/// the test below brings them.
const INCIDENT_ONLY: &[(&str, &str)] = &[
    (catalog::CHAIN_RPC_ERRORS_TOTAL, "the node outage"),
    (catalog::STORE_RETRIES_TOTAL, "DynamoDB throttling"),
];

/// Alert rules whose full expression the scripted run makes true: the outage, the scripted slash, and
/// the operator of the validator scripted to go offline. The others wait minutes past thresholds a
/// test run cannot reach (a 15-minute stall, 10 minutes of stale data, a 15-minute backlog, no
/// leader); their signal must have data here, and their unit tests prove the thresholds.
const FIRING_IN_THE_RUN: &[&str] =
    &["SpartaEngineLagging", "SpartaValidatorSlashed", "SpartaOperatorMissRateHigh"];

/// Catalog metrics the devnet run does not export: the leadership token exists only with leader
/// election, Discord requests only with a bot token (the devnet prints actions instead); the bot's
/// tests check the latter against a Discord double.
const NOT_IN_THE_DEVNET: &[&str] = &[catalog::ENGINE_LEADER_TOKEN, catalog::DISCORD_REQUESTS_TOTAL];

struct PromApi {
    url: String,
    client: reqwest::Client,
}

impl PromApi {
    /// The result vector of an instant query (at `at`, unix seconds, or now).
    async fn query(&self, expr: &str, at: Option<f64>) -> Vec<serde_json::Value> {
        let mut params = vec![("query", expr.to_owned())];
        if let Some(at) = at {
            params.push(("time", format!("{at:.3}")));
        }
        let url = reqwest::Url::parse_with_params(&format!("{}/api/v1/query", self.url), &params).unwrap();
        let answer: serde_json::Value = self.client.get(url).send().await.unwrap().json().await.unwrap();
        assert_eq!(answer["status"], "success", "{expr}: {answer}");
        answer["data"]["result"].as_array().cloned().unwrap_or_default()
    }
}

fn unix_now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_prometheus_scraping_the_devnet_answers_every_dashboard_query_and_rule() {
    let Some(tools) = installed("prometheus") else { return };
    let Some(moto) = sparta_store::local::LocalMoto::shared() else { return };
    // DynamoDB behind a proxy that can throttle, as AWS does under load (moto never does).
    let dynamodb = ThrottlingProxy::start(moto.endpoint()).await;
    let dir = tempfile::tempdir().unwrap();
    let prefix = format!("prom-{}-", std::process::id());
    let started = std::time::Instant::now();
    // The incident: the node answers 503 from 150 s to 200 s (25 slots: the engine falls behind). It
    // starts late enough for a busy machine to reach the slash first.
    let mut devnet = sparta(
        &[
            "devnet",
            "--for",
            "360s",
            "--metrics-addr",
            "127.0.0.1:0",
            "--data-dir",
            "d",
            "--dynamodb-endpoint",
            dynamodb.endpoint(),
            "--dynamodb-prefix",
            &prefix,
            "--node-outage",
            "150s+50s",
        ],
        dir.path(),
    );
    let url = after(&devnet.wait_for("the metrics URL", MINUTE, |l| l.starts_with("metrics: ")), "metrics: ")
        .to_owned();
    let target = url.trim_start_matches("http://").trim_end_matches("/metrics").to_owned();

    let port = free_port();
    let rules = root().join("dashboards/prometheus/rules.yml");
    let config = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {}\nscrape_configs:\n  - job_name: sparta\n    static_configs:\n      - targets: ['{target}']\n",
        rules.display()
    );
    std::fs::write(dir.path().join("prometheus.yml"), config).unwrap();
    let mut prometheus = std::process::Command::new(&tools["prometheus"])
        .arg(format!("--config.file={}", dir.path().join("prometheus.yml").display()))
        .arg(format!("--storage.tsdb.path={}", dir.path().join("tsdb").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus starts");
    let api = PromApi { url: format!("http://127.0.0.1:{port}"), client: reqwest::Client::new() };
    let mut ready = false;
    for _ in 0..150 {
        if api.client.get(format!("{}/-/ready", api.url)).send().await.is_ok_and(|r| r.status().is_success())
        {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(ready, "prometheus did not become ready on {}", api.url);

    // Before the incident. The devnet's script: a slashed validator gets the slashed role around
    // slot 20; by then alerts, roles, deliveries and the slash itself have all been counted.
    devnet.wait_for("the slashed role", Duration::from_secs(130), |l| l.contains("role=slashed"));
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(started.elapsed() < Duration::from_secs(145), "the incident must not have begun yet");
    let incident_only = |expr: &str| INCIDENT_ONLY.iter().any(|(metric, _)| expr.contains(metric));
    let mut empty = Vec::new();
    for (at, expr) in dashboard_expressions() {
        let data = !api.query(&expr, None).await.is_empty();
        match (incident_only(&expr), data) {
            (false, false) => empty.push(format!("{at}: {expr}")),
            (true, true) => empty.push(format!("{at}: {expr} has data before its incident")),
            _ => {}
        }
    }
    assert!(empty.is_empty(), "before the incident:\n{}", empty.join("\n"));

    // The incident: the node goes away (150 s to 200 s), and DynamoDB throttles a burst of requests.
    tokio::time::sleep(Duration::from_secs(155).saturating_sub(started.elapsed())).await;
    dynamodb.throttle_next(3);
    tokio::time::sleep(Duration::from_secs(190).saturating_sub(started.elapsed())).await;
    let during = unix_now();
    devnet.wait_for("the node's return", Duration::from_secs(90), |l| l.contains("slots processed"));
    tokio::time::sleep(Duration::from_secs(220).saturating_sub(started.elapsed())).await;
    assert_eq!(dynamodb.counts().1, 3, "the throttled burst happened");

    for (at, expr) in dashboard_expressions().into_iter().filter(|(_, e)| incident_only(e)) {
        assert!(!api.query(&expr, None).await.is_empty(), "{at}: {expr} shows no incident");
    }
    // Every rule evaluates; each one's signal has data; the ones the run makes true returned data.
    for (alert, expr) in rule_expressions() {
        assert!(!api.query(signal(&expr), None).await.is_empty(), "{alert}: no data for {}", signal(&expr));
        if FIRING_IN_THE_RUN.contains(&alert.as_str()) {
            let now = api.query(&expr, None).await;
            let then = api.query(&expr, Some(during)).await;
            assert!(!now.is_empty() || !then.is_empty(), "{alert} never became true: {expr}");
        }
    }
    let rules: serde_json::Value =
        api.client.get(format!("{}/api/v1/rules", api.url)).send().await.unwrap().json().await.unwrap();
    let evaluated: Vec<&serde_json::Value> = rules["data"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["rules"].as_array().unwrap())
        .collect();
    assert_eq!(evaluated.len(), rule_expressions().len(), "{rules}");
    for rule in evaluated {
        assert_eq!(rule["health"], "ok", "{rule}");
    }
    // Every catalog metric is exported (histograms as their series).
    let names: Vec<String> = api
        .query(r#"group by (__name__) ({__name__=~"sparta_.+"})"#, None)
        .await
        .iter()
        .map(|s| s["metric"]["__name__"].as_str().unwrap().to_owned())
        .collect();
    for def in catalog::CATALOG.iter().filter(|d| !NOT_IN_THE_DEVNET.contains(&d.name)) {
        let exported = names.iter().any(|n| n == def.name || n == &format!("{}_count", def.name));
        assert!(exported, "{} is in the catalog but not exported by the devnet", def.name);
    }
    let _ = prometheus.kill();
    let _ = prometheus.wait();
    devnet.interrupt();
    devnet.wait_exit(MINUTE);
}

/// With 10,000 validators (and so 1,020 demo operators, over the default cap of 1,000) the exposition
/// stays under the catalog's series budget: nothing grows with the validator count. Committees of
/// 2,000 over 8-slot epochs put most of the set under the engine's tracking within two minutes. Committees of
/// 2,000 over 8-slot epochs put most of the set under the engine's tracking within a minute.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_validators_stay_under_the_series_budget() {
    let dir = tempfile::tempdir().unwrap();
    let mut devnet = sparta(
        &[
            "devnet",
            "--validators",
            "10000",
            "--committee",
            "2000",
            "--epoch-slots",
            "8",
            "--for",
            "150s",
            "--metrics-addr",
            "127.0.0.1:0",
            "--data-dir",
            "d",
        ],
        dir.path(),
    );
    let url = after(&devnet.wait_for("the metrics URL", MINUTE, |l| l.starts_with("metrics: ")), "metrics: ")
        .to_owned();
    // Six epochs in: committees have rotated, the families have been published many times.
    devnet.wait_for("slot 48", Duration::from_secs(140), |l| {
        let to = l.split("to=").nth(1).and_then(|t| t.split(' ').next()?.parse::<u64>().ok());
        l.contains("slots processed") && to >= Some(48)
    });
    let text = reqwest::get(&url).await.unwrap().text().await.unwrap();
    let series: Vec<&str> = text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()).collect();
    let family = |name: &str| series.iter().filter(|l| l.starts_with(&format!("{name}{{"))).count();
    let operators = family(catalog::OPERATOR_VALIDATORS);
    let worst = family(catalog::VALIDATORS_WORST_ATTESTATION_MISS_RATIO);
    let board = sparta_core::scoreboard::ScoreboardConfig::default();
    assert_eq!(operators, board.max_operators, "the operator families are capped");
    assert!(worst <= board.worst_k, "{worst}");
    let snapshot: usize = catalog::SNAPSHOT_FAMILIES.iter().map(|f| family(f)).sum();
    assert!(
        snapshot <= catalog::SERIES_PER_OPERATOR * operators + catalog::SERIES_PER_WORST_VALIDATOR * worst
    );
    let fixed = series.len() - snapshot;
    assert!(fixed <= catalog::SERIES_BUDGET_FIXED, "{fixed} series outside the snapshot families");
    let budget = catalog::series_budget(board.max_operators, board.worst_k);
    assert!(series.len() <= budget, "{} series, budget {budget}", series.len());
    let dropped = series
        .iter()
        .find_map(|l| l.strip_prefix(r#"sparta_telemetry_series_dropped_total{family="operator"} "#))
        .and_then(|v| v.parse::<f64>().ok());
    assert!(dropped.is_some_and(|d| d > 0.0), "the operators over the cap were counted: {dropped:?}");
    let tracked = series.iter().find_map(|l| l.strip_prefix("sparta_validators_tracked ")).unwrap();
    assert!(tracked.parse::<f64>().unwrap() > 5_000.0, "the engine tracks most of the set: {tracked}");
    println!(
        "series budget at 10,000 validators: {} series ({fixed} fixed, {snapshot} in snapshot families, {operators} operators, {worst} worst), {} bytes; budget {budget}",
        series.len(),
        text.len()
    );
    devnet.interrupt();
    devnet.wait_exit(MINUTE);
}
