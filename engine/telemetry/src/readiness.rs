//! `GET /readyz`: whether this instance is doing its job, and which job (for load balancers, ECS
//! health checks and whoever asks "which instance leads?").

use std::sync::{Arc, Mutex};

use serde::Serialize;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Ready {
    pub ready: bool,
    /// `starting`, `leader`, `standby` or `single`.
    pub role: String,
    pub detail: String,
}

/// Shared between the server and whoever runs the engine. Starts not ready.
#[derive(Clone, Debug, Default)]
pub struct Readiness(Arc<Mutex<Ready>>);

impl Readiness {
    pub fn set(&self, ready: bool, role: &str, detail: impl Into<String>) {
        let mut state = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *state = Ready { ready, role: role.to_owned(), detail: detail.into() };
    }

    pub fn get(&self) -> Ready {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}
