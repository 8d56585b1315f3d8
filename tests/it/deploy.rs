//! The deployment (`terraform/`, `Dockerfile`, docs) checked against the code it deploys: table
//! designs, metric names, the config template, secrets, and the tools' own verdicts (terraform fmt,
//! checkov).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use regex::Regex;
use serde_json::{Map, Value};
use sparta_store::dynamo::DESIGN;
use sparta_telemetry::catalog;

use crate::tools::{installed, root};

fn read(path: impl AsRef<Path>) -> String {
    let path = root().join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn tf_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("terraform"))
        .expect("terraform/ exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "tf"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .tf files");
    files
}

/// Every `.tf` file's text, one after another.
fn tf_text() -> String {
    tf_files().iter().map(std::fs::read_to_string).map(Result::unwrap).collect()
}

/// Every `.tf` file parsed and merged into one tree (`resource.<type>.<name>`, `variable.<name>`, …).
/// Expressions that are not literals read as `${…}` strings.
fn terraform() -> Value {
    let mut all = Value::Object(Map::new());
    for file in tf_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        let parsed: hcl::Value =
            hcl::from_str(&text).unwrap_or_else(|e| panic!("{} is not valid HCL: {e}", file.display()));
        merge(&mut all, serde_json::to_value(parsed).unwrap(), &file);
    }
    all
}

fn merge(into: &mut Value, from: Value, file: &Path) {
    match (into, from) {
        (Value::Object(into), Value::Object(from)) => {
            for (key, value) in from {
                match into.get_mut(&key) {
                    Some(existing) if existing.is_object() && value.is_object() => {
                        merge(existing, value, file)
                    }
                    Some(_) => panic!("{key} is declared twice (again in {})", file.display()),
                    None => {
                        into.insert(key, value);
                    }
                }
            }
        }
        _ => unreachable!("top levels are objects"),
    }
}

/// A repeated block reads as an array, a single one as an object: both as a list.
fn blocks(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        one => vec![one],
    }
}

fn str_of<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key].as_str().unwrap_or_else(|| panic!("{key} is not a string in {value}"))
}

#[test]
fn the_tables_are_exactly_the_store_design() {
    let tf = terraform();
    let tables = tf["resource"]["aws_dynamodb_table"].as_object().expect("DynamoDB tables are declared");
    let mut declared = BTreeSet::new();
    for (resource, table) in tables {
        let name = str_of(table, "name");
        let suffix =
            name.strip_prefix("${local.table_prefix}").unwrap_or_else(|| panic!("{name}: no prefix"));
        declared.insert(suffix.to_owned());
        let design = DESIGN
            .iter()
            .find(|d| d.suffix == suffix)
            .unwrap_or_else(|| panic!("terraform declares table {suffix}, which the store does not use"));
        let at = format!("aws_dynamodb_table.{resource}");
        assert_eq!(str_of(table, "billing_mode"), "PAY_PER_REQUEST", "{at}");
        assert_eq!(str_of(table, "hash_key"), design.hash.0, "{at}: hash key");
        assert_eq!(table["range_key"].as_str(), design.range.map(|r| r.0), "{at}: range key");

        let attributes: BTreeSet<(String, String)> = blocks(&table["attribute"])
            .into_iter()
            .map(|a| (str_of(a, "name").to_owned(), str_of(a, "type").to_owned()))
            .collect();
        let wanted: BTreeSet<(String, String)> =
            design.key_attributes().into_iter().map(|(n, t)| (n.to_owned(), t.code().to_owned())).collect();
        assert_eq!(attributes, wanted, "{at}: attribute definitions");

        let indexes: BTreeMap<&str, &Value> =
            blocks(&table["global_secondary_index"]).into_iter().map(|i| (str_of(i, "name"), i)).collect();
        assert_eq!(indexes.len(), design.indexes.len(), "{at}: indexes {:?}", indexes.keys());
        for index in design.indexes {
            let declared = indexes.get(index.name).unwrap_or_else(|| panic!("{at}: no index {}", index.name));
            assert_eq!(str_of(declared, "hash_key"), index.hash.0, "{at}/{}", index.name);
            assert_eq!(str_of(declared, "range_key"), index.range.0, "{at}/{}", index.name);
            assert_eq!(str_of(declared, "projection_type"), "KEYS_ONLY", "{at}/{}", index.name);
        }

        match design.ttl {
            Some(attribute) => {
                assert_eq!(str_of(&table["ttl"], "attribute_name"), attribute, "{at}: TTL");
                assert_eq!(table["ttl"]["enabled"], true, "{at}: TTL");
            }
            None => {
                assert!(table["ttl"].is_null() || table["ttl"]["enabled"] == false, "{at}: unexpected TTL")
            }
        }
        assert_eq!(table["point_in_time_recovery"]["enabled"], true, "{at}: point-in-time recovery");
        assert_eq!(table["server_side_encryption"]["enabled"], true, "{at}: encryption");
        assert!(table["server_side_encryption"]["kms_key_arn"].is_string(), "{at}: a customer-managed key");
    }
    let designed: BTreeSet<String> = DESIGN.iter().map(|d| d.suffix.to_owned()).collect();
    assert_eq!(declared, designed, "terraform declares every table of the store and no other");
}

#[test]
fn every_alarm_watches_a_published_metric_and_has_a_runbook_entry() {
    let tf = terraform();
    let locals = &tf["locals"];
    assert_eq!(locals["metrics_namespace"], "${var.metrics_namespace}", "the alarms' namespace");
    let namespace = &tf["variable"]["metrics_namespace"];
    assert_eq!(namespace["default"], catalog::CLOUDWATCH_NAMESPACE, "terraform's default is sparta's");
    let alarms = locals["alarms"].as_object().expect("local.alarms");
    let runbook = read("docs/runbook.md");
    for required in [
        "chain_stalled",
        "engine_lag",
        "data_stale",
        "slash_detected",
        "outbox_growing",
        "discord_rate_limited",
    ] {
        assert!(alarms.contains_key(required), "no {required} alarm");
    }
    for (key, alarm) in alarms {
        let metric = str_of(alarm, "metric");
        assert!(
            catalog::CLOUDWATCH_METRICS.contains(&metric),
            "alarm {key} watches {metric}, which sparta does not publish to CloudWatch"
        );
        assert!(["Maximum", "Minimum", "Sum", "Average"].contains(&str_of(alarm, "statistic")), "{key}");
        assert!(alarm["threshold"].is_number() && alarm["period"].is_number(), "{key}");
        assert!(
            ["breaching", "notBreaching", "ignore", "missing"].contains(&str_of(alarm, "missing")),
            "{key}"
        );
        let anchor = format!("## {}", key.replace('_', "-"));
        assert!(runbook.lines().any(|l| l.trim() == anchor), "docs/runbook.md has no `{anchor}` section");
    }

    let resource = &tf["resource"]["aws_cloudwatch_metric_alarm"]["sparta"];
    assert_eq!(resource["for_each"], "${local.alarms}");
    assert_eq!(resource["namespace"], "${local.metrics_namespace}");
    assert_eq!(resource["metric_name"], "${each.value.metric}");
    let dimensions = resource["dimensions"].as_object().expect("alarm dimensions");
    assert_eq!(dimensions.keys().collect::<Vec<_>>(), [catalog::CLOUDWATCH_DIMENSION]);
    for actions in ["alarm_actions", "ok_actions"] {
        assert!(resource[actions].to_string().contains("aws_sns_topic."), "{actions} notify the SNS topic");
    }
    assert!(str_of(resource, "alarm_description").contains("docs/runbook.md#"), "alarms link their runbook");
}

#[test]
fn metrics_may_be_put_only_into_sparta_namespace() {
    let iam = read("terraform/iam.tf");
    let put = iam.find("cloudwatch:PutMetricData").expect("the task may put metrics");
    let statement = &iam[put.saturating_sub(600)..(put + 600).min(iam.len())];
    assert!(
        statement.contains("cloudwatch:namespace") && statement.contains("local.metrics_namespace"),
        "PutMetricData is conditioned on the namespace:\n{statement}"
    );
    let wildcard = Regex::new(r#""[a-z0-9-]+:\*""#).unwrap();
    assert!(!wildcard.is_match(&iam), "no IAM action wildcards: {:?}", wildcard.find(&iam));
}

/// What `terraform validate` would catch without providers: references to undeclared variables,
/// locals, resources or data sources, and variables without a type or description.
#[test]
fn every_reference_resolves_and_every_variable_is_described() {
    let tf = terraform();
    let declared = |kind: &str| -> BTreeSet<String> {
        tf[kind].as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default()
    };
    let variables = declared("variable");
    let locals = declared("locals");
    let mut resources = BTreeSet::new();
    for (kind, prefix) in [("resource", ""), ("data", "data.")] {
        for (t, named) in tf[kind].as_object().into_iter().flatten() {
            for name in named.as_object().unwrap().keys() {
                resources.insert(format!("{prefix}{t}.{name}"));
            }
        }
    }
    for (name, variable) in tf["variable"].as_object().unwrap() {
        assert!(
            variable["description"].as_str().is_some_and(|d| d.len() > 10),
            "variable {name} needs a description"
        );
        assert!(variable["type"].is_string(), "variable {name} needs a type");
    }

    let reference =
        Regex::new(r"\b(var|local)\.([a-z0-9_]+)|\b((?:data\.)?aws_[a-z0-9_]+)\.([a-z0-9_]+)").unwrap();
    let mut problems = Vec::new();
    for file in tf_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        for line in text.lines().filter(|l| !l.trim_start().starts_with('#')) {
            for c in reference.captures_iter(line) {
                let (missing, what) = match (c.get(1), c.get(3)) {
                    (Some(kind), _) if kind.as_str() == "var" => {
                        (!variables.contains(&c[2]), format!("var.{}", &c[2]))
                    }
                    (Some(_), _) => (!locals.contains(&c[2]), format!("local.{}", &c[2])),
                    (None, Some(_)) => {
                        let name = format!("{}.{}", &c[3], &c[4]);
                        (!resources.contains(&name), name)
                    }
                    _ => unreachable!(),
                };
                if missing {
                    problems.push(format!("{}: {what} is not declared", file.display()));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    let outputs = declared("output");
    for wanted in ["interactions_url", "table_names", "sns_topic_arn"] {
        assert!(outputs.contains(wanted), "no output {wanted}: {outputs:?}");
    }
}

/// The ECS task's config is `sparta.toml.tftpl` rendered by terraform; every placeholder it uses is
/// passed by the `templatefile` call, and nothing else.
#[test]
fn the_config_template_gets_exactly_its_placeholders() {
    let template = read("terraform/sparta.toml.tftpl");
    let placeholder = Regex::new(r"\$\{([a-z_]+)\}").unwrap();
    let used: BTreeSet<&str> =
        placeholder.captures_iter(&template).map(|c| c.get(1).unwrap().as_str()).collect();
    let all = tf_text();
    let call = all.find("sparta.toml.tftpl").expect("the template is rendered");
    let open = call + all[call..].find('{').expect("templatefile's variables");
    let close = open + all[open..].find('}').unwrap();
    let key = Regex::new(r"(?m)^\s*([a-z_]+)\s*=").unwrap();
    let passed: BTreeSet<&str> =
        key.captures_iter(&all[open + 1..close]).map(|c| c.get(1).unwrap().as_str()).collect();
    assert_eq!(used, passed, "placeholders used vs variables passed to templatefile");
    assert!(!template.contains("%{"), "plain placeholders only");
}

/// Renders the template as terraform would, with `values` for its placeholders.
pub fn render_config_template(values: &BTreeMap<&str, String>) -> String {
    let template = read("terraform/sparta.toml.tftpl");
    let placeholder = Regex::new(r"\$\{([a-z_]+)\}").unwrap();
    placeholder
        .replace_all(&template, |c: &regex::Captures| {
            values.get(&c[1]).unwrap_or_else(|| panic!("no value for ${{{}}}", &c[1])).clone()
        })
        .into_owned()
}

/// Shapes of real secrets: Discord bot tokens, AWS keys, PEM keys, 32-byte hex keys, provider URLs
/// with keys in the path.
fn secret_patterns() -> Vec<(&'static str, Regex)> {
    [
        ("a Discord bot token", r"[MNO][A-Za-z\d_-]{23,27}\.[A-Za-z\d_-]{6}\.[A-Za-z\d_-]{27,}"),
        ("an AWS access key", r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
        ("a PEM private key", r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
        ("a 32-byte hex key", r"\b(0x)?[0-9a-fA-F]{64}\b"),
        ("an RPC URL with a key", r"https://[a-z0-9.-]+/v[0-9]+/[A-Za-z0-9_-]{16,}"),
        ("a secret value in terraform", r"secret_string\s*="),
    ]
    .into_iter()
    .map(|(what, re)| (what, Regex::new(re).unwrap()))
    .collect()
}

#[test]
fn no_secret_value_is_in_any_deployment_file() {
    let mut files = tf_files();
    for extra in
        ["terraform/terraform.tfvars.example", "terraform/sparta.toml.tftpl", "Dockerfile", ".dockerignore"]
    {
        files.push(root().join(extra));
    }
    for doc in std::fs::read_dir(root().join("docs")).unwrap() {
        files.push(doc.unwrap().path());
    }
    files.push(root().join("README.md"));
    let patterns = secret_patterns();
    let mut found = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for (what, pattern) in &patterns {
            if let Some(m) = pattern.find(&text) {
                found.push(format!("{}: {what}: {:?}", file.display(), m.as_str()));
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));

    // The patterns do catch what they are for.
    let samples = [
        "MTA5ODc2NTQzMjEwOTg3NjU0.GhIjKl.abcdefghijklmnopqrstuvwxyz0123",
        "AKIAABCDEFGHIJKLMNOP",
        "-----BEGIN OPENSSH PRIVATE KEY-----",
        "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
        "https://eth-mainnet.g.alchemy.com/v2/abcdefghijklmnopqrstu",
        "secret_string = \"x\"",
    ];
    for ((what, pattern), sample) in patterns.iter().zip(samples) {
        assert!(pattern.is_match(sample), "the {what} pattern misses {sample}");
    }

    let tf = terraform();
    assert!(
        tf["resource"]["aws_secretsmanager_secret_version"].is_null(),
        "secret values are put by the operator"
    );
    let secrets = tf["resource"]["aws_secretsmanager_secret"].as_object().expect("secrets are declared");
    assert_eq!(secrets.len(), 4, "token, public key, API key, L1 URL: {:?}", secrets.keys());
    let example = read("terraform/terraform.tfvars.example");
    let assignment = Regex::new(r"(?m)^\s*([a-z_]+)\s*=").unwrap();
    for c in assignment.captures_iter(&example) {
        let name = &c[1];
        assert!(tf["variable"][name].is_object(), "the example sets {name}, which is not a variable");
        assert!(!["token", "secret", "password", "api_key"].iter().any(|s| name.contains(s)), "{name}");
    }
}

#[test]
fn the_ecs_task_gets_every_secret_from_secrets_manager_under_the_names_sparta_reads() {
    let all = tf_text();
    for env in ["SPARTA_DISCORD_TOKEN", "SPARTA_DISCORD_PUBLIC_KEY", "SPARTA_API_KEY", "SPARTA_L1_URL"] {
        let at = all.find(&format!("\"{env}\"")).unwrap_or_else(|| panic!("{env} is not injected"));
        let near = &all[at..(at + 200).min(all.len())];
        assert!(near.contains("valueFrom") && near.contains("aws_secretsmanager_secret."), "{env}: {near}");
    }
    assert!(all.contains("\"SPARTA_CONFIG_TOML\""), "the config reaches the task");
    assert!(
        Regex::new(r"readonlyRootFilesystem\s*=\s*true").unwrap().is_match(&all),
        "a read-only root filesystem"
    );
    assert!(all.contains("\"probe\""), "the container health check uses `sparta probe`");
    assert!(all.contains("\"/readyz\""), "the load balancer routes only to a ready task");
}

#[test]
fn the_image_is_multi_stage_non_root_and_carries_only_the_binary() {
    let dockerfile = read("Dockerfile");
    let instructions: Vec<String> = dockerfile
        .replace("\\\n", " ")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    let stages: Vec<usize> =
        instructions.iter().enumerate().filter(|(_, l)| l.starts_with("FROM ")).map(|(i, _)| i).collect();
    assert!(stages.len() >= 2, "a build stage and a runtime stage");
    let runtime = &instructions[*stages.last().unwrap()..];
    for line in runtime.iter().filter(|l| l.starts_with("COPY") || l.starts_with("ADD")) {
        assert!(line.contains("--from="), "the runtime stage copies only build outputs: {line}");
    }
    let user = runtime.iter().rev().find(|l| l.starts_with("USER ")).expect("a USER in the runtime stage");
    let uid = user["USER ".len()..].split(':').next().unwrap();
    assert!(uid.parse::<u32>().is_ok_and(|u| u != 0), "a numeric non-root user: {user}");
    let secretish =
        Regex::new(r"(?i)^(ENV|ARG)\s+\S*(TOKEN|SECRET|PASSWORD|API_KEY|PRIVATE|L1_URL)").unwrap();
    for line in &instructions {
        assert!(!secretish.is_match(line), "no secret goes through the build: {line}");
    }
    assert!(runtime.iter().any(|l| l.starts_with("HEALTHCHECK") && l.contains("probe")));
    assert!(runtime.iter().any(|l| l.starts_with("ENTRYPOINT") && l.contains("sparta")));

    let ignored: BTreeSet<String> = read(".dockerignore")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    for must in [".git", "target", ".tools", "**/*.tfvars", "**/*.tfstate*", ".env*", "sparta.toml"] {
        assert!(ignored.contains(must), ".dockerignore keeps {must} out of the build context");
    }
}

#[test]
fn terraform_fmt_finds_nothing_to_change() {
    let Some(tools) = installed("iac-tools") else { return };
    let output = Command::new(&tools["terraform"])
        .args(["fmt", "-check", "-recursive", "-diff", "terraform"])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "terraform fmt would change:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn checkov_reports_no_failed_check_and_every_skip_has_a_reason() {
    let Some(tools) = installed("iac-tools") else { return };
    let output = Command::new(&tools["checkov"])
        .args([
            "-d",
            "terraform",
            "--framework",
            "terraform",
            "--skip-download",
            "--compact",
            "--output",
            "json",
        ])
        .current_dir(root())
        .env("BC_SKIP_MAPPING", "TRUE")
        .env("CHECKOV_RUN_SCA_PACKAGE_SCAN_V2", "false")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!("checkov printed no JSON ({e}):\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr))
    });
    let summary = &report["summary"];
    let failed: Vec<String> = report["results"]["failed_checks"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| format!("{} {} ({})", c["check_id"], c["resource"], c["file_path"]))
        .collect();
    assert!(failed.is_empty(), "checkov failed checks:\n{}", failed.join("\n"));
    assert!(summary["passed"].as_u64().unwrap_or(0) > 50, "checkov checked too little: {summary}");
    assert!(output.status.success(), "checkov exit {:?}: {summary}", output.status.code());

    // Every inline skip carries its reason next to it.
    let skip = Regex::new(r"checkov:skip=([A-Z0-9_]+)(:?)(.*)").unwrap();
    for file in tf_files() {
        for c in skip.captures_iter(&std::fs::read_to_string(&file).unwrap()) {
            assert!(c[3].trim().len() > 15, "{}: {} is skipped without a reason", file.display(), &c[1]);
        }
    }
}

#[test]
fn the_cloudwatch_dashboard_shows_only_published_metrics_of_its_deployment() {
    let template = read("dashboards/cloudwatch/sparta.json.tftpl");
    let placeholder = Regex::new(r"\$\{([a-z_]+)\}").unwrap();
    let used: BTreeSet<&str> =
        placeholder.captures_iter(&template).map(|c| c.get(1).unwrap().as_str()).collect();
    assert_eq!(
        used,
        BTreeSet::from(["deployment", "namespace", "region"]),
        "terraform/dashboard.tf passes exactly these"
    );
    let rendered = template
        .replace("${deployment}", "testnet")
        .replace("${region}", "us-east-1")
        .replace("${namespace}", catalog::CLOUDWATCH_NAMESPACE);
    let body: Value = serde_json::from_str(&rendered).expect("the dashboard body is JSON");
    let mut shown = 0;
    for widget in body["widgets"].as_array().unwrap().iter().filter(|w| w["type"] == "metric") {
        for metric in widget["properties"]["metrics"].as_array().unwrap() {
            let parts: Vec<&str> = metric.as_array().unwrap().iter().filter_map(Value::as_str).collect();
            assert_eq!(parts[0], catalog::CLOUDWATCH_NAMESPACE, "{metric}");
            assert!(
                catalog::CLOUDWATCH_METRICS.contains(&parts[1]),
                "{} is not published to CloudWatch",
                parts[1]
            );
            assert_eq!(&parts[2..4], [catalog::CLOUDWATCH_DIMENSION, "testnet"], "{metric}");
            shown += 1;
        }
    }
    assert!(shown >= 10, "{shown} metrics shown");
    let tf = terraform();
    let dashboard = &tf["resource"]["aws_cloudwatch_dashboard"]["sparta"];
    assert!(
        str_of(dashboard, "dashboard_body").contains("dashboards/cloudwatch/sparta.json.tftpl"),
        "{dashboard}"
    );
}
