//! How many `/register` challenges a user keeps. Each `/register` stores one, and only `/verify` took
//! them away, so repeating `/register` grew the store without end. Now a new challenge pushes out the
//! user's expired ones and, beyond [`MAX_CHALLENGES_PER_USER`], the oldest live ones. Both backends
//! apply this one rule.

use sparta_core::Address;

use crate::model::Challenge;

/// Open challenges one user may hold at once: one per validator being linked, and nobody links more
/// than a few at a time.
pub const MAX_CHALLENGES_PER_USER: usize = 5;

/// The validators whose challenges, of `stored` (all the user's), go when `new` is stored: the ones
/// expired at `new.issued_ms` (the caller's clock; the store has none of its own), then the oldest live
/// ones until `new` makes the maximum. `new`'s own validator is never listed: the put replaces it.
pub(crate) fn displaced_by(new: &Challenge, stored: &[Challenge]) -> Vec<Address> {
    let (expired, mut live): (Vec<&Challenge>, Vec<&Challenge>) =
        stored.iter().filter(|c| c.validator != new.validator).partition(|c| c.is_expired_at(new.issued_ms));
    live.sort_by_key(|c| (c.issued_ms, c.validator));
    let excess = (live.len() + 1).saturating_sub(MAX_CHALLENGES_PER_USER);
    expired.iter().chain(&live[..excess]).map(|c| c.validator).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn challenge(validator: u8, issued_ms: u64, expires_ms: u64) -> Challenge {
        Challenge {
            user: "42".into(),
            validator: Address::repeat_byte(validator),
            nonce: format!("n{validator}"),
            issued_ms,
            expires_ms,
        }
    }

    #[test]
    fn expired_challenges_go_and_live_ones_stay_below_the_maximum() {
        let new = challenge(9, 1_000, 2_000);
        assert_eq!(displaced_by(&new, &[]), Vec::<Address>::new());
        let stored = [challenge(1, 10, 999), challenge(2, 20, 1_000), challenge(3, 30, 5_000)];
        assert_eq!(displaced_by(&new, &stored), vec![Address::repeat_byte(1)], "expired at 1 000 ms only");
    }

    #[test]
    fn the_oldest_live_challenges_make_room() {
        let new = challenge(9, 1_000, 2_000);
        let stored: Vec<_> =
            [4u8, 2, 6, 1, 3, 5].iter().map(|&v| challenge(v, u64::from(v), 5_000)).collect();
        let displaced = displaced_by(&new, &stored);
        assert_eq!(
            displaced,
            [1u8, 2].map(Address::repeat_byte),
            "oldest first, leaving four plus the new one"
        );
    }

    #[test]
    fn a_challenge_for_the_same_validator_is_replaced_not_displaced() {
        let stored: Vec<_> = (1..=5).map(|v| challenge(v, u64::from(v), 5_000)).collect();
        assert_eq!(displaced_by(&challenge(3, 1_000, 2_000), &stored), Vec::<Address>::new(), "still five");
        let expired_twin = [challenge(3, 1, 2)];
        assert_eq!(displaced_by(&challenge(3, 1_000, 2_000), &expired_twin), Vec::<Address>::new());
    }
}
