//! CloudWatch: the catalog's [`CLOUDWATCH_METRICS`](crate::catalog::CLOUDWATCH_METRICS) sent every
//! interval under a configurable namespace and a `Deployment` dimension, through `PutMetricData` or as
//! Embedded Metric Format lines. The values are read from the same recorder Prometheus scrapes, so the
//! two never disagree; [`datums`], [`limits`] and [`emf`] are pure, [`publisher`] is the actor doing I/O.

mod datums;
pub mod emf;
pub mod limits;
mod publisher;

pub use datums::{CounterMemory, Datum, GaugeSamples, MAX_SAMPLES, Round, datums, dimension_name};
pub use publisher::{CloudWatchMsg, CloudWatchPublisher, Destination, PublisherConfig};
