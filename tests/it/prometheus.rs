//! Prometheus rules and exposition checked by Prometheus' own tool (Debian's `promtool`, unpacked by
//! `scripts/prometheus`): the rules parse, their unit tests pass, every metric they name is in the
//! catalog, and what `sparta devnet` serves passes `promtool check metrics`.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use regex::Regex;
use sparta_telemetry::catalog;

use crate::process::{after, sparta};
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
    assert!(ok && out.contains("7 rules found"), "{out}");
    let (ok, out) = run(&promtool, &["test", "rules", "rules.test.yml"], None);
    assert!(ok, "{out}");
}

#[test]
fn every_metric_a_rule_names_is_in_the_catalog_and_every_rule_has_a_runbook() {
    let rules = std::fs::read_to_string(root().join("dashboards/prometheus/rules.yml")).unwrap();
    let runbook = std::fs::read_to_string(root().join("docs/runbook.md")).unwrap();
    let metric = Regex::new(r"\bsparta_[a-z0-9_]+").unwrap();
    let named: Vec<&str> = metric.find_iter(&rules).map(|m| m.as_str()).collect();
    assert!(named.len() >= 7, "{named:?}");
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

/// Every PromQL expression of the Grafana dashboards, with their variables filled in as Grafana would.
fn dashboard_expressions() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(root().join("dashboards/grafana")).unwrap() {
        let path = entry.unwrap().path();
        let dashboard: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
            .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        for panel in dashboard["panels"].as_array().expect("panels") {
            for target in panel["targets"].as_array().into_iter().flatten() {
                let expr = target["expr"].as_str().expect("a PromQL target");
                let filled = expr.replace("$__rate_interval", "1m").replace("$job", ".+");
                out.push((format!("{file}: {}", panel["title"]), filled));
            }
        }
    }
    assert!(out.len() >= 20, "{out:?}");
    out
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_prometheus_scraping_the_devnet_answers_every_dashboard_query_and_evaluates_every_rule() {
    let Some(tools) = installed("prometheus") else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut devnet =
        sparta(&["devnet", "--for", "180s", "--metrics-addr", "127.0.0.1:0", "--data-dir", "d"], dir.path());
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
    let api = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut ready = false;
    for _ in 0..150 {
        if client.get(format!("{api}/-/ready")).send().await.is_ok_and(|r| r.status().is_success()) {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(ready, "prometheus did not become ready on {api}");

    // The devnet's script: a slashed validator gets the slashed role around slot 20; by then alerts,
    // roles, deliveries and the slash itself have all been counted.
    devnet.wait_for("the slashed role", Duration::from_secs(120), |l| l.contains("role=slashed"));
    tokio::time::sleep(Duration::from_secs(5)).await;

    let mut empty = Vec::new();
    for (at, expr) in dashboard_expressions() {
        let answer: serde_json::Value = client
            .get(reqwest::Url::parse_with_params(&format!("{api}/api/v1/query"), [("query", &expr)]).unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(answer["status"], "success", "{at}: {expr}: {answer}");
        if answer["data"]["result"].as_array().is_none_or(|r| r.is_empty()) {
            empty.push(format!("{at}: {expr}"));
        }
    }
    // Alert rules return data only during an incident; what must hold is that each evaluates cleanly.
    let rules: serde_json::Value =
        client.get(format!("{api}/api/v1/rules")).send().await.unwrap().json().await.unwrap();
    let evaluated: Vec<&serde_json::Value> = rules["data"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["rules"].as_array().unwrap())
        .collect();
    assert_eq!(evaluated.len(), 7, "{rules}");
    for rule in evaluated {
        assert_eq!(rule["health"], "ok", "{rule}");
    }
    let _ = prometheus.kill();
    let _ = prometheus.wait();
    assert!(empty.is_empty(), "dashboard queries without data:\n{}", empty.join("\n"));
}
