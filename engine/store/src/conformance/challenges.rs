//! Challenges cannot pile up: a user's new challenge drops their expired ones and keeps at most
//! [`MAX_CHALLENGES_PER_USER`], and never touches another user's.

use sparta_core::Address;

use crate::{Challenge, MAX_CHALLENGES_PER_USER, Store};

const USER: &str = "1301234567890123456";
const OTHER_USER: &str = "7";
/// A challenge's life, as `/register` gives it by default.
const TTL_MS: u64 = 15 * 60 * 1_000;

/// `user`'s challenge for validator `n`, issued at `issued_ms`.
fn challenge(user: &str, n: u8, issued_ms: u64) -> Challenge {
    Challenge {
        user: user.into(),
        validator: Address::repeat_byte(n),
        nonce: format!("{user}-{n}"),
        issued_ms,
        expires_ms: issued_ms + TTL_MS,
    }
}

/// Takes each challenge of `user` for validators `1..=count`; those still stored, in order.
async fn take_all(store: &dyn Store, user: &str, count: u8) -> Vec<Challenge> {
    let mut taken = Vec::new();
    for n in 1..=count {
        taken.extend(store.take_challenge(user, &Address::repeat_byte(n)).await.unwrap());
    }
    taken
}

pub async fn a_user_keeps_at_most_a_few_challenges(store: &dyn Store) {
    let count = 3 * MAX_CHALLENGES_PER_USER as u8;
    let puts: Vec<_> = (1..=count).map(|n| challenge(USER, n, 1_000 + u64::from(n))).collect();
    for put in &puts {
        store.put_challenge(put).await.unwrap();
    }
    let kept = take_all(store, USER, count).await;
    assert_eq!(kept, puts[puts.len() - MAX_CHALLENGES_PER_USER..], "the newest ones, the oldest went first");
}

pub async fn an_expired_challenge_cannot_be_taken_and_is_gone(store: &dyn Store) {
    let stale = challenge(USER, 1, 1_000);
    store.put_challenge(&stale).await.unwrap();
    let fresh = challenge(USER, 2, stale.expires_ms + 1);
    store.put_challenge(&fresh).await.unwrap();
    assert_eq!(store.take_challenge(USER, &stale.validator).await.unwrap(), None, "dropped when it expired");
    // Gone, not hidden: storing it again with a later expiry gives back only the new one.
    let renewed = Challenge { nonce: "renewed".into(), ..challenge(USER, 1, fresh.issued_ms) };
    store.put_challenge(&renewed).await.unwrap();
    assert_eq!(take_all(store, USER, 2).await, vec![renewed, fresh]);
}

pub async fn another_users_challenges_are_untouched(store: &dyn Store) {
    // Both long expired by the time of the user's puts: only their own user's next put may drop them.
    let theirs = vec![challenge(OTHER_USER, 1, 10), challenge(OTHER_USER, 2, 20)];
    for put in &theirs {
        store.put_challenge(put).await.unwrap();
    }
    let count = 2 * MAX_CHALLENGES_PER_USER as u8;
    for n in 1..=count {
        store.put_challenge(&challenge(USER, n, 5_000_000 + u64::from(n))).await.unwrap();
    }
    assert_eq!(take_all(store, OTHER_USER, 2).await, theirs);
    assert_eq!(take_all(store, USER, count).await.len(), MAX_CHALLENGES_PER_USER);
}
