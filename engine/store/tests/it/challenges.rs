//! `/register` spam: one user asking for challenges over and over, each for another validator, must
//! not grow the store, embedded or DynamoDB.

use aws_sdk_dynamodb::types::AttributeValue;
use sparta_core::Address;
use sparta_store::{Challenge, DynamoStore, EmbeddedStore, MAX_CHALLENGES_PER_USER, Store};

use crate::dynamo::{moto_client, unique_prefix};

/// What one `/register` stores: a 15-minute challenge, a second after the previous one.
fn register(i: u64) -> Challenge {
    let mut validator = [0u8; 20];
    validator[12..].copy_from_slice(&i.to_be_bytes());
    let issued_ms = 1_750_000_000_000 + i * 1_000;
    Challenge {
        user: "1301234567890123456".into(),
        validator: Address::from(validator),
        nonce: format!("{i:032x}"),
        issued_ms,
        expires_ms: issued_ms + 15 * 60 * 1_000,
    }
}

#[tokio::test]
async fn three_thousand_registers_from_one_user_keep_the_store_file_small() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sparta.redb");
    let store = EmbeddedStore::open(&path).unwrap();
    let empty = std::fs::metadata(&path).unwrap().len();
    for i in 0..3_000 {
        store.put_challenge(&register(i)).await.unwrap();
    }
    let last = register(2_999);
    assert_eq!(store.take_challenge(&last.user, &last.validator).await.unwrap(), Some(last), "still served");
    drop(store);
    let size = std::fs::metadata(&path).unwrap().len();
    eprintln!("3,000 /register challenges from one user: store file {empty} -> {size} bytes");
    // Unbounded, the 3,000 rows took about 1.2 MB.
    assert!(size <= empty + 64 * 1024, "the file grew from {empty} to {size} bytes");
}

#[tokio::test]
async fn dynamo_keeps_a_few_challenges_per_user_and_expires_them_by_ttl() {
    let Some(client) = moto_client() else { return };
    let store = DynamoStore::new(client.clone(), &unique_prefix());
    store.create_tables().await.unwrap();
    let table = &store.tables().challenges;
    for i in 0..30 {
        store.put_challenge(&register(i)).await.unwrap();
    }

    let rows = client
        .query()
        .table_name(table)
        .key_condition_expression("#user = :user")
        .expression_attribute_names("#user", "user")
        .expression_attribute_values(":user", AttributeValue::S(register(0).user))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default();
    assert_eq!(rows.len(), MAX_CHALLENGES_PER_USER, "stored rows, not just what take returns");
    let newest = register(29);
    let expires_at = rows.iter().find_map(|row| match (row.get("validator"), row.get("expires_at")) {
        (Some(AttributeValue::S(v)), Some(AttributeValue::N(at)))
            if *v == format!("{:#x}", newest.validator) =>
        {
            Some(at.parse::<u64>().unwrap())
        }
        _ => None,
    });
    assert_eq!(expires_at, Some(newest.expires_ms.div_ceil(1_000)), "the row carries its TTL");

    let ttl = client.describe_time_to_live().table_name(table).send().await.unwrap();
    let ttl = ttl.time_to_live_description().expect("TTL is described");
    assert_eq!(ttl.attribute_name(), Some("expires_at"), "DynamoDB sweeps the rows no put dropped");
}
