//! CloudWatch's published limits, and the split of one round into requests that respect them.

use super::datums::Datum;

/// `PutMetricData`: at most 1,000 metric data per request.
pub const PUT_DATUMS_PER_REQUEST: usize = 1_000;
/// `PutMetricData`: at most 1 MB of request payload; a datum here encodes in well under 400 bytes.
pub const PUT_REQUEST_BYTES: usize = 1_000_000;
/// The most dimensions one metric may have (ours: `Deployment` plus the kept labels).
pub const DIMENSIONS_PER_METRIC: usize = 30;
/// EMF: at most 100 metrics in one `CloudWatchMetrics` directive.
pub const EMF_METRICS_PER_DIRECTIVE: usize = 100;

/// A generous bound on one datum's form-encoded size: name, value, unit, timestamp, dimensions.
pub fn encoded_bound(datum: &Datum, deployment: &str) -> usize {
    let dimensions: usize = datum.dimensions.iter().map(|(n, v)| 80 + 3 * (n.len() + v.len())).sum::<usize>();
    200 + 3 * datum.name.len() + 80 + 3 * deployment.len() + dimensions
}

/// Splits `points` into requests of at most [`PUT_DATUMS_PER_REQUEST`] data and
/// [`PUT_REQUEST_BYTES`] bytes, in order.
pub fn requests<'a>(points: &'a [Datum], deployment: &str) -> Vec<&'a [Datum]> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, point) in points.iter().enumerate() {
        let size = encoded_bound(point, deployment);
        if i > start && (i - start == PUT_DATUMS_PER_REQUEST || bytes + size > PUT_REQUEST_BYTES) {
            out.push(&points[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += size;
    }
    if start < points.len() {
        out.push(&points[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{MetricUnit, OPERATOR_ATTESTATION_MISS_RATIO};

    fn points(n: usize, value_len: usize) -> Vec<Datum> {
        (0..n)
            .map(|i| Datum {
                name: OPERATOR_ATTESTATION_MISS_RATIO,
                dimensions: vec![("Operator".into(), format!("{i:0value_len$}"))],
                value: 0.5,
                samples: vec![0.5],
                unit: MetricUnit::Ratio,
            })
            .collect()
    }

    #[test]
    fn requests_hold_at_most_a_thousand_data_in_order() {
        let all = points(2_345, 4);
        let split = requests(&all, "testnet");
        assert_eq!(split.iter().map(|r| r.len()).collect::<Vec<_>>(), [1_000, 1_000, 345]);
        assert_eq!(split.concat(), all, "nothing lost, nothing reordered");
        assert!(requests(&[], "testnet").is_empty());
    }

    #[test]
    fn large_data_split_by_size_first() {
        // 256-character dimension values (CloudWatch's most): ~1.3 KB bound each, ~770 per request.
        let all = points(1_500, 256);
        let split = requests(&all, "testnet");
        assert_eq!(split.len(), 2);
        assert!(split[0].len() < PUT_DATUMS_PER_REQUEST, "split by size, not count: {}", split[0].len());
        for request in &split {
            let bytes: usize = request.iter().map(|d| encoded_bound(d, "testnet")).sum();
            assert!(bytes <= PUT_REQUEST_BYTES && request.len() <= PUT_DATUMS_PER_REQUEST);
        }
        assert_eq!(split.concat(), all);
    }
}
