//! `GET /api/flags/stream`: every new flag-file version pushed to subscribers as server-sent
//! events, so edges and browsers swap in a change within about a second instead of when their
//! poll interval runs out.
//!
//! The input is the store's watch of its current snapshot ([`FlagStore::subscribe`]): on one
//! process every write publishes into it; on replicas the store's `LISTEN/NOTIFY` listener
//! publishes the versions other replicas wrote. One task ([`run`]) turns each new version into
//! its event **once** (shared bytes, never copied per subscriber) and fans it out.
//!
//! Events (see server/README.md, "Change stream"):
//!
//! - `version` (`id:` the version's ETag): `{"version", "etag", "created_at", "heartbeat_ms",
//!   "file": {…}}`, or, when the file's compact JSON is larger than `--stream-inline-max-bytes`,
//!   `{…, "fetch": "/api/flags/versions/N", "bytes": n}`: a notice to fetch the (immutable,
//!   cacheable) version instead of every subscriber receiving it at once;
//! - `heartbeat` every `--stream-heartbeat`: `{"version", "etag", "heartbeat_ms"}`, so clients
//!   can tell a silent stream from a dead one (and notice a missed version).
//!
//! On connect a subscriber gets the current version, unless its `Last-Event-ID` (header, or the
//! `last_event_id` query parameter for a first connect) is the current ETag: then only a
//! heartbeat. So a reconnect costs no file.
//!
//! Bounds: at most `--stream-max-subscribers` subscribers (then 503 with `Retry-After`); each has
//! a queue of at most `--stream-buffer` events. A subscriber whose queue is full when an event
//! is fanned out is slow: it is dropped at once (its connection is aborted and its slot freed),
//! so a slow reader never makes the server hold more than its queue of shared frames.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Bytes;
use rand::Rng as _;
use tokio::sync::{mpsc, watch};

use crate::store::{FlagStore, Snapshot};

/// `--stream-*` options.
#[derive(Debug, Clone, clap::Args)]
pub struct StreamArgs {
    /// Time between heartbeat events on `GET /api/flags/stream`.
    #[arg(long = "stream-heartbeat", default_value = "15s", value_parser = crate::config::parse_duration_arg)]
    pub heartbeat: Duration,

    /// Most subscribers of `GET /api/flags/stream` at once; more get 503 with `Retry-After` (and
    /// poll instead). Keep it below the connection limit so streams leave room for requests.
    #[arg(long = "stream-max-subscribers", default_value_t = 2048)]
    pub max_subscribers: usize,

    /// Largest flag file (compact JSON, bytes) sent inside a `version` event; larger files are
    /// announced with a notice to fetch `/api/flags/versions/N`.
    #[arg(long = "stream-inline-max-bytes", default_value_t = 64 * 1024)]
    pub inline_max_bytes: usize,

    /// Events queued per subscriber; a subscriber whose queue is full is dropped.
    #[arg(long = "stream-buffer", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub buffer: u32,
}

impl Default for StreamArgs {
    fn default() -> Self {
        StreamArgs { heartbeat: Duration::from_secs(15), max_subscribers: 2048, inline_max_bytes: 64 * 1024, buffer: 16 }
    }
}

/// The frames of one version, encoded once and shared by every subscriber.
struct Frames {
    etag: String,
    event: Bytes,
    heartbeat: Bytes,
}

impl Frames {
    fn new(snap: &Snapshot, config: &StreamArgs) -> Frames {
        let heartbeat_ms = config.heartbeat.as_millis();
        let json = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into());
        let head = format!(
            r#"{{"version":{},"etag":{},"created_at":{},"heartbeat_ms":{heartbeat_ms}"#,
            snap.version,
            json(&snap.etag),
            json(&snap.created_at)
        );
        // Compact JSON in the model's member order (as served, minus the whitespace): one
        // `data:` line (compact JSON has no raw newline).
        let file = serde_json::to_string(snap.flags.file()).unwrap_or_default();
        let data = if !file.is_empty() && file.len() <= config.inline_max_bytes {
            format!(r#"{head},"file":{file}}}"#)
        } else {
            format!(r#"{head},"fetch":"/api/flags/versions/{}","bytes":{}}}"#, snap.version, snap.body.len())
        };
        Frames {
            etag: snap.etag.clone(),
            event: Bytes::from(format!("event: version\nid: {}\ndata: {data}\n\n", snap.etag)),
            heartbeat: Bytes::from(format!(
                "event: heartbeat\ndata: {{\"version\":{},\"etag\":{},\"heartbeat_ms\":{heartbeat_ms}}}\n\n",
                snap.version,
                json(&snap.etag)
            )),
        }
    }
}

struct Subscriber {
    tx: mpsc::Sender<Bytes>,
    /// Set when the subscriber is dropped for being slow: its stream ends with an error, which
    /// makes the HTTP server abort the connection (rather than finish the response cleanly).
    slow: Arc<AtomicBool>,
}

struct Inner {
    current: Arc<Frames>,
    subscribers: HashMap<u64, Subscriber>,
    next_id: u64,
    closed: bool,
}

/// Counters for `/metrics`.
#[derive(Default)]
struct Counters {
    connections: AtomicU64,
    refused_full: AtomicU64,
    refused_closed: AtomicU64,
    dropped_slow: AtomicU64,
    versions: AtomicU64,
}

/// The subscribers and the current version's frames.
pub struct StreamHub {
    config: StreamArgs,
    inner: Mutex<Inner>,
    counters: Counters,
}

/// Why a subscription was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("the stream has its maximum number of subscribers; poll GET /api/flags meanwhile")]
    Full,
    #[error("the server is shutting down")]
    Closed,
}

impl StreamHub {
    /// A hub serving `current` until [`run`] publishes newer versions.
    pub fn new(current: &Snapshot, config: StreamArgs) -> StreamHub {
        let frames = Arc::new(Frames::new(current, &config));
        StreamHub {
            config,
            inner: Mutex::new(Inner { current: frames, subscribers: HashMap::new(), next_id: 0, closed: false }),
            counters: Counters::default(),
        }
    }

    pub fn config(&self) -> &StreamArgs {
        &self.config
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // Plain maps and counters: a panic mid-update cannot leave them unusable.
        match self.inner.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Subscribes. The first frame (queued now, under the same lock as the fan-out, so no
    /// version published meanwhile can be missed) is the current version, or only a heartbeat
    /// when `last_event_id` is the current ETag.
    pub fn subscribe(self: &Arc<Self>, last_event_id: Option<&str>) -> Result<Subscription, Refused> {
        let mut inner = self.lock();
        if inner.closed {
            self.counters.refused_closed.fetch_add(1, Ordering::Relaxed);
            return Err(Refused::Closed);
        }
        if inner.subscribers.len() >= self.config.max_subscribers {
            self.counters.refused_full.fetch_add(1, Ordering::Relaxed);
            return Err(Refused::Full);
        }
        let (tx, rx) = mpsc::channel(self.config.buffer as usize);
        // Reconnect delay for EventSource, jittered so that the subscribers of a restarted
        // server do not all come back in the same millisecond.
        let retry_ms = rand::rng().random_range(1000..3000);
        let current = &inner.current;
        let first = if last_event_id.map(str::trim) == Some(current.etag.as_str()) { &current.heartbeat } else { &current.event };
        let mut frame = format!("retry: {retry_ms}\n").into_bytes();
        frame.extend_from_slice(first);
        // A new channel has room for its first frame.
        let _ = tx.try_send(Bytes::from(frame));
        let id = inner.next_id;
        inner.next_id += 1;
        let slow = Arc::new(AtomicBool::new(false));
        inner.subscribers.insert(id, Subscriber { tx, slow: slow.clone() });
        self.counters.connections.fetch_add(1, Ordering::Relaxed);
        Ok(Subscription { hub: self.clone(), id, rx, slow, ended: false })
    }

    /// Publishes `snap` to every subscriber (nothing when it is already the current version).
    pub fn publish(&self, snap: &Snapshot) {
        // Encoded outside the lock: subscribers keep connecting meanwhile.
        if self.lock().current.etag == snap.etag {
            return;
        }
        let frames = Arc::new(Frames::new(snap, &self.config));
        let mut inner = self.lock();
        inner.current = frames.clone();
        self.counters.versions.fetch_add(1, Ordering::Relaxed);
        self.fan_out(&mut inner, &frames.event);
    }

    /// Sends the current version's heartbeat to every subscriber.
    pub fn heartbeat(&self) {
        let mut inner = self.lock();
        let frame = inner.current.heartbeat.clone();
        self.fan_out(&mut inner, &frame);
    }

    fn fan_out(&self, inner: &mut Inner, frame: &Bytes) {
        inner.subscribers.retain(|_, sub| match sub.tx.try_send(frame.clone()) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                sub.slow.store(true, Ordering::Relaxed);
                self.counters.dropped_slow.fetch_add(1, Ordering::Relaxed);
                false
            }
            // Its stream is gone (the client left); its Drop finds nothing to remove.
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        });
    }

    /// Ends every stream (after the frames already queued) and refuses new ones: the server is
    /// shutting down, and a graceful shutdown waits for open responses.
    pub fn close(&self) {
        let mut inner = self.lock();
        inner.closed = true;
        inner.subscribers.clear();
    }

    /// Current subscribers.
    pub fn subscribers(&self) -> usize {
        self.lock().subscribers.len()
    }

    fn remove(&self, id: u64) {
        self.lock().subscribers.remove(&id);
    }

    /// The stream's series in the Prometheus text format.
    pub fn render(&self, out: &mut String) {
        use std::fmt::Write;
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let mut metric = |name: &str, kind: &str, help: &str, lines: &[(&str, u64)]| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (labels, value) in lines {
                let _ = writeln!(out, "{name}{labels} {value}");
            }
        };
        metric("edgeflag_stream_subscribers", "gauge", "Open GET /api/flags/stream subscriptions.", &[("", self.subscribers() as u64)]);
        metric("edgeflag_stream_subscribers_max", "gauge", "Most subscriptions at once (--stream-max-subscribers).", &[("", self.config.max_subscribers as u64)]);
        metric("edgeflag_stream_connections_total", "counter", "Subscriptions accepted.", &[("", get(&c.connections))]);
        metric(
            "edgeflag_stream_refused_total",
            "counter",
            "Subscriptions refused with 503: at the subscriber limit, or shutting down.",
            &[("{reason=\"full\"}", get(&c.refused_full)), ("{reason=\"shutdown\"}", get(&c.refused_closed))],
        );
        metric("edgeflag_stream_dropped_total", "counter", "Subscribers dropped because their event queue was full (slow readers).", &[("", get(&c.dropped_slow))]);
        metric("edgeflag_stream_versions_total", "counter", "New flag-file versions fanned out to subscribers.", &[("", get(&c.versions))]);
    }
}

/// Publishes every new version of the store and a heartbeat every `--stream-heartbeat`, until
/// `stop` turns true or the store is gone; then ends the streams.
pub async fn run(hub: Arc<StreamHub>, flags: Arc<FlagStore>, mut stop: watch::Receiver<bool>) {
    let mut versions = flags.subscribe();
    drop(flags);
    // A version written between the hub's creation and this subscription.
    hub.publish(&versions.borrow_and_update().clone());
    let period = hub.config.heartbeat;
    let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            changed = versions.changed() => {
                if changed.is_err() {
                    break;
                }
                let snap = versions.borrow_and_update().clone();
                hub.publish(&snap);
            }
            _ = heartbeat.tick() => hub.heartbeat(),
            _ = stop.changed() => break,
        }
    }
    hub.close();
}

/// One subscriber's event stream: the response body of `GET /api/flags/stream`.
pub struct Subscription {
    hub: Arc<StreamHub>,
    id: u64,
    rx: mpsc::Receiver<Bytes>,
    slow: Arc<AtomicBool>,
    ended: bool,
}

impl futures_util::Stream for Subscription {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.ended {
            return Poll::Ready(None);
        }
        if self.slow.load(Ordering::Relaxed) {
            self.ended = true;
            // An error, not an end: the connection is aborted and its buffers freed.
            return Poll::Ready(Some(Err(std::io::Error::other("slow subscriber dropped: its event queue was full"))));
        }
        match self.rx.poll_recv(cx) {
            Poll::Ready(Some(frame)) => Poll::Ready(Some(Ok(frame))),
            Poll::Ready(None) => {
                self.ended = true;
                // Dropped while waiting: the sender went away because the queue was full.
                if self.slow.load(Ordering::Relaxed) {
                    return Poll::Ready(Some(Err(std::io::Error::other("slow subscriber dropped: its event queue was full"))));
                }
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.hub.remove(self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt as _;

    const FILE: &str = r#"{"schema_version": 1, "flags": [
      {"key": "a", "kind": "boolean", "enabled": true, "off_variation": "off", "default_variation": "off",
       "variations": [{"name": "off", "value": false}, {"name": "on", "value": true}]}]}"#;

    fn store() -> (tempfile::TempDir, Arc<FlagStore>) {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = FlagStore::open(dir.path(), || Ok((FILE.to_string(), "import".into()))).unwrap_or_else(|e| panic!("{e}"));
        (dir, Arc::new(store))
    }

    fn write(store: &FlagStore, description: &str) -> Arc<Snapshot> {
        let mut v: serde_json::Value = serde_json::from_str(FILE).unwrap_or_default();
        v["flags"][0]["description"] = description.into();
        store.write_text(&v.to_string(), None, crate::store::WriteMeta { author: "t", message: "" }).unwrap_or_else(|e| panic!("{e}"))
    }

    async fn next_text(sub: &mut Subscription) -> String {
        let frame = tokio::time::timeout(Duration::from_secs(5), sub.next()).await;
        match frame {
            Ok(Some(Ok(bytes))) => String::from_utf8_lossy(&bytes).into_owned(),
            other => panic!("no frame: {other:?}"),
        }
    }

    #[tokio::test]
    async fn versions_are_encoded_once_inline_or_as_a_notice() {
        let (_dir, store) = store();
        let hub = Arc::new(StreamHub::new(&store.current(), StreamArgs::default()));
        let mut sub = hub.subscribe(None).unwrap_or_else(|e| panic!("{e}"));
        let first = next_text(&mut sub).await;
        assert!(first.starts_with("retry: "), "{first}");
        let etag = store.current().etag.clone();
        assert!(first.contains(&format!("event: version\nid: {etag}\ndata: {{\"version\":1,")), "{first}");
        let data = first.lines().find_map(|l| l.strip_prefix("data: ")).unwrap_or_default();
        let v: serde_json::Value = serde_json::from_str(data).unwrap_or_else(|e| panic!("{e}: {data}"));
        assert_eq!(v["file"]["flags"][0]["key"], "a");
        assert_eq!(v["heartbeat_ms"], 15_000);

        // Resuming at the current ETag: only a heartbeat.
        let mut resumed = hub.subscribe(Some(&etag)).unwrap_or_else(|e| panic!("{e}"));
        let text = next_text(&mut resumed).await;
        assert!(text.contains("event: heartbeat\ndata: {\"version\":1,"), "{text}");

        // Larger than the inline limit: a notice to fetch the version.
        let small = StreamArgs { inline_max_bytes: 10, ..StreamArgs::default() };
        let hub = Arc::new(StreamHub::new(&store.current(), small));
        let mut sub = hub.subscribe(Some("\"an old etag\"")).unwrap_or_else(|e| panic!("{e}"));
        let text = next_text(&mut sub).await;
        assert!(text.contains(r#""fetch":"/api/flags/versions/1","bytes":"#), "{text}");
        assert!(!text.contains("\"file\""), "{text}");
    }

    #[tokio::test]
    async fn a_full_queue_drops_the_subscriber_and_frees_its_slot() {
        let (_dir, store) = store();
        let config = StreamArgs { buffer: 2, max_subscribers: 2, ..StreamArgs::default() };
        let hub = Arc::new(StreamHub::new(&store.current(), config));
        let mut reader = hub.subscribe(None).unwrap_or_else(|e| panic!("{e}"));
        let mut stuck = hub.subscribe(None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(hub.subscribe(None).err(), Some(Refused::Full));
        next_text(&mut reader).await;
        // `stuck` never reads: its queue holds the first frame and one more; the next is too many.
        for i in 0..3 {
            hub.publish(&write(&store, &format!("v{i}")));
            next_text(&mut reader).await;
        }
        assert_eq!(hub.subscribers(), 1, "the slow subscriber is gone");
        assert!(hub.subscribe(None).is_ok(), "its slot is free");
        // Its stream ends with an error (the connection is aborted), not with stale frames.
        let ended = tokio::time::timeout(Duration::from_secs(5), stuck.next()).await;
        assert!(matches!(ended, Ok(Some(Err(_)))), "{ended:?}");
        let mut text = String::new();
        hub.render(&mut text);
        assert!(text.contains("edgeflag_stream_dropped_total 1"), "{text}");
        assert!(text.contains("edgeflag_stream_refused_total{reason=\"full\"} 1"), "{text}");
    }

    #[tokio::test]
    async fn the_hub_follows_the_store_and_ends_streams_at_shutdown() {
        let (_dir, store) = store();
        let config = StreamArgs { heartbeat: Duration::from_millis(50), ..StreamArgs::default() };
        let hub = Arc::new(StreamHub::new(&store.current(), config));
        let (stop_tx, stop_rx) = watch::channel(false);
        let task = tokio::spawn(run(hub.clone(), store.clone(), stop_rx));
        let mut sub = hub.subscribe(None).unwrap_or_else(|e| panic!("{e}"));
        next_text(&mut sub).await;
        let written = write(&store, "pushed");
        let mut saw_version = false;
        let mut saw_heartbeat = false;
        while !(saw_version && saw_heartbeat) {
            let text = next_text(&mut sub).await;
            saw_version |= text.contains(&format!("id: {}\n", written.etag)) && text.contains("\"description\":\"pushed\"");
            saw_heartbeat |= text.starts_with("event: heartbeat") && text.contains("\"version\":2");
        }
        let _ = stop_tx.send(true);
        let _ = task.await;
        // Drained, then the end (not an error).
        loop {
            match tokio::time::timeout(Duration::from_secs(5), sub.next()).await {
                Ok(Some(Ok(_))) => continue,
                Ok(None) => break,
                other => panic!("expected a clean end: {other:?}"),
            }
        }
        assert_eq!(hub.subscribe(None).err(), Some(Refused::Closed));
    }
}
