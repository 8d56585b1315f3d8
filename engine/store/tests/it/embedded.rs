//! The embedded backend: the shared conformance suite plus what only a file can get wrong.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sparta_core::{Address, Slot};
use sparta_store::conformance::{self, sample_facts, sample_identity, sample_stats};
use sparta_store::{Durability, EmbeddedStore, Link, SCHEMA_VERSION, Store, StoreError};
use tempfile::TempDir;

fn store_path(dir: &TempDir) -> PathBuf {
    dir.path().join("sparta.redb")
}

#[track_caller]
fn assert_corrupt(result: Result<EmbeddedStore, StoreError>, path: &Path) {
    match result {
        Err(e @ StoreError::Corrupt { .. }) => {
            assert!(e.to_string().contains(&path.display().to_string()), "names the file: {e}")
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[tokio::test]
async fn embedded_store_passes_the_conformance_suite() {
    let mut dirs = Vec::new();
    conformance::run_all(|| {
        let dir = tempfile::tempdir().unwrap();
        let store = EmbeddedStore::open(&store_path(&dir)).unwrap();
        dirs.push(dir);
        async move { Box::new(store) as Box<dyn Store> }
    })
    .await;
    assert_eq!(dirs.len(), conformance::CHECKS, "every check ran on its own store");
}

#[tokio::test]
async fn a_store_durable_once_a_second_passes_the_conformance_suite_and_keeps_its_last_commits() {
    let once_a_second = Durability::AtMostEvery(Duration::from_secs(1));
    let mut dirs = Vec::new();
    conformance::run_all(|| {
        let dir = tempfile::tempdir().unwrap();
        let store = EmbeddedStore::open_with(&store_path(&dir), once_a_second).unwrap();
        dirs.push(dir);
        async move { Box::new(store) as Box<dyn Store> }
    })
    .await;

    // Commits between durable ones reach the file on `sync` and when the last handle is dropped.
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    let store = EmbeddedStore::open_with(&path, once_a_second).unwrap();
    store.commit_slots(&sample_facts(0..8, 4)).await.unwrap();
    store.sync().await.unwrap();
    store.commit_slots(&sample_facts(8..9, 4)).await.unwrap();
    drop(store);
    let reopened = EmbeddedStore::open(&path).unwrap();
    assert_eq!(reopened.checkpoint().await.unwrap(), Some(Slot(8)));
}

#[tokio::test]
async fn reopening_after_drop_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    let facts = sample_facts(0..70, 48);
    {
        let store = EmbeddedStore::open(&path).unwrap();
        store.check_identity(&sample_identity()).await.unwrap();
        store.commit_slots(&facts).await.unwrap();
        store.put_stats(&[sample_stats(1, 70)]).await.unwrap();
        store.link(&Link { operator: "op".into(), validator: sample_stats(1, 0).address }).await.unwrap();
    }
    let store = EmbeddedStore::open(&path).unwrap();
    store.check_identity(&sample_identity()).await.expect("identity survived");
    assert_eq!(store.checkpoint().await.unwrap(), Some(Slot(69)));
    let history = store.slot_history(Slot(0)).await.unwrap();
    assert_eq!(history, facts);
    assert!(
        std::sync::Arc::ptr_eq(&history[40].committee, &history[41].committee),
        "slots of one epoch share one committee allocation when read back"
    );
    assert_eq!(store.all_stats().await.unwrap(), vec![sample_stats(1, 70)]);
    assert_eq!(store.links().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_store_of_a_newer_build_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    drop(EmbeddedStore::open(&path).unwrap());
    EmbeddedStore::force_schema_version(&path, SCHEMA_VERSION + 5).unwrap();
    for result in [EmbeddedStore::open(&path).map(|_| 0), EmbeddedStore::migrate(&path)] {
        match result {
            Err(e @ StoreError::SchemaTooNew { found, expected }) => {
                assert_eq!((found, expected), (SCHEMA_VERSION + 5, SCHEMA_VERSION));
                assert!(e.to_string().contains("newer sparta"), "{e}");
            }
            other => panic!("expected SchemaTooNew, got {other:?}"),
        }
    }
}

/// A version-1 store: what the first release wrote (no outbox, no audit tables).
async fn version_one_store(path: &Path) {
    let store = EmbeddedStore::open(path).unwrap();
    store.check_identity(&sample_identity()).await.unwrap();
    store.commit_slots(&sample_facts(0..40, 8)).await.unwrap();
    store.put_stats(&[sample_stats(3, 40)]).await.unwrap();
    drop(store);
    let db = redb::Database::open(path).unwrap();
    let txn = db.begin_write().unwrap();
    for table in ["outbox", "outbox_due", "outbox_settled", "audit"] {
        assert!(
            txn.delete_table(redb::TableDefinition::<&str, &[u8]>::new(table)).unwrap(),
            "{table} existed"
        );
    }
    assert!(txn.delete_table(redb::TableDefinition::<&str, &[u8]>::new("alert_settings")).unwrap());
    assert!(txn.delete_table(redb::TableDefinition::<(&str, &[u8; 20]), &[u8]>::new("challenges")).unwrap());
    txn.commit().unwrap();
    drop(db);
    EmbeddedStore::force_schema_version(path, 1).unwrap();
}

#[tokio::test]
async fn sparta_migrate_upgrades_a_version_one_store_and_keeps_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    version_one_store(&path).await;
    match EmbeddedStore::open(&path) {
        Err(e @ StoreError::SchemaMismatch { found: 1, expected }) => {
            assert_eq!(expected, SCHEMA_VERSION);
            assert!(e.to_string().contains("sparta migrate"), "{e}");
        }
        other => panic!("expected SchemaMismatch, got {other:?}"),
    }
    assert_eq!(EmbeddedStore::migrate(&path).unwrap(), 1, "reports the version it found");
    assert_eq!(EmbeddedStore::migrate(&path).unwrap(), SCHEMA_VERSION, "a second run changes nothing");
    let store = EmbeddedStore::open(&path).expect("a migrated store opens");
    store.check_identity(&sample_identity()).await.expect("identity kept");
    assert_eq!(store.checkpoint().await.unwrap(), Some(Slot(39)));
    assert_eq!(store.slot_history(Slot(0)).await.unwrap(), sample_facts(0..40, 8));
    assert_eq!(store.stats(&Address::repeat_byte(3)).await.unwrap(), Some(sample_stats(3, 40)));
    conformance::decisions_apply_whole_and_enqueue_once(&store).await;
}

#[test]
fn a_redb_file_that_is_not_a_sparta_store_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    drop(redb::Database::create(&path).unwrap());
    assert_corrupt(EmbeddedStore::open(&path), &path);
}

#[test]
fn garbage_and_empty_files_are_corrupt_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    let garbage: Vec<u8> = (0..20_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    std::fs::write(&path, &garbage).unwrap();
    assert_corrupt(EmbeddedStore::open(&path), &path);
    assert_eq!(std::fs::read(&path).unwrap(), garbage, "a corrupt file is never re-created");

    std::fs::write(&path, b"").unwrap();
    assert_corrupt(EmbeddedStore::open(&path), &path);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 0, "an empty file is not silently initialised");
}

/// A real store with data, closed cleanly; returns its bytes.
async fn written_store(path: &Path) -> Vec<u8> {
    let store = EmbeddedStore::open(path).unwrap();
    store.commit_slots(&sample_facts(0..200, 48)).await.unwrap();
    store.put_stats(&[sample_stats(3, 200)]).await.unwrap();
    drop(store);
    std::fs::read(path).unwrap()
}

#[tokio::test]
async fn a_truncated_store_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    let bytes = written_store(&path).await;
    for keep in [bytes.len() / 2, 600, 64] {
        std::fs::write(&path, &bytes[..keep]).unwrap();
        assert_corrupt(EmbeddedStore::open(&path), &path);
    }
}

#[tokio::test]
async fn a_store_with_damaged_pages_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    let mut bytes = written_store(&path).await;
    // Leave the header intact, scramble the data pages behind it.
    for b in bytes.iter_mut().skip(4096).step_by(7) {
        *b ^= 0x5a;
    }
    std::fs::write(&path, &bytes).unwrap();
    assert_corrupt(EmbeddedStore::open(&path), &path);
}

#[test]
fn a_store_open_elsewhere_is_locked() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    let _held = EmbeddedStore::open(&path).unwrap();
    match EmbeddedStore::open(&path) {
        Err(e @ StoreError::Locked { .. }) => assert!(e.to_string().contains("another process"), "{e}"),
        other => panic!("expected Locked, got {other:?}"),
    }
}

#[tokio::test]
async fn a_full_window_of_history_stays_small() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    let store = EmbeddedStore::open(&path).unwrap();
    // 800 slots with 48-member committees, committed one epoch at a time as the engine does.
    for epoch in 0..25u64 {
        store.commit_slots(&sample_facts(epoch * 32..(epoch + 1) * 32, 48)).await.unwrap();
    }
    drop(store);
    let size = std::fs::metadata(&path).unwrap().len();
    eprintln!("800 slots x 48-member committees: store file is {size} bytes");
    assert!(size < 1_000_000, "history should stay compact, file is {size} bytes");
    let reopened = EmbeddedStore::open(&path).unwrap();
    assert_eq!(reopened.slot_history(Slot(0)).await.unwrap().len(), 800);
}
