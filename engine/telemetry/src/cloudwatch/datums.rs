//! From the Prometheus text rendering to CloudWatch data points: gauges with every sample taken during
//! the interval (so an alarm's `Maximum` sees a spike between two puts), counters as the increase
//! since the last publish (so an alarm's `Sum` over a period counts events in it), labels summed away
//! unless the catalog keeps them as dimensions, and at most `max_series` series.

use std::collections::{BTreeMap, HashMap};

use crate::catalog::{self, CLOUDWATCH_METRICS, MetricKind, MetricUnit};

/// One data point to publish.
#[derive(Clone, Debug, PartialEq)]
pub struct Datum {
    pub name: &'static str,
    /// Dimensions beside `Deployment`: (dimension name, value), in the catalog's label order.
    pub dimensions: Vec<(String, String)>,
    /// The value now (a gauge's latest sample, a counter's increase).
    pub value: f64,
    /// A gauge's samples over the interval, oldest first, ending with `value`; empty for counters.
    pub samples: Vec<f64>,
    pub unit: MetricUnit,
}

/// The most samples one gauge keeps per interval: EMF takes at most 100 values per metric (and
/// `PutMetricData` 150).
pub const MAX_SAMPLES: usize = 100;

/// Gauge samples taken between two publishes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GaugeSamples(BTreeMap<SeriesKey, Vec<f64>>);

impl GaugeSamples {
    /// Adds one sample of every published gauge in `text`. The publisher samples six times an
    /// interval; the bound only keeps a misconfiguration from growing without limit (the round's own
    /// value is always added last).
    pub fn record(&mut self, text: &str) {
        for (key, value) in totals(text) {
            if catalog::find(key.0).is_none_or(|d| d.kind != MetricKind::Gauge) {
                continue;
            }
            let samples = self.0.entry(key).or_default();
            if samples.len() + 1 < MAX_SAMPLES {
                samples.push(value);
            }
        }
    }

    pub fn clear(&mut self) {
        self.0.clear();
    }
}

/// A series: its metric and its kept label values.
type SeriesKey = (&'static str, Vec<(String, String)>);

/// Counter totals at the last successful publish. A process starts from zero, like its counters.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CounterMemory(HashMap<SeriesKey, f64>);

/// What one round yields: the points, the memory to keep once they are published, and how many
/// series the cap left out.
#[derive(Clone, Debug, PartialEq)]
pub struct Round {
    pub points: Vec<Datum>,
    pub memory: CounterMemory,
    pub dropped: usize,
}

/// The data points for `text` (a Prometheus rendering). Metrics never emitted are absent: CloudWatch
/// then sees missing data, which alarms treat explicitly. The health metrics (no kept dimension) always
/// go; of the dimensioned series, the highest values (the worst operators) fill what `max_series` leaves.
pub fn datums(text: &str, memory: &CounterMemory, max_series: usize, samples: &GaugeSamples) -> Round {
    let mut totals = totals(text);
    // A standby's engine gauges are frozen at the end of its last term: it reports only that it
    // stands by, so the alarms' statistics across instances see the leader's values alone.
    let standby = totals.get(&(catalog::ENGINE_LEADER, Vec::new())) == Some(&0.0);
    if standby {
        totals.retain(|(name, _), _| *name == catalog::ENGINE_LEADER);
    }
    let mut next = memory.clone();
    let mut plain = Vec::new();
    let mut dimensioned = Vec::new();
    for ((name, dimensions), total) in totals {
        let Some(def) = catalog::find(name) else { continue };
        let key = (name, dimensions);
        let (value, samples) = match def.kind {
            MetricKind::Counter => {
                let before = memory.0.get(&key).copied().unwrap_or(0.0);
                next.0.insert(key.clone(), total);
                // A total below the last one means the counter restarted: all of it is new.
                (if total >= before { total - before } else { total }, Vec::new())
            }
            _ => {
                let mut all = samples.0.get(&key).cloned().unwrap_or_default();
                all.push(total);
                (total, all)
            }
        };
        let datum = Datum { name, dimensions: key.1, value, samples, unit: def.unit };
        if datum.dimensions.is_empty() { plain.push(datum) } else { dimensioned.push(datum) }
    }
    plain.sort_by_key(|d| CLOUDWATCH_METRICS.iter().position(|m| *m == d.name));
    dimensioned.sort_by(|a, b| b.value.total_cmp(&a.value).then_with(|| a.dimensions.cmp(&b.dimensions)));
    let room = max_series.saturating_sub(plain.len());
    let dropped = dimensioned.len().saturating_sub(room);
    dimensioned.truncate(room);
    plain.extend(dimensioned);
    Round { points: plain, memory: next, dropped }
}

/// Every published series in `text` with its value (labelled series summed into their kept dimensions).
fn totals(text: &str) -> BTreeMap<SeriesKey, f64> {
    let mut totals: BTreeMap<SeriesKey, f64> = BTreeMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some((series, value)) = line.rsplit_once(' ') else { continue };
        let (name, labels) = match series.split_once('{') {
            Some((name, labels)) => (name, labels.trim_end_matches('}')),
            None => (series, ""),
        };
        let Some(published) = CLOUDWATCH_METRICS.iter().find(|m| **m == name) else { continue };
        let Ok(value) = value.parse::<f64>() else { continue };
        // CloudWatch refuses an empty dimension value: a series without the kept label is left out.
        if let (true, Some(kept)) = (value.is_finite(), kept_dimensions(published, labels)) {
            *totals.entry((published, kept)).or_default() += value;
        }
    }
    totals
}

/// The label values of `labels` (the inside of `{…}`) that `name` keeps, as CloudWatch dimensions.
/// `None` when one of them is missing or empty.
fn kept_dimensions(name: &str, labels: &str) -> Option<Vec<(String, String)>> {
    let mut found: Vec<(String, String)> = Vec::new();
    for label in catalog::cloudwatch_dimensions(name) {
        let prefix = format!("{label}=\"");
        let value = labels
            .split("\",")
            .find_map(|pair| pair.strip_prefix(&prefix))
            .map(|v| v.trim_end_matches('"').to_owned())
            .filter(|v| !v.is_empty())?;
        found.push((dimension_name(label), value));
    }
    Some(found)
}

/// A label as a CloudWatch dimension name: `operator` → `Operator`, `source_kind` → `SourceKind`.
pub fn dimension_name(label: &str) -> String {
    label
        .split('_')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::*;

    const ALL: usize = 1_000;

    fn plain_round(text: &str, memory: &CounterMemory, max_series: usize) -> Round {
        datums(text, memory, max_series, &GaugeSamples::default())
    }

    fn value(d: &[Datum], name: &str) -> Option<f64> {
        d.iter().find(|x| x.name == name && x.dimensions.is_empty()).map(|x| x.value)
    }

    #[test]
    fn gauges_as_they_stand_counters_as_increases_labels_summed_others_ignored() {
        let text = [
            format!("# HELP {ENGINE_LAG_SLOTS} lag"),
            format!("# TYPE {ENGINE_LAG_SLOTS} gauge"),
            format!("{ENGINE_LAG_SLOTS} 3"),
            format!("{NETWORK_SLASHES_TOTAL} 2"),
            format!("{DISCORD_RATE_LIMITED_TOTAL}{{scope=\"global\"}} 4"),
            format!("{DISCORD_RATE_LIMITED_TOTAL}{{scope=\"route\"}} 1"),
            format!("{VALIDATORS_TRACKED} 200"),
            format!("{ENGINE_DATA_AGE_SECONDS} NaN"),
        ]
        .join("\n");
        let first = plain_round(&text, &CounterMemory::default(), ALL);
        assert_eq!(value(&first.points, ENGINE_LAG_SLOTS), Some(3.0));
        assert_eq!(value(&first.points, NETWORK_SLASHES_TOTAL), Some(2.0), "everything since start is new");
        assert_eq!(value(&first.points, DISCORD_RATE_LIMITED_TOTAL), Some(5.0), "labels are summed");
        assert_eq!(value(&first.points, VALIDATORS_TRACKED), None, "not published to CloudWatch");
        assert_eq!(value(&first.points, ENGINE_DATA_AGE_SECONDS), None, "not a number, not sent");
        assert_eq!(value(&first.points, ENGINE_LEADER), None, "never emitted: missing, not zero");

        let later =
            text.replace(&format!("{NETWORK_SLASHES_TOTAL} 2"), &format!("{NETWORK_SLASHES_TOTAL} 3"));
        let second = plain_round(&later, &first.memory, ALL);
        assert_eq!(value(&second.points, NETWORK_SLASHES_TOTAL), Some(1.0), "only the increase");
        assert_eq!(value(&second.points, DISCORD_RATE_LIMITED_TOTAL), Some(0.0));
        let third = plain_round(&later, &second.memory, ALL);
        assert_eq!(value(&third.points, NETWORK_SLASHES_TOTAL), Some(0.0));
        let lag = third.points.iter().find(|d| d.name == ENGINE_LAG_SLOTS).unwrap();
        assert_eq!(lag.unit, MetricUnit::Slots);
    }

    #[test]
    fn a_standby_reports_only_that_it_stands_by() {
        let text = [
            format!("{ENGINE_LEADER} 0"),
            format!("{ENGINE_LAG_SLOTS} 3"),
            format!("{NETWORK_SLASHES_TOTAL} 2"),
            format!("{OPERATOR_ATTESTATION_MISS_RATIO}{{operator=\"7\"}} 0.5"),
        ]
        .join("\n");
        let round = plain_round(&text, &CounterMemory::default(), ALL);
        let only = Datum {
            name: ENGINE_LEADER,
            dimensions: Vec::new(),
            value: 0.0,
            samples: vec![0.0],
            unit: MetricUnit::Number,
        };
        assert_eq!(round.points, vec![only]);
        let leading = text.replace(&format!("{ENGINE_LEADER} 0"), &format!("{ENGINE_LEADER} 1"));
        assert_eq!(
            plain_round(&leading, &CounterMemory::default(), ALL).points.len(),
            4,
            "the leader reports all"
        );
    }

    #[test]
    fn an_unpublished_round_is_counted_again_next_time() {
        let text = format!("{NETWORK_SLASHES_TOTAL} 2");
        let published = plain_round(&text, &CounterMemory::default(), ALL);
        // The put failed: the caller keeps the old memory, so the next round reports the same increase.
        let retry = plain_round(&text, &CounterMemory::default(), ALL);
        assert_eq!(retry.points[0].value, 2.0);
        assert_ne!(published.memory, CounterMemory::default());
    }

    #[test]
    fn kept_labels_become_dimensions_and_the_cap_keeps_health_then_the_worst() {
        let mut lines = vec![format!("{ENGINE_LAG_SLOTS} 1"), format!("{ENGINE_LEADER} 1")];
        for (operator, ratio) in [("a", 0.1), ("b", 0.9), ("c", 0.5), ("d", 0.0)] {
            lines.push(format!("{OPERATOR_ATTESTATION_MISS_RATIO}{{operator=\"{operator}\"}} {ratio}"));
        }
        let round = plain_round(&lines.join("\n"), &CounterMemory::default(), 4);
        let kept: Vec<(&str, Vec<(String, String)>)> =
            round.points.iter().map(|d| (d.name, d.dimensions.clone())).collect();
        let operator = |o: &str| vec![("Operator".to_owned(), o.to_owned())];
        assert_eq!(
            kept,
            vec![
                (ENGINE_LAG_SLOTS, vec![]),
                (ENGINE_LEADER, vec![]),
                (OPERATOR_ATTESTATION_MISS_RATIO, operator("b")),
                (OPERATOR_ATTESTATION_MISS_RATIO, operator("c")),
            ],
            "health first, then the worst operators"
        );
        assert_eq!(round.dropped, 2);
        assert_eq!(
            plain_round(&lines.join("\n"), &CounterMemory::default(), 1).points.len(),
            2,
            "health stays"
        );
    }

    #[test]
    fn gauges_carry_the_interval_s_samples_and_counters_do_not() {
        let at = |lag: u32, slashes: u32| {
            format!("{ENGINE_LAG_SLOTS} {lag}\n{NETWORK_SLASHES_TOTAL} {slashes}\n{VALIDATORS_TRACKED} 7")
        };
        let mut samples = GaugeSamples::default();
        samples.record(&at(2, 0));
        samples.record(&at(30, 1));
        let round = datums(&at(3, 1), &CounterMemory::default(), ALL, &samples);
        let lag = round.points.iter().find(|d| d.name == ENGINE_LAG_SLOTS).unwrap();
        assert_eq!((lag.value, lag.samples.clone()), (3.0, vec![2.0, 30.0, 3.0]), "the spike is kept");
        let slashes = round.points.iter().find(|d| d.name == NETWORK_SLASHES_TOTAL).unwrap();
        assert!(slashes.samples.is_empty(), "a counter is its increase, not samples");
        assert_eq!(samples.0.len(), 1, "only published gauges are sampled");
        for _ in 0..2 * MAX_SAMPLES {
            samples.record(&at(1, 1));
        }
        assert_eq!(samples.0.values().next().unwrap().len(), MAX_SAMPLES - 1, "bounded");
        samples.clear();
        let fresh = datums(&at(3, 1), &CounterMemory::default(), ALL, &samples);
        let lag = fresh.points.iter().find(|d| d.name == ENGINE_LAG_SLOTS).unwrap();
        assert_eq!(lag.samples, vec![3.0], "a new interval starts empty");
    }

    #[test]
    fn labels_map_to_dimension_names() {
        assert_eq!(dimension_name("operator"), "Operator");
        assert_eq!(dimension_name("source_kind"), "SourceKind");
        assert_eq!(
            kept_dimensions(OPERATOR_ATTESTATION_MISS_RATIO, r#"x="1",operator="42",y="2""#),
            Some(vec![("Operator".to_owned(), "42".to_owned())])
        );
        assert_eq!(kept_dimensions(OPERATOR_ATTESTATION_MISS_RATIO, r#"operator="""#), None);
        assert_eq!(kept_dimensions(OPERATOR_ATTESTATION_MISS_RATIO, r#"other="1""#), None);
        assert_eq!(kept_dimensions(ENGINE_LAG_SLOTS, r#"other="1""#), Some(vec![]));
    }
}
