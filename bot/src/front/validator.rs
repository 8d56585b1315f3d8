//! `/validator address`: the public view of one validator.

use alloy_primitives::Address;

use crate::interactions::handler::Reply;

use super::backend::{Backend, BackendError};
use super::card::{Audience, card};
use super::format::freshness;

pub async fn answer(backend: &dyn Backend, address: Address) -> Result<Reply, BackendError> {
    Ok(match backend.validator(address).await? {
        Some(view) => {
            let header = format!("{}\n", freshness(view.as_of, backend.now_ms()));
            Reply::public(header + &card(&view, backend.policies(), Audience::Public))
        }
        None => Reply::ephemeral(format!(
            "{address:#x} has not been on a committee in the monitored window. If it was registered \
             recently it may still be queued to enter the validator set."
        )),
    })
}
