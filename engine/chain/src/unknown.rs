//! Shapes from a newer protocol than sparta knows: kept as "unknown", never a crash and never a miss,
//! and counted, so an operator sees that the network has moved on.

use sparta_telemetry::catalog;

/// What kind of unknown thing was met (the counter's `kind` label: a small, fixed set).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnknownShape {
    /// A Sentinel status string.
    Status,
    /// A `propose` selector in a transaction to the rollup.
    ProposeSelector,
}

impl UnknownShape {
    pub fn label(self) -> &'static str {
        match self {
            UnknownShape::Status => "status",
            UnknownShape::ProposeSelector => "propose_selector",
        }
    }
}

pub fn count_unknown(shape: UnknownShape) {
    metrics::counter!(catalog::CHAIN_UNKNOWN_SHAPES_TOTAL, "kind" => shape.label()).increment(1);
}
