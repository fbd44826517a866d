//! Metric events from edges and browsers: validation, windowed aggregation, exposition.

pub mod event;
pub mod latency;
pub mod prometheus;
pub mod store;

pub use event::{parse_batch, BatchError, Event};
pub use store::{ArmSummary, Ingested, MetricsStore, StoreLimits, WindowReport};

use crate::auth::Principal;

/// Why events were not ingested.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{name} (role {role}) may not post metric events", role = .0.role.as_str(), name = .0.name)]
    NotAllowed(Principal),
}

/// The one way events reach the store: from a principal whose role may ingest (an ingest or
/// admin token over HTTP, or an in-process source such as the demo generator). So the
/// controller and `/api/metrics` only ever see authenticated events.
pub fn ingest_as(store: &MetricsStore, who: &Principal, events: &[Event], now_ms: i64) -> Result<Ingested, IngestError> {
    if !who.role.may_ingest() {
        store.note_rejected(events.len());
        return Err(IngestError::NotAllowed(who.clone()));
    }
    Ok(store.ingest(events, now_ms))
}
