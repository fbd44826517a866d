//! Hostile clients against the real `edgeflag-server` process: thousands of slow-header
//! connections, a connection limit, a small open-file limit, stalled bodies, and SIGTERM with
//! half-sent requests. Each test starts its own server on 127.0.0.1:0.

mod common;

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

/// The tests hold thousands of sockets and measure times: one at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A spawned server; its stdout lines are collected.
struct Proc {
    child: Child,
    addr: String,
    lines: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

/// Starts the server binary with `extra` options, optionally under `sh -c 'ulimit -n N; exec …'`.
async fn start(extra: &[&str], fd_limit: Option<u32>) -> Proc {
    let dir = tempfile::tempdir().expect("tempdir");
    let bin = env!("CARGO_BIN_EXE_edgeflag-server");
    let mut args: Vec<String> = vec![
        "--addr".into(), "127.0.0.1:0".into(),
        "--data-dir".into(), dir.path().join("data").display().to_string(),
        "--flags".into(), common::fixture().display().to_string(),
        "--static-dir".into(), dir.path().join("no-dist").display().to_string(),
        "--token".into(), common::TOKEN.into(),
        "--no-controller".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let mut cmd = match fd_limit {
        // `ulimit -n` sets the soft and the hard limit, so the server cannot raise it again.
        Some(n) => {
            let mut c = Command::new("sh");
            c.arg("-c").arg(format!("ulimit -n {n} && exec \"$0\" \"$@\"")).arg(bin).args(&args);
            c
        }
        None => {
            let mut c = Command::new(bin);
            c.args(&args);
            c
        }
    };
    cmd.env_remove("EDGEFLAG_ADMIN_TOKEN").stdout(Stdio::piped()).stderr(Stdio::inherit()).kill_on_drop(true);
    let mut child = cmd.spawn().expect("spawn edgeflag-server");
    let mut out = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let addr = tokio::time::timeout(Duration::from_secs(30), async {
        while let Ok(Some(line)) = out.next_line().await {
            lines.lock().expect("lines").push(line.clone());
            if let Some(rest) = line.split("listening on http://").nth(1) {
                return rest.trim_end_matches('/').to_string();
            }
        }
        panic!("server exited before listening: {:?}", lines.lock().expect("lines"));
    })
    .await
    .expect("server listens within 30 s");
    let sink = lines.clone();
    tokio::spawn(async move {
        while let Ok(Some(line)) = out.next_line().await {
            sink.lock().expect("lines").push(line);
        }
    });
    Proc { child, addr, lines, _dir: dir }
}

/// Raises this test process's soft open-file limit to its hard limit (it holds thousands of
/// client sockets).
fn raise_own_fd_limit() -> u64 {
    edgeflag_server::serve::raise_fd_limit().unwrap_or(1024)
}

/// Opens a connection and sends the start of a request head, never its end.
async fn slow_header(addr: String) -> Option<TcpStream> {
    let mut s = TcpStream::connect(&addr).await.ok()?;
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ").await.ok()?;
    Some(s)
}

/// One complete request on a fresh connection: (status, time taken).
async fn get(addr: &str, path: &str) -> Option<(u16, Duration)> {
    let started = Instant::now();
    let mut s = TcpStream::connect(addr).await.ok()?;
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").as_bytes()).await.ok()?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.ok()?;
    let status = std::str::from_utf8(buf.get(9..12)?).ok()?.parse().ok()?;
    Some((status, started.elapsed()))
}

/// Whether the server closed the connection (EOF or reset) within `wait`.
async fn closed_within(s: &mut TcpStream, wait: Duration) -> bool {
    let mut buf = Vec::new();
    tokio::time::timeout(wait, s.read_to_end(&mut buf)).await.is_ok()
}

/// Whether the connection is still open right now (nothing to read, no EOF).
async fn still_open(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 64];
    tokio::time::timeout(Duration::from_millis(5), s.read(&mut buf)).await.is_err()
}

fn vm_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Opens `n` slow-header connections, 250 at a time, in order (oldest first).
async fn open_many(addr: &str, n: usize) -> Vec<TcpStream> {
    let mut out = Vec::with_capacity(n);
    let mut left = n;
    while left > 0 {
        let batch = left.min(250);
        left -= batch;
        let handles: Vec<_> = (0..batch).map(|_| tokio::spawn(slow_header(addr.to_string()))).collect();
        for h in handles {
            out.extend(h.await.ok().flatten());
        }
    }
    out
}

/// Starts a request whose head is complete but whose body (100 bytes announced) never comes.
async fn stalled_body(addr: &str) -> Option<TcpStream> {
    let mut s = TcpStream::connect(addr).await.ok()?;
    let head = "POST /ofrep/v1/evaluate/flags HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"con";
    s.write_all(head.as_bytes()).await.ok()?;
    Some(s)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_slow_header_connections_neither_starve_new_clients_nor_stay_open() {
    let _serial = SERIAL.lock().await;
    const HELD: usize = 3_000;
    let fds = raise_own_fd_limit();
    assert!(fds > HELD as u64 + 200, "this test needs {HELD}+ descriptors, the hard limit is {fds}");
    let server = start(&["--header-read-timeout", "5s"], None).await;
    let addr = server.addr.clone();
    let pid = server.child.id().expect("pid");
    let rss_before = vm_rss_kib(pid).unwrap_or(0);

    let opened_at = Instant::now();
    let mut held = open_many(&addr, HELD).await;
    assert_eq!(held.len(), HELD, "every slow-header connection was accepted");
    println!("opened {HELD} in {:?}", opened_at.elapsed());
    // While all of them are held, new clients are served at once.
    for _ in 0..5 {
        let (status, took) = get(&addr, "/healthz").await.expect("a new client is served");
        assert_eq!(status, 200);
        println!("new client served in {took:?}");
        assert!(took < Duration::from_secs(3), "a new client waited {took:?}");
    }
    let rss_held = vm_rss_kib(pid).unwrap_or(0);
    let mut open_now = 0;
    for s in held.iter_mut().step_by(100) {
        open_now += usize::from(still_open(s).await);
    }
    let checked_at = opened_at.elapsed();
    assert!(checked_at < Duration::from_secs(4), "opening {HELD} connections took {checked_at:?}");
    assert_eq!(open_now, HELD / 100, "the slow connections were still held while new clients were served");
    println!(
        "{HELD} slow-header connections held; server RSS {rss_before} KiB -> {rss_held} KiB ({:.1} KiB per connection)",
        (rss_held.saturating_sub(rss_before)) as f64 / HELD as f64
    );

    // Every one of them is closed by the header-read timeout (5 s), none much later.
    let mut closed = 0;
    for s in held.iter_mut() {
        closed += usize::from(closed_within(s, Duration::from_secs(8)).await);
    }
    let all_closed_after = opened_at.elapsed();
    assert_eq!(closed, HELD, "stalled connections are closed after the header-read timeout");
    assert!(all_closed_after < Duration::from_secs(8), "closing took {all_closed_after:?}");
    println!("all {HELD} closed {all_closed_after:?} after the first was opened");
    assert_eq!(get(&addr, "/healthz").await.map(|r| r.0), Some(200));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_connection_limit_a_new_client_displaces_the_oldest_slow_header_one() {
    let _serial = SERIAL.lock().await;
    raise_own_fd_limit();
    // A long header timeout: only displacement can make room within the test.
    let server = start(&["--max-connections", "50", "--header-read-timeout", "60s"], None).await;
    let addr = server.addr.clone();
    assert!(server.lines.lock().expect("lines").iter().any(|l| l.contains("at most 50 connections")));
    // One after the other, so the server accepts them in this order.
    let mut held = Vec::new();
    for _ in 0..200 {
        held.extend(slow_header(addr.clone()).await);
    }
    let (status, took) = tokio::time::timeout(Duration::from_secs(10), get(&addr, "/healthz"))
        .await
        .expect("served while 200 slow clients compete for 50 connections")
        .expect("response");
    assert_eq!(status, 200);
    assert!(took < Duration::from_secs(3), "the new client waited {took:?}");
    // The oldest were displaced; the server never holds more than its limit.
    let mut open_now = 0;
    for s in held.iter_mut() {
        open_now += usize::from(still_open(s).await);
    }
    assert!(open_now <= 50, "{open_now} slow connections still open with a limit of 50");
    assert!(closed_within(&mut held[0], Duration::from_secs(1)).await, "the oldest was displaced");
    assert!(still_open(held.last_mut().expect("last")).await, "the newest is still served");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_few_descriptors_the_server_keeps_serving() {
    let _serial = SERIAL.lock().await;
    raise_own_fd_limit();
    // 128 descriptors: the default limit becomes (128 - 64) / 2 = 32 connections.
    let server = start(&["--header-read-timeout", "2s", "--request-timeout", "2s"], Some(128)).await;
    let addr = server.addr.clone();
    assert!(
        server.lines.lock().expect("lines").iter().any(|l| l.contains("at most 32 connections (open-file limit 128)")),
        "{:?}",
        server.lines.lock().expect("lines")
    );

    // 300 half-open requests (the report): new clients are still answered.
    let mut half_open = open_many(&addr, 300).await;
    let (status, took) = tokio::time::timeout(Duration::from_secs(5), get(&addr, "/healthz"))
        .await
        .expect("answered despite 300 half-open requests")
        .expect("response");
    assert_eq!(status, 200, "took {took:?}");

    // 40 requests whose heads are complete but whose bodies never come: they are in flight,
    // not displaceable; a new client waits until the request timeout frees a connection.
    let mut stalled_bodies = Vec::new();
    for _ in 0..40 {
        stalled_bodies.extend(stalled_body(&addr).await);
    }
    let (status, took) = tokio::time::timeout(Duration::from_secs(10), get(&addr, "/healthz"))
        .await
        .expect("served once the stalled requests time out")
        .expect("response");
    assert_eq!(status, 200);
    assert!(took < Duration::from_secs(6), "waited {took:?}");
    // A stalled body gets 408 and its connection is closed.
    let mut timed_out = 0;
    for s in stalled_bodies.iter_mut() {
        let mut buf = Vec::new();
        if tokio::time::timeout(Duration::from_secs(8), s.read_to_end(&mut buf)).await.is_ok() {
            timed_out += usize::from(buf.starts_with(b"HTTP/1.1 408"));
        }
    }
    assert!(timed_out >= 1, "stalled bodies answered 408");
    for s in half_open.iter_mut() {
        assert!(closed_within(s, Duration::from_secs(5)).await, "half-open request still open");
    }
    assert_eq!(get(&addr, "/healthz").await.map(|r| r.0), Some(200), "still serving afterwards");
}

async fn sigterm(server: &Proc) {
    let pid = server.child.id().expect("pid").to_string();
    let status = Command::new("kill").args(["-TERM", &pid]).status().await.expect("kill");
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_half_sent_requests_exits_within_the_deadline() {
    let _serial = SERIAL.lock().await;
    // A half-sent head: nothing to finish, the server exits at once.
    let mut server = start(&[], None).await;
    let _half_head = slow_header(server.addr.clone()).await.expect("connect");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    sigterm(&server).await;
    let status = tokio::time::timeout(Duration::from_secs(10), server.child.wait()).await.expect("exits").expect("status");
    let took = started.elapsed();
    println!("SIGTERM with a half-sent head: exited in {took:?}");
    assert!(status.success(), "{status:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");

    // A half-sent body that never completes: dropped at the 5 s deadline, then exit 0.
    let mut server = start(&[], None).await;
    let mut stalled = stalled_body(&server.addr).await.expect("connect");
    // And one that completes during the drain: it is answered, not cut off.
    let mut finishing = TcpStream::connect(&server.addr).await.expect("connect");
    let body = b"{\"context\": {\"targetingKey\": \"user-1\"}}";
    finishing
        .write_all(format!("POST /ofrep/v1/evaluate/flags HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n", body.len()).as_bytes())
        .await
        .expect("write");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    sigterm(&server).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    finishing.write_all(body).await.expect("finish the body during the drain");
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(3), finishing.read_to_end(&mut answer)).await;
    assert!(answer.starts_with(b"HTTP/1.1 "), "the request in flight was answered: {:?}", String::from_utf8_lossy(&answer));
    assert!(answer.starts_with(b"HTTP/1.1 200"), "{:?}", String::from_utf8_lossy(&answer));
    let status = tokio::time::timeout(Duration::from_secs(15), server.child.wait()).await.expect("exits").expect("status");
    let took = started.elapsed();
    println!("SIGTERM with a half-sent body: exited in {took:?} (deadline 5 s)");
    assert!(status.success(), "{status:?}");
    assert!(took >= Duration::from_millis(4_500) && took < Duration::from_secs(6), "{took:?}");
    assert!(closed_within(&mut stalled, Duration::from_secs(1)).await);
    let lines = server.lines.lock().expect("lines").clone();
    assert!(lines.iter().any(|l| l.contains("closed 1 connection(s) still open at the shutdown deadline")), "{lines:?}");
    assert!(lines.iter().any(|l| l.contains("edgeflag: stopped")), "{lines:?}");
}
