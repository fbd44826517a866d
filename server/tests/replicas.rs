//! Three `edgeflag-server` processes on one PostgreSQL database (the server
//! `scripts/test-scale.sh` starts and names in `EDGEFLAG_TEST_POSTGRES`; plain `cargo test`
//! lists these as ignored, with that reason).
//!
//! - a publish on one replica reaches the others through LISTEN/NOTIFY (the periodic check is
//!   set to an hour, so nothing else can): the time from the write's response to the new ETag
//!   on the two others, measured and bounded by a second;
//! - listeners killed by the database: the replicas reconnect and still serve new versions;
//! - a token created or revoked in the database works (or stops working) on every replica;
//! - the canary controller's leader is SIGKILLed mid-canary: another replica takes over within
//!   the documented bound, and every stage is decided exactly once.

mod common;

use std::time::{Duration, Instant};

use common::{client, header, spawn, Server, INGEST, TOKEN};
use serde_json::Value;

async fn database(seed: &str) -> Option<String> {
    let url = common::pg_database(seed).await;
    assert!(url.is_some(), "EDGEFLAG_TEST_POSTGRES: scripts/test-scale.sh starts PostgreSQL and sets it");
    url
}

async fn replicas(url: &str, dirs: &[tempfile::TempDir], flags: Option<&std::path::Path>, extra: &[&str]) -> Vec<Server> {
    let mut out = Vec::new();
    for dir in dirs {
        let mut args = vec!["--store", url, "--token", TOKEN, "--ingest-token", INGEST];
        args.extend_from_slice(extra);
        out.push(match flags {
            Some(f) => common::spawn_with(dir.path(), f, &args).await,
            None => spawn(dir.path(), &args).await,
        });
    }
    out
}

fn dirs(n: usize) -> Vec<tempfile::TempDir> {
    (0..n).map(|_| tempfile::tempdir().expect("tempdir")).collect()
}

/// Waits until `server` serves an ETag other than `old`; the time it took from `since`.
async fn until_new_etag(server: &common::Api, old: &str, since: Instant, limit: Duration) -> Duration {
    let http = client();
    loop {
        let resp = http.get(server.url("/api/flags")).header("if-none-match", old).send().await.expect("GET");
        if resp.status() == 200 {
            return since.elapsed();
        }
        assert!(since.elapsed() < limit, "{} still serves {old} after {limit:?}", server.base);
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Waits until `n` replicas' LISTEN sessions are connected (they connect after the server
/// starts listening for HTTP).
async fn listeners_connected(url: &str, n: i64) {
    let url = url.to_string();
    tokio::task::spawn_blocking(move || {
        let mut c = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
        let deadline = Instant::now() + Duration::from_secs(10);
        let count = "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'edgeflag-listen' AND datname = current_database()";
        while c.query_one(count, &[]).expect("count").get::<_, i64>(0) < n {
            assert!(Instant::now() < deadline, "the listeners never connected");
            std::thread::sleep(Duration::from_millis(20));
        }
    })
    .await
    .expect("task");
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL: run by scripts/test-scale.sh"]
async fn a_publish_on_one_replica_reaches_the_others_within_a_second() {
    let Some(url) = database("replicas-propagation").await else { return };
    let dirs = dirs(3);
    // An hour between safety-net checks: only NOTIFY can carry the versions.
    let servers = replicas(&url, &dirs, None, &["--no-controller", "--store-poll-interval", "1h"]).await;
    listeners_connected(&url, 3).await;
    let http = client();
    let mut times = Vec::new();
    for round in 0..30 {
        let writer = &servers[round % 3];
        let (etag, _, file) = writer.current().await;
        let file = common::with_description(&file, 0, &format!("round {round}"));
        let resp = writer.put(&file, &etag).await;
        assert_eq!(resp.status(), 200, "round {round}");
        let written = Instant::now();
        let new_etag = header(&resp, "etag");
        let others: Vec<&Server> = servers.iter().enumerate().filter(|(i, _)| *i != round % 3).map(|(_, s)| s).collect();
        let (b, c) = tokio::join!(
            until_new_etag(others[0], &etag, written, Duration::from_secs(5)),
            until_new_etag(others[1], &etag, written, Duration::from_secs(5))
        );
        times.push(b.max(c));
        for other in others {
            let resp = http.get(other.url("/api/flags")).send().await.expect("GET");
            assert_eq!(header(&resp, "etag"), new_etag, "the same version everywhere");
        }
    }
    times.sort();
    let (p50, p99, max) = (percentile(&times, 0.5), percentile(&times, 0.99), times[times.len() - 1]);
    println!(
        "propagation (publish on one replica -> new ETag on both others, {} publishes): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        times.len(),
        p50.as_secs_f64() * 1000.0,
        p99.as_secs_f64() * 1000.0,
        max.as_secs_f64() * 1000.0
    );
    assert!(max < Duration::from_secs(1), "replicas agree within a second; max {max:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL: run by scripts/test-scale.sh"]
async fn replicas_whose_listeners_are_killed_still_serve_new_versions() {
    let Some(url) = database("replicas-listener-loss").await else { return };
    let dirs = dirs(2);
    let servers = replicas(&url, &dirs, None, &["--no-controller", "--store-poll-interval", "500ms"]).await;
    // The database ends every LISTEN session (a failover, a restart, an idle-connection killer),
    // once both replicas' listeners are connected (they connect after the server listens).
    let admin = url.clone();
    let killed = tokio::task::spawn_blocking(move || {
        let mut c = postgres::Client::connect(&admin, postgres::NoTls).expect("connect");
        let listeners = "FROM pg_stat_activity WHERE application_name = 'edgeflag-listen' AND datname = current_database()";
        let deadline = Instant::now() + Duration::from_secs(10);
        while c.query_one(&format!("SELECT count(*) {listeners}"), &[]).expect("count").get::<_, i64>(0) < 2 {
            assert!(Instant::now() < deadline, "the listeners never connected");
            std::thread::sleep(Duration::from_millis(50));
        }
        c.query(&format!("SELECT pg_terminate_backend(pid) {listeners}"), &[]).expect("terminate").len()
    })
    .await
    .expect("task");
    assert_eq!(killed, 2, "one listener per replica");
    let (etag, _, file) = servers[0].current().await;
    let resp = servers[0].put(&common::with_description(&file, 0, "while nobody listened"), &etag).await;
    assert_eq!(resp.status(), 200);
    let took = until_new_etag(&servers[1], &etag, Instant::now(), Duration::from_secs(3)).await;
    println!("served by the other replica {took:?} after a write made while its listener was down");
    // And once reconnected, NOTIFY works again.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (etag, _, file) = servers[1].current().await;
    let resp = servers[1].put(&common::with_description(&file, 0, "after the reconnect"), &etag).await;
    assert_eq!(resp.status(), 200);
    until_new_etag(&servers[0], &etag, Instant::now(), Duration::from_secs(3)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL: run by scripts/test-scale.sh"]
async fn tokens_in_the_database_work_on_every_replica_within_a_second() {
    let Some(url) = database("replicas-tokens").await else { return };
    let dirs = dirs(3);
    let servers = replicas(&url, &dirs, None, &["--no-controller", "--store-poll-interval", "1h"]).await;
    listeners_connected(&url, 3).await;
    let location = edgeflag_server::Location::Postgres(url.clone());
    let created = {
        let location = location.clone();
        tokio::task::spawn_blocking(move || {
            edgeflag_server::auth::TokenStore::open_at(&location, false)
                .and_then(|s| s.create("edge-eu", edgeflag_server::auth::Role::Ingest))
        })
        .await
        .expect("task")
        .expect("create")
    };
    let post = |s: &Server, token: String| {
        let api = s.api.clone();
        async move { api.post_events(&token, common::stream("checkout", "canary", 1, 0)).await }
    };
    let started = Instant::now();
    for s in &servers {
        loop {
            let status = post(s, created.clone()).await;
            if status == 202 {
                break;
            }
            assert_eq!(status, 401);
            assert!(started.elapsed() < Duration::from_secs(1), "{} does not know the new token after a second", s.base);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    tokio::task::spawn_blocking(move || edgeflag_server::auth::TokenStore::open_at(&location, false).and_then(|s| s.revoke("edge-eu")))
        .await
        .expect("task")
        .expect("revoke");
    let started = Instant::now();
    for s in &servers {
        while post(s, created.clone()).await != 401 {
            assert!(started.elapsed() < Duration::from_secs(1), "{} still accepts a revoked token after a second", s.base);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// `edgeflag_controller_leader` of each server (None for one that does not answer).
async fn leaders(servers: &[&Server]) -> Vec<Option<u8>> {
    let mut out = Vec::new();
    for s in servers {
        let text = match client().get(s.url("/metrics")).timeout(Duration::from_secs(2)).send().await {
            Ok(r) => r.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        out.push(
            text.lines()
                .find_map(|l| l.strip_prefix("edgeflag_controller_leader "))
                .and_then(|v| v.trim().parse().ok()),
        );
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL: run by scripts/test-scale.sh"]
async fn the_leader_killed_mid_canary_and_every_stage_is_decided_once() {
    let Some(url) = database("replicas-failover").await else { return };
    let flags_dir = tempfile::tempdir().expect("tempdir");
    let stages = [(5.0, "1s"), (10.0, "1s"), (25.0, "1s"), (50.0, "1s"), (75.0, "1s")];
    let flags = common::flag_file(flags_dir.path(), vec![common::canary_flag("rollout", &stages, "running")]);
    let dirs = dirs(3);
    let mut servers = replicas(
        &url,
        &dirs,
        Some(&flags),
        &["--controller-interval", "200ms", "--controller-window", "60s", "--leader-retry", "200ms"],
    )
    .await;
    // Healthy traffic reaches every replica (each controller reads its own replica's metrics).
    let apis: Vec<common::Api> = servers.iter().map(|s| s.api.clone()).collect();
    let traffic = tokio::spawn(async move {
        loop {
            for api in &apis {
                // The killed replica refuses connections: ignored, as an edge's retry would.
                let body = serde_json::json!({"events": common::healthy("rollout")});
                let _ = client().post(api.url("/api/metrics/events")).bearer_auth(INGEST).json(&body).timeout(Duration::from_secs(1)).send().await;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    });
    // Exactly one leader.
    let deadline = Instant::now() + Duration::from_secs(10);
    let leader = loop {
        let all = leaders(&servers.iter().collect::<Vec<_>>()).await;
        if all.iter().filter(|l| **l == Some(1)).count() == 1 && all.iter().all(|l| l.is_some()) {
            break all.iter().position(|l| *l == Some(1)).expect("a leader");
        }
        assert!(Instant::now() < deadline, "no single leader: {all:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // Halfway (stage 2 of 5), SIGKILL the leader.
    let survivor = &servers[(leader + 1) % 3].api.clone();
    survivor.wait_canary("rollout", 30, "reach current_stage 2", |c| c["current_stage"].as_u64() >= Some(2)).await;
    let mut dead = servers.remove(leader);
    dead.child.start_kill().expect("kill");
    let killed = Instant::now();
    let _ = dead.child.wait().await;
    let failover = loop {
        let all = leaders(&servers.iter().collect::<Vec<_>>()).await;
        if all.iter().filter(|l| **l == Some(1)).count() == 1 {
            break killed.elapsed();
        }
        assert!(killed.elapsed() < Duration::from_secs(5), "no new leader 5 s after the kill: {all:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    println!("controller failover: a new leader {:.0} ms after SIGKILL of the old one (--leader-retry 200ms)", failover.as_secs_f64() * 1000.0);
    assert!(failover < Duration::from_millis(200 * 3 + 500), "takeover within the documented bound; took {failover:?}");
    let done = survivor.wait_canary("rollout", 60, "complete", |c| c["status"] == "completed").await;
    assert_eq!(done["current_stage"], 4);
    traffic.abort();

    // Every stage decided once, by whichever replica led; nothing else written by the controller.
    let history = survivor.history().await;
    let decisions: Vec<String> = history
        .iter()
        .rev()
        .filter(|h| h["author"] == "canary-controller")
        .map(|h| {
            let m = h["message"].as_str().unwrap_or_default();
            m.split(';').next().unwrap_or_default().trim_start_matches("canary rollout: ").to_string()
        })
        .collect();
    assert_eq!(
        decisions,
        [
            "advance current_stage 0 -> 1",
            "advance current_stage 1 -> 2",
            "advance current_stage 2 -> 3",
            "advance current_stage 3 -> 4",
            "complete at current_stage 4"
        ],
        "each stage once: {history:#?}"
    );
    let versions: Vec<u64> = history.iter().rev().filter_map(|h| h["version"].as_u64()).collect();
    assert_eq!(versions, (1..=versions.len() as u64).collect::<Vec<_>>());
    let all = leaders(&servers.iter().collect::<Vec<_>>()).await;
    assert_eq!(all.iter().filter(|l| **l == Some(1)).count(), 1, "{all:?}");
    let _: Vec<Value> = history;
}

/// Reads a server-sent event stream until a chunk names `etag`; the time from `since`.
async fn until_streamed(mut resp: reqwest::Response, etag: &str, since: Instant) -> Duration {
    let mut text = String::new();
    loop {
        let chunk = tokio::time::timeout(Duration::from_secs(5), resp.chunk()).await;
        match chunk {
            Ok(Ok(Some(bytes))) => text.push_str(&String::from_utf8_lossy(&bytes)),
            other => panic!("stream ended or stalled before {etag}: {other:?}; got {text}"),
        }
        if text.contains(&format!("id: {etag}")) {
            return since.elapsed();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL: run by scripts/test-scale.sh"]
async fn a_publish_on_one_replica_is_pushed_to_the_stream_subscribers_of_the_others() {
    let Some(url) = database("replicas-stream").await else { return };
    let dirs = dirs(3);
    let servers = replicas(&url, &dirs, None, &["--no-controller", "--store-poll-interval", "1h"]).await;
    listeners_connected(&url, 3).await;
    let (etag, _, file) = servers[0].current().await;
    // Subscribed on B and C, from the current version (no replay of it).
    let subscribe = |s: &Server| {
        client().get(s.url("/api/flags/stream")).header("last-event-id", &etag).timeout(Duration::from_secs(30)).send()
    };
    let (b, c) = tokio::join!(subscribe(&servers[1]), subscribe(&servers[2]));
    let (b, c) = (b.expect("stream B"), c.expect("stream C"));
    assert_eq!((b.status().as_u16(), c.status().as_u16()), (200, 200));
    let resp = servers[0].put(&common::with_description(&file, 0, "pushed"), &etag).await;
    assert_eq!(resp.status(), 200);
    let written = Instant::now();
    let new_etag = header(&resp, "etag");
    let (tb, tc) = tokio::join!(until_streamed(b, &new_etag, written), until_streamed(c, &new_etag, written));
    println!("pushed to stream subscribers of the other replicas in {tb:?} and {tc:?}");
    assert!(tb.max(tc) < Duration::from_secs(1));
}
