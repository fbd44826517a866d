//! Per-route limits: how long a request may take (reading its body and producing the
//! response headers, else 408 and the connection is closed) and how many may run at once.
//!
//! One middleware over the whole router picks the limits by the matched route, so a route
//! gets its own (or none, for long-lived responses such as event streams) with one entry in
//! [`RouteLimits`] rather than its own layers. Streaming a response body is bounded by the
//! serve loop's write-stall timeout, not here.
//!
//! Metric ingestion is the one route whose requests are large (batches up to
//! `--max-events-body-bytes`): at most [`RouteLimits::ingest_concurrency`] are read and parsed
//! at once, so their memory is bounded by that many bodies whatever the number of connections.
//! Others wait (their bodies stay unread in the socket) within their timeout.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use tokio::sync::Semaphore;

/// The route of metric ingestion.
pub const EVENTS_ROUTE: &str = "/api/metrics/events";

/// The limits of one route.
#[derive(Debug, Clone)]
pub struct RouteLimit {
    /// Route pattern as registered (e.g. `/api/metrics/events`).
    pub route: &'static str,
    /// `None`: no time limit (long-lived responses).
    pub timeout: Option<Duration>,
    /// Requests of this route handled at once (`None`: no limit).
    pub concurrency: Option<Arc<Semaphore>>,
}

/// The limits of every route; routes not listed get `default_timeout` and no concurrency limit.
#[derive(Debug, Clone)]
pub struct RouteLimits {
    pub default_timeout: Duration,
    pub routes: Vec<RouteLimit>,
}

impl Default for RouteLimits {
    fn default() -> Self {
        RouteLimits::new(Duration::from_secs(30), Duration::from_secs(60))
    }
}

impl RouteLimits {
    /// Batches parsed at once: two per core, at least four.
    pub fn ingest_concurrency() -> usize {
        std::thread::available_parallelism().map_or(4, |n| (2 * n.get()).max(4))
    }

    /// `request` for every route; `events` and [`Self::ingest_concurrency`] for ingestion.
    pub fn new(request: Duration, events: Duration) -> Self {
        RouteLimits {
            default_timeout: request,
            routes: vec![RouteLimit {
                route: EVENTS_ROUTE,
                timeout: Some(events),
                concurrency: Some(Arc::new(Semaphore::new(Self::ingest_concurrency()))),
            }],
        }
    }

    fn for_route(&self, route: Option<&str>) -> (Option<Duration>, Option<&Arc<Semaphore>>) {
        match route.and_then(|r| self.routes.iter().find(|l| l.route == r)) {
            Some(limit) => (limit.timeout, limit.concurrency.as_ref()),
            None => (Some(self.default_timeout), None),
        }
    }
}

/// The middleware (`from_fn_with_state`).
pub async fn enforce(State(limits): State<Arc<RouteLimits>>, req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string());
    let (timeout, concurrency) = limits.for_route(route.as_deref());
    let concurrency = concurrency.cloned();
    let run = async move {
        // Held until the handler is done with the body.
        let _permit = match concurrency {
            Some(semaphore) => semaphore.acquire_owned().await.ok(),
            None => None,
        };
        next.run(req).await
    };
    let Some(limit) = timeout else {
        return run.await;
    };
    match tokio::time::timeout(limit, run).await {
        Ok(resp) => resp,
        Err(_) => {
            let mut resp = super::error(
                StatusCode::REQUEST_TIMEOUT,
                format!("the request was not received and answered within {limit:?}"),
            );
            // The body may be half read: the connection cannot be reused.
            resp.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
            resp
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_get_their_own_limits_or_the_default() {
        let mut limits = RouteLimits::new(Duration::from_secs(30), Duration::from_secs(60));
        limits.routes.push(RouteLimit { route: "/api/stream", timeout: None, concurrency: None });
        assert_eq!(limits.for_route(Some("/api/flags")).0, Some(Duration::from_secs(30)));
        assert!(limits.for_route(Some("/api/flags")).1.is_none());
        assert_eq!(limits.for_route(None).0, Some(Duration::from_secs(30)));
        let (time, concurrency) = limits.for_route(Some(EVENTS_ROUTE));
        assert_eq!(time, Some(Duration::from_secs(60)));
        assert_eq!(concurrency.map(|s| s.available_permits()), Some(RouteLimits::ingest_concurrency()));
        assert_eq!(limits.for_route(Some("/api/stream")).0, None);
    }
}
