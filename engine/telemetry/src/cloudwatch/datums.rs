//! From the Prometheus text rendering to CloudWatch data points: gauges as they stand, counters as the
//! increase since the last publish (so an alarm's `Sum` over a period counts events in it), labelled
//! series summed (CloudWatch gets health signals; the detail stays in Prometheus).

use std::collections::HashMap;

use crate::catalog::{self, CLOUDWATCH_METRICS, MetricKind, MetricUnit};

/// One data point to publish.
#[derive(Clone, Debug, PartialEq)]
pub struct Datum {
    pub name: &'static str,
    pub value: f64,
    pub unit: MetricUnit,
}

/// Counter totals at the last successful publish. A process starts from zero, like its counters.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CounterMemory(HashMap<&'static str, f64>);

/// The data points for `text` (a Prometheus rendering) and the memory to keep once they are published.
/// Metrics never emitted are absent: CloudWatch then sees missing data, which alarms treat explicitly.
pub fn datums(text: &str, memory: &CounterMemory) -> (Vec<Datum>, CounterMemory) {
    let mut totals: HashMap<&'static str, f64> = HashMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some((series, value)) = line.rsplit_once(' ') else { continue };
        let name = series.split('{').next().unwrap_or(series);
        let Some(published) = CLOUDWATCH_METRICS.iter().find(|m| **m == name) else { continue };
        let Ok(value) = value.parse::<f64>() else { continue };
        if value.is_finite() {
            *totals.entry(published).or_default() += value;
        }
    }
    // A standby's engine gauges are frozen at the end of its last term: it reports only that it
    // stands by, so the alarms' statistics across instances see the leader's values alone.
    if totals.get(catalog::ENGINE_LEADER) == Some(&0.0) {
        totals.retain(|name, _| *name == catalog::ENGINE_LEADER);
    }
    let mut next = memory.clone();
    let mut out = Vec::with_capacity(totals.len());
    for name in CLOUDWATCH_METRICS {
        let (Some(&total), Some(def)) = (totals.get(name), catalog::find(name)) else { continue };
        let value = match def.kind {
            MetricKind::Counter => {
                let before = memory.0.get(name).copied().unwrap_or(0.0);
                next.0.insert(name, total);
                // A total below the last one means the counter restarted: all of it is new.
                if total >= before { total - before } else { total }
            }
            _ => total,
        };
        out.push(Datum { name, value, unit: def.unit });
    }
    (out, next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::*;

    fn render(lines: &[String]) -> String {
        lines.join("\n")
    }

    #[test]
    fn gauges_as_they_stand_counters_as_increases_labels_summed_others_ignored() {
        let text = render(&[
            format!("# HELP {ENGINE_LAG_SLOTS} lag"),
            format!("# TYPE {ENGINE_LAG_SLOTS} gauge"),
            format!("{ENGINE_LAG_SLOTS} 3"),
            format!("{NETWORK_SLASHES_TOTAL} 2"),
            format!("{DISCORD_RATE_LIMITED_TOTAL}{{scope=\"global\"}} 4"),
            format!("{DISCORD_RATE_LIMITED_TOTAL}{{scope=\"route\"}} 1"),
            format!("{VALIDATORS_TRACKED} 200"),
            format!("{ENGINE_DATA_AGE_SECONDS} NaN"),
        ]);
        let (first, memory) = datums(&text, &CounterMemory::default());
        let value = |d: &[Datum], name| d.iter().find(|x| x.name == name).map(|x| x.value);
        assert_eq!(value(&first, ENGINE_LAG_SLOTS), Some(3.0));
        assert_eq!(value(&first, NETWORK_SLASHES_TOTAL), Some(2.0), "everything since start is new");
        assert_eq!(value(&first, DISCORD_RATE_LIMITED_TOTAL), Some(5.0), "labels are summed");
        assert_eq!(value(&first, VALIDATORS_TRACKED), None, "not published to CloudWatch");
        assert_eq!(value(&first, ENGINE_DATA_AGE_SECONDS), None, "not a number, not sent");
        assert_eq!(value(&first, ENGINE_LEADER), None, "never emitted: missing, not zero");

        let later =
            text.replace(&format!("{NETWORK_SLASHES_TOTAL} 2"), &format!("{NETWORK_SLASHES_TOTAL} 3"));
        let (second, memory) = datums(&later, &memory);
        assert_eq!(value(&second, NETWORK_SLASHES_TOTAL), Some(1.0), "only the increase");
        assert_eq!(value(&second, DISCORD_RATE_LIMITED_TOTAL), Some(0.0));
        let (third, _) = datums(&later, &memory);
        assert_eq!(value(&third, NETWORK_SLASHES_TOTAL), Some(0.0));
        assert_eq!(third.iter().find(|d| d.name == ENGINE_LAG_SLOTS).unwrap().unit, MetricUnit::Slots);
    }

    #[test]
    fn a_standby_reports_only_that_it_stands_by() {
        let text = render(&[
            format!("{ENGINE_LEADER} 0"),
            format!("{ENGINE_LAG_SLOTS} 3"),
            format!("{NETWORK_SLASHES_TOTAL} 2"),
        ]);
        let (points, _) = datums(&text, &CounterMemory::default());
        assert_eq!(points, vec![Datum { name: ENGINE_LEADER, value: 0.0, unit: MetricUnit::Number }]);
        let leading = text.replace(&format!("{ENGINE_LEADER} 0"), &format!("{ENGINE_LEADER} 1"));
        assert_eq!(datums(&leading, &CounterMemory::default()).0.len(), 3, "the leader reports everything");
    }

    #[test]
    fn an_unpublished_round_is_counted_again_next_time() {
        let text = format!("{NETWORK_SLASHES_TOTAL} 2");
        let (_, kept_if_published) = datums(&text, &CounterMemory::default());
        // The put failed: the caller keeps the old memory, so the next round reports the same increase.
        let (retry, _) = datums(&text, &CounterMemory::default());
        assert_eq!(retry[0].value, 2.0);
        assert_ne!(kept_if_published, CounterMemory::default());
    }
}
