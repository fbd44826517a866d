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

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::{MatchedPath, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use pin_project_lite::pin_project;
use tokio::sync::Semaphore;
use tokio::time::Timeout;
use tower::{Layer, Service};

/// The route of metric ingestion.
pub const EVENTS_ROUTE: &str = "/api/metrics/events";
/// The change stream: a response that lasts as long as the subscriber stays (its events are
/// bounded by the stream's own queue and the serve loop's write-stall timeout).
pub const STREAM_ROUTE: &str = "/api/flags/stream";

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
            routes: vec![
                RouteLimit {
                    route: EVENTS_ROUTE,
                    timeout: Some(events),
                    concurrency: Some(Arc::new(Semaphore::new(Self::ingest_concurrency()))),
                },
                RouteLimit { route: STREAM_ROUTE, timeout: None, concurrency: None },
            ],
        }
    }

    fn for_route(&self, route: Option<&str>) -> (Option<Duration>, Option<&Arc<Semaphore>>) {
        match route.and_then(|r| self.routes.iter().find(|l| l.route == r)) {
            Some(limit) => (limit.timeout, limit.concurrency.as_ref()),
            None => (Some(self.default_timeout), None),
        }
    }
}

/// The middleware: a plain tower layer over the whole router, so a request that needs no
/// waiting costs a route lookup and a timer that is only armed if the handler is not ready
/// at once (axum's `from_fn` boxed every request).
#[derive(Clone)]
pub struct RouteLimitsLayer(Arc<RouteLimits>);

impl RouteLimitsLayer {
    pub fn new(limits: RouteLimits) -> Self {
        RouteLimitsLayer(Arc::new(limits))
    }
}

impl<S> Layer<S> for RouteLimitsLayer {
    type Service = RouteLimitsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RouteLimitsService { inner, limits: self.0.clone() }
    }
}

#[derive(Clone)]
pub struct RouteLimitsService<S> {
    inner: S,
    limits: Arc<RouteLimits>,
}

type Queued = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

pin_project! {
    /// The response future: the handler under the route's time limit, if any.
    #[project = LimitedProj]
    pub enum Limited<F> {
        Timed { #[pin] fut: Timeout<F>, limit: Duration },
        Unlimited { #[pin] fut: F },
        Queued { fut: Queued },
    }
}

impl<S> Service<Request> for RouteLimitsService<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Limited<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let route = req.extensions().get::<MatchedPath>().map(MatchedPath::as_str);
        let (timeout, concurrency) = self.limits.for_route(route);
        match (timeout, concurrency.cloned()) {
            (Some(limit), None) => Limited::Timed { fut: tokio::time::timeout(limit, self.inner.call(req)), limit },
            (None, None) => Limited::Unlimited { fut: self.inner.call(req) },
            (timeout, Some(semaphore)) => {
                // Wait for a slot before the handler reads the body; the wait counts in the time.
                let mut inner = self.inner.clone();
                let run = async move {
                    let _permit = semaphore.acquire_owned().await.ok();
                    inner.call(req).await
                };
                let fut: Queued = match timeout {
                    Some(limit) => {
                        Box::pin(async move { tokio::time::timeout(limit, run).await.unwrap_or_else(|_| Ok(timed_out(limit))) })
                    }
                    None => Box::pin(run),
                };
                Limited::Queued { fut }
            }
        }
    }
}

impl<F: Future<Output = Result<Response, Infallible>>> Future for Limited<F> {
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            LimitedProj::Timed { fut, limit } => match fut.poll(cx) {
                Poll::Ready(Ok(resp)) => Poll::Ready(resp),
                Poll::Ready(Err(_)) => Poll::Ready(Ok(timed_out(*limit))),
                Poll::Pending => Poll::Pending,
            },
            LimitedProj::Unlimited { fut } => fut.poll(cx),
            LimitedProj::Queued { fut } => fut.as_mut().poll(cx),
        }
    }
}

/// 408; the body may be half read, so the connection cannot be reused.
fn timed_out(limit: Duration) -> Response {
    let mut resp = super::error(
        StatusCode::REQUEST_TIMEOUT,
        format!("the request was not received and answered within {limit:?}"),
    );
    resp.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    resp
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
        // The change stream is exempt by default.
        assert_eq!(RouteLimits::default().for_route(Some(STREAM_ROUTE)).0, None);
    }

    fn app(limits: RouteLimits, running: Arc<std::sync::atomic::AtomicUsize>, peak: Arc<std::sync::atomic::AtomicUsize>) -> axum::Router {
        use std::sync::atomic::Ordering;
        let slow = move || {
            let (running, peak) = (running.clone(), peak.clone());
            async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_secs(2)).await;
                running.fetch_sub(1, Ordering::SeqCst);
                "done"
            }
        };
        axum::Router::new()
            .route(EVENTS_ROUTE, axum::routing::post(slow.clone()))
            .route("/slow", axum::routing::get(slow))
            .layer(RouteLimitsLayer::new(limits))
    }

    #[tokio::test(start_paused = true)]
    async fn slow_handlers_get_408_and_ingestion_runs_at_most_n_at_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use tower::ServiceExt as _;
        let (running, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let mut limits = RouteLimits::new(Duration::from_secs(1), Duration::from_secs(60));
        limits.routes[0].concurrency = Some(Arc::new(Semaphore::new(2)));
        let router = app(limits, running.clone(), peak.clone());

        let req = |method: &str, path: &str| {
            axum::http::Request::builder().method(method).uri(path).body(axum::body::Body::empty()).unwrap_or_default()
        };
        let resp = router.clone().oneshot(req("GET", "/slow")).await.unwrap_or_else(|e| match e {});
        assert_eq!(resp.status(), StatusCode::REQUEST_TIMEOUT);
        assert_eq!(resp.headers().get(header::CONNECTION).and_then(|v| v.to_str().ok()), Some("close"));
        // (The timed-out handler was dropped mid-way and never counted itself out.)
        running.store(0, Ordering::SeqCst);
        peak.store(0, Ordering::SeqCst);

        let started = tokio::time::Instant::now();
        let posts: Vec<_> = (0..5).map(|_| tokio::spawn(router.clone().oneshot(req("POST", EVENTS_ROUTE)))).collect();
        for post in posts {
            let resp = post.await.ok().and_then(|r| r.ok()).map(|r| r.status());
            assert_eq!(resp, Some(StatusCode::OK));
        }
        assert_eq!(peak.load(Ordering::SeqCst), 2, "at most two at once");
        // Five 2 s handlers, two at a time: three rounds.
        assert_eq!(started.elapsed().as_secs(), 6);
    }
}
