//! The HTTP API: routes, shared state, authorization and the JSON error shape.

pub mod canaries;
pub mod edge;
pub mod flags;
pub mod items;
pub mod metrics;
pub mod ofrep;
pub mod static_files;
pub mod route_limits;
pub mod stream;

use std::path::Path;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use tower_http::cors::{AllowOrigin, Any, CorsLayer};

use crate::auth::{Authn, Principal, Role, Tokens};
use crate::controller::Judgements;
use crate::leader::Leadership;
use crate::metrics::MetricsStore;
use crate::store::{FlagStore, ItemKind};
use crate::stream::StreamHub;

/// Everything a handler needs.
#[derive(Clone)]
pub struct AppState {
    pub flags: Arc<FlagStore>,
    /// Subscribers of `GET /api/flags/stream`.
    pub stream: Arc<StreamHub>,
    pub metrics: Arc<MetricsStore>,
    pub tokens: Arc<Tokens>,
    /// The canary controller's last judgement per canary.
    pub judgements: Arc<Judgements>,
    /// Browser origins allowed to post metric events, besides the server's own.
    pub ingest_origins: Arc<Vec<String>>,
    /// Whether this replica's canary controller leads (`edgeflag_controller_leader`).
    pub leadership: Arc<Leadership>,
    /// Cache lifetimes of the public edge path (`/edge/…`).
    pub edge_cache: edge::EdgeCache,
}

pub const X_EDGEFLAG_VERSION: HeaderName = HeaderName::from_static("x-edgeflag-version");
pub const X_EDGEFLAG_MESSAGE: HeaderName = HeaderName::from_static("x-edgeflag-message");
pub const X_EDGEFLAG_ENV: HeaderName = HeaderName::from_static("x-edgeflag-env");
pub const LAST_EVENT_ID: HeaderName = HeaderName::from_static("last-event-id");

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
    let item = |kind: ItemKind| {
        get(move |s, p, h| items::get(kind, s, p, h))
            .put(move |s, p, r| items::put(kind, s, p, r))
            .patch(move |s, p, r| items::patch(kind, s, p, r))
            .delete(move |s, p, h| items::delete(kind, s, p, h))
            .layer(flag_limit)
    };
    let api = Router::new()
        .route(
            "/api/flags",
            get(flags::get_flags).put(flags::put_flags).layer(flag_limit),
        )
        // Static routes win over `/api/flags/{key}`: a flag named `stream` is `/api/flags/strea%6D`.
        .route("/api/flags/stream", get(stream::subscribe))
        .route("/api/flags/history", get(flags::history))
        .route("/api/flags/versions/{n}", get(flags::get_version))
        .route("/api/flags/rollback/{n}", post(flags::rollback).layer(flag_limit))
        .route("/api/flags/{key}", item(ItemKind::Flag))
        .route("/api/segments/{key}", item(ItemKind::Segment))
        .route("/api/webhooks/deliveries", get(flags::deliveries))
        .route("/edge/flags.json", get(edge::flags))
        .route("/edge/manifest.json", get(edge::manifest))
        .route("/edge/versions/{file}", get(edge::version))
        .route("/api/canaries", get(canaries::list))
        .route("/api/canaries/{flag}", get(canaries::one))
        .route("/api/metrics", get(metrics::get_metrics))
        .route("/metrics", get(metrics::prometheus))
        // A wildcard: OFREP providers do not encode keys, so a key's `/` arrives as is.
        .route("/ofrep/v1/evaluate/flags/{*key}", post(ofrep::evaluate_one).layer(flag_limit))
        .route("/ofrep/v1/evaluate/flags", post(ofrep::evaluate_bulk).layer(flag_limit))
        .route("/ofrep/v1/configuration", get(ofrep::configuration))
        .route("/healthz", get(|| async { "ok\n" }))
        .with_state(state.clone());

    // Browsers on other origins (a dashboard served elsewhere, OFREP web clients). No
    // credentials: writes carry a bearer token, not cookies, so any origin is safe.
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::PUT, Method::PATCH, Method::DELETE, Method::POST])
        .allow_headers([
            header::AUTHORIZATION,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            header::CONTENT_TYPE,
            X_EDGEFLAG_MESSAGE,
            X_EDGEFLAG_ENV,
            // EventSource sends it when it reconnects (not a CORS-safelisted header).
            LAST_EVENT_ID,
            header::CACHE_CONTROL,
        ])
        .expose_headers([header::ETAG, X_EDGEFLAG_VERSION]);

    // Metric events steer rollouts: a preflight grants only the origins allowed with
    // `--allowed-origin` (same-origin pages need no preflight), and the handler refuses other
    // origins outright (a "simple" cross-origin POST has no preflight).
    let allowed: Vec<HeaderValue> = state.ingest_origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    let events_cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(allowed))
        .allow_methods([Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE]);
    let events = Router::new()
        .route(
            "/api/metrics/events",
            post(metrics::post_events).layer(DefaultBodyLimit::max(limits.max_events_body_bytes)),
        )
        .with_state(state)
        .layer(events_cors);

    api.layer(cors)
        .merge(events)
        .merge(static_files::router(static_dir))
        .layer(route_limits::RouteLimitsLayer::new(per_route))
}

/// `{"error": message}` with a status.
pub fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(serde_json::json!({ "error": message.into() }))).into_response()
}

/// A refusal sent before the request body was read: `Connection: close`, so the client does
/// not reuse a connection that still carries the unread body (hyper closes it).
pub fn refused_unread(mut resp: Response) -> Response {
    resp.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    resp
}

/// The token's principal when its role passes `allowed`: 401 (with `WWW-Authenticate`)
/// without a valid token, 403 with a valid token of another role. Both are sent before the
/// body is read (see [`refused_unread`]).
// A Response is large, but this runs once per request that needs it.
#[allow(clippy::result_large_err)]
pub fn require(tokens: &Tokens, headers: &HeaderMap, allowed: fn(Role) -> bool, what: &str) -> Result<Principal, Response> {
    match tokens.authenticate(headers) {
        Authn::Valid(p) if allowed(p.role) => Ok(p),
        Authn::Valid(p) => Err(refused_unread(error(
            StatusCode::FORBIDDEN,
            format!("the token {:?} has role {}, which may not {what}", p.name, p.role.as_str()),
        ))),
        Authn::Anonymous | Authn::Invalid => {
            let mut resp = error(StatusCode::UNAUTHORIZED, format!("{what} needs a valid token: Authorization: Bearer <token>"));
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            Err(refused_unread(resp))
        }
    }
}

/// Longest audit message kept from `X-Edgeflag-Message`.
const MAX_MESSAGE_LEN: usize = 1000;

/// The audit message of a write: `X-Edgeflag-Message`, at most 1000 characters, control
/// characters dropped. Header values are bytes, and browsers can only send Latin-1 in them, so
/// a message in any language comes as an RFC 8187 extended value, `UTF-8''D%C3%A9ploiement`
/// (what the dashboard sends when a message is not plain ASCII); any other value is taken as
/// UTF-8 bytes (curl, the CLI), or as Latin-1 when it is not UTF-8 (a browser's own encoding of
/// a header value).
pub fn message(headers: &HeaderMap) -> String {
    let Some(raw) = headers.get(X_EDGEFLAG_MESSAGE).map(HeaderValue::as_bytes) else {
        return String::new();
    };
    let text = match strip_prefix_ignore_case(raw, b"UTF-8''") {
        Some(encoded) => percent_encoding::percent_decode(encoded).decode_utf8_lossy().into_owned(),
        None => match std::str::from_utf8(raw) {
            Ok(utf8) => utf8.to_string(),
            Err(_) => raw.iter().map(|&b| char::from(b)).collect(),
        },
    };
    text.chars().filter(|c| !c.is_control()).take(MAX_MESSAGE_LEN).collect()
}

fn strip_prefix_ignore_case<'a>(bytes: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    let head = bytes.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &bytes[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message_of(value: &[u8]) -> String {
        let mut headers = HeaderMap::new();
        headers.insert(X_EDGEFLAG_MESSAGE, HeaderValue::from_bytes(value).expect("a header value"));
        message(&headers)
    }

    #[test]
    fn audit_messages_in_any_language_arrive_whole() {
        assert_eq!(message(&HeaderMap::new()), "");
        assert_eq!(message_of(b"raise to 50%"), "raise to 50%");
        // RFC 8187 extended value (the dashboard), charset case-insensitive.
        assert_eq!(message_of(b"UTF-8''D%C3%A9ploiement%20%E2%9C%93%20100%25"), "Déploiement ✓ 100%");
        assert_eq!(message_of(b"utf-8''%E6%94%AF%E4%BB%98"), "支付");
        // Raw UTF-8 bytes (curl), and Latin-1 bytes (a browser's own header encoding).
        assert_eq!(message_of("Déploiement".as_bytes()), "Déploiement");
        assert_eq!(message_of(b"D\xe9ploiement"), "Déploiement");
        // Control characters dropped, also when percent-encoded; length capped.
        assert_eq!(message_of(b"UTF-8''a%0Ab%00c"), "abc");
        assert_eq!(message_of("é".repeat(2000).as_bytes()).chars().count(), MAX_MESSAGE_LEN);
    }
}
