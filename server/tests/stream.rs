//! `GET /api/flags/stream` against the real server process: events and their ids, resume with
//! `Last-Event-ID` (header or query), heartbeats, CORS, the subscriber cap, notices for large
//! files, a slow reader dropped without holding up the others, and streams ended at shutdown.

mod common;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};
use tokio::io::AsyncReadExt;

/// One server-sent event.
#[derive(Debug, Clone, Default)]
struct Event {
    event: String,
    id: Option<String>,
    data: String,
    retry: Option<u64>,
}

impl Event {
    fn json(&self) -> Value {
        serde_json::from_str(&self.data).unwrap_or_else(|e| panic!("event data is not JSON ({e}): {}", self.data))
    }
}

/// A subscriber reading events as they come.
struct Subscriber {
    resp: reqwest::Response,
    buf: Vec<u8>,
    events: VecDeque<Event>,
}

impl Subscriber {
    async fn connect(api: &Api, headers: &[(&str, &str)], query: &str) -> reqwest::Response {
        let mut req = reqwest::Client::new().get(api.url(&format!("/api/flags/stream{query}")));
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        req.send().await.expect("GET /api/flags/stream")
    }

    async fn open(api: &Api, headers: &[(&str, &str)], query: &str) -> Subscriber {
        let resp = Self::connect(api, headers, query).await;
        assert_eq!(resp.status(), 200, "stream refused");
        assert_eq!(header(&resp, "content-type"), "text/event-stream");
        assert_eq!(header(&resp, "cache-control"), "no-store");
        Subscriber { resp, buf: Vec::new(), events: VecDeque::new() }
    }

    /// The next event (comments and field order as the spec reads them), within `secs`.
    async fn next(&mut self, secs: u64) -> Event {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(e) = self.events.pop_front() {
                return e;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            let chunk = tokio::time::timeout(left, self.resp.chunk()).await;
            match chunk {
                Ok(Ok(Some(bytes))) => {
                    self.buf.extend_from_slice(&bytes);
                    while let Some(end) = self.buf.windows(2).position(|w| w == b"\n\n") {
                        let block: Vec<u8> = self.buf.drain(..end + 2).collect();
                        let mut e = Event { event: "message".into(), ..Event::default() };
                        for line in String::from_utf8_lossy(&block).lines() {
                            let (field, value) = line.split_once(": ").unwrap_or((line, ""));
                            match field {
                                "event" => e.event = value.to_string(),
                                "id" => e.id = Some(value.to_string()),
                                "data" => e.data.push_str(value),
                                "retry" => e.retry = value.parse().ok(),
                                _ => {}
                            }
                        }
                        self.events.push_back(e);
                    }
                }
                Ok(Ok(None)) => panic!("the stream ended"),
                Ok(Err(e)) => panic!("the stream failed: {e}"),
                Err(_) => panic!("no event within {secs} s"),
            }
        }
    }

    /// Skips heartbeats up to the next `version` event.
    async fn next_version(&mut self, secs: u64) -> Event {
        loop {
            let e = self.next(secs).await;
            if e.event == "version" {
                return e;
            }
        }
    }

    /// Whether the stream ends (cleanly or not) within `secs`, reading whatever comes first.
    async fn ends_within(&mut self, secs: u64) -> bool {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, self.resp.chunk()).await {
                Ok(Ok(Some(_))) => continue,
                Ok(Ok(None)) | Ok(Err(_)) => return true,
                Err(_) => return false,
            }
        }
    }
}

/// Publishes the current file with flag 0's description changed; the new (etag, version).
async fn publish(api: &Api, description: &str) -> (String, u64) {
    let (etag, _, file) = api.current().await;
    let resp = api.put(&with_description(&file, 0, description), &etag).await;
    assert_eq!(resp.status(), 200, "publish");
    let body: Value = resp.json().await.expect("json");
    (body["etag"].as_str().unwrap_or_default().to_string(), body["version"].as_u64().unwrap_or(0))
}

async fn metric(api: &Api, name: &str) -> f64 {
    let text = client().get(api.url("/metrics")).send().await.expect("GET /metrics").text().await.expect("text");
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse().ok()))
        .unwrap_or_else(|| panic!("{name} not in /metrics"))
}

#[tokio::test]
async fn versions_arrive_with_their_etag_and_resumes_skip_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = spawn(dir.path(), &["--token", TOKEN, "--stream-heartbeat", "300ms"]).await;
    let (etag, version, file) = server.current().await;

    // A browser on another origin: CORS allows it.
    let mut sub = Subscriber::open(&server, &[("origin", "https://shop.example.com")], "").await;
    assert_eq!(header(&sub.resp, "access-control-allow-origin"), "*");
    let first = sub.next(5).await;
    assert_eq!((first.event.as_str(), first.id.as_deref()), ("version", Some(etag.as_str())));
    assert!(first.retry.is_some_and(|ms| (1000..3000).contains(&ms)), "jittered reconnect delay: {first:?}");
    let data = first.json();
    assert_eq!((data["version"].as_u64(), data["etag"].as_str()), (Some(version), Some(etag.as_str())));
    assert_eq!(data["heartbeat_ms"], 300);
    assert_eq!(data["file"], file, "the file as GET /api/flags serves it");

    // A publish reaches the open stream; a heartbeat follows with the new version.
    let (new_etag, new_version) = publish(&server, "pushed").await;
    let pushed = sub.next_version(5).await;
    assert_eq!(pushed.id.as_deref(), Some(new_etag.as_str()));
    assert_eq!(pushed.json()["file"], server.current().await.2);
    let beat = sub.next(5).await;
    assert_eq!(beat.event, "heartbeat");
    assert_eq!((beat.id.as_deref(), beat.json()["version"].as_u64()), (None, Some(new_version)));

    // Resume at the current ETag (header, as EventSource reconnects; or the query parameter):
    // a heartbeat first, no file. A stale ETag gets the current file.
    let mut resumed = Subscriber::open(&server, &[("last-event-id", &new_etag)], "").await;
    let e = resumed.next(5).await;
    assert_eq!(e.event, "heartbeat", "{e:?}");
    let query = format!("?last_event_id={}", urlencode(&new_etag));
    let mut by_query = Subscriber::open(&server, &[], &query).await;
    assert_eq!(by_query.next(5).await.event, "heartbeat");
    let mut stale = Subscriber::open(&server, &[("last-event-id", &etag)], "").await;
    let e = stale.next(5).await;
    assert_eq!((e.event.as_str(), e.id.as_deref()), ("version", Some(new_etag.as_str())));

    // All four get the next version.
    let (etag3, _) = publish(&server, "again").await;
    for s in [&mut sub, &mut resumed, &mut by_query, &mut stale] {
        assert_eq!(s.next_version(5).await.id.as_deref(), Some(etag3.as_str()));
    }
    assert_eq!(metric(&server, "edgeflag_stream_subscribers").await, 4.0);

    // A preflight for EventSource's reconnect header is granted.
    let preflight = client()
        .request(reqwest::Method::OPTIONS, server.url("/api/flags/stream"))
        .header("origin", "https://shop.example.com")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "last-event-id")
        .send()
        .await
        .expect("preflight");
    assert!(header(&preflight, "access-control-allow-headers").contains("last-event-id"));
}

fn urlencode(text: &str) -> String {
    text.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

#[tokio::test]
async fn the_subscriber_cap_refuses_with_retry_after_and_frees_slots() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = spawn(dir.path(), &["--token", TOKEN, "--stream-max-subscribers", "2"]).await;
    let mut a = Subscriber::open(&server, &[], "").await;
    let b = Subscriber::open(&server, &[], "").await;
    a.next(5).await;
    let refused = Subscriber::connect(&server, &[], "").await;
    assert_eq!(refused.status(), 503);
    let after: u64 = header(&refused, "retry-after").parse().expect("seconds");
    assert!((1..=15).contains(&after), "{after}");
    assert!(refused.text().await.unwrap_or_default().contains("maximum number of subscribers"));
    assert_eq!(metric(&server, "edgeflag_stream_refused_total{reason=\"full\"}").await, 1.0);
    // A subscriber leaves: its slot is free at once.
    drop(b);
    let deadline = Instant::now() + Duration::from_secs(5);
    while metric(&server, "edgeflag_stream_subscribers").await != 1.0 {
        assert!(Instant::now() < deadline, "the slot was never freed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Subscriber::open(&server, &[], "").await.next(5).await;
}

#[tokio::test]
async fn large_files_are_announced_not_pushed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = spawn(dir.path(), &["--token", TOKEN, "--stream-inline-max-bytes", "200"]).await;
    let mut sub = Subscriber::open(&server, &[], "").await;
    sub.next(5).await;
    let (etag, version) = publish(&server, "a change of a file larger than 200 bytes").await;
    let notice = sub.next_version(5).await;
    let data = notice.json();
    assert!(data.get("file").is_none(), "{data}");
    let url = data["fetch"].as_str().expect("fetch").to_string();
    assert_eq!(url, format!("/api/flags/versions/{version}"));
    let resp = client().get(server.url(&url)).send().await.expect("fetch");
    assert_eq!(header(&resp, "etag"), etag);
    let bytes = resp.bytes().await.expect("body");
    assert_eq!(data["bytes"].as_u64(), Some(bytes.len() as u64));
}

/// A subscriber that stops reading while versions keep coming is dropped once its queue is
/// full (its connection aborted, its slot freed); a reading subscriber gets every version.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_reader_is_dropped_and_the_others_keep_up() {
    let dir = tempfile::tempdir().expect("tempdir");
    // ~700 KB files sent inline: a few fill the kernel's socket buffers and the server's.
    let big: Vec<Value> = (0..400)
        .map(|i| {
            let mut f = plain_flag(&format!("big-{i}"));
            f["description"] = json!("x".repeat(1500));
            f
        })
        .collect();
    let flags = flag_file(dir.path(), big);
    let server = spawn_with(
        &dir.path().join("data"),
        &flags,
        &["--token", TOKEN, "--stream-buffer", "2", "--stream-inline-max-bytes", "1048576", "--stream-heartbeat", "1h"],
    )
    .await;
    // The slow one: a raw connection with a small receive buffer that reads nothing.
    let addr: std::net::SocketAddr = server.base.trim_start_matches("http://").parse().expect("addr");
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("rcvbuf");
    let mut slow = socket.connect(addr).await.expect("connect");
    tokio::io::AsyncWriteExt::write_all(&mut slow, b"GET /api/flags/stream HTTP/1.1\r\nHost: x\r\n\r\n").await.expect("request");
    let mut reader = Subscriber::open(&server, &[], "").await;
    reader.next(5).await;

    let mut dropped_after = None;
    for i in 0..40 {
        let (etag, _) = publish(&server, &format!("version {i}")).await;
        assert_eq!(reader.next_version(10).await.id.as_deref(), Some(etag.as_str()), "the reader missed version {i}");
        if metric(&server, "edgeflag_stream_dropped_total").await >= 1.0 {
            dropped_after = Some(i + 1);
            break;
        }
    }
    let publishes = dropped_after.expect("the slow reader was never dropped");
    println!("slow reader dropped after {publishes} publishes");
    assert_eq!(metric(&server, "edgeflag_stream_subscribers").await, 1.0, "its slot is free");
    // Its connection was aborted: reading it now drains what the kernel holds, then it ends.
    let mut sink = vec![0u8; 1 << 20];
    let ended = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match slow.read(&mut sink).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the slow reader's connection stays open");
}

#[tokio::test]
async fn shutdown_ends_the_streams_and_the_server_exits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = spawn(dir.path(), &["--token", TOKEN]).await;
    let mut subs = Vec::new();
    for _ in 0..3 {
        let mut s = Subscriber::open(&server, &[], "").await;
        s.next(5).await;
        subs.push(s);
    }
    let pid = server.child.id().expect("pid");
    let status = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().expect("kill");
    assert!(status.success());
    for s in &mut subs {
        assert!(s.ends_within(10).await, "a stream outlived the shutdown");
    }
    let exit = tokio::time::timeout(Duration::from_secs(10), server.child.wait()).await;
    assert!(matches!(exit, Ok(Ok(s)) if s.success()), "the server did not exit cleanly: {exit:?}");
}

/// The stream route is exempt from `--request-timeout`, and a shutdown ends the streams at
/// once instead of waiting for `--shutdown-timeout`.
#[tokio::test]
async fn streams_outlive_the_request_timeout_and_end_before_the_shutdown_deadline() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = spawn(
        dir.path(),
        &["--token", TOKEN, "--request-timeout", "1s", "--shutdown-timeout", "20s", "--stream-heartbeat", "300ms"],
    )
    .await;
    let mut sub = Subscriber::open(&server, &[], "").await;
    sub.next(5).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (etag, _) = publish(&server, "after the request timeout").await;
    assert_eq!(sub.next_version(5).await.id.as_deref(), Some(etag.as_str()), "the stream was cut by the request timeout");
    let pid = server.child.id().expect("pid");
    let asked = Instant::now();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().expect("kill").success());
    assert!(sub.ends_within(10).await);
    let exit = tokio::time::timeout(Duration::from_secs(15), server.child.wait()).await;
    assert!(matches!(exit, Ok(Ok(s)) if s.success()), "{exit:?}");
    assert!(asked.elapsed() < Duration::from_secs(10), "the shutdown waited for the streams: {:?}", asked.elapsed());
}
