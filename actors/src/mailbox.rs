//! Mailbox depth of the data-path actors (tracker shards, role assigner, alert publisher). ractor does
//! not expose a mailbox's length, so senders count what they enqueue and the actor counts what it
//! takes; the difference is what waits. The metrics publisher reports it as `sparta_actor_mailbox_depth`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};

use crate::names::ChildKind;

#[derive(Debug)]
pub struct Mailboxes(HashMap<ChildKind, AtomicI64>);

impl Mailboxes {
    pub fn new(trackers: usize) -> Self {
        let kinds = (0..trackers.max(1)).map(ChildKind::Tracker).chain([ChildKind::Roles, ChildKind::Alerts]);
        Self(kinds.map(|k| (k, AtomicI64::new(0))).collect())
    }

    /// A message was put in `kind`'s mailbox.
    pub fn sent(&self, kind: ChildKind) {
        self.add(kind, 1);
    }

    /// `kind` took a message out of its mailbox.
    pub fn taken(&self, kind: ChildKind) {
        self.add(kind, -1);
    }

    /// `kind` (re)started with a new, empty mailbox.
    pub fn reset(&self, kind: ChildKind) {
        if let Some(depth) = self.0.get(&kind) {
            depth.store(0, Ordering::Relaxed);
        }
    }

    /// Every counted actor with what waits in its mailbox.
    pub fn depths(&self) -> Vec<(ChildKind, u64)> {
        self.0.iter().map(|(k, d)| (*k, d.load(Ordering::Relaxed).max(0) as u64)).collect()
    }

    /// What waits in the fullest counted mailbox (the watcher checks it before every read).
    pub fn deepest(&self) -> u64 {
        self.0.values().map(|d| d.load(Ordering::Relaxed).max(0) as u64).max().unwrap_or(0)
    }

    fn add(&self, kind: ChildKind, delta: i64) {
        if let Some(depth) = self.0.get(&kind) {
            depth.fetch_add(delta, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_is_sent_minus_taken_and_a_restart_empties_it() {
        let boxes = Mailboxes::new(2);
        let depth = |kind| boxes.depths().into_iter().find(|(k, _)| *k == kind).map(|(_, d)| d);
        boxes.sent(ChildKind::Tracker(1));
        boxes.sent(ChildKind::Tracker(1));
        boxes.taken(ChildKind::Tracker(1));
        assert_eq!(depth(ChildKind::Tracker(1)), Some(1));
        assert_eq!(depth(ChildKind::Roles), Some(0));
        assert_eq!(boxes.deepest(), 1);
        boxes.reset(ChildKind::Tracker(1));
        boxes.taken(ChildKind::Tracker(1));
        assert_eq!(depth(ChildKind::Tracker(1)), Some(0), "never below zero");
        assert_eq!(depth(ChildKind::Watcher), None, "not counted");
        assert_eq!(boxes.depths().len(), 4);
    }
}
