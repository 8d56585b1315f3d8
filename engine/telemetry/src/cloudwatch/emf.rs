//! CloudWatch Embedded Metric Format: the same data points as log lines instead of `PutMetricData`
//! calls. CloudWatch Logs extracts the metrics when the lines arrive marked as EMF (the CloudWatch
//! agent's EMF listener, or `PutLogEvents` with `x-amzn-logs-format: json/emf`); no API call and no
//! `cloudwatch:PutMetricData` permission is needed from sparta.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::datums::Datum;
use super::limits::EMF_METRICS_PER_DIRECTIVE;
use crate::catalog::{CLOUDWATCH_DIMENSION, MetricUnit};

/// The EMF unit name for a catalog unit.
pub fn emf_unit(unit: MetricUnit) -> &'static str {
    match unit {
        MetricUnit::Seconds => "Seconds",
        MetricUnit::Number => "Count",
        MetricUnit::Ratio | MetricUnit::Slots => "None",
    }
}

/// One JSON line per dimension set (and per 100 metrics, the format's limit for a directive).
pub fn lines(points: &[Datum], namespace: &str, deployment: &str, timestamp_ms: u64) -> Vec<String> {
    let mut by_dimensions: BTreeMap<&[(String, String)], Vec<&Datum>> = BTreeMap::new();
    for point in points {
        by_dimensions.entry(point.dimensions.as_slice()).or_default().push(point);
    }
    let mut out = Vec::new();
    for (dimensions, points) in by_dimensions {
        let mut names = vec![CLOUDWATCH_DIMENSION.to_owned()];
        names.extend(dimensions.iter().map(|(name, _)| name.clone()));
        for chunk in points.chunks(EMF_METRICS_PER_DIRECTIVE) {
            let metrics: Vec<Value> =
                chunk.iter().map(|p| json!({ "Name": p.name, "Unit": emf_unit(p.unit) })).collect();
            let mut event = Map::new();
            event.insert(
                "_aws".into(),
                json!({
                    "Timestamp": timestamp_ms,
                    "CloudWatchMetrics": [{
                        "Namespace": namespace,
                        "Dimensions": [names],
                        "Metrics": metrics,
                    }],
                }),
            );
            event.insert(CLOUDWATCH_DIMENSION.into(), deployment.into());
            for (name, value) in dimensions {
                event.insert(name.clone(), value.clone().into());
            }
            for p in chunk {
                // A gauge's samples go as an array: CloudWatch takes each as a value of the period.
                let value = if p.samples.len() > 1 { json!(p.samples) } else { json!(p.value) };
                event.insert(p.name.into(), value);
            }
            out.push(Value::Object(event).to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::*;

    fn point(name: &'static str, operator: Option<&str>, value: f64) -> Datum {
        let dimensions = operator.map(|o| vec![("Operator".to_owned(), o.to_owned())]).unwrap_or_default();
        Datum { name, dimensions, value, samples: vec![value], unit: MetricUnit::Ratio }
    }

    #[test]
    fn one_line_per_dimension_set_with_every_value_a_top_level_member() {
        let points = [
            point(ENGINE_LAG_SLOTS, None, 3.0),
            point(NETWORK_ATTESTATION_MISS_RATIO, None, 0.25),
            point(OPERATOR_ATTESTATION_MISS_RATIO, Some("7"), 0.5),
        ];
        let lines = lines(&points, "Sparta", "testnet", 1_700_000_000_000);
        assert_eq!(lines.len(), 2);
        let plain: Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(plain["_aws"]["Timestamp"], 1_700_000_000_000u64);
        let directive = &plain["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "Sparta");
        assert_eq!(directive["Dimensions"], json!([["Deployment"]]));
        assert_eq!(directive["Metrics"][0], json!({ "Name": ENGINE_LAG_SLOTS, "Unit": "None" }));
        assert_eq!(plain["Deployment"], "testnet");
        assert_eq!(plain[ENGINE_LAG_SLOTS], 3.0);
        let operator: Value = serde_json::from_str(&lines[1]).unwrap();
        assert_eq!(
            operator["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Deployment", "Operator"]])
        );
        assert_eq!(operator["Operator"], "7");
        assert_eq!(operator[OPERATOR_ATTESTATION_MISS_RATIO], 0.5);

        let sampled = Datum { samples: vec![2.0, 30.0, 3.0], ..point(ENGINE_LAG_SLOTS, None, 3.0) };
        let line: Value = serde_json::from_str(&super::lines(&[sampled], "S", "d", 0)[0]).unwrap();
        assert_eq!(line[ENGINE_LAG_SLOTS], json!([2.0, 30.0, 3.0]), "samples go as an array");
    }

    #[test]
    fn a_directive_holds_at_most_a_hundred_metrics() {
        let points: Vec<Datum> = (0..250).map(|_| point(ENGINE_LAG_SLOTS, None, 1.0)).collect();
        let lines = lines(&points, "Sparta", "d", 0);
        assert_eq!(lines.len(), 3);
        for line in lines {
            let event: Value = serde_json::from_str(&line).unwrap();
            assert!(event["_aws"]["CloudWatchMetrics"][0]["Metrics"].as_array().unwrap().len() <= 100);
        }
    }
}
