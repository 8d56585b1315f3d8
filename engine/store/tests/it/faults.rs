//! DynamoDB throttling, server errors and unprocessed batch items, injected by a proxy in front of a
//! real moto server: transient ones are retried until the data lands, persistent ones end in a bounded,
//! clear error, and no failure leaves a checkpoint ahead of its rows. Results are read back from moto
//! directly, never through the proxy.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::retry::{RetryConfig, RetryPartition};
use aws_sdk_dynamodb::types::AttributeValue;
use sparta_core::{Address, Slot, ValidatorStats};
use sparta_store::conformance::{sample_facts, sample_stats};
use sparta_store::dynamo::Backoff;
use sparta_store::local::{LocalMoto, local_config};
use sparta_store::{AlertRecord, DynamoStore, Link, RoleState, Store};

use crate::dynamo::unique_prefix;
use crate::proxy::{Fault, FaultProxy};

/// Calls per request the SDK makes, the first one included.
const SDK_ATTEMPTS: u32 = 4;
/// The store's own resending of unprocessed items, kept fast.
const BATCH: Backoff =
    Backoff { max_attempts: 6, base: Duration::from_millis(2), cap: Duration::from_millis(10) };

/// Every client gets its own retry quota, so one test's failures cannot use up another's retries.
static NEXT_PARTITION: AtomicU64 = AtomicU64::new(0);

/// A store whose requests cross the proxy, and the same tables seen by a client that talks to moto.
struct Rig {
    proxy: FaultProxy,
    store: DynamoStore,
    direct: DynamoStore,
}

async fn rig() -> Option<Rig> {
    let moto = LocalMoto::shared()?;
    let prefix = unique_prefix();
    let direct = DynamoStore::new(moto.client(), &prefix);
    direct.create_tables().await.expect("tables are created");
    let proxy = FaultProxy::start(moto.endpoint()).await;
    let store = DynamoStore::new(proxied_client(&proxy), &prefix).with_backoff(BATCH);
    Some(Rig { proxy, store, direct })
}

fn proxied_client(proxy: &FaultProxy) -> Client {
    let retry = RetryConfig::standard()
        .with_max_attempts(SDK_ATTEMPTS)
        .with_initial_backoff(Duration::from_millis(5))
        .with_max_backoff(Duration::from_millis(20));
    let partition = format!("faults-{}", NEXT_PARTITION.fetch_add(1, Ordering::Relaxed));
    let config =
        local_config(proxy.endpoint()).retry_config(retry).retry_partition(RetryPartition::new(partition));
    Client::from_conf(config.build())
}

fn alert(subject: &str) -> AlertRecord {
    let incident = sparta_core::alerting::Incident {
        phase: sparta_core::alerting::Phase::Firing,
        since: Slot(7),
        severity: sparta_core::policy::Severity::Warning,
        score: 0.625,
        notified: Some(Slot(7)),
        evidence: "missed 5 of 8".into(),
        evidence_slot: Slot(7),
        until: None,
    };
    AlertRecord::new(subject, "attestation-misses", &incident)
}

fn role(subject: &str) -> RoleState {
    RoleState { subject: subject.into(), role: "performant".into(), held: true, since_slot: Slot(9) }
}

fn stats(count: u8) -> Vec<ValidatorStats> {
    (1..=count).map(|b| sample_stats(b, u32::from(b))).collect()
}

/// Whether moto holds the raw row of `slot`, whatever the checkpoint says.
async fn slot_row_exists(direct: &DynamoStore, slot: u64) -> bool {
    let got = direct
        .client()
        .get_item()
        .table_name(&direct.tables().slots)
        .key("pk", AttributeValue::S("slots".into()))
        .key("sk", AttributeValue::N(slot.to_string()))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    got.item.is_some()
}

/// Injects `times` faults, runs `call`, and checks that exactly those faults were served before the
/// call went through (otherwise the test would prove nothing about retries).
macro_rules! survives {
    ($rig:expr, $op:literal, $table:expr, $fault:expr, $times:expr, $call:expr) => {{
        let before = $rig.proxy.faulted($op);
        $rig.proxy.inject($op, Some($table), $fault, $times);
        let out = $call.await.unwrap_or_else(|e| panic!("{} with {} x{:?}: {e}", $op, $times, $fault));
        assert_eq!($rig.proxy.faulted($op), before + $times, "every injected {} fault was served", $op);
        out
    }};
}

#[tokio::test]
async fn transient_faults_on_single_calls_are_retried_until_the_write_lands() {
    let Some(r) = rig().await else { return };
    let tables = r.store.tables().clone();
    let last = (SDK_ATTEMPTS - 1) as usize;

    let facts = sample_facts(0..5, 4);
    survives!(r, "TransactWriteItems", &tables.slots, Fault::Throttling, 2, r.store.commit_slots(&facts));
    assert_eq!(r.direct.checkpoint().await.unwrap(), Some(Slot(4)));
    assert_eq!(r.direct.slot_history(Slot(0)).await.unwrap(), facts);

    let read = survives!(r, "GetItem", &tables.meta, Fault::Unavailable, last, r.store.checkpoint());
    assert_eq!(read, Some(Slot(4)), "a read retried through 503s");

    let a = alert("validator:0x01");
    survives!(r, "PutItem", &tables.alerts, Fault::ThroughputExceeded, last, r.store.put_alert(&a));
    assert_eq!(r.direct.alerts().await.unwrap(), vec![a]);

    let held = role("operator-1");
    survives!(r, "PutItem", &tables.roles, Fault::Internal, 2, r.store.put_role_state(&held));
    assert_eq!(r.direct.role_states().await.unwrap(), vec![held]);

    survives!(r, "PutItem", &tables.meta, Fault::Throttling, 1, r.store.put_cursor("l1-events", 42));
    assert_eq!(r.direct.cursor("l1-events").await.unwrap(), Some(42));

    let link = Link { operator: "operator-1".into(), validator: Address::repeat_byte(3) };
    survives!(r, "PutItem", &tables.validators, Fault::Unavailable, 2, r.store.link(&link));
    assert_eq!(r.direct.links().await.unwrap(), vec![link]);
}

#[tokio::test]
async fn transient_faults_on_batch_writes_are_retried_until_every_item_lands() {
    let Some(r) = rig().await else { return };
    let tables = r.store.tables().clone();

    let written = stats(60);
    survives!(r, "BatchWriteItem", &tables.validators, Fault::Internal, 3, r.store.put_stats(&written));
    assert_eq!(r.direct.all_stats().await.unwrap(), written);

    // Past one transaction: rows through BatchWriteItem, then the checkpoint through PutItem.
    let facts = sample_facts(0..250, 8);
    r.proxy.inject("BatchWriteItem", Some(&tables.slots), Fault::Throttling, 2);
    survives!(r, "PutItem", &tables.meta, Fault::Unavailable, 2, r.store.commit_slots(&facts));
    assert_eq!(r.proxy.faulted("BatchWriteItem"), 3 + 2);
    assert_eq!(r.direct.checkpoint().await.unwrap(), Some(Slot(249)));
    assert_eq!(r.direct.slot_history(Slot(0)).await.unwrap(), facts);
}

#[tokio::test]
async fn persistent_throttling_is_a_clear_error_after_bounded_retries() {
    let Some(r) = rig().await else { return };
    let tables = r.store.tables().clone();

    r.proxy.always("PutItem", Some(&tables.alerts), Fault::Throttling);
    let err = r.store.put_alert(&alert("validator:0x02")).await.unwrap_err().to_string();
    for part in ["PutItem", tables.alerts.as_str(), "ThrottlingException", "after retrying"] {
        assert!(err.contains(part), "the error should mention {part:?}: {err}");
    }
    assert_eq!(r.proxy.seen("PutItem"), SDK_ATTEMPTS as usize, "retries are bounded");
    assert!(r.direct.alerts().await.unwrap().is_empty());

    r.proxy.always("BatchWriteItem", Some(&tables.validators), Fault::ThroughputExceeded);
    let err = r.store.put_stats(&stats(3)).await.unwrap_err().to_string();
    for part in
        ["BatchWriteItem", tables.validators.as_str(), "ProvisionedThroughputExceeded", "after retrying"]
    {
        assert!(err.contains(part), "the error should mention {part:?}: {err}");
    }
    assert_eq!(r.proxy.seen("BatchWriteItem"), SDK_ATTEMPTS as usize);
    assert!(r.direct.all_stats().await.unwrap().is_empty());

    // Nothing is left broken: once the throttling ends, the same writes succeed.
    r.proxy.heal();
    r.store.put_alert(&alert("validator:0x02")).await.unwrap();
    r.store.put_stats(&stats(3)).await.unwrap();
    assert_eq!(r.direct.alerts().await.unwrap().len(), 1);
    assert_eq!(r.direct.all_stats().await.unwrap(), stats(3));
}

#[tokio::test]
async fn persistent_server_errors_never_leave_the_checkpoint_ahead_of_its_rows() {
    let Some(r) = rig().await else { return };
    let tables = r.store.tables().clone();
    let first = sample_facts(0..5, 4);
    r.store.commit_slots(&first).await.unwrap();

    // A small commit is one transaction: when it fails, neither rows nor checkpoint exist.
    r.proxy.always("TransactWriteItems", Some(&tables.slots), Fault::Internal);
    let err = r.store.commit_slots(&sample_facts(5..8, 4)).await.unwrap_err().to_string();
    for part in ["TransactWriteItems", tables.slots.as_str(), "InternalServerError", "after retrying"] {
        assert!(err.contains(part), "the error should mention {part:?}: {err}");
    }
    assert_eq!(r.direct.checkpoint().await.unwrap(), Some(Slot(4)));
    assert!(!slot_row_exists(&r.direct, 5).await);

    // A large commit whose rows land but whose checkpoint cannot move: the rows stay invisible.
    r.proxy.heal();
    r.proxy.always("PutItem", Some(&tables.meta), Fault::Unavailable);
    let err = r.store.commit_slots(&sample_facts(5..200, 4)).await.unwrap_err().to_string();
    for part in ["PutItem", tables.meta.as_str(), "ServiceUnavailable", "after retrying"] {
        assert!(err.contains(part), "the error should mention {part:?}: {err}");
    }
    assert!(slot_row_exists(&r.direct, 199).await, "the rows were written before the checkpoint");
    assert_eq!(r.direct.checkpoint().await.unwrap(), Some(Slot(4)));
    assert_eq!(
        r.direct.slot_history(Slot(0)).await.unwrap(),
        first,
        "rows past the checkpoint are not history"
    );

    // A large commit whose rows cannot be written never reaches the checkpoint.
    r.proxy.heal();
    r.proxy.always("BatchWriteItem", Some(&tables.slots), Fault::Unavailable);
    let err = r.store.commit_slots(&sample_facts(5..200, 4)).await.unwrap_err().to_string();
    assert!(err.contains("BatchWriteItem") && err.contains(&tables.slots), "{err}");
    let checkpoint_moves = r.proxy.seen("PutItem");
    assert_eq!(r.direct.checkpoint().await.unwrap(), Some(Slot(4)));

    // Healed, the same commit lands whole.
    r.proxy.heal();
    r.store.commit_slots(&sample_facts(5..200, 4)).await.unwrap();
    assert_eq!(r.proxy.seen("PutItem"), checkpoint_moves + 1, "the failed commit never tried the checkpoint");
    assert_eq!(r.direct.checkpoint().await.unwrap(), Some(Slot(199)));
    assert_eq!(r.direct.slot_history(Slot(0)).await.unwrap(), sample_facts(0..200, 4));
}

#[tokio::test]
async fn unprocessed_items_returned_over_several_rounds_all_land() {
    let Some(r) = rig().await else { return };
    let tables = r.store.tables().clone();

    // The first chunk of 25 gets 10 back, then the 10 are refused whole twice more before landing.
    let written = stats(60);
    r.proxy.inject("BatchWriteItem", Some(&tables.validators), Fault::HoldBack(10), 3);
    r.store.put_stats(&written).await.unwrap();
    assert_eq!(r.proxy.seen("BatchWriteItem"), 3 + 3, "three chunks, the first one resent three times");
    assert_eq!(r.direct.all_stats().await.unwrap(), written);

    // Rows of a large commit handed back over several rounds: all land before the checkpoint moves.
    let facts = sample_facts(0..250, 8);
    let before = r.proxy.seen("BatchWriteItem");
    r.proxy.inject("BatchWriteItem", Some(&tables.slots), Fault::HoldBack(7), 4);
    r.store.commit_slots(&facts).await.unwrap();
    assert!(r.proxy.seen("BatchWriteItem") - before > facts.len().div_ceil(25), "items were resent");
    assert_eq!(r.direct.checkpoint().await.unwrap(), Some(Slot(249)));
    assert_eq!(r.direct.slot_history(Slot(0)).await.unwrap(), facts);
}

#[tokio::test]
async fn items_never_processed_give_a_bounded_error() {
    let Some(r) = rig().await else { return };
    let tables = r.store.tables().clone();
    r.store.commit_slots(&sample_facts(0..5, 4)).await.unwrap();

    r.proxy.always("BatchWriteItem", None, Fault::HoldBack(25));
    let started = Instant::now();
    let err = r.store.put_stats(&stats(60)).await.unwrap_err().to_string();
    assert!(started.elapsed() < Duration::from_secs(10), "gave up in {:?}", started.elapsed());
    for part in ["25 items unprocessed", tables.validators.as_str(), "after 6 attempts"] {
        assert!(err.contains(part), "the error should mention {part:?}: {err}");
    }
    assert_eq!(r.proxy.seen("BatchWriteItem"), BATCH.max_attempts as usize, "the first chunk, then stop");
    assert!(r.direct.all_stats().await.unwrap().is_empty());

    let before = r.proxy.seen("BatchWriteItem");
    let err = r.store.commit_slots(&sample_facts(5..200, 4)).await.unwrap_err().to_string();
    assert!(err.contains("unprocessed") && err.contains(&tables.slots), "{err}");
    assert_eq!(r.proxy.seen("BatchWriteItem") - before, BATCH.max_attempts as usize);
    assert_eq!(r.direct.checkpoint().await.unwrap(), Some(Slot(4)), "the checkpoint did not move");
    assert_eq!(r.direct.slot_history(Slot(0)).await.unwrap(), sample_facts(0..5, 4));
}
