//! `sparta repair --from-slot N`: forgets the stored facts of slot N and every later one and moves the
//! checkpoint back before them, so the next start reads them again from the chain. It heals a store
//! that an older sparta filled from a lying or broken source (slots committed ahead of the clock, or
//! with an empty committee). Stats, roles and alerts follow on the next start, which recomputes them
//! from the history it reads.

use anyhow::bail;
use sparta_core::Slot;

use crate::cli::RepairArgs;
use crate::store::chosen_store;

pub async fn main(args: RepairArgs) -> anyhow::Result<()> {
    let (store_config, ha) = chosen_store(args.config, args.store)?;
    let store = store_config.open().await?;
    let place = store_config.describe();
    // A running engine would commit over the repair: only a stopped deployment is repaired.
    if let Some(ha) = ha.filter(|ha| ha.enabled)
        && let Some(lease) = store.lease(&ha.lease).await?
        && lease.expires_ms > crate::ha::now_ms()
    {
        bail!("{} holds lease {} in {place}: stop every instance first", lease.holder, lease.name);
    }
    let from = Slot(args.from_slot);
    let Some(checkpoint) = store.checkpoint().await? else {
        println!("{place}: no slot stored yet; nothing to repair");
        return Ok(());
    };
    if from > checkpoint {
        println!("{place}: nothing stored from slot {from} on (the checkpoint is slot {checkpoint})");
        return Ok(());
    }
    let removed = store.rewind(from).await?;
    let now = store.checkpoint().await?.map_or("none".to_owned(), |s| format!("slot {s}"));
    println!(
        "{place}: forgot {removed} stored slot(s) from {from} through {checkpoint}; the checkpoint is now {now}. \
         The next start reads them again from the chain."
    );
    Ok(())
}
