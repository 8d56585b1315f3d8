//! The DynamoDB backend against a real local moto server: the shared conformance suite plus what only
//! DynamoDB can get wrong (conditional writes, TTL, large batches, missing tables).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use sparta_core::{Address, Slot};
use sparta_store::conformance::{self, sample_facts, sample_identity, sample_stats};
use sparta_store::local::LocalMoto;
use sparta_store::{Decision, DynamoStore, Link, SCHEMA_VERSION, Settlement, Store, StoreError};

static NEXT_PREFIX: AtomicU64 = AtomicU64::new(0);

/// A client for the shared moto server, or `None` (test skipped) when moto is unavailable outside CI.
pub(crate) fn moto_client() -> Option<Client> {
    LocalMoto::shared().map(LocalMoto::client)
}

/// A table prefix no other test uses, so tests share one server without colliding.
pub(crate) fn unique_prefix() -> String {
    format!("t{}-{}-", std::process::id(), NEXT_PREFIX.fetch_add(1, Ordering::Relaxed))
}

async fn fresh_store(client: &Client) -> DynamoStore {
    let store = DynamoStore::new(client.clone(), &unique_prefix());
    store.create_tables().await.expect("tables are created");
    store
}

#[tokio::test]
async fn dynamo_store_passes_the_conformance_suite() {
    let Some(client) = moto_client() else { return };
    let mut runs = 0;
    conformance::run_all(|| {
        runs += 1;
        let client = client.clone();
        async move { Box::new(fresh_store(&client).await) as Box<dyn Store> }
    })
    .await;
    assert_eq!(runs, conformance::CHECKS, "every check ran on its own tables");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_writers_racing_on_first_start_leave_exactly_one_identity() {
    let Some(client) = moto_client() else { return };
    for _ in 0..5 {
        let first = fresh_store(&client).await;
        let prefix = first.tables().meta.trim_end_matches("meta").to_string();
        let second = DynamoStore::new(client.clone(), &prefix);
        let ours = sample_identity();
        let mut theirs = sample_identity();
        theirs.chain_id = 1;
        let (a, b) = {
            let (ours, theirs) = (ours.clone(), theirs.clone());
            let a = tokio::spawn(async move { first.check_identity(&ours).await });
            let b = tokio::spawn(async move { second.check_identity(&theirs).await });
            (a.await.unwrap(), b.await.unwrap())
        };
        let winner = match (&a, &b) {
            (Ok(()), Err(StoreError::IdentityMismatch { .. })) => ours,
            (Err(StoreError::IdentityMismatch { .. }), Ok(())) => theirs,
            other => panic!("exactly one writer must win, got {other:?}"),
        };
        let again = DynamoStore::new(client.clone(), &prefix);
        again.check_identity(&winner).await.expect("the winner's identity is the stored one");
    }
}

#[tokio::test]
async fn slot_rows_carry_a_ttl_and_the_table_expires_them() {
    let Some(client) = moto_client() else { return };
    let retention = Duration::from_secs(3600);
    let store = fresh_store(&client).await.with_retention(retention);
    store.commit_slots(&sample_facts(0..3, 4)).await.unwrap();

    let raw = client
        .get_item()
        .table_name(&store.tables().slots)
        .key("pk", AttributeValue::S("slots".into()))
        .key("sk", AttributeValue::N("1".into()))
        .send()
        .await
        .unwrap()
        .item
        .expect("slot 1 is stored");
    let expires_at: u64 = match raw.get("expires_at") {
        Some(AttributeValue::N(v)) => v.parse().unwrap(),
        other => panic!("slot rows need a numeric expires_at, got {other:?}"),
    };
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    assert!(
        (now + retention.as_secs() - 60..=now + retention.as_secs() + 60).contains(&expires_at),
        "expires_at {expires_at} should be about now ({now}) + retention"
    );

    let ttl = client.describe_time_to_live().table_name(&store.tables().slots).send().await.unwrap();
    let ttl = ttl.time_to_live_description().expect("TTL is described");
    assert_eq!(ttl.attribute_name(), Some("expires_at"));
}

#[tokio::test]
async fn settled_outbox_items_leave_the_due_index_and_carry_a_ttl() {
    let Some(client) = moto_client() else { return };
    let store = fresh_store(&client).await;
    let decision = Decision { outbox: vec![conformance::entry("dm:ttl")], ..Decision::default() };
    store.commit_decision(&decision).await.unwrap();
    let raw = |client: Client, table: String| async move {
        let key = AttributeValue::S("dm:ttl".into());
        client.get_item().table_name(table).key("key", key).send().await.unwrap().item.expect("stored")
    };
    let pending = raw(client.clone(), store.tables().outbox.clone()).await;
    assert_eq!(pending.get("queue"), Some(&AttributeValue::S("due".into())), "claimable: in the index");
    assert!(!pending.contains_key("expires_at"), "a pending entry never expires");

    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
    let claimed = store.claim_outbox(now_ms, 1_000, 10).await.unwrap();
    store.settle_outbox("dm:ttl", claimed[0].attempts, &Settlement::Delivered, now_ms).await.unwrap();
    let settled = raw(client.clone(), store.tables().outbox.clone()).await;
    assert!(!settled.contains_key("queue") && !settled.contains_key("due"), "settled: out of the index");
    let expires_at: u64 = match settled.get("expires_at") {
        Some(AttributeValue::N(v)) => v.parse().unwrap(),
        other => panic!("a settled entry needs a numeric expires_at, got {other:?}"),
    };
    let thirty_days = 30 * 24 * 3600;
    assert_eq!(expires_at, now_ms / 1_000 + thirty_days, "kept 30 days for deduplication");
    let ttl = client.describe_time_to_live().table_name(&store.tables().outbox).send().await.unwrap();
    assert_eq!(ttl.time_to_live_description().and_then(|t| t.attribute_name()), Some("expires_at"));
}

#[tokio::test]
async fn a_commit_larger_than_one_transaction_lands_whole() {
    let Some(client) = moto_client() else { return };
    let store = fresh_store(&client).await;
    store.commit_slots(&sample_facts(0..10, 48)).await.unwrap();
    // 250 rows plus committees: past the 100-item transaction limit, so rows go first, checkpoint last.
    let facts = sample_facts(10..260, 48);
    store.commit_slots(&facts).await.unwrap();
    assert_eq!(store.checkpoint().await.unwrap(), Some(Slot(259)));
    let history = store.slot_history(Slot(10)).await.unwrap();
    assert_eq!(history, facts, "every row of a large commit reads back");
    assert!(
        std::sync::Arc::ptr_eq(&history[40].committee, &history[41].committee),
        "one committee per epoch"
    );
}

#[tokio::test]
async fn rows_past_the_checkpoint_are_not_history() {
    let Some(client) = moto_client() else { return };
    let store = fresh_store(&client).await;
    store.commit_slots(&sample_facts(0..5, 4)).await.unwrap();
    // What a crash between the rows and the checkpoint of a large commit leaves behind.
    let orphan = fresh_store(&client).await;
    orphan.commit_slots(&sample_facts(5..8, 4)).await.unwrap();
    for sk in 5..8 {
        let row = client
            .get_item()
            .table_name(&orphan.tables().slots)
            .key("pk", AttributeValue::S("slots".into()))
            .key("sk", AttributeValue::N(sk.to_string()))
            .send()
            .await
            .unwrap()
            .item
            .unwrap();
        client.put_item().table_name(&store.tables().slots).set_item(Some(row)).send().await.unwrap();
    }
    assert_eq!(store.checkpoint().await.unwrap(), Some(Slot(4)));
    assert_eq!(store.slot_history(Slot(0)).await.unwrap(), sample_facts(0..5, 4));
    store.commit_slots(&sample_facts(5..8, 4)).await.unwrap();
    assert_eq!(
        store.slot_history(Slot(0)).await.unwrap(),
        sample_facts(0..8, 4),
        "the next commit rewrites them"
    );
}

#[tokio::test]
async fn stats_beyond_one_batch_and_repeated_validators_are_all_kept() {
    let Some(client) = moto_client() else { return };
    let store = fresh_store(&client).await;
    let mut stats: Vec<_> = (1..=60u8).map(|b| sample_stats(b, 1)).collect();
    stats.push(sample_stats(7, 99)); // the same validator twice in one call: the last one wins
    store.put_stats(&stats).await.unwrap();
    let back = store.all_stats().await.unwrap();
    assert_eq!(back.len(), 60);
    assert_eq!(back[6], sample_stats(7, 99));
}

#[tokio::test]
async fn a_missing_table_is_a_clear_error() {
    let Some(client) = moto_client() else { return };
    let store = DynamoStore::new(client, &unique_prefix());
    for err in [store.checkpoint().await.unwrap_err(), store.ensure_schema().await.unwrap_err()] {
        let msg = err.to_string();
        assert!(msg.contains(&store.tables().meta), "names the table: {msg}");
        assert!(msg.contains("create_tables") && msg.contains("terraform"), "says how to create it: {msg}");
    }
    let msg = store.put_stats(&[sample_stats(1, 1)]).await.unwrap_err().to_string();
    assert!(msg.contains(&store.tables().validators), "{msg}");
}

#[tokio::test]
async fn tables_of_a_newer_build_are_refused() {
    let Some(client) = moto_client() else { return };
    let store = fresh_store(&client).await;
    store.ensure_schema().await.expect("the version create_tables wrote matches");
    store.force_schema_version(SCHEMA_VERSION + 5).await.unwrap();
    for result in [store.ensure_schema().await.map(|()| 0), store.migrate().await] {
        match result {
            Err(e @ StoreError::SchemaTooNew { found, expected }) => {
                assert_eq!((found, expected), (SCHEMA_VERSION + 5, SCHEMA_VERSION));
                assert!(e.to_string().contains("newer sparta"), "{e}");
            }
            other => panic!("expected SchemaTooNew, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn sparta_migrate_upgrades_version_one_tables_and_keeps_their_data() {
    let Some(client) = moto_client() else { return };
    let store = fresh_store(&client).await;
    store.check_identity(&sample_identity()).await.unwrap();
    store.commit_slots(&sample_facts(0..40, 8)).await.unwrap();
    store.put_stats(&[sample_stats(3, 40)]).await.unwrap();
    // What the first release had: no outbox, audit or challenges tables, version 1.
    for table in [&store.tables().outbox, &store.tables().audit, &store.tables().challenges] {
        client.delete_table().table_name(table).send().await.unwrap();
    }
    store.force_schema_version(1).await.unwrap();
    match store.ensure_schema().await {
        Err(e @ StoreError::SchemaMismatch { found: 1, expected }) => {
            assert_eq!(expected, SCHEMA_VERSION);
            assert!(e.to_string().contains("sparta migrate"), "{e}");
        }
        other => panic!("expected SchemaMismatch, got {other:?}"),
    }
    assert_eq!(store.migrate().await.unwrap(), 1, "reports the version it found");
    assert_eq!(store.migrate().await.unwrap(), SCHEMA_VERSION, "a second run changes nothing");
    store.ensure_schema().await.expect("migrated tables are current");
    assert_eq!(store.checkpoint().await.unwrap(), Some(Slot(39)));
    assert_eq!(store.slot_history(Slot(0)).await.unwrap(), sample_facts(0..40, 8));
    assert_eq!(store.stats(&Address::repeat_byte(3)).await.unwrap(), Some(sample_stats(3, 40)));
    conformance::decisions_apply_whole_and_enqueue_once(&store).await;
}

#[tokio::test]
async fn the_operator_index_lists_an_operators_validators() {
    let Some(client) = moto_client() else { return };
    let store = fresh_store(&client).await;
    let (v1, v2, v3) = (Address::repeat_byte(1), Address::repeat_byte(2), Address::repeat_byte(3));
    for (operator, validator) in [("alice", v2), ("alice", v1), ("bob", v3), ("bob", v1)] {
        store.link(&Link { operator: operator.into(), validator }).await.unwrap();
    }
    store.put_stats(&[sample_stats(2, 5)]).await.unwrap();
    assert_eq!(store.validators_of("alice").await.unwrap(), vec![v2], "relinked v1 left alice");
    assert_eq!(store.validators_of("bob").await.unwrap(), vec![v1, v3]);
    assert!(store.validators_of("carol").await.unwrap().is_empty());
}
