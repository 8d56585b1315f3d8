use std::io::Write;
use std::sync::{Arc, Mutex};

use sparta_bot::{ConsoleSink, DiscordAction, DiscordSink};

/// A writer the test keeps a handle on, to read back what the sink printed.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn lines(&self) -> Vec<String> {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap().lines().map(str::to_string).collect()
    }
}

fn actions() -> Vec<DiscordAction> {
    vec![
        DiscordAction::AddRole { user: "42".into(), role: "healthy".into(), reason: "missed 0 of 32".into() },
        DiscordAction::RemoveRole {
            user: "42".into(),
            role: "healthy".into(),
            reason: "said \"bye\"".into(),
        },
        DiscordAction::DirectMessage {
            user: "7".into(),
            content: "you missed 5 attestations\nin a row".into(),
        },
        DiscordAction::ChannelPost { channel: "alerts".into(), content: "validator 0xab slashed".into() },
        DiscordAction::AddRole { user: "8".into(), role: "sequencer".into(), reason: "registered".into() },
    ]
}

#[tokio::test]
async fn each_action_prints_one_readable_line_and_is_counted() {
    let captured = Captured::default();
    let sink = ConsoleSink::with_writer(false, Box::new(captured.clone()));
    for (i, action) in actions().iter().enumerate() {
        sink.deliver(&format!("k{i}"), action).await.unwrap();
    }
    assert_eq!(
        captured.lines(),
        vec![
            r#"discord role+ user=42 role=healthy reason="missed 0 of 32" key=k0"#,
            r#"discord role- user=42 role=healthy reason="said \"bye\"" key=k1"#,
            r#"discord dm user=7 content="you missed 5 attestations\nin a row" key=k2"#,
            r#"discord post channel=alerts content="validator 0xab slashed" key=k3"#,
            r#"discord role+ user=8 role=sequencer reason="registered" key=k4"#,
        ]
    );
    let counts = sink.counts();
    assert_eq!(counts.get("add_role"), Some(&2));
    assert_eq!(counts.get("remove_role"), Some(&1));
    assert_eq!(counts.get("direct_message"), Some(&1));
    assert_eq!(counts.get("channel_post"), Some(&1));
}

#[tokio::test]
async fn json_mode_prints_one_decodable_object_per_action() {
    let captured = Captured::default();
    let sink = ConsoleSink::with_writer(true, Box::new(captured.clone()));
    for action in actions() {
        sink.deliver(&action.idempotency_key("slot:9"), &action).await.unwrap();
    }
    let lines = captured.lines();
    assert_eq!(lines.len(), actions().len(), "multi-line content stays on one line");
    for (line, action) in lines.iter().zip(actions()) {
        let mut value: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(value["kind"], action.kind());
        assert_eq!(value["key"], action.idempotency_key("slot:9"));
        value.as_object_mut().unwrap().remove("key");
        let back: DiscordAction = serde_json::from_value(value).unwrap();
        assert_eq!(back, action);
    }
    assert_eq!(sink.counts().values().sum::<u64>(), 5);
}

#[tokio::test]
async fn a_failing_writer_is_a_retryable_error_and_not_counted() {
    struct Broken;
    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::new(std::io::ErrorKind::BrokenPipe, "closed"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let sink = ConsoleSink::with_writer(false, Box::new(Broken));
    let err = sink.deliver("k", &actions()[0]).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(sink.counts().is_empty());
}

#[tokio::test]
async fn deliveries_are_counted_in_the_catalog_metric() {
    assert_eq!(sparta_bot::ACTIONS_METRIC, sparta_telemetry::catalog::DISCORD_ACTIONS_TOTAL);
    let telemetry = sparta_telemetry::install().unwrap();
    let sink = ConsoleSink::with_writer(false, Box::new(Captured::default()));
    let post = DiscordAction::ChannelPost { channel: "ops".into(), content: "hi".into() };
    for _ in 0..3 {
        sink.deliver("k", &post).await.unwrap();
    }
    let scraped = telemetry.render();
    let line = scraped
        .lines()
        .find(|l| l.starts_with(r#"sparta_discord_actions_total{kind="channel_post"}"#))
        .unwrap_or_else(|| panic!("no channel_post series in:\n{scraped}"));
    let value: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(value >= 3.0, "{line}");
}
