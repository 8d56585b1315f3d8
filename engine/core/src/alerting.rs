//! The alert lifecycle, one (subject, kind) at a time: pending → firing → resolved, the way a good
//! pager behaves. A breach must hold for `pending_slots` before anyone is told (a blip is never
//! sent); a firing alert is told again only when it got worse, and not more often than the cooldown;
//! a resolution is told once, and only for an alert that was told. Pure: the caller persists the
//! [`Incident`] it returns together with the messages, so a restart neither repeats nor forgets.

use serde::{Deserialize, Serialize};

use crate::policy::Severity;
use crate::time::Slot;

/// Where one alert stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Healthy (or never breached).
    #[default]
    Resolved,
    /// Breaching, not yet long enough to tell anyone.
    Pending,
    /// Breaching and told.
    Firing,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Resolved => "resolved",
            Self::Pending => "pending",
            Self::Firing => "firing",
        }
    }
}

/// The persisted state of one alert.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    pub phase: Phase,
    /// When the current phase's breach began (pending and firing), or when it resolved.
    pub since: Slot,
    /// The severity and badness last told (the baseline for "worse").
    pub severity: Severity,
    pub score: f64,
    /// The last slot a message went out for this alert.
    pub notified: Option<Slot>,
    /// The numbers behind the latest observation, and the slot they are as of.
    pub evidence: String,
    pub evidence_slot: Slot,
    /// The breach holds at most until this slot (a slashing round's end): then it resolves by itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Slot>,
}

/// A breach as a policy sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct Breach {
    pub severity: Severity,
    /// How bad, higher is worse (a miss rate for miss alerts); compared for "repeat if worse".
    pub score: f64,
    pub evidence: String,
    /// The slot from which the breach no longer holds, when it is known in advance.
    pub until: Option<Slot>,
    /// The slot the numbers are as of, when older than the step they are judged at (a pending
    /// breach firing on its last numbers).
    pub as_of: Option<Slot>,
}

impl Breach {
    pub fn new(severity: Severity, score: f64, evidence: impl Into<String>) -> Self {
        Self { severity, score, evidence: evidence.into(), until: None, as_of: None }
    }

    pub fn until(self, slot: Slot) -> Self {
        Self { until: Some(slot), ..self }
    }

    pub fn as_of(self, slot: Slot) -> Self {
        Self { as_of: Some(slot), ..self }
    }
}

/// What the data says about one alert now.
#[derive(Clone, Debug, PartialEq)]
pub enum Observation {
    Healthy,
    Breach(Breach),
    /// A breach that is not the subject's fault (a network-wide miss): held pending, never told.
    Excused(Breach),
}

/// A message to send.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Notice {
    Fire,
    /// Still firing, and worse than last told.
    Worse,
    Resolve,
}

impl Notice {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fire => "fire",
            Self::Worse => "worse",
            Self::Resolve => "resolve",
        }
    }
}

/// The lifecycle's timing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Lifecycle {
    /// A breach fires once it has held this many slots (0: at once). Critical breaches fire at once.
    pub pending_slots: u64,
    /// At least this many slots between two messages about one firing alert.
    pub cooldown_slots: u64,
    /// A firing alert is told again when its severity rose (at once), or its score rose by at least
    /// this much since last told (not within the cooldown).
    pub repeat_if_worse_by: f64,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Self { pending_slots: 2, cooldown_slots: 32, repeat_if_worse_by: 0.25 }
    }
}

/// The result of one step: the incident to store (`None`: nothing changed) and the message to send.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub next: Option<Incident>,
    pub notice: Option<Notice>,
}

impl Step {
    const NOTHING: Step = Step { next: None, notice: None };
}

impl Lifecycle {
    /// One observation of one alert at slot `now`.
    pub fn step(&self, current: Option<&Incident>, observation: &Observation, now: Slot) -> Step {
        let phase = current.map_or(Phase::Resolved, |i| i.phase);
        match (phase, observation) {
            (Phase::Resolved, Observation::Healthy) => Step::NOTHING,
            (Phase::Pending, Observation::Healthy) => {
                // Never told, so nothing to resolve out loud.
                let next = current.map(|i| Incident { phase: Phase::Resolved, since: now, ..i.clone() });
                Step { next, notice: None }
            }
            (Phase::Firing, Observation::Healthy) => {
                let i = current.expect("a firing alert has an incident");
                let evidence = format!("healthy again as of slot {now}");
                Step {
                    next: Some(Incident {
                        phase: Phase::Resolved,
                        since: now,
                        notified: Some(now),
                        evidence,
                        evidence_slot: now,
                        ..i.clone()
                    }),
                    notice: Some(Notice::Resolve),
                }
            }
            (Phase::Resolved | Phase::Pending, Observation::Breach(b) | Observation::Excused(b)) => {
                let since = match current {
                    Some(i) if i.phase == Phase::Pending => i.since,
                    _ => now,
                };
                let excused = matches!(observation, Observation::Excused(_));
                let ripe =
                    b.severity == Severity::Critical || now.0.saturating_sub(since.0) >= self.pending_slots;
                if ripe && !excused {
                    Step { next: Some(told(Phase::Firing, since, b, now)), notice: Some(Notice::Fire) }
                } else {
                    let notified = current.and_then(|i| i.notified);
                    let pending = Incident { notified, ..told(Phase::Pending, since, b, now) };
                    Step { next: Some(pending), notice: None }
                }
            }
            (Phase::Firing, Observation::Breach(b) | Observation::Excused(b)) => {
                let i = current.expect("a firing alert has an incident");
                let rested = i.notified.is_none_or(|t| now.0.saturating_sub(t.0) >= self.cooldown_slots);
                // A higher severity is news at once; a higher score waits out the cooldown.
                let escalated = b.severity > i.severity;
                let worse = rested && b.score >= i.score + self.repeat_if_worse_by - 1e-9;
                if (escalated || worse) && !matches!(observation, Observation::Excused(_)) {
                    Step { next: Some(told(Phase::Firing, i.since, b, now)), notice: Some(Notice::Worse) }
                } else if b.evidence != i.evidence {
                    // Keep the latest numbers for `/alerts` and the digest, without a message.
                    let next = Incident {
                        evidence: b.evidence.clone(),
                        evidence_slot: b.as_of.unwrap_or(now),
                        until: b.until,
                        ..i.clone()
                    };
                    Step { next: Some(next), notice: None }
                } else {
                    Step::NOTHING
                }
            }
        }
    }
}

fn told(phase: Phase, since: Slot, breach: &Breach, now: Slot) -> Incident {
    Incident {
        phase,
        since,
        severity: breach.severity,
        score: breach.score,
        notified: (phase == Phase::Firing).then_some(now),
        evidence: breach.evidence.clone(),
        evidence_slot: breach.as_of.unwrap_or(now),
        until: breach.until,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breach(score: f64) -> Observation {
        Observation::Breach(Breach::new(Severity::Warning, score, format!("score {score}")))
    }

    /// Runs observations at consecutive slots from `start`; returns the notices with their slots.
    fn run(
        lifecycle: &Lifecycle,
        start: u64,
        observations: &[Observation],
    ) -> (Vec<(u64, Notice)>, Incident) {
        let mut incident: Option<Incident> = None;
        let mut notices = Vec::new();
        for (i, observation) in observations.iter().enumerate() {
            let now = Slot(start + i as u64);
            let step = lifecycle.step(incident.as_ref(), observation, now);
            if let Some(notice) = step.notice {
                notices.push((now.0, notice));
            }
            if let Some(next) = step.next {
                incident = Some(next);
            }
        }
        (notices, incident.expect("something was observed"))
    }

    #[test]
    fn a_breach_fires_once_it_held_for_the_pending_slots_and_resolves_once() {
        let l = Lifecycle::default();
        let h = Observation::Healthy;
        let (notices, last) =
            run(&l, 10, &[breach(0.3), breach(0.3), breach(0.3), breach(0.3), h.clone(), h]);
        assert_eq!(notices, vec![(12, Notice::Fire), (14, Notice::Resolve)]);
        assert_eq!(last.phase, Phase::Resolved);
        assert_eq!(last.notified, Some(Slot(14)));
    }

    #[test]
    fn a_blip_shorter_than_the_pending_period_is_never_told() {
        let l = Lifecycle::default();
        let (notices, last) = run(&l, 0, &[breach(0.5), breach(0.5), Observation::Healthy, breach(0.5)]);
        assert!(notices.is_empty(), "{notices:?}");
        assert_eq!((last.phase, last.since), (Phase::Pending, Slot(3)), "a new breach starts a new wait");
    }

    #[test]
    fn critical_breaches_fire_at_once() {
        let l = Lifecycle::default();
        let slash = Observation::Breach(Breach::new(Severity::Critical, 1.0, "Slashed"));
        let (notices, _) = run(&l, 20, &[slash]);
        assert_eq!(notices, vec![(20, Notice::Fire)]);
    }

    #[test]
    fn a_firing_alert_is_told_again_only_when_worse_and_rested() {
        let l = Lifecycle { pending_slots: 0, cooldown_slots: 4, repeat_if_worse_by: 0.25 };
        // 0.3 fires; 0.5 is not 0.25 worse; 0.6 is, but only slot 3 is past the cooldown... slot 4 is.
        let observations = [breach(0.3), breach(0.5), breach(0.6), breach(0.6), breach(0.6), breach(0.7)];
        let (notices, last) = run(&l, 0, &observations);
        assert_eq!(notices, vec![(0, Notice::Fire), (4, Notice::Worse)]);
        assert_eq!(last.score, 0.6, "the baseline is what was last told");
        assert_eq!(last.evidence, "score 0.7", "but the evidence is the latest");
        let escalated = Observation::Breach(Breach::new(Severity::Critical, 0.6, "critical now"));
        let step = l.step(Some(&last), &escalated, Slot(5));
        assert_eq!(step.notice, Some(Notice::Worse), "a higher severity is told at once, cooldown or not");
    }

    #[test]
    fn an_excused_breach_waits_silently_and_fires_once_it_is_the_subjects_own() {
        let l = Lifecycle::default();
        let excused = Observation::Excused(Breach::new(Severity::Warning, 0.9, "network-wide"));
        let (notices, last) = run(&l, 0, &[excused.clone(), excused.clone(), excused.clone(), excused]);
        assert!(notices.is_empty());
        assert_eq!((last.phase, last.since), (Phase::Pending, Slot(0)));
        let step = l.step(Some(&last), &breach(0.9), Slot(4));
        assert_eq!(step.notice, Some(Notice::Fire), "still breaching after the outage: the wait counts");
    }

    #[test]
    fn an_excused_breach_never_repeats_a_firing_alert() {
        let l = Lifecycle { pending_slots: 0, cooldown_slots: 0, repeat_if_worse_by: 0.1 };
        let (_, firing) = run(&l, 0, &[breach(0.2)]);
        let excused = Observation::Excused(Breach::new(Severity::Critical, 0.9, "network-wide"));
        let step = l.step(Some(&firing), &excused, Slot(5));
        assert_eq!(step.notice, None);
        assert_eq!(step.next.unwrap().phase, Phase::Firing);
    }

    #[test]
    fn unchanged_evidence_changes_nothing() {
        let l = Lifecycle::default();
        let (_, firing) = run(&l, 0, &[breach(0.3), breach(0.3), breach(0.3)]);
        assert_eq!(l.step(Some(&firing), &breach(0.3), Slot(9)), Step::NOTHING);
        assert_eq!(l.step(None, &Observation::Healthy, Slot(9)), Step::NOTHING);
    }

    #[test]
    fn phases_serialize_as_their_names() {
        assert_eq!(serde_json::to_string(&Phase::Firing).unwrap(), "\"firing\"");
        assert_eq!(serde_json::from_str::<Phase>("\"pending\"").unwrap(), Phase::Pending);
        for phase in [Phase::Resolved, Phase::Pending, Phase::Firing] {
            assert_eq!(serde_json::to_string(&phase).unwrap(), format!("\"{}\"", phase.as_str()));
        }
    }
}
