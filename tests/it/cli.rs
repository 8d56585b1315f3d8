//! What README promises, checked by running the binary.

use std::time::Duration;

use crate::process::{after, sparta};

const MINUTE: Duration = Duration::from_secs(60);

fn get(url: &str) -> String {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async { reqwest::get(url).await.unwrap().text().await.unwrap() })
}

#[test]
fn devnet_processes_slots_grants_a_role_raises_an_alert_and_serves_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let mut run = sparta(
        &[
            "devnet",
            "--for",
            "40s",
            "--slot-seconds",
            "1",
            "--metrics-addr",
            "127.0.0.1:0",
            "--data-dir",
            "data",
        ],
        dir.path(),
    );
    let metrics_url =
        after(&run.wait_for("the metrics URL", MINUTE, |l| l.contains("metrics: http")), "metrics: ")
            .to_owned();
    run.wait_for("processed slots", MINUTE, |l| l.contains("slots processed"));
    run.wait_for("a role grant", MINUTE, |l| l.contains("role+"));
    run.wait_for("an alert", MINUTE, |l| l.contains("attestation-misses"));
    let exposition = get(&metrics_url);
    for name in ["sparta_network_slot", "sparta_engine_last_processed_slot", "sparta_network_committee_size"]
    {
        assert!(exposition.contains(name), "{name} missing from /metrics:\n{exposition}");
    }
    let (status, _) = run.wait_exit(MINUTE);
    assert!(status.success(), "exit {status:?}:\n{}", run.output());
    assert!(run.output().contains("stopping (--for elapsed)"));
}

#[test]
fn ctrl_c_exits_cleanly_and_a_rerun_resumes_from_the_stored_slot() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["devnet", "--slot-seconds", "1", "--metrics-addr", "127.0.0.1:0", "--data-dir", "data"];
    let mut first = sparta(&args, dir.path());
    first.wait_for("processed slots", MINUTE, |l| l.contains("slots processed"));
    first.interrupt();
    let (status, took) = first.wait_exit(Duration::from_secs(10));
    assert!(status.success(), "exit {status:?}:\n{}", first.output());
    // The promise is 2 s; the bound here is loose so a loaded CI machine does not flake.
    assert!(took < Duration::from_secs(10), "took {took:?}");

    let mut second = sparta(&args, dir.path());
    second.wait_for("the resume notice", MINUTE, |l| l.contains("resuming from stored slot"));
    second.wait_for("processed slots", MINUTE, |l| l.contains("slots processed"));
    second.interrupt();
    assert!(second.wait_exit(Duration::from_secs(10)).0.success());
}

#[test]
fn a_different_devnet_in_the_same_data_dir_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut first =
        sparta(&["devnet", "--for", "1s", "--metrics-addr", "127.0.0.1:0", "--data-dir", "d"], dir.path());
    assert!(first.wait_exit(MINUTE).0.success(), "{}", first.output());
    let mut second = sparta(
        &["devnet", "--for", "1s", "--validators", "77", "--metrics-addr", "127.0.0.1:0", "--data-dir", "d"],
        dir.path(),
    );
    let (status, _) = second.wait_exit(MINUTE);
    assert!(!status.success());
    assert!(second.output().contains("--fresh"), "{}", second.output());
}

#[test]
fn check_prints_the_facts_and_names_the_generation_of_each_served_devnet() {
    let dir = tempfile::tempdir().unwrap();
    for (protocol, namespace, tips, checkpoints) in [
        ("v2", "node_", "getL2Tips", false),
        ("v4", "node_", "getL2Tips", true),
        ("v5", "aztec_", "getChainTips", true),
        ("v6", "aztec_", "getChainTips", true),
    ] {
        let mut serve = sparta(
            &[
                "devnet",
                "serve",
                "--protocol",
                protocol,
                "--node-addr",
                "127.0.0.1:0",
                "--l1-addr",
                "127.0.0.1:0",
                "--for",
                "60s",
            ],
            dir.path(),
        );
        let node =
            after(&serve.wait_for("the node URL", MINUTE, |l| l.starts_with("node: ")), "node: ").to_owned();
        let l1 = after(&serve.wait_for("the L1 URL", MINUTE, |l| l.starts_with("l1: ")), "l1: ").to_owned();
        // Let the network reach a few checkpoints, so there is one to read.
        std::thread::sleep(Duration::from_secs(6));
        let mut check = sparta(&["check", "--node-url", &node, "--l1-url", &l1], dir.path());
        let (status, _) = check.wait_exit(MINUTE);
        assert!(status.success(), "{protocol}: {}", check.output());
        // The pretty JSON starts at a line of its own (log lines go to stderr, read here too).
        let output = check.output();
        let json_start = output.find("\n{\n").map(|i| i + 1).or(output.starts_with("{\n").then_some(0));
        let json_text = &output[json_start.expect("JSON on stdout")..];
        let json_end = json_text.find("\n}").expect("the JSON's end") + 2;
        let facts: serde_json::Value = serde_json::from_str(&json_text[..json_end]).expect("valid JSON");
        assert_eq!(facts["chain_id"], 31337, "{facts}");
        assert!(facts["timing"]["slot_duration_s"].as_u64().is_some(), "{facts}");
        assert_eq!(facts["generation"], protocol, "{facts}");
        let capability = |name: &str| {
            facts["capabilities"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["name"] == name)
                .cloned()
                .unwrap_or_default()
        };
        assert_eq!(capability("node namespace")["detail"], namespace, "{protocol}: {facts}");
        assert_eq!(capability("chain tips")["detail"], tips, "{protocol}: {facts}");
        assert_eq!(capability("checkpoints")["found"], checkpoints, "{protocol}: {facts}");
        assert_eq!(capability("slashing proposer")["found"], true, "{protocol}: {facts}");

        if protocol == "v5" {
            // An endpoint that answers, but not as an Aztec node (here: the L1 server), is refused clearly.
            let mut wrong = sparta(&["check", "--node-url", &l1, "--l1-url", &l1], dir.path());
            let (status, _) = wrong.wait_exit(MINUTE);
            assert!(!status.success());
            assert!(wrong.output().contains("node_getNodeInfo"), "{}", wrong.output());
        }
        serve.kill();
    }
}

#[test]
fn an_escape_hatch_is_refused_on_a_network_from_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut run =
        sparta(&["devnet", "serve", "--protocol", "v2", "--escape-hatch", "3", "--for", "1s"], dir.path());
    let (status, _) = run.wait_exit(MINUTE);
    assert!(!status.success());
    assert!(run.output().contains("--escape-hatch needs --protocol v4, v5 or v6"), "{}", run.output());
}

#[test]
fn check_fails_clearly_when_the_node_is_unreachable() {
    let dir = tempfile::tempdir().unwrap();
    // Port 9 (discard) on loopback: nothing listens there in the test environment.
    let mut check =
        sparta(&["check", "--node-url", "http://127.0.0.1:9", "--l1-url", "http://127.0.0.1:9"], dir.path());
    let (status, _) = check.wait_exit(MINUTE);
    assert!(!status.success());
    assert!(check.output().contains("cannot connect"), "{}", check.output());
}

#[test]
fn config_check_lists_every_problem() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.toml"),
        "[chain]\nnode_url = \"ftp://x\"\nl1_url = \"http://y\"\n[engine]\ntrackers = 0\n",
    )
    .unwrap();
    let mut check = sparta(&["config", "check", "--config", "bad.toml"], dir.path());
    let (status, _) = check.wait_exit(MINUTE);
    assert!(!status.success());
    let out = check.output();
    assert!(
        out.contains("2 problem(s)") && out.contains("chain.node_url") && out.contains("engine.trackers"),
        "{out}"
    );
}

#[test]
fn discord_settings_are_checked_and_commands_need_the_bot_token() {
    let dir = tempfile::tempdir().unwrap();
    let chain = "[chain]\nnode_url = \"http://x\"\nl1_url = \"http://y\"\n";
    std::fs::write(
        dir.path().join("bad.toml"),
        format!("{chain}[discord]\nguild_id = \"guild\"\nroles = {{ performant = \"1\" }}\nchallenge_ttl = \"5s\"\n"),
    )
    .unwrap();
    let mut check = sparta(&["config", "check", "--config", "bad.toml"], dir.path());
    assert!(!check.wait_exit(MINUTE).0.success());
    let out = check.output();
    for problem in
        ["discord.guild_id must be a Discord id", "no id for the engine's role \"slashed\"", "challenge_ttl"]
    {
        assert!(out.contains(problem), "{problem:?} in {out}");
    }

    std::fs::write(dir.path().join("good.toml"), chain).unwrap();
    let mut register = sparta(&["discord", "register-commands", "--config", "good.toml"], dir.path());
    assert!(!register.wait_exit(MINUTE).0.success());
    assert!(
        register.output().contains("needs the bot token in SPARTA_DISCORD_TOKEN"),
        "{}",
        register.output()
    );
}
