//! A crashed actor is restarted by the supervisor and no slot is lost.

use sparta_actors::ChildKind;

use crate::harness::Harness;

async fn crash_and_recover(kind: ChildKind) {
    let mut h = Harness::new().await;
    let engine = h.start_engine().await;
    h.advance_to(20);
    h.wait_for_checkpoint(18).await;

    assert!(engine.inject_panic(kind), "{kind} is running");
    let restarts = h
        .eventually("the restart", || async {
            let status = engine.status().await.ok()?;
            status.restarts.get(&kind.to_string()).copied().filter(|n| *n >= 1)
        })
        .await;
    assert_eq!(restarts, 1);

    h.advance_to(44);
    h.wait_for_checkpoint(42).await;
    // Every validator's stats still equal the node's: nothing was dropped or applied twice.
    let node = h.node().validators_stats().await.unwrap();
    for stats in node.stats.values() {
        let expected = stats.to_core();
        let actual = engine.validator(expected.address).await.unwrap().expect("tracked").stats;
        assert_eq!(actual, expected, "after a {kind} crash, {:#x} differs", expected.address);
    }
    assert!(engine.is_running());
    engine.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_tracker_is_restored_without_losing_events() {
    crash_and_recover(ChildKind::Tracker(0)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_watcher_is_restored_without_losing_events() {
    crash_and_recover(ChildKind::Watcher).await;
}
