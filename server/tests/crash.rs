//! SIGKILL in the middle of writes: after a restart, every acknowledged version is intact.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{client, spawn, with_description, TOKEN};
use serde_json::Value;

#[tokio::test]
async fn sigkill_mid_writes_keeps_every_acknowledged_version() {
    let dir = tempfile::tempdir().expect("tempdir");
    for round in 0..3 {
        let mut server = spawn(dir.path(), &["--token", TOKEN]).await;
        let (_, start_version, file) = server.current().await;
        // (version, description) of each write the server acknowledged with 200.
        let acked: Arc<Mutex<Vec<(u64, String)>>> = Arc::default();
        let writer = {
            let acked = acked.clone();
            let base = server.base.clone();
            tokio::spawn(async move {
                let http = client();
                for i in 0.. {
                    let Ok(resp) = http.get(format!("{base}/api/flags")).send().await else { return };
                    let Some(etag) = resp.headers().get("etag").and_then(|v| v.to_str().ok()).map(str::to_string) else { return };
                    let description = format!("round {round} write {i}");
                    let body = with_description(&file, 1, &description);
                    let sent = http
                        .put(format!("{base}/api/flags"))
                        .bearer_auth(TOKEN)
                        .header("if-match", etag)
                        .json(&body)
                        .send()
                        .await;
                    let Ok(resp) = sent else { return };
                    if resp.status() != 200 {
                        return;
                    }
                    let Ok(v) = resp.json::<Value>().await else { return };
                    let version = v["version"].as_u64().unwrap_or(0);
                    acked.lock().expect("lock").push((version, description));
                }
            })
        };
        // Let some writes through, then kill while the writer is mid-flight.
        while acked.lock().expect("lock").len() < 10 + round * 7 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        server.child.start_kill().expect("SIGKILL");
        let _ = server.child.wait().await;
        let _ = writer.await;
        let acked = acked.lock().expect("lock").clone();
        let (last_version, _) = acked.last().cloned().expect("some writes acknowledged");
        assert_eq!(last_version, start_version + acked.len() as u64);

        let restarted = spawn(dir.path(), &["--token", TOKEN]).await;
        let (_, version, now) = restarted.current().await;
        // The write in flight at the kill may or may not have committed; nothing else.
        assert!(version == last_version || version == last_version + 1, "round {round}: {version} vs acked {last_version}");
        let description = now["flags"][1]["description"].as_str().unwrap_or("").to_string();
        if version == last_version {
            assert_eq!(description, acked[acked.len() - 1].1);
        } else {
            assert_eq!(description, format!("round {round} write {}", acked.len()));
        }
        let http = client();
        for (v, d) in &acked {
            let body: Value = http
                .get(restarted.url(&format!("/api/flags/versions/{v}")))
                .send()
                .await
                .expect("version")
                .json()
                .await
                .expect("json");
            assert_eq!(body["flags"][1]["description"].as_str(), Some(d.as_str()), "version {v}");
        }
        drop(restarted);
    }
}
