//! The HTTP API: routes, shared state and the JSON error shape.

pub mod flags;
pub mod metrics;
pub mod ofrep;
pub mod static_files;
pub mod route_limits;

use std::path::Path;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderName, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use tower_http::cors::{Any, CorsLayer};

use crate::auth::Tokens;
use crate::metrics::MetricsStore;
use crate::store::FlagStore;

/// Everything a handler needs.
#[derive(Clone)]
pub struct AppState {
    pub flags: Arc<FlagStore>,
    pub metrics: Arc<MetricsStore>,
    pub tokens: Arc<Tokens>,
}

pub const X_EDGEFLAG_VERSION: HeaderName = HeaderName::from_static("x-edgeflag-version");
pub const X_EDGEFLAG_MESSAGE: HeaderName = HeaderName::from_static("x-edgeflag-message");
pub const X_EDGEFLAG_ENV: HeaderName = HeaderName::from_static("x-edgeflag-env");

/// Body-size limits per route group.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_body_bytes: usize,
    pub max_events_body_bytes: usize,
}

/// The whole application, with the default per-route limits.
pub fn router(state: AppState, limits: Limits, static_dir: &Path) -> Router {
    router_with_limits(state, limits, route_limits::RouteLimits::default(), static_dir)
}

/// The whole application; `per_route` bounds each route's time and concurrency.
pub fn router_with_limits(
    state: AppState,
    limits: Limits,
    per_route: route_limits::RouteLimits,
    static_dir: &Path,
) -> Router {
    let flag_limit = DefaultBodyLimit::max(limits.max_body_bytes);
    let api = Router::new()
        .route(
            "/api/flags",
            get(flags::get_flags).put(flags::put_flags).layer(flag_limit),
        )
        .route("/api/flags/history", get(flags::history))
        .route("/api/flags/versions/{n}", get(flags::get_version))
        .route("/api/flags/rollback/{n}", post(flags::rollback).layer(flag_limit))
        .route(
            "/api/metrics/events",
            post(metrics::post_events).layer(DefaultBodyLimit::max(limits.max_events_body_bytes)),
        )
        .route("/api/metrics", get(metrics::get_metrics))
        .route("/metrics", get(metrics::prometheus))
        .route("/ofrep/v1/evaluate/flags/{key}", post(ofrep::evaluate_one).layer(flag_limit))
        .route("/ofrep/v1/evaluate/flags", post(ofrep::evaluate_bulk).layer(flag_limit))
        .route("/ofrep/v1/configuration", get(ofrep::configuration))
        .route("/healthz", get(|| async { "ok\n" }))
        .with_state(state);

    // Browsers on other origins (a dashboard served elsewhere, OFREP web clients). No
    // credentials: writes carry a bearer token, not cookies, so any origin is safe.
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::PUT, Method::POST])
        .allow_headers([
            header::AUTHORIZATION,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            header::CONTENT_TYPE,
            X_EDGEFLAG_MESSAGE,
            X_EDGEFLAG_ENV,
        ])
        .expose_headers([header::ETAG, X_EDGEFLAG_VERSION]);

    api.merge(static_files::router(static_dir))
        .layer(route_limits::RouteLimitsLayer::new(per_route))
        .layer(cors)
}

/// `{"error": message}` with a status.
pub fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(serde_json::json!({ "error": message.into() }))).into_response()
}
