//! Fan-out bench of `GET /api/flags/stream` (server/bench/stream.sh runs it; figures in
//! server/README.md, "Figures").
//!
//! Starts the real server binary, connects N subscribers over loopback (raw HTTP/1.1, each
//! decoding the chunked body and the events, and parsing every `version` event's JSON: a
//! subscriber *holds* a version once it has the whole file parsed), then publishes P versions
//! (`PUT /api/flags`, one at a time) and records, per publish, the time from sending the PUT
//! to every subscriber holding the new version (this includes the durable write: the time to
//! the first subscriber bounds it), and the fan-out: from the first subscriber holding it to
//! the last; the median and p99 over the publishes, and the per-subscriber delivery times
//! pooled.
//!
//! The peer, in the same run: the same N clients on keep-alive connections to a second server
//! process, each fetching the new version with one conditional `GET /api/flags` at the same
//! instant (polling at exactly the right moment: polling's best case), timed from the first
//! request sent to the last response read; compared with the fan-out. Memory: the server's RSS before and after the N
//! subscribers connected, per subscriber, against the same for N idle keep-alive connections.
//!
//! `--smoke`: 100 subscribers, 3 publishes, for CI; fails (exit 1) if any subscriber misses a
//! version.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

const TOKEN: &str = "stream-bench-admin-token";

struct Options {
    subscribers: usize,
    publishes: usize,
    server: PathBuf,
    smoke: bool,
}

fn options() -> Result<Options, String> {
    let profile = if cfg!(debug_assertions) { "debug" } else { "release" };
    let mut o = Options {
        subscribers: 1000,
        publishes: 30,
        server: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target")).join(profile).join("edgeflag-server"),
        smoke: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--subscribers" => o.subscribers = value("--subscribers")?.parse().map_err(|e| format!("--subscribers: {e}"))?,
            "--publishes" => o.publishes = value("--publishes")?.parse().map_err(|e| format!("--publishes: {e}"))?,
            "--server" => o.server = PathBuf::from(value("--server")?),
            "--smoke" => {
                o.smoke = true;
                o.subscribers = 100;
                o.publishes = 3;
            }
            other => return Err(format!("unknown argument {other}; usage: stream_bench [--smoke] [--subscribers N] [--publishes P] [--server PATH]")),
        }
    }
    if o.subscribers == 0 || o.publishes == 0 {
        return Err("--subscribers and --publishes must be > 0".into());
    }
    Ok(o)
}

struct Server {
    child: Child,
    addr: String,
    _dir: tempfile::TempDir,
}

impl Server {
    async fn start(binary: &PathBuf, extra: &[&str]) -> Result<Server, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let flags = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/flags.json");
        let mut child = Command::new(binary)
            .args(["--addr", "127.0.0.1:0", "--flags", flags, "--no-controller", "--token", TOKEN])
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .arg("--static-dir")
            .arg(dir.path().join("none"))
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e} (build it: cargo build --release -p edgeflag-server)", binary.display()))?;
        let mut lines = BufReader::new(child.stdout.take().ok_or("no stdout")?).lines();
        let addr = loop {
            match lines.next_line().await {
                Ok(Some(line)) => {
                    if let Some(rest) = line.split("listening on http://").nth(1) {
                        break rest.trim_end_matches('/').to_string();
                    }
                }
                _ => return Err("the server exited before listening".into()),
            }
        };
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Server { child, addr, _dir: dir })
    }

    /// Resident set size in KiB (Linux /proc).
    fn rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()?)).ok()?;
        status.lines().find_map(|l| l.strip_prefix("VmRSS:")?.trim().trim_end_matches("kB").trim().parse().ok())
    }
}

/// Reads one CRLF-terminated line.
async fn read_line(r: &mut BufReader<TcpStream>, line: &mut String) -> Result<(), String> {
    line.clear();
    match r.read_line(line).await {
        Ok(0) => Err("connection closed".into()),
        Ok(_) => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}

/// One subscriber: sends every version it holds (parsed) to `held` with the time it got it.
async fn subscriber(addr: String, id: usize, held: mpsc::UnboundedSender<(usize, u64, Instant)>) -> Result<(), String> {
    let mut stream = TcpStream::connect(&addr).await.map_err(|e| e.to_string())?;
    stream
        .write_all(format!("GET /api/flags/stream HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n").as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut r = BufReader::new(stream);
    let mut line = String::new();
    read_line(&mut r, &mut line).await?;
    if !line.starts_with("HTTP/1.1 200") {
        return Err(format!("subscriber {id}: {}", line.trim()));
    }
    loop {
        read_line(&mut r, &mut line).await?;
        if line == "\r\n" {
            break;
        }
    }
    // Chunked body; the server writes each event as one chunk, but events are reassembled
    // whatever the chunking.
    let mut events = String::new();
    let mut chunk = Vec::new();
    loop {
        read_line(&mut r, &mut line).await?;
        let size = usize::from_str_radix(line.trim(), 16).map_err(|e| format!("chunk size {line:?}: {e}"))?;
        if size == 0 {
            return Ok(());
        }
        chunk.resize(size + 2, 0);
        r.read_exact(&mut chunk).await.map_err(|e| e.to_string())?;
        events.push_str(&String::from_utf8_lossy(&chunk[..size]));
        while let Some(end) = events.find("\n\n") {
            let block: String = events.drain(..end + 2).collect();
            if !block.lines().any(|l| l == "event: version") {
                continue;
            }
            let data = block.lines().find_map(|l| l.strip_prefix("data: ")).unwrap_or("");
            let value: serde_json::Value = serde_json::from_str(data).map_err(|e| format!("event data: {e}"))?;
            if value["file"]["flags"].as_array().is_none_or(|f| f.is_empty()) {
                return Err("a version event without its file".into());
            }
            let version = value["version"].as_u64().unwrap_or(0);
            let _ = held.send((id, version, Instant::now()));
        }
    }
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (q * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn current_etag(http: &reqwest::Client, base: &str) -> Result<(String, serde_json::Value), String> {
    let resp = http.get(format!("{base}/api/flags")).send().await.map_err(|e| e.to_string())?;
    let etag = resp.headers().get("etag").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    Ok((etag, resp.json().await.map_err(|e| e.to_string())?))
}

async fn publish(http: &reqwest::Client, base: &str, n: usize) -> Result<(u64, Instant, Duration), String> {
    let (etag, mut file) = current_etag(http, base).await?;
    file["flags"][0]["description"] = serde_json::Value::from(format!("bench publish {n}"));
    let sent = Instant::now();
    let resp = http
        .put(format!("{base}/api/flags"))
        .bearer_auth(TOKEN)
        .header("if-match", etag)
        .json(&file)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let acked = sent.elapsed();
    if resp.status() != 200 {
        return Err(format!("publish: HTTP {}", resp.status()));
    }
    let body: serde_json::Value = resp.json().await.map_err(|e| e.to_string())?;
    Ok((body["version"].as_u64().unwrap_or(0), sent, acked))
}

/// The peer: N keep-alive connections; returns (RSS KiB per connection, poll-round times).
async fn peer(o: &Options) -> Result<(f64, Vec<f64>), String> {
    let server = Server::start(&o.server, &[]).await?;
    let http = reqwest::Client::new();
    let base = format!("http://{}", server.addr);
    current_etag(&http, &base).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = server.rss_kib().unwrap_or(0);
    let mut conns = Vec::with_capacity(o.subscribers);
    for _ in 0..o.subscribers {
        let mut s = BufReader::new(TcpStream::connect(&server.addr).await.map_err(|e| e.to_string())?);
        get(&mut s, &server.addr, "/healthz", None).await?;
        conns.push(s);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let per_conn = (server.rss_kib().unwrap_or(0).saturating_sub(before)) as f64 / o.subscribers as f64;
    let mut rounds = Vec::new();
    let addr = Arc::new(server.addr.clone());
    for n in 0..o.publishes {
        let (old, _) = current_etag(&http, &base).await?;
        publish(&http, &base, n).await?;
        let started = Instant::now();
        let tasks: Vec<_> = conns
            .drain(..)
            .map(|mut s| {
                let (addr, old) = (addr.clone(), old.clone());
                tokio::spawn(async move { get(&mut s, &addr, "/api/flags", Some(&old)).await.map(|()| s) })
            })
            .collect();
        for t in tasks {
            conns.push(t.await.map_err(|e| e.to_string())??);
        }
        rounds.push(ms(started.elapsed()));
    }
    Ok((per_conn, rounds))
}

/// One keep-alive GET; reads the whole response (Content-Length bodies).
async fn get(s: &mut BufReader<TcpStream>, host: &str, path: &str, if_none_match: Option<&str>) -> Result<(), String> {
    let inm = if_none_match.map(|e| format!("If-None-Match: {e}\r\n")).unwrap_or_default();
    s.get_mut().write_all(format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n{inm}\r\n").as_bytes()).await.map_err(|e| e.to_string())?;
    let mut line = String::new();
    read_line(s, &mut line).await?;
    if !(line.starts_with("HTTP/1.1 200") || line.starts_with("HTTP/1.1 304")) {
        return Err(format!("GET {path}: {}", line.trim()));
    }
    let mut length = 0usize;
    loop {
        read_line(s, &mut line).await?;
        if line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; length];
    s.read_exact(&mut body).await.map_err(|e| e.to_string())?;
    if path == "/api/flags" {
        serde_json::from_slice::<serde_json::Value>(&body).map_err(|e| e.to_string())?;
    }
    Ok(())
}

async fn run(o: Options) -> Result<bool, String> {
    let n = o.subscribers;
    let cap = (n + 64).to_string();
    let server = Server::start(&o.server, &["--stream-max-subscribers", &cap, "--stream-heartbeat", "1h"]).await?;
    let http = reqwest::Client::new();
    let base = format!("http://{}", server.addr);
    current_etag(&http, &base).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rss_before = server.rss_kib().unwrap_or(0);

    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut tasks = Vec::with_capacity(n);
    for id in 0..n {
        let (addr, tx) = (server.addr.clone(), tx.clone());
        tasks.push(tokio::spawn(async move {
            if let Err(e) = subscriber(addr, id, tx).await {
                eprintln!("subscriber {id}: {e}");
            }
        }));
    }
    drop(tx);
    // Everyone holds version 1.
    let mut holding = vec![0u64; n];
    let deadline = Instant::now() + Duration::from_secs(60);
    while holding.iter().any(|v| *v < 1) {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Some((id, version, _))) => holding[id] = holding[id].max(version),
            _ => return Err(format!("only {} of {n} subscribers connected", holding.iter().filter(|v| **v >= 1).count())),
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rss_after = server.rss_kib().unwrap_or(0);
    let per_sub = rss_after.saturating_sub(rss_before) as f64 / n as f64;

    let mut all_times = Vec::new();
    let mut firsts = Vec::new();
    let mut spreads = Vec::new();
    let mut per_delivery = Vec::new();
    let mut writes = Vec::new();
    let mut complete = true;
    for p in 0..o.publishes {
        let (version, sent, acked) = publish(&http, &base, p).await?;
        writes.push(ms(acked));
        let mut got = 0usize;
        let mut last = sent;
        let mut first: Option<Instant> = None;
        let deadline = Instant::now() + Duration::from_secs(30);
        while got < n {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, rx.recv()).await {
                Ok(Some((id, v, at))) if v == version && holding[id] < version => {
                    holding[id] = version;
                    got += 1;
                    last = last.max(at);
                    first = Some(first.map_or(at, |f| f.min(at)));
                    per_delivery.push(ms(at.duration_since(sent)));
                }
                Ok(Some(_)) => {}
                _ => {
                    eprintln!("publish {p} (version {version}): only {got} of {n} subscribers got it within 30 s");
                    complete = false;
                    break;
                }
            }
        }
        all_times.push(ms(last.duration_since(sent)));
        spreads.push(ms(last.duration_since(first.unwrap_or(last))));
        firsts.push(ms(first.unwrap_or(last).duration_since(sent)));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let rss_end = server.rss_kib().unwrap_or(0);
    drop(server);
    for t in tasks {
        t.abort();
    }
    let (peer_per_conn, mut rounds) = peer(&o).await?;

    all_times.sort_by(f64::total_cmp);
    spreads.sort_by(f64::total_cmp);
    firsts.sort_by(f64::total_cmp);
    per_delivery.sort_by(f64::total_cmp);
    rounds.sort_by(f64::total_cmp);
    writes.sort_by(f64::total_cmp);
    let (p50, p99) = (quantile(&all_times, 0.5), quantile(&all_times, 0.99));
    let (poll50, poll99) = (quantile(&rounds, 0.5), quantile(&rounds, 0.99));
    let (spread50, spread99) = (quantile(&spreads, 0.5), quantile(&spreads, 0.99));
    println!("stream fan-out: {n} subscribers on loopback, {} publishes (PUT /api/flags, one at a time)", o.publishes);
    println!("  publish -> every subscriber holds the version: p50 {p50:.1} ms, p99 {p99:.1} ms (max {:.1} ms)", all_times.last().copied().unwrap_or(f64::NAN));
    // (The PUT's acknowledgement, as this process sees it, is delayed by the subscribers'
    // own work on the same runtime: the first delivery bounds the durable write instead.)
    println!(
        "  publish -> the first subscriber holds it (the durable write and one hop): p50 {:.1} ms; per subscriber (pooled): p50 {:.1} ms, p99 {:.1} ms; PUT acknowledged (seen here) p50 {:.1} ms",
        quantile(&firsts, 0.5),
        quantile(&per_delivery, 0.5),
        quantile(&per_delivery, 0.99),
        quantile(&writes, 0.5)
    );
    println!("  fan-out (first subscriber holds it -> the last does): p50 {spread50:.1} ms, p99 {spread99:.1} ms");
    println!("  peer, {n} clients polling once at the right moment (conditional GET, keep-alive; first request -> last response): p50 {poll50:.1} ms, p99 {poll99:.1} ms");
    println!("  ratio fan-out / poll round: p50 {:.2}x, p99 {:.2}x", spread50 / poll50, spread99 / poll99);
    println!(
        "  server RSS: {rss_before} KiB before, {rss_after} KiB with {n} subscribers, {rss_end} KiB after the publishes: {per_sub:.1} KiB per subscriber (peer: {peer_per_conn:.1} KiB per idle keep-alive connection, {:.2}x)",
        per_sub / peer_per_conn.max(0.001)
    );
    println!(
        "{{\"subscribers\":{n},\"publishes\":{},\"p50_ms\":{p50:.2},\"p99_ms\":{p99:.2},\"fanout_p50_ms\":{spread50:.2},\"fanout_p99_ms\":{spread99:.2},\"poll_p50_ms\":{poll50:.2},\"poll_p99_ms\":{poll99:.2},\"rss_per_subscriber_kib\":{per_sub:.2},\"rss_per_idle_connection_kib\":{peer_per_conn:.2},\"complete\":{complete}}}",
        o.publishes
    );
    Ok(complete)
}

fn main() {
    let o = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let smoke = o.smoke;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build();
    let result = match runtime {
        Ok(rt) => rt.block_on(run(o)),
        Err(e) => Err(e.to_string()),
    };
    match result {
        Ok(true) => {}
        Ok(false) => {
            eprintln!("stream bench: some subscribers missed a version");
            std::process::exit(1);
        }
        Err(e) => {
            eprintln!("stream bench failed: {e}");
            std::process::exit(1);
        }
    }
    if smoke {
        println!("stream bench smoke: ok");
    }
}
