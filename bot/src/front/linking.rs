//! `/register` and `/verify`: an operator proves control of a validator's key by signing a one-time
//! challenge (EIP-191), and only then is the validator linked to them. No moderator is trusted.

use std::time::Duration;

use alloy_primitives::{Address, FixedBytes};

use crate::interactions::handler::Reply;
use crate::linking::{challenge_message, new_nonce, verify_link_signature};

use super::backend::{Backend, BackendError, PendingLink};
use super::format::duration;

pub async fn register(
    backend: &dyn Backend,
    user: &str,
    validator: Address,
    ttl: Duration,
) -> Result<Reply, BackendError> {
    let issued_ms = backend.now_ms();
    let challenge = PendingLink {
        user: user.to_owned(),
        validator,
        nonce: new_nonce(),
        issued_ms,
        expires_ms: issued_ms + ttl.as_millis() as u64,
    };
    backend.put_challenge(&challenge).await?;
    let message = challenge_message(user, &validator, &challenge.nonce, challenge.expires_ms);
    Ok(Reply::ephemeral(format!(
        "To link {validator:#x}, sign this exact message with the validator's attester key \
         (EIP-191 `personal_sign`, e.g. `cast wallet sign --private-key … \"<message>\"`) within {}:\n\
         ```\n{message}\n```\nthen run `/verify address:{validator:#x} signature:0x…`. \
         A new `/register` replaces this challenge.",
        duration(ttl.as_secs())
    )))
}

pub async fn verify(
    backend: &dyn Backend,
    user: &str,
    validator: Address,
    signature: &FixedBytes<65>,
) -> Result<Reply, BackendError> {
    // Taken before checking: a challenge is spent by any answer, right or wrong, so a signature
    // cannot be guessed against the same challenge twice.
    let Some(challenge) = backend.take_challenge(user, validator).await? else {
        return Ok(Reply::ephemeral(format!(
            "There is no open challenge for {validator:#x} (it was used already, expired, was replaced by \
             newer ones for other validators, or was never asked for). \
             Start with `/register address:{validator:#x}`."
        )));
    };
    if backend.now_ms() > challenge.expires_ms {
        return Ok(Reply::ephemeral("That challenge has expired. Run `/register` again for a new one."));
    }
    let message = challenge_message(user, &validator, &challenge.nonce, challenge.expires_ms);
    if let Err(error) = verify_link_signature(&message, signature, &validator) {
        return Ok(Reply::ephemeral(format!(
            "The signature does not prove control of {validator:#x}: {error}. The challenge is used up; \
             run `/register` again for a new one."
        )));
    }
    backend.link(user, validator, None).await?;
    Ok(Reply::ephemeral(format!(
        "Linked {validator:#x} to you. `/my-stats` shows it now; roles follow at the next slot."
    )))
}
