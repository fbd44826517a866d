//! The HTTP serve loop: bounded connections, timeouts, and a shutdown with a deadline.
//!
//! `axum::serve` has no header-read timeout, no connection limit and waits forever for
//! half-sent requests at shutdown; this loop drives hyper's HTTP/1.1 connections itself:
//!
//! - **Header-read timeout** (hyper's `header_read_timeout`): a client must send a request's
//!   whole head within it, counted from the connection's start or the previous response;
//!   it is also how long an idle keep-alive connection stays open.
//! - **Write-stall timeout** ([`StallGuard`]): a response that cannot make progress because
//!   the client does not read closes the connection.
//! - **Connection limit**: at most `max_connections` connections are served; the default comes
//!   from the open-file limit (raised to its hard limit at start, as Go does), so accepting never
//!   fails for want of descriptors. When the limit is reached and a new client connects, the
//!   oldest connection that has not yet sent a complete request head (a slow-header client)
//!   is closed to make room; if there is none, the new client waits in the listen backlog
//!   until a connection ends. The listener is never starved and never spins on `EMFILE`.
//! - **Shutdown**: on the signal the listener closes, connections that never completed a
//!   request head are closed at once, idle keep-alive ones close, in-flight requests get until
//!   the deadline (default 5 s), and whatever is left then is dropped.
//! - Request-body and handler timeouts (and ingestion's concurrency) are per route, in
//!   [`crate::http::route_limits`].
//!
//! HTTP/1.1 only: TLS (and with it h2) is terminated by a proxy or CDN in front, and a
//! cleartext h2 preface would bypass the header-read timeout.

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch, Semaphore};
use tokio::task::JoinSet;
use tokio::time::{Instant, Sleep};
use tower::ServiceExt as _;

/// Largest request head (request line and headers); larger ones get 431.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// Largest read or write buffer of a connection (hyper's default is ~400 KiB).
pub const MAX_BUF_BYTES: usize = 64 * 1024;
/// Descriptors kept for everything but client sockets (SQLite, stdio, the listener, ...).
const RESERVED_FDS: u64 = 64;
/// Default connection limit on a machine with plenty of descriptors.
pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;

/// The serve loop's limits (`--header-read-timeout`, `--max-connections`, ...).
#[derive(Debug, Clone, Copy)]
pub struct ConnLimits {
    pub header_read_timeout: Duration,
    pub write_timeout: Duration,
    pub max_connections: usize,
    pub shutdown_timeout: Duration,
}

/// Raises the soft open-file limit to the hard one (returns the new soft limit). Each client
/// socket is a descriptor, and the common default of 1024 is far below what a server needs.
pub fn raise_fd_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        use rustix::process::{getrlimit, setrlimit, Resource};
        let mut limit = getrlimit(Resource::Nofile);
        if let (Some(cur), Some(max)) = (limit.current, limit.maximum) {
            if cur < max {
                limit.current = Some(max);
                if setrlimit(Resource::Nofile, limit).is_err() {
                    limit.current = Some(cur);
                }
            }
        }
        // `None` is "unlimited".
        Some(limit.current.unwrap_or(u64::MAX))
    }
    #[cfg(not(unix))]
    None
}

/// The connection limit for an open-file limit: two descriptors per connection (its socket and
/// a static file it may be streaming), after a reserve; at most [`DEFAULT_MAX_CONNECTIONS`].
pub fn default_max_connections(fd_limit: u64) -> usize {
    let usable = fd_limit.saturating_sub(RESERVED_FDS) / 2;
    usize::try_from(usable).unwrap_or(usize::MAX).clamp(1, DEFAULT_MAX_CONNECTIONS)
}

/// Pending connections the kernel queues before the loop accepts them. tokio (mio) and std
/// use 128, which a burst of connections from a busy machine overflows: the overflowing
/// clients' SYNs are dropped and they retry only after a second.
pub const LISTEN_BACKLOG: u32 = 1024;

/// Binds a listener with [`LISTEN_BACKLOG`] (and `SO_REUSEADDR`, as tokio does).
pub fn bind(addr: std::net::SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// What the loop did at shutdown.
#[derive(Debug, Clone, Copy, Default)]
pub struct ShutdownReport {
    /// Connections still open when the deadline passed (dropped).
    pub dropped: usize,
}

/// Connections that have not yet sent a complete request head, oldest first: the ones shed
/// when the limit is reached, and closed at once on shutdown.
#[derive(Default)]
struct Fresh {
    by_id: Mutex<BTreeMap<u64, oneshot::Sender<()>>>,
}

impl Fresh {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, oneshot::Sender<()>>> {
        match self.by_id.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    fn insert(&self, id: u64) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        self.lock().insert(id, tx);
        rx
    }

    /// The connection sent a request head (or ended): it is no longer a candidate.
    fn remove(&self, id: u64) {
        self.lock().remove(&id);
    }

    /// Closes the oldest fresh connection; false when there is none.
    fn shed_oldest(&self) -> bool {
        while let Some((_, tx)) = self.lock().pop_first() {
            if tx.send(()).is_ok() {
                return true;
            }
        }
        false
    }

    fn shed_all(&self) {
        for (_, tx) in std::mem::take(&mut *self.lock()) {
            let _ = tx.send(());
        }
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then drains within the deadline.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnLimits,
    shutdown: impl Future<Output = ()>,
) -> ShutdownReport {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_header_size(MAX_HEADER_BYTES)
        .max_buf_size(MAX_BUF_BYTES);
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let fresh = Arc::new(Fresh::default());
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let mut next_id = 0u64;
    let mut shutdown = std::pin::pin!(shutdown);

    loop {
        while tasks.try_join_next().is_some() {}
        let stream = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Per-connection errors (reset before accept) need nothing; running out of
                    // descriptors or memory does: back off instead of spinning.
                    if !is_connection_error(&e) {
                        eprintln!("edgeflag: accept failed: {e}; retrying in 100 ms");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    continue;
                }
            },
        };
        let permit = match permits.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                fresh.shed_oldest();
                tokio::select! {
                    biased;
                    () = &mut shutdown => break,
                    p = permits.clone().acquire_owned() => match p {
                        Ok(p) => p,
                        Err(_) => break,
                    },
                }
            }
        };
        let _ = stream.set_nodelay(true);
        let id = next_id;
        next_id += 1;
        let shed = fresh.insert(id);
        let first_request = Arc::new(AtomicBool::new(false));
        let service = {
            let (app, fresh, first_request) = (app.clone(), fresh.clone(), first_request.clone());
            service_fn(move |req: hyper::Request<Incoming>| {
                if !first_request.swap(true, Ordering::Relaxed) {
                    fresh.remove(id);
                }
                app.clone().oneshot(req.map(axum::body::Body::new))
            })
        };
        let conn = http.serve_connection(TokioIo::new(StallGuard::new(stream, limits.write_timeout)), service);
        let (fresh, mut stop) = (fresh.clone(), stop_rx.clone());
        tasks.spawn(async move {
            let mut conn = std::pin::pin!(conn);
            let mut shed = shed;
            let drain = tokio::select! {
                biased;
                // Closed to make room, or at shutdown before any request: drop the connection.
                Ok(()) = &mut shed => false,
                _ = conn.as_mut() => false,
                _ = stop.wait_for(|stopped| *stopped) => true,
            };
            if drain {
                // Finish the request in flight (the serve loop drops us at the deadline).
                conn.as_mut().graceful_shutdown();
                let _ = conn.await;
            }
            fresh.remove(id);
            drop(permit);
        });
    }

    // Stop accepting, close what never sent a request, let the rest finish until the deadline.
    drop(listener);
    fresh.shed_all();
    let _ = stop_tx.send(true);
    let deadline = Instant::now() + limits.shutdown_timeout;
    let mut report = ShutdownReport::default();
    loop {
        tokio::select! {
            joined = tasks.join_next() => if joined.is_none() { break },
            () = tokio::time::sleep_until(deadline) => {
                report.dropped = tasks.len();
                tasks.abort_all();
                while tasks.join_next().await.is_some() {}
                break;
            }
        }
    }
    report
}

fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    )
}

/// Fails writes that make no progress for `timeout` (a client that stopped reading), so a
/// response cannot hold its connection forever. Reads are bounded elsewhere (header-read
/// timeout, per-route request timeouts).
pub struct StallGuard<T> {
    inner: T,
    timeout: Duration,
    /// Armed while a write is pending.
    stall: Option<Pin<Box<Sleep>>>,
}

impl<T> StallGuard<T> {
    pub fn new(inner: T, timeout: Duration) -> Self {
        StallGuard { inner, timeout, stall: None }
    }

    fn on_write<R>(&mut self, cx: &mut Context<'_>, polled: Poll<io::Result<R>>) -> Poll<io::Result<R>> {
        match polled {
            Poll::Ready(r) => {
                self.stall = None;
                Poll::Ready(r)
            }
            Poll::Pending => {
                let timeout = self.timeout;
                let stall = self.stall.get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                match stall.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("the client read nothing for {timeout:?}"),
                    ))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for StallGuard<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for StallGuard<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.on_write(cx, polled)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.on_write(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_flush(cx);
        self.on_write(cx, polled)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_shutdown(cx);
        self.on_write(cx, polled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test(start_paused = true)]
    async fn a_write_the_peer_never_reads_fails_after_the_timeout() {
        let (ours, mut theirs) = tokio::io::duplex(1024);
        let mut guarded = StallGuard::new(ours, Duration::from_secs(30));
        let started = Instant::now();
        let big = vec![7u8; 64 * 1024];
        let err = guarded.write_all(&big).await.err().map(|e| e.kind());
        assert_eq!(err, Some(io::ErrorKind::TimedOut));
        let waited = started.elapsed();
        assert!(waited >= Duration::from_secs(30) && waited < Duration::from_secs(31), "{waited:?}");
        // A reader that keeps up is never cut off, however long the whole transfer takes.
        let (ours, mut theirs2) = tokio::io::duplex(1024);
        let mut guarded = StallGuard::new(ours, Duration::from_secs(30));
        let reader = tokio::spawn(async move {
            let mut got = 0;
            let mut buf = [0u8; 512];
            while got < 64 * 1024 {
                tokio::time::sleep(Duration::from_secs(1)).await;
                got += theirs2.read(&mut buf).await.unwrap_or(0);
            }
            got
        });
        assert!(guarded.write_all(&big).await.is_ok());
        assert_eq!(reader.await.ok(), Some(64 * 1024));
        let _ = theirs.read(&mut [0u8; 1]).await;
    }

    #[test]
    fn the_default_limit_leaves_descriptors_for_files_and_the_store() {
        assert_eq!(default_max_connections(1024), 480);
        assert_eq!(default_max_connections(20_000), DEFAULT_MAX_CONNECTIONS);
        assert_eq!(default_max_connections(10), 1);
        assert_eq!(default_max_connections(u64::MAX), DEFAULT_MAX_CONNECTIONS);
    }

    #[test]
    fn shedding_takes_the_oldest_fresh_connection() {
        let fresh = Fresh::default();
        let mut first = fresh.insert(1);
        let mut second = fresh.insert(2);
        let mut third = fresh.insert(3);
        fresh.remove(1); // sent its request head
        assert!(fresh.shed_oldest());
        assert!(first.try_recv().is_err());
        assert_eq!(second.try_recv().ok(), Some(()));
        assert!(third.try_recv().is_err());
        drop(third);
        assert!(!fresh.shed_oldest(), "a connection that ended is not a candidate");
    }
}
