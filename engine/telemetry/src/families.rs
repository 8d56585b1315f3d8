//! Snapshot families: gauges whose whole set of series is replaced at once (per operator, the K worst
//! validators). The `metrics` facade cannot forget a series, so a validator that left the top K or an
//! operator that unlinked would linger with its last value; a snapshot holds only what is true now.
//! [`crate::Telemetry::render`] appends them after the facade's exposition, with the catalog's help.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::RwLock;

use crate::catalog::{self, MetricKind};

/// One series of a snapshot family.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub labels: Vec<(&'static str, String)>,
    pub value: f64,
}

impl Series {
    pub fn new(labels: Vec<(&'static str, String)>, value: f64) -> Self {
        Self { labels, value }
    }
}

static FAMILIES: RwLock<BTreeMap<&'static str, Vec<Series>>> = RwLock::new(BTreeMap::new());

/// Replaces every series of the snapshot family `name` (a gauge of [`catalog::SNAPSHOT_FAMILIES`]).
/// Series with a label the catalog does not declare, or a value that is not finite, are left out.
pub fn replace(name: &'static str, series: Vec<Series>) {
    let Some(def) = catalog::find(name).filter(|d| catalog::SNAPSHOT_FAMILIES.contains(&d.name)) else {
        debug_assert!(false, "{name} is not a snapshot family of the catalog");
        return;
    };
    let kept: Vec<Series> = series
        .into_iter()
        .filter(|s| s.value.is_finite() && s.labels.iter().all(|(l, _)| def.labels.contains(l)))
        .collect();
    FAMILIES.write().unwrap_or_else(|p| p.into_inner()).insert(def.name, kept);
}

/// How many series the snapshot families hold now.
pub fn series_count() -> usize {
    FAMILIES.read().unwrap_or_else(|p| p.into_inner()).values().map(Vec::len).sum()
}

/// Appends the families in the Prometheus text format (0.0.4). A family with no series is omitted.
pub(crate) fn render_into(out: &mut String) {
    let families = FAMILIES.read().unwrap_or_else(|p| p.into_inner());
    for (name, series) in families.iter().filter(|(_, s)| !s.is_empty()) {
        let Some(def) = catalog::find(name) else { continue };
        debug_assert_eq!(def.kind, MetricKind::Gauge);
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        let _ = writeln!(out, "# HELP {name} {}", def.help);
        let _ = writeln!(out, "# TYPE {name} gauge");
        for s in series {
            out.push_str(name);
            if !s.labels.is_empty() {
                out.push('{');
                for (i, (label, value)) in s.labels.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    let _ = write!(out, "{label}=\"{}\"", escape(value));
                }
                out.push('}');
            }
            let _ = writeln!(out, " {}", s.value);
        }
    }
}

/// A label value as the text format wants it: backslash, quote and newline escaped.
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_label_value_is_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
