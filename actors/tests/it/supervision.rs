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
    h.assert_engine_equals_node(&engine).await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_network_is_retried_and_caught_up_without_a_gap() {
    let mut h = Harness::new().await;
    let engine = h.start_engine().await;
    h.advance_to(16);
    h.wait_for_checkpoint(14).await;

    let addrs = h.stop_devnet().await;
    h.advance_to(30);
    // The watcher fails, backs off and retries; nothing crashes and nothing is skipped.
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    let status = engine.status().await.unwrap();
    assert!(status.restarts.is_empty(), "no actor should crash on a dead network: {:?}", status.restarts);
    assert!(status.checkpoint.unwrap().0 < 28, "nothing can be processed while the network is down");

    h.restart_devnet(addrs).await;
    h.wait_for_checkpoint(28).await;
    let slots: Vec<u64> =
        h.store.slot_history(sparta_core::Slot(0)).await.unwrap().iter().map(|f| f.slot.0).collect();
    assert_eq!(slots, (0..=slots[slots.len() - 1]).collect::<Vec<_>>(), "processed slots have a gap");
    h.assert_engine_equals_node(&engine).await;
    engine.stop().await;
}
