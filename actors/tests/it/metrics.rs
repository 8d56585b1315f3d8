//! The bounded metric families from a running engine: every linked operator and the K worst validators
//! are exported with the engine's own numbers, and go away with the engine.

use sparta_core::Address;
use sparta_core::scoreboard::ScoreboardConfig;
use sparta_devnet::Profile;
use sparta_telemetry::catalog;

use crate::harness::Harness;

fn scripted(h: &Harness, wanted: fn(&Profile) -> bool) -> (Address, String) {
    let scripted = h.devnet().network.scripted();
    let i = scripted.iter().position(|(_, p)| wanted(p)).expect("a scripted validator of that kind");
    (scripted[i].0, format!("operator-{:03}", i + 1))
}

/// The value of the one series of `name` whose labels include every one of `labels`.
fn value(text: &str, name: &str, labels: &[String]) -> Option<f64> {
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")))
        .find(|l| labels.iter().all(|label| l.contains(label.as_str())))
        .and_then(|l| l.rsplit_once(' ')?.1.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_and_the_worst_validators_are_exported_and_removed_with_the_engine() {
    let telemetry = sparta_telemetry::install().unwrap();
    let mut h = Harness::new().await;
    let mut config = h.engine_config();
    config.scoreboard = ScoreboardConfig { worst_k: 3, min_sample: 1, max_operators: 1_000 };
    let engine = h.start_engine_with(config).await;
    h.advance_to(42);
    h.wait_for_checkpoint(40).await;

    let (offline, offline_operator) = scripted(&h, |p| matches!(p, Profile::GoesOffline { .. }));
    let (slashed, slashed_operator) = scripted(&h, |p| matches!(p, Profile::Slashed { .. }));
    let stats = engine.validator(offline).await.unwrap().expect("tracked").stats;
    let rate = stats.missed_attestations.rate.expect("the offline validator had duties");
    let operator = |o: &str| format!("operator=\"{o}\"");
    let text = h
        .eventually("the families with the offline validator and the slash", || async {
            let text = telemetry.render();
            let named = text.contains(&format!("validator=\"{offline:#x}\""));
            let slash = value(&text, catalog::OPERATOR_SLASHED_VALIDATORS, &[operator(&slashed_operator)]);
            (named && slash == Some(1.0)).then_some(text)
        })
        .await;

    // The worst validators: at most K, the offline one among them with its operator and its own rate.
    let worst = |name| text.lines().filter(|l| l.starts_with(&format!("{name}{{"))).count();
    assert!(worst(catalog::VALIDATORS_WORST_ATTESTATION_MISS_RATIO) <= 3, "{text}");
    let labels = [format!("validator=\"{offline:#x}\""), operator(&offline_operator)];
    assert_eq!(value(&text, catalog::VALIDATORS_WORST_ATTESTATION_MISS_RATIO, &labels), Some(rate));
    assert_eq!(
        value(&text, catalog::VALIDATORS_WORST_ATTESTATION_MISSES, &labels),
        Some(f64::from(stats.missed_attestations.count))
    );
    // Per operator: one series each, with the totals of its linked validators.
    let linked = h.store.links().await.unwrap();
    let operators: std::collections::BTreeSet<&str> = linked.iter().map(|l| l.operator.as_str()).collect();
    assert_eq!(worst(catalog::OPERATOR_VALIDATORS), operators.len());
    let of_offline = linked.iter().filter(|l| l.operator == offline_operator).count() as f64;
    assert_eq!(value(&text, catalog::OPERATOR_VALIDATORS, &[operator(&offline_operator)]), Some(of_offline));
    assert_eq!(of_offline, 1.0, "a scripted validator's operator has only it");
    assert_eq!(
        value(&text, catalog::OPERATOR_ATTESTATION_MISS_RATIO, &[operator(&offline_operator)]),
        Some(rate)
    );
    assert_ne!(slashed, offline);

    // A stopped engine names nobody: the families are gone, not frozen.
    engine.stop().await;
    let after = telemetry.render();
    for family in catalog::SNAPSHOT_FAMILIES {
        assert!(!after.contains(&format!("{family}{{")), "{family} outlived the engine:\n{after}");
    }
}
