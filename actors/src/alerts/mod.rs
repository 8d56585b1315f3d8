//! The alert publisher. Every alert is a lifecycle per (subject, kind), pending → firing → resolved
//! ([`sparta_core::alerting`]), stored together with the messages it sends (the outbox), so a restart
//! neither repeats an alert nor forgets to resolve it.
//!
//! Routing:
//! - a validator's alert is a DM to its operator, unless they muted or snoozed alerts;
//! - critical facts (a slash, an inactivity offence) also go to the moderators' channel at once;
//! - the network's alerts (a network-wide outage, stale chain data) go to the moderators' channel;
//! - once an epoch, one digest to the moderators' channel lists what was told since the last one,
//!   validators nobody linked included.
//!
//! Suppression: misses the network shared are excused from every validator's record; while an outage
//! is on or the data is stale, miss alerts wait silently (pending) instead of being told.

mod digest;
mod judge;
mod tell;

use std::collections::HashMap;
use std::sync::Arc;

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use sparta_core::alerting::{Breach, Incident, Observation, Phase};
use sparta_core::freshness::Freshness;
use sparta_core::monitor::SlotSummary;
use sparta_core::outage::NetworkHealth;
use sparta_core::policy::AlertKind;
use sparta_core::{Address, AttesterStatus, Epoch, SlashVotes, SlashedEvent, Slot};
use sparta_store::{AlertRecord, AlertSettings, Link};
use tracing::warn;

pub use digest::DIGEST_CURSOR;
use judge::{evaluate, network, slash_vote_observation};
use tell::observe;

use crate::context::EngineContext;
use crate::names::ChildKind;
use crate::roles::{subject_validator, validator_subject};
use crate::tracker::StatsUpdate;

pub enum AlertMsg {
    Stats(Arc<StatsUpdate>),
    /// From the chain watcher after every poll.
    Network(Arc<NetworkPulse>),
    Slashed {
        event: SlashedEvent,
        reply: RpcReplyPort<()>,
    },
    StatusChanged {
        attester: Address,
        to: AttesterStatus,
        slot: Slot,
        reply: RpcReplyPort<()>,
    },
    /// A tally slashing round's votes, or its execution.
    SlashVotes {
        votes: SlashVotes,
        reply: RpcReplyPort<()>,
    },
    /// Whether the escape hatch is open in an epoch just read.
    EscapeHatch {
        epoch: Epoch,
        open: bool,
        slot: Slot,
        reply: RpcReplyPort<()>,
    },
    /// Alerts firing now.
    Firing(RpcReplyPort<Vec<AlertRecord>>),
    /// A validator was linked (the link is stored): its alerts go to the operator from now on.
    Linked(Link),
    /// An operator changed their alert preferences (already stored).
    Settings(AlertSettings),
}

/// How far the chain data goes, and what the network did in the slots committed since the last pulse.
#[derive(Clone, Debug)]
pub struct NetworkPulse {
    pub slots: Vec<SlotSummary>,
    pub processed_through: Option<Slot>,
    /// The chain's clock.
    pub current_slot: Slot,
}

pub struct AlertPublisher;

pub struct AlertState {
    ctx: Arc<EngineContext>,
    incidents: HashMap<(Subject, AlertKind), Incident>,
    user_of: HashMap<Address, String>,
    /// Operators' preferences (mute, snooze, own threshold); absent means the engine's defaults.
    settings: HashMap<String, AlertSettings>,
    health: NetworkHealth,
    /// Pending breaches that are the subject's own, with the latest numbers and their slot: they fire
    /// once they have waited long enough, even if no new stats come (a validator off the committee gets
    /// none).
    awaiting: HashMap<(Subject, AlertKind), Breach>,
    /// The last processed slot of the previous pulse: every stats update up to it has been judged.
    judged_through: Option<Slot>,
    freshness: Freshness,
    stale: bool,
    /// The last processed slot the digest covered (`None` until the first pulse on a new store).
    digested_through: Option<Slot>,
}

const NETWORK_SUBJECT: &str = "network";

/// What an alert is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Subject {
    Validator(Address),
    Network,
}

impl Subject {
    /// The stored form: `validator:0x…` or `network`.
    fn key(self) -> String {
        match self {
            Subject::Validator(v) => validator_subject(&v),
            Subject::Network => NETWORK_SUBJECT.to_owned(),
        }
    }

    fn parse(key: &str) -> Option<Subject> {
        match subject_validator(key) {
            Some(address) => address.ok().map(Subject::Validator),
            None => (key == NETWORK_SUBJECT).then_some(Subject::Network),
        }
    }

    fn describe(self) -> String {
        match self {
            Subject::Validator(v) => format!("validator {v:#x}"),
            Subject::Network => "the network".to_owned(),
        }
    }
}

impl Actor for AlertPublisher {
    type Msg = AlertMsg;
    type State = AlertState;
    type Arguments = Arc<EngineContext>;

    async fn pre_start(
        &self,
        _myself: ActorRef<AlertMsg>,
        ctx: Arc<EngineContext>,
    ) -> Result<AlertState, ActorProcessingErr> {
        ctx.mailboxes.reset(ChildKind::Alerts);
        let mut incidents = HashMap::new();
        for record in ctx.store.alerts().await? {
            let kind = AlertKind::ALL.into_iter().find(|k| k.as_str() == record.kind);
            match (Subject::parse(&record.subject), kind) {
                (Some(subject), Some(kind)) => {
                    incidents.insert((subject, kind), record.incident());
                }
                _ => warn!(
                    subject = record.subject,
                    kind = record.kind,
                    "ignoring a stored alert this version does not know"
                ),
            }
        }
        let user_of = ctx.store.links().await?.into_iter().map(|l| (l.validator, l.operator)).collect();
        let settings =
            ctx.store.all_alert_settings().await?.into_iter().map(|s| (s.operator.clone(), s)).collect();
        let digested_through = ctx.store.cursor(DIGEST_CURSOR).await?.map(Slot);
        let health = NetworkHealth::new(ctx.config.outage.clone());
        let state = AlertState {
            ctx,
            incidents,
            user_of,
            settings,
            health,
            awaiting: HashMap::new(),
            judged_through: None,
            freshness: Freshness::default(),
            stale: false,
            digested_through,
        };
        // Re-evaluated from the trackers' current stats (stored ones may be an epoch old): resolves
        // what healed while we were down, fires what broke.
        crate::tracker::ask_for_all_stats(&state.ctx);
        Ok(state)
    }

    async fn handle(
        &self,
        _myself: ActorRef<AlertMsg>,
        msg: AlertMsg,
        state: &mut AlertState,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            AlertMsg::Stats(update) => {
                state.ctx.mailboxes.taken(ChildKind::Alerts);
                evaluate(state, &update).await?;
                update.record_latency("alerts");
            }
            AlertMsg::Network(pulse) => {
                state.ctx.mailboxes.taken(ChildKind::Alerts);
                network(state, &pulse).await?;
            }
            AlertMsg::Slashed { event, reply } => {
                let evidence = format!(
                    "Slashed({:#x}, {}) at L1 block {} (slot {})",
                    event.attester, event.amount, event.l1_block, event.slot
                );
                let breach = Breach::new(AlertKind::Slashed.default_severity(), 1.0, evidence);
                let subject = Subject::Validator(event.attester);
                observe(state, subject, AlertKind::Slashed, &Observation::Breach(breach), event.slot).await?;
                let _ = reply.send(());
            }
            AlertMsg::StatusChanged { attester, to, slot, reply } => {
                let observation = match to {
                    AttesterStatus::Validating => Observation::Healthy,
                    other => Observation::Breach(Breach::new(
                        AlertKind::StatusChanged.default_severity(),
                        1.0,
                        format!("attester status is now {} (slot {slot})", other.as_str()),
                    )),
                };
                observe(state, Subject::Validator(attester), AlertKind::StatusChanged, &observation, slot)
                    .await?;
                let _ = reply.send(());
            }
            AlertMsg::SlashVotes { votes, reply } => {
                for target in &votes.targets {
                    let observation = slash_vote_observation(&state.ctx, &votes, target);
                    let subject = Subject::Validator(target.validator);
                    observe(state, subject, AlertKind::SlashVote, &observation, votes.slot).await?;
                }
                let _ = reply.send(());
            }
            AlertMsg::EscapeHatch { epoch, open, slot, reply } => {
                let observation = match open {
                    false => Observation::Healthy,
                    true => Observation::Breach(Breach::new(
                        AlertKind::EscapeHatch.default_severity(),
                        1.0,
                        format!(
                            "the escape hatch is open in epoch {epoch}: proposals bypass the committee, so no \
                             miss counts against anyone until it closes"
                        ),
                    )),
                };
                observe(state, Subject::Network, AlertKind::EscapeHatch, &observation, slot).await?;
                let _ = reply.send(());
            }
            AlertMsg::Firing(reply) => {
                let firing = state
                    .incidents
                    .iter()
                    .filter(|(_, i)| i.phase == Phase::Firing)
                    .map(|((subject, kind), i)| AlertRecord::new(subject.key(), kind.as_str(), i))
                    .collect();
                let _ = reply.send(firing);
            }
            AlertMsg::Linked(link) => {
                state.user_of.insert(link.validator, link.operator);
            }
            AlertMsg::Settings(settings) => {
                state.settings.insert(settings.operator.clone(), settings);
            }
        }
        Ok(())
    }
}
