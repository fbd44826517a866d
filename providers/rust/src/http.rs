//! Loading flags from an edgeflag server (or any URL serving the file) and posting metric
//! events, over HTTP (feature `http`; needs a tokio runtime).
//!
//! - [`connect`]: `GET {server}/api/flags`, then a task polls it every `poll` with
//!   `If-None-Match` and swaps each new version in (`FlagsHandle::replace`); a failed poll
//!   keeps the last good flags and marks the provider `STALE` until the next success.
//! - [`MetricsReporter`]: posts the queued events with an ingest token, in batches, from a task.

use std::sync::Arc;
use std::time::Duration;

use open_feature::EvaluationContext;
use reqwest::header::{AUTHORIZATION, ETAG, IF_NONE_MATCH};
use reqwest::StatusCode;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::metrics::{EventQueue, Outcome};
use crate::{EdgeflagProvider, FlagsHandle};

/// Errors of the first load.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("GET {url}: {source}")]
    Http { url: String, source: reqwest::Error },
    #[error("GET {url}: HTTP {status}")]
    Status { url: String, status: StatusCode },
    #[error("{url}: invalid flag file: {source}")]
    Invalid { url: String, source: edgeflag_evaluator::ValidationErrors },
}

/// A provider over the server's flags, and the task that keeps them current (abort it to stop).
pub async fn connect(server: &str, poll: Duration) -> Result<(EdgeflagProvider, JoinHandle<()>), ConnectError> {
    let url = format!("{}/api/flags", server.trim_end_matches('/'));
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().map_err(|source| ConnectError::Http { url: url.clone(), source })?;
    let res = client.get(&url).send().await.map_err(|source| ConnectError::Http { url: url.clone(), source })?;
    if !res.status().is_success() {
        return Err(ConnectError::Status { url, status: res.status() });
    }
    let (etag, version) = tags(&res);
    let text = res.text().await.map_err(|source| ConnectError::Http { url: url.clone(), source })?;
    let flags = edgeflag_evaluator::FlagSet::from_json(&text).map_err(|source| ConnectError::Invalid { url: url.clone(), source })?;
    let provider = EdgeflagProvider::new(flags, version);
    let handle = provider.handle();
    let task = tokio::spawn(poll_loop(client, url, handle, etag, poll));
    Ok((provider, task))
}

fn tags(res: &reqwest::Response) -> (Option<String>, Option<u64>) {
    let etag = res.headers().get(ETAG).and_then(|v| v.to_str().ok()).map(str::to_string);
    let version = res.headers().get("x-edgeflag-version").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    (etag, version)
}

async fn poll_loop(client: reqwest::Client, url: String, handle: FlagsHandle, mut etag: Option<String>, poll: Duration) {
    loop {
        tokio::time::sleep(poll).await;
        let mut req = client.get(&url);
        if let Some(tag) = &etag {
            req = req.header(IF_NONE_MATCH, tag);
        }
        let ok = match req.send().await {
            Ok(res) if res.status() == StatusCode::NOT_MODIFIED => true,
            Ok(res) if res.status().is_success() => {
                let (new_etag, version) = tags(&res);
                match res.text().await {
                    // An invalid file is refused by `replace`: the last good flags keep answering.
                    Ok(text) => match handle.replace(&text, version) {
                        Ok(_) => {
                            etag = new_etag;
                            true
                        }
                        Err(_) => false,
                    },
                    Err(_) => false,
                }
            }
            _ => false,
        };
        handle.mark_stale(!ok);
    }
}

/// Posts canary and experiment metric events (see [`crate::metrics`]).
pub struct MetricsReporter {
    queue: Arc<EventQueue>,
    wake: Arc<Notify>,
    flags: FlagsHandle,
    env: Option<String>,
    task: JoinHandle<()>,
}

impl MetricsReporter {
    /// `events_url`: the server's `/api/metrics/events`; `ingest_token`: a token of role
    /// `ingest` (a secret: from the environment or a secret store, never from code).
    pub fn spawn(provider: &EdgeflagProvider, events_url: &str, ingest_token: &str, flush_every: Duration) -> Self {
        let env = provider.environment().map(str::to_string);
        let queue = Arc::new(EventQueue::new(env.as_deref(), 100, 10_000));
        let wake = Arc::new(Notify::new());
        let task = tokio::spawn(post_loop(queue.clone(), wake.clone(), events_url.to_string(), ingest_token.to_string(), flush_every));
        MetricsReporter { queue, wake, flags: provider.handle(), env, task }
    }

    /// Records the outcome of the work done for `context` for every flag that answers it with a
    /// canary arm or an experiment variant. Never blocks on the network.
    pub fn track(&self, context: &EvaluationContext, outcome: Outcome, latency_ms: f64) {
        let Ok(labelled) = self.flags.labelled_events(context, self.env.as_deref()) else {
            return;
        };
        if self.queue.record(&labelled, outcome, latency_ms) {
            self.wake.notify_one();
        }
    }

    pub fn queue(&self) -> &EventQueue {
        &self.queue
    }

    /// Posts what waits now.
    pub fn flush(&self) {
        self.wake.notify_one();
    }
}

impl Drop for MetricsReporter {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn post_loop(queue: Arc<EventQueue>, wake: Arc<Notify>, url: String, token: String, every: Duration) {
    let client = match reqwest::Client::builder().timeout(Duration::from_secs(30)).build() {
        Ok(c) => c,
        Err(_) => return,
    };
    loop {
        let _ = tokio::time::timeout(every, wake.notified()).await;
        loop {
            let batch = queue.take_batch();
            if batch.is_empty() {
                break;
            }
            let n = batch.len();
            let sent = client
                .post(&url)
                .header(AUTHORIZATION, format!("Bearer {token}"))
                .json(&serde_json::json!({ "events": batch }))
                .send()
                .await;
            // A refused or failed batch is dropped (counted): retrying could only be refused
            // again or arrive too late to judge.
            if !matches!(sent, Ok(ref r) if r.status() == StatusCode::ACCEPTED) {
                queue.count_dropped(n);
            }
        }
    }
}
