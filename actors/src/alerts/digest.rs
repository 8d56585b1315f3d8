//! The moderators' digest: once an epoch, one post listing every alert told since the last one.

use ractor::ActorProcessingErr;
use sparta_bot::DiscordAction;
use sparta_core::alerting::{Incident, Phase};
use sparta_core::policy::AlertKind;
use sparta_store::{Decision, OutboxEntry};

use super::{AlertState, NetworkPulse, Subject};

/// The store cursor holding the last processed slot the moderators' digest covered.
pub const DIGEST_CURSOR: &str = "alert-digest";

/// At most this many lines in one digest; the rest are counted.
const DIGEST_LINES: usize = 25;

/// Once the data moves into a new epoch while following live, one post to the moderators with every
/// alert told since the last digest. Catching up folds epochs into the next live digest rather than
/// posting one per epoch.
pub(super) async fn digest(state: &mut AlertState, pulse: &NetworkPulse) -> Result<(), ActorProcessingErr> {
    let Some(processed) = pulse.processed_through else { return Ok(()) };
    let timing = state.ctx.clock.timing();
    let Some(since) = state.digested_through else {
        // A new store: start counting from here, not from history.
        state.ctx.store.put_cursor(DIGEST_CURSOR, processed.0).await?;
        state.digested_through = Some(processed);
        return Ok(());
    };
    let live = pulse.current_slot.0.saturating_sub(processed.0) <= timing.epoch_duration_slots;
    if timing.epoch_of(processed) <= timing.epoch_of(since) || !live {
        return Ok(());
    }
    let mut told: Vec<(&(Subject, AlertKind), &Incident)> = state
        .incidents
        .iter()
        .filter(|(_, i)| i.notified.is_some_and(|n| n > since && n <= processed))
        .collect();
    told.sort_by_key(|((subject, kind), i)| {
        (std::cmp::Reverse(i.severity), i.notified, *subject, kind.as_str())
    });
    if !told.is_empty() {
        let firing = state.incidents.values().filter(|i| i.phase == Phase::Firing).count();
        let mut text = format!(
            "alert digest, slots {}..={} (epoch {}): {} told, {firing} firing now",
            since.0 + 1,
            processed,
            timing.epoch_of(processed),
            told.len()
        );
        for ((subject, kind), incident) in told.iter().take(DIGEST_LINES) {
            let operator = match subject {
                Subject::Validator(v) => {
                    state.user_of.get(v).map_or("unlinked".to_owned(), |u| format!("operator {u}"))
                }
                Subject::Network => "moderators".to_owned(),
            };
            let state_word = match incident.phase {
                Phase::Firing => incident.severity.as_str(),
                _ => "resolved",
            };
            text.push_str(&format!(
                "\n- [{state_word}] {} {} ({operator}): {}",
                kind.as_str(),
                subject.key(),
                incident.evidence
            ));
        }
        if told.len() > DIGEST_LINES {
            text.push_str(&format!("\n… and {} more", told.len() - DIGEST_LINES));
        }
        let channel = state.ctx.config.alerts_channel.clone();
        let action = DiscordAction::ChannelPost { channel: channel.clone(), content: text };
        // Keyed by where it starts: a digest decided again after a crash is the same entry.
        let decision = Decision {
            outbox: vec![OutboxEntry {
                key: format!("{}:digest-after:{since}:{channel}", action.kind()),
                payload: serde_json::to_string(&action)?,
                created_slot: processed,
            }],
            ..Decision::default()
        };
        state.ctx.store.commit_decision(&decision).await?;
        state.ctx.outbox_changed();
    }
    state.ctx.store.put_cursor(DIGEST_CURSOR, processed.0).await?;
    state.digested_through = Some(processed);
    Ok(())
}
