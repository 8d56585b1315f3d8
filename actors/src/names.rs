//! Actor names. Each is prefixed with the engine's name so that several engines can share one
//! process (tests), and actors find each other by name so a restarted peer is found again.

use std::fmt;

use ractor::{ActorRef, Message};

/// The supervisor's children.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChildKind {
    Watcher,
    Tracker(usize),
    Slashing,
    Roles,
    Alerts,
    Metrics,
    Publisher,
}

impl fmt::Display for ChildKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChildKind::Watcher => write!(f, "chain-watcher"),
            ChildKind::Tracker(i) => write!(f, "validator-tracker-{i}"),
            ChildKind::Slashing => write!(f, "slashing-detector"),
            ChildKind::Roles => write!(f, "role-assigner"),
            ChildKind::Alerts => write!(f, "alert-publisher"),
            ChildKind::Metrics => write!(f, "metrics-publisher"),
            ChildKind::Publisher => write!(f, "outbox-publisher"),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Names {
    engine: String,
}

impl Names {
    pub fn new(engine: &str) -> Self {
        Self { engine: engine.to_owned() }
    }

    pub fn supervisor(&self) -> String {
        format!("{}/supervisor", self.engine)
    }

    pub fn of(&self, kind: ChildKind) -> String {
        format!("{}/{kind}", self.engine)
    }

    /// The live actor of that kind, if it is running right now.
    pub fn lookup<M: Message>(&self, kind: ChildKind) -> Option<ActorRef<M>> {
        ActorRef::where_is(self.of(kind))
    }
}
