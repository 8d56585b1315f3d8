//! Prometheus rules and exposition checked by Prometheus' own tool (Debian's `promtool`, unpacked by
//! `scripts/prometheus`): the rules parse, their unit tests pass, every metric they name is in the
//! catalog, and what `sparta devnet` serves passes `promtool check metrics`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use regex::Regex;
use sparta_telemetry::catalog;

use crate::process::{after, sparta};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn promtool() -> Option<String> {
    let output = Command::new(root().join("scripts/prometheus")).output().expect("scripts/prometheus runs");
    if !output.status.success() {
        let why = String::from_utf8_lossy(&output.stderr);
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the promtool checks; unpacking failed:\n{why}"
        );
        eprintln!("skipping: promtool cannot be installed here:\n{why}");
        return None;
    }
    let text = String::from_utf8(output.stdout).unwrap();
    let tools: BTreeMap<&str, &str> = text.lines().filter_map(|l| l.split_once('=')).collect();
    Some(tools["promtool"].to_owned())
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
