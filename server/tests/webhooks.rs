//! Decision webhooks against real HTTP receivers on loopback: one fails twice then succeeds,
//! one always fails. Every request is checked against an HMAC-SHA256 computed here from the
//! shared secret; every attempt is in `GET /api/webhooks/deliveries`.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use common::{client, spawn_with, INGEST, TOKEN};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

const SECRET: &str = "webhook-secret-for-tests";

#[derive(Clone, Debug)]
struct Received {
    path: String,
    delivery: String,
    event: String,
    signature_ok: bool,
    body: Value,
}

#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Received>>>,
}

async fn receive(State(r): State<Receiver>, Path(path): Path<String>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let h = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("key");
    mac.update(&body);
    let expected = format!("sha256={}", mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect::<String>());
    let received = Received {
        path: path.clone(),
        delivery: h("x-edgeflag-delivery"),
        event: h("x-edgeflag-event"),
        signature_ok: h("x-edgeflag-signature-256") == expected,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    };
    let mut got = r.got.lock().expect("lock");
    got.push(received);
    let attempts_here = got.iter().filter(|g| g.path == path && g.delivery == h("x-edgeflag-delivery")).count();
    match path.as_str() {
        // Fails the first two attempts of each delivery.
        "flaky" if attempts_here <= 2 => StatusCode::INTERNAL_SERVER_ERROR,
        "flaky" => StatusCode::NO_CONTENT,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decisions_are_signed_retried_with_backoff_and_recorded() {
    let receiver = Receiver::default();
    let app = axum::Router::new().route("/{path}", axum::routing::post(receive)).with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let hooks = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });

    let dir = tempfile::tempdir().expect("tempdir");
    let flags = common::flag_file(dir.path(), vec![common::canary_flag("rollout", &[(10.0, "1s"), (50.0, "1s")], "running")]);
    let (flaky, down) = (format!("{hooks}/flaky"), format!("{hooks}/down"));
    let server = spawn_with(
        &dir.path().join("data"),
        &flags,
        &[
            "--token", TOKEN, "--ingest-token", INGEST,
            "--controller-interval", "150ms", "--controller-window", "60s",
            "--webhook", &flaky, "--webhook", &down, "--webhook-secret", SECRET,
            "--webhook-backoff", "100ms", "--webhook-attempts", "4",
        ],
    )
    .await;
    // No traffic yet: the controller holds ("no data") tick after tick; one hold webhook.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let holds = |got: &[Received]| got.iter().filter(|g| g.path == "flaky" && g.event == "hold").map(|g| g.delivery.clone()).collect::<std::collections::BTreeSet<_>>();
    assert_eq!(holds(&receiver.got.lock().expect("lock")).len(), 1, "a hold is sent once per cause, not every tick");

    // Healthy traffic: advance, then complete.
    let started = Instant::now();
    loop {
        assert_eq!(server.post_events(INGEST, common::healthy("rollout")).await, 202);
        if server.canary("rollout").await["status"] == "completed" {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "the canary never completed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // The flaky receiver gets each decision on the third attempt; the other one never does.
    let deliveries = loop {
        let resp = client().get(server.url("/api/webhooks/deliveries")).bearer_auth(TOKEN).send().await.expect("GET");
        assert_eq!(resp.status(), 200);
        let list: Vec<Value> = resp.json().await.expect("json");
        let settled = |url: &str, event: &str| list.iter().any(|d| d["url"] == url && d["event"] == event && d["status"] != "pending");
        if ["advance", "complete"].iter().all(|e| settled(&flaky, e) && settled(&down, e)) {
            break list;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "deliveries never settled: {list:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let history = server.history().await;
    for event in ["advance", "complete"] {
        let find = |url: &str| deliveries.iter().find(|d| d["url"] == url && d["event"] == event).unwrap_or_else(|| panic!("no {event} delivery to {url}"));
        let ok = find(&flaky);
        assert_eq!(ok["status"], "delivered", "{ok:#}");
        assert_eq!(ok["attempts"], 3);
        let statuses: Vec<u64> = ok["attempt_log"].as_array().expect("log").iter().filter_map(|a| a["status"].as_u64()).collect();
        assert_eq!(statuses, [500, 500, 204]);
        let failed = find(&down);
        assert_eq!((failed["status"].as_str(), failed["attempts"].as_u64()), (Some("failed"), Some(4)), "{failed:#}");
        assert!(failed["attempt_log"].as_array().expect("log").iter().all(|a| a["status"] == 503 && a["error"].is_string()));
        // Backoff: the attempts are spread out (100, 200, 400 ms).
        let times: Vec<i64> = failed["attempt_log"]
            .as_array()
            .expect("log")
            .iter()
            .filter_map(|a| a["at"].as_str().and_then(edgeflag_server::clock::parse_rfc3339_ms))
            .collect();
        let gaps: Vec<i64> = times.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(gaps.windows(2).all(|w| w[1] > w[0]) && gaps[0] >= 90, "growing gaps: {gaps:?}");
        // The decision it announces is in the history.
        let version = ok["decision_version"].as_u64().expect("decision version");
        let entry = history.iter().find(|h| h["version"] == version).expect("history entry");
        assert_eq!(entry["author"], "canary-controller");
        assert!(entry["message"].as_str().is_some_and(|m| m.contains(event)), "{entry}");
    }
    // What the receivers saw: valid signatures, one id per delivery across its retries, bodies.
    let got = receiver.got.lock().expect("lock").clone();
    assert!(got.iter().all(|g| g.signature_ok), "every request is signed with the shared secret");
    let advance: Vec<&Received> = got.iter().filter(|g| g.path == "flaky" && g.event == "advance").collect();
    assert_eq!(advance.len(), 3);
    assert!(advance.iter().all(|g| g.delivery == advance[0].delivery && g.body == advance[0].body), "retries resend the same delivery");
    let body = &advance[0].body;
    assert_eq!((body["flag"].as_str(), body["stage"].as_u64(), body["next_stage"].as_u64()), (Some("rollout"), Some(0), Some(1)));
    assert_eq!(body["id"], advance[0].delivery.as_str());
    assert!(body["reasons"].as_array().is_some_and(|r| !r.is_empty()));

    // The deliveries carry receiver URLs (often secrets): not for anonymous readers.
    let resp = client().get(server.url("/api/webhooks/deliveries")).send().await.expect("GET");
    assert_eq!(resp.status(), 401);
    let resp = client().get(server.url("/api/webhooks/deliveries")).bearer_auth(INGEST).send().await.expect("GET");
    assert_eq!(resp.status(), 403);
}
