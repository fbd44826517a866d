//! Per-route request timeouts: reading the body and producing the response headers must finish
//! within the route's time, else 408 and the connection is closed.
//!
//! One middleware over the whole router picks the time by the matched route, so a route gets
//! its own time (or none, for long-lived responses such as event streams) with one entry in
//! [`RouteTimeouts`] rather than its own layer. Streaming a response body is bounded by the
//! serve loop's write-stall timeout, not here.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

/// The time each route has; routes not listed get `default`.
#[derive(Debug, Clone)]
pub struct RouteTimeouts {
    pub default: Duration,
    /// Route pattern (as registered, e.g. `/api/metrics/events`) → its time; `None` = no limit.
    pub routes: Vec<(&'static str, Option<Duration>)>,
}

impl Default for RouteTimeouts {
    fn default() -> Self {
        RouteTimeouts::new(Duration::from_secs(30), Duration::from_secs(60))
    }
}

impl RouteTimeouts {
    /// `request` for every route, `events` for metric ingestion (large batches).
    pub fn new(request: Duration, events: Duration) -> Self {
        RouteTimeouts { default: request, routes: vec![("/api/metrics/events", Some(events))] }
    }

    pub fn for_route(&self, route: Option<&str>) -> Option<Duration> {
        match route.and_then(|r| self.routes.iter().find(|(pattern, _)| *pattern == r)) {
            Some((_, time)) => *time,
            None => Some(self.default),
        }
    }
}

/// The middleware (`from_fn_with_state`).
pub async fn enforce(State(timeouts): State<Arc<RouteTimeouts>>, req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string());
    let Some(limit) = timeouts.for_route(route.as_deref()) else {
        return next.run(req).await;
    };
    match tokio::time::timeout(limit, next.run(req)).await {
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
    fn routes_get_their_own_time_or_the_default() {
        let mut t = RouteTimeouts::new(Duration::from_secs(30), Duration::from_secs(60));
        t.routes.push(("/api/stream", None));
        assert_eq!(t.for_route(Some("/api/flags")), Some(Duration::from_secs(30)));
        assert_eq!(t.for_route(None), Some(Duration::from_secs(30)));
        assert_eq!(t.for_route(Some("/api/metrics/events")), Some(Duration::from_secs(60)));
        assert_eq!(t.for_route(Some("/api/stream")), None);
    }
}
