//! Metric events from edges and browsers: validation, windowed aggregation, exposition.

pub mod event;
pub mod latency;
pub mod prometheus;
pub mod store;

pub use event::{parse_batch, BatchError, Event};
pub use store::{ArmSummary, Ingested, MetricsStore, StoreLimits, WindowReport};
