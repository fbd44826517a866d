//! `GET /api/flags/stream`: the change stream over HTTP (server-sent events; see
//! [`crate::stream`]).

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use rand::Rng as _;
use serde::Deserialize;

use super::{error, AppState, LAST_EVENT_ID};
use crate::stream::Refused;

#[derive(Deserialize)]
pub struct StreamQuery {
    /// For a first connect, where `Last-Event-ID` cannot be set (EventSource): the ETag the
    /// client already holds.
    last_event_id: Option<String>,
}

pub async fn subscribe(State(app): State<AppState>, Query(q): Query<StreamQuery>, headers: HeaderMap) -> Response {
    let header_id = headers.get(LAST_EVENT_ID).and_then(|v| v.to_str().ok());
    match app.stream.subscribe(header_id.or(q.last_event_id.as_deref())) {
        Ok(subscription) => {
            let mut resp = Body::from_stream(subscription).into_response();
            let h = resp.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            // Reverse proxies (nginx) must pass events through as they come.
            h.insert("x-accel-buffering", HeaderValue::from_static("no"));
            resp
        }
        Err(refused) => {
            let mut resp = error(StatusCode::SERVICE_UNAVAILABLE, refused.to_string());
            // Spread the retries of the refused over a few seconds.
            let after = match refused {
                Refused::Full => rand::rng().random_range(5..15u32),
                Refused::Closed => 1,
            };
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(after));
            resp
        }
    }
}
