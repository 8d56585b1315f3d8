//! CloudWatch: the catalog's [`CLOUDWATCH_METRICS`](crate::catalog::CLOUDWATCH_METRICS) sent with
//! `PutMetricData` every interval, under [`CLOUDWATCH_NAMESPACE`](crate::catalog::CLOUDWATCH_NAMESPACE)
//! and one `Deployment` dimension. The values are read from the same recorder Prometheus scrapes, so
//! the two never disagree; [`datums`] is the pure half, [`publisher`] the I/O half.

mod datums;
mod publisher;

pub use datums::{CounterMemory, Datum, datums};
pub use publisher::{CloudWatchPublisher, PublisherConfig};
